"""A whole commune's village-meeting lists for one review round, as XLSX and as PDF, written to
a file while the cases stream from the database.

Memory (measured by ``scripts/bench/lists.py``; what stays flat and what does not):

* **Rows** come from one query over the round's cases joined to their scores, read with
  ``yield_per`` (a server-side cursor on PostgreSQL, SQLite's own incremental cursor); each row
  is turned into a :class:`~server.meetings.exports.ListRow`, written and dropped, so the
  process never holds more than one batch of cases and scores.
* **XLSX**: openpyxl's ``write_only`` workbook writes each sheet's XML to its own temporary
  file as rows are appended (openpyxl 3.1 writes strings inline, there is no shared-strings
  table in memory), and ``save`` zips them into the output file.  Memory is flat in the number
  of households; the temporary files take about the uncompressed size of the sheets.
* **PDF**: WeasyPrint lays out one chunk of at most ``EXPORTS_PDF_CHUNK_ROWS`` rows (default
  200; a village's lists are split between chunks when longer) at a time and each chunk's PDF is
  written to a temporary file, so the layout memory (WeasyPrint's large part) is bounded by
  the chunk.  The chunks are then concatenated with pypdf, which holds the *parsed objects of
  the whole output* while writing it: that last step grows with the size of the PDF (a few MB
  for 5 000 households, roughly a few times the file size in memory), not with layout.
  Pages are numbered continuously ("Trang N"; the total is not known while chunks are made).

Progress is counted in households: ``total`` is the number of cases of the round, advanced as
rows are written (XLSX) or as chunks are rendered (PDF).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app, render_template
from openpyxl import Workbook
from pypdf import PdfReader, PdfWriter
from sqlalchemy import and_, func, literal, select
from sqlalchemy import case as sql_case

from server.documents.pdf import html_to_pdf
from server.documents.spreadsheets import text_row
from server.documents.stamp import producer_line, stamp_workbook
from server.errors import AppError
from server.exports.models import ExportJob
from server.extensions import db
from server.geography.models import Village
from server.meetings.exports import COLUMNS_VI, LIST_TITLES_VI, SHEET_NAMES_VI, ListRow, list_rows
from server.meetings.models import HouseholdCase, ReviewRound
from server.meetings.services import LIST_ORDER
from server.meetings.settings import HELD_BACK, HELD_BACK_VI
from server.scoring.models import HouseholdScore
from server.submissions.models import Submission

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_MIMETYPE = "application/pdf"
YIELD_PER = 500
DEFAULT_CHUNK_ROWS = 200


@dataclass(frozen=True)
class Artefact:
    path: Path
    filename: str
    mimetype: str


def review_of(job: ExportJob) -> ReviewRound:
    review = db.session.get(ReviewRound, int(job.params.get("round_id", 0)))
    if review is None or review.commune_id != job.commune_id:
        raise AppError(
            "export.round_missing", 404, "Không tìm thấy đợt rà soát.", "Review not found."
        )
    return review


def round_label(review: ReviewRound) -> str:
    kind = "định kỳ" if review.kind == "dinh_ky" else "thường xuyên"
    return f"rà soát {kind} năm {review.year}" + (f", tháng {review.month}" if review.month else "")


def file_stem(review: ReviewRound) -> str:
    month = f"-t{review.month:02d}" if review.month else ""
    return f"danh-sach-toan-xa-{review.commune.code}-{review.year}{month}"


def case_count(review: ReviewRound) -> int:
    return db.session.scalar(
        select(func.count()).select_from(HouseholdCase).where(HouseholdCase.round_id == review.id)
    )


def _villages(review: ReviewRound) -> dict[int, Village]:
    return {
        v.id: v
        for v in db.session.scalars(select(Village).where(Village.commune_id == review.commune_id))
    }


def _disclaimers(review: ReviewRound) -> dict[int, set[str]]:
    """village id → the B1 table disclaimers of its cases' scores (demo / provisional)."""
    text = HouseholdScore.result["b1_table_disclaimer"].as_string()
    out: dict[int, set[str]] = defaultdict(set)
    for village_id, disclaimer in db.session.execute(
        select(HouseholdCase.village_id, text)
        .join(HouseholdScore, HouseholdScore.id == HouseholdCase.score_id)
        .where(HouseholdCase.round_id == review.id, text.is_not(None))
        .distinct()
    ):
        if disclaimer:
            out[village_id].add(disclaimer)
    return out


