"""The report of one review year, per commune and for the province, next to the previous year.

What a household counts as in a year (per household, not per commune):

* its **officially recognised status** for the year (``HouseholdYearStatus``, written by the
  commune's decision or imported) when there is one — ``moi`` says nothing about the year and
  is ignored;
* otherwise, for the report's year only, the **result of the review**: the current
  ``HouseholdScore`` of that year of the household's code in its commune (one per code: a
  Phiếu B over a Phiếu A, then the latest; rejected submissions left out).  Such figures are
  marked "kết quả rà soát, chưa quyết định";
* the previous year uses recognised statuses only (``HouseholdYearStatus`` of year − 1).

The review results of the year are also counted by the method that decided them (the B1 score,
measured income, or neither) and by whether the B1 score and measured income disagree — one
per registry household, the result that counts for its code, whether or not the year is decided
yet (the stored score's ``method`` and ``methods_disagree`` columns).

Transitions compare the year's classification with the household's last recognised status
before that year, exactly as :func:`server.scoring.transitions.transition` does for the
village lists.  Ethnicity, labour capacity and deprivations come from the household's scored
questionnaire of the same year (none: counted as unknown).  Total households = the household
registry of the commune today (the registry keeps no yearly totals), for both years.

Per year, one aggregate query counts the households grouped by what decides their
classification and transition (a few hundred rows however many households), and the poor and
near-poor households are then streamed (``yield_per``) with the few parts of their stored
result that the traits and deprivations need, extracted in the database — never whole results,
never ORM objects.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import (
    JSON,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB, JSONPATH
from sqlalchemy.orm import aliased
from werkzeug.exceptions import NotFound

from server.accounts.models import User
from server.extensions import db
from server.geography.models import Commune
from server.households.models import Household, HouseholdStatus, HouseholdYearStatus
from server.i18n import vietnam_today
from server.meetings.missing import reason_counts
from server.reports.traits import (
    MEMBER_FACTS,
    is_ethnic_minority,
    member_from_facts,
    without_labour_capacity,
)
from server.scoring.engine import Category
from server.scoring.mapping import all_mappings, mappings
from server.scoring.models import HouseholdScore
from server.scoring.standards import StandardError, all_standards, standard_for_year
from server.scoring.transitions import transition
from server.submissions.models import Submission
from server.submissions.scope import commune_scope

POOR, NEAR = HouseholdStatus.POOR.value, HouseholdStatus.NEAR_POOR.value
STREAM_BATCH = 2000

# The transitions the reports count (regulations.md §5.8), as server.scoring.transitions codes.
TRANSITIONS = (
    "thoat_ngheo",  # poor → neither
    "ngheo_sang_can_ngheo",  # poor → near-poor (also out of poverty)
    "thoat_can_ngheo",
    "ngheo_phat_sinh",
    "can_ngheo_phat_sinh",
    "tai_ngheo",
    "tai_can_ngheo",
    "can_ngheo_sang_ngheo",
)
_OF_STATUS = {POOR: Category.POOR, NEAR: Category.NEAR_POOR}


@dataclass
class Figures:
    """One year's counts for one commune (or the sum of several)."""

    total: int = 0  # households in the registry
    poor: int = 0
    near_poor: int = 0
    minority_poor: int = 0
    minority_near_poor: int = 0
    ethnicity_unknown: int = 0  # poor / near-poor households whose head's ethnicity is unknown
    poor_without_labour: int = 0
    labour_unknown: int = 0  # poor households whose labour capacity cannot be told
    transitions: Counter = field(default_factory=Counter)
    deprived: Counter = field(default_factory=Counter)  # indicator code → households
    indicator_unknown: Counter = field(default_factory=Counter)  # "cannot determine"
    without_indicators: int = 0  # poor / near-poor households with no scored questionnaire
    official: int = 0  # households counted from their recognised status
    review: int = 0  # … from the result of the review (not yet decided)
    no_verdict: int = 0  # a review result that classifies nothing (B1 not assessed, …)
    no_result: int = 0  # neither a recognised status nor a review result
    outside_poor: int = 0  # review results of households not in the registry (not counted)
    outside_near_poor: int = 0
    # The year's review results (one per registry household) by the method that decided them;
    # "none": no verdict, a Phiếu A stop, or a result stored before the method was kept.
    method_b1: int = 0
    method_income: int = 0
    method_none: int = 0
    methods_disagree: int = 0  # … of which B1 and measured income disagree
    # Households of the year before's poor / near-poor lists with no result of the year, by
    # the reason recorded in the annual review ("none": no reason yet) — server.meetings.missing.
    missing: Counter = field(default_factory=Counter)

    def add(self, other: Figures) -> None:
        for f in fields(self):
            mine = getattr(self, f.name)
            if isinstance(mine, Counter):
                mine.update(getattr(other, f.name))
            else:
                setattr(self, f.name, mine + getattr(other, f.name))

    def rate(self, count: int) -> float | None:
        """``count`` as a percentage of the commune's households."""
        return round(100 * count / self.total, 2) if self.total else None

    @property
    def poor_or_near(self) -> int:
        return self.poor + self.near_poor

    def share(self, count: int) -> float | None:
        """``count`` as a percentage of the poor and near-poor households."""
        return round(100 * count / self.poor_or_near, 2) if self.poor_or_near else None

    @property
    def has_indicators(self) -> bool:
        """Some poor or near-poor household has a scored questionnaire (indicator data)."""
        return self.poor_or_near > self.without_indicators

    def deprived_count(self, code: str) -> int | None:
        """Households deprived in ``code``; None when no household has indicator data."""
        return self.deprived[code] if self.has_indicators else None

    def deprived_share(self, code: str) -> float | None:
        """… as a percentage of the poor and near-poor households."""
        return self.share(self.deprived[code]) if self.has_indicators else None

    @property
    def with_review_result(self) -> int:
        """Households with a review result of the year (counted by method)."""
        return self.method_b1 + self.method_income + self.method_none

    @property
    def escaped_poverty(self) -> int:
        return self.transitions["thoat_ngheo"] + self.transitions["ngheo_sang_can_ngheo"]

    @property
    def unconfirmed(self) -> bool:
        """Some figures come from review results that are not decided yet."""
        return self.review > 0


