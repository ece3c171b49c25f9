"""The demo commune's villages and households: who lives there and what the registry recorded.

A few hundred invented households (Kinh and Central Highlands ethnic-minority names; none is a
real person) in six villages, with the status each was recognised with in 2025 — and, for the
households that were ever poor or near-poor, in 2023 and 2024 too, so that "tái nghèo" can be
seen.  Each household also gets the outcome its 2026 questionnaire is written to produce
(:mod:`server.demo_submissions`).  The plan is a pure function of :data:`SEED`: every run gives
the same households.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from server.extensions import db
from server.geography.models import Commune, Village
from server.households.models import Household, HouseholdYearStatus
from server.households.services import import_households

SEED = "rasoat-demo-2026"
LIST_YEAR = 2025  # the statuses on last year's list
REVIEW_YEAR = 2026  # the review the demo questionnaires belong to
HISTORY_YEARS = (2023, 2024, LIST_YEAR)


def rng_for(*parts: object) -> random.Random:
    """A pseudo-random generator seeded from :data:`SEED` and ``parts`` (invented demo data,
    never anything secret)."""
    return random.Random(":".join(map(str, (SEED, *parts))))  # noqa: S311


@dataclass(frozen=True, slots=True)
class DemoVillage:
    code: str
    name: str
    households: int
    ethnic_groups: tuple[tuple[str, float], ...]  # (Phiếu B ethnicity code, share)
    wealth: float  # added to each household's draw: remote villages are poorer
    review_window: tuple[date, date]  # when the reviewers visited the village in 2026


VILLAGES: tuple[DemoVillage, ...] = (
    DemoVillage(
        "T01",
        "Thôn Kon Rá",
        64,
        (("ba_na", 0.85), ("kinh", 0.15)),
        0.0,
        (date(2026, 9, 14), date(2026, 9, 26)),
    ),
    DemoVillage(
        "T02",
        "Thôn Đăk Lung",
        58,
        (("xo_dang", 0.8), ("kinh", 0.2)),
        -0.1,
        (date(2026, 9, 28), date(2026, 10, 10)),
    ),
    DemoVillage(
        "T03",
        "Làng Plei Ốp",
        70,
        (("gia_rai", 0.9), ("kinh", 0.1)),
        -0.05,
        (date(2026, 10, 12), date(2026, 10, 24)),
    ),
    DemoVillage(
        "T04",
        "Thôn Đăk Răng",
        52,
        (("xo_dang", 0.5), ("gie_trieng", 0.3), ("kinh", 0.2)),
        0.0,
        (date(2026, 10, 26), date(2026, 11, 6)),
    ),
    DemoVillage(
        "T05",
        "Làng Kon Brăp",
        60,
        (("ba_na", 0.9), ("kinh", 0.1)),
        -0.15,
        (date(2026, 11, 7), date(2026, 11, 14)),
    ),
    DemoVillage(
        "T06",
        "Thôn Tân Lập",
        56,
        (("kinh", 0.75), ("muong", 0.1), ("ba_na", 0.15)),
        0.35,
        (date(2026, 11, 15), date(2026, 11, 20)),
    ),
)

# --- names (invented combinations of common name parts) ------------------------------------

_KINH_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi", "Đỗ", "Phan", "Ngô"]
_MUONG_FAMILY = ["Bùi", "Đinh", "Quách", "Hà"]
_KINH_MALE = [
    "Văn Bình", "Văn Hùng", "Văn Tài", "Đức Minh", "Văn Dũng", "Quang Sơn", "Minh Tuấn",
    "Văn Hải", "Hữu Phúc", "Văn Toàn", "Văn Lợi", "Đình Khánh", "Văn Thắng", "Công Hậu",
]  # fmt: skip
_KINH_FEMALE = [
    "Thị Mai", "Thị Lan", "Thị Hoa", "Thị Hương", "Thu Thảo", "Thị Nga", "Thị Hạnh",
    "Thị Liên", "Thị Thu", "Hải Yến", "Thị Vân", "Ngọc Ánh", "Thị Hằng",
]  # fmt: skip
# Ba Na, Xơ Đăng, Giẻ Triêng: "A" before a man's name, "Y" before a woman's.
_A_Y_GIVEN = {
    "ba_na": (
        ["Thút", "Blúp", "Hlơn", "Nhơn", "Byă", "Lưu", "Hmưk", "Đoan", "Khoen", "Rin",
         "Thiêng", "Hyôl", "Brưh", "Djơn", "Pơl", "Gưh"],
        ["Blăng", "Hlai", "Nga", "Dít", "Bông", "Hơ", "Mlơ", "Phưi", "Giêng", "Lép", "Hyên",
         "Khưn", "Đer", "Nhăn"],
    ),
    "xo_dang": (
        ["Rông", "Chiu", "Hrang", "Nhen", "Kiên", "Phết", "Bứp", "Sáu", "Thoan", "Nhuôn"],
        ["Hờ", "Hiên", "Pưn", "Nhung", "Thoa", "Sẻ", "Nhị", "Liêm", "Xoan"],
    ),
    "gie_trieng": (
        ["Bren", "Pên", "Dong", "Kiêm", "Rôn", "Tương", "Blâu"],
        ["Rai", "Nuôn", "Ly", "Blai", "Hre", "Ngơi"],
    ),
}  # fmt: skip
# Gia Rai: the family name comes from the mother; women's given names take "H'".
_JRAI_FAMILY = ["Siu", "Rơ Mah", "Ksor", "Kpă", "Nay", "Rơ Châm", "Puih", "Rơ Lan"]
_JRAI_MALE = ["Thuyên", "Hyưk", "Blang", "Dơk", "Pit", "Hlim", "Rớt", "Byơi", "Jơn", "Djuin"]
_JRAI_FEMALE = ["Nga", "Lan", "Yơn", "Bia", "Blơ", "Hiên", "Mai", "Phi", "Duen", "Nhi", "Lưm"]


class _Namer:
    """Names for one household: distinct within it, following each group's custom."""

    def __init__(self, rng: random.Random, ethnicity: str) -> None:
        self.rng, self.ethnicity, self.used = rng, ethnicity, set()

    def family(self) -> str:
        if self.ethnicity == "gia_rai":
            return self.rng.choice(_JRAI_FAMILY)
        return self.rng.choice(_MUONG_FAMILY if self.ethnicity == "muong" else _KINH_FAMILY)

    def name(self, female: bool, family: str | None = None) -> str:
        for _ in range(50):
            candidate = self._draw(female, family)
            if candidate not in self.used:
                break
        self.used.add(candidate)
        return candidate

    def _draw(self, female: bool, family: str | None) -> str:
        rng = self.rng
        if self.ethnicity in _A_Y_GIVEN:
            men, women = _A_Y_GIVEN[self.ethnicity]
            if self.ethnicity == "xo_dang" and rng.random() < 0.25:  # some use Kinh-style names
                return f"Đinh {'Thị' if female else 'Văn'} {rng.choice(women if female else men)}"
            return f"{'Y' if female else 'A'} {rng.choice(women if female else men)}"
        family = family or self.family()
        if self.ethnicity == "gia_rai":
            return (
                f"{family} H'{rng.choice(_JRAI_FEMALE)}"
                if female
                else (f"{family} {rng.choice(_JRAI_MALE)}")
            )
        return f"{family} {rng.choice(_KINH_FEMALE if female else _KINH_MALE)}"