@dataclass(frozen=True)
class Flagged:
    """A household whose B1 score and measured income disagree (named before its village's
    lists, for the meeting to look at)."""

    code: str
    head: str


def _flagged(review: ReviewRound) -> dict[int, list[Flagged]]:
    """village id → its cases whose score has B1 and income on different sides of the line."""
    out: dict[int, list[Flagged]] = defaultdict(list)
    for village_id, code, head in db.session.execute(
        select(HouseholdCase.village_id, HouseholdCase.household_code, HouseholdCase.head_name)
        .join(HouseholdScore, HouseholdScore.id == HouseholdCase.score_id)
        .where(HouseholdCase.round_id == review.id, HouseholdScore.methods_disagree.is_(True))
        .order_by(HouseholdCase.household_code, HouseholdCase.id)
    ):
        out[village_id].append(Flagged(code or "(hộ mới)", head))
    return out


def list_order(review: ReviewRound) -> tuple[str, ...]:
    """The lists in the meeting's order, and last the households the commune's rule keeps out
    of the meeting when it takes only approved results."""
    return (*LIST_ORDER, HELD_BACK) if review.commune.meeting_lists_approved_only else LIST_ORDER


def _list_of(review: ReviewRound):
    """SQL: the list a case is printed in — its own, or :data:`HELD_BACK` when the commune's
    rule keeps it out (waiting for the meeting, result not approved); needs ``Submission``
    joined on the case's submission."""
    if not review.commune.meeting_lists_approved_only:
        return HouseholdCase.list_type
    return sql_case(
        (
            and_(HouseholdCase.stage == "listed", Submission.review_state != "approved"),
            literal(HELD_BACK),
        ),
        else_=HouseholdCase.list_type,
    )


def _counts(review: ReviewRound) -> dict[tuple[int, str], int]:
    name = _list_of(review)
    return {
        (village_id, list_type): n
        for village_id, list_type, n in db.session.execute(
            select(HouseholdCase.village_id, name, func.count())
            .join(Submission, Submission.id == HouseholdCase.submission_id)
            .where(HouseholdCase.round_id == review.id)
            .group_by(HouseholdCase.village_id, name)
        )
    }


def stream_cases(review: ReviewRound) -> Iterator[tuple[HouseholdCase, HouseholdScore, str, str]]:
    """The round's cases with their scores, the list each is printed in and its result's
    review state: by village code, then in the order the meeting takes the lists (the
    households kept out by the commune's rule last), then by household code — read
    ``YIELD_PER`` at a time."""
    order = list_order(review)
    name = _list_of(review)
    position = sql_case(
        {list_name: i for i, list_name in enumerate(order)}, value=name, else_=len(order)
    )
    query = (
        select(HouseholdCase, HouseholdScore, name, Submission.review_state)
        .join(HouseholdScore, HouseholdScore.id == HouseholdCase.score_id)
        .join(Submission, Submission.id == HouseholdCase.submission_id)
        .join(Village, Village.id == HouseholdCase.village_id)
        .where(HouseholdCase.round_id == review.id)
        .order_by(Village.code, position, HouseholdCase.household_code, HouseholdCase.id)
        .execution_options(yield_per=YIELD_PER)
    )
    yield from db.session.execute(query).tuples()


def _row(household_case: HouseholdCase, score: HouseholdScore, state: str, number: int) -> ListRow:
    row = list_rows(
        [household_case], {household_case.score_id: score}, {household_case.submission_id: state}
    )[0]
    return dataclasses.replace(row, number=number)


