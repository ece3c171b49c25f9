"""The posting notice (thông báo niêm yết): built here for whoever renders it (a background
export, :mod:`server.exports.documents`).  The caller has found the round within the actor's
scope; a posting that does not exist is :class:`~server.errors.AppError` 404."""

from __future__ import annotations

from math import ceil

from server.documents.pdf import PrintDocument
from server.errors import AppError
from server.meetings.models import ReviewRound
from server.publication.models import Posting
from server.publication.services import postings_of
from server.scoring.engine import CATEGORY_VI, Category

# Rows of the notice's table on an A4 portrait page (9 pt), for the progress bar's estimate.
ROWS_PER_PAGE = 52


def posting_of(review: ReviewRound, number: int) -> Posting:
    posting = next((p for p in postings_of(review) if p.number == number), None)
    if posting is None:
        raise AppError(
            "document.not_found", 404, "Không tìm thấy lần niêm yết.", "No such posting."
        )
    return posting


def posting_document(review: ReviewRound, number: int) -> PrintDocument:
    posting = posting_of(review, number)
    return PrintDocument(
        "publication/notice_print.html",
        {
            "review": review,
            "posting": posting,
            "categories": {c.value: CATEGORY_VI[c] for c in Category},
        },
        f"niem-yet-{review.year}-lan-{number}.pdf",
        pages=max(1, ceil((len(posting.items) + 8) / ROWS_PER_PAGE)),
    )