# --- the plan --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedMember:
    name: str
    sex: str  # "1" male, "2" female (the forms' coding)
    relationship: str  # chu_ho, vo_chong, con, bo_me, chau
    age: int


@dataclass(frozen=True, slots=True)
class PlannedHousehold:
    code: str
    village: DemoVillage
    ethnicity: str
    members: tuple[PlannedMember, ...]
    history: tuple[tuple[int, str], ...]  # (year, status) recorded in the registry
    source: str  # danh_sach / de_nghi / khac
    # What the 2026 review gives: poor, near, neither, undetermined (a fact is missing),
    # stop (Phiếu A stop criterion, no Phiếu B) or pending (not surveyed yet).
    outcome: str
    tier: str  # poor / near / mid / rich: how the answers are drawn
    phieu_a: bool  # a Phiếu A was filled before the Phiếu B (always for "stop")
    review_date: date

    @property
    def head_name(self) -> str:
        return self.members[0].name

    @property
    def last_status(self) -> str:
        return self.history[-1][1]


_P, _N, _K = "ngheo", "can_ngheo", "khong"
# (outcome, possible (2023, 2024, 2025) histories, how many), poorest first; None: no record.
# Households are sorted from poorest to richest draw and take these in order.
_PROFILES: tuple[tuple[str, tuple[tuple[str | None, ...], ...], int], ...] = (
    ("poor", ((_P, _P, _P),), 22),  # still poor
    ("poor", ((_N, _N, _N), (_P, _N, _N)), 4),  # near-poor → poor
    ("undetermined", ((_P, _P, _P),), 2),
    ("pending", ((_P, _P, _P),), 3),
    ("poor", ((_P, "thoat_ngheo", _K), (_P, _P, "thoat_ngheo")), 3),  # relapsed (tái nghèo)
    ("poor", ((None, None, "moi"),), 3),  # applied (Mẫu số 01): newly poor
    ("poor", ((None, None, _K),), 4),  # newly poor
    ("near", ((_P, _P, _P),), 8),  # poor → near-poor
    ("near", ((_N, _N, _N), (_P, _N, _N)), 16),  # still near-poor
    ("undetermined", ((_N, _N, _N),), 2),
    ("pending", ((_N, _N, _N),), 3),
    ("near", ((_N, _N, "thoat_can_ngheo"),), 2),  # relapsed into near-poverty
    ("near", ((None, None, "moi"),), 3),
    ("near", ((None, None, _K),), 6),  # newly near-poor
    ("undetermined", ((None, None, _K),), 2),
    ("neither", ((_P, _P, _P), (_N, _P, _P)), 8),  # escaped poverty
    ("neither", ((_N, _N, _N), (_P, _N, _N)), 11),  # escaped near-poverty
    ("neither", ((_P, _P, "thoat_ngheo"), (_N, _N, "thoat_can_ngheo")), 9),
    ("neither", ((None, None, "moi"),), 4),
    ("pending", ((None, None, _K),), 24),
    ("neither", ((None, None, _K),), 0),  # every household left over
    ("stop", ((None, None, _K),), 10),  # clearly not poor: Phiếu A only
)
PHIEU_A_BEFORE_B = 15  # households that also have a Phiếu A that let them continue


