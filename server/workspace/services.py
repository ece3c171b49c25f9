"""The commune's households for one review year, and one household across years.

The review is about households, while questionnaires arrive one by one: this module puts them
back together.  For every household of the registry it says what last year's list recorded,
which of this year's questionnaires have arrived (Phiếu A, Phiếu B, the income survey, the
household's requests), the result that counts and whether it changed, its review state and how
far the procedure has taken it (meeting list, posting, decision).  Households that sent a
questionnaire but are not in the registry (a Phiếu B "not on the list") are listed beside them,
so that nobody is missed either way.

Who sees what is decided here, with the rules of the submission pages
(:mod:`server.submissions.scope`): an officer their commune, an administrator their province, a
village head their villages; anything else is *not found*.  The list is a handful of queries
whatever the number of households: the filters, the search (on the stored folded name) and the
paging run in the database, and the details of the page's rows are fetched together.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    String,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import aliased, joinedload, selectinload, undefer

from server.accounts.models import User
from server.decisions.models import Certificate
from server.errors import AppError
from server.extensions import db
from server.geography.models import Commune, Village
from server.households.models import Household, HouseholdYearStatus
from server.households.names import fold_name
from server.i18n import VIETNAM_TIME, vietnam_today
from server.meetings.models import HouseholdCase, MeetingVote, ReviewRound, VillageMeeting
from server.meetings.requests import request_forms
from server.questionnaires.models import Form
from server.review.models import SubmissionEvent
from server.scoring.engine import Category
from server.scoring.evidence import HouseholdEvidence
from server.scoring.mapping import mappings
from server.scoring.models import HouseholdScore
from server.submissions.models import Submission, SubmissionVersion
from server.submissions.scope import commune_scope, in_scope, village_scope

POOR, NEAR_POOR = "ngheo", "can_ngheo"
PHIEU_A = "phieu_a"
# Transitions (server.scoring.transitions) that keep last year's status; "chua_xac_dinh" (no
# verdict yet) is neither kept nor changed.
UNCHANGED = ("van_ngheo", "van_can_ngheo", "khong_thay_doi")
NO_VERDICT = (Category.UNDETERMINED.value, Category.NOT_ASSESSED.value)
# The list's filters (the page gives them their words).
FILTERS = ("chua_co_phieu", "thay_doi", "ngheo_chua_co_gi", "khong_thong_nhat")
# Kinds of questionnaire, in the order the pages show them.
KINDS = ("phieu_a", "phieu_b", "thu_nhap", "de_nghi")
MAX_UNREGISTERED = 500  # households outside the registry shown at once (a few are expected)


def phieu_b_forms() -> list[str]:
    """The questionnaires whose answers are scored as a household (the Phiếu B versions)."""
    return list(mappings())


def _scored_forms() -> list[str]:
    """What a household's result of the year can come from: a Phiếu B, or a Phiếu A that
    stopped the review."""
    return [*phieu_b_forms(), PHIEU_A]


def _not_found() -> AppError:
    return AppError("household.not_found", 404, "Không tìm thấy hộ.", "Household not found.")


# --- scope -------------------------------------------------------------------------------------


def _visible_villages(actor: User):
    return select(Village.id).where(village_scope(actor))


def visible_households(actor: User):
    """The condition limiting registry households to the actor's villages (all of an
    officer's commune, an administrator's province, a village head's own villages)."""
    return Household.village_id.in_(_visible_villages(actor))


def communes_for(actor: User) -> list[Commune]:
    return list(
        db.session.scalars(select(Commune).where(commune_scope(actor)).order_by(Commune.code))
    )


def villages_for(actor: User, commune_code: str = "") -> list[Village]:
    query = select(Village).where(village_scope(actor)).order_by(Village.code)
    if commune_code:
        query = query.join(Commune, Commune.id == Village.commune_id).where(
            Commune.code == commune_code
        )
    return list(db.session.scalars(query))


def _visible_submissions(actor: User):
    """Submissions the actor may open (the submission pages' rule)."""
    return in_scope(actor)


# --- years -------------------------------------------------------------------------------------


def current_review_year(statuses: set[int], scores: set[int], rounds: set[int]) -> int:
    """The review under way: the newest year with a questionnaire's result or a review round;
    before any, the year after the newest recorded status; else this calendar year."""
    if scores or rounds:
        return max(scores | rounds)
    if statuses:
        return max(statuses) + 1
    return vietnam_today().year


def review_years(actor: User) -> tuple[int, list[int]]:
    """The current review year in the actor's scope, and the years to choose from (newest
    first): those with a recorded status, a result or a review round, and the one after the
    newest status (the review that comes next)."""
    statuses = set(
        db.session.scalars(
            select(HouseholdYearStatus.year)
            .join(Household, Household.id == HouseholdYearStatus.household_id)
            .where(visible_households(actor))
            .distinct()
        )
    )
    scores = set(
        db.session.scalars(
            select(HouseholdScore.year)
            .join(Submission, Submission.id == HouseholdScore.submission_id)
            .where(in_scope(actor), HouseholdScore.current.is_(True))
            .distinct()
        )
    )
    rounds = set(
        db.session.scalars(
            select(ReviewRound.year)
            .join(Commune, Commune.id == ReviewRound.commune_id)
            .where(commune_scope(actor))
            .distinct()
        )
    )
    current = current_review_year(statuses, scores, rounds)
    years = statuses | scores | rounds | {current}
    if statuses:
        years.add(max(statuses) + 1)
    return current, sorted(years, reverse=True)


