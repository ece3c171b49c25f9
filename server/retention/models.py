"""Retention rules, legal holds and the record of what was purged.

* ``retention_rules``: months after the round's decision per kind of data; the rows with no
  province are rasoat's provisional defaults (seeded by the migration), a province's own rows
  replace them for its communes.
* ``retention_holds``: a household (by commune and code) or a whole round that must not be purged
  (a legal hold), until cleared.
* ``retention_purges``: one row per submission and kind once that kind is gone; the purge is
  idempotent because it skips what is recorded here, and pages read it to say what was deleted.
* ``retention_pending_files``: blob files a committed purge no longer references, deleted from
  disk after the commit (a re-run deletes what a crash left).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.accounts.models import User
from server.db import Base, utcnow
from server.geography.models import Commune
from server.meetings.models import ReviewRound


class RetentionRule(Base):
    __tablename__ = "retention_rules"
    __table_args__ = (UniqueConstraint("province_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: rasoat's default for every province without its own rule.
    province_id: Mapped[int | None] = mapped_column(ForeignKey("provinces.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    # Months after the round's decision; None: kept (never purged automatically).
    months: Mapped[int | None] = mapped_column()
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class RetentionHold(Base):
    __tablename__ = "retention_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"), index=True)
    # Exactly one of the two: the whole round, or one household of the commune (every round).
    round_id: Mapped[int | None] = mapped_column(ForeignKey("review_rounds.id"))
    household_code: Mapped[str | None] = mapped_column(String(50))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cleared_at: Mapped[datetime | None] = mapped_column()
    cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    commune: Mapped[Commune] = relationship()
    round: Mapped[ReviewRound | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])


class RetentionPurge(Base):
    __tablename__ = "retention_purges"
    __table_args__ = (UniqueConstraint("submission_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("review_rounds.id"))
    purged_at: Mapped[datetime] = mapped_column(default=utcnow)


class RetentionPendingFile(Base):
    __tablename__ = "retention_pending_files"
    __table_args__ = (Index("ix_retention_pending_files_sha256", "sha256", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
