"""Retention: the rules a province applies, legal holds, the dry-run plan and the purge.

What is purged, per submission and kind, once the round's decision is older than the rule's
period (months after the decision's signing date):

* ``attachments``: the files (photos …) are forgotten by the database, then deleted from disk;
  the names stay so pages can say what was there;
* ``gps`` / ``free_text``: the geopoint/geotrace/geoshape answers, the typed text answers;
* ``xml``: the full XML as received (also dropped with GPS, free text or all answers: it holds
  them too);
* ``answers``: every parsed answer;
* ``scores``: the scoring's explanation in words, B1 answers, evidence, indicator reasons and
  every scored fact but each member's name, age, sex, relationship and ethnicity (the lists and
  certificates print them) — the category, method, points and indicator outcomes stay;
* ``audit``: the audit entries about the submission (the purge's own entries stay).

Two kinds are not a submission's data and count from their own date (not from a decision):

* ``export_files``: a generated file (an export job's PDF/XLSX), from the day it was made; the
  job row stays with ``purged_at`` and its page says the file was removed;
* ``access_records``: the access records, from the day of the look; deleted in bounded batches.

Never touched: household cases, meetings and votes, postings, complaints, decisions,
certificates, refusals, the registry — the legal record and the verdict.

Held, never purged: a household with a complaint still waiting for its re-check outcome, a
household or a round with an explicit hold not cleared (a held round keeps its generated files;
a held household, or one of a held round, its access records).

Crash safety: submissions are purged in small batches, each in its own transaction; a
``retention_purges`` row per submission and kind records what is gone (a re-run skips it);
blob files are recorded in ``retention_pending_files`` in the batch's transaction and deleted
from disk only after its commit, so a crash leaves at worst files nobody references, which the
next run deletes.
"""

from __future__ import annotations

import contextlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, and_, delete, func, select, true, tuple_

from server.access.models import AccessRecord
from server.accounts.models import Role, User
from server.accounts.ownership import may_manage
from server.audit.models import AuditEvent
from server.audit.services import record
from server.blobs import blob_store
from server.db import utcnow, write_transaction
from server.decisions.models import Decision, Refusal
from server.errors import AppError
from server.exports.models import DONE, ExportJob
from server.extensions import db
from server.geography.models import Commune, Province
from server.households.models import Household
from server.i18n import VIETNAM_TIME, local_time
from server.meetings.models import HouseholdCase, ReviewRound
from server.publication.models import Complaint
from server.questionnaires.labels import form_labels, strip_indexes
from server.questionnaires.models import DraftSubmission, FormAttachment
from server.retention.kinds import (
    ACCESS_RECORDS,
    ANSWERS,
    ATTACHMENTS,
    AUDIT,
    DEFAULT_MONTHS,
    DEFAULT_NOTE,
    EXPORT_FILES,
    FREE_TEXT,
    GPS,
    IMPLIES_XML,
    KINDS,
    MAX_MONTHS,
    SCORES,
    SUBMISSION_KINDS,
    XML,
)
from server.retention.models import (
    RetentionHold,
    RetentionPendingFile,
    RetentionPurge,
    RetentionRule,
)
from server.scoring.models import HouseholdScore
from server.submissions.models import (
    Submission,
    SubmissionAttachment,
    SubmissionVersion,
    SubmissionXml,
)

BATCH_SIZE = 50
# Access records are small rows: a batch deletes this many times the batch size.
RECORDS_PER_BATCH = 100
MAX_REASON = 1000
GEO_TYPES = ("geopoint", "geotrace", "geoshape")
TEXT_CONTROLS = ("input", "textarea")
# A purged score's result loses the answers and the words explaining them; what the lists,
# minutes, decision and certificates print stays (category, points, indicator outcomes, each
# member's name, age, sex, relationship and ethnicity).
SCORE_DROP = ("explanation_vi", "explanation_en", "evidence", "b1_lines")
MEMBER_KEEP = ("name", "age", "sex", "relationship", "ethnicity")
INDICATOR_DROP = ("reasons",)


# --- rules ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    kind: str
    months: int | None  # None: kept, never purged automatically
    note: str
    is_default: bool  # rasoat's provisional default (the province has not chosen)


def rules_for(province_id: int | None) -> dict[str, Rule]:
    """The rule of every kind for a province: its own, else rasoat's default."""
    rows = db.session.scalars(
        select(RetentionRule).where(
            (RetentionRule.province_id.is_(None)) | (RetentionRule.province_id == province_id)
        )
    ).all()
    defaults = {r.kind: r for r in rows if r.province_id is None}
    own = {r.kind: r for r in rows if r.province_id is not None}
    rules = {}
    for kind in KINDS:
        if kind in own:
            row = own[kind]
            rules[kind] = Rule(kind, row.months, row.note, False)
        elif kind in defaults:
            row = defaults[kind]
            rules[kind] = Rule(kind, row.months, row.note or DEFAULT_NOTE, True)
        else:  # a database seeded before a kind existed
            rules[kind] = Rule(kind, DEFAULT_MONTHS[kind], DEFAULT_NOTE, True)
    return rules