@dataclass
class Unit:
    code: str | None  # None: the total
    name: str
    current: Figures
    previous: Figures


@dataclass
class Report:
    year: int
    rows: list[Unit]
    total: Unit
    indicators: list[tuple[str, str]]  # (code, Vietnamese name): this year's standard first
    standard: str | None

    @property
    def previous_year(self) -> int:
        return self.year - 1


def communes_in_scope(actor: User, commune_code: str | None = None) -> list[Commune]:
    """The actor's communes (officer: theirs; administrator: their province's), or the one
    named; a code outside the actor's scope is not found (404)."""
    query = select(Commune).where(commune_scope(actor)).order_by(Commune.code)
    if commune_code:
        query = query.where(Commune.code == commune_code)
    communes = list(db.session.scalars(query))
    if commune_code and not communes:
        raise NotFound()
    return communes


def years_available(actor: User) -> list[int]:
    """Years with a recognised status or a review result in the actor's scope, newest first."""
    statuses = (
        select(HouseholdYearStatus.year)
        .join(Household, Household.id == HouseholdYearStatus.household_id)
        .join(Commune, Commune.id == Household.commune_id)
        .where(commune_scope(actor))
        .distinct()
    )
    scores = (
        select(HouseholdScore.year)
        .join(Submission, Submission.id == HouseholdScore.submission_id)
        .join(Commune, Commune.id == Submission.commune_id)
        .where(commune_scope(actor), HouseholdScore.current.is_(True))
        .distinct()
    )
    years = set(db.session.scalars(statuses)) | set(db.session.scalars(scores))
    return sorted(years, reverse=True)


def default_year(actor: User) -> int:
    years = years_available(actor)
    return years[0] if years else vietnam_today().year