# --- the list's SQL ----------------------------------------------------------------------------


def _chosen_score_id(year: int, commune_id, code):
    """The id of the result that counts for the household whose commune and code are the
    given columns: of the year's questionnaires not rejected, a Phiếu B over a Phiếu A "stop",
    then the latest (as the reports and the meeting lists choose)."""
    score, submission = aliased(HouseholdScore), aliased(Submission)
    return (
        select(score.id)
        .join(submission, submission.id == score.submission_id)
        .where(
            score.household_code == code,
            submission.commune_id == commune_id,
            score.current.is_(True),
            # "+ 0": look the household up through the index on its code, not on the year.
            score.year + 0 == year,
            score.mapping.in_(_scored_forms()),
            submission.review_state != "rejected",
        )
        .order_by(
            case((score.mapping.in_(phieu_b_forms()), 0), else_=1),
            score.created_at.desc(),
            score.id.desc(),
        )
        .limit(1)
        .scalar_subquery()
    )


def _has_evidence(year: int, commune_id, code):
    """A Phiếu A or income survey of the year (not rejected) names the household."""
    evidence, submission = aliased(HouseholdEvidence), aliased(Submission)
    return exists(
        select(evidence.id)
        .join(submission, submission.id == evidence.submission_id)
        .where(
            evidence.commune_id == commune_id,
            evidence.household_code == code,
            evidence.year == year,
            submission.review_state != "rejected",
        )
    )


def _last_status(year: int):
    """(status, year) of the household's newest recorded status before ``year``."""
    hys = aliased(HouseholdYearStatus)
    newest = (
        select(hys.year)
        .where(hys.household_id == Household.id, hys.year < year)
        .order_by(hys.year.desc())
        .limit(1)
    )
    status = newest.with_only_columns(type_coerce(hys.status, String))
    return status.scalar_subquery(), newest.scalar_subquery()


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True, slots=True)
class ListQuery:
    """What the list shows: the year, the search and the filters (all kept in the URL)."""

    year: int
    q: str = ""
    village: str = ""
    commune: str = ""
    show: str = ""  # one of FILTERS, or "" for every household


def _registry_select(actor: User, query: ListQuery):
    """Registry households matching the query, with the result that counts and the status
    before the year: ``(Household, score id, last status, its year)``."""
    year = query.year
    chosen = aliased(HouseholdScore, name="chosen")
    chosen_id = _chosen_score_id(year, Household.commune_id, Household.code)
    last_status, last_year = _last_status(year)
    stmt = (
        select(
            Household,
            chosen.id.label("score_id"),
            last_status.label("last_status"),
            last_year.label("last_year"),
        )
        .join(Village, Village.id == Household.village_id)
        .outerjoin(chosen, chosen.id == chosen_id)
        .where(visible_households(actor))
    )
    if query.commune:
        stmt = stmt.join(Commune, Commune.id == Household.commune_id).where(
            Commune.code == query.commune
        )
    if query.village:
        stmt = stmt.where(Village.code == query.village)
    if query.q.strip():
        stmt = stmt.where(
            or_(
                Household.head_name_folded.like(_like(fold_name(query.q)), escape="\\"),
                func.lower(Household.code).like(_like(query.q.strip().lower()), escape="\\"),
            )
        )
    nothing = and_(chosen.id.is_(None), ~_has_evidence(year, Household.commune_id, Household.code))
    if query.show == "chua_co_phieu":
        stmt = stmt.where(nothing)
    elif query.show == "thay_doi":
        stmt = stmt.where(chosen.transition.not_in((*UNCHANGED, "chua_xac_dinh")))
    elif query.show == "ngheo_chua_co_gi":
        stmt = stmt.where(nothing, last_status.in_((POOR, NEAR_POOR)))
    elif query.show == "khong_thong_nhat":
        stmt = stmt.where(chosen.methods_disagree.is_(True))
    return stmt.order_by(Household.commune_id, Village.code, Household.code)


# --- what the rows show ------------------------------------------------------------------------


@dataclass(slots=True)
class Questionnaire:
    """One questionnaire of a household: a link to its submission page and what it says."""

    kind: str  # one of KINDS
    submission_id: int
    form_title: str
    review_state: str
    received_at: datetime
    submitter: str
    year: int
    score: HouseholdScore | None = None  # Phiếu B, or a Phiếu A that stopped the review
    evidence: HouseholdEvidence | None = None  # Phiếu A, income survey
    request: str = ""  # "Mẫu số 01" / "Mẫu số 04"


@dataclass(slots=True)
class Stage:
    """Where the procedure has taken a household in one review round."""

    case: HouseholdCase
    round: ReviewRound