def parse_months(text: str) -> int | None:
    """A period typed on the page: a number of months, or empty for "kept".

    :raises AppError: ``retention.bad_period`` (400)."""
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 5 or not 1 <= int(text) <= MAX_MONTHS:
        raise AppError(
            "retention.bad_period",
            400,
            f"Thời hạn phải là số tháng từ 1 đến {MAX_MONTHS} (để trống: giữ, không tự xoá).",
            f"A period is a number of months from 1 to {MAX_MONTHS} (empty: kept).",
        )
    return int(text)


def set_rules(actor: User, province: Province, values: dict[str, str]) -> list[str]:
    """A province administrator sets their province's periods (months, or empty: kept).
    Every value is checked before anything changes; returns the kinds that changed.

    :raises AppError: ``province.not_found`` (404) outside the actor's province,
        ``retention.bad_period`` (400)."""
    _require_province_admin(actor, province.id)
    wanted = {kind: parse_months(values.get(kind, "")) for kind in KINDS}
    current = rules_for(province.id)
    own = {
        r.kind: r
        for r in db.session.scalars(
            select(RetentionRule).where(RetentionRule.province_id == province.id)
        )
    }
    changed = []
    for kind in KINDS:
        if kind in own and own[kind].months == wanted[kind]:
            continue
        if kind not in own and current[kind].months == wanted[kind]:
            continue  # the default, unchanged: the province keeps following it
        row = own.get(kind)
        if row is None:
            row = RetentionRule(province_id=province.id, kind=kind)
            db.session.add(row)
        row.months, row.note = wanted[kind], "do tỉnh quy định"
        row.updated_at, row.updated_by_id = utcnow(), actor.id
        changed.append(kind)
    db.session.flush()
    if changed:
        record(
            "retention.rules",
            "province",
            province.code,
            before={k: current[k].months for k in changed},
            after={k: wanted[k] for k in changed},
            actor_id=actor.id,
            province_id=province.id,
        )
    return changed


def _require_province_admin(actor: User, province_id: int) -> None:
    if actor.role != Role.ADMIN or not may_manage(actor, province_id):
        raise AppError("province.not_found", 404, "Không tìm thấy tỉnh.", "Province not found.")


# --- holds ----------------------------------------------------------------------------------


def active_holds(province_id: int) -> list[RetentionHold]:
    return list(
        db.session.scalars(
            select(RetentionHold)
            .join(Commune, Commune.id == RetentionHold.commune_id)
            .where(Commune.province_id == province_id, RetentionHold.cleared_at.is_(None))
            .order_by(RetentionHold.id)
        )
    )


def unmatched_holds(holds: list[RetentionHold]) -> set[int]:
    """The household holds whose code names no household of the commune (registry or review):
    a typo would protect nothing, so the page says so."""
    unmatched = set()
    for hold in holds:
        if hold.household_code is None:
            continue
        known = db.session.scalar(
            select(Household.id).where(
                Household.commune_id == hold.commune_id, Household.code == hold.household_code
            )
        ) or db.session.scalar(
            select(HouseholdCase.id)
            .join(ReviewRound, ReviewRound.id == HouseholdCase.round_id)
            .where(
                ReviewRound.commune_id == hold.commune_id,
                HouseholdCase.household_code == hold.household_code,
            )
            .limit(1)
        )
        if known is None:
            unmatched.add(hold.id)
    return unmatched


def set_hold(
    actor: User, commune_code: str, round_id: str, household_code: str, reason: str
) -> RetentionHold:
    """Hold a household (every round) or a round of a commune of the actor's province.

    :raises AppError: ``retention.hold_invalid`` (400), ``commune.not_found`` (404)."""
    commune_code, household_code = commune_code.strip(), household_code.strip()
    reason, round_text = reason.strip(), round_id.strip()
    commune = db.session.scalar(select(Commune).where(Commune.code == commune_code[:50]))
    if commune is None or actor.role != Role.ADMIN or not may_manage(actor, commune.province_id):
        raise AppError("commune.not_found", 404, "Không tìm thấy xã.", "Commune not found.")
    if not reason or len(reason) > MAX_REASON:
        raise _hold_invalid(
            f"Hãy ghi lý do giữ lại (tối đa {MAX_REASON} ký tự).",
            f"Give the reason for the hold (at most {MAX_REASON} characters).",
        )
    if bool(household_code) == bool(round_text):
        raise _hold_invalid(
            "Chọn một đợt rà soát hoặc ghi một mã hộ (không cả hai).",
            "Choose a review round or give a household code (not both).",
        )
    review = None
    if round_text:
        review = db.session.get(ReviewRound, int(round_text)) if round_text.isdigit() else None
        if review is None or review.commune_id != commune.id:
            raise _hold_invalid(
                "Đợt rà soát không thuộc xã đã chọn.", "The round is not of that commune."
            )
    if len(household_code) > 50:
        raise _hold_invalid("Mã hộ quá dài.", "Household code too long.")
    hold = RetentionHold(
        commune_id=commune.id,
        round_id=review.id if review else None,
        household_code=household_code or None,
        reason=reason,
        created_by_id=actor.id,
    )
    db.session.add(hold)
    db.session.flush()
    record(
        "retention.hold",
        "retention_hold",
        hold.id,
        commune_id=commune.id,
        after={"round_id": hold.round_id, "household_code": hold.household_code},
        note=reason,
        actor_id=actor.id,
    )
    return hold


