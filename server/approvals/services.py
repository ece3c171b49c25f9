"""The province's approval rule, and a commune asking for (and getting) the province's opinion.
Services flush; callers commit; every change is in the audit log."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from server.accounts.models import Role, User
from server.accounts.ownership import may_manage
from server.approvals.models import ApprovalRule, Consultation
from server.audit.services import record
from server.db import utcnow
from server.errors import AppError
from server.extensions import db
from server.geography.models import Commune, Province
from server.meetings.models import HouseholdCase, ReviewRound
from server.submissions.scope import commune_scope

OPINIONS = ("agreed", "revise")


def needs_province_opinion(province_id: int) -> bool:
    rule = db.session.get(ApprovalRule, province_id)
    return bool(rule and rule.needs_province_opinion)


def set_rule(actor: User, province: Province, needs_province_opinion: bool) -> ApprovalRule:
    """A province administrator chooses whether their communes need the province's opinion."""
    if not may_manage(actor, province.id):  # a province's rule is its own administrators'
        raise AppError("province.not_found", 404, "Không tìm thấy tỉnh.", "Province not found.")
    rule = db.session.get(ApprovalRule, province.id)
    before = rule.needs_province_opinion if rule else False
    if rule is None:
        rule = ApprovalRule(province_id=province.id)
        db.session.add(rule)
    rule.needs_province_opinion = needs_province_opinion
    rule.updated_at, rule.updated_by_id = utcnow(), actor.id
    db.session.flush()
    record(
        "province.approval_rule",
        "province",
        province.code,
        before={"needs_province_opinion": before},
        after={"needs_province_opinion": needs_province_opinion},
        actor_id=actor.id,
        province_id=province.id,
    )
    return rule


def consultation_of(review: ReviewRound) -> Consultation | None:
    return db.session.scalar(select(Consultation).where(Consultation.round_id == review.id))


def opinion_problem(review: ReviewRound) -> str | None:
    """Why the chair may not sign yet because of the province, or None."""
    if not needs_province_opinion(review.commune.province_id):
        return None
    found = consultation_of(review)
    if found is None:
        return "Tỉnh yêu cầu xin ý kiến trước khi ra quyết định: chưa gửi xin ý kiến."
    if found.state == "pending":
        return "Đang chờ ý kiến của tỉnh."
    if found.state == "revise":
        return f"Tỉnh đề nghị xem lại: {found.comment or ''}".strip()
    return None


def request_opinion(actor: User, review: ReviewRound, note: str) -> Consultation:
    """The commune sends the round's results to the province for its opinion (again, after a
    revision was asked for)."""
    if actor.role not in (Role.OFFICER, Role.ADMIN):
        raise _not_found()
    if not needs_province_opinion(review.commune.province_id):
        raise AppError(
            "consultation.not_needed",
            409,
            "Tỉnh không yêu cầu xin ý kiến trước khi ra quyết định.",
            "The province does not ask to be consulted.",
        )
    if review.state == "decided":
        raise AppError(
            "consultation.decided", 409, "Đợt rà soát đã có quyết định.", "Already decided."
        )
    found = consultation_of(review)
    if found is not None and found.state in ("pending", "agreed"):
        raise AppError(
            "consultation.exists",
            409,
            "Đã gửi xin ý kiến; đang chờ tỉnh."
            if found.state == "pending"
            else "Tỉnh đã đồng ý; có thể ra quyết định.",
            "Already requested.",
        )
    before = found.state if found else None
    if found is None:
        found = Consultation(round_id=review.id)
        db.session.add(found)
    found.state, found.request_note = "pending", note.strip()
    found.requested_at, found.requested_by_id = utcnow(), actor.id
    found.comment = found.answered_at = found.answered_by_id = None
    db.session.flush()
    record(
        "consultation.request",
        "consultation",
        found.id,
        commune_id=review.commune_id,
        before={"state": before},
        after={"state": "pending"},
        note=found.request_note or None,
        actor_id=actor.id,
    )
    return found


def answer(actor: User, consultation: Consultation, opinion: str, comment: str) -> None:
    """The province agrees, or asks the commune to revise (a comment is then required)."""
    if opinion not in OPINIONS:
        raise AppError("consultation.invalid", 400, "Chọn ý kiến.", "Choose an opinion.")
    if opinion == "revise" and not comment.strip():
        raise AppError(
            "consultation.invalid",
            400,
            "Cần ghi rõ nội dung đề nghị xã xem lại.",
            "Say what the commune should revise.",
        )
    if consultation.state != "pending":
        raise AppError(
            "consultation.answered",
            409,
            "Yêu cầu này đã được trả lời.",
            "This request was already answered.",
        )
    consultation.state, consultation.comment = opinion, comment.strip() or None
    consultation.answered_at, consultation.answered_by_id = utcnow(), actor.id
    db.session.flush()
    record(
        "consultation.answer",
        "consultation",
        consultation.id,
        commune_id=consultation.round.commune_id,
        before={"state": "pending"},
        after={"state": opinion},
        note=consultation.comment,
        actor_id=actor.id,
    )


def _not_found() -> AppError:
    return AppError("consultation.not_found", 404, "Không tìm thấy yêu cầu.", "Request not found.")


def consultation_for(actor: User, consultation_id: int) -> Consultation:
    """A consultation of a commune in the administrator's province; 404 otherwise."""
    found = db.session.scalar(
        select(Consultation)
        .join(ReviewRound, ReviewRound.id == Consultation.round_id)
        .join(Commune, Commune.id == ReviewRound.commune_id)
        .where(Consultation.id == consultation_id, commune_scope(actor))
    )
    if found is None or actor.role != Role.ADMIN:
        raise _not_found()
    return found


def consultations_for(actor: User) -> list[Consultation]:
    """The administrator's province's requests, those waiting first, newest first."""
    rows = db.session.scalars(
        select(Consultation)
        .join(ReviewRound, ReviewRound.id == Consultation.round_id)
        .join(Commune, Commune.id == ReviewRound.commune_id)
        .where(commune_scope(actor))
        .order_by(Consultation.requested_at.desc(), Consultation.id.desc())
    ).all()
    return sorted(rows, key=lambda c: c.state != "pending")


def proposed_counts(review: ReviewRound) -> Counter:
    """Households per proposed category in the round (what the province is asked about)."""
    return Counter(
        db.session.scalars(
            select(HouseholdCase.proposed_category).where(HouseholdCase.round_id == review.id)
        )
    )
