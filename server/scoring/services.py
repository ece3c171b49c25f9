"""Scoring stored submissions: after ingest (never inside it), and again when a standard, a
table or a mapping changes, keeping every earlier result.  Services flush; callers commit."""

from __future__ import annotations

import dataclasses
import hashlib
import json

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from server.db import utcnow
from server.extensions import db
from server.geography.models import Commune
from server.households.models import Household
from server.scoring.engine import CATEGORY_VI, score_household
from server.scoring.mapping import mappings
from server.scoring.models import HouseholdScore, ScoringJob
from server.scoring.schemas import ScoreOut
from server.scoring.standards import standard_for_year
from server.scoring.tables import shipped_tables
from server.scoring.transitions import TRANSITION_VI, transition
from server.submissions.models import Submission, SubmissionVersion

MAX_ATTEMPTS = 5
_SCORE_OUT = ScoreOut()


def is_scored_form(xml_form_id: str) -> bool:
    """Whether submissions of this form are scored (it has a mapping)."""
    return xml_form_id in mappings()


def enqueue(version: SubmissionVersion, reason: str = "ingest") -> ScoringJob:
    job = ScoringJob(submission_version_id=version.id, reason=reason)
    db.session.add(job)
    db.session.flush()
    return job


def enqueue_rescore(commune_id: int | None = None) -> int:
    """Queue every current submission version (of one commune) for scoring again."""
    query = select(SubmissionVersion.id).where(SubmissionVersion.current.is_(True))
    if commune_id is not None:
        query = query.join(Submission).where(Submission.commune_id == commune_id)
    ids = list(db.session.scalars(query))
    db.session.add_all(ScoringJob(submission_version_id=i, reason="rescore") for i in ids)
    db.session.flush()
    return len(ids)


def pending_job_ids(limit: int = 1000, version_id: int | None = None) -> list[int]:
    query = select(ScoringJob.id).where(
        ScoringJob.state.in_(("pending", "failed")), ScoringJob.attempts < MAX_ATTEMPTS
    )
    if version_id is not None:
        query = query.where(ScoringJob.submission_version_id == version_id)
    return list(db.session.scalars(query.order_by(ScoringJob.id).limit(limit)))


def run_job(job: ScoringJob) -> HouseholdScore | None:
    """Score the job's version; a failure is recorded on the job, never raised."""
    job.attempts += 1
    try:
        with db.session.begin_nested():
            score = score_version(job.version)
    except Exception as exc:
        job.state, job.last_error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
        db.session.flush()
        return None
    job.state = "done" if score is not None else "skipped"
    job.last_error = None if score is not None else "Biểu mẫu này không có bảng ánh xạ chấm điểm."
    job.done_at = utcnow()
    db.session.flush()
    return score


def score_version(version: SubmissionVersion) -> HouseholdScore | None:
    """Score one version with the standard of its review year and its commune's B1 table.

    :return: the new current score, or None when the form is not a scored questionnaire.
    """
    submission = version.submission
    mapping = mappings().get(submission.form.xml_form_id)
    if mapping is None:
        return None
    commune: Commune = submission.commune
    mapped = mapping.apply(version.fields, commune.region)
    # The area type is the commune's (or village's), not what the phone says.
    area = (
        submission.village.effective_area_type if submission.village else commune.area_type
    ).value
    facts = dataclasses.replace(mapped.facts, area_type=area)
    year = (mapped.review_date or version.created_at.date()).year
    standard = standard_for_year(year)
    table = shipped_tables().get(commune.b1_table) if commune.b1_table else None
    if table is not None and (table.standard, table.area_type) != (standard.code, area):
        table = None
    result = score_household(facts, standard, table)
    body = _SCORE_OUT.dump(result)
    body["category_vi"] = CATEGORY_VI[result.category]
    inputs = _canonical_json(facts)
    body["inputs"] = json.loads(inputs)  # exactly what was scored, for the record
    household = (
        db.session.scalar(
            select(Household).where(
                Household.commune_id == commune.id, Household.code == mapped.household_code
            )
        )
        if mapped.household_code
        else None
    )
    moved = None
    if household is not None:
        history = [(s.year, s.status.value) for s in household.statuses]
        moved = transition(history, year, result.category)
        body["transition"], body["transition_vi"] = moved, TRANSITION_VI[moved]
    db.session.execute(
        update(HouseholdScore)
        .where(HouseholdScore.submission_id == submission.id, HouseholdScore.current.is_(True))
        .values(current=False)
    )
    score = HouseholdScore(
        submission_id=submission.id,
        submission_version_id=version.id,
        household_code=mapped.household_code,
        standard=standard.code,
        table_code=table.code if table else None,
        table_version=table.version if table else None,
        mapping=mapping.form_id,
        category=result.category.value,
        transition=moved,
        score_a=result.score_a,
        score_b=result.score_b,
        deprivations=result.deprivations,
        undetermined=result.undetermined_indicators,
        provisional=result.provisional,
        result=body,
        inputs_sha256=hashlib.sha256(inputs.encode()).hexdigest(),
        current=True,
    )
    db.session.add(score)
    db.session.flush()
    return score


def current_score(submission_id: int) -> HouseholdScore | None:
    return db.session.scalar(
        select(HouseholdScore).where(
            HouseholdScore.submission_id == submission_id, HouseholdScore.current.is_(True)
        )
    )


def _canonical_json(facts) -> str:
    """The canonical inputs as stable JSON (sets sorted; members in order)."""

    def plain(value):
        if isinstance(value, frozenset | set):
            return sorted(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in sorted(value.items())}
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        if dataclasses.is_dataclass(value):
            return {f: plain(getattr(value, f)) for f in value.__dataclass_fields__}
        return value

    return json.dumps(plain(facts), ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def process_jobs(job_ids: list[int], batch: int = 200) -> int:
    """Run jobs, ``batch`` per transaction (each job in its own savepoint, so one failure
    never undoes the others); returns how many produced a score."""
    from server.db import write_transaction

    scored = 0
    for start in range(0, len(job_ids), batch):
        with write_transaction(db.session):
            jobs = db.session.scalars(
                select(ScoringJob)
                .where(ScoringJob.id.in_(job_ids[start : start + batch]))
                .options(
                    selectinload(ScoringJob.version).undefer(SubmissionVersion.fields),
                    selectinload(ScoringJob.version)
                    .selectinload(SubmissionVersion.submission)
                    .options(
                        selectinload(Submission.form),
                        selectinload(Submission.commune),
                        selectinload(Submission.village),
                    ),
                )
            ).all()
            for job in jobs:
                if job.state not in ("done", "skipped"):
                    scored += run_job(job) is not None
        db.session.expunge_all()  # keep memory flat over 100 000 re-scorings
    return scored
