"""Importing a commune's household list on the web: template, upload, preview, confirmation.

Like ODK Central's entity upload and KoboToolbox's bulk imports, the list goes through three
steps, and nothing reaches the registry before the last one:

1. **Template** (:func:`template_xlsx`, :func:`template_csv`): the columns with Vietnamese
   headers, every cell typed as text, and an instructions sheet listing the statuses in words
   and the commune's villages by name and code.
2. **Upload** (:func:`upload`): the file's kind is read from its bytes, never from its name or
   declared type — an ``.xlsx`` workbook (checked for size once unzipped, rows and cells by
   :func:`server.documents.spreadsheets.check_xlsx`, then streamed by
   :mod:`server.documents.xlsx_reader`: hardened lxml, only the rows present, macros never
   opened, formulas never evaluated but reported) or a UTF-8 CSV (``,``, ``;`` or tab).
   Every row is checked; each problem names its row and column in words.  What the server read
   is kept in a :class:`~server.households.models.HouseholdImport` row tied to the uploader and
   the commune, with a random token and an expiry: the browser never sends the rows back.
3. **Preview and confirmation** (:func:`preview`, :func:`commit`): the rows are compared with the
   registry (new, updated, unchanged); the confirmation writes them in the request's single
   transaction, is refused while the file has errors, changes nothing the second time, and is
   in the audit log with its counts.  Households not in the file are never deleted nor changed.

Who may import: the commune's officer and its province's administrators (the commune pages'
rule, :func:`server.submissions.scope.commune_scope`); a village head only reads.  Anything else
is *not found*.  Services flush; the pages commit.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from openpyxl import Workbook
from sqlalchemy import and_, delete, insert, select
from sqlalchemy.orm import selectinload

from server.accounts.models import STAFF_ROLES, User
from server.audit.services import record as audit_record
from server.db import utcnow
from server.documents.spreadsheets import XlsxLimits, check_xlsx, text_row
from server.documents.xlsx_reader import UnreadableWorkbook
from server.documents.xlsx_reader import Workbook as XlsxWorkbook
from server.errors import AppError
from server.extensions import db
from server.geography.models import Commune, Village
from server.households.labels import SOURCE_LABELS, STATUS_LABELS
from server.households.models import (
    Household,
    HouseholdImport,
    HouseholdStatus,
    HouseholdYearStatus,
    ListSource,
)
from server.households.names import fold_name
from server.i18n import vi_number, vietnam_today
from server.submissions.scope import commune_scope

MIN_YEAR = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # control characters but tab, line feed
MAX_CODE = 50  # Household.code
MAX_HEAD_NAME = 200  # Household.head_name
MAX_FILENAME = 200
MAX_COLUMNS = 50  # columns of a workbook read (the list has five; others are ignored)
SHEET_DATA = "Danh sách hộ"
SHEET_HELP = "Hướng dẫn"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    header_vi: str
    header_en: str
    required: bool
    aliases: tuple[str, ...]  # folded (server.households.names.fold_name)


COLUMNS = (
    Column("code", "Mã hộ", "Household code", True, ("ma ho", "ma ho gia dinh", "ma", "code")),
    Column(
        "village",
        "Thôn",
        "Village",
        True,
        ("thon", "ma thon", "ten thon", "thon to", "thon to dan pho", "to dan pho", "village"),
    ),
    Column(
        "head_name",
        "Họ tên chủ hộ",
        "Head of household",
        True,
        ("ho ten chu ho", "ho va ten chu ho", "ten chu ho", "chu ho", "head name", "head_name"),
    ),
    Column(
        "status",
        "Tình trạng năm trước",
        "Last year's status",
        True,
        (
            "tinh trang nam truoc",
            "tinh trang",
            "phan loai",
            "phan loai nam truoc",
            "ket qua nam truoc",
            "last status",
            "last_status",
        ),
    ),
    Column(
        "source",
        "Nguồn",
        "Source",
        False,
        ("nguon", "nguon danh sach", "ly do ra soat", "source"),
    ),
)
HEADERS = tuple(c.header_vi for c in COLUMNS)
_BY_KEY = {c.key: c for c in COLUMNS}

# Words accepted for a status besides the labels (folded), and the codes themselves.
_STATUS_WORDS = {
    "ngheo": HouseholdStatus.POOR,
    "can ngheo": HouseholdStatus.NEAR_POOR,
    "thoat ngheo": HouseholdStatus.ESCAPED_POVERTY,
    "ho thoat ngheo": HouseholdStatus.ESCAPED_POVERTY,
    "thoat can ngheo": HouseholdStatus.ESCAPED_NEAR_POVERTY,
    "ho thoat can ngheo": HouseholdStatus.ESCAPED_NEAR_POVERTY,
    "khong": HouseholdStatus.NONE,
    "khong ngheo": HouseholdStatus.NONE,
    "chua ra soat": HouseholdStatus.NEW,
    "moi": HouseholdStatus.NEW,
}
_SOURCE_WORDS = {
    "danh sach": ListSource.ON_LIST,
    "trong danh sach": ListSource.ON_LIST,
    "de nghi": ListSource.APPLICANT,
    "giay de nghi": ListSource.APPLICANT,
    "khac": ListSource.OTHER,
}


def status_labels_vi() -> dict[HouseholdStatus, str]:
    """Each status's label in Vietnamese (what the template lists and the file should say)."""
    with force_locale("vi"):
        return {HouseholdStatus(code): str(label) for code, label in STATUS_LABELS.items()}