def clear_hold(actor: User, hold_id: int) -> RetentionHold:
    """:raises AppError: ``retention.hold_not_found`` (404) outside the actor's province."""
    hold = db.session.get(RetentionHold, hold_id)
    if (
        hold is None
        or hold.cleared_at is not None
        or actor.role != Role.ADMIN
        or not may_manage(actor, hold.commune.province_id)
    ):
        raise AppError(
            "retention.hold_not_found", 404, "Không tìm thấy lệnh giữ lại.", "No such hold."
        )
    hold.cleared_at, hold.cleared_by_id = utcnow(), actor.id
    db.session.flush()
    record(
        "retention.hold_clear",
        "retention_hold",
        hold.id,
        commune_id=hold.commune_id,
        before={"round_id": hold.round_id, "household_code": hold.household_code},
        actor_id=actor.id,
    )
    return hold


def _hold_invalid(vi: str, en: str) -> AppError:
    return AppError("retention.hold_invalid", 400, vi, en)


# --- what is due ----------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months (the 31st becomes the month's last day)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for candidate in range(day.day, 27, -1):
        with contextlib.suppress(ValueError):
            return date(year, month, candidate)
    return date(year, month, min(day.day, 28))


@dataclass
class Due:
    """One submission whose decided round puts some kinds of its data past their period."""

    submission_id: int
    commune_id: int
    round_id: int
    decided_on: date
    household_code: str | None
    kinds: list[str]
    held: str | None = None  # why it is held (never purged), or None


@dataclass
class PlanRow:
    commune: str
    round_id: int
    round_label: str
    decided_on: date
    kind: str
    submissions: int
    files: int


@dataclass
class HeldRow:
    commune: str
    round_label: str
    household_code: str | None
    submission_id: int
    kinds: list[str]
    reason: str


@dataclass
class RecordRow:
    """A commune's generated files or access records past their period (counted from the
    file's making / the look's day, not from a decision), or held."""

    commune: str
    kind: str  # EXPORT_FILES or ACCESS_RECORDS
    count: int
    oldest: date  # the oldest file made / record's day among them (in Vietnam)
    through: date  # the period's end: what is dated on or before this day is due
    reason: str | None = None  # held: why
    round_label: str | None = None  # a held round (files)
    household_code: str | None = None  # a held household (records)


@dataclass
class Plan:
    today: date
    rows: list[PlanRow] = field(default_factory=list)
    held: list[HeldRow] = field(default_factory=list)
    records: list[RecordRow] = field(default_factory=list)
    records_held: list[RecordRow] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(r.submissions for r in self.rows)


def _round_label(review: ReviewRound) -> str:
    if review.month:
        return f"{review.year} — tháng {review.month}"
    return str(review.year)


def due_submissions(today: date, province_id: int | None = None) -> list[Due]:
    """Every submission of a decided round with at least one kind of data past its period
    and not purged yet (held ones included, with the reason)."""
    rounds_query = select(ReviewRound, Decision.signed_on, Commune.province_id).join(
        Commune, Commune.id == ReviewRound.commune_id
    )
    rounds_query = rounds_query.outerjoin(Decision, Decision.round_id == ReviewRound.id)
    if province_id is not None:
        rounds_query = rounds_query.where(Commune.province_id == province_id)
    rounds = {r.id: (r, signed, prov) for r, signed, prov in db.session.execute(rounds_query)}
    if not rounds:
        return []
    linked, codes = _linked_submissions(rounds)
    purged: dict[int, set[str]] = defaultdict(set)
    for chunk in _chunks(list(linked)):
        for submission_id, kind in db.session.execute(
            select(RetentionPurge.submission_id, RetentionPurge.kind).where(
                RetentionPurge.submission_id.in_(chunk)
            )
        ):
            purged[submission_id].add(kind)
    holds = _holds(province_id)
    rules_by_province: dict[int | None, dict] = {}
    found = []
    for submission_id, links in linked.items():
        entries = [
            (rounds[r][0], refused_on or rounds[r][1], rounds[r][2]) for r, refused_on in links
        ]
        if any(signed is None for _r, signed, _p in entries):
            continue  # a round naming it is not decided: everything is still needed
        review, decided_on, prov = max(entries, key=lambda e: e[1])
        if prov not in rules_by_province:
            rules_by_province[prov] = rules_for(prov)
        rules = rules_by_province[prov]
        kinds = [
            k
            for k in SUBMISSION_KINDS
            if rules[k].months is not None and add_months(decided_on, rules[k].months) <= today
        ]
        if ANSWERS in kinds:
            kinds = sorted({*kinds, GPS, FREE_TEXT}, key=KINDS.index)
        if any(k in IMPLIES_XML for k in kinds) and XML not in kinds:
            kinds = sorted({*kinds, XML}, key=KINDS.index)
        kinds = [k for k in kinds if k not in purged[submission_id]]
        if not kinds:
            continue
        code = codes.get(submission_id)
        held = holds.get(("round", review.id)) or (
            holds.get(("household", review.commune_id, code)) if code else None
        )
        found.append(
            Due(submission_id, review.commune_id, review.id, decided_on, code, kinds, held)
        )
    found.sort(key=lambda d: d.submission_id)
    return found