@dataclass(slots=True)
class HouseholdRow:
    """One line of the list."""

    code: str | None
    head_name: str
    village: Village | None
    commune: Commune
    household: Household | None = None  # None: not in the registry
    last_status: str | None = None
    last_year: int | None = None
    score: HouseholdScore | None = None  # the result that counts this year
    review_state: str | None = None  # of that result's questionnaire
    questionnaires: dict[str, list[Questionnaire]] = field(default_factory=dict)
    stage: Stage | None = None
    submission_id: int | None = None  # an unregistered household without a code

    @property
    def changed(self) -> bool | None:
        """Whether this year's result differs from last year's status (None: no verdict yet,
        or nothing to compare with)."""
        if self.score is None or self.score.category in NO_VERDICT:
            return None
        if self.household is None:  # a household new to the registry
            return self.score.category in (POOR, NEAR_POOR)
        moved = self.score.transition
        if moved is None or moved == "chua_xac_dinh":
            return None
        return moved not in UNCHANGED

    @property
    def disagree(self) -> bool:
        return bool(self.score is not None and self.score.methods_disagree)

    @property
    def resurvey(self) -> bool:
        return self.household is not None and self.household.resurvey_requested_at is not None

    @property
    def has_questionnaire(self) -> bool:
        return any(
            q.review_state != "rejected"
            for kind in ("phieu_a", "phieu_b", "thu_nhap")
            for q in self.questionnaires.get(kind, [])
        )


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    """The year in Vietnam time as naive UTC (how times are stored)."""
    offset = VIETNAM_TIME.utcoffset(None)
    return datetime(year, 1, 1) - offset, datetime(year + 1, 1, 1) - offset


def _questionnaire(submission: Submission, kind: str, year: int, **extra) -> Questionnaire:
    return Questionnaire(
        kind=kind,
        submission_id=submission.id,
        form_title=submission.form.title,
        review_state=submission.review_state,
        received_at=submission.created_at,
        submitter=submission.submitter.display_name,
        year=year,
        **extra,
    )


def _submission_options():
    return (joinedload(Submission.form), joinedload(Submission.submitter))


def _scores_of(actor: User, commune_ids, codes, year: int | None):
    """Current Phiếu B / Phiếu A results naming these codes (any state), with their
    submissions."""
    query = (
        select(HouseholdScore, Submission)
        .join(Submission, Submission.id == HouseholdScore.submission_id)
        .where(
            HouseholdScore.household_code.in_(codes),
            Submission.commune_id.in_(commune_ids),
            HouseholdScore.current.is_(True),
            HouseholdScore.mapping.in_(_scored_forms()),
            _visible_submissions(actor),
        )
        .options(*_submission_options())
        .order_by(HouseholdScore.year, Submission.created_at, Submission.id)
    )
    if year is not None:
        query = query.where(HouseholdScore.year == year)
    return db.session.execute(query).all()


def _evidence_of(actor: User, commune_ids, codes, year: int | None):
    query = (
        select(HouseholdEvidence, Submission)
        .join(Submission, Submission.id == HouseholdEvidence.submission_id)
        .where(
            HouseholdEvidence.household_code.in_(codes),
            HouseholdEvidence.commune_id.in_(commune_ids),
            _visible_submissions(actor),
        )
        .options(*_submission_options())
        .order_by(HouseholdEvidence.year, Submission.created_at, Submission.id)
    )
    if year is not None:
        query = query.where(HouseholdEvidence.year == year)
    return db.session.execute(query).all()


@dataclass(frozen=True, slots=True)
class _Request:
    submission: Submission
    form: str
    code: str | None
    name: str
    folded_name: str
    year: int


def _requests_of(actor: User, commune_ids, year: int | None) -> list[_Request]:
    """The households' requests (Mẫu số 01 / 04, ``forms/requests.yaml``) received in the
    communes (in the year, in Vietnam time), with the code and the head's name they give.
    Requests are few (a household's own written request), so their answers are read here."""
    specs = request_forms()
    if not specs or not commune_ids:
        return []
    query = (
        select(Submission, SubmissionVersion)
        .join(Form, Form.id == Submission.form_id)
        .join(
            SubmissionVersion,
            and_(
                SubmissionVersion.submission_id == Submission.id,
                SubmissionVersion.current.is_(True),
            ),
        )
        .where(
            Submission.commune_id.in_(commune_ids),
            Form.xml_form_id.in_(list(specs)),
            _visible_submissions(actor),
        )
        .options(undefer(SubmissionVersion.fields), *_submission_options())
        .order_by(Submission.created_at, Submission.id)
    )
    if year is not None:
        start, end = _year_bounds(year)
        query = query.where(Submission.created_at >= start, Submission.created_at < end)
    out = []
    offset = VIETNAM_TIME.utcoffset(None)
    for submission, version in db.session.execute(query):
        spec = specs[submission.form.xml_form_id]
        answers = version.fields or {}
        code_path, name_path = spec.get("household_code"), spec.get("head_name")
        code = str(answers.get(code_path) or "").strip() if code_path else ""
        name = str(answers.get(name_path) or "") if name_path else ""
        out.append(
            _Request(
                submission=submission,
                form=spec["form"],
                code=code or None,
                name=name.strip(),
                folded_name=fold_name(name),
                year=(submission.created_at + offset).year,
            )
        )
    return out


