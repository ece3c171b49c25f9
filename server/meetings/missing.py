"""Nothing forgotten at the decision: the households of last year's poor / near-poor lists that
have no result in the annual review's year ("missing households"), and the reason commune staff
record for each — moved away, merged or split, died out, not reviewed yet, other.

A household is missing when its recognised status for the year before the round's year is poor
or near-poor (``HouseholdYearStatus``) and no current score of the round's year carries its code
in its commune (any questionnaire: Phiếu A or B; a result the commune rejected is no result).
Only the annual review (``dinh_ky``) reviews every listed household, so a monthly round has none.

The reasons are data (:class:`~server.meetings.models.MissingHouseholdReason`), one per round and
household, editable until the decision, every change in the audit log; the decision cannot be
recorded while a missing household has no reason (:mod:`server.decisions.services`).  A
household that gets a result later drops off the missing list; its reason is kept, no longer
required.  Services flush; callers commit."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import exists, select

from server.accounts.models import STAFF_ROLES, User
from server.audit.services import record
from server.db import utcnow
from server.errors import AppError
from server.extensions import db
from server.geography.models import Village
from server.households.models import Household, HouseholdStatus, HouseholdYearStatus
from server.meetings.models import MissingHouseholdReason, ReviewRound
from server.scoring.models import HouseholdScore
from server.submissions.models import Submission
from server.submissions.scope import village_scope

# The reasons, in the order the form offers them (plain Vietnamese; English in the pages'
# translations).  ``NOTE_REQUIRED``: a note must say more.
MISSING_REASONS = {
    "moved": "Chuyển đi nơi khác",
    "merged_split": "Nhập hộ hoặc tách hộ",
    "died_out": "Hộ không còn người",
    "not_reviewed": "Chưa rà soát được",
    "other": "Lý do khác",
}
NOTE_REQUIRED = ("not_reviewed", "other")
NOTE_MAX = 500
# The report's column for a missing household without a reason.
NO_REASON = "none"
NO_REASON_VI = "Chưa ghi lý do"
LAST_YEAR = (HouseholdStatus.POOR, HouseholdStatus.NEAR_POOR)


@dataclass
class MissingHousehold:
    household: Household
    last_status: str  # ngheo / can_ngheo: the status recognised the year before
    reason: MissingHouseholdReason | None

    @property
    def reason_vi(self) -> str:
        return MISSING_REASONS[self.reason.reason] if self.reason else ""


def _missing_query(commune_id: int, year: int):
    has_result = exists().where(
        HouseholdScore.household_code == Household.code,
        HouseholdScore.year == year,
        HouseholdScore.current.is_(True),
        Submission.id == HouseholdScore.submission_id,
        Submission.commune_id == Household.commune_id,
        Submission.review_state != "rejected",
    )
    return (
        select(Household, HouseholdYearStatus.status)
        .join(HouseholdYearStatus, HouseholdYearStatus.household_id == Household.id)
        .join(Village, Village.id == Household.village_id)
        .where(
            Household.commune_id == commune_id,
            HouseholdYearStatus.year == year - 1,
            HouseholdYearStatus.status.in_(LAST_YEAR),
            ~has_result,
        )
        .order_by(Village.code, Household.code)
    )


def missing_households(
    review: ReviewRound, village: Village | None = None
) -> list[MissingHousehold]:
    """The round's missing households (of one village when given), by village and code, each
    with its recorded reason (or None)."""
    if review.kind != "dinh_ky":
        return []
    query = _missing_query(review.commune_id, review.year)
    if village is not None:
        query = query.where(Household.village_id == village.id)
    rows = db.session.execute(query).tuples().all()
    reasons = reasons_of(review)
    return [
        MissingHousehold(household, HouseholdStatus(status).value, reasons.get(household.id))
        for household, status in rows
    ]


def reasons_of(review: ReviewRound) -> dict[int, MissingHouseholdReason]:
    """household id → its recorded reason in the round (kept after it got a result)."""
    return {
        r.household_id: r
        for r in db.session.scalars(
            select(MissingHouseholdReason).where(MissingHouseholdReason.round_id == review.id)
        )
    }


def unexplained(review: ReviewRound) -> list[MissingHousehold]:
    """The missing households without a reason: what stops the decision."""
    return [m for m in missing_households(review) if m.reason is None]


def _invalid(message_vi: str, message_en: str, field: str) -> AppError:
    return AppError("missing.invalid", 400, message_vi, message_en, {field: [message_vi]})


def record_reason(
    actor: User, review: ReviewRound, household_id: int, reason: str, note: str | None
) -> MissingHouseholdReason:
    """Record (or change) why a missing household has no result this year.

    The round is the caller's (:func:`server.meetings.services.round_for`); the household must
    be one of its missing households in a village of the actor's.

    :raises AppError: ``missing.forbidden`` (403) for a village head; ``missing.not_found``
        (404) for a household that is not missing in the actor's villages of the round;
        ``missing.decided`` (409) once the round has its decision; ``missing.invalid`` (400)
        for a reason not in the list, a missing required note or a note over 500 characters.
    """
    if actor.role not in STAFF_ROLES:
        raise AppError(
            "missing.forbidden",
            403,
            "Chỉ cán bộ xã hoặc quản trị viên tỉnh được ghi lý do.",
            "Only commune officers and province administrators record reasons.",
        )
    found = next((m for m in missing_households(review) if m.household.id == household_id), None)
    in_scope = found is not None and db.session.scalar(
        select(Village.id).where(Village.id == found.household.village_id, village_scope(actor))
    )
    if not in_scope:
        raise AppError(
            "missing.not_found",
            404,
            "Không tìm thấy hộ trong danh sách hộ chưa có kết quả của đợt rà soát.",
            "Household not found among the round's households without a result.",
        )
    if review.state == "decided":
        raise AppError(
            "missing.decided",
            409,
            "Đợt rà soát đã có quyết định: không sửa được lý do nữa.",
            "The review is decided: the reasons can no longer be changed.",
        )
    if reason not in MISSING_REASONS:
        raise _invalid(
            "Lý do không hợp lệ: hãy chọn một lý do trong danh sách.",
            "Invalid reason: pick one from the list.",
            "reason",
        )
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise _invalid(
            f"Ghi chú dài quá {NOTE_MAX} ký tự ({len(note)} ký tự).",
            f"The note is longer than {NOTE_MAX} characters.",
            "note",
        )
    if reason in NOTE_REQUIRED and note is None:
        raise _invalid(
            f"Lý do “{MISSING_REASONS[reason]}” cần ghi chú cụ thể.",
            "This reason needs a note.",
            "note",
        )
    row = found.reason
    before = {"reason": row.reason, "note": row.note} if row else None
    if row is None:
        row = MissingHouseholdReason(round_id=review.id, household_id=household_id, reason=reason)
        db.session.add(row)
    row.reason, row.note = reason, note
    row.recorded_by_id, row.recorded_at = actor.id, utcnow()
    db.session.flush()
    record(
        "missing.reason",
        "household",
        found.household.code,
        commune_id=review.commune_id,
        before=before,
        after={"round": review.id, "reason": reason, "note": note},
        actor_id=actor.id,
    )
    return row


def reason_counts(commune_ids: list[int], year: int) -> dict[int, Counter]:
    """commune id → reason (or :data:`NO_REASON`) → number of the year's missing households,
    with the reasons of the commune's annual review of the year (none yet: all without)."""
    rounds = {
        r.commune_id: r
        for r in db.session.scalars(
            select(ReviewRound).where(
                ReviewRound.commune_id.in_(commune_ids),
                ReviewRound.year == year,
                ReviewRound.kind == "dinh_ky",
            )
        )
    }
    out: dict[int, Counter] = {}
    for commune_id in commune_ids:
        review = rounds.get(commune_id)
        reasons = reasons_of(review) if review else {}
        out[commune_id] = Counter(
            reasons[h.id].reason if h.id in reasons else NO_REASON
            for h in db.session.scalars(_missing_query(commune_id, year))
        )
    return out
