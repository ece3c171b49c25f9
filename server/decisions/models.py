"""Decisions, certificates and refusals."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, utcnow
from server.meetings.models import HouseholdCase, ReviewRound


class Decision(Base):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id"), unique=True)
    number: Mapped[str] = mapped_column(String(50))  # e.g. 125/QĐ-UBND
    signed_on: Mapped[date] = mapped_column(Date)
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    round: Mapped[ReviewRound] = relationship()
    certificates: Mapped[list[Certificate]] = relationship(
        back_populates="decision", order_by="Certificate.sequence"
    )


class Certificate(Base):
    """Giấy chứng nhận hộ nghèo, hộ cận nghèo for one household of a decision."""

    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("decision_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("household_cases.id"))
    sequence: Mapped[int] = mapped_column()
    number: Mapped[str] = mapped_column(String(50))  # "<sequence>/GCN-HN.HCN"
    category: Mapped[str] = mapped_column(String(40))

    decision: Mapped[Decision] = relationship(back_populates="certificates")
    case: Mapped[HouseholdCase] = relationship()


class Refusal(Base):
    """Monthly review: the household does not qualify; the chair answers in writing with the
    reason."""

    __tablename__ = "refusals"
    __table_args__ = (UniqueConstraint("case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("household_cases.id"))
    reason: Mapped[str] = mapped_column(Text)
    answered_on: Mapped[date] = mapped_column(Date)
    signer_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    round: Mapped[ReviewRound] = relationship()
    case: Mapped[HouseholdCase] = relationship()
