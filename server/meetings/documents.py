"""The printed documents of the village meeting: a village's lists (danh sách đưa ra họp dân)
and the minutes in two copies.  Each function builds the one template context of its document,
for the page (the lists) and for the background export that renders the PDF
(:mod:`server.exports.documents`).  The caller has found the round, the village and the meeting
within the actor's scope (:func:`~server.meetings.services.round_for`,
:func:`~server.meetings.services.village_of`, :func:`~server.meetings.services.meeting_for`)."""

from __future__ import annotations

from math import ceil

from server.documents.pdf import PrintDocument
from server.geography.models import Village
from server.meetings.exports import LIST_TITLES_VI, STATUS_VI, ListRow, list_rows
from server.meetings.methods import DISAGREE_VI, method_vi, methods_of
from server.meetings.missing import MISSING_REASONS, missing_households
from server.meetings.models import ReviewRound, VillageMeeting
from server.meetings.services import LIST_ORDER, VillageLists, village_lists
from server.meetings.settings import HELD_BACK, HELD_BACK_VI
from server.scoring.engine import CATEGORY_VI, Category

# Households of a list on an A4 landscape page (members, scores and deprivations wrap: about
# two lines each), and a list's heading; for the progress bar's estimate of the pages.
LIST_ROWS_PER_PAGE = 14
# Votes of the minutes on an A4 portrait page (two copies, each with its text and signatures).
VOTES_PER_PAGE = 30
COPIES = ("Bản lưu tại thôn", "Bản gửi Ban Chỉ đạo rà soát cấp xã")


def village_rows(review: ReviewRound, village: Village) -> tuple[VillageLists, dict]:
    """The village's lists and their printed rows, list by list in the meeting's order, and
    the households the commune's rule holds back (``HELD_BACK``)."""
    lists = village_lists(review, village)
    rows: dict[str, list[ListRow]] = {
        name: list_rows(lists.lists[name], lists.scores, lists.states) for name in LIST_ORDER
    }
    rows[HELD_BACK] = list_rows(lists.held, lists.scores, lists.states)
    return lists, rows


def village_lists_document(review: ReviewRound, village: Village) -> PrintDocument:
    lists, rows = village_rows(review, village)
    households = sum(len(r) for r in rows.values())  # the held-back ones are printed too
    return PrintDocument(
        "meetings/lists_print.html",
        {
            "review": review,
            "village": village,
            "lists": lists,
            "rows": rows,
            "titles": LIST_TITLES_VI,
            "held_back": HELD_BACK,
            "held_back_title": HELD_BACK_VI,
        },
        f"danh-sach-{review.year}-{village.code}.pdf",
        pages=max(1, ceil((households + 2 * len(LIST_ORDER) + 4) / LIST_ROWS_PER_PAGE)),
    )


def minutes_document(review: ReviewRound, meeting: VillageMeeting) -> PrintDocument:
    votes = len(meeting.votes)
    return PrintDocument(
        "meetings/minutes_print.html",
        {
            "review": review,
            "meeting": meeting,
            "missing": missing_households(review, meeting.village),
            "missing_reasons": MISSING_REASONS,
            "copies": COPIES,
            "statuses": STATUS_VI,
            "categories": {c.value: CATEGORY_VI[c] for c in Category},
            "methods": {
                score_id: (method_vi(m.code), DISAGREE_VI if m.disagree else "")
                for score_id, m in methods_of(v.case.score_id for v in meeting.votes).items()
            },
        },
        f"bien-ban-hop-dan-{meeting.village.code}-{meeting.held_on:%Y%m%d}.pdf",
        pages=len(COPIES) * max(1, ceil((votes + 25) / VOTES_PER_PAGE)),
    )
