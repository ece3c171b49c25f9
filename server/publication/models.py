"""Postings (first, and of the changes after re-checks) and complaints."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, utcnow
from server.meetings.models import HouseholdCase, ReviewRound


class Posting(Base):
    __tablename__ = "postings"
    __table_args__ = (UniqueConstraint("round_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id"), index=True)
    number: Mapped[int] = mapped_column()  # 1: the results; 2, 3…: changes after re-checks
    places: Mapped[str] = mapped_column(Text)  # one place per line
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    round: Mapped[ReviewRound] = relationship()
    items: Mapped[list[PostingItem]] = relationship(
        back_populates="posting", order_by="PostingItem.id"
    )


class PostingItem(Base):
    """A household as it was posted (the category shown to the public)."""

    __tablename__ = "posting_items"
    __table_args__ = (UniqueConstraint("posting_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    posting_id: Mapped[int] = mapped_column(ForeignKey("postings.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("household_cases.id"), index=True)
    category: Mapped[str] = mapped_column(String(40))

    posting: Mapped[Posting] = relationship(back_populates="items")
    case: Mapped[HouseholdCase] = relationship()


class Complaint(Base):
    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("household_cases.id"), index=True)
    received_on: Mapped[date] = mapped_column(Date)
    complainant: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    recheck_due: Mapped[date] = mapped_column(Date)
    # The re-check (phúc tra): None until done.
    rechecked_on: Mapped[date | None] = mapped_column(Date)
    rechecked_by: Mapped[str | None] = mapped_column(String(200))
    recheck_result: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(20))  # giu_nguyen / thay_doi
    new_category: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    case: Mapped[HouseholdCase] = relationship()
