"""What Phiếu A and the income survey say about a household, kept to complete its Phiếu B.

A household is reviewed with several questionnaires, often on different days: Phiếu A (quick
identification) first, then Phiếu B, and for farming households near the line the
average-living-standard income survey.  Each Phiếu A / income submission is recorded here as
*evidence* under the household code, commune and review year; scoring a Phiếu B looks its
household's evidence up (``evidence_for``), and new evidence re-scores the household's Phiếu B
(``server.scoring.services``), so the order in which the forms arrive does not matter.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, utcnow
from server.extensions import db
from server.i18n import vietnam_date
from server.scoring.facts import HouseholdFacts, MeasuredIncome
from server.scoring.mapping import EvidenceMapping
from server.submissions.models import SubmissionVersion

KIND_VI = {"screening": "Phiếu A", "income": "Phiếu khảo sát thu nhập (mức sống trung bình)"}


class HouseholdEvidence(Base):
    """The current reading of one Phiếu A or income-survey submission (one row per
    submission, updated when Collect sends an edit)."""

    __tablename__ = "household_evidence"
    __table_args__ = (
        Index("ix_household_evidence_lookup", "commune_id", "household_code", "year", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), unique=True)
    submission_version_id: Mapped[int] = mapped_column(ForeignKey("submission_versions.id"))
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"))
    household_code: Mapped[str | None] = mapped_column(String(50))
    year: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(String(20))  # screening / income
    review_date: Mapped[date | None] = mapped_column()
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


def record_evidence(version: SubmissionVersion, mapping: EvidenceMapping) -> HouseholdEvidence:
    """Read ``version`` with its mapping and store (or update) the submission's evidence."""
    submission = version.submission
    read = mapping.apply(version.fields)
    year = (read.review_date or vietnam_date(version.created_at)).year
    row = db.session.scalar(
        select(HouseholdEvidence).where(HouseholdEvidence.submission_id == submission.id)
    )
    if row is None:
        row = HouseholdEvidence(submission_id=submission.id)
        db.session.add(row)
    row.submission_version_id = version.id
    row.commune_id = submission.commune_id
    row.household_code = read.household_code
    row.year, row.kind, row.review_date, row.data = year, read.kind, read.review_date, read.data
    row.updated_at = utcnow()
    db.session.flush()
    return row


def evidence_for(commune_id: int, household_code: str, year: int) -> dict[str, HouseholdEvidence]:
    """The latest evidence of each kind for one household and review year (latest by review
    date, then by arrival)."""
    rows = db.session.scalars(
        select(HouseholdEvidence)
        .where(
            HouseholdEvidence.commune_id == commune_id,
            HouseholdEvidence.household_code == household_code,
            HouseholdEvidence.year == year,
        )
        .order_by(HouseholdEvidence.review_date, HouseholdEvidence.submission_id)
    )
    return {row.kind: row for row in rows}  # later rows replace earlier ones


def complete_facts(
    facts: HouseholdFacts, evidence: dict[str, HouseholdEvidence]
) -> tuple[HouseholdFacts, list[dict[str, Any]]]:
    """Add what the evidence says to a Phiếu B's facts; also returns which evidence was used
    (for the record and the explanation)."""
    changes: dict[str, Any] = {}
    used = []
    screening = evidence.get("screening")
    if screening is not None and screening.data.get("screened_out") is not None:
        changes["screened_out"] = screening.data["screened_out"]
        changes["screening_reasons"] = screening.data.get("reasons")
        used.append(_used(screening))
    income = evidence.get("income")
    if (
        income is not None
        and income.data.get("per_person_month") is not None
        and income.data.get("agricultural") is not None
    ):
        changes["income"] = MeasuredIncome(
            per_person_month=income.data["per_person_month"],
            agricultural=income.data["agricultural"],
        )
        used.append(_used(income))
    if not changes:
        return facts, used
    return replace(facts, **changes), used


def _used(row: HouseholdEvidence) -> dict[str, Any]:
    return {
        "kind": row.kind,
        "kind_vi": KIND_VI[row.kind],
        "submission_id": row.submission_id,
        "submission_version_id": row.submission_version_id,
        "review_date": row.review_date.isoformat() if row.review_date else None,
    }