def source_labels_vi() -> dict[ListSource, str]:
    with force_locale("vi"):
        return {ListSource(code): str(label) for code, label in SOURCE_LABELS.items()}


def _word(text: str) -> str:
    """A header or a label as compared: folded, punctuation as spaces."""
    folded = fold_name(text)
    return " ".join("".join(c if c.isalnum() or c == "_" else " " for c in folded).split())


# --- who may import ----------------------------------------------------------------------------


def import_communes(actor: User) -> list[Commune]:
    """The communes whose registry ``actor`` may change (none for a village head)."""
    if actor.role not in STAFF_ROLES:
        return []
    return list(
        db.session.scalars(
            select(Commune)
            .where(commune_scope(actor))
            .options(selectinload(Commune.villages))
            .order_by(Commune.code)
        )
    )


def commune_for_import(actor: User, code: str) -> Commune:
    """The commune ``code`` if ``actor`` may change its registry: its officer, its province's
    administrator.

    :raises AppError: ``commune.not_found`` (404) outside the actor's scope,
        ``households.import_forbidden`` (403) for a village head of the commune.
    """
    commune = db.session.scalar(select(Commune).where(Commune.code == code, commune_scope(actor)))
    if commune is None:
        raise AppError("commune.not_found", 404, "Không tìm thấy xã.", "Commune not found.")
    if actor.role not in STAFF_ROLES:
        raise AppError(
            "households.import_forbidden",
            403,
            "Chỉ cán bộ xã hoặc quản trị viên tỉnh được nhập danh sách hộ của xã.",
            "Only commune officers and province administrators import a commune's households.",
        )
    return commune


def _villages(commune: Commune) -> list[Village]:
    return sorted(commune.villages, key=lambda v: v.code)


# --- the template ------------------------------------------------------------------------------


def _instructions(commune: Commune) -> list[list[str]]:
    statuses, sources = status_labels_vi(), source_labels_vi()
    lines = [
        [f"Mẫu danh sách hộ của {commune.name} (mã xã {commune.code})"],
        [],
        ["Cách điền"],
        ["Mỗi dòng của trang “Danh sách hộ” là một hộ; giữ nguyên dòng tiêu đề."],
        [
            "Năm của tình trạng (thường là năm trước) được chọn trên trang nhập, không ghi "
            "trong tệp."
        ],
        [
            "Hộ đã có trong danh sách của xã (cùng mã hộ) được cập nhật; hộ không có trong tệp "
            "được giữ nguyên, không bị xoá."
        ],
        ["Không dùng công thức: hãy dán giá trị (Paste Values)."],
        [],
        ["Cột", "Bắt buộc", "Ghi gì"],
        ["Mã hộ", "Có", f"Mã hộ của xã, không trùng nhau, tối đa {MAX_CODE} ký tự"],
        ["Thôn", "Có", "Tên hoặc mã thôn, như danh sách thôn dưới đây"],
        ["Họ tên chủ hộ", "Có", f"Tối đa {MAX_HEAD_NAME} ký tự"],
        ["Tình trạng năm trước", "Có", "Một trong các tình trạng dưới đây, ghi bằng chữ"],
        ["Nguồn", "Không", "Để trống nếu hộ thuộc danh sách xã quản lý"],
        [],
        ["Tình trạng được chấp nhận"],
        *[[label] for label in statuses.values()],
        [],
        ["Nguồn được chấp nhận"],
        *[[label] for label in sources.values()],
        [],
        ["Thôn của xã", "Mã thôn"],
        *[[v.name, v.code] for v in _villages(commune)],
    ]
    return lines


