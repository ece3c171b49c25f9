"""The list of submissions commune staff review (``/xa/phieu``): its filters, its one order, and
where a submission stands in it — the previous and next submission of the same filtered list,
so that reviewing goes from one result to the next without going back to the list (as ODK
Central and Kobo do), and the list page to go back to.

The filters travel in the query string of every page and form of the review (the same
parameter names as the list's), so a back link, the redirect after a decision and the pager all
keep them.  Only the names in :data:`FILTER_KEYS` are carried."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, func, or_, select

from server.accounts.models import User
from server.extensions import db
from server.geography.models import Commune, Village
from server.i18n import utc_start_of
from server.questionnaires.models import Form
from server.scoring.models import HouseholdScore
from server.submissions.models import Submission
from server.submissions.scope import in_scope

FILTER_KEYS = (
    "commune",
    "form",
    "village",
    "state",
    "category",
    "reviewer",
    "date_from",
    "date_to",
)
PAGE_SIZE = 50


def _date(raw: str | None) -> date | None:
    """A date in a filter: a blank or malformed value filters nothing."""
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def filters_from(args: Mapping[str, str]) -> dict:
    """The list's filters from a query string (every key present, blank when unset)."""
    filters: dict = {key: (args.get(key) or "").strip() for key in FILTER_KEYS}
    filters["date_from"] = _date(filters["date_from"])
    filters["date_to"] = _date(filters["date_to"])
    return filters


def carried(filters: Mapping) -> dict[str, str]:
    """The filters that are set, as query-string values to put in links and form actions."""
    return {
        key: value.isoformat() if isinstance(value, date) else str(value)
        for key in FILTER_KEYS
        if (value := filters.get(key))
    }


def filtered(actor: User, filters: Mapping):
    """Submissions in scope matching the filters, each with its current score (or None);
    unordered (see :data:`ORDER`)."""
    score = HouseholdScore
    query = (
        select(Submission, score)
        .outerjoin(score, and_(score.submission_id == Submission.id, score.current.is_(True)))
        .where(in_scope(actor))
    )
    if filters["commune"]:
        query = query.join(Commune, Commune.id == Submission.commune_id).where(
            Commune.code == filters["commune"]
        )
    if filters["form"]:
        query = query.join(Form, Form.id == Submission.form_id).where(
            Form.xml_form_id == filters["form"]
        )
    if filters["village"]:
        query = query.join(Village, Village.id == Submission.village_id).where(
            Village.code == filters["village"]
        )
    if filters["state"]:
        query = query.where(Submission.review_state == filters["state"])
    if filters["category"]:
        query = query.where(score.category == filters["category"])
    if filters["reviewer"]:
        query = query.join(User, User.id == Submission.submitter_id).where(
            User.username == filters["reviewer"]
        )
    # The days are Vietnam's (as the list shows the times); times are stored in UTC.
    if filters["date_from"]:
        query = query.where(Submission.created_at >= utc_start_of(filters["date_from"]))
    if filters["date_to"]:
        end = utc_start_of(filters["date_to"] + timedelta(days=1))
        query = query.where(Submission.created_at < end)
    return query


# Newest first; the id breaks ties between submissions received in the same instant.
ORDER = (Submission.created_at.desc(), Submission.id.desc())


def _before(submission: Submission):
    """Rows listed before ``submission`` in :data:`ORDER`."""
    return or_(
        Submission.created_at > submission.created_at,
        and_(Submission.created_at == submission.created_at, Submission.id > submission.id),
    )


def _after(submission: Submission):
    return or_(
        Submission.created_at < submission.created_at,
        and_(Submission.created_at == submission.created_at, Submission.id < submission.id),
    )


@dataclass(frozen=True, slots=True)
class Place:
    """Where a submission stands in the filtered list."""

    previous_id: int | None
    next_id: int | None
    position: int | None  # 1-based; None when the submission no longer matches the filters
    total: int
    page: int  # the list page that shows it (or would, were it still listed)


def place_in_list(actor: User, filters: Mapping, submission: Submission) -> Place:
    """The neighbours of ``submission`` in the list ``filters`` select, in the list's order.

    The submission itself need not match the filters any more (a decision may have just moved
    it out of "Chưa xét duyệt"): its neighbours are then those it stood between."""
    query = filtered(actor, filters)
    previous_id = db.session.scalar(
        query.with_only_columns(Submission.id)
        .where(_before(submission))
        .order_by(Submission.created_at.asc(), Submission.id.asc())
        .limit(1)
    )
    next_id = next_after(actor, filters, submission)
    before = db.session.scalar(
        select(func.count()).select_from(query.where(_before(submission)).subquery())
    )
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    listed = db.session.scalar(
        select(func.count()).select_from(query.where(Submission.id == submission.id).subquery())
    )
    return Place(
        previous_id=previous_id,
        next_id=next_id,
        position=before + 1 if listed else None,
        total=total,
        page=before // PAGE_SIZE + 1,
    )


def next_after(actor: User, filters: Mapping, submission: Submission) -> int | None:
    """The submission listed after ``submission`` under ``filters``, if any."""
    return db.session.scalar(
        filtered(actor, filters)
        .with_only_columns(Submission.id)
        .where(_after(submission))
        .order_by(*ORDER)
        .limit(1)
    )