def report(actor: User, year: int, commune_code: str | None = None) -> Report:
    communes = communes_in_scope(actor, commune_code)
    ids = [c.id for c in communes]
    current = _figures(ids, year, with_review=True)
    previous = _figures(ids, year - 1, with_review=False)
    for commune_id, (poor, near) in _outside_registry(ids, year).items():
        current[commune_id].outside_poor += poor
        current[commune_id].outside_near_poor += near
    for commune_id, counts in reason_counts(ids, year).items():
        current[commune_id].missing.update(counts)
    rows = [Unit(c.code, c.name, current[c.id], previous[c.id]) for c in communes]
    total = Unit(None, "", Figures(), Figures())
    for row in rows:
        total.current.add(row.current)
        total.previous.add(row.previous)
    standard = _standard(year)
    return Report(
        year=year,
        rows=rows,
        total=total,
        indicators=_indicators(year, total),
        standard=standard.code if standard else None,
    )


def _standard(year: int):
    try:
        return standard_for_year(year)
    except StandardError:
        return None


def _indicators(year: int, total: Unit) -> list[tuple[str, str]]:
    """This year's indicators in the standard's order, then any other indicator a result of
    either year counted (the previous year may have had another standard)."""
    names: dict[str, str] = {}
    for y in (year, year - 1):
        standard = _standard(y)
        for indicator in standard.indicators if standard else ():
            names.setdefault(indicator["code"], indicator["vi"])
    this_year = _standard(year)
    ordered = [i["code"] for i in this_year.indicators] if this_year else []
    seen = {
        *total.current.deprived,
        *total.current.indicator_unknown,
        *total.previous.deprived,
        *total.previous.indicator_unknown,
    }
    ordered += sorted(seen - set(ordered))
    return [(code, names.get(code, code)) for code in ordered]


def _review_filter(score, year: int, *, year_index: bool = True) -> list:
    """Current results of the year of the scored questionnaires, rejected submissions left
    out (``score`` is HouseholdScore or an alias of it, joined to Submission).

    ``year_index=False`` writes the year test as ``year + 0 = …`` so that the database does
    not pick the index on the year (every row of the year) where a better one applies —
    SQLite's planner, without statistics, would."""
    return [
        Submission.review_state != "rejected",
        score.current.is_(True),
        (score.year if year_index else score.year + 0) == year,
        score.mapping.in_(list(all_mappings())),
    ]


def _preference(score) -> tuple:
    """Which of a household's results counts: a Phiếu B over a Phiếu A, then the latest."""
    return (
        case((score.mapping.in_(list(mappings())), 0), else_=1),
        score.created_at.desc(),
        score.id.desc(),
    )


def _chosen_score_id(year: int, commune_id, code):
    """The id of the review result of the year that counts for the household whose commune
    and code are the given columns (found through the index on the household code)."""
    score = aliased(HouseholdScore)
    return (
        select(score.id)
        .join(Submission, Submission.id == score.submission_id)
        .where(
            score.household_code == code,
            Submission.commune_id == commune_id,
            *_review_filter(score, year, year_index=False),  # the household code's index
        )
        .order_by(*_preference(score))
        .limit(1)
        .scalar_subquery()
    )


def _status_history(commune_ids: list[int], year: int):
    """Per household: the recognised status of ``year``, the year of the last one before it,
    and whether it was ever poor / near-poor before it."""
    hys = HouseholdYearStatus
    status = type_coerce(hys.status, String)
    before = hys.year < year
    return (
        select(
            hys.household_id.label("household_id"),
            func.max(case((hys.year == year, status))).label("status"),
            func.max(case((before, hys.year))).label("last_year"),
            func.max(case((and_(before, status == POOR), 1), else_=0)).label("was_poor"),
            func.max(case((and_(before, status == NEAR), 1), else_=0)).label("was_near"),
        )
        .join(Household, Household.id == hys.household_id)
        .where(Household.commune_id.in_(commune_ids))
        .group_by(hys.household_id)
        .subquery()
    )


