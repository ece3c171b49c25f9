"""The demo commune's average-living-standard income surveys (form ``thu_nhap_mstb``).

A handful of farming households were surveyed for their measured income after their Phiếu B,
so that the demo shows every way a household is classified (regulations.md §3): measured income
agreeing with the B1 method (among them households of average living standard — income in
(1,500,000; 2,250,000] đ rural), and households where the two methods fall on different sides of
the income line, which the village meeting must look at.  The B1 method decides under 2022–2025
(the standard's ``decisive_method``); the measured income is shown beside it.

This module draws what each surveyed household answers — its sources of income in the 12 months
before the review, revenue and costs source by source, the social allowances that are recorded but
not counted — consistently with its Phiếu B (how many members, who farms, who earns wages, who
receives an allowance, which land it farms), and writes them as the form's field paths, with the
form's own calculations (net by source, total, income per person per month).  Which households are
surveyed, and the check of every planned result against the scoring engine, are in
:mod:`server.demo_submissions`.  Pure and deterministic: seeded draws only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from server.demo_households import PlannedHousehold, rng_for
from server.scoring.engine import Category

INCOME = "thu_nhap_mstb"


@dataclass(frozen=True, slots=True)
class IncomeRole:
    """What one group of surveyed households shows."""

    name: str
    outcome: str  # the household's planned Phiếu B outcome (the B1 method's verdict)
    statuses: tuple[str, ...]  # its status on last year's list (empty: any)
    # Measured income per person per month is drawn in this range, as shares of the rural line.
    share: tuple[float, float]
    category: Category  # the result with both methods (B1 decides)
    disagree: bool  # the measured income is on the other side of the line
    count: int
    # Score A at most this many points from the cut-off (None: anywhere): the methods disagree
    # for households near the line, not for one B1 puts far from it.
    b1_within: float | None = None
    crop_failed: bool = False  # one crop's costs exceeded its revenue (a loss, acknowledged)


_LEFT = ("ngheo", "can_ngheo", "thoat_ngheo", "thoat_can_ngheo")  # on the lists, or just left
ROLES: tuple[IncomeRole, ...] = (
    # Escaping (near-)poverty and farming: the commune determines the average living standard.
    IncomeRole(
        "trung_binh", "neither", _LEFT, share=(1.07, 1.43), category=Category.AVERAGE,
        disagree=False, count=2,
    ),
    # Measured income above the average-living-standard band: neither, as B1 says.
    IncomeRole(
        "tren_trung_binh", "neither", (), share=(1.6, 2.0), category=Category.NEITHER,
        disagree=False, count=1,
    ),
    # Poor by both methods.
    IncomeRole(
        "ngheo_ca_hai", "poor", (), share=(0.55, 0.9), category=Category.POOR,
        disagree=False, count=1,
    ),
    # B1 under the cut-off, but a good harvest put the measured income above the line.
    IncomeRole(
        "b1_duoi_thu_nhap_tren", "near", (), share=(1.07, 1.33), category=Category.NEAR_POOR,
        disagree=True, count=2, b1_within=40,
    ),
    # B1 above the cut-off (it owns things), but a crop failed: a loss this year.
    IncomeRole(
        "b1_tren_thu_nhap_duoi", "neither", _LEFT, share=(0.67, 0.93), category=Category.NEITHER,
        disagree=True, count=1, b1_within=40, crop_failed=True,
    ),
)  # fmt: skip

# The production sources of the form, in its choice order, then the amounts received.
_PRODUCTION = (
    "crops_annual",
    "crops_perennial",
    "livestock",
    "aquaculture",
    "forestry",
    "salt",
    "agri_services",
    "nonfarm_business",
)
_RECEIVED = ("wages", "pension", "remittances", "other_income")
# Which Phiếu B land answer says the household farms for each farm source (m² or heads).
_LAND = {
    "crops_annual": ("b1_land/land_annual",),
    "crops_perennial": ("b1_land/land_perennial",),
    "aquaculture": ("b1_land/land_aquaculture",),
    "forestry": ("b1_land/land_forest",),
    "livestock": ("b1_land/cattle", "b1_land/pigs", "b1_land/poultry"),
}
# Share of the farm's net income each source brings (drawn in the range), and its costs as a
# share of revenue (seed, fertiliser, feed, hired labour, …).
_FARM_WEIGHT = {
    "crops_annual": (0.25, 0.45),
    "crops_perennial": (0.45, 0.7),
    "livestock": (0.1, 0.25),
    "aquaculture": (0.04, 0.1),
    "forestry": (0.08, 0.2),
}
_COST_SHARE = {
    "crops_annual": (0.35, 0.5),
    "crops_perennial": (0.3, 0.45),
    "livestock": (0.55, 0.7),
    "aquaculture": (0.4, 0.6),
    "forestry": (0.15, 0.3),
    "nonfarm_business": (0.5, 0.7),
}
_NONFARM_AT_MOST = 0.35  # of the total: farming stays the household's main occupation
# An illustrative monthly social allowance (the base of 500,000 đ times the beneficiary's
# coefficient); recorded on the form but never counted as income.
_ALLOWANCE_MONTH = 500_000
_UNIT = 100_000  # households give their figures in hundreds of thousands of đồng


@dataclass(frozen=True, slots=True)
class IncomeSurvey:
    """What one household answered on the income survey (amounts in đồng over 12 months)."""

    household: PlannedHousehold
    role: IncomeRole
    members: int
    production: tuple[tuple[str, int, int], ...]  # (source, revenue, costs)
    received: tuple[tuple[str, int], ...]  # (source, amount)
    allowance: int  # social allowances received (0: none), not counted

    @property
    def sources(self) -> list[str]:
        present = {s for s, _r, _c in self.production} | {s for s, _a in self.received}
        return [s for s in (*_PRODUCTION, *_RECEIVED) if s in present]

    @property
    def total(self) -> int:
        return sum(r - c for _s, r, c in self.production) + sum(a for _s, a in self.received)

    @property
    def per_person_month(self) -> int:
        """As the form computes it: ``round(total div members div 12)`` (XPath rounds half up)."""
        return math.floor(self.total / self.members / 12 + 0.5)


def _round(amount: float) -> int:
    return max(_UNIT, round(amount / _UNIT) * _UNIT)


def _answer(values: dict[str, str | None], key: str) -> float:
    try:
        return float(values.get(key) or 0)
    except ValueError:
        return 0.0


def _members(values: dict[str, str | None]) -> list[dict[str, str | None]]:
    """The Phiếu B roster as {field: answer} per member."""
    people = []
    for n in range(1, int(values.get("hh_size") or 0) + 1):
        prefix = f"members[{n}]/"
        people.append({k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)})
    return people


def _allowance(people: list[dict[str, str | None]]) -> int:
    """Social allowances of the members the Phiếu B says receive one (12 months)."""
    total = 0.0
    for person in people:
        if person.get("health/social_allowance") != "yes":
            continue
        coefficient = {"nang": 1.5, "dac_biet_nang": 2.0}.get(
            person.get("health/disability") or "", 1.0
        )
        total += _ALLOWANCE_MONTH * coefficient * 12
    return int(total)


def draw_income(
    household: PlannedHousehold, role: IncomeRole, phieu_b: dict[str, str | None], line: int
) -> IncomeSurvey | None:
    """The household's answers on the income survey for ``role``, consistent with its Phiếu B
    answers ``phieu_b``; None when it is not a farming household (nobody farms, or no land) or
    no draw lands in the role's income range."""
    people = _members(phieu_b)
    works = [p.get("work/work_status") for p in people]
    if "nong_nghiep" not in works or phieu_b.get("b1_land/has_land") != "yes":
        return None
    farmed = [s for s, keys in _LAND.items() if any(_answer(phieu_b, k) > 0 for k in keys)]
    crops = {"crops_annual", "crops_perennial"} & set(farmed)
    if not crops or (role.crop_failed and len(farmed) < 2):
        return None  # a failed crop needs another source to live on
    low, high = (line * role.share[0], line * role.share[1])
    for attempt in range(8):
        survey = _draw(household, role, people, works, farmed, (low, high), attempt)
        if low < survey.per_person_month <= high:
            return survey
    return None


