"""Scoring results (with their history) and the queue that produces them after ingest."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, utcnow
from server.submissions.models import Submission, SubmissionVersion


class ScoringJob(Base):
    """Written in the ingest transaction; processed after the phone has its answer."""

    __tablename__ = "scoring_jobs"
    __table_args__ = (Index("ix_scoring_jobs_state_id", "state", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_version_id: Mapped[int] = mapped_column(ForeignKey("submission_versions.id"))
    reason: Mapped[str] = mapped_column(String(50), default="ingest")  # ingest, rescore
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending, done, failed,
    # skipped (the form has no scoring mapping)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column()

    version: Mapped[SubmissionVersion] = relationship()


class HouseholdScore(Base):
    """One scoring of one submission version; ``current`` marks the latest of a submission."""

    __tablename__ = "household_scores"
    __table_args__ = (Index("ix_household_scores_submission_current", "submission_id", "current"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    submission_version_id: Mapped[int] = mapped_column(ForeignKey("submission_versions.id"))
    household_code: Mapped[str | None] = mapped_column(String(50), index=True)
    standard: Mapped[str] = mapped_column(String(20))
    table_code: Mapped[str | None] = mapped_column(String(100))
    table_version: Mapped[str | None] = mapped_column(String(50))
    mapping: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40), index=True)
    # Against the household's recorded history (server.scoring.transitions); None when the
    # household is not in the registry.
    transition: Mapped[str | None] = mapped_column(String(40))
    score_a: Mapped[float | None] = mapped_column()
    score_b: Mapped[int] = mapped_column()
    deprivations: Mapped[int] = mapped_column()
    undetermined: Mapped[int] = mapped_column()
    provisional: Mapped[bool] = mapped_column(Boolean)
    # The full result (indicators, reasons, B1 lines, explanation) and its inputs.
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    inputs_sha256: Mapped[str] = mapped_column(String(64))
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship()
