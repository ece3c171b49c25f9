"""One row per look at a household's personal data (Law 91/2025: every view and export of
sensitive data is recorded and reviewable by the province).

A look at one household is one row; a list, PDF, XLSX or export is one row per household it
carried, each naming the list (``ref``) and how many households it held (``count``), so that
"who has seen household X" finds the exports too.  The who (username, role) and where (commune,
province) are copied at the time of the look: renaming an account or moving it to another
commune does not rewrite history.

Household and submission ids carry no foreign key on purpose: the record outlives the data it
names (a retention purge deletes submissions, never the log of who read them), and one
missing row must never make a batch of records fail.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, utcnow


class AccessRecord(Base):
    __tablename__ = "access_records"
    __table_args__ = (
        Index("ix_access_records_province_at", "province_id", "at"),
        Index("ix_access_records_commune_at", "commune_id", "at"),
        Index("ix_access_records_user_day", "user_id", "day"),
        Index("ix_access_records_household", "household_id"),
        Index("ix_access_records_household_code", "household_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # When, in naive UTC (server.db.utcnow), and the day it was in Vietnam (for "per day" counts).
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    day: Mapped[date] = mapped_column(Date)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(20))
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("communes.id"))
    province_id: Mapped[int | None] = mapped_column(ForeignKey("provinces.id"))
    # What kind of data was seen: answers, photo, score, history, list, pdf, xlsx, api, …
    kind: Mapped[str] = mapped_column(String(30))
    household_id: Mapped[int | None] = mapped_column()
    household_code: Mapped[str | None] = mapped_column(String(50))
    submission_id: Mapped[int | None] = mapped_column()
    # The list or file it came in, e.g. "round 3, village T01", "export 12", "file a.jpg".
    ref: Mapped[str | None] = mapped_column(String(200))
    # How many households the look carried (1 for one household's page).
    count: Mapped[int] = mapped_column(default=1)
    endpoint: Mapped[str | None] = mapped_column(String(100))
