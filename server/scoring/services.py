"""Scoring stored submissions: after ingest (never inside it), and again when a standard, a
table or a mapping changes, keeping every earlier result.  Services flush; callers commit."""

from __future__ import annotations

import dataclasses
import hashlib
import json

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.orm import selectinload, undefer

from server.db import utcnow
from server.extensions import db
from server.geography.models import Commune
from server.households.models import Household
from server.i18n import vi_number, vietnam_date
from server.questionnaires.models import Form
from server.scoring.engine import CATEGORY_VI, score_household
from server.scoring.evidence import (
    KIND_VI,
    HouseholdEvidence,
    complete_facts,
    evidence_for,
    record_evidence,
)
from server.scoring.facts import HouseholdFacts, MeasuredIncome
from server.scoring.mapping import EvidenceMapping, Mapping, all_mappings, mappings
from server.scoring.models import HouseholdScore, ScoringJob
from server.scoring.rules import NO_WORDS, FactWords
from server.scoring.schemas import ScoreOut
from server.scoring.standards import Standard, StandardError, all_standards, standard_for_year
from server.scoring.tables import resolve_table
from server.scoring.transitions import TRANSITION_VI, transition
from server.scoring.wording import form_words
from server.submissions.models import Submission, SubmissionVersion

MAX_ATTEMPTS = 5
_SCORE_OUT = ScoreOut()


def is_scored_form(xml_form_id: str) -> bool:
    """Whether submissions of this form are scored, or complete a scored one (it has a
    mapping: Phiếu B, Phiếu A, the income survey)."""
    return xml_form_id in all_mappings()


def enqueue(version: SubmissionVersion, reason: str = "ingest") -> ScoringJob:
    job = ScoringJob(submission_version_id=version.id, reason=reason)
    db.session.add(job)
    db.session.flush()
    return job


def enqueue_rescore(commune_id: int | None = None) -> int:
    """Queue every current submission version (of one commune) for scoring again."""
    # One INSERT … SELECT in the database: memory stays flat whatever the number of versions.
    query = select(
        SubmissionVersion.id,
        literal("rescore"),
        literal("pending"),
        literal(0),
        literal(utcnow()),
    )
    query = (
        query.join(Submission, Submission.id == SubmissionVersion.submission_id)
        .join(Form, Form.id == Submission.form_id)
        .where(SubmissionVersion.current.is_(True), Form.xml_form_id.in_(list(all_mappings())))
    )
    if commune_id is not None:
        query = query.where(Submission.commune_id == commune_id)
    queued = db.session.scalar(select(func.count()).select_from(query.subquery()))
    db.session.execute(
        insert(ScoringJob).from_select(
            ["submission_version_id", "reason", "state", "attempts", "created_at"], query
        )
    )
    return queued


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
    mapped = is_scored_form(job.version.submission.form.xml_form_id)
    job.state = "done" if mapped else "skipped"
    job.last_error = None if mapped else "Biểu mẫu này không có bảng ánh xạ chấm điểm."
    job.done_at = utcnow()
    db.session.flush()
    return score


def score_version(version: SubmissionVersion) -> HouseholdScore | None:
    """Score one version with the standard its questionnaire was written for (else the one of
    its review year) and its commune's B1 table.

    A Phiếu A or income-survey version is recorded as evidence and its household's Phiếu B
    re-scored with it; a Phiếu A that stops the review is itself scored "Dừng ở Phiếu A".

    :return: the new current score, or None when there is none (not a scored questionnaire,
        or evidence that gives no result of its own).
    """
    submission = version.submission
    mapping = all_mappings().get(submission.form.xml_form_id)
    if mapping is None:
        return None
    commune: Commune = submission.commune
    _lock_commune(commune.id)
    # The area type is the commune's (or village's), not what the phone says.
    area = (
        submission.village.effective_area_type if submission.village else commune.area_type
    ).value
    if isinstance(mapping, EvidenceMapping):
        return _score_evidence(version, mapping, area)
    mapped = mapping.apply(version.fields, commune.region)
    facts = dataclasses.replace(mapped.facts, area_type=area)
    year = (mapped.review_date or vietnam_date(version.created_at)).year
    evidence_used: list[dict] = []
    code = mapped.household_code
    own_income = facts.income  # the questionnaire's own income module, if it has one
    if code:
        facts, evidence_used = complete_facts(facts, evidence_for(commune.id, code, year))
    notes = _income_source_notes(own_income, facts.income, evidence_used)
    extra = {
        # Where the measured income came from, and the Phiếu B's own (shown even when unused).
        "income_source": None
        if facts.income is None
        else "khao_sat"
        if any(e["kind"] == "income" for e in evidence_used)
        else "phieu_b",
        "income_phieu_b": own_income.per_person_month if own_income else None,
    }
    return _store_score(version, mapping, facts, year, code, evidence_used, notes, extra)


