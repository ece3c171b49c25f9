"""Printed documents too slow for a request (issue 13: every PDF longer than a second is a
background job with progress): the decision with its lists, every certificate of a round, a
posting notice.

Each is the owning capability's own document — the same template and context the page used to
render in the request (:mod:`server.decisions.documents`, :mod:`server.publication.documents`)
— rendered here in one piece, so the file is what the request gave before.  Who may ask for it
is what the page checked: the round within the actor's scope
(:func:`server.meetings.services.round_for`) and the document existing (a signed decision, the
posting's number), by the same functions.

Progress is counted in pages: the total is the document's estimate (a certificate per page,
rows per page for the lists) and grows if the layout goes past it; ``done`` is the pages
WeasyPrint has laid out (:func:`server.documents.pdf.html_to_pdf`'s ``on_page``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from server.accounts.models import User
from server.decisions.documents import (
    certificates_document,
    certificates_of,
    decision_document,
    signed_decision,
)
from server.documents.pdf import PDF_MIMETYPE, PrintDocument, html_to_pdf
from server.exports.commune_lists import Artefact, review_of
from server.exports.models import ExportJob
from server.extensions import db
from server.meetings.models import ReviewRound
from server.meetings.services import round_for
from server.publication.documents import posting_document, posting_of

Build = Callable[[ReviewRound, dict], PrintDocument]
Check = Callable[[ReviewRound, dict], object]


def decision(review: ReviewRound, params: dict) -> PrintDocument:
    return decision_document(review)


def has_decision(review: ReviewRound, params: dict) -> object:
    return signed_decision(review)


def certificates(review: ReviewRound, params: dict) -> PrintDocument:
    return certificates_document(review)


def has_certificates(review: ReviewRound, params: dict) -> object:
    return certificates_of(review)


def posting(review: ReviewRound, params: dict) -> PrintDocument:
    return posting_document(review, int(params["number"]))


def has_posting(review: ReviewRound, params: dict) -> object:
    return posting_of(review, int(params["number"]))


def authorizer(check: Check) -> Callable[[User, dict], int]:
    """What the page checked before rendering, without building the document: the round within
    the actor's scope and the document there (AppError 404 otherwise); the round's commune."""

    def authorize(actor: User, params: dict) -> int:
        review = round_for(actor, int(params["round_id"]))
        check(review, params)
        return review.commune_id

    return authorize


def producer(build: Build) -> Callable:
    """Render the document in one piece, reporting each page laid out."""

    def produce(job: ExportJob, directory: Path, progress) -> Artefact:
        document = build(review_of(job), job.params)
        progress.start(document.pages)
        html = document.html()
        db.session.rollback()  # the read is over: no transaction held through the layout
        laid_out = [0]

        def on_page(number: int) -> None:
            laid_out[0] = number
            progress.reach(number)

        path = directory / "export.pdf"
        path.write_bytes(html_to_pdf(html, on_page=on_page))
        progress.finish(laid_out[0])
        return Artefact(path, document.filename, PDF_MIMETYPE)

    return produce