def _linked_submissions(rounds: dict) -> tuple[dict, dict[int, str | None]]:
    """Submission → the rounds naming it (each with the date of a written refusal of the
    household there, or None), and → its household code."""
    linked: dict[int, list[tuple[int, date | None]]] = defaultdict(list)
    codes: dict[int, str | None] = {}
    for submission_id, round_id, code, refused_on in db.session.execute(
        select(
            HouseholdCase.submission_id,
            HouseholdCase.round_id,
            HouseholdCase.household_code,
            Refusal.answered_on,
        )
        .outerjoin(Refusal, Refusal.case_id == HouseholdCase.id)
        .where(HouseholdCase.round_id.in_(list(rounds)))
    ):
        # A household refused in writing (monthly review) is decided by that answer.
        linked[submission_id].append((round_id, refused_on))
        codes.setdefault(submission_id, code)
    # Submissions no case names (a Phiếu A that stopped, income surveys …) belong to the
    # commune's decided annual round of the year they were received.
    annual = {
        (r.commune_id, r.year): r.id
        for r, signed, _p in rounds.values()
        if r.kind == "dinh_ky" and signed is not None
    }
    communes = {r.commune_id for r, _s, _p in rounds.values()}
    for submission_id, commune_id, created_at in db.session.execute(
        select(Submission.id, Submission.commune_id, Submission.created_at).where(
            Submission.commune_id.in_(communes)
        )
    ):
        if submission_id in linked:
            continue
        round_id = annual.get((commune_id, created_at.year))
        if round_id is not None:
            linked[submission_id].append((round_id, None))
            codes[submission_id] = None
    unlinked_codes = [s for s, c in codes.items() if c is None]
    for chunk in _chunks(unlinked_codes):
        codes.update(
            db.session.execute(
                select(HouseholdScore.submission_id, HouseholdScore.household_code).where(
                    HouseholdScore.submission_id.in_(chunk), HouseholdScore.current.is_(True)
                )
            ).tuples()
        )
    return linked, codes


def _holds(province_id: int | None) -> dict[tuple, str]:
    """Why something is held: ("round", id) or ("household", commune id, code) → reason."""
    held: dict[tuple, str] = {}
    query = (
        select(Complaint.received_on, HouseholdCase.household_code, ReviewRound.commune_id)
        .join(HouseholdCase, HouseholdCase.id == Complaint.case_id)
        .join(ReviewRound, ReviewRound.id == Complaint.round_id)
        .join(Commune, Commune.id == ReviewRound.commune_id)
        .where(Complaint.outcome.is_(None))
    )
    holds = (
        select(RetentionHold)
        .join(Commune, Commune.id == RetentionHold.commune_id)
        .where(RetentionHold.cleared_at.is_(None))
    )
    if province_id is not None:
        query = query.where(Commune.province_id == province_id)
        holds = holds.where(Commune.province_id == province_id)
    for received_on, code, commune_id in db.session.execute(query):
        if code:
            held[("household", commune_id, code)] = (
                f"Khiếu nại nhận ngày {received_on:%d/%m/%Y} chưa có kết quả phúc tra"
            )
    for hold in db.session.scalars(holds):
        if hold.round_id is not None:
            held.setdefault(("round", hold.round_id), f"Giữ lại cả đợt: {hold.reason}")
        else:
            held.setdefault(
                ("household", hold.commune_id, hold.household_code), f"Giữ lại: {hold.reason}"
            )
    return held


def plan(today: date, province_id: int | None = None) -> Plan:
    """The dry run: what a purge on ``today`` would delete, per commune, round and kind, and
    what is held and why.  Reads only."""
    due = due_submissions(today, province_id)
    result = Plan(today=today)
    result.records, result.records_held = _record_rows(today, province_id)
    if not due:
        return result
    files = _file_counts([d.submission_id for d in due if ATTACHMENTS in d.kinds])
    rounds = {
        r.id: r
        for r in db.session.scalars(
            select(ReviewRound).where(ReviewRound.id.in_({d.round_id for d in due}))
        )
    }
    counts: Counter = Counter()
    file_counts: Counter = Counter()
    decided: dict[int, date] = {}
    for d in due:
        decided[d.round_id] = d.decided_on
        review = rounds[d.round_id]
        if d.held:
            result.held.append(
                HeldRow(
                    review.commune.name,
                    _round_label(review),
                    d.household_code,
                    d.submission_id,
                    d.kinds,
                    d.held,
                )
            )
            continue
        for kind in d.kinds:
            counts[(d.round_id, kind)] += 1
            if kind == ATTACHMENTS:
                file_counts[(d.round_id, kind)] += files.get(d.submission_id, 0)
    for (round_id, kind), n in sorted(
        counts.items(),
        key=lambda item: (rounds[item[0][0]].commune.name, item[0][0], KINDS.index(item[0][1])),
    ):
        review = rounds[round_id]
        result.rows.append(
            PlanRow(
                review.commune.name,
                round_id,
                _round_label(review),
                decided[round_id],
                kind,
                n,
                file_counts[(round_id, kind)],
            )
        )
    return result


