"""Signing the decision, issuing certificates, refusing in writing.  Services flush; callers
commit; every change is in the audit log."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from server.accounts.models import User
from server.approvals.services import opinion_problem
from server.audit.services import record
from server.db import utcnow
from server.decisions.models import Certificate, Decision, Refusal
from server.errors import AppError
from server.extensions import db
from server.households.models import Household, HouseholdStatus, HouseholdYearStatus
from server.meetings.missing import unexplained
from server.meetings.models import HouseholdCase, ReviewRound
from server.meetings.services import review_states
from server.meetings.settings import held_back
from server.publication.models import Complaint, Posting

CERTIFIED = ("ngheo", "can_ngheo")
# Stages that must be finished before the chair can decide, with what is missing.
BLOCKING_VI = {
    "listed": "chưa họp dân",
    "resurvey": "đang rà soát lại",
    "meeting_passed": "chưa niêm yết",
    "complaint": "có khiếu nại chưa phúc tra",
    "changed": "kết quả thay đổi sau phúc tra chưa niêm yết lại",
}
NOT_VOTED = ("khong_thuoc_dien", "chua_du_ket_qua")
# A household the commune's rule kept out of the meeting (its result not approved yet).
HELD_BACK_WHY_VI = "kết quả chưa được duyệt nên chưa đưa ra họp dân (xã chỉ đưa hộ đã duyệt)"


def recognised_status(previous: str, category: str) -> HouseholdStatus:
    """The status recorded for the year: poor / near-poor, escaped, or neither."""
    if category in CERTIFIED:
        return HouseholdStatus(category)
    if previous == "ngheo":
        return HouseholdStatus.ESCAPED_POVERTY
    if previous == "can_ngheo":
        return HouseholdStatus.ESCAPED_NEAR_POVERTY
    return HouseholdStatus.NONE


def decision_of(review: ReviewRound) -> Decision | None:
    return db.session.scalar(select(Decision).where(Decision.round_id == review.id))


@dataclass
class Readiness:
    blocking: list[tuple[HouseholdCase, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    left_out: list[HouseholdCase] = field(default_factory=list)  # no verdict: not decided

    @property
    def ready(self) -> bool:
        return not self.blocking and not self.problems


def readiness(review: ReviewRound, signed_on: date | None = None) -> Readiness:
    """What still stands between the round and the chair's decision."""
    out = Readiness()
    if review.state == "decided":
        out.problems.append("Đợt rà soát đã có quyết định.")
        return out
    postings = db.session.scalars(select(Posting).where(Posting.round_id == review.id)).all()
    if not postings:
        out.problems.append("Chưa niêm yết công khai kết quả.")
    elif signed_on is not None and signed_on < max(p.ends_on for p in postings):
        out.problems.append(
            f"Chưa hết thời gian niêm yết (đến ngày {max(p.ends_on for p in postings):%d/%m/%Y})."
        )
    open_complaints = db.session.scalar(
        select(Complaint.id).where(Complaint.round_id == review.id, Complaint.outcome.is_(None))
    )
    if open_complaints:
        out.problems.append("Còn khiếu nại chưa phúc tra.")
    province_says = opinion_problem(review)
    if province_says:
        out.problems.append(province_says)
    forgotten = unexplained(review)
    if forgotten:
        out.problems.append(
            f"{len(forgotten)} hộ nghèo/cận nghèo năm {review.year - 1} chưa có kết quả năm "
            f"{review.year} và chưa ghi lý do (ghi lý do ở trang đợt rà soát): "
            + "; ".join(f"{m.household.code} {m.household.head_name}" for m in forgotten)
            + "."
        )
    cases = db.session.scalars(
        select(HouseholdCase)
        .where(HouseholdCase.round_id == review.id)
        .order_by(HouseholdCase.household_code)
    ).all()
    approved_only = bool(review.commune.meeting_lists_approved_only)
    states = review_states(c.submission_id for c in cases)
    for case in cases:
        if case.list_type == "chua_du_ket_qua":
            out.left_out.append(case)
        elif held_back(approved_only, case.stage, states.get(case.submission_id)):
            out.blocking.append((case, HELD_BACK_WHY_VI))
        elif case.list_type == "khong_thuoc_dien" and case.stage == "listed":
            continue  # unchanged "neither": recorded without a vote
        elif case.stage in BLOCKING_VI:
            out.blocking.append((case, BLOCKING_VI[case.stage]))
    return out


def _refused(message_vi: str, problems: list[str]) -> AppError:
    return AppError(
        "decision.not_ready",
        409,
        message_vi + " " + " ".join(problems),
        "The review is not ready for the decision.",
        {"problems": problems},
    )