def _match_requests(
    requests: list[_Request], households: list[tuple[int, str, int | None, str]]
) -> dict[tuple[int, str], list[_Request]]:
    """Each request to the household it names: by household code (Mẫu số 04), else by the
    head's name in the same village (Mẫu số 01, whose household may have no code yet).
    ``households``: (commune id, code, village id, folded head's name)."""
    by_code = {(c, code): (c, code) for c, code, _v, _n in households}
    by_name = {(c, v, n): (c, code) for c, code, v, n in households if n}
    out: dict[tuple[int, str], list[_Request]] = defaultdict(list)
    for request in requests:
        commune_id = request.submission.commune_id
        key = by_code.get((commune_id, request.code)) if request.code else None
        if key is None and request.folded_name:
            key = by_name.get((commune_id, request.submission.village_id, request.folded_name))
        if key is not None:
            out[key].append(request)
    return out


def _stages(commune_ids, household_ids, codes, year: int | None) -> list[Stage]:
    """The households' cases in the review rounds (of the year), oldest round first."""
    if not commune_ids:
        return []
    query = (
        select(HouseholdCase, ReviewRound)
        .join(ReviewRound, ReviewRound.id == HouseholdCase.round_id)
        .where(
            ReviewRound.commune_id.in_(commune_ids),
            or_(
                HouseholdCase.household_id.in_(household_ids),
                HouseholdCase.household_code.in_(codes),
            ),
        )
        .order_by(ReviewRound.year, ReviewRound.started_on, ReviewRound.id, HouseholdCase.id)
    )
    if year is not None:
        query = query.where(ReviewRound.year == year)
    return [Stage(case=c, round=r) for c, r in db.session.execute(query)]


def _fill_rows(actor: User, rows: list[HouseholdRow], year: int) -> None:
    """The year's questionnaires, result, review state and stage of each row, fetched for
    all the rows together."""
    keyed = {(r.commune.id, r.code): r for r in rows if r.code}
    commune_ids = sorted({r.commune.id for r in rows})
    codes = sorted({r.code for r in rows if r.code})
    if not rows:
        return
    for score, submission in _scores_of(actor, commune_ids, codes, year):
        row = keyed.get((submission.commune_id, score.household_code))
        if row is not None and score.mapping != PHIEU_A:  # a Phiếu A is listed by its evidence
            row.questionnaires.setdefault("phieu_b", []).append(
                _questionnaire(submission, "phieu_b", year, score=score)
            )
    for evidence, submission in _evidence_of(actor, commune_ids, codes, year):
        row = keyed.get((submission.commune_id, evidence.household_code))
        if row is None:
            continue
        kind = "phieu_a" if evidence.kind == "screening" else "thu_nhap"
        row.questionnaires.setdefault(kind, []).append(
            _questionnaire(submission, kind, year, evidence=evidence)
        )
    matched = _match_requests(
        _requests_of(actor, commune_ids, year),
        [
            (
                r.commune.id,
                r.code,
                r.village.id if r.village else None,
                r.household.head_name_folded if r.household else "",
            )
            for r in rows
            if r.code
        ],
    )
    for key, requests in matched.items():
        keyed[key].questionnaires["de_nghi"] = [
            _questionnaire(q.submission, "de_nghi", year, request=q.form) for q in requests
        ]
    household_ids = [r.household.id for r in rows if r.household]
    by_household = {r.household.id: r for r in rows if r.household}
    for stage in _stages(commune_ids, household_ids, codes, year):
        case_ = stage.case
        row = by_household.get(case_.household_id) if case_.household_id else None
        if row is None and case_.household_code:
            row = keyed.get((stage.round.commune_id, case_.household_code))
        if row is not None:
            row.stage = stage  # the newest round's case wins (ordered oldest first)


@dataclass(frozen=True, slots=True)
class ListResult:
    rows: list[HouseholdRow]
    total: int


def registry_rows(actor: User, query: ListQuery, page: int, size: int) -> ListResult:
    """One page of the registry households matching ``query``, with everything the list
    shows; a few queries whatever the page size."""
    stmt = _registry_select(actor, query)
    total = db.session.scalar(
        select(func.count()).select_from(
            stmt.order_by(None).with_only_columns(Household.id).subquery()
        )
    )
    found = db.session.execute(
        stmt.options(joinedload(Household.village), joinedload(Household.commune))
        .limit(size)
        .offset((page - 1) * size)
    ).all()
    score_ids = [score_id for _h, score_id, _s, _y in found if score_id]
    scores = {
        score.id: (score, state)
        for score, state in db.session.execute(
            select(HouseholdScore, Submission.review_state)
            .join(Submission, Submission.id == HouseholdScore.submission_id)
            .where(HouseholdScore.id.in_(score_ids))
        )
    }
    rows = [
        HouseholdRow(
            code=household.code,
            head_name=household.head_name,
            village=household.village,
            commune=household.commune,
            household=household,
            last_status=last_status,
            last_year=last_year,
            score=scores[score_id][0] if score_id in scores else None,
            review_state=scores[score_id][1] if score_id in scores else None,
        )
        for household, score_id, last_status, last_year in found
    ]
    _fill_rows(actor, rows, query.year)
    return ListResult(rows=rows, total=total or 0)


# --- households outside the registry -----------------------------------------------------------


def _head_from(score: HouseholdScore | None, answers: dict) -> str:
    name = str(answers.get("head_name") or answers.get("new_head_name") or "").strip()
    if name or score is None:
        return name
    members = (score.result.get("inputs") or {}).get("members") or []
    head = next((m for m in members if m.get("relationship") == "chu_ho"), None)
    return str((head or (members[0] if members else {})).get("name") or "").strip()