def _figures(commune_ids: list[int], year: int, *, with_review: bool) -> dict[int, Figures]:
    """The year's figures of each commune: classification, sources and transitions from one
    aggregate query (households grouped by what decides them), then the traits and
    deprivations of the poor and near-poor households, streamed."""
    figures = {commune_id: Figures() for commune_id in commune_ids}
    if not commune_ids:
        return figures
    for row in db.session.execute(_groups(commune_ids, year, with_review)):
        _count_group(figures[row.commune_id], row, year)
    standards = all_standards()
    for row in _poor_and_near_poor(commune_ids, year, with_review):
        _count_traits(figures[row.commune_id], row, standards)
    return figures


_GROUP_KEYS = (
    "commune_id",
    "status",
    "last_status",
    "was_poor",
    "was_near",
    "category",
    "method",
    "disagree",
)


def _groups(commune_ids: list[int], year: int, with_review: bool):
    """Households counted by commune × everything that decides their classification and
    transition (recognised status, last status before, earlier poverty, review result): a few
    hundred rows whatever the number of households."""
    history = _status_history(commune_ids, year)
    last = aliased(HouseholdYearStatus)
    joined = select(Household).where(Household.commune_id.in_(commune_ids)).subquery("h")
    h = joined.c
    joined = joined.outerjoin(history, history.c.household_id == h.id).outerjoin(
        last, and_(last.household_id == h.id, last.year == history.c.last_year)
    )
    category = method = literal(None, String)
    disagree = literal(False)
    if with_review:
        joined, score = _join_chosen(joined, h.commune_id, h.code, commune_ids, year)
        category, method, disagree = score.category, score.method, score.methods_disagree
    keys = (
        h.commune_id,
        history.c.status,
        type_coerce(last.status, String),
        history.c.was_poor,
        history.c.was_near,
        category,
        method,
        disagree,
    )
    return (
        select(
            *(k.label(n) for k, n in zip(keys, _GROUP_KEYS, strict=True)),
            func.count().label("households"),
        )
        .select_from(joined)
        .group_by(*keys)
    )


def _join_chosen(joined, commune_id, code, commune_ids: list[int], year: int):
    """``joined`` outer-joined with the review result that counts for each household (whose
    commune and code are the given columns); returns the join and the result's alias.

    PostgreSQL: every household's result at once (a window function) joined by hash.  SQLite
    builds no index on such a derived table and would scan it for each household, so each
    household looks its result up through the index on the household code instead."""
    score = aliased(HouseholdScore, name="chosen")
    if _dialect() == "sqlite":
        chosen = _chosen_score_id(year, commune_id, code)
        return joined.outerjoin(score, score.id == chosen), score
    ranked = _ranked_scores(commune_ids, year)
    joined = joined.outerjoin(
        ranked, and_(ranked.c.commune_id == commune_id, ranked.c.code == code)
    ).outerjoin(score, score.id == ranked.c.score_id)
    return joined, score


