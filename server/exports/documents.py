"""Printed documents too slow for a request (issue 13: every PDF longer than a second is a
background job with progress): a village's meeting lists, the meeting's minutes, a posting
notice, the decision with its lists, every certificate of a round.

Each is the owning capability's own document — the same template and context the page used to
render in the request (:mod:`server.meetings.documents`, :mod:`server.publication.documents`,
:mod:`server.decisions.documents`) — rendered here in one piece, so the file is what the
request gave before.  Who may ask for it is what the page checked, by the same functions: the
round within the actor's scope (:func:`~server.meetings.services.round_for`), the village or
the meeting among the actor's villages, the document existing (a signed decision, the
posting's number); village heads ask for their villages' lists and minutes, as they read them.

Progress is counted in pages: the total is the document's estimate (a certificate per page,
rows per page for the lists) and grows if the layout goes past it; ``done`` is the pages
WeasyPrint has laid out (:func:`server.documents.pdf.html_to_pdf`'s ``on_page``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import url_for
from flask_babel import lazy_gettext as _l

from server.accounts.models import STAFF_ROLES, VIEWER_ROLES, Role, User
from server.decisions.documents import (
    certificates_document,
    certificates_of,
    decision_document,
    signed_decision,
)
from server.documents.pdf import PDF_MIMETYPE, PrintDocument, html_to_pdf
from server.documents.stamp import producer_line
from server.exports.commune_lists import Artefact, review_of
from server.exports.models import ExportJob
from server.extensions import db
from server.meetings.documents import minutes_document, village_lists_document
from server.meetings.models import ReviewRound, VillageMeeting
from server.meetings.services import meeting_for, round_for, village_of
from server.publication.documents import posting_document, posting_of


def village_code(value: str) -> str:
    """A village code from a form (ValueError when it cannot be one)."""
    value = value.strip()
    if not value or len(value) > 40:
        raise ValueError(value)
    return value


@dataclass(frozen=True)
class Document:
    """A document kind: ``find(review, params, actor)`` is the page's check (AppError 404 when
    the thing is missing or, with an actor, outside their villages) and ``build(review,
    params)`` its printable document; ``back(params)`` the page it belongs to."""

    label: str
    find: Callable[[ReviewRound, dict, User | None], object]
    build: Callable[[ReviewRound, dict], PrintDocument]
    back: Callable[[dict], str]
    back_label: str
    fields: dict[str, Callable[[str], object]]
    roles: tuple[Role, ...] = STAFF_ROLES


def _village(review: ReviewRound, params: dict, actor: User | None):
    return village_of(review, params["village_code"], actor)


def _meeting(review: ReviewRound, params: dict, actor: User | None) -> VillageMeeting:
    return meeting_for(review, int(params["meeting_id"]), actor)


def _round_page(endpoint: str) -> Callable[[dict], str]:
    return lambda params: url_for(endpoint, round_id=params["round_id"])


def _village_page(params: dict) -> str:
    return url_for(
        "meetings.village_page", round_id=params["round_id"], village_code=params["village_code"]
    )


def _meeting_page(params: dict) -> str:
    meeting = db.session.get(VillageMeeting, int(params["meeting_id"]))
    return url_for(
        "meetings.village_page", round_id=params["round_id"], village_code=meeting.village.code
    )


ROUND = {"round_id": int}
DOCUMENTS = {
    "village_lists_pdf": Document(
        _l("Danh sách họp dân của thôn (PDF)"),
        _village,
        lambda review, params: village_lists_document(review, _village(review, params, None)),
        _village_page,
        _l("Danh sách họp dân"),
        ROUND | {"village_code": village_code},
        VIEWER_ROLES,
    ),
    "minutes_pdf": Document(
        _l("Biên bản họp dân (PDF, 2 bản)"),
        _meeting,
        lambda review, params: minutes_document(review, _meeting(review, params, None)),
        _meeting_page,
        _l("Danh sách họp dân"),
        ROUND | {"meeting_id": int},
        VIEWER_ROLES,
    ),
    "posting_pdf": Document(
        _l("Thông báo niêm yết (PDF)"),
        lambda review, params, actor: posting_of(review, int(params["number"])),
        lambda review, params: posting_document(review, int(params["number"])),
        _round_page("publication.index"),
        _l("Niêm yết và khiếu nại"),
        ROUND | {"number": int},
    ),
    "decision_pdf": Document(
        _l("Quyết định công nhận kèm danh sách (PDF)"),
        lambda review, params, actor: signed_decision(review),
        lambda review, params: decision_document(review),
        _round_page("decisions.index"),
        _l("Quyết định công nhận"),
        ROUND,
    ),
    "certificates_pdf": Document(
        _l("Tất cả giấy chứng nhận (PDF)"),
        lambda review, params, actor: certificates_of(review),
        lambda review, params: certificates_document(review),
        _round_page("decisions.index"),
        _l("Quyết định công nhận"),
        ROUND,
    ),
}


def authorizer(document: Document) -> Callable[[User, dict], int]:
    """What the page checked before rendering, without building the document: the round within
    the actor's scope and the document there (AppError 404 otherwise); the round's commune."""

    def authorize(actor: User, params: dict) -> int:
        review = round_for(actor, int(params["round_id"]))
        document.find(review, params, actor)
        return review.commune_id

    return authorize


def producer(document: Document) -> Callable:
    """Render the document in one piece, reporting each page laid out."""

    def produce(job: ExportJob, directory: Path, progress) -> Artefact:
        printable = document.build(review_of(job), job.params)
        progress.start(printable.pages)
        html = printable.html()
        stamp = producer_line(job.requested_by, job.created_at)
        db.session.rollback()  # the read is over: no transaction held through the layout
        laid_out = [0]

        def on_page(number: int) -> None:
            laid_out[0] = number
            progress.reach(number)

        path = directory / "export.pdf"
        path.write_bytes(html_to_pdf(html, on_page=on_page, stamp=stamp))
        progress.finish(laid_out[0])
        return Artefact(path, printable.filename, PDF_MIMETYPE)

    return produce