def _file_counts(submission_ids: list[int]) -> dict[int, int]:
    found: Counter = Counter()
    for chunk in _chunks(submission_ids):
        for (submission_id,) in db.session.execute(
            select(SubmissionVersion.submission_id)
            .join(SubmissionAttachment, SubmissionAttachment.version_id == SubmissionVersion.id)
            .where(
                SubmissionVersion.submission_id.in_(chunk),
                SubmissionAttachment.blob_sha256.is_not(None),
            )
        ):
            found[submission_id] += 1
    return found


# --- the purge ------------------------------------------------------------------------------


@dataclass
class ApplyResult:
    batches: int = 0
    submissions: int = 0
    counts: Counter = field(default_factory=Counter)  # kind → submissions purged
    files_deleted: int = 0
    held: int = 0
    export_files: int = 0  # generated files removed (their jobs marked)
    export_files_held: int = 0
    access_records: int = 0  # access records deleted
    record_batches: int = 0  # the batches of files and access records

    @property
    def all_batches(self) -> int:
        return self.batches + self.record_batches


def apply(
    today: date,
    province_id: int | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    records_batch_size: int | None = None,
    after_commit: Callable[[int], None] | None = None,
) -> ApplyResult:
    """Purge what the rules say is due on ``today`` (the system does it: commands only).

    :param records_batch_size: access records deleted per transaction (default: 100 times
        ``batch_size``).
    :param after_commit: called with the batch number (counting every batch: submissions,
        then generated files, then access records) after each batch's commit and before its
        files are deleted (tests simulate a crash there).
    """
    result = ApplyResult()
    result.files_deleted += delete_pending_files()
    due = due_submissions(today, province_id)
    result.held = sum(1 for d in due if d.held)
    todo = [d for d in due if not d.held]
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        with write_transaction(db.session):
            counts = _purge_batch(batch)
        result.batches += 1
        result.submissions += len(batch)
        result.counts.update(counts)
        if after_commit is not None:
            after_commit(result.batches)
        result.files_deleted += delete_pending_files()
    _purge_export_files(today, province_id, batch_size, after_commit, result)
    records = records_batch_size or batch_size * RECORDS_PER_BATCH
    _purge_access_records(today, province_id, records, after_commit, result)
    return result


def _purge_batch(batch: list[Due]) -> Counter:
    """Purge one batch in the caller's transaction; audit one entry per round and kind."""
    ids = [d.submission_id for d in batch]
    already: dict[int, set[str]] = defaultdict(set)
    for submission_id, kind in db.session.execute(
        select(RetentionPurge.submission_id, RetentionPurge.kind).where(
            RetentionPurge.submission_id.in_(ids)
        )
    ):
        already[submission_id].add(kind)
    versions: dict[int, list[SubmissionVersion]] = defaultdict(list)
    for version in db.session.scalars(
        select(SubmissionVersion).where(SubmissionVersion.submission_id.in_(ids))
    ):
        versions[version.submission_id].append(version)
    per_round: dict[tuple[int, int, str], list[int]] = defaultdict(list)
    files_per_round: Counter = Counter()
    counts: Counter = Counter()
    for d in batch:
        kinds = [k for k in d.kinds if k not in already[d.submission_id]]
        own = versions[d.submission_id]
        for kind in kinds:
            files = _PURGERS[kind](d.submission_id, own)
            db.session.add(
                RetentionPurge(submission_id=d.submission_id, kind=kind, round_id=d.round_id)
            )
            per_round[(d.round_id, d.commune_id, kind)].append(d.submission_id)
            files_per_round[(d.round_id, kind)] += files
            counts[kind] += 1
    db.session.flush()
    for (round_id, commune_id, kind), submission_ids in per_round.items():
        record(
            "retention.purge",
            "review_round",
            round_id,
            commune_id=commune_id,
            after={
                "kind": kind,
                "submissions": len(submission_ids),
                "files": files_per_round[(round_id, kind)],
                "submission_ids": submission_ids,
            },
            note="Xoá theo quy định lưu trữ",
            actor_id=None,
        )
    return counts


def _purge_attachments(_submission_id: int, versions: list[SubmissionVersion]) -> int:
    attachments = db.session.scalars(
        select(SubmissionAttachment).where(
            SubmissionAttachment.version_id.in_([v.id for v in versions]),
            SubmissionAttachment.blob_sha256.is_not(None),
        )
    ).all()
    shas = {a.blob_sha256 for a in attachments}
    for attachment in attachments:
        attachment.blob_sha256, attachment.size = None, None
    _list_pending(shas)
    return len(attachments)


def _list_pending(shas: set[str]) -> None:
    """List blobs no longer referenced by what this transaction purged in
    ``retention_pending_files`` (once each); they leave the disk after the commit."""
    if not shas:
        return
    known = set(
        db.session.scalars(
            select(RetentionPendingFile.sha256).where(RetentionPendingFile.sha256.in_(shas))
        )
    )
    db.session.add_all(RetentionPendingFile(sha256=s) for s in sorted(shas - known))
    db.session.flush()