def _draw(household, role, people, works, farmed, bounds, attempt) -> IncomeSurvey:
    rng = rng_for("thu_nhap", household.code, attempt)
    size = len(people)
    total = rng.uniform(*bounds) * size * 12  # the net income aimed at
    received: list[tuple[str, int]] = []
    production: list[tuple[str, int, int]] = []
    # What members earn outside the farm (their Phiếu B work), at most a third or so.
    wages = sum(rng.uniform(18e6, 36e6) for w in works if w == "lam_cong")
    business = 0.0
    if "phi_nong_nghiep" in works:
        business = sum(rng.uniform(15e6, 30e6) for w in works if w == "phi_nong_nghiep")
    pension = sum(
        rng.choice((3.6e6, 4.2e6, 5.1e6)) * 12 for p in people if p.get("work/pension") == "yes"
    )
    remittances = rng.uniform(2e6, 8e6) if rng.random() < 0.25 else 0.0
    outside = wages + business + pension + remittances
    if outside > _NONFARM_AT_MOST * total:
        scale = _NONFARM_AT_MOST * total / outside
        wages, business, pension, remittances = (
            x * scale for x in (wages, business, pension, remittances)
        )
    if business:
        cost_share = rng.uniform(*_COST_SHARE["nonfarm_business"])
        revenue = _round(business / (1 - cost_share))
        production.append(("nonfarm_business", revenue, revenue - _round(business)))
    for source, amount in (("wages", wages), ("pension", pension), ("remittances", remittances)):
        if amount:
            received.append((source, _round(amount)))
    farm = total - sum(a for _s, a in received) - sum(r - c for _s, r, c in production)
    loss = None
    if role.crop_failed:  # costs over revenue
        loss = "crops_perennial" if "crops_perennial" in farmed else "crops_annual"
        revenue = _round(rng.uniform(2e6, 6e6))
        cost = revenue + _round(rng.uniform(4e6, 9e6))
        production.append((loss, revenue, cost))
        farm += cost - revenue
    weights = {s: rng.uniform(*_FARM_WEIGHT[s]) for s in farmed if s != loss}
    for source, weight in weights.items():
        net = farm * weight / sum(weights.values())
        cost_share = rng.uniform(*_COST_SHARE[source])
        revenue = _round(net / (1 - cost_share))
        production.append((source, revenue, max(0, revenue - _round(net))))
    order = {s: i for i, s in enumerate(_PRODUCTION)}
    production.sort(key=lambda item: order[item[0]])
    return IncomeSurvey(
        household, role, size, tuple(production), tuple(received), _allowance(people)
    )


