"""Recording looks at households' personal data, and reading the records back.

A view calls :func:`record_access` once, after it has decided the user may see the data (a
refused or missing page records nothing)::

    record_access("answers", households=submission_households([submission.id]),
                  ref=f"phiếu {submission.id}")

The call costs no database write: rows go to the process's buffer
(:mod:`server.access.recorder`).  The helpers below find which households a page or file
carried with one read each.

Who may read the records is decided here too (:func:`in_scope`): a province administrator
those of their province, a national administrator all; nobody else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import ColumnElement, and_, case, false, func, or_, select, true

from server.access.models import AccessRecord
from server.access.recorder import RoundCases, log
from server.accounts.identity import request_identity
from server.accounts.models import Role, User
from server.db import utcnow
from server.extensions import db
from server.households.models import Household
from server.i18n import VIETNAM_TIME
from server.meetings.models import HouseholdCase
from server.scoring.models import HouseholdScore

# The kinds of data a look can carry (shown on the log page; unknown kinds as recorded).
KINDS = (
    "answers",  # a questionnaire's answers (with its files, score and history on the page)
    "photo",  # one file of a questionnaire (photo, recording, document)
    "score",  # a household's score and its explanation
    "history",  # a household's page: its questionnaires and verdicts across years
    "list",  # a list page carrying several households
    "pdf",
    "xlsx",
    "csv",
    "api",  # the staff JSON API
    "id_number_reveal",
)
# Kinds that hand a file or data set out of the server (counted for the "communes exported a
# day" flag).
EXPORT_KINDS = ("pdf", "xlsx", "csv", "api")


@dataclass(frozen=True, slots=True)
class Seen:
    """One household a page or file carried: its registry id (None: not in the registry), its
    code, its commune and, when the look was at one questionnaire, the submission."""

    household_id: int | None
    code: str | None
    commune_id: int | None
    submission_id: int | None = None


def _who(actor: User | None) -> tuple[int | None, str, str]:
    """The id, username and role of ``actor``, or else of the request's user (an API
    request's authenticated user first).  Read from what was noted when the user was loaded
    (:mod:`server.accounts.identity`), so that a page which has committed, and so expired its
    user, does not load the user again only to record the look."""
    known = request_identity()
    if actor is None and has_request_context():
        actor = g.get("actor")
        if actor is None:
            user = current_user._get_current_object()  # loaded already: no query
            if known is not None and known.user is user:
                return known.id, known.username, known.role
            if user is not None and user.is_authenticated:
                actor = user
    if actor is None:
        return None, "-", "-"
    if known is not None and known.user is actor:
        return known.id, known.username, known.role
    return actor.id, actor.username, actor.role.value


def record_access(
    kind: str,
    households: Iterable[Seen] | RoundCases = (),
    *,
    ref: str | None = None,
    count: int | None = None,
    commune_id: int | None = None,
    actor: User | None = None,
) -> None:
    """Record that the request's user (or ``actor``) was shown ``households``' data of
    ``kind``: one row per household, each naming ``ref`` (the list or file they came in) and
    ``count`` (how many households it carried; default: how many are given).  ``households``
    may also be a :class:`RoundCases` (a file made from a round, with ``commune_id``): one row
    is queued and expanded into one per household when written.  With no household (a list
    whose households are not itemised) one row records ``ref``, ``count`` and ``commune_id``.
    Never raises: a failure to queue is logged."""
    try:
        recorder = current_app.extensions.get("rasoat.access")
        if recorder is None or not recorder.enabled:
            return
        user_id, username, role = _who(actor)
        deferred = households if isinstance(households, RoundCases) else None
        seen = [] if deferred is not None else list(households)
        total = len(seen) if count is None else count
        now = utcnow()
        base = {
            "at": now,
            "day": now.replace(tzinfo=UTC).astimezone(VIETNAM_TIME).date(),
            "user_id": user_id,
            "username": username[:80],
            "role": role[:20],
            "province_id": None,  # from the commune, when the buffer is written
            "kind": kind[:30],
            "ref": ref[:200] if ref else None,
            "count": total,
            "endpoint": (request.endpoint or "")[:100] if has_request_context() else None,
        }
        if seen:
            rows = [
                base
                | {
                    "commune_id": s.commune_id,
                    "household_id": s.household_id,
                    "household_code": s.code,
                    "submission_id": s.submission_id,
                }
                for s in seen
            ]
        else:
            rows = [
                base
                | {
                    "commune_id": commune_id,
                    "household_id": None,
                    "household_code": None,
                    "submission_id": None,
                    "cases": deferred,
                }
            ]
        recorder.add(rows)
    except Exception:
        log.exception("could not queue an access record (%s)", kind)


def flush() -> int:
    """Write the process's queued records now (tests, commands); returns how many."""
    recorder = current_app.extensions.get("rasoat.access")
    return recorder.flush() if recorder is not None else 0