def template_xlsx(commune: Commune) -> bytes:
    """The XLSX template: the "Danh sách hộ" sheet (header only, every cell typed as text) and
    the "Hướng dẫn" sheet (the columns, the statuses and sources in words, the villages)."""
    book = Workbook(write_only=True)
    data = book.create_sheet(SHEET_DATA)
    data.column_dimensions["A"].width = 18
    data.column_dimensions["B"].width = 22
    data.column_dimensions["C"].width = 30
    data.column_dimensions["D"].width = 30
    data.column_dimensions["E"].width = 40
    data.append(text_row(data, HEADERS))
    helper = book.create_sheet(SHEET_HELP)
    helper.column_dimensions["A"].width = 50
    helper.column_dimensions["B"].width = 12
    helper.column_dimensions["C"].width = 60
    for line in _instructions(commune):
        helper.append(text_row(helper, line))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_csv(commune: Commune) -> bytes:
    """The CSV template: the header row, UTF-8 with a byte-order mark (so Excel reads the
    Vietnamese correctly), comma-separated."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(HEADERS)
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


# --- reading the file --------------------------------------------------------------------------


@dataclass(slots=True)
class RowError:
    row: int  # 1-based, the header is row 1 (as the spreadsheet program numbers it); 0: file
    column: str  # the Vietnamese header, or "" for the whole row
    message_vi: str
    message_en: str

    def as_list(self) -> list:
        return [self.row, self.column, self.message_vi, self.message_en]


@dataclass(slots=True)
class ImportRow:
    row: int
    code: str
    village: str  # village code
    head_name: str
    status: str  # HouseholdStatus value
    source: str  # ListSource value

    def as_list(self) -> list:
        return [self.row, self.code, self.village, self.head_name, self.status, self.source]


@dataclass(slots=True)
class Parsed:
    kind: str  # "xlsx" / "csv"
    sheet: str | None
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def _refused(code: str, status: int, vi: str, en: str) -> AppError:
    return AppError(f"households.import_{code}", status, vi, en)


def _not_a_list() -> AppError:
    return _refused(
        "unreadable",
        400,
        "Tệp không phải bảng tính Excel .xlsx hay tệp CSV. Hãy dùng tệp mẫu tải về từ trang này.",
        "The file is neither an Excel .xlsx workbook nor a CSV file. Use the template from "
        "this page.",
    )


def _limits() -> XlsxLimits:
    return XlsxLimits.from_config(current_app.config, "MAX_HOUSEHOLD_IMPORT")


def read_upload(content: bytes) -> tuple[str, str | None, Iterator[tuple[int, list]]]:
    """(kind, sheet name, rows) of an uploaded list, its kind read from its first bytes.

    :raises AppError: 400 for a file that is not an XLSX workbook or a UTF-8 CSV, 413 for one
        too large once unzipped (:func:`check_xlsx`).
    """
    if not content.strip():
        raise _refused("empty", 400, "Tệp trống.", "The file is empty.")
    if content.startswith(b"PK\x03\x04"):
        return ("xlsx", *_xlsx_rows(content))
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise _refused(
            "old_excel",
            400,
            "Tệp là bảng tính Excel 97–2003 (.xls) hoặc có đặt mật khẩu. Hãy mở bằng Excel, "
            "bỏ mật khẩu và lưu thành “Excel Workbook (.xlsx)” rồi tải lên lại.",
            "The file is an Excel 97–2003 (.xls) or password-protected workbook. Save it as an "
            "Excel Workbook (.xlsx) without a password and upload it again.",
        )
    if b"\x00" in content[:8192]:
        raise _not_a_list()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refused(
            "encoding",
            400,
            "Tệp CSV không ở dạng UTF-8, nên chữ tiếng Việt sẽ sai. Trong Excel hãy chọn Lưu "
            "thành “CSV UTF-8 (Comma delimited)”, hoặc tải lên tệp .xlsx.",
            "The CSV file is not UTF-8, so Vietnamese letters would be wrong. Save it as "
            "“CSV UTF-8 (Comma delimited)” in Excel, or upload the .xlsx file.",
        ) from None
    return "csv", None, _csv_rows(text)


def _csv_rows(text: str) -> Iterator[tuple[int, list]]:
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, row in enumerate(reader, start=1):
            yield number, row[:MAX_COLUMNS]
    except csv.Error:
        raise _refused(
            "bad_csv",
            400,
            f"Tệp CSV bị lỗi gần dòng {reader.line_num} (dấu ngoặc kép không đóng hoặc ô quá dài).",
            f"The CSV file is malformed near line {reader.line_num} (an unclosed quote or a "
            "cell too long).",
        ) from None


def _xlsx_rows(content: bytes) -> tuple[str, Iterator[tuple[int, list]]]:
    check_xlsx(content, _limits(), what_vi="Bảng tính danh sách hộ", what_en="household workbook")
    try:
        book = XlsxWorkbook(content)
        sheets = book.sheets
        if not sheets:
            raise _not_a_list()
        # The sheet with the list: the one whose first non-empty row has the columns (the
        # template's "Danh sách hộ"), else the first.
        for sheet in sheets:
            for _number, row in book.rows(sheet, MAX_COLUMNS):
                if _header_map([c.text for c in row])[0].keys() >= {"code", "village"}:
                    return sheet.name, _sheet_rows(book, sheet)
                break
    except UnreadableWorkbook:
        raise _not_a_list() from None
    return sheets[0].name, _sheet_rows(book, sheets[0])


def _sheet_rows(book: XlsxWorkbook, sheet) -> Iterator[tuple[int, list]]:
    try:
        yield from book.rows(sheet, MAX_COLUMNS)
    except UnreadableWorkbook:
        raise _not_a_list() from None


def _cell_text(cell) -> tuple[str, bool]:
    """(text, is a formula) of a workbook cell, or of a CSV field (a string)."""
    if isinstance(cell, str):
        return cell, False
    return cell.text, cell.formula


def _header_map(values: list[str]) -> tuple[dict[str, int], list[str]]:
    """Column key → position, and the headers not understood (ignored)."""
    found: dict[str, int] = {}
    ignored = []
    for position, header in enumerate(values):
        word = _word(header or "")
        if not word:
            continue
        column = next((c for c in COLUMNS if word in c.aliases), None)
        if column is None or column.key in found:
            ignored.append(str(header).strip()[:100])
        else:
            found[column.key] = position
    return found, ignored


def parse(commune: Commune, content: bytes) -> Parsed:
    """Read and check every row of an uploaded list for ``commune``.

    :raises AppError: for a file that cannot be a household list at all (unreadable, too large,
        too many rows, no header); row problems are returned in :attr:`Parsed.errors`.
    """
    config = current_app.config
    max_rows = int(config["HOUSEHOLD_IMPORT_MAX_ROWS"])
    max_chars = int(config["HOUSEHOLD_IMPORT_MAX_CELL_CHARS"])
    kind, sheet, rows = read_upload(content)
    parsed = Parsed(kind=kind, sheet=sheet)
    header: dict[str, int] | None = None
    checker = None
    data_rows = 0
    for number, raw in rows:
        texts = [_cell_text(cell) for cell in raw]
        if not any(text.strip() for text, _formula in texts):
            continue
        if header is None:
            header, parsed.ignored_columns = _header_map([t for t, _f in texts])
            missing = [c.header_vi for c in COLUMNS if c.required and c.key not in header]
            if missing:
                raise _refused(
                    "no_header",
                    400,
                    f"Dòng {number} phải là dòng tiêu đề với các cột: {', '.join(HEADERS)}. "
                    f"Không thấy cột: {', '.join(missing)}. Hãy dùng tệp mẫu.",
                    f"Row {number} must be the header row with the columns: "
                    f"{', '.join(c.header_en for c in COLUMNS)}. Missing: "
                    f"{', '.join(_BY_KEY[_key(m)].header_en for m in missing)}. Use the template.",
                )
            checker = _RowChecker(
                header, max_chars, _village_lookup(commune), _status_lookup(), _source_lookup()
            )
            continue
        data_rows += 1
        if data_rows > max_rows:
            raise _refused(
                "too_many_rows",
                413,
                f"Tệp có hơn {vi_number(max_rows)} hộ. Hãy chia thành nhiều tệp (ví dụ theo "
                "thôn) rồi nhập từng tệp.",
                f"The file has more than {max_rows:,} households. Split it (by village, for "
                "example) and import each file.",
            )
        row = checker.check(number, texts)
        if isinstance(row, ImportRow):
            parsed.rows.append(row)
        else:
            parsed.errors.extend(row)
    if header is None:
        raise _refused(
            "no_rows",
            400,
            f"Tệp không có dòng tiêu đề ({', '.join(HEADERS)}) và dữ liệu. Hãy dùng tệp mẫu.",
            "The file has no header row and no data. Use the template.",
        )
    if not parsed.rows and not parsed.errors:
        raise _refused(
            "no_rows",
            400,
            "Tệp chỉ có dòng tiêu đề, chưa có hộ nào.",
            "The file has the header row only, no household.",
        )
    return parsed


def _key(header_vi: str) -> str:
    return next(c.key for c in COLUMNS if c.header_vi == header_vi)


def _village_lookup(commune: Commune) -> dict[str, Village]:
    """Folded code and folded name → village (a name shared by two villages is left out, so
    that it must be given by code)."""
    by_name: dict[str, list[Village]] = {}
    for village in commune.villages:
        by_name.setdefault(_word(village.name), []).append(village)
    lookup = {name: found[0] for name, found in by_name.items() if len(found) == 1}
    lookup.update({_word(v.code): v for v in commune.villages})
    return lookup


def _status_lookup() -> dict[str, HouseholdStatus]:
    lookup = dict(_STATUS_WORDS)
    lookup.update({_word(label): status for status, label in status_labels_vi().items()})
    lookup.update({status.value: status for status in HouseholdStatus})
    return lookup


def _source_lookup() -> dict[str, ListSource]:
    lookup = dict(_SOURCE_WORDS)
    lookup.update({_word(label): source for source, label in source_labels_vi().items()})
    lookup.update({source.value: source for source in ListSource})
    return lookup


def _valid_code(code: str) -> bool:
    return all(c.isalnum() or c in "-_." for c in code)


@dataclass(slots=True)
class _RowChecker:
    """Checks rows one by one against the commune's villages, the statuses and sources in words,
    and the codes seen so far in the file."""

    header: dict[str, int]
    max_chars: int
    villages: dict[str, Village]
    statuses: dict[str, HouseholdStatus]
    sources: dict[str, ListSource]
    seen: dict[str, int] = field(default_factory=dict)
    # The accepted statuses and sources in words, for the messages (read once per file).
    allowed_statuses: str = field(default_factory=lambda: "; ".join(status_labels_vi().values()))
    allowed_sources: str = field(default_factory=lambda: "; ".join(source_labels_vi().values()))

    def check(self, number: int, texts: list[tuple[str, bool]]) -> ImportRow | list[RowError]:
        """The row as an :class:`ImportRow`, or the list of its problems."""
        errors: list[RowError] = []
        values = {c.key: self._cell(number, texts, c, errors) for c in COLUMNS}
        code = self._code(number, values["code"], errors)
        village = self._village(number, values["village"], errors)
        head = self._head(number, values["head_name"], errors)
        status = self._status(number, values["status"], errors)
        source = self._source(number, values["source"], errors)
        if errors:
            return errors
        return ImportRow(number, code, village.code, head, status.value, source.value)

    def _cell(self, number, texts, column: Column, errors: list[RowError]) -> str | None:
        """The cell's text ("" when empty or absent), None when its problem is reported."""
        position = self.header.get(column.key)
        if position is None or position >= len(texts):
            return ""
        text, formula = texts[position]
        text = unicodedata.normalize("NFC", text).strip()
        if formula or text.startswith("="):
            vi = "ô có công thức; hãy dán giá trị (Paste Values), không dùng công thức"
            en = "the cell holds a formula; paste its value instead"
        elif len(text) > self.max_chars:
            vi = f"quá dài ({vi_number(len(text))} ký tự, tối đa {vi_number(self.max_chars)})"
            en = f"too long ({len(text):,} characters, at most {self.max_chars:,})"
        elif _CONTROL.search(text):
            vi, en = "có ký tự điều khiển", "contains control characters"
        else:
            return text
        errors.append(RowError(number, column.header_vi, vi, en))
        return None

    @staticmethod
    def _empty(number: int, key: str, errors: list[RowError], hint_vi="", hint_en="") -> None:
        errors.append(
            RowError(number, _BY_KEY[key].header_vi, "trống" + hint_vi, "empty" + hint_en)
        )

    def _code(self, number: int, code: str | None, errors: list[RowError]) -> str | None:
        if code == "":
            self._empty(number, "code", errors)
            return None
        if code is None:
            return None
        header = _BY_KEY["code"].header_vi
        first = self.seen.get(code.casefold())
        if len(code) > MAX_CODE:
            vi = f"“{code[:60]}…” dài hơn {MAX_CODE} ký tự"
            en = f"“{code[:60]}…” is longer than {MAX_CODE} characters"
        elif not _valid_code(code):
            vi = f"“{code}” chỉ được có chữ, số và dấu - _ . (không có khoảng trắng)"
            en = f"“{code}” may hold letters, digits and - _ . only (no spaces)"
        elif first is not None:
            vi = f"mã hộ “{code}” trùng với dòng {first}"
            en = f"household code “{code}” repeats row {first}"
        else:
            self.seen[code.casefold()] = number
            return code
        errors.append(RowError(number, header, vi, en))
        return None

    def _village(self, number: int, text: str | None, errors: list[RowError]) -> Village | None:
        if text == "":
            self._empty(number, "village", errors)
            return None
        if text is None:
            return None
        village = self.villages.get(_word(text))
        if village is None:
            errors.append(
                RowError(
                    number,
                    _BY_KEY["village"].header_vi,
                    f"không có thôn “{text[:100]}” trong xã (xem danh sách thôn ở trang "
                    "“Hướng dẫn” của tệp mẫu)",
                    f"no village “{text[:100]}” in the commune (see the template's "
                    "instructions sheet)",
                )
            )
        return village

    def _head(self, number: int, head: str | None, errors: list[RowError]) -> str | None:
        if head == "":
            self._empty(number, "head_name", errors)
        elif head is not None and len(head) > MAX_HEAD_NAME:
            errors.append(
                RowError(
                    number,
                    _BY_KEY["head_name"].header_vi,
                    f"dài hơn {MAX_HEAD_NAME} ký tự",
                    f"longer than {MAX_HEAD_NAME} characters",
                )
            )
            return None
        return head

    def _status(self, number: int, text: str | None, errors: list[RowError]):
        allowed = self.allowed_statuses
        if text == "":
            self._empty(
                number,
                "status",
                errors,
                f" — hãy ghi một trong: {allowed}",
                f" — write one of: {allowed}",
            )
            return None
        if text is None:
            return None
        status = self.statuses.get(_word(text)) or self.statuses.get(text)
        if status is None:
            errors.append(
                RowError(
                    number,
                    _BY_KEY["status"].header_vi,
                    f"“{text[:100]}” không phải tình trạng; hãy ghi một trong: {allowed}",
                    f"“{text[:100]}” is not a status; write one of: {allowed}",
                )
            )
        return status

    def _source(self, number: int, text: str | None, errors: list[RowError]):
        if not text:
            return ListSource.ON_LIST
        source = self.sources.get(_word(text)) or self.sources.get(text)
        if source is None:
            allowed = self.allowed_sources
            errors.append(
                RowError(
                    number,
                    _BY_KEY["source"].header_vi,
                    f"“{text[:100]}” không phải nguồn; hãy ghi một trong: {allowed} "
                    "(hoặc để trống)",
                    f"“{text[:100]}” is not a source; write one of: {allowed} (or leave it empty)",
                )
            )
        return source