def _outcomes(total: int) -> list[tuple[str, tuple[tuple[str | None, ...], ...]]]:
    fixed = sum(count for _, _, count in _PROFILES)
    rest = total - fixed
    if rest < 0:
        raise ValueError(f"the demo villages have {total} households, the profiles need {fixed}")
    return [
        (outcome, histories)
        for outcome, histories, count in _PROFILES
        for _ in range(count or rest)
    ]


def _tier(outcome: str, last_status: str, rng: random.Random) -> str:
    if outcome in ("poor", "undetermined") or (outcome == "pending" and last_status == _P):
        return "poor"
    if outcome == "near" or (outcome == "pending" and last_status == _N):
        return "near"
    if outcome == "stop":
        return "rich"
    if last_status in (_P, _N, "thoat_ngheo", "thoat_can_ngheo"):
        return "mid"
    return "rich" if rng.random() < 0.35 else "mid"


def _members(rng: random.Random, ethnicity: str, tier: str) -> tuple[PlannedMember, ...]:
    namer = _Namer(rng, ethnicity)
    head_age = rng.randint(24, 72)
    head_female = rng.random() < (0.45 if ethnicity == "gia_rai" else 0.15)
    family = namer.family()
    head = PlannedMember(
        namer.name(head_female, family), "2" if head_female else "1", "chu_ho", head_age
    )
    members = [head]
    mother_age, child_family = (head_age, family) if head_female else (None, family)
    if rng.random() < (0.88 if head_age < 62 else 0.5):
        gap = rng.randint(-2, 6)  # husbands are usually a few years older
        spouse_age = max(18, head_age + gap if head_female else head_age - gap)
        spouse_family = namer.family()
        spouse = PlannedMember(
            namer.name(not head_female, spouse_family),
            "1" if head_female else "2",
            "vo_chong",
            spouse_age,
        )
        members.append(spouse)
        if not head_female:
            mother_age = spouse_age
            if ethnicity == "gia_rai":  # children take their mother's family name
                child_family = spouse_family
        elif ethnicity != "gia_rai":
            child_family = spouse_family
    mother_age = mother_age or head_age
    counts = {"poor": [1, 2, 3, 3, 4, 5], "near": [1, 2, 2, 3, 4], "mid": [0, 1, 2, 2, 3]}
    children = rng.choice(counts.get(tier, [1, 1, 2, 2]))
    if head_age > 55:
        children = max(0, children - 2)  # most grown children have their own households
    oldest = min(mother_age - 18, 34)
    ages = (
        sorted((rng.randint(0, oldest) for _ in range(children)), reverse=True)
        if oldest > 0
        else []
    )
    for age in ages:
        female = rng.random() < 0.5
        members.append(
            PlannedMember(namer.name(female, child_family), "2" if female else "1", "con", age)
        )
    if head_age < 45 and rng.random() < 0.2:
        female = rng.random() < 0.7
        members.append(
            PlannedMember(
                namer.name(female),
                "2" if female else "1",
                "bo_me",
                min(92, head_age + rng.randint(22, 30)),
            )
        )
    if head_age >= 50 and rng.random() < 0.4:
        for _ in range(rng.randint(1, 2)):
            female = rng.random() < 0.5
            members.append(
                PlannedMember(
                    namer.name(female, child_family),
                    "2" if female else "1",
                    "chau",
                    rng.randint(0, 12),
                )
            )
    return tuple(members)