def submission_households(submission_ids: Iterable[int]) -> list[Seen]:
    """The households the submissions are about (one read): the code their current score
    names and the registry household with that code in the submission's commune; a
    submission not scored yet is still listed, by its id."""
    from server.submissions.models import Submission

    ids = list(submission_ids)
    if not ids:
        return []
    rows = db.session.execute(
        select(Submission.id, Submission.commune_id, HouseholdScore.household_code, Household.id)
        .outerjoin(
            HouseholdScore,
            and_(HouseholdScore.submission_id == Submission.id, HouseholdScore.current.is_(True)),
        )
        .outerjoin(
            Household,
            and_(
                Household.commune_id == Submission.commune_id,
                Household.code == HouseholdScore.household_code,
            ),
        )
        .where(Submission.id.in_(ids))
    ).all()
    return [Seen(hid, code, commune, sid) for sid, commune, code, hid in rows]


def case_households(cases: Iterable[HouseholdCase], commune_id: int) -> list[Seen]:
    """The households of a round's cases (already read by the page)."""
    return [Seen(c.household_id, c.household_code, commune_id, c.submission_id) for c in cases]


def lists_households(lists, commune_id: int) -> list[Seen]:
    """The households of a village's meeting lists (:class:`VillageLists`), the held-back
    ones included (they are shown too)."""
    cases = [c for name in lists.lists for c in lists.lists[name]] + list(lists.held)
    return case_households(cases, commune_id)


def export_households(job) -> RoundCases:
    """The households an export job's file carries: its round's (its village's, for a
    village's lists or a meeting's minutes), expanded when the records are written.  For the
    posting, decision and certificates a superset: the round's households, not only those the
    document prints."""
    params = job.params or {}
    meeting = params.get("meeting_id")
    return RoundCases(
        int(params["round_id"]),
        village_code=params.get("village_code"),
        meeting_id=int(meeting) if meeting is not None else None,
    )


def export_kind(mimetype: str | None) -> str:
    return "pdf" if mimetype == "application/pdf" else "xlsx"


# --- reading the records ------------------------------------------------------------------


def in_scope(actor: User) -> ColumnElement[bool]:
    """The records ``actor`` may read: a national administrator all; a province administrator
    their province's; anyone else none."""
    if actor.role == Role.NATIONAL:
        return true()
    if actor.role == Role.ADMIN and actor.province_id is not None:
        return AccessRecord.province_id == actor.province_id
    return false()


def utc_start_of(day: date) -> datetime:
    """The naive-UTC moment a day begins in Vietnam."""
    start = datetime.combine(day, time.min, tzinfo=VIETNAM_TIME)
    return start.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class Filters:
    person: str = ""  # username
    household: str = ""  # household code
    commune_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    kind: str = ""


def records_query(actor: User, filters: Filters):
    """The records in scope matching ``filters``, newest first."""
    query = select(AccessRecord).where(in_scope(actor))
    if filters.person:
        query = query.where(AccessRecord.username == filters.person)
    if filters.household:
        query = query.where(AccessRecord.household_code == filters.household)
    if filters.commune_id is not None:
        query = query.where(AccessRecord.commune_id == filters.commune_id)
    if filters.kind:
        query = query.where(AccessRecord.kind == filters.kind)
    if filters.date_from:
        query = query.where(AccessRecord.at >= utc_start_of(filters.date_from))
    if filters.date_to:
        query = query.where(AccessRecord.at < utc_start_of(filters.date_to + timedelta(days=1)))
    return query.order_by(AccessRecord.at.desc(), AccessRecord.id.desc())


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Above these, one account's day is listed as unusual."""

    households_per_day: int
    communes_exported_per_day: int


def thresholds() -> Thresholds:
    config = current_app.config
    return Thresholds(
        int(config["ACCESS_UNUSUAL_HOUSEHOLDS_PER_DAY"]),
        int(config["ACCESS_UNUSUAL_COMMUNES_PER_DAY"]),
    )


@dataclass(frozen=True, slots=True)
class Unusual:
    day: date
    user_id: int | None
    username: str
    role: str
    households: int  # distinct households read that day
    communes_exported: int  # distinct communes whose data left in a file or the API


def unusual_days(actor: User, since: date, until: date, limits: Thresholds) -> list[Unusual]:
    """Each account's days (Vietnam days ``since``..``until``) above a threshold, in the
    actor's scope, the heaviest first."""
    key = (AccessRecord.day, AccessRecord.user_id, AccessRecord.username, AccessRecord.role)
    households = func.count(AccessRecord.household_id.distinct())
    communes = func.count(
        case((AccessRecord.kind.in_(EXPORT_KINDS), AccessRecord.commune_id)).distinct()
    )
    rows = db.session.execute(
        select(*key, households, communes)
        .where(in_scope(actor), AccessRecord.day >= since, AccessRecord.day <= until)
        .group_by(*key)
        .having(
            or_(
                households > limits.households_per_day,
                communes > limits.communes_exported_per_day,
            )
        )
    ).all()
    found = [Unusual(*row) for row in rows]
    return sorted(found, key=lambda u: (-u.households, -u.communes_exported, u.day, u.username))