def sign_decision(
    actor: User,
    review: ReviewRound,
    number: str,
    signed_on: date,
    signer_name: str,
    signer_title: str,
) -> Decision:
    """Record the chair's decision: every decided household gets its final category and its
    status for the year, and poor / near-poor households a numbered certificate."""
    if not (number or "").strip() or not (signer_name or "").strip():
        raise AppError(
            "decision.invalid",
            400,
            "Cần ghi số quyết định và người ký.",
            "The decision number and signer are required.",
        )
    check = readiness(review, signed_on)
    if not check.ready:
        problems = check.problems + [
            f"{c.household_code or c.head_name}: {why}" for c, why in check.blocking
        ]
        raise _refused("Chưa thể ra quyết định:", problems)
    decision = Decision(
        round_id=review.id,
        number=number.strip(),
        signed_on=signed_on,
        signer_name=signer_name.strip(),
        signer_title=(signer_title or "").strip() or "Chủ tịch UBND xã",
        created_by_id=actor.id,
    )
    db.session.add(decision)
    db.session.flush()
    left_out = {c.id for c in check.left_out}
    cases = db.session.scalars(
        select(HouseholdCase)
        .where(HouseholdCase.round_id == review.id, HouseholdCase.stage != "refused")
        .order_by(HouseholdCase.village_id, HouseholdCase.household_code, HouseholdCase.id)
    ).all()
    sequence = 0
    for case in cases:
        if case.id in left_out:
            continue
        case.final_category, case.stage, case.updated_at = (
            case.proposed_category,
            "decided",
            utcnow(),
        )
        if case.household_id is not None:
            _set_status(case, review.year)
        if case.final_category in CERTIFIED:
            sequence += 1
            db.session.add(
                Certificate(
                    decision_id=decision.id,
                    case_id=case.id,
                    sequence=sequence,
                    number=f"{sequence}/GCN-HN.HCN",
                    category=case.final_category,
                )
            )
    review.state = "decided"
    db.session.flush()
    record(
        "decision.sign",
        "decision",
        decision.id,
        commune_id=review.commune_id,
        after={
            "number": decision.number,
            "signed_on": signed_on,
            "households": len(cases) - len(left_out),
            "certificates": sequence,
            "left_out": sorted(left_out),
        },
        actor_id=actor.id,
    )
    return decision


def _set_status(case: HouseholdCase, year: int) -> None:
    status = recognised_status(case.previous_status, case.final_category or "")
    row = db.session.scalar(
        select(HouseholdYearStatus).where(
            HouseholdYearStatus.household_id == case.household_id,
            HouseholdYearStatus.year == year,
        )
    )
    if row is None:
        db.session.add(
            HouseholdYearStatus(household_id=case.household_id, year=year, status=status)
        )
    else:
        row.status = status
    household = db.session.get(Household, case.household_id)
    household.updated_at = utcnow()


def refuse(
    actor: User,
    review: ReviewRound,
    case: HouseholdCase,
    reason: str,
    answered_on: date,
    signer_name: str,
) -> Refusal:
    """Monthly review: answer a household that does not qualify, in writing, with the reason."""
    errors = []
    if review.kind != "thuong_xuyen":
        errors.append("Chỉ trả lời từ chối bằng văn bản trong rà soát thường xuyên.")
    if case.stage in ("decided", "refused"):
        errors.append("Hộ này đã có kết quả.")
    if not (reason or "").strip():
        errors.append("Cần ghi rõ lý do.")
    if not (signer_name or "").strip():
        errors.append("Cần ghi người ký.")
    if errors:
        raise AppError(
            "refusal.invalid", 400, " ".join(errors), "Invalid refusal.", {"problems": errors}
        )
    refusal = Refusal(
        round_id=review.id,
        case_id=case.id,
        reason=reason.strip(),
        answered_on=answered_on,
        signer_name=signer_name.strip(),
        created_by_id=actor.id,
    )
    db.session.add(refusal)
    before = case.stage
    case.stage, case.updated_at = "refused", utcnow()
    db.session.flush()
    record(
        "refusal.answer",
        "household_case",
        case.id,
        commune_id=review.commune_id,
        before={"stage": before},
        after={"stage": "refused"},
        note=refusal.reason,
        actor_id=actor.id,
    )
    return refusal


def refusal_of(review: ReviewRound, refusal_id: int) -> Refusal:
    found = db.session.scalar(
        select(Refusal).where(Refusal.id == refusal_id, Refusal.round_id == review.id)
    )
    if found is None:
        raise AppError("refusal.not_found", 404, "Không tìm thấy văn bản.", "Not found.")
    return found


def days_left(review: ReviewRound, today: date) -> int | None:
    """Days until the monthly review's deadline (negative: overdue)."""
    return None if review.deadline is None else (review.deadline - today).days