TITLES_VI = {**LIST_TITLES_VI, HELD_BACK: HELD_BACK_VI}


# --- XLSX ------------------------------------------------------------------------------------


def write_xlsx(job: ExportJob, directory: Path, progress) -> Artefact:
    """One sheet per list (in the meeting's order; then, when the commune takes only approved
    results to the meeting, the households kept out) with a village column; rows numbered
    through the sheet."""
    review = review_of(job)
    progress.start(case_count(review))
    villages = _villages(review)
    disclaimers = sorted({d for texts in _disclaimers(review).values() for d in texts})
    book = Workbook(write_only=True)
    sheets = {}
    order = list_order(review)
    for name in order:
        sheet = book.create_sheet(SHEET_NAMES_VI[name])
        sheet.append(text_row(sheet, [TITLES_VI[name] + " — toàn xã"]))
        sheet.append(
            text_row(
                sheet, [f"{review.commune.name} ({review.commune.code}) — {round_label(review)}"]
            )
        )
        for text in disclaimers:
            sheet.append(text_row(sheet, [f"Lưu ý: bảng điểm B1 {text}"]))
        sheet.append(text_row(sheet, []))
        sheet.append(text_row(sheet, [COLUMNS_VI[0], "Thôn", *COLUMNS_VI[1:]]))
        sheets[name] = sheet
    numbers: dict[str, int] = defaultdict(int)
    for household_case, score, listed_in, state in stream_cases(review):
        name = listed_in if listed_in in sheets else LIST_ORDER[-1]
        numbers[name] += 1
        cells = _row(household_case, score, state, numbers[name]).cells()
        village = villages.get(household_case.village_id)
        cells.insert(1, f"{village.code} {village.name}" if village else "")
        sheets[name].append(text_row(sheets[name], cells))
        progress.advance()
    stamp_workbook(book, producer_line(job.requested_by, job.created_at), job.requested_by)
    path = directory / "export.xlsx"
    book.save(path)
    return Artefact(path, f"{file_stem(review)}.xlsx", XLSX_MIMETYPE)


# --- PDF -------------------------------------------------------------------------------------


@dataclass
class ListPart:
    name: str
    index: int
    title: str
    count: int
    continued: bool = False
    rows: list[ListRow] = field(default_factory=list)


@dataclass
class VillagePart:
    village: Village
    disclaimers: list[str]
    flagged: list[Flagged] = field(default_factory=list)
    continued: bool = False
    lists: list[ListPart] = field(default_factory=list)


class _Chunks:
    """Collects villages, list headings and rows into chunks of about ``size`` rows; each
    chunk is rendered to its own PDF file.  A chunk is closed only when something that needs
    room comes next (a village, a list with households, a row), so the headings of the empty
    lists that end a village stay with it instead of making a page of their own."""

    def __init__(self, review, directory: Path, size: int, progress, stamp: str) -> None:
        self.review, self.directory, self.size, self.progress = review, directory, size, progress
        self.stamp = stamp  # who asked for the file, and when (every page)
        self.files: list[Path] = []
        self.pages = 0
        self.parts: list[VillagePart] = []
        self.rows = 0
        self.village: VillagePart | None = None
        self.list: ListPart | None = None

    def render(self, template: str, **context) -> None:
        html = render_template(template, review=self.review, first_page=self.pages + 1, **context)
        path = self.directory / f"part-{len(self.files):05d}.pdf"
        path.write_bytes(html_to_pdf(html, stamp=self.stamp))
        self.files.append(path)
        self.pages += len(PdfReader(path).pages)

    def _full(self) -> bool:
        return self.rows >= self.size

    def _open_village(self) -> VillagePart:
        if not self.parts:  # a new chunk in the middle of a village
            self.parts.append(dataclasses.replace(self.village, continued=True, lists=[]))
        return self.parts[-1]

    def start_village(self, part: VillagePart) -> None:
        if self._full():
            self.flush()
        self.village, self.list = part, None
        self.parts.append(part)

    def start_list(self, part: ListPart) -> None:
        if part.count and self._full():
            self.flush()
        self.list = part
        self._open_village().lists.append(part)

    def add(self, row: ListRow) -> None:
        if self._full():
            self.flush()
        village = self._open_village()
        if not village.lists:  # a new chunk in the middle of a list
            village.lists.append(dataclasses.replace(self.list, continued=True, rows=[]))
        village.lists[-1].rows.append(row)
        self.rows += 1

    def flush(self) -> None:
        if not self.parts:
            return
        self.render("exports/commune_lists_chunk.html", parts=self.parts)
        self.progress.advance(self.rows)
        self.parts, self.rows = [], 0