def _submission_scope(actor: User, query: ListQuery) -> list:
    """Conditions on Submission: the actor's, and the commune / village the query names."""
    scope = [_visible_submissions(actor)]
    if query.commune:
        scope.append(
            Submission.commune_id.in_(select(Commune.id).where(Commune.code == query.commune))
        )
    if query.village:
        scope.append(
            Submission.village_id.in_(
                select(Village.id).where(Village.code == query.village, village_scope(actor))
            )
        )
    return scope


def unregistered_rows(actor: User, query: ListQuery) -> list[HouseholdRow]:
    """Households with a questionnaire of the year that are not in the registry: one per
    household code the registry does not know, one per questionnaire without a code (a new
    household), and a request (Mẫu số 01) naming a head the village's registry does not have.
    They are few (at most :data:`MAX_UNREGISTERED` questionnaires are read); the year, commune
    and village of ``query`` apply here, its search and filter in :func:`matching`."""
    scope = _submission_scope(actor, query)
    rows: dict[object, HouseholdRow] = {}

    def row_for(submission: Submission, code: str | None, name: str) -> HouseholdRow:
        key = (submission.commune_id, code) if code else ("#", submission.id)
        row = rows.get(key)
        if row is None:
            row = rows[key] = HouseholdRow(
                code=code,
                head_name=name,
                village=submission.village,
                commune=submission.commune,
                submission_id=None if code else submission.id,
            )
        elif name and not row.head_name:
            row.head_name = name
        return row

    for score, submission, answers in _outside_scores(query.year, scope):
        row = row_for(submission, score.household_code, _head_from(score, answers))
        if score.mapping != PHIEU_A:  # a Phiếu A is listed by its evidence
            row.questionnaires.setdefault("phieu_b", []).append(
                _questionnaire(submission, "phieu_b", query.year, score=score)
            )
        if submission.review_state != "rejected" and _preferred(score, row.score):
            row.score, row.review_state = score, submission.review_state
    for item, submission, answers in _outside_evidence(query.year, scope):
        row = row_for(submission, item.household_code, _head_from(None, answers))
        kind = "phieu_a" if item.kind == "screening" else "thu_nhap"
        row.questionnaires.setdefault(kind, []).append(
            _questionnaire(submission, kind, query.year, evidence=item)
        )
    _add_outside_requests(actor, query, rows, row_for)
    found = list(rows.values())
    _fill_outside_stages(found, query.year)
    return sorted(
        found,
        key=lambda r: (
            r.commune.code,
            r.village.code if r.village else "",
            r.code or "",
            r.head_name,
        ),
    )


def matching(rows: list[HouseholdRow], query: ListQuery) -> list[HouseholdRow]:
    """The households outside the registry that the query's search and filter keep (they all
    have a questionnaire and no status of last year)."""
    if query.show in ("chua_co_phieu", "ngheo_chua_co_gi"):
        return []
    if query.q.strip():
        wanted, code = fold_name(query.q), query.q.strip().lower()
        rows = [
            r
            for r in rows
            if wanted in fold_name(r.head_name) or (r.code and code in r.code.lower())
        ]
    if query.show == "thay_doi":
        return [r for r in rows if r.changed]
    if query.show == "khong_thong_nhat":
        return [r for r in rows if r.disagree]
    return rows


def _outside_options():
    return (
        undefer(SubmissionVersion.fields),
        joinedload(Submission.village),
        joinedload(Submission.commune),
        *_submission_options(),
    )


def _outside_scores(year: int, scope: list):
    """(score, submission, answers) of the year's results whose household is not in the
    registry (no code, or a code it does not have)."""
    registered = exists().where(
        Household.commune_id == Submission.commune_id,
        Household.code == HouseholdScore.household_code,
    )
    return [
        (score, submission, version.fields or {})
        for score, submission, version in db.session.execute(
            select(HouseholdScore, Submission, SubmissionVersion)
            .join(Submission, Submission.id == HouseholdScore.submission_id)
            .join(SubmissionVersion, SubmissionVersion.id == HouseholdScore.submission_version_id)
            .where(
                HouseholdScore.current.is_(True),
                HouseholdScore.year == year,
                HouseholdScore.mapping.in_(_scored_forms()),
                or_(HouseholdScore.household_code.is_(None), ~registered),
                *scope,
            )
            .options(*_outside_options())
            .order_by(Submission.created_at, Submission.id)
            .limit(MAX_UNREGISTERED)
        )
    ]


def _outside_evidence(year: int, scope: list):
    """(evidence, submission, answers) of the year's Phiếu A and income surveys whose household
    is not in the registry."""
    registered = exists().where(
        Household.commune_id == HouseholdEvidence.commune_id,
        Household.code == HouseholdEvidence.household_code,
    )
    return [
        (item, submission, version.fields or {})
        for item, submission, version in db.session.execute(
            select(HouseholdEvidence, Submission, SubmissionVersion)
            .join(Submission, Submission.id == HouseholdEvidence.submission_id)
            .join(
                SubmissionVersion, SubmissionVersion.id == HouseholdEvidence.submission_version_id
            )
            .where(
                HouseholdEvidence.year == year,
                or_(HouseholdEvidence.household_code.is_(None), ~registered),
                *scope,
            )
            .options(*_outside_options())
            .order_by(Submission.created_at, Submission.id)
            .limit(MAX_UNREGISTERED)
        )
    ]