def plan_households(commune_code: str) -> list[PlannedHousehold]:
    """The demo households, in code order (deterministic)."""
    rng = rng_for("plan")
    draws = sorted(
        (village.wealth + rng.random(), village.code, number, village)
        for village in VILLAGES
        for number in range(1, village.households + 1)
    )
    outcomes = _outcomes(len(draws))
    planned = []
    for (_wealth, _code, number, village), (outcome, histories) in zip(
        draws, outcomes, strict=True
    ):
        code = f"{commune_code}-{village.code}-{number:04d}"
        hrng = rng_for("household", code)
        history = tuple(
            (year, status)
            for year, status in zip(HISTORY_YEARS, hrng.choice(histories), strict=True)
            if status is not None
        )
        last = history[-1][1]
        groups, shares = zip(*village.ethnic_groups, strict=True)
        ethnicity = hrng.choices(groups, shares)[0]
        tier = _tier(outcome, last, hrng)
        start, end = village.review_window
        planned.append(
            PlannedHousehold(
                code=code,
                village=village,
                ethnicity=ethnicity,
                members=_members(hrng, ethnicity, tier),
                history=history,
                source="de_nghi" if last == "moi" else ("khac" if last == _K else "danh_sach"),
                outcome=outcome,
                tier=tier,
                phieu_a=outcome == "stop",
                review_date=date.fromordinal(hrng.randint(start.toordinal(), end.toordinal())),
            )
        )
    planned.sort(key=lambda h: h.code)
    surveyed = [h.code for h in planned if h.outcome not in ("stop", "pending")]
    with_a = set(rng.sample(surveyed, PHIEU_A_BEFORE_B))
    return [replace(h, phieu_a=True) if h.code in with_a else h for h in planned]


# --- the registry ----------------------------------------------------------------------------


def seed_villages(commune: Commune) -> None:
    """Add the demo villages the commune does not have yet (names of existing ones are kept)."""
    existing = {v.code for v in commune.villages}
    for village in VILLAGES:
        if village.code not in existing:
            commune.villages.append(Village(code=village.code, name=village.name))
    db.session.flush()


def seed_registry(commune: Commune, planned: list[PlannedHousehold]) -> int:
    """Record the planned households and their statuses through the household import; a
    household already recorded under its code with the planned head is left as it is (staff may
    have changed it), one from an older demo is brought up to date.  Returns how many were
    written."""
    current = {
        h.code: h
        for h in db.session.scalars(
            select(Household)
            .where(Household.commune_id == commune.id)
            .options(selectinload(Household.statuses))
        )
    }
    stale = [
        h
        for h in planned
        if h.code not in current
        or current[h.code].head_name != h.head_name
        or {s.year for s in current[h.code].statuses} < {year for year, _ in h.history}
    ]
    for year in HISTORY_YEARS:
        rows = [
            {
                "code": h.code,
                "village": h.village.code,
                "head_name": h.head_name,
                "last_status": status,
                "source": h.source,
            }
            for h in stale
            for recorded, status in h.history
            if recorded == year
        ]
        if rows:
            import_households(commune, rows, year=year)
    return len(stale)


def registry_counts(commune: Commune) -> dict[str, int]:
    """Households of the commune by their status on last year's list."""
    rows = db.session.execute(
        select(HouseholdYearStatus.status, func.count())
        .join(Household, Household.id == HouseholdYearStatus.household_id)
        .where(Household.commune_id == commune.id, HouseholdYearStatus.year == LIST_YEAR)
        .group_by(HouseholdYearStatus.status)
    ).all()
    return {status.value: count for status, count in rows}