def _drop_answers(versions: list[SubmissionVersion], keep: Callable[[object, str], bool]):
    for version in versions:
        labels = form_labels(version.form_version.xform)
        fields = dict(version.fields or {})
        kept = {k: v for k, v in fields.items() if keep(labels.fields.get(strip_indexes(k)), k)}
        if kept != fields:
            version.fields = kept


def _purge_gps(_submission_id: int, versions: list[SubmissionVersion]) -> int:
    _drop_answers(versions, lambda f, _k: f is None or f.type not in GEO_TYPES)
    return 0


def _purge_free_text(_submission_id: int, versions: list[SubmissionVersion]) -> int:
    def keep(f, key: str) -> bool:
        if key.startswith("meta/") or f is None:
            return True
        typed = f.control in TEXT_CONTROLS and f.type == "string"
        return not typed or f.calculated or f.note

    _drop_answers(versions, keep)
    return 0


def _purge_xml(_submission_id: int, versions: list[SubmissionVersion]) -> int:
    db.session.execute(
        delete(SubmissionXml).where(SubmissionXml.version_id.in_([v.id for v in versions]))
    )
    for version in versions:
        db.session.expire(version, ["xml_row"])
    return 0


def _purge_answers(_submission_id: int, versions: list[SubmissionVersion]) -> int:
    for version in versions:
        version.fields = {}
    return 0


def _purge_scores(submission_id: int, _versions: list[SubmissionVersion]) -> int:
    for score in db.session.scalars(
        select(HouseholdScore).where(HouseholdScore.submission_id == submission_id)
    ):
        result = {k: v for k, v in (score.result or {}).items() if k not in SCORE_DROP}
        members = (result.get("inputs") or {}).get("members") or []
        result["inputs"] = {
            "members": [{k: m.get(k) for k in MEMBER_KEEP if k in m} for m in members]
        }
        result["indicators"] = [
            {k: v for k, v in i.items() if k not in INDICATOR_DROP}
            for i in result.get("indicators") or []
        ]
        result["purged"] = True
        score.result = result
    return 0


def _purge_audit(submission_id: int, _versions: list[SubmissionVersion]) -> int:
    db.session.execute(
        delete(AuditEvent).where(
            AuditEvent.target_type == "submission",
            AuditEvent.target_id == str(submission_id),
            AuditEvent.action.not_like("retention.%"),
        )
    )
    return 0


_PURGERS: dict[str, Callable[[int, list[SubmissionVersion]], int]] = {
    ATTACHMENTS: _purge_attachments,
    GPS: _purge_gps,
    FREE_TEXT: _purge_free_text,
    XML: _purge_xml,
    ANSWERS: _purge_answers,
    SCORES: _purge_scores,
    AUDIT: _purge_audit,
}


def delete_pending_files() -> int:
    """Delete from disk the files committed purges left behind (none still referenced), then
    forget them; returns how many files were deleted.  Safe to run at any time."""
    deleted = 0
    store = blob_store()
    while True:
        db.session.rollback()
        rows = db.session.scalars(
            select(RetentionPendingFile).order_by(RetentionPendingFile.id).limit(200)
        ).all()
        if not rows:
            return deleted
        shas = [r.sha256 for r in rows]
        still = _referenced(shas)
        for sha in shas:
            if sha in still:
                continue
            with contextlib.suppress(FileNotFoundError):
                store.path_for(sha).unlink()
                deleted += 1
        with write_transaction(db.session):
            db.session.execute(
                delete(RetentionPendingFile).where(RetentionPendingFile.sha256.in_(shas))
            )


def _referenced(shas: Iterable[str]) -> set[str]:
    shas = list(shas)
    found = set()
    for column in (
        SubmissionAttachment.blob_sha256,
        FormAttachment.blob_sha256,
        ExportJob.blob_sha256,
    ):
        found.update(db.session.scalars(select(column).where(column.in_(shas))))
    # A draft's test submissions keep their files by name in JSON (few rows: drafts only).
    for files in db.session.scalars(select(DraftSubmission.attachments)):
        found.update(v for v in (files or {}).values() if v in shas)
    return found


# --- generated files and access records ---------------------------------------------------
#
# Not a submission's data: a generated file (an export job's PDF or XLSX) counts from the day it
# was made, an access record from the day of the look (both days in Vietnam).  What is dated on
# or before ``today`` minus the period is due.


def _vietnam_day(moment: datetime) -> date:
    return moment.replace(tzinfo=UTC).astimezone(VIETNAM_TIME).date()


def _through(today: date, province_id: int | None, kind: str, cache: dict) -> date | None:
    """The last day of what is due under ``province_id``'s rule for ``kind`` (None: kept)."""
    if province_id not in cache:
        cache[province_id] = rules_for(province_id)
    months = cache[province_id][kind].months
    return None if months is None else add_months(today, -months)


@dataclass
class DueFile:
    job_id: int
    commune_id: int
    round_id: int | None
    made_on: date
    through: date
    held: str | None = None