def _ranked_scores(commune_ids: list[int], year: int):
    """The review result that counts for each commune and household code of the year:
    ``score_id, commune_id, code``."""
    score = aliased(HouseholdScore)
    ranked = (
        select(
            score.id.label("score_id"),
            Submission.commune_id.label("commune_id"),
            score.household_code.label("code"),
            func.row_number()
            .over(
                partition_by=(Submission.commune_id, score.household_code),
                order_by=_preference(score),
            )
            .label("rank"),
        )
        .join(Submission, Submission.id == score.submission_id)
        .where(
            Submission.commune_id.in_(commune_ids),
            score.household_code.is_not(None),
            *_review_filter(score, year),
        )
        .subquery()
    )
    return (
        select(ranked.c.score_id, ranked.c.commune_id, ranked.c.code)
        .where(ranked.c.rank == 1)
        .subquery("ranked")
    )


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _poor_and_near_poor(commune_ids: list[int], year: int, with_review: bool) -> Iterator:
    """One row per poor or near-poor household with the parts of its result the traits and
    deprivations need — found from the poor and near-poor statuses and results, not by
    reading every household: first those recognised as such for the year, then (``with_review``)
    those whose review result says so and that have no recognised status yet."""
    hys = HouseholdYearStatus
    recognised = (
        select(
            Household.commune_id.label("commune_id"),
            type_coerce(hys.status, String).label("status"),
            _chosen_score_id(year, Household.commune_id, Household.code).label("score_id"),
        )
        .join(Household, Household.id == hys.household_id)
        .where(
            Household.commune_id.in_(commune_ids),
            hys.year == year,
            hys.status.in_((HouseholdStatus.POOR, HouseholdStatus.NEAR_POOR)),
        )
        .subquery()
    )
    score = aliased(HouseholdScore, name="chosen")
    fragments, lateral = _result_fragments(score)
    joined = recognised.outerjoin(score, score.id == recognised.c.score_id)
    if lateral is not None:
        joined = joined.outerjoin(lateral, true())
    yield from db.session.execute(
        select(
            recognised.c.commune_id,
            recognised.c.status,
            score.id.label("score_id"),
            score.category,
            score.standard,
            *fragments,
        )
        .select_from(joined)
        .execution_options(yield_per=STREAM_BATCH)
    )
    if not with_review:
        return
    decided = exists().where(
        hys.household_id == Household.id,
        hys.year == year,
        hys.status != HouseholdStatus.NEW,
    )
    query = (
        select(
            Submission.commune_id.label("commune_id"),
            literal(None, String).label("status"),
            score.id.label("score_id"),
            score.category,
            score.standard,
            *fragments,
        )
        .select_from(score)
        .join(Submission, Submission.id == score.submission_id)
        .join(
            Household,
            and_(
                Household.commune_id == Submission.commune_id,
                Household.code == score.household_code,
            ),
        )
        .where(
            Submission.commune_id.in_(commune_ids),
            *_review_filter(score, year),
            score.category.in_((POOR, NEAR)),
            # the result that counts for its code (looked up for this result, not for every
            # household of the registry)
            score.id == _chosen_score_id(year, Submission.commune_id, score.household_code),
            ~decided,
        )
        .execution_options(yield_per=STREAM_BATCH)
    )
    if lateral is not None:
        query = query.join(lateral, true())
    yield from db.session.execute(query)


def _indicator_slots() -> int:
    """How many indicators a stored result can have: the most any standard defines."""
    return max(len(s.indicators) for s in all_standards().values())


def _result_fragments(score) -> tuple[list, Any]:
    """From a stored result, in the database: its indicators' codes and outcomes and its
    members' :data:`MEMBER_FACTS` as compact JSON arrays — a few hundred bytes per household
    reach Python, not the whole result (its reasons, explanation and inputs).

    SQLite: ``json_extract`` with many paths parses the result once.  PostgreSQL: the ``json``
    result is converted to ``jsonb`` once (a LATERAL subquery that is not inlined), and the
    arrays are read from that.  Returns the columns and the LATERAL to join (or None)."""
    if _dialect() == "sqlite":
        slots = range(_indicator_slots())
        codes = func.json_extract(score.result, *(f"$.indicators[{i}].code" for i in slots))
        outcomes = func.json_extract(score.result, *(f"$.indicators[{i}].outcome" for i in slots))
        each = func.json_each(score.result, "$.inputs.members").table_valued("value").alias("m")
        facts = func.json_extract(each.c.value, *(f"$.{f}" for f in MEMBER_FACTS))
        members = (
            select(func.json_group_array(func.json(facts))).select_from(each).scalar_subquery()
        )
        count = func.json_array_length(score.result, "$.indicators")
        lateral = None
    else:
        lateral = (
            select(cast(score.result, JSONB).label("j"))
            .correlate(score)
            .offset(0)
            .lateral("parsed")
        )
        j = lateral.c.j
        codes = func.jsonb_path_query_array(j, cast("$.indicators[*].code", JSONPATH))
        outcomes = func.jsonb_path_query_array(j, cast("$.indicators[*].outcome", JSONPATH))
        each = func.jsonb_array_elements(j[("inputs", "members")]).table_valued("value").alias("m")
        facts = func.jsonb_build_array(*(each.c.value.op("->")(f) for f in MEMBER_FACTS))
        members = select(func.jsonb_agg(facts)).select_from(each).scalar_subquery()
        count = func.jsonb_array_length(j["indicators"])
    return [
        type_coerce(codes, JSON).label("codes"),
        type_coerce(outcomes, JSON).label("outcomes"),
        count.label("indicator_count"),
        type_coerce(members, JSON).label("members"),
    ], lateral