def _add_outside_requests(actor: User, query: ListQuery, rows: dict, row_for) -> None:
    """Requests of the year whose household the registry does not have (by code, or by the
    head's name in the village): attached to an outside row of the same code or name, or
    listed as one."""
    communes = select(Commune.id).where(commune_scope(actor))
    if query.commune:
        communes = communes.where(Commune.code == query.commune)
    requests = [
        r
        for r in _requests_of(actor, list(db.session.scalars(communes)), query.year)
        if not query.village
        or (r.submission.village and r.submission.village.code == query.village)
    ]
    if not requests:
        return
    codes = {r.code for r in requests if r.code}
    names = {r.folded_name for r in requests if r.folded_name}
    known = db.session.execute(
        select(
            Household.commune_id, Household.code, Household.village_id, Household.head_name_folded
        ).where(
            or_(Household.code.in_(codes), Household.head_name_folded.in_(names)),
            Household.commune_id.in_(communes),
        )
    ).all()
    registered_codes = {(c, code) for c, code, _v, _n in known}
    registered_names = {(c, v, n) for c, _code, v, n in known}
    outside_names = {
        (r.commune.id, r.village.id if r.village else None, fold_name(r.head_name)): r
        for r in rows.values()
        if r.head_name
    }
    for request in requests:
        submission = request.submission
        place = (submission.commune_id, submission.village_id, request.folded_name)
        if request.code and (submission.commune_id, request.code) in registered_codes:
            continue
        if not request.code and place in registered_names:
            continue
        row = rows.get((submission.commune_id, request.code)) if request.code else None
        row = row or outside_names.get(place)
        if row is None:
            row = row_for(submission, request.code, request.name)
            outside_names[place] = row
        row.questionnaires.setdefault("de_nghi", []).append(
            _questionnaire(submission, "de_nghi", query.year, request=request.form)
        )


def _fill_outside_stages(rows: list[HouseholdRow], year: int) -> None:
    """The stage of each outside household's case in the year's rounds (by code, or by the
    submission of a household without one)."""
    if not rows:
        return
    by_code = {(r.commune.id, r.code): r for r in rows if r.code}
    by_submission = {r.score.submission_id: r for r in rows if not r.code and r.score}
    found = db.session.execute(
        select(HouseholdCase, ReviewRound)
        .join(ReviewRound, ReviewRound.id == HouseholdCase.round_id)
        .where(
            ReviewRound.year == year,
            ReviewRound.commune_id.in_({r.commune.id for r in rows}),
            or_(
                HouseholdCase.household_code.in_({code for _c, code in by_code}),
                HouseholdCase.submission_id.in_(by_submission),
            ),
        )
        .order_by(ReviewRound.started_on, ReviewRound.id, HouseholdCase.id)
    )
    for case_, round_ in found:
        row = (
            by_code.get((round_.commune_id, case_.household_code))
            if case_.household_code
            else by_submission.get(case_.submission_id)
        )
        if row is not None:
            row.stage = Stage(case=case_, round=round_)


def _preferred(score: HouseholdScore, held: HouseholdScore | None) -> bool:
    """Whether ``score`` counts over ``held``: a Phiếu B over a Phiếu A, then the later."""
    if held is None:
        return True
    rank = (score.mapping != PHIEU_A, score.created_at, score.id)
    return rank > (held.mapping != PHIEU_A, held.created_at, held.id)


# --- progress ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Progress:
    """Counts for one village or one reviewer."""

    label: str
    households: int = 0
    phieu_b: int = 0
    scored: int = 0  # with a verdict (Phiếu B or a Phiếu A "stop"), not "cannot determine"
    approved: int = 0  # the result's questionnaire approved by the commune

    def percent(self, part: int) -> int:
        return round(100 * part / self.households) if self.households else 0


def _year_flags(actor: User, year: int):
    """Per commune and household code, from the year's results (questionnaires not rejected):
    whether one is a Phiếu B, whether one has a verdict, whether one is approved (0 / 1) — one
    grouped pass over the year's results, joined to the registry by the database."""
    score = HouseholdScore
    return (
        select(
            Submission.commune_id.label("commune_id"),
            score.household_code.label("code"),
            func.max(case((score.mapping.in_(phieu_b_forms()), 1), else_=0)).label("is_b"),
            func.max(case((score.category.not_in(NO_VERDICT), 1), else_=0)).label("verdict"),
            func.max(case((Submission.review_state == "approved", 1), else_=0)).label("approved"),
        )
        .join(Submission, Submission.id == score.submission_id)
        .where(
            score.current.is_(True),
            score.year == year,
            score.mapping.in_(_scored_forms()),
            score.household_code.is_not(None),
            Submission.review_state != "rejected",
            Submission.commune_id.in_(select(Commune.id).where(commune_scope(actor))),
        )
        .group_by(Submission.commune_id, score.household_code)
        .subquery("flags")
    )


