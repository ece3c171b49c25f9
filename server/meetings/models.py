"""Review rounds, household cases, village meetings and their votes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, utcnow
from server.geography.models import Commune, Village


class ReviewRound(Base):
    """One review of one commune: the periodic (annual) review or a monthly in-year one."""

    __tablename__ = "review_rounds"
    __table_args__ = (UniqueConstraint("commune_id", "year", "kind", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"), index=True)
    year: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(String(20))  # dinh_ky (annual) / thuong_xuyen (monthly)
    month: Mapped[int] = mapped_column(default=0)  # 0 for the annual review
    started_on: Mapped[date] = mapped_column(Date)
    # Monthly review: decision and certificates due within 15 days of the start (Điều 5).
    deadline: Mapped[date | None] = mapped_column(Date)
    # Posting and complaint periods (3 working days each is inferred, not verified: configurable).
    posting_days: Mapped[int] = mapped_column(default=3)
    complaint_days: Mapped[int] = mapped_column(default=3)
    state: Mapped[str] = mapped_column(String(20), default="open")  # open / decided
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    commune: Mapped[Commune] = relationship()


class HouseholdCase(Base):
    """One household in one round, from its score to the decision.  ``stage`` says where it
    is; every change of stage is in the audit log."""

    __tablename__ = "household_cases"
    __table_args__ = (UniqueConstraint("round_id", "submission_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id"), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    household_code: Mapped[str | None] = mapped_column(String(50))
    head_name: Mapped[str] = mapped_column(String(200))
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    score_id: Mapped[int] = mapped_column(ForeignKey("household_scores.id"))
    previous_status: Mapped[str] = mapped_column(String(20))  # last recognised status, or moi
    proposed_category: Mapped[str] = mapped_column(String(40))
    transition: Mapped[str | None] = mapped_column(String(40))
    list_type: Mapped[str] = mapped_column(String(30), index=True)
    # listed → meeting_passed | resurvey (→ listed again with the new score) → … → decided
    stage: Mapped[str] = mapped_column(String(30), default="listed", index=True)
    final_category: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    round: Mapped[ReviewRound] = relationship()
    village: Mapped[Village] = relationship()


class VillageMeeting(Base):
    """The village meeting (họp dân) that confirms the results of the village's listed
    households."""

    __tablename__ = "village_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id"), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"))
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(300))
    chair: Mapped[str] = mapped_column(String(200))
    secretary: Mapped[str] = mapped_column(String(200))
    attendees: Mapped[int] = mapped_column()
    fatherland_front_present: Mapped[bool] = mapped_column(Boolean)
    fatherland_front_representative: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    round: Mapped[ReviewRound] = relationship()
    village: Mapped[Village] = relationship()
    votes: Mapped[list[MeetingVote]] = relationship(
        back_populates="meeting", order_by="MeetingVote.id"
    )


class MeetingVote(Base):
    """How many attendees agreed with one household's result; passed ⇔ agree ≥ 50 %."""

    __tablename__ = "meeting_votes"
    __table_args__ = (UniqueConstraint("meeting_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("village_meetings.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("household_cases.id"), index=True)
    agree: Mapped[int] = mapped_column()
    passed: Mapped[bool] = mapped_column(Boolean)

    meeting: Mapped[VillageMeeting] = relationship(back_populates="votes")
    case: Mapped[HouseholdCase] = relationship()


class MissingHouseholdReason(Base):
    """Why a household of last year's poor / near-poor lists has no result in the round's year
    (:mod:`server.meetings.missing`): recorded by commune staff before the decision."""

    __tablename__ = "missing_household_reasons"
    __table_args__ = (UniqueConstraint("round_id", "household_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    # moved / merged_split / died_out / not_reviewed / other (MISSING_REASONS)
    reason: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
