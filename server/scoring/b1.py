"""B1 point tables (score A) as data: one table per standard × income region × area type.

The official 2022–2025 table (TT 07/2021, Phụ lục III/IV) is not publicly available, so rasoat
ships **no official values**: only the loader, a template, and a demo table whose status is
``demo`` — every result scored with it says "minh họa — không phải số liệu chính thức".

A table lists items (the coded B1 answers of the canonical household, ``HouseholdFacts.b1``) and
how each scores: ``choice`` (one option → points), ``multi`` (points summed over the selected
options) or ``band`` (a number falling in ``[min, max)`` → points).
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import yaml
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from openpyxl import Workbook, load_workbook

from server.documents.spreadsheets import text_row
from server.scoring.rules import NO_WORDS, FactWords, fact_value_words
from server.scoring.standards import StandardError, _flatten

TABLE_STATUSES = ("official", "provisional", "demo")
DEMO_LABEL_VI = "minh họa — không phải số liệu chính thức"


class _BandSchema(Schema):
    min = fields.Float(required=True)
    max = fields.Float(allow_none=True, load_default=None)
    points = fields.Float(required=True)


class _ItemSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("choice", "multi", "band")))
    vi = fields.String(load_default="")
    options = fields.Dict(keys=fields.String(), values=fields.Float(), load_default=dict)
    bands = fields.List(fields.Nested(_BandSchema), load_default=list)

    @validates_schema
    def _shape(self, data: dict, **_kwargs) -> None:
        if data["kind"] == "band" and not data["bands"]:
            raise ValidationError({"bands": ["A band item needs bands."]})
        if data["kind"] != "band" and not data["options"]:
            raise ValidationError({"options": ["A choice or multi item needs options."]})


class PointTableSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.-]+$"))
    version = fields.String(required=True)
    standard = fields.String(required=True)
    region = fields.String(required=True)
    area_type = fields.String(required=True, validate=validate.OneOf(("rural", "urban")))
    status = fields.String(required=True, validate=validate.OneOf(TABLE_STATUSES))
    source = fields.String(required=True)
    label_vi = fields.String(required=True)
    items = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(_ItemSchema),
        required=True,
        validate=validate.Length(min=1),
    )


@dataclass(frozen=True, slots=True)
class PointTable:
    code: str
    version: str
    standard: str
    region: str
    area_type: str
    status: str
    source: str
    label_vi: str
    items: dict[str, dict[str, Any]]

    @property
    def disclaimer_vi(self) -> str | None:
        if self.status == "demo":
            return DEMO_LABEL_VI
        if self.status == "provisional":
            return "bảng điểm tạm thời — chưa đối chiếu văn bản chính thức"
        return None


def table_from_dict(raw: Any, origin: str) -> PointTable:
    """Validate a table's data.

    :raises StandardError: naming ``origin`` (file name) and each offending key.
    """
    try:
        data = PointTableSchema().load(raw if isinstance(raw, dict) else {})
    except ValidationError as exc:
        raise StandardError(f"{origin}: " + "; ".join(_flatten(exc.messages))) from None
    return PointTable(**data)


def load_table_yaml(path: Path) -> PointTable:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise StandardError(f"{path.name}: cannot read: {exc}") from None
    return table_from_dict(raw, path.name)


_META_KEYS = ("code", "version", "standard", "region", "area_type", "status", "source", "label_vi")
_ROW_KEYS = ("item", "kind", "vi", "option", "min", "max", "points")


def load_table_xlsx(content: bytes, origin: str = "bảng điểm.xlsx") -> PointTable:
    """Read a table from the XLSX template: sheet ``meta`` (key, value) and sheet ``points``
    (item, kind, vi, option, min, max, points — one row per option or band)."""
    try:
        book = load_workbook(BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a bad file
        raise StandardError(f"{origin}: không đọc được tệp XLSX ({type(exc).__name__})") from None
    if "meta" not in book.sheetnames or "points" not in book.sheetnames:
        raise StandardError(f"{origin}: cần hai sheet 'meta' và 'points' (xem mẫu).")
    raw: dict[str, Any] = {
        str(k).strip(): (str(v).strip() if v is not None else "")
        for k, v, *_ in book["meta"].iter_rows(min_row=2, values_only=True)
        if k
    }
    items: dict[str, dict[str, Any]] = {}
    rows = book["points"].iter_rows(values_only=True)
    header = [str(c).strip().lower() if c else "" for c in next(rows, ())]
    if header[: len(_ROW_KEYS)] != list(_ROW_KEYS):
        raise StandardError(f"{origin}: sheet 'points' cần các cột {', '.join(_ROW_KEYS)}.")
    for number, row in enumerate(rows, start=2):
        values = dict(zip(_ROW_KEYS, row, strict=False))
        if not values.get("item"):
            continue
        item = items.setdefault(
            str(values["item"]).strip(),
            {
                "kind": str(values["kind"] or "").strip(),
                "vi": str(values["vi"] or ""),
                "options": {},
                "bands": [],
            },
        )
        try:
            points = float(values["points"])
        except (TypeError, ValueError):
            raise StandardError(f"{origin}: points dòng {number}: không phải số") from None
        if item["kind"] == "band":
            item["bands"].append({"min": values["min"], "max": values["max"], "points": points})
        else:
            item["options"][str(values["option"]).strip()] = points
    raw["items"] = items
    return table_from_dict(raw, origin)


def template_xlsx() -> bytes:
    """An empty table to fill in, with one example row per kind."""
    book = Workbook()
    meta = book.active
    meta.title = "meta"
    meta.append(text_row(meta, ["key", "value"]))
    for key in _META_KEYS:
        meta.append(text_row(meta, [key, ""]))
    points = book.create_sheet("points")
    points.append(text_row(points, list(_ROW_KEYS)))
    points.append(
        text_row(points, ["b1_pension", "choice", "Lương hưu", "mot_nguoi", None, None, None])
    )
    points.append(
        text_row(points, ["b1_assets", "multi", "Tài sản lâu bền", "xe_may", None, None, None])
    )
    points.append(
        text_row(points, ["land_annual", "band", "Đất cây hằng năm (m²)", None, 0, 1000, None])
    )
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# The words of the B1 answers the Phiếu B calculates into codes of their own (as the form words
# them: its ``b1_top_qual_vi``; the pension's three bands), used when the answers are worded.
CALCULATED_WORDS = {
    "b1.b1_top_qual": {
        "duoi_thpt": "Dưới THPT",
        "thpt": "THPT",
        "so_cap": "Sơ cấp",
        "trung_cap": "Trung cấp",
        "cao_dang": "Cao đẳng",
        "dai_hoc": "Đại học trở lên",
    },
    "b1.b1_pension": {
        "khong": "Không ai có lương hưu",
        "mot_nguoi": "Một người có lương hưu",
        "tu_hai_nguoi": "Từ hai người có lương hưu",
    },
}


@dataclass(frozen=True, slots=True)
class B1Line:
    item: str
    vi: str
    answer: str  # the coded answer, as given
    points: float | None
    answer_vi: str = ""  # the same in the words of the form's choice labels (codes without)


@dataclass(frozen=True, slots=True)
class B1Result:
    total: float | None  # None: not assessed (an item's answer is missing or invalid)
    lines: tuple[B1Line, ...]
    missing: tuple[str, ...]  # items without an answer
    # Items whose answer the table cannot score: an option it does not have, a number out of
    # every band, text where a number is expected.  Not "missing": the answer was given.
    invalid: tuple[str, ...] = ()


def score_b1(answers: dict[str, Any], table: PointTable, words: FactWords = NO_WORDS) -> B1Result:
    """Each item's points; ``words`` (fact → code → label, B1 items under ``b1.<item>``) word
    the answers for people (``answer_vi``)."""
    lines, missing, invalid = [], [], []
    if words:  # worded (a form's words): the calculated answers too
        words = {**CALCULATED_WORDS, **words}
    for item, spec in table.items.items():
        answer = answers.get(item)
        points = _points(spec, answer)
        if answer is None:
            missing.append(item)
        elif points is None:
            invalid.append(item)
        shown = " ".join(sorted(answer)) if isinstance(answer, frozenset | set) else answer
        coded = spec["kind"] in ("choice", "multi")  # a band's answer is a number
        worded = fact_value_words(f"b1.{item}", answer, words) if coded else shown
        worded = "" if answer is None else str(worded)
        lines.append(B1Line(item, spec["vi"], "" if shown is None else str(shown), points, worded))
    total = None if missing or invalid else sum(line.points or 0 for line in lines)
    return B1Result(total, tuple(lines), tuple(missing), tuple(invalid))


def _points(spec: dict[str, Any], answer: Any) -> float | None:  # noqa: PLR0911
    if answer is None:
        return None
    if spec["kind"] == "choice":
        return spec["options"].get(str(answer))
    if spec["kind"] == "multi":
        chosen = answer if isinstance(answer, frozenset | set) else set(str(answer).split())
        if any(option not in spec["options"] for option in chosen):
            return None  # an option the table does not have
        return sum(spec["options"][option] for option in chosen)
    try:
        number = float(answer)
    except (TypeError, ValueError):
        return None
    for band in spec["bands"]:
        if number >= band["min"] and (band["max"] is None or number < band["max"]):
            return band["points"]
    return None