def village_progress(actor: User, query: ListQuery, outside: list[HouseholdRow]) -> list[Progress]:
    """Per village of the actor's scope (and of the chosen commune / village): registry
    households, with a Phiếu B, with a verdict, approved — one grouped query — plus the
    households outside the registry counted in their village."""
    per_household = _year_flags(actor, query.year)
    stmt = (
        select(
            Village.id,
            Commune.name,
            Village.code,
            Village.name,
            func.count(Household.id),
            func.coalesce(func.sum(per_household.c.is_b), 0),
            func.coalesce(func.sum(per_household.c.verdict), 0),
            func.coalesce(func.sum(per_household.c.approved), 0),
        )
        .join(Household, Household.village_id == Village.id)
        .join(Commune, Commune.id == Village.commune_id)
        .outerjoin(
            per_household,
            and_(
                per_household.c.commune_id == Household.commune_id,
                per_household.c.code == Household.code,
            ),
        )
        .where(visible_households(actor))
        .group_by(Village.id, Commune.name, Commune.code, Village.code, Village.name)
        .order_by(Commune.code, Village.code)
    )
    if query.commune:
        stmt = stmt.where(Commune.code == query.commune)
    if query.village:
        stmt = stmt.where(Village.code == query.village)
    found = db.session.execute(stmt).all()
    several = len({commune for _v, commune, *_rest in found}) > 1

    def label(commune: str, village_code: str, village: str) -> str:
        return (
            f"{commune}: {village_code} – {village}" if several else f"{village_code} – {village}"
        )

    out: dict[int, Progress] = {
        village_id: Progress(label(commune, v_code, v_name), n, b or 0, v or 0, a or 0)
        for village_id, commune, v_code, v_name, n, b, v, a in found
    }
    for row in outside:
        if row.village is None:
            continue
        progress = out.setdefault(
            row.village.id,
            Progress(label(row.commune.name, row.village.code, row.village.name)),
        )
        _count(progress, row)
    return list(out.values())


def progress_total(rows: list[Progress], label: str) -> Progress:
    """The sum of several villages' counts."""
    return Progress(
        label,
        sum(p.households for p in rows),
        sum(p.phieu_b for p in rows),
        sum(p.scored for p in rows),
        sum(p.approved for p in rows),
    )


def _count(progress: Progress, row: HouseholdRow) -> None:
    progress.households += 1
    progress.phieu_b += bool(row.questionnaires.get("phieu_b"))
    progress.scored += bool(row.score is not None and row.score.category not in NO_VERDICT)
    progress.approved += row.review_state == "approved"


def reviewer_progress(actor: User, query: ListQuery) -> list[Progress]:
    """Per reviewer (who sent the questionnaires): households visited, with a Phiếu B, with a
    verdict, approved — counted in one query over the year's Phiếu A / B / income
    questionnaires in the actor's scope."""
    year = query.year
    scope = _submission_scope(actor, query)
    not_rejected = Submission.review_state != "rejected"
    score = HouseholdScore
    scored = (
        select(
            Submission.submitter_id.label("who"),
            func.coalesce(
                score.household_code, literal("#") + type_coerce(Submission.id, String)
            ).label("household"),
            case((score.mapping.in_(phieu_b_forms()), 1), else_=0).label("is_b"),
            case((score.category.not_in(NO_VERDICT), 1), else_=0).label("verdict"),
            case((Submission.review_state == "approved", 1), else_=0).label("approved"),
        )
        .join(Submission, Submission.id == score.submission_id)
        .where(
            score.current.is_(True),
            score.year == year,
            score.mapping.in_(_scored_forms()),
            not_rejected,
            *scope,
        )
    )
    evidence = (
        select(
            Submission.submitter_id.label("who"),
            func.coalesce(
                HouseholdEvidence.household_code, literal("#") + type_coerce(Submission.id, String)
            ).label("household"),
            literal(0).label("is_b"),
            literal(0).label("verdict"),
            literal(0).label("approved"),
        )
        .join(Submission, Submission.id == HouseholdEvidence.submission_id)
        .where(HouseholdEvidence.year == year, not_rejected, *scope)
    )
    every = union_all(scored, evidence).subquery()
    per_household = (
        select(
            every.c.who,
            every.c.household,
            func.max(every.c.is_b).label("is_b"),
            func.max(every.c.verdict).label("verdict"),
            func.max(every.c.approved).label("approved"),
        )
        .group_by(every.c.who, every.c.household)
        .subquery()
    )
    rows = db.session.execute(
        select(
            User.display_name,
            User.username,
            func.count(),
            func.sum(per_household.c.is_b),
            func.sum(per_household.c.verdict),
            func.sum(per_household.c.approved),
        )
        .join(User, User.id == per_household.c.who)
        .group_by(User.id, User.display_name, User.username)
        .order_by(User.display_name, User.username)
    ).all()
    return [
        Progress(f"{name} ({username})", n, b or 0, v or 0, a or 0)
        for name, username, n, b, v, a in rows
    ]


# --- one household -----------------------------------------------------------------------------


@dataclass(slots=True)
class YearView:
    year: int
    status: str | None = None  # recognised at the end of the year's review
    questionnaires: list[Questionnaire] = field(default_factory=list)
    score: HouseholdScore | None = None  # the result that counts
    stages: list[Stage] = field(default_factory=list)


