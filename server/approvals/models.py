"""A province's approval rule and the communes' requests for its opinion."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.accounts.models import User
from server.db import Base, utcnow
from server.geography.models import Province
from server.meetings.models import ReviewRound


class ApprovalRule(Base):
    """How a province's communes reach their decision (absent: the commune decides alone)."""

    __tablename__ = "approval_rules"

    province_id: Mapped[int] = mapped_column(ForeignKey("provinces.id"), primary_key=True)
    # The commune must have the province's agreement before its chair signs the decision.
    needs_province_opinion: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    province: Mapped[Province] = relationship()


class Consultation(Base):
    """A commune's request for the province's opinion on one round's results (one per round;
    asking again after a revision reopens it — the audit log keeps each answer)."""

    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id"), unique=True)
    state: Mapped[str] = mapped_column(String(20))  # pending / agreed / revise
    request_note: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column()
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    round: Mapped[ReviewRound] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])