def standard_for_questionnaire(declared: str | None, year: int) -> tuple[Standard, str | None]:
    """The standard to score with — the one the questionnaire was written for, or without one
    the review year's — and, when that is not the review year's standard, why (Vietnamese).

    A Phiếu B 2027–2030 filled in the late-2026 review (which may produce the 2027 lists;
    regulations.md §0.3 leaves open which standard that review uses) is scored with the
    standard its questions were written for: the 2022–2025 indicators are not on it.
    """
    if declared is None:
        return standard_for_year(year), None
    standard = all_standards()[declared]
    try:
        of_year = standard_for_year(year)
    except StandardError:
        of_year = None
    if of_year is not None and of_year.code == standard.code:
        return standard, None
    years = sorted(standard.years)
    applies = (
        f"áp dụng từ năm {years[0]}"
        if year < years[0]
        else f"áp dụng đến năm {years[-1]}"
        if year > years[-1]
        else f"áp dụng {years[0]}–{years[-1]}"
    )
    period = _period(standard)
    why = f"Phiếu B {period} rà soát năm {year}: chấm theo chuẩn {period} ({applies})"
    if of_year is not None:
        why += f"; chuẩn của năm {year} là chuẩn {_period(of_year)}, không khớp câu hỏi của phiếu"
    return standard, why + "."


def _period(standard: Standard) -> str:
    return standard.code.replace("_", "–")


def _income_source_notes(
    own: MeasuredIncome | None, used: MeasuredIncome | None, evidence_used: list[dict]
) -> list[str]:
    """Where the measured income comes from.  The income survey is the dedicated instrument
    (revenue and costs source by source), so when the household has one it is used and the
    Phiếu B's own income module is shown beside it; otherwise the Phiếu B's income is used."""
    if used is None:
        return []
    if not any(e["kind"] == "income" for e in evidence_used):
        return [
            f"Thu nhập đo được lấy từ mục thu nhập của Phiếu B: {vi_number(used.per_person_month)} "
            "đ/người/tháng."
        ]
    line = (
        "Thu nhập đo được lấy từ Phiếu khảo sát thu nhập (phiếu chuyên dùng để đo thu nhập, "
        f"được ưu tiên): {vi_number(used.per_person_month)} đ/người/tháng"
    )
    if own is None:
        return [line + "."]
    same = "bằng" if own.per_person_month == used.per_person_month else "khác"
    return [
        f"{line}; mục thu nhập của Phiếu B ghi {vi_number(own.per_person_month)} đ/người/tháng "
        f"({same} phiếu khảo sát)."
    ]


def _store_score(
    version: SubmissionVersion,
    mapping: Mapping | EvidenceMapping,
    facts: HouseholdFacts,
    year: int,
    household_code: str | None,
    evidence_used: list[dict],
    notes: list[str] | None = None,
    extra: dict | None = None,
) -> HouseholdScore:
    submission = version.submission
    commune: Commune = submission.commune
    area = facts.area_type
    declared = mapping.standard if isinstance(mapping, Mapping) else None
    standard, why = standard_for_questionnaire(declared, year)
    table = _table_for(commune, standard.code, area)
    result = score_household(facts, standard, table, words=words_of_version(version))
    body = _SCORE_OUT.dump(result)
    body["category_vi"] = CATEGORY_VI[result.category]
    # Which standard, and why: the questionnaire's own, or the review year's.
    body["standard_basis"] = "questionnaire" if declared else "review_year"
    body["explanation_vi"] = [*([why] if why else []), *(notes or []), *body["explanation_vi"]]
    body.update(extra or {})
    inputs = _canonical_json(facts)
    body["inputs"] = json.loads(inputs)  # exactly what was scored, for the record
    body["evidence"] = evidence_used
    household = (
        db.session.scalar(
            select(Household).where(
                Household.commune_id == commune.id, Household.code == household_code
            )
        )
        if household_code
        else None
    )
    moved = None
    if (
        household is not None
        and household.resurvey_requested_at is not None
        and version.created_at > household.resurvey_requested_at
        and isinstance(mapping, Mapping)
    ):  # the re-survey the commune asked for has arrived
        household.resurvey_requested_at = household.resurvey_reason = None
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
        household_code=household_code,
        standard=standard.code,
        year=year,
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
        method=result.method,
        methods_disagree=result.methods_disagree,
        result=body,
        inputs_sha256=hashlib.sha256(inputs.encode()).hexdigest(),
        current=True,
    )
    db.session.add(score)
    db.session.flush()
    return score