def due_export_files(today: date, province_id: int | None = None) -> list[DueFile]:
    """The finished export files past their period, not removed yet (held ones included, with
    the reason: a round under a hold keeps its files)."""
    query = (
        select(
            ExportJob.id,
            ExportJob.commune_id,
            ExportJob.params,
            ExportJob.finished_at,
            ExportJob.created_at,
            Commune.province_id,
        )
        .join(Commune, Commune.id == ExportJob.commune_id)
        .where(
            ExportJob.state == DONE,
            ExportJob.blob_sha256.is_not(None),
            ExportJob.purged_at.is_(None),
        )
        .order_by(ExportJob.id)
    )
    if province_id is not None:
        query = query.where(Commune.province_id == province_id)
    holds = _holds(province_id)
    rules: dict = {}
    found = []
    for job_id, commune_id, params, finished_at, created_at, prov in db.session.execute(query):
        through = _through(today, prov, EXPORT_FILES, rules)
        made_on = _vietnam_day(finished_at or created_at)
        if through is None or made_on > through:
            continue
        round_id = (params or {}).get("round_id")
        round_id = int(round_id) if round_id is not None else None
        held = holds.get(("round", round_id)) if round_id is not None else None
        found.append(DueFile(job_id, commune_id, round_id, made_on, through, held))
    return found


def _held_households(province_id: int | None) -> dict[tuple[int, str], str]:
    """(commune id, household code) → why its access records are kept: a household on hold
    (or with a complaint awaiting its re-check), or a household of a round on hold."""
    holds = _holds(province_id)
    held = {(key[1], key[2]): reason for key, reason in holds.items() if key[0] == "household"}
    rounds = [key[1] for key in holds if key[0] == "round"]
    if rounds:
        for round_id, commune_id, code in db.session.execute(
            select(HouseholdCase.round_id, ReviewRound.commune_id, HouseholdCase.household_code)
            .join(ReviewRound, ReviewRound.id == HouseholdCase.round_id)
            .where(HouseholdCase.round_id.in_(rounds))
        ):
            if code:
                held.setdefault((commune_id, code), holds[("round", round_id)])
    return held


def _record_scopes(today: date, province_id: int | None) -> list[tuple[ColumnElement, date]]:
    """Per province (and, for a run over every province, the records of no province under
    rasoat's defaults): which access records are due, and the period's last day."""
    provinces: list[int | None] = [province_id]
    if province_id is None:
        provinces = [*db.session.scalars(select(Province.id).order_by(Province.id)), None]
    rules: dict = {}
    scopes = []
    for prov in provinces:
        through = _through(today, prov, ACCESS_RECORDS, rules)
        if through is None:
            continue
        where = (
            AccessRecord.province_id == prov
            if prov is not None
            else AccessRecord.province_id.is_(None)
        )
        scopes.append((and_(where, AccessRecord.day <= through), through))
    return scopes


def _household_key():
    return tuple_(
        func.coalesce(AccessRecord.commune_id, 0), func.coalesce(AccessRecord.household_code, "")
    )


def _not_held(held: dict) -> ColumnElement[bool]:
    return ~_household_key().in_(list(held)) if held else true()


def _record_rows(today: date, province_id: int | None) -> tuple[list[RecordRow], list[RecordRow]]:
    """The dry run of generated files and access records: per commune, how many and the
    oldest; and what is held."""
    names = dict(db.session.execute(select(Commune.id, Commune.name)).tuples().all())
    rows: list[RecordRow] = []
    held_rows: list[RecordRow] = []
    files: dict[tuple, RecordRow] = {}
    labels: dict[int, str] = {}
    for due in due_export_files(today, province_id):
        label = None
        if due.held and due.round_id is not None:
            if due.round_id not in labels:
                labels[due.round_id] = _round_label(db.session.get(ReviewRound, due.round_id))
            label = labels[due.round_id]
        key = (due.commune_id, due.held, label)
        row = files.get(key)
        if row is None:
            name = names.get(due.commune_id, "—")
            row = files[key] = RecordRow(name, EXPORT_FILES, 0, due.made_on, due.through)
            row.reason, row.round_label = due.held, label
            (held_rows if due.held else rows).append(row)
        row.count += 1
        row.oldest = min(row.oldest, due.made_on)
    held = _held_households(province_id)
    for where, through in _record_scopes(today, province_id):
        for commune_id, count, oldest in db.session.execute(
            select(AccessRecord.commune_id, func.count(), func.min(AccessRecord.day))
            .where(where, _not_held(held))
            .group_by(AccessRecord.commune_id)
        ):
            rows.append(
                RecordRow(names.get(commune_id, "—"), ACCESS_RECORDS, count, oldest, through)
            )
        if not held:
            continue
        for commune_id, code, count, oldest in db.session.execute(
            select(
                AccessRecord.commune_id,
                AccessRecord.household_code,
                func.count(),
                func.min(AccessRecord.day),
            )
            .where(where, _household_key().in_(list(held)))
            .group_by(AccessRecord.commune_id, AccessRecord.household_code)
        ):
            held_rows.append(
                RecordRow(
                    names.get(commune_id, "—"),
                    ACCESS_RECORDS,
                    count,
                    oldest,
                    through,
                    reason=held[(commune_id, code)],
                    household_code=code,
                )
            )
    order = {EXPORT_FILES: 0, ACCESS_RECORDS: 1}
    rows.sort(key=lambda r: (r.commune, order[r.kind]))
    held_rows.sort(key=lambda r: (r.commune, order[r.kind], r.household_code or ""))
    return rows, held_rows