def _classify(status: str | None, category: str | None) -> tuple[str, Category | None]:
    """(source, category): the recognised status when there is one, else the review result."""
    if status is not None and status != HouseholdStatus.NEW.value:
        return "official", _OF_STATUS.get(status, Category.NEITHER)
    if category is None:
        return "no_result", None
    found = Category(category)
    if found in (Category.NOT_ASSESSED, Category.UNDETERMINED):
        return "no_verdict", None
    return "review", found


def _count_group(fig: Figures, row, year: int) -> None:
    n = row.households
    fig.total += n
    if row.category is not None:  # a review result of the year: by the method that decided it
        if row.method == "b1":
            fig.method_b1 += n
        elif row.method == "income":
            fig.method_income += n
        else:
            fig.method_none += n
        if row.disagree:
            fig.methods_disagree += n
    source, category = _classify(row.status, row.category)
    setattr(fig, source, getattr(fig, source) + n)
    if category is None:
        return
    history = []  # the last recognised status, after markers of any earlier poverty
    if row.was_poor:
        history.append((0, POOR))
    if row.was_near:
        history.append((0, NEAR))
    if row.last_status is not None:
        history.append((year - 1, row.last_status))
    moved = transition(history, year, category)
    if moved in TRANSITIONS:
        fig.transitions[moved] += n
    if category == Category.POOR:
        fig.poor += n
    elif category == Category.NEAR_POOR:
        fig.near_poor += n


def _count_traits(fig: Figures, row, standards) -> None:
    _source, category = _classify(row.status, row.category)
    poor = category == Category.POOR
    members = tuple(member_from_facts(values) for values in row.members or ())
    minority = is_ethnic_minority(members)
    if minority is None:
        fig.ethnicity_unknown += 1
    elif minority and poor:
        fig.minority_poor += 1
    elif minority:
        fig.minority_near_poor += 1
    if poor:
        standard = standards.get(row.standard or "")
        labour = without_labour_capacity(members, standard) if standard else None
        if labour is None:
            fig.labour_unknown += 1
        elif labour:
            fig.poor_without_labour += 1
    if row.score_id is None:
        fig.without_indicators += 1
        return
    codes, outcomes = row.codes or [], row.outcomes or []
    if (row.indicator_count or 0) > len(codes):  # more than any standard has: read them all
        indicators = db.session.scalar(
            select(HouseholdScore.result["indicators"]).where(HouseholdScore.id == row.score_id)
        )
        codes = [i.get("code") for i in indicators]
        outcomes = [i.get("outcome") for i in indicators]
    for code, outcome in zip(codes, outcomes, strict=False):
        if code is None:
            continue
        if outcome == "deprived":
            fig.deprived[code] += 1
        elif outcome == "cannot_determine":
            fig.indicator_unknown[code] += 1


def _outside_registry(commune_ids: list[int], year: int) -> dict[int, tuple[int, int]]:
    """Poor and near-poor review results of households that are not in the commune's
    registry (new households without a code, unknown codes): reported beside the figures,
    not in them.  One per household code (the result that counts), one per submission
    without a code."""
    if not commune_ids:
        return {}
    score = HouseholdScore
    registered = exists().where(
        Household.commune_id == Submission.commune_id, Household.code == score.household_code
    )
    counts = or_(
        score.household_code.is_(None),
        score.id == _chosen_score_id(year, Submission.commune_id, score.household_code),
    )
    rows = db.session.execute(
        select(Submission.commune_id, score.category, func.count())
        .join(Submission, Submission.id == score.submission_id)
        .where(
            Submission.commune_id.in_(commune_ids),
            *_review_filter(score, year),
            score.category.in_((POOR, NEAR)),
            ~registered,
            counts,
        )
        .group_by(Submission.commune_id, score.category)
    )
    out: dict[int, list[int]] = {}
    for commune_id, category, count in rows:
        out.setdefault(commune_id, [0, 0])[0 if category == POOR else 1] += count
    return {k: (v[0], v[1]) for k, v in out.items()}
