"""Scoring results (with their history), the queue that produces them after ingest, and the
B1 point tables as uploaded data with each commune's choice of table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, utcnow
from server.geography.models import Commune
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
    __table_args__ = (
        Index("ix_household_scores_submission_current", "submission_id", "current"),
        # A household's score of a year, by code (also serves the code alone).
        Index("ix_household_scores_code_year", "household_code", "year"),
        # Filters and counts by the deciding method and by a B1/income disagreement.
        Index("ix_household_scores_method_current", "method", "current"),
        Index("ix_household_scores_disagree_current", "methods_disagree", "current"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    submission_version_id: Mapped[int] = mapped_column(ForeignKey("submission_versions.id"))
    household_code: Mapped[str | None] = mapped_column(String(50))
    standard: Mapped[str] = mapped_column(String(20))
    # The review year (from the questionnaire's review date, else when it was received).
    year: Mapped[int] = mapped_column(index=True)
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
    # The method that decided ("b1": score A against the cut-off; "income": measured income
    # against the line; None: neither could, or a result stored before the method was kept).
    method: Mapped[str | None] = mapped_column(String(10))
    # Both methods present and on different sides of the line: the village meeting looks at it.
    methods_disagree: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # The full result (indicators, reasons, B1 lines, explanation) and its inputs.
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    inputs_sha256: Mapped[str] = mapped_column(String(64))
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship()


class B1Table(Base):
    """One version of a B1 point table: uploaded (XLSX or YAML) or shipped in
    ``forms/b1_tables``.  ``content`` is the validated table (``server.scoring.b1``); a version
    never changes once stored, a correction is a new version of the same code."""

    __tablename__ = "b1_tables"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(50))
    standard: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(50))  # "*": every income region
    area_type: Mapped[str] = mapped_column(String(10))  # rural, urban
    status: Mapped[str] = mapped_column(String(20))  # official, provisional, demo
    label_vi: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    origin: Mapped[str] = mapped_column(String(10))  # shipped, upload
    filename: Mapped[str | None] = mapped_column(String(255))
    # SHA-256 of the canonical JSON of ``content``: the same table from XLSX or YAML is equal.
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The province that owns the table's code (None: national — the shipped tables); every
    # version of a code has the same owner (:mod:`server.accounts.ownership`).
    province_id: Mapped[int | None] = mapped_column(ForeignKey("provinces.id"), index=True)


class CommuneB1Table(Base):
    """The table (by code: its newest version applies) a commune uses for one standard and
    area type; no row: B1 is not assessed there."""

    __tablename__ = "commune_b1_tables"
    __table_args__ = (UniqueConstraint("commune_id", "standard", "area_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"))
    standard: Mapped[str] = mapped_column(String(20))
    area_type: Mapped[str] = mapped_column(String(10))
    table_code: Mapped[str] = mapped_column(String(100), index=True)

    commune: Mapped[Commune] = relationship()
