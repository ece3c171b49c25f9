"""A province's own wording of the notice read to each household before the questionnaire
(:mod:`server.privacy.notice`; a province without one uses rasoat's default) and the
corrections made at a household's request (:mod:`server.privacy.household`)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.accounts.models import User
from server.db import Base, utcnow


class PrivacyNotice(Base):
    __tablename__ = "privacy_notices"

    province_id: Mapped[int] = mapped_column(ForeignKey("provinces.id"), primary_key=True)
    text_vi: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class HouseholdCorrection(Base):
    """A correction made at the household's request (its right to have its data corrected):
    what the household asked, what the commune changed, who recorded it and when.  The change
    itself is made where the data lives (the registry, a re-survey); this is its record."""

    __tablename__ = "household_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    requested_on: Mapped[date] = mapped_column()
    requested_by: Mapped[str] = mapped_column(String(200))
    request: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    recorded_by: Mapped[User | None] = relationship()
