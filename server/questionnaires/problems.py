"""Explaining XLSForm problems to administrators: which sheet, which row, in Vietnamese.

pyxform and ODK Validate (JavaRosa) report in English and not always with a row.  Each message is
matched against the problems administrators meet most often and rewritten in Vietnamese; the row
comes from pyxform's ``[row : N]`` or, failing that, from finding the named question in the
workbook.  The original English text is always kept beside the Vietnamese.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from io import BytesIO

from openpyxl import load_workbook


@dataclass(frozen=True, slots=True)
class FormProblem:
    sheet: str | None
    row: int | None
    message_vi: str
    message_en: str

    @property
    def where_vi(self) -> str:
        if self.sheet and self.row:
            return f"Sheet '{self.sheet}', dòng {self.row}"
        if self.sheet:
            return f"Sheet '{self.sheet}'"
        return "Biểu mẫu"

    def as_dict(self) -> dict:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "message": f"{self.where_vi}: {self.message_vi}",
            "message_en": self.message_en,
        }


_ROW = re.compile(r"\[row : (\d+)\]")
_SHEET = re.compile(r"On the '(\w+)' sheet")
# (pattern on the English message, Vietnamese template using the pattern's groups)
_TRANSLATIONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Unknown question type '([^']*)'"), "Loại câu hỏi '{0}' không hợp lệ."),
    (
        re.compile(r"Could not find the name '([^']*)'"),
        "Biến ${{{0}}} không có trong cột name của sheet survey.",
    ),
    (
        re.compile(
            r"the 'name' value '([^']*)' is invalid\. Questions, groups, and repeats must be unique"
        ),
        "Tên '{0}' bị trùng: tên câu hỏi, nhóm, lặp phải khác nhau trong cùng một nhóm.",
    ),
    (
        re.compile(r"survey element named '([^']*)' has no label or hint"),
        "Câu hỏi '{0}' chưa có nhãn (label) hoặc gợi ý (hint).",
    ),
    (
        re.compile(r"List name not in choices sheet: (\S+)"),
        "Danh sách lựa chọn '{0}' không có trong sheet choices.",
    ),
    (
        re.compile(r"bind for \$\{(\w+)\} contains invalid (\w+) expression \[([^\]]*)\]"),
        "Biểu thức {1} của câu hỏi '{0}' không hợp lệ: {2}",
    ),
    (
        re.compile(r"Cycle detected"),
        "Các phép tính tham chiếu vòng tròn lẫn nhau (vòng lặp phụ thuộc).",
    ),
    (
        re.compile(r"has no 'version'|no version"),
        "Thiếu phiên bản (version) trong sheet settings.",
    ),
    (
        re.compile(r"max-pixels"),
        "Câu hỏi ảnh nên có 'max-pixels' trong cột parameters để ảnh không quá nặng.",
    ),
]
_QUOTED = re.compile(r"'([^']+)'|\$\{(\w+)\}")


def explain(message: str, xlsx: bytes | None, default_sheet: str | None = None) -> FormProblem:
    """Turn one pyxform / ODK Validate message into a located, Vietnamese problem."""
    text = " ".join(
        line.strip()
        for line in message.splitlines()
        if line.strip() and not line.startswith(("The following files", "Result:", "${tmp"))
    )
    text = text.replace("ODK Validate Errors: >> XForm is invalid. : ", "").strip()
    row_match, sheet_match = _ROW.search(text), _SHEET.search(text)
    row = int(row_match.group(1)) if row_match else None
    sheet = sheet_match.group(1) if sheet_match else default_sheet
    vietnamese = None
    for pattern, template in _TRANSLATIONS:
        found = pattern.search(text)
        if found:
            vietnamese = template.format(*found.groups())
            break
    if row is None and xlsx is not None:
        for quoted in _QUOTED.findall(text):
            located = _locate(xlsx, quoted[0] or quoted[1])
            if located:
                sheet, row = located
                break
    english = _ROW.sub("", text).strip()
    return FormProblem(
        sheet=sheet,
        row=row,
        message_vi=vietnamese or f"XLSForm có lỗi (thông báo gốc tiếng Anh): {english}",
        message_en=english,
    )


def _locate(xlsx: bytes, value: str) -> tuple[str, int] | None:
    """The first (sheet, row) whose ``type`` or ``name`` cell is ``value`` (or ends with it)."""
    try:
        workbook = load_workbook(BytesIO(xlsx), read_only=True, data_only=True)
    except Exception:  # not a workbook we can read: no location, the message still stands
        return None
    try:
        for sheet_name in ("survey", "choices"):
            if sheet_name not in workbook.sheetnames:
                continue
            rows = workbook[sheet_name].iter_rows(values_only=True)
            header = [str(c).strip().lower() if c is not None else "" for c in next(rows, ())]
            columns = [i for i, h in enumerate(header) if h in ("type", "name")]
            for number, row in enumerate(rows, start=2):
                for i in columns:
                    cell = str(row[i]).strip() if i < len(row) and row[i] is not None else ""
                    if cell and (cell == value or cell.split()[-1] == value):
                        return sheet_name, number
    finally:
        workbook.close()
    return None