def _purge_export_files(
    today: date,
    province_id: int | None,
    batch_size: int,
    after_commit: Callable[[int], None] | None,
    result: ApplyResult,
) -> None:
    """Remove the due files: in each batch's transaction the job says its file is gone
    (``purged_at``), forgets the blob and lists it in ``retention_pending_files``; the blob
    leaves the disk after the commit (a re-run deletes what a crash left)."""
    due = due_export_files(today, province_id)
    result.export_files_held = sum(1 for d in due if d.held)
    todo = [d for d in due if not d.held]
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        with write_transaction(db.session):
            result.export_files += _purge_files_batch(batch)
        result.record_batches += 1
        if after_commit is not None:
            after_commit(result.all_batches)
        result.files_deleted += delete_pending_files()


def _purge_files_batch(batch: list[DueFile]) -> int:
    jobs = db.session.scalars(
        select(ExportJob).where(
            ExportJob.id.in_([d.job_id for d in batch]),
            ExportJob.purged_at.is_(None),
            ExportJob.blob_sha256.is_not(None),
        )
    ).all()
    now = utcnow()
    shas = set()
    per_round: dict[tuple[int | None, int], list[int]] = defaultdict(list)
    rounds = {d.job_id: d.round_id for d in batch}
    for job in jobs:
        shas.add(job.blob_sha256)
        job.blob_sha256, job.purged_at = None, now
        per_round[(rounds[job.id], job.commune_id)].append(job.id)
    _list_pending(shas)
    db.session.flush()
    for (round_id, commune_id), job_ids in per_round.items():
        record(
            "retention.purge",
            "review_round" if round_id is not None else "commune",
            round_id if round_id is not None else commune_id,
            commune_id=commune_id,
            after={"kind": EXPORT_FILES, "files": len(job_ids), "export_job_ids": job_ids},
            note="Xoá theo quy định lưu trữ",
            actor_id=None,
        )
    return len(jobs)


def _purge_access_records(
    today: date,
    province_id: int | None,
    batch_size: int,
    after_commit: Callable[[int], None] | None,
    result: ApplyResult,
) -> None:
    """Delete the due access records, at most ``batch_size`` rows a transaction, with one audit
    entry per commune and batch (how many, through which day)."""
    held = _held_households(province_id)
    for where, through in _record_scopes(today, province_id):
        after = 0
        while True:
            with write_transaction(db.session):
                rows = db.session.execute(
                    select(AccessRecord.id, AccessRecord.commune_id, AccessRecord.province_id)
                    .where(where, _not_held(held), AccessRecord.id > after)
                    .order_by(AccessRecord.id)
                    .limit(batch_size)
                ).all()
                if rows:
                    _delete_records(rows, through)
            if not rows:
                break
            after = rows[-1][0]
            result.access_records += len(rows)
            result.record_batches += 1
            if after_commit is not None:
                after_commit(result.all_batches)


def _delete_records(rows, through: date) -> None:
    db.session.execute(
        delete(AccessRecord)
        .where(AccessRecord.id.in_([r[0] for r in rows]))
        .execution_options(synchronize_session=False)
    )
    per_commune: Counter = Counter((commune_id, prov) for _id, commune_id, prov in rows)
    for (commune_id, prov), count in sorted(per_commune.items(), key=lambda i: i[0][0] or 0):
        record(
            "retention.purge",
            "commune" if commune_id is not None else "province",
            commune_id if commune_id is not None else prov,
            commune_id=commune_id,
            province_id=prov,
            after={"kind": ACCESS_RECORDS, "records": count, "through": through.isoformat()},
            note="Xoá theo quy định lưu trữ",
            actor_id=None,
        )


def export_file_purged(purged_at: datetime) -> AppError:
    """The answer for an export's file retention deleted (410: it existed, it is gone)."""
    day = local_time(purged_at, "%d/%m/%Y")
    return AppError(
        "export.file_purged",
        410,
        f"Tệp đã xoá theo quy định lưu trữ (ngày {day}). Có thể tạo lại tệp từ dữ liệu đang lưu.",
        f"The file was deleted under the retention rules (on {day}). It can be made again from"
        " the stored data.",
    )


# --- pages ----------------------------------------------------------------------------------


def purged_kinds(submission_id: int) -> dict[str, datetime]:
    """What retention deleted of a submission: kind → when."""
    return dict(
        db.session.execute(
            select(RetentionPurge.kind, RetentionPurge.purged_at).where(
                RetentionPurge.submission_id == submission_id
            )
        ).all()
    )


def file_purged(purged_at: datetime) -> AppError:
    """The answer for a file retention deleted (410: it existed, it is gone for good)."""
    day = local_time(purged_at, "%d/%m/%Y")
    return AppError(
        "submission.file_purged",
        410,
        f"Tệp đã xoá theo quy định lưu trữ (ngày {day}).",
        f"The file was deleted under the retention rules (on {day}).",
    )


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start : start + size]