def _score_evidence(
    version: SubmissionVersion, mapping: EvidenceMapping, area: str
) -> HouseholdScore | None:
    """Record a Phiếu A / income-survey version, re-score its household's Phiếu B, and give
    a Phiếu A that stops the review its own result (the household has no Phiếu B then)."""
    submission = version.submission
    row = record_evidence(version, mapping)
    score = None
    if row.kind == "screening" and row.data.get("screened_out"):
        facts = HouseholdFacts(
            area_type=area,
            region=submission.commune.region,
            screened_out=True,
            screening_reasons=row.data.get("reasons"),
        )
        used = [{"kind": row.kind, "submission_id": submission.id}]
        score = _store_score(version, mapping, facts, row.year, row.household_code, used)
    else:  # an edit may have turned a "stop" into "continue": no result of its own now
        db.session.execute(
            update(HouseholdScore)
            .where(HouseholdScore.submission_id == submission.id, HouseholdScore.current.is_(True))
            .values(current=False)
        )
    if row.household_code:
        for other in _household_phieu_b_versions(submission.commune_id, row.household_code):
            score_version(other)
    return score


def _household_phieu_b_versions(commune_id: int, household_code: str) -> list[SubmissionVersion]:
    """The current versions of the household's scored Phiếu B submissions."""
    return list(
        db.session.scalars(
            select(SubmissionVersion)
            .join(HouseholdScore, HouseholdScore.submission_id == SubmissionVersion.submission_id)
            .join(Submission, Submission.id == SubmissionVersion.submission_id)
            .where(
                Submission.commune_id == commune_id,
                HouseholdScore.household_code == household_code,
                HouseholdScore.current.is_(True),
                HouseholdScore.mapping.in_(list(mappings())),
                SubmissionVersion.current.is_(True),
            )
            .options(undefer(SubmissionVersion.fields))
        )
    )


def words_of_version(version: SubmissionVersion) -> FactWords:
    """The words of the coded answers of a version's questionnaire (its own form version's
    choice labels, in Vietnamese), asked once per form version in a transaction."""
    memo = _transaction_memo()
    key = ("words", version.form_version_id)
    if key not in memo:
        memo[key] = form_words(version.submission.form.xml_form_id, version.form_version.xform)
    return memo[key]


def words_of_score(score: HouseholdScore) -> FactWords:
    """The words of the coded answers a stored result was computed from (``inputs``): those
    of the questionnaire version it scored."""
    version = db.session.get(SubmissionVersion, score.submission_version_id)
    return words_of_version(version) if version is not None else NO_WORDS


def _transaction_memo() -> dict:
    """A dict that lives as long as the current database transaction (for what one batch of
    jobs would otherwise ask the database again and again)."""
    transaction = db.session().get_transaction()
    held = db.session.info.get("rasoat.memo")
    if held is None or held[0] is not transaction:
        held = (transaction, {})
        db.session.info["rasoat.memo"] = held
    return held[1]


def _lock_commune(commune_id: int) -> None:
    """Serialise scoring within a commune, so a Phiếu B and its household's Phiếu A scored at
    the same moment by two workers always see each other (SQLite's write lock already does).
    Once per transaction: the lock is held until it ends."""
    memo = _transaction_memo()
    if ("lock", commune_id) in memo:
        return
    db.session.execute(select(Commune.id).where(Commune.id == commune_id).with_for_update())
    memo["lock", commune_id] = True


def _table_for(commune: Commune, standard: str, area: str):
    """``resolve_table``, asked once per commune, standard and area in a transaction."""
    memo = _transaction_memo()
    key = ("table", commune.id, standard, area)
    if key not in memo:
        memo[key] = resolve_table(commune, standard, area)
    return memo[key]


def completed_by(submission: Submission) -> tuple[str, list[HouseholdScore]] | None:
    """For a Phiếu A / income-survey submission (evidence, no result of its own unless a
    Phiếu A stops the review): its kind in words and the current results of the household's
    Phiếu B it completes (same commune, household code and review year).  None for any other
    submission."""
    row = db.session.scalar(
        select(HouseholdEvidence).where(HouseholdEvidence.submission_id == submission.id)
    )
    if row is None:
        return None
    scores: list[HouseholdScore] = []
    if row.household_code:
        scores = list(
            db.session.scalars(
                select(HouseholdScore)
                .join(Submission, Submission.id == HouseholdScore.submission_id)
                .where(
                    Submission.commune_id == row.commune_id,
                    HouseholdScore.household_code == row.household_code,
                    HouseholdScore.year == row.year,
                    HouseholdScore.current.is_(True),
                    HouseholdScore.mapping.in_(list(mappings())),
                )
                .order_by(HouseholdScore.submission_id)
            )
        )
    return KIND_VI.get(row.kind, row.kind), scores


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