# --- the form's answers -------------------------------------------------------------------------

_STATUS_LABEL = {  # the form's last_status_label calculation
    "ngheo": "hộ nghèo",
    "can_ngheo": "hộ cận nghèo",
    "thoat_ngheo": "hộ thoát nghèo",
    "thoat_can_ngheo": "hộ thoát cận nghèo",
    "khong": "không nghèo, không cận nghèo",
}


def vi_amount(amount: int) -> str:
    """As the form writes an amount in words: ``1.234.567``, ``-45.000``."""
    return ("-" if amount < 0 else "") + f"{abs(amount):,}".replace(",", ".")


def income_times(survey: IncomeSurvey, phieu_b_date: date) -> tuple[date, datetime]:
    """(review date, when the phone sent it, local time): the reviewer came back one to four
    days after the Phiếu B, once the household had gathered its figures, and sent the form
    that evening."""
    rng = rng_for("thu_nhap-times", survey.household.code)
    day = phieu_b_date + timedelta(days=rng.randint(1, 4))
    return day, datetime.combine(day, time(17, 0)) + timedelta(minutes=rng.randrange(0, 4 * 60))


def income_fields(
    survey: IncomeSurvey, reviewer: Any, review_date: date, signature: str | None
) -> dict[str, str | None]:
    """Every answer and calculation of the income survey, keyed by field path."""
    planned = survey.household
    values: dict[str, str | None] = {
        "in_list": "yes",
        "hh": planned.code,
        "village": planned.village.code,
        "village_name": planned.village.name,
        "hh_code": planned.code,
        "head_name": planned.head_name,
        "last_status": planned.last_status,
        "last_status_label": _STATUS_LABEL.get(
            planned.last_status, "hộ mới / chưa có trong danh sách"
        ),
        "main_occupation": "nong_nghiep",
        "members": str(survey.members),
        "income/sources": " ".join(survey.sources),
    }
    for source, revenue, cost in survey.production:
        group = f"income/{source}/{source}"
        values |= {
            f"{group}_rev": str(revenue),
            f"{group}_cost": str(cost),
            f"{group}_loss_ok": "OK" if cost > revenue else None,
            f"{group}_net": str(revenue - cost),
        }
    for source, amount in survey.received:
        values[f"income/{source}_amount"] = str(amount)
    total, per_person = survey.total, survey.per_person_month
    values |= {
        "income/allowance/social_allowance": "yes" if survey.allowance else "no",
        "income/allowance/social_allowance_amount": str(survey.allowance)
        if survey.allowance
        else None,
        "income/total_net_income_12m": str(total),
        "income/income_per_person_month": str(per_person),
        "income/social_allowance_excluded": str(survey.allowance),
        "income/total_abs": str(abs(total)),
        "income/income_pp_abs": str(abs(per_person)),
        "income/total_text": vi_amount(total),
        "income/income_pp_text": vi_amount(per_person),
        "income/allowance_text": vi_amount(survey.allowance),
        "confirm/reviewer_name": reviewer.display_name,
        "confirm/review_date": review_date.isoformat(),
        "confirm/head_signature": signature,
    }
    return values


def instance_name(survey: IncomeSurvey) -> str:
    """The form's instance name: ``concat(${head_name}, ' – ', ${village}, ' – thu nhập')``."""
    planned = survey.household
    return f"{planned.head_name} – {planned.village.code} – thu nhập"