# --- the stored upload -------------------------------------------------------------------------


def check_year(year_text: str) -> int:
    """The status year typed on the page.

    :raises AppError: ``households.import_year`` (400) for anything but a year from 2000 to this
        year.
    """
    this_year = vietnam_today().year
    try:
        year = int(year_text.strip())
    except ValueError:
        year = 0
    if not MIN_YEAR <= year <= this_year:
        raise _refused(
            "year",
            400,
            f"Năm của tình trạng phải từ {MIN_YEAR} đến {this_year}.",
            f"The status year must be from {MIN_YEAR} to {this_year}.",
        )
    return year


def upload(actor: User, commune: Commune, year: int, filename: str, content: bytes):
    """Parse ``content`` and keep it for its uploader's confirmation; the stored
    :class:`HouseholdImport` (flushed).  Expired uploads of anyone are deleted on the way.

    :raises AppError: as :func:`parse`; 413 when the file is larger than
        ``HOUSEHOLD_IMPORT_MAX_BYTES``.
    """
    limit = int(current_app.config["HOUSEHOLD_IMPORT_MAX_BYTES"])
    if len(content) > limit:
        raise too_large(limit)
    parsed = parse(commune, content)
    now = utcnow()
    db.session.execute(delete(HouseholdImport).where(HouseholdImport.expires_at < now))
    minutes = int(current_app.config["HOUSEHOLD_IMPORT_TTL_MINUTES"])
    stored = HouseholdImport(
        token=secrets.token_urlsafe(24),
        user_id=actor.id,
        commune_id=commune.id,
        year=year,
        filename=(filename or "").replace("\\", "/").rsplit("/", 1)[-1][:MAX_FILENAME],
        file_sha256=hashlib.sha256(content).hexdigest(),
        file_kind=parsed.kind,
        sheet=parsed.sheet,
        rows=[r.as_list() for r in parsed.rows],
        errors=[e.as_list() for e in parsed.errors],
        ignored_columns=parsed.ignored_columns,
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    db.session.add(stored)
    db.session.flush()
    return stored


def too_large(limit: int) -> AppError:
    return _refused(
        "too_large",
        413,
        f"Tệp lớn hơn {vi_number(limit // 1_000_000)} MB. Hãy chia danh sách thành nhiều tệp "
        "(ví dụ theo thôn).",
        f"The file is larger than {limit // 1_000_000} MB. Split the list into several files "
        "(by village, for example).",
    )


def pending_import(actor: User, token: str) -> HouseholdImport:
    """The upload ``token`` of ``actor``, while they may still change its commune's registry.

    :raises AppError: ``households.import_not_found`` (404) for another account's upload or an
        unknown token, ``households.import_expired`` (410) once it expired.
    """
    found = db.session.scalar(
        select(HouseholdImport).where(
            HouseholdImport.token == token[:64], HouseholdImport.user_id == actor.id
        )
    )
    if found is None:
        raise _refused(
            "not_found", 404, "Không tìm thấy tệp đã tải lên.", "Uploaded file not found."
        )
    commune_for_import(actor, found.commune.code)  # the actor may still change it
    if found.committed_at is None and found.expires_at < utcnow():
        raise _refused(
            "expired",
            410,
            "Bản xem trước đã hết hạn. Hãy tải tệp lên lại.",
            "The preview has expired. Upload the file again.",
        )
    return found


# --- comparing with the registry ---------------------------------------------------------------

NEW, UPDATED, UNCHANGED = "new", "updated", "unchanged"


@dataclass(slots=True)
class PlannedRow:
    row: ImportRow
    village_name: str
    outcome: str  # NEW / UPDATED / UNCHANGED
    changes: list[str]  # column headers (Vietnamese) whose value changes


@dataclass(slots=True)
class Plan:
    rows: list[PlannedRow]
    counts: dict[str, int]


def _stored_rows(stored: HouseholdImport) -> list[ImportRow]:
    return [ImportRow(*values) for values in stored.rows]


def plan(commune: Commune, year: int, rows: list[ImportRow]) -> Plan:
    """What confirming ``rows`` would do to ``commune``'s registry, row by row."""
    villages = {v.code: v for v in commune.villages}
    existing = {
        code: (village_id, head, source, listed, status)
        for code, village_id, head, source, listed, status in db.session.execute(
            select(
                Household.code,
                Household.village_id,
                Household.head_name,
                Household.list_source,
                Household.on_review_list,
                HouseholdYearStatus.status,
            )
            .outerjoin(
                HouseholdYearStatus,
                and_(
                    HouseholdYearStatus.household_id == Household.id,
                    HouseholdYearStatus.year == year,
                ),
            )
            .where(Household.commune_id == commune.id)
        )
    }
    planned = []
    counts = {NEW: 0, UPDATED: 0, UNCHANGED: 0}
    for row in rows:
        village = villages[row.village]
        before = existing.get(row.code)
        if before is None:
            outcome, changes = NEW, []
        else:
            village_id, head, source, listed, status = before
            changes = [
                header
                for header, changed in (
                    ("Thôn", village_id != village.id),
                    ("Họ tên chủ hộ", head != row.head_name),
                    ("Tình trạng năm trước", status is None or status.value != row.status),
                    ("Nguồn", source.value != row.source),
                )
                if changed
            ]
            if not listed:
                changes.append("Danh sách rà soát")
            outcome = UPDATED if changes else UNCHANGED
        counts[outcome] += 1
        planned.append(PlannedRow(row, village.name, outcome, changes))
    return Plan(planned, counts)


@dataclass(slots=True)
class Preview:
    stored: HouseholdImport
    plan: Plan
    errors: list[RowError]
    error_rows: int


def preview(actor: User, token: str) -> Preview:
    stored = pending_import(actor, token)
    rows = _stored_rows(stored)
    try:
        planned = plan(stored.commune, stored.year, rows)
    except KeyError:  # a village was deleted since the upload
        raise _refused(
            "stale",
            409,
            "Danh sách thôn của xã đã thay đổi. Hãy tải tệp lên lại.",
            "The commune's villages changed. Upload the file again.",
        ) from None
    errors = [RowError(*values) for values in stored.errors]
    return Preview(stored, planned, errors, len({e.row for e in errors}))


def commit(actor: User, token: str) -> dict[str, int]:
    """Write the upload ``token`` into its commune's registry: new households are added, the
    others updated (village, head, source, the year's status, back on the review list);
    households not in the file are left as they are.  The counts (flushed, audited).

    :raises AppError: as :func:`pending_import`; ``households.import_has_errors`` (409) while the
        file has errors; ``households.import_done`` (409) when it was confirmed already.
    """
    stored = pending_import(actor, token)
    if db.session.get_bind().dialect.name == "postgresql":  # one confirmation at a time
        db.session.execute(
            select(HouseholdImport.id).where(HouseholdImport.id == stored.id).with_for_update()
        )
        db.session.refresh(stored)
    if stored.committed_at is not None:
        raise _refused(
            "done",
            409,
            "Tệp này đã được nhập rồi; nhập lại không thay đổi gì.",
            "This file was imported already; importing it again changes nothing.",
        )
    if stored.errors:
        raise _refused(
            "has_errors",
            409,
            "Tệp còn lỗi nên chưa nhập được. Hãy sửa các dòng bị lỗi rồi tải lên lại.",
            "The file has errors, so it cannot be imported. Fix the rows and upload it again.",
        )
    commune, year = stored.commune, stored.year
    planned = preview(actor, token).plan
    villages = {v.code: v for v in commune.villages}
    changed = {p.row.code: p for p in planned.rows if p.outcome == UPDATED}
    households = (
        {
            h.code: h
            for h in db.session.scalars(
                select(Household)
                .where(Household.commune_id == commune.id, Household.code.in_(list(changed)))
                .options(selectinload(Household.statuses))
            )
        }
        if changed
        else {}
    )
    now = utcnow()
    _insert_new(commune, year, [p.row for p in planned.rows if p.outcome == NEW], villages, now)
    for item in planned.rows:
        row = item.row
        if item.outcome == UPDATED:
            household = households[row.code]
            household.village = villages[row.village]
            if household.head_name != row.head_name:
                household.head_name = row.head_name
            household.list_source = ListSource(row.source)
            household.on_review_list = True
            household.updated_at = now
            status = next((s for s in household.statuses if s.year == year), None)
            if status is None:
                household.statuses.append(
                    HouseholdYearStatus(year=year, status=HouseholdStatus(row.status))
                )
            else:
                status.status = HouseholdStatus(row.status)
    counts = {
        "created": planned.counts[NEW],
        "updated": planned.counts[UPDATED],
        "unchanged": planned.counts[UNCHANGED],
    }
    stored.committed_at = now
    stored.result = counts
    db.session.flush()
    audit_record(
        "households.import",
        "commune",
        commune.code,
        commune_id=commune.id,
        after={
            "year": year,
            "rows": len(planned.rows),
            **counts,
            "file": stored.filename,
            "sha256": stored.file_sha256,
        },
        actor_id=actor.id,
    )
    return counts


def _insert_new(commune: Commune, year: int, rows: list[ImportRow], villages, now) -> None:
    """Add the new households and their status in two bulk statements (the folded name comes
    from the column's default, as for any bulk insert)."""
    if not rows:
        return
    ids = db.session.scalars(
        insert(Household).returning(Household.id, sort_by_parameter_order=True),
        [
            {
                "commune_id": commune.id,
                "village_id": villages[row.village].id,
                "code": row.code,
                "head_name": row.head_name,
                "list_source": ListSource(row.source),
                "on_review_list": True,
                "created_at": now,
                "updated_at": now,
            }
            for row in rows
        ],
    ).all()
    db.session.execute(
        insert(HouseholdYearStatus),
        [
            {"household_id": household_id, "year": year, "status": HouseholdStatus(row.status)}
            for household_id, row in zip(ids, rows, strict=True)
        ],
    )