def write_pdf(job: ExportJob, directory: Path, progress) -> Artefact:
    """A summary page (households per village and list), then every village with cases: its
    lists as on the village's own PDF (with, when the commune takes only approved results to
    the meeting, the households kept out after them), rendered a chunk at a time and
    concatenated."""
    review = review_of(job)
    progress.start(case_count(review))
    title = f"Danh sách họp dân toàn xã — {review.commune.name} — {round_label(review)}"
    filename = f"{file_stem(review)}.pdf"
    villages = _villages(review)
    disclaimers = _disclaimers(review)
    flagged = _flagged(review)
    counts = _counts(review)
    size = int(current_app.config.get("EXPORTS_PDF_CHUNK_ROWS", DEFAULT_CHUNK_ROWS))
    stamp = producer_line(job.requested_by, job.created_at)
    chunks = _Chunks(review, directory, max(1, size), progress, stamp)
    order = list_order(review)
    summary = [
        (v, [counts.get((v.id, name), 0) for name in order], len(flagged.get(v.id, ())))
        for v in sorted(villages.values(), key=lambda v: v.code)
    ]
    chunks.render(
        "exports/commune_lists_cover.html",
        summary=summary,
        titles=[TITLES_VI[name] for name in order],
        totals=[sum(row[i] for _v, row, _f in summary) for i in range(len(order))],
        flagged_total=sum(n for _v, _row, n in summary),
        disclaimers=sorted({d for texts in disclaimers.values() for d in texts}),
    )

    def list_part(village_id: int, name: str) -> ListPart:
        index = order.index(name) if name in order else len(order)
        return ListPart(
            name=name,
            index=index + 1,
            title=TITLES_VI.get(name, name),
            count=counts.get((village_id, name), 0),
        )

    def finish_lists(village_id: int, after: str | None, before: str | None) -> None:
        """Headings of the empty lists between two lists of a village ("Không có hộ nào")."""
        start = 0 if after is None else order.index(after) + 1
        end = len(order) if before is None else order.index(before)
        for name in order[start:end]:
            chunks.start_list(list_part(village_id, name))

    village_id: int | None = None
    list_name: str | None = None
    number = 0
    for household_case, score, listed_in, state in stream_cases(review):
        name = listed_in if listed_in in order else LIST_ORDER[-1]
        if household_case.village_id != village_id:
            if village_id is not None:
                finish_lists(village_id, list_name, None)
            village_id, list_name = household_case.village_id, None
            chunks.start_village(
                VillagePart(
                    village=villages[village_id],
                    disclaimers=sorted(disclaimers.get(village_id, ())),
                    flagged=flagged.get(village_id, []),
                )
            )
        if name != list_name:
            finish_lists(village_id, list_name, name)
            chunks.start_list(list_part(village_id, name))
            list_name, number = name, 0
        number += 1
        chunks.add(_row(household_case, score, state, number))
    if village_id is not None:
        finish_lists(village_id, list_name, None)
    chunks.flush()
    db.session.rollback()  # the read is over: do not hold its transaction while merging
    writer = PdfWriter()
    for path in chunks.files:
        writer.append(path)
        progress.beat()
    writer.add_metadata({"/Title": title})
    path = directory / "export.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    writer.close()
    return Artefact(path, filename, PDF_MIMETYPE)