@dataclass(slots=True)
class HouseholdView:
    code: str | None
    head_name: str
    commune: Commune
    village: Village | None
    household: Household | None
    years: list[YearView]
    events: list[SubmissionEvent]  # staff actions on the household's questionnaires
    votes: dict[int, list[tuple[MeetingVote, VillageMeeting]]]  # case id → votes
    certificates: dict[int, Certificate]  # case id → certificate


def _locate(actor: User, code: str, commune_code: str) -> tuple[Household | None, int]:
    """The registry household with this code in the actor's scope, or else the commune whose
    questionnaires (in the actor's scope) name the code; 404 when there is neither."""
    query = (
        select(Household)
        .join(Commune, Commune.id == Household.commune_id)
        .where(Household.code == code, visible_households(actor))
        .order_by(Commune.code)
        .options(selectinload(Household.statuses))
    )
    if commune_code:
        query = query.where(Commune.code == commune_code)
    household = db.session.scalars(query).first()
    if household is not None:
        return household, household.commune_id
    visible = [_visible_submissions(actor)]
    if commune_code:
        visible.append(
            Submission.commune_id.in_(select(Commune.id).where(Commune.code == commune_code))
        )
    named = union_all(
        select(Submission.commune_id)
        .join(HouseholdScore, HouseholdScore.submission_id == Submission.id)
        .where(HouseholdScore.household_code == code, *visible),
        select(Submission.commune_id)
        .join(HouseholdEvidence, HouseholdEvidence.submission_id == Submission.id)
        .where(HouseholdEvidence.household_code == code, *visible),
    ).subquery()
    commune_id = db.session.scalar(select(func.min(named.c.commune_id)))
    if commune_id is None:
        raise _not_found()
    return None, commune_id


def _votes_and_certificates(case_ids: list[int]) -> tuple[dict, dict]:
    votes: dict[int, list] = defaultdict(list)
    if not case_ids:
        return {}, {}
    for vote, meeting in db.session.execute(
        select(MeetingVote, VillageMeeting)
        .join(VillageMeeting, VillageMeeting.id == MeetingVote.meeting_id)
        .where(MeetingVote.case_id.in_(case_ids))
        .order_by(VillageMeeting.held_on, MeetingVote.id)
    ):
        votes[vote.case_id].append((vote, meeting))
    certificates = {
        c.case_id: c
        for c in db.session.scalars(select(Certificate).where(Certificate.case_id.in_(case_ids)))
    }
    return dict(votes), certificates


def _events(submission_ids: set[int]) -> list[SubmissionEvent]:
    """Staff actions on these submissions (review states, comments, re-survey), oldest
    first."""
    if not submission_ids:
        return []
    return list(
        db.session.scalars(
            select(SubmissionEvent)
            .where(SubmissionEvent.submission_id.in_(sorted(submission_ids)))
            .options(selectinload(SubmissionEvent.actor))
            .order_by(SubmissionEvent.at, SubmissionEvent.id)
        )
    )


def household_view(actor: User, code: str, commune_code: str = "") -> HouseholdView:
    """Everything about the household with this code in the actor's scope, every year.

    :raises AppError: ``household.not_found`` (404) when the actor's scope has no household
        and no questionnaire with this code.
    """
    household, commune_id = _locate(actor, code, commune_code)
    years: dict[int, YearView] = {}

    def year_of(year: int) -> YearView:
        return years.setdefault(year, YearView(year))

    for status in household.statuses if household else []:
        year_of(status.year).status = status.status.value
    submissions: set[int] = set()
    head = household.head_name if household else ""
    village = household.village if household else None
    for score, submission in _scores_of(actor, [commune_id], [code], None):
        view = year_of(score.year)
        if score.mapping != PHIEU_A:  # a Phiếu A is listed by its evidence
            view.questionnaires.append(
                _questionnaire(submission, "phieu_b", score.year, score=score)
            )
        if submission.review_state != "rejected" and _preferred(score, view.score):
            view.score = score
        submissions.add(submission.id)
        head = head or _head_from(score, {})
        village = village or submission.village
    for evidence, submission in _evidence_of(actor, [commune_id], [code], None):
        kind = "phieu_a" if evidence.kind == "screening" else "thu_nhap"
        year_of(evidence.year).questionnaires.append(
            _questionnaire(submission, kind, evidence.year, evidence=evidence)
        )
        submissions.add(submission.id)
        village = village or submission.village
    folded = household.head_name_folded if household else ""
    named = (commune_id, code, village.id if village else None, folded)
    for request in _match_requests(_requests_of(actor, [commune_id], None), [named]).get(
        (commune_id, code), []
    ):
        year_of(request.year).questionnaires.append(
            _questionnaire(request.submission, "de_nghi", request.year, request=request.form)
        )
        submissions.add(request.submission.id)
    stages = _stages([commune_id], [household.id] if household else [], [code], None)
    for stage in stages:
        year_of(stage.round.year).stages.append(stage)
    for view in years.values():
        view.questionnaires.sort(key=lambda q: (KINDS.index(q.kind), q.received_at))
    votes, certificates = _votes_and_certificates([s.case.id for s in stages])
    return HouseholdView(
        code=code,
        head_name=head,
        commune=household.commune if household else db.session.get(Commune, commune_id),
        village=village,
        household=household,
        years=sorted(years.values(), key=lambda v: v.year, reverse=True),
        events=_events(submissions),
        votes=votes,
        certificates=certificates,
    )
