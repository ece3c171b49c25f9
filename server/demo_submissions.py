"""The demo commune's 2026 review: Phiếu A and Phiếu B questionnaires as ODK Collect would send
them, stored by the real ingest service and scored by the real scoring queue.

Each planned household (:mod:`server.demo_households`) gets answers drawn to give its planned
outcome — poor, near-poor, neither, or "cannot determine" (one answer missing) — checked against
the scoring engine with the commune's B1 table before it is sent; the instance XML is built
from the published form version's own instance skeleton, so it matches whatever version is
published.  Instance IDs are derived from the household code: seeding again sends nothing twice.

A handful of farming households also answered the average-living-standard income survey
(:mod:`server.demo_income`), chosen so that measured income agrees with the B1 method for some
(households of average living standard among them) and disagrees across the line for others;
each household's result with both methods is checked against the engine before it is sent.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import hmac
import io
import math
import struct
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from flask import current_app
from lxml import etree
from sqlalchemy import func, select

from server.accounts.models import User
from server.blobs import blob_store
from server.db import write_transaction
from server.demo_households import (
    REVIEW_YEAR,
    PlannedHousehold,
    PlannedMember,
    plan_households,
    rng_for,
    seed_registry,
    seed_villages,
)
from server.demo_income import (
    INCOME,
    ROLES,
    IncomeSurvey,
    draw_income,
    income_fields,
    income_times,
    instance_name,
)
from server.errors import AppError
from server.extensions import db
from server.geography.models import Commune
from server.privacy.notice import default_notice
from server.questionnaires.models import Form, FormState, FormVersion, VersionState
from server.questionnaires.services import assign_form
from server.scoring.b1 import PointTable, score_b1
from server.scoring.b1_store import assign_table
from server.scoring.engine import Category, ScoreResult, score_household
from server.scoring.facts import MeasuredIncome
from server.scoring.mapping import EvidenceMapping, Mapping, all_mappings
from server.scoring.models import CommuneB1Table, HouseholdScore
from server.scoring.services import enqueue, pending_job_ids, process_jobs
from server.scoring.standards import Standard, standard_for_year
from server.scoring.tables import resolve_table
from server.submissions.models import Submission, SubmissionVersion
from server.submissions.parsing import JR_NS, ORX_NS
from server.submissions.services import IncomingFile, IngestOutcome, ingest_submission
from server.xmlsafe import local_name, parse_xml

PHIEU_B, PHIEU_A = "phieu_b_2022", "phieu_a"
_XF = "{http://www.w3.org/2002/xforms}"
_LOCAL = timedelta(hours=7)  # Vietnam; the server stores UTC
_DEVICE = "collect:DemoPhoneRaSoat01"
_INSTANCE_NS = uuid.UUID("6f1c3a52-51a6-4d3c-9b52-2f5e0d8f7c11")
_TARGET = {
    "poor": Category.POOR,
    "near": Category.NEAR_POOR,
    "neither": Category.NEITHER,
    "undetermined": Category.UNDETERMINED,
}

# --- answers: members --------------------------------------------------------------------------


@dataclass(slots=True)
class _Person:
    """One member's answers (None: the question was not asked)."""

    planned: PlannedMember
    work_status: str | None = None
    contract: str | None = None
    pension: str | None = None
    health_insurance: str | None = "yes"
    malnourished: str | None = None
    disability: str = "khong"
    serious_illness: str | None = None
    social_allowance: str = "no"
    in_school: str | None = None
    education: str | None = None
    qualification: str | None = None
    employer_training: str | None = None

    @property
    def age(self) -> int:
        return self.planned.age

    @property
    def working_age(self) -> bool:
        limit = 61 if self.planned.sex == "1" else 56
        return 15 <= self.age <= limit


_QUALIFICATIONS = {
    "poor": {"khong": 1.0},
    "near": {"khong": 0.85, "so_cap": 0.15},
    "mid": {"khong": 0.55, "so_cap": 0.2, "trung_cap": 0.17, "cao_dang": 0.08},
    "rich": {"khong": 0.25, "so_cap": 0.15, "trung_cap": 0.25, "cao_dang": 0.15, "dai_hoc": 0.2},
}
_ADULT_EDUCATION = {
    "poor": {"chua_tot_nghiep_th": 0.35, "tieu_hoc": 0.4, "thcs": 0.25},
    "near": {"chua_tot_nghiep_th": 0.2, "tieu_hoc": 0.35, "thcs": 0.35, "thpt": 0.1},
    "mid": {"tieu_hoc": 0.2, "thcs": 0.45, "thpt": 0.35},
    "rich": {"thcs": 0.3, "thpt": 0.7},
}
_WORK = {
    "poor": {"nong_nghiep": 0.9, "lam_cong": 0.1},
    "near": {"nong_nghiep": 0.75, "phi_nong_nghiep": 0.1, "lam_cong": 0.15},
    "mid": {"nong_nghiep": 0.5, "phi_nong_nghiep": 0.25, "lam_cong": 0.25},
    "rich": {"nong_nghiep": 0.3, "phi_nong_nghiep": 0.35, "lam_cong": 0.35},
}


def _pick(rng, weights: dict) -> Any:
    return rng.choices(list(weights), list(weights.values()))[0]


def _person(rng, member: PlannedMember, tier: str) -> _Person:
    """Answers that cause no deprivation by themselves (the switches add them)."""
    person = _Person(member)
    age = member.age
    if age < 16:
        person.malnourished = "no"
    else:
        person.serious_illness = "yes" if age >= 60 and rng.random() < 0.12 else "no"
    if age >= 65 and rng.random() < 0.15:
        person.disability = "nhe" if rng.random() < 0.7 else "nang"
    if age >= 80 or person.disability in ("nang", "dac_biet_nang"):
        person.social_allowance = "yes"
    if 3 <= age <= 30:
        studying = age <= 17 or (age <= 22 and tier in ("mid", "rich") and rng.random() < 0.4)
        person.in_school = "yes" if studying else "no"
    if age >= 6:
        person.education = _education(rng, age, person.in_school == "yes", tier)
    if age >= 15:
        _work(rng, person, tier)
    if 16 <= age <= 30 and person.in_school == "no":
        person.employer_training = "no"
        # Young adults not in school have finished their level (no education deprivation).
        if age < 18 and person.education not in ("thcs", "thpt"):
            person.education = "thcs"
        elif age >= 18 and person.education != "thpt" and person.qualification == "khong":
            person.education = "thpt"
    return person


def _work(rng, person: _Person, tier: str) -> None:
    age = person.age
    person.qualification = "khong" if age < 18 else _pick(rng, _QUALIFICATIONS[tier])
    retiring = age >= 66 or (age >= 60 and rng.random() < 0.5)
    if person.in_school == "yes" or retiring:
        person.work_status = "khong_hoat_dong"
    else:
        person.work_status = _pick(rng, _WORK[tier])
    if person.work_status == "lam_cong":
        civil = tier == "rich" and person.qualification != "khong" and rng.random() < 0.5
        person.contract = "bien_che" if civil else "co_hd"
    retired = person.work_status == "khong_hoat_dong" and age >= 56
    person.pension = "yes" if retired and tier == "rich" and rng.random() < 0.5 else "no"


def _education(rng, age: int, in_school: bool, tier: str) -> str:
    if age <= 10:
        return "chua_tot_nghiep_th"
    if age <= 14:
        return "tieu_hoc"
    if age <= 17:
        return "thcs" if in_school or rng.random() < 0.6 else "tieu_hoc"
    if in_school:
        return "thpt"
    return _pick(rng, _ADULT_EDUCATION[tier])


# --- answers: the household --------------------------------------------------------------------

_ELECTRICITY = (
    "kwh_khong_dien",
    "kwh_duoi_25",
    "kwh_25_49",
    "kwh_50_99",
    "kwh_100_149",
    "kwh_150_199",
    "kwh_tu_200",
)
_ELECTRICITY_START = {"poor": (0, 2), "near": (1, 3), "mid": (3, 5), "rich": (4, 6)}
_ASSET_CHANCE = {
    "poor": {"may_nong_nghiep": 0.08},
    "near": {"may_nong_nghiep": 0.3, "tu_lanh": 0.15},
    "mid": {"may_nong_nghiep": 0.5, "tu_lanh": 0.6, "may_giat": 0.35, "binh_nong_lanh": 0.2},
    "rich": {
        "may_nong_nghiep": 0.5,
        "tu_lanh": 0.9,
        "may_giat": 0.8,
        "binh_nong_lanh": 0.6,
        "dieu_hoa": 0.35,
        "o_to": 0.2,
    },
}
# Raising score A for a household that is not poor, then lowering it for one that is.
_RAISE = (
    "tivi",
    "tu_lanh",
    "may_giat",
    "may_nong_nghiep",
    "kwh",
    "binh_nong_lanh",
    "may_tinh",
    "dieu_hoa",
    "kwh",
    "kwh",
    "o_to",
)
_LOWER = (
    "o_to",
    "dieu_hoa",
    "may_tinh",
    "kwh",
    "may_giat",
    "tu_lanh",
    "binh_nong_lanh",
    "kwh",
    "may_nong_nghiep",
    "tivi",
    "kwh",
)
_DEVICES = ("tivi", "radio", "may_tinh", "dien_thoai_thong_minh")
# How often each deprivation is the one a poor household has (Central Highlands pattern).
_SWITCH_WEIGHTS = {
    "nha_tieu": 5,
    "nuoc_sinh_hoat": 4,
    "gd_nguoi_lon": 4,
    "chat_luong_nha": 3,
    "viec_lam": 3,
    "phuong_tien_tt": 2,
    "dien_tich_nha": 2,
    "dinh_duong": 2,
    "bhyt": 1.5,
    "di_hoc_tre_em": 1,
    "vien_thong": 0.5,
}
_DEPRIVATIONS = {
    "poor": {3: 0.35, 4: 0.3, 5: 0.2, 6: 0.15},
    "near": {0: 0.1, 1: 0.4, 2: 0.5},
    "neither": {0: 0.45, 1: 0.35, 2: 0.2},
    "undetermined": {2: 1.0},
}


@dataclass(slots=True)
class _Household:
    planned: PlannedHousehold
    people: list[_Person]
    switches: set[str]
    wall: str = "go_ben_chac"
    frame: str = "go_ben_chac"
    roof: str = "ton"
    floor_area: int = 40
    water: str = "gieng_khoan"
    latrine: str = "tham_doi_nuoc"
    telecom: str = "yes"
    devices: set[str] = field(default_factory=set)
    assets: set[str] = field(default_factory=set)
    electricity: int = 2
    unknown_member: int | None = None  # whose health insurance was not asked

    @property
    def dependants(self) -> int:
        return sum(_dependant(p) for p in self.people)


def _dependant(person: _Person) -> bool:
    return (
        person.age < 16
        or person.age >= 60
        or person.disability in ("nang", "dac_biet_nang")
        or (person.age >= 16 and person.serious_illness == "yes")
    )


def _candidates(people: list[_Person], switch: str) -> list[int]:
    tests = {
        "viec_lam": lambda p: p.working_age and p.in_school != "yes" and p.age <= 55,
        "dinh_duong": lambda p: p.age < 16,
        "bhyt": lambda p: p.age >= 6,
        "gd_nguoi_lon": lambda p: 16 <= p.age <= 30,
        "di_hoc_tre_em": lambda p: 3 <= p.age < 16,
    }
    test = tests.get(switch)
    return [i for i, p in enumerate(people) if test is None or test(p)]


def _apply_member_switch(rng, household: _Household, switch: str) -> None:
    people = household.people
    person = people[rng.choice(_candidates(people, switch))]
    if switch == "viec_lam":
        person.work_status = "lam_cong" if rng.random() < 0.75 else "that_nghiep"
        person.contract = "khong_hd" if person.work_status == "lam_cong" else None
    elif switch == "dinh_duong":
        person.malnourished = "yes"
    elif switch == "bhyt":
        person.health_insurance = "no"
    elif switch == "gd_nguoi_lon":
        person.in_school, person.employer_training = "no", "no"
        person.education = "tieu_hoc" if person.age < 18 else rng.choice(["tieu_hoc", "thcs"])
        person.qualification = "khong" if person.age >= 15 else None
        if person.work_status == "khong_hoat_dong":
            person.work_status = "nong_nghiep"
    elif switch == "di_hoc_tre_em":
        person.in_school = "no"


def _draw_household(rng, planned: PlannedHousehold) -> _Household:
    tier = planned.tier
    people = [_person(rng, m, tier) for m in planned.members]
    household = _Household(planned, people, set())
    natural = 1 if household.dependants * 2 > len(people) else 0
    counts = _DEPRIVATIONS[planned.outcome]
    wanted = max(natural, _pick(rng, counts))
    feasible = [s for s in _SWITCH_WEIGHTS if _candidates(people, s)]
    while len(household.switches) < wanted - natural and feasible:
        choice = rng.choices(feasible, [_SWITCH_WEIGHTS[s] for s in feasible])[0]
        feasible.remove(choice)
        household.switches.add(choice)
    for switch in sorted(household.switches):
        if switch in ("viec_lam", "dinh_duong", "bhyt", "gd_nguoi_lon", "di_hoc_tre_em"):
            _apply_member_switch(rng, household, switch)
    _draw_dwelling(rng, household)
    _draw_b1(rng, household)
    if planned.outcome == "undetermined":
        insured = [i for i, p in enumerate(people) if p.age >= 6 and p.health_insurance == "yes"]
        if "bhyt" not in household.switches and insured:
            household.unknown_member = rng.choice(insured)
            people[household.unknown_member].health_insurance = None
    return household


def _draw_dwelling(rng, household: _Household) -> None:
    tier, switches, size = household.planned.tier, household.switches, len(household.people)
    durable = {
        "wall": ["gach_da", "go_ben_chac"] if tier in ("poor", "near") else ["gach_da", "be_tong"],
        "frame": ["go_ben_chac", "gach_da"] if tier in ("poor", "near") else ["btct", "gach_da"],
        "roof": ["ton", "ton", "fibro"] if tier in ("poor", "near") else ["ton", "ngoi"],
    }
    flimsy = {
        "wall": ["go_tap", "dat", "tre_nua_la"],
        "frame": ["go_tap", "tre"],
        "roof": ["la_tranh", "giay_dau"],
    }
    parts = ["wall", "frame", "roof"]
    weak = set(rng.sample(parts, rng.choice([2, 3]))) if "chat_luong_nha" in switches else set()
    if not weak and tier == "poor" and rng.random() < 0.5:
        weak = {rng.choice(parts)}  # one flimsy part is not yet a deprivation
    for part in parts:
        setattr(household, part, rng.choice(flimsy[part] if part in weak else durable[part]))
    if "dien_tich_nha" in switches:
        household.floor_area = max(6, int(size * rng.uniform(4, 7.5)))
        household.floor_area = min(household.floor_area, 8 * size - 1)
    else:
        low, high = {"poor": (8.5, 13), "near": (9, 16), "mid": (12, 28), "rich": (20, 40)}[tier]
        household.floor_area = max(8 * size + 1, round(size * rng.uniform(low, high)))
    household.water = rng.choice(
        ["gieng_dao_khong_bao_ve", "khe_mo_khong_bao_ve", "nuoc_mat"]
        if "nuoc_sinh_hoat" in switches
        else ["gieng_dao_duoc_bao_ve", "khe_mo_duoc_bao_ve", "gieng_khoan"]
        if tier in ("poor", "near")
        else ["nuoc_may", "gieng_khoan", "gieng_khoan"]
    )
    household.latrine = rng.choice(
        ["ho_khong_san", "khong_co", "cau_tom"]
        if "nha_tieu" in switches
        else ["tham_doi_nuoc", "hai_ngan", "chim_co_ong_thong_hoi"]
        if tier in ("poor", "near")
        else ["tu_hoai", "ban_tu_hoai", "tu_hoai"]
    )
    household.telecom = "no" if "vien_thong" in switches else "yes"
    if "phuong_tien_tt" in switches:
        household.devices = {"dien_thoai_thuong"} if household.telecom == "yes" else set()
    else:
        devices = {"dien_thoai_thong_minh"} if household.telecom == "yes" else {"radio"}
        if rng.random() < {"poor": 0.35, "near": 0.6, "mid": 0.85, "rich": 1.0}[tier]:
            devices.add("tivi")
        if tier == "rich" and rng.random() < 0.4:
            devices.add("may_tinh")
        household.devices = devices


def _draw_b1(rng, household: _Household) -> None:
    tier = household.planned.tier
    low, high = _ELECTRICITY_START[tier]
    household.electricity = rng.randint(low, high)
    household.assets = {"xe_may"} if tier != "poor" or rng.random() < 0.8 else set()
    for asset, chance in _ASSET_CHANCE[tier].items():
        if rng.random() < chance:
            household.assets.add(asset)
    _keep_b1_answered(household)


def _keep_b1_answered(household: _Household) -> None:
    # Phiếu B 2022 writes b1_assets empty when the household has none of the listed assets
    # and the mapping then reads it as unanswered: every demo household owns at least one.
    if not household.assets and not household.devices & {"tivi", "may_tinh"}:
        household.assets.add("xe_may")


def _adjust(household: _Household, step: str, up: bool) -> bool:
    """Apply one step of :data:`_RAISE` (``up``) or :data:`_LOWER`; False when it changes
    nothing."""
    if step == "kwh":
        before = household.electricity
        household.electricity = min(6, max(0, before + (1 if up else -1)))
        return household.electricity != before
    if step in ("tivi", "may_tinh"):
        owned = household.devices
        if "phuong_tien_tt" in household.switches:
            return False  # would end the information-device deprivation
        if not up and not (owned - {step}) & set(_DEVICES):
            return False  # the last information device stays
    else:
        owned = household.assets
    if (step in owned) == up:
        return False
    if up:
        owned.add(step)
    else:
        owned.discard(step)
        _keep_b1_answered(household)
    return (step in owned) == up


# --- answers as field paths ----------------------------------------------------------------------

_STATUS_VI = {
    "ngheo": "hộ nghèo",
    "can_ngheo": "hộ cận nghèo",
    "thoat_ngheo": "hộ thoát nghèo",
    "thoat_can_ngheo": "hộ thoát cận nghèo",
    "khong": "không nghèo, không cận nghèo",
}
_STATUS_A = {
    "ngheo": "hộ nghèo",
    "can_ngheo": "hộ cận nghèo",
    "thoat_ngheo": "hộ đã thoát nghèo",
    "thoat_can_ngheo": "hộ đã thoát cận nghèo",
    "khong": "hộ không nghèo, không cận nghèo",
}
_QUAL_VI = {
    "dai_hoc": "đại học trở lên",
    "cao_dang": "cao đẳng",
    "trung_cap": "trung cấp",
    "so_cap": "sơ cấp",
    "thpt": "trung học phổ thông",
    "duoi_thpt": "dưới trung học phổ thông",
}
_QUAL_RANK = {"dai_hoc": 5, "cao_dang": 4, "trung_cap": 3, "so_cap": 2}


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _qual_rank(person: _Person) -> int:
    if person.age < 6:
        return 0
    return _QUAL_RANK.get(person.qualification or "", 1 if person.education == "thpt" else 0)


def _has_pension(person: _Person) -> bool:
    return person.age >= 15 and person.pension == "yes"


def b1_answers(household: _Household) -> dict[str, Any]:
    """The B1 characteristics the phone derives from the answers, as the mapping reads them."""
    people = household.people
    top = max(map(_qual_rank, people))
    pensions = sum(map(_has_pension, people))
    assets = [a for a in _ASSET_ORDER if a in household.assets]
    return {
        "b1_hh_size": float(len(people)),
        "b1_dependants": float(household.dependants),
        "b1_top_qual": {5: "dai_hoc", 4: "cao_dang", 3: "trung_cap", 2: "so_cap", 1: "thpt"}.get(
            top, "duoi_thpt"
        ),
        "b1_pension": ("khong", "mot_nguoi")[pensions] if pensions < 2 else "tu_hai_nguoi",
        "nonfarm_work": _nonfarm(people),
        "electricity": _ELECTRICITY[household.electricity],
        "b1_assets": [*assets, *(d for d in ("tivi", "may_tinh") if d in household.devices)],
        "b1_area_pp_band": _area_band(household.floor_area, len(people)),
    }


def _member_fields(n: int, person: _Person, ethnicity: str) -> dict[str, str | None]:
    m, age = person.planned, person.age
    gd = (
        16 <= age <= 30
        and person.in_school == "no"
        and person.employer_training != "yes"
        and (
            (age < 18 and person.education not in ("thcs", "thpt"))
            or (age >= 18 and person.education != "thpt" and person.qualification == "khong")
        )
    )
    values = {
        "member_no": str(n),
        "info/name": m.name,
        "info/sex": m.sex,
        "info/relationship": m.relationship,
        "info/age": str(age),
        "info/ethnicity": ethnicity,
        "work/work_status": person.work_status,
        "work/contract": person.contract,
        "work/pension": person.pension,
        "health/health_insurance": person.health_insurance,
        "health/malnourished": person.malnourished,
        "health/disability": person.disability,
        "health/serious_illness": person.serious_illness,
        "health/social_allowance": person.social_allowance,
        "edu/in_school": person.in_school,
        "edu/education": person.education,
        "edu/qualification": person.qualification,
        "edu/employer_training": person.employer_training,
        "is_head": _flag(m.relationship == "chu_ho"),
        "working_age": _flag(person.working_age),
        "dependant": _flag(_dependant(person)),
        "d_viec_lam": _flag(
            person.working_age
            and (
                person.work_status == "that_nghiep"
                or (person.work_status == "lam_cong" and person.contract == "khong_hd")
            )
        ),
        "d_dinh_duong": _flag(age < 16 and person.malnourished == "yes"),
        "d_bhyt": _flag(age >= 6 and person.health_insurance == "no"),
        "d_gd_nguoi_lon": _flag(gd),
        "d_di_hoc_tre_em": _flag(3 <= age < 16 and person.in_school == "no"),
        "qual_rank": str(_qual_rank(person)),
        "has_pension": _flag(_has_pension(person)),
    }
    return {f"members[{n}]/{key}": value for key, value in values.items()}


def _area_band(floor_area: float, size: int) -> str:
    for limit, band in ((8, "dt_duoi_8"), (20, "dt_8_20"), (30, "dt_20_30"), (40, "dt_30_40")):
        if floor_area < limit * size:
            return band
    return "dt_tu_40"


def _common_fields(planned: PlannedHousehold, reviewer: User, started: datetime) -> dict:
    return {
        "start": _timestamp(started),
        "username": reviewer.username,
        "ident/in_list": "yes",
        "ident/hh": planned.code,
        "village": planned.village.code,
        "hh_code": planned.code,
        "head_name": planned.head_name,
        "last_status": planned.last_status,
        # What the reviewer read to the household first (the form computes it from
        # privacy_notice.csv; the demo's commune uses rasoat's default words).
        "privacy_text": default_notice().text_vi,
        "privacy_text_en": default_notice().text_en,
    }


def phieu_b_fields(
    household: _Household, reviewer: User, started: datetime, signature: str | None
) -> dict[str, str | None]:
    """Every answer and calculation of Phiếu B 2022 for the household, keyed by field path."""
    planned, people = household.planned, household.people
    rng = rng_for("phieu_b", planned.code, "extras")
    size = len(people)
    values: dict[str, str | None] = _common_fields(planned, reviewer, started)
    values |= {
        "end": _timestamp(started + timedelta(minutes=rng.randint(25, 50))),
        "deviceid": _DEVICE,
        "village_name": planned.village.name,
        "last_status_vi": _STATUS_VI.get(planned.last_status, "hộ mới"),
        "area_type_server": "rural",
        "area_type": "rural",
        "area_type_label": "Nông thôn",
        "general/review_date": planned.review_date.isoformat(),
        "general/gps": _gps(rng, planned),
    }
    members: dict[str, str | None] = {}
    for n, person in enumerate(people, start=1):
        members |= _member_fields(n, person, planned.ethnicity)
    values |= members

    def flagged(key: str) -> list[str]:
        return [
            str(members[f"members[{n}]/info/name"])
            for n in range(1, size + 1)
            if members[f"members[{n}]/{key}"] == "1"
        ]

    dependants = household.dependants
    b1 = b1_answers(household)
    durable = {
        "wall": household.wall in ("be_tong", "gach_da", "go_ben_chac", "kim_loai"),
        "frame": household.frame
        in ("btct", "gach_da", "sat_thep", "go_ben_chac", "tuong_chiu_luc"),
        "roof": household.roof in ("be_tong", "ngoi", "fibro", "ton"),
    }
    safe_water = household.water in (
        "nuoc_may",
        "gieng_khoan",
        "gieng_dao_duoc_bao_ve",
        "khe_mo_duoc_bao_ve",
        "nuoc_mua",
        "nuoc_dong_chai_binh",
    )
    hygienic = household.latrine in (
        "tu_hoai",
        "ban_tu_hoai",
        "tham_doi_nuoc",
        "hai_ngan",
        "chim_co_ong_thong_hoi",
    )
    devices = " ".join(d for d in (*_DEVICES, "dien_thoai_thuong") if d in household.devices)
    assets = " ".join(a for a in _ASSET_ORDER if a in household.assets)
    land = rng.random() < 0.92
    livestock = rng.random() < 0.85
    b2 = {
        "viec_lam": bool(flagged("d_viec_lam")),
        "nguoi_phu_thuoc": dependants * 2 > size,
        "dinh_duong": bool(flagged("d_dinh_duong")),
        "bhyt": bool(flagged("d_bhyt")),
        "gd_nguoi_lon": bool(flagged("d_gd_nguoi_lon")),
        "di_hoc_tre_em": bool(flagged("d_di_hoc_tre_em")),
        "chat_luong_nha": 3 - sum(durable.values()) >= 2,
        "dien_tich_nha": household.floor_area < 8 * size,
        "nuoc_sinh_hoat": not safe_water,
        "nha_tieu": not hygienic,
        "vien_thong": household.telecom == "no",
        "phuong_tien_tt": not household.devices & set(_DEVICES),
    }
    values |= {
        "p_wa_min": "15",
        "p_wa_max_m": "61",
        "p_wa_max_f": "56",
        "hh_size": str(size),
        "n_heads": "1",
        "n_dependants": str(dependants),
        "n_pension": str(sum(map(_has_pension, people))),
        "roster_check/roster_ok": "yes",
        "housing/wall": household.wall,
        "housing/frame": household.frame,
        "housing/roof": household.roof,
        "housing/floor_area": str(household.floor_area),
        "wall_durable": _flag(durable["wall"]),
        "frame_durable": _flag(durable["frame"]),
        "roof_durable": _flag(durable["roof"]),
        "area_pp": _number(round(household.floor_area / size * 100) / 100),
        "services/water_source": household.water,
        "services/latrine": household.latrine,
        "services/telecom_use": household.telecom,
        "services/info_devices": devices or "khong_co",
        "water_safe": _flag(safe_water),
        "latrine_hygienic": _flag(hygienic),
        "b1_work/nonfarm_work": b1["nonfarm_work"],
        "b1_work/electricity": b1["electricity"],
        "b1_assets_g/assets": assets or "khong_co",
        "b1_land/has_land": "yes" if land else "no",
        "b1_land/has_livestock": "yes" if livestock else "no",
        "b1_hh_size": str(size),
        "b1_dependants": str(dependants),
        "b1_top_qual": b1["b1_top_qual"],
        "b1_top_qual_vi": _QUAL_VI[b1["b1_top_qual"]],
        "b1_pension": b1["b1_pension"],
        "b1_area_pp_band": b1["b1_area_pp_band"],
        "b1_assets": " ".join(b1["b1_assets"]),
        "b2_count": str(sum(b2.values())),
        "b2_score": str(10 * sum(b2.values())),
        "confirm/reviewer_name": reviewer.display_name,
    }
    if land:
        values |= {
            "b1_land/land_annual": str(rng.randrange(500, 8000, 100)),
            "b1_land/land_perennial": str(rng.choice([0, 0, rng.randrange(1000, 15000, 500)])),
            "b1_land/land_forest": str(rng.choice([0, 0, 0, rng.randrange(5000, 30000, 1000)])),
            "b1_land/land_aquaculture": str(rng.choice([0, 0, 0, 0, rng.randrange(50, 400, 10)])),
        }
    if livestock:
        values |= {
            "b1_land/cattle": str(rng.choice([0, 0, 1, 2, 3, 5])),
            "b1_land/pigs": str(rng.choice([0, 1, 2, 3, 4, 6])),
            "b1_land/poultry": str(rng.randrange(5, 45)),
        }
    for key in ("viec_lam", "dinh_duong", "bhyt", "gd_nguoi_lon", "di_hoc_tre_em"):
        values[f"b2_{key}_who"] = ", ".join(flagged(f"d_{key}"))
    values |= {f"b2_{key}": _flag(value) for key, value in b2.items()}
    values |= _confirmation(household, signature)
    return values


_ASSET_ORDER = (
    "o_to",
    "xe_may",
    "may_nong_nghiep",
    "tau_thuyen",
    "tu_lanh",
    "dieu_hoa",
    "may_giat",
    "binh_nong_lanh",
)


def _nonfarm(people: list[_Person]) -> str:
    if any(p.contract == "bien_che" for p in people):
        return "cong_chuc"
    if any(p.work_status in ("phi_nong_nghiep", "lam_cong") for p in people):
        return "phi_nn_khac"
    return "khong"


def _confirmation(household: _Household, signature: str | None) -> dict[str, str | None]:
    planned = household.planned
    if household.unknown_member is not None:
        name = household.people[household.unknown_member].planned.name
        remark = f"Chưa hỏi được thẻ bảo hiểm y tế của {name} (đi làm ăn xa), sẽ bổ sung."
    elif signature is None and planned.outcome == "neither" and planned.last_status == "ngheo":
        remark = "Hộ chưa đồng ý thoát nghèo, đề nghị đưa ra họp thôn xem xét."
    elif signature is None:
        remark = "Chủ hộ đi làm rẫy, chưa ký xác nhận."
    else:
        remark = None
    if signature is not None:
        confirm = "dong_y"
    elif planned.outcome == "neither" and planned.last_status == "ngheo":
        confirm = "khong_dong_y"
    else:
        confirm = "vang_mat"
    return {
        "confirm/head_confirm": confirm,
        "confirm/head_signature": signature,
        "confirm/remarks": remark,
    }


def _gps(rng, planned: PlannedHousehold) -> str:
    index = int(planned.village.code[1:])
    lat = 14.42 + 0.012 * index + rng.uniform(-0.004, 0.004)
    lon = 107.93 + 0.009 * index + rng.uniform(-0.004, 0.004)
    return f"{lat:.6f} {lon:.6f} {rng.uniform(540, 690):.1f} {rng.uniform(3, 12):.1f}"


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+07:00")


def phieu_a_fields(
    planned: PlannedHousehold,
    reviewer: User,
    started: datetime,
    criteria: list[dict[str, str]],
) -> dict[str, str | None]:
    """Phiếu A: a "stop" household ticks a stop criterion, the others only a continuing one."""
    rng = rng_for("phieu_a", planned.code)
    stops = [c for c in criteria if c.get("stop") == "1"]
    others = [c for c in criteria if c.get("stop") != "1"]
    ticked = (
        rng.sample(stops, rng.randint(1, min(2, len(stops))))
        if planned.outcome == "stop"
        else rng.sample(others, min(len(others), rng.randint(0, 1)))
    )
    ticked.sort(key=criteria.index)
    stopped = [c for c in ticked if c.get("stop") == "1"]
    provisional = sum(c.get("provisional") == "1" for c in criteria)
    return _common_fields(planned, reviewer, started) | {
        "end": _timestamp(started + timedelta(minutes=rng.randint(5, 12))),
        "last_status_label": _STATUS_A.get(planned.last_status, "hộ mới, chưa có tình trạng"),
        "n_criteria": str(len(criteria)),
        "n_provisional": str(provisional),
        "nhan_dang/criteria": " ".join(c["name"] for c in ticked),
        "nhan_dang/checked_all": "yes",
        "n_ticked": str(len(ticked)),
        "stop_count": str(len(stopped)),
        "stop_codes": " ".join(c["name"] for c in stopped),
        "stop_labels": "; ".join(c.get("label", "") for c in stopped),
        "result": "dung" if stopped else "tiep_tuc_phieu_b",
        "rsv/reviewer_name": reviewer.display_name,
        "rsv/review_date": planned.review_date.isoformat(),
    }


# --- instance XML ---------------------------------------------------------------------------------


def _skeleton(version: FormVersion) -> etree._Element:
    root = parse_xml(version.xform, max_bytes=20_000_000, what="biểu mẫu XForm")
    model = root.find(f".//{_XF}model")
    primary = next(i for i in model.findall(f"{_XF}instance") if i.get("id") is None)
    return next(iter(primary.iterchildren(etree.Element)))


def instance_xml(
    skeleton: etree._Element,
    repeats: frozenset[str],
    values: dict[str, str | None],
    instance_id: str,
    instance_name: str | None,
) -> bytes:
    """The instance as ODK Collect writes it: the skeleton's elements in order, no XForms
    namespace, one element per repeat instance present in ``values``, empty when unanswered."""
    values = dict(values)
    values["meta/instanceID"] = instance_id
    if instance_name is not None:
        values["meta/instanceName"] = instance_name
    out = etree.Element(local_name(skeleton), nsmap={"jr": JR_NS, "orx": ORX_NS})
    for name, value in skeleton.attrib.items():
        if not name.startswith("{"):
            out.set(name, value)
    _copy(skeleton, out, "", "/" + local_name(skeleton), repeats, values)
    return etree.tostring(out, xml_declaration=True, encoding="UTF-8")


def _copy(source, target, key: str, path: str, repeats, values) -> None:
    done: set[str] = set()
    for child in source.iterchildren(etree.Element):
        name = local_name(child)
        child_path = f"{path}/{name}"
        if child_path in repeats:
            if name in done:
                continue  # the template and the skeleton's first instance: written once
            done.add(name)
            prefix = f"{key}{name}["
            count = len({k[len(prefix) :].split("]", 1)[0] for k in values if k.startswith(prefix)})
            for n in range(1, count + 1):
                element = etree.SubElement(target, name)
                _copy(child, element, f"{key}{name}[{n}]/", child_path, repeats, values)
            continue
        element = etree.SubElement(target, name)
        if len(child):
            _copy(child, element, f"{key}{name}/", child_path, repeats, values)
        else:
            value = values.get(f"{key}{name}")
            element.text = value if value else None


# --- a minimal PNG for the head's signature -------------------------------------------------------


def signature_png(variant: int) -> bytes:
    """A small grey-scale PNG with a scribble (a stand-in for the signature widget's image)."""
    rng = rng_for("signature", variant)
    width, height = 160, 60
    pixels = bytearray(b"\xff" * (width * height))
    amplitude, period = rng.uniform(8, 18), rng.uniform(12, 30)
    for x in range(12, width - 12):
        y = height / 2 + amplitude * math.sin(x / period * math.tau) * (
            0.6 + 0.4 * math.sin(x / 17)
        )
        for dy in (-1, 0, 1):
            row = int(y) + dy
            if 0 <= row < height:
                pixels[row * width + x] = 0x20
    raw = b"".join(b"\x00" + bytes(pixels[r * width : (r + 1) * width]) for r in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


# --- choosing the answers ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Scorer:
    mapping: Mapping
    standard: Standard
    table: PointTable | None
    region: str

    def score(
        self, values: dict[str, str | None], income: MeasuredIncome | None = None
    ) -> ScoreResult:
        """The Phiếu B's result; with ``income``, as completed by an income survey."""
        answers = {k: v or "" for k, v in values.items()}
        mapped = self.mapping.apply(answers, self.region)
        facts = dataclasses.replace(mapped.facts, area_type="rural")
        if income is not None:
            facts = dataclasses.replace(facts, income=income)
        return score_household(facts, self.standard, self.table)

    def score_a(self, household: _Household) -> float | None:
        if self.table is None:
            return None
        b1 = b1_answers(household)
        b1["b1_assets"] = frozenset(b1["b1_assets"]) or None
        return score_b1(b1, self.table).total


def _answers_for(
    planned: PlannedHousehold, scorer: _Scorer, reviewer: User, started: datetime, signature
) -> dict[str, str | None]:
    """Answers whose score is the planned outcome (drawn again, then score A nudged, until it
    is; with a B1 table an administrator replaced, the last draw is kept whatever it gives)."""
    target = _TARGET[planned.outcome]
    cutoff = scorer.standard.value("b1_cutoff", "rural")
    values: dict[str, str | None] = {}
    for attempt in range(12):
        household = _draw_household(rng_for("phieu_b", planned.code, attempt), planned)
        up = target == Category.NEITHER
        steps = iter(_RAISE if up else _LOWER)
        while True:  # score A alone first (cheap), the whole questionnaire once at the end
            score_a = scorer.score_a(household)
            wrong_side = score_a is not None and (score_a <= cutoff if up else score_a > cutoff)
            if not wrong_side or not any(_adjust(household, step, up) for step in steps):
                break
        values = phieu_b_fields(household, reviewer, started, signature)
        if scorer.score(values).category == target:
            return values
    return values


def plan_income_surveys(
    planned: list[PlannedHousehold], scorer: _Scorer, reviewer: User
) -> list[IncomeSurvey]:
    """The households that answered the income survey, role by role (:data:`ROLES`): farming
    households, taken in a seeded order, whose Phiếu B gives its planned outcome and whose
    result with both methods — the income survey read by its own mapping, scored by the engine —
    is the role's: its category, the B1 method deciding, the methods agreeing or not."""
    mapping = all_mappings()[INCOME]
    assert isinstance(mapping, EvidenceMapping)
    line = scorer.standard.value("income_line", "rural")
    outcomes = {role.outcome for role in ROLES}
    order = sorted(
        (h for h in planned if h.outcome in outcomes),
        key=lambda h: (rng_for("thu_nhap-order", h.code).random(), h.code),
    )
    chosen: list[IncomeSurvey] = []
    for role in ROLES:
        found = 0
        taken = {survey.household.code for survey in chosen}
        for household in order:
            if found == role.count:
                break
            if (
                household.code in taken
                or household.outcome != role.outcome
                or (role.statuses and household.last_status not in role.statuses)
            ):
                continue
            started, _sent = _times(household)
            values = _answers_for(household, scorer, reviewer, started, "signature.png")
            if scorer.score(values).category != _TARGET[household.outcome]:
                continue
            survey = draw_income(household, role, values, line)
            if survey is None:
                continue
            fields = income_fields(survey, reviewer, household.review_date, "signature.png")
            read = mapping.apply({k: v or "" for k, v in fields.items()}).data
            result = scorer.score(values, MeasuredIncome(**read))
            near = role.b1_within is None or (
                result.score_a is not None
                and abs(result.score_a - (result.cutoff or 0)) <= role.b1_within
            )
            if near and (result.category, result.method, result.methods_disagree) == (
                role.category,
                "b1",
                role.disagree,
            ):
                chosen.append(survey)
                found += 1
    return chosen


# --- seeding -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SeedResult:
    phieu_b: int  # sent now
    phieu_a: int
    income: int  # income surveys
    scored: int  # scoring jobs that gave a result


def _version(xml_form_id: str) -> FormVersion | None:
    """The newest published version still accepting submissions (None: the form is not
    published, or an administrator closed it)."""
    return db.session.scalars(
        select(FormVersion)
        .join(Form, Form.id == FormVersion.form_id)
        .where(
            Form.xml_form_id == xml_form_id,
            Form.state != FormState.CLOSED,
            FormVersion.state == VersionState.PUBLISHED,
            FormVersion.accepting_submissions.is_(True),
        )
        .order_by(FormVersion.published_at.desc(), FormVersion.id.desc())
        .limit(1)
    ).first()


def instance_id(form: str, code: str) -> str:
    """Stable for one installation (a second seed adds nothing) but unguessable elsewhere: the
    name is keyed with the installation's secret key, so nobody can derive another server's
    demo instanceIDs and aim an edit at them."""
    key = hmac.new(
        str(current_app.config["SECRET_KEY"]).encode(),
        f"{form}/{code}/{REVIEW_YEAR}".encode(),
        hashlib.sha256,
    ).hexdigest()
    return f"uuid:{uuid.uuid5(_INSTANCE_NS, key)}"


def _criteria(version: FormVersion) -> list[dict[str, str]]:
    """The Phiếu A criteria of the published version (its ``phieu_a_tieu_chi.csv``)."""
    attachment = next(
        (a for a in version.attachments if a.name == "phieu_a_tieu_chi.csv" and a.blob_sha256),
        None,
    )
    if attachment is None:
        return []
    text = blob_store().read(attachment.blob_sha256).decode("utf-8-sig")
    return [row for row in csv.DictReader(io.StringIO(text)) if row.get("name")]


def _times(planned: PlannedHousehold) -> tuple[datetime, datetime]:
    """(when the interview started, local time; when the phone sent it, UTC)."""
    rng = rng_for("times", planned.code)
    started = datetime.combine(planned.review_date, time(7, 30)) + timedelta(
        minutes=rng.randrange(0, 8 * 60, 5)
    )
    sent = datetime.combine(planned.review_date, time(17, 0)) + timedelta(
        minutes=rng.randrange(0, 4 * 60)
    )
    return started, sent - _LOCAL


def seed_submissions(
    commune: Commune, reviewer: User, planned: list[PlannedHousehold], batch: int = 60
) -> SeedResult:
    """Send the planned households' questionnaires that are not stored yet, then run the
    scoring queue.  Forms that are not published are skipped (the income surveys too when
    Phiếu B is not published: they complete it)."""
    versions = {form: _version(form) for form in (PHIEU_B, PHIEU_A, INCOME)}
    standard = standard_for_year(REVIEW_YEAR)
    table = resolve_table(commune, standard.code, "rural")  # every demo village is rural
    scorer = _Scorer(all_mappings()[PHIEU_B], standard, table, commune.region)
    with write_transaction(db.session):
        for version in versions.values():
            if version is not None:
                assign_form(version.form, commune, actor=None)
    stored = set(
        db.session.scalars(
            select(SubmissionVersion.instance_id).where(
                SubmissionVersion.form_id.in_(
                    [v.form_id for v in versions.values() if v is not None]
                ),
            )
        )
    )
    surveys = (
        plan_income_surveys(planned, scorer, reviewer)
        if versions[INCOME] is not None and versions[PHIEU_B] is not None
        else []
    )
    outgoing = _outgoing(planned, versions, stored, surveys)
    sent: Counter[str] = Counter()
    if outgoing:
        sent = _send(outgoing, commune, reviewer, scorer, batch)
    scored = process_jobs(pending_job_ids(limit=100_000))
    return SeedResult(sent[PHIEU_B], sent[PHIEU_A], sent[INCOME], scored)


def _outgoing(planned, versions, stored, surveys: list[IncomeSurvey]) -> list[tuple]:
    """(sent at, form, version, household, income survey or None) still to send, oldest first;
    Phiếu A goes first, the income survey a few days after the Phiếu B."""
    b_version, a_version, i_version = versions[PHIEU_B], versions[PHIEU_A], versions[INCOME]
    outgoing = []
    for household in planned:
        if household.outcome == "pending":
            continue
        _started, sent = _times(household)
        if household.phieu_a and a_version is not None:
            if instance_id(PHIEU_A, household.code) not in stored:
                outgoing.append((sent - timedelta(minutes=1), PHIEU_A, a_version, household, None))
        if household.outcome != "stop" and b_version is not None:
            if instance_id(PHIEU_B, household.code) not in stored:
                outgoing.append((sent, PHIEU_B, b_version, household, None))
    for survey in surveys:
        household = survey.household
        if instance_id(INCOME, household.code) not in stored:
            _day, sent = income_times(survey, household.review_date)
            outgoing.append((sent - _LOCAL, INCOME, i_version, household, survey))
    outgoing.sort(key=lambda item: (item[0], item[1], item[3].code))
    return outgoing


def _send(outgoing, commune, reviewer, scorer, batch) -> Counter[str]:
    skeletons = {}
    signatures = [signature_png(n) for n in range(8)]
    max_bytes = current_app.config["MAX_SUBMISSION_XML_BYTES"]
    sent: Counter[str] = Counter()
    for start in range(0, len(outgoing), batch):
        with write_transaction(db.session):
            for when, form, version, household, survey in outgoing[start : start + batch]:
                if version.id not in skeletons:
                    skeletons[version.id] = (
                        _skeleton(version),
                        frozenset(version.repeats),
                        _criteria(version) if form == PHIEU_A else [],
                    )
                skeleton, repeats, criteria = skeletons[version.id]
                started, _sent = _times(household)
                files: list[IncomingFile] = []
                png = signatures[int(household.code[-2:]) % len(signatures)]
                name = f"{household.code} – {household.head_name} ({household.village.name})"
                if form == PHIEU_A:
                    if not criteria:
                        continue
                    started -= timedelta(minutes=15)
                    values = phieu_a_fields(household, reviewer, started, criteria)
                elif form == INCOME:  # the head always signs it (the form requires it)
                    signature = _collect_file_name(when)
                    day, _sent = income_times(survey, household.review_date)
                    values = income_fields(survey, reviewer, day, signature)
                    files.append(IncomingFile(signature, png, "image/png"))
                    name = instance_name(survey)
                else:
                    signature = _signature_name(household, when)
                    values = _answers_for(household, scorer, reviewer, started, signature)
                    if signature:
                        files.append(IncomingFile(signature, png, "image/png"))
                xml = instance_xml(
                    skeleton, repeats, values, instance_id(form, household.code), name
                )
                try:
                    result = ingest_submission(
                        xml,
                        files,
                        submitter=reviewer,
                        blobs=blob_store(),
                        max_xml_bytes=max_bytes,
                        device_id=_DEVICE,
                        user_agent="org.odk.collect.android/v2025.2.3 (rasoat demo)",
                    )
                except AppError as error:  # refused as a phone's would be: keep the others
                    current_app.logger.warning("demo %s %s: %s", form, household.code, error)
                    continue
                if result.outcome != IngestOutcome.CREATED:
                    continue
                # The phone sent it on the evening of the interview (the demo is seeded later).
                submission = result.version.submission
                result.version.created_at = when
                submission.created_at = submission.updated_at = when
                enqueue(result.version)
                sent[form] += 1
    return sent


def _signature_name(household: PlannedHousehold, when: datetime) -> str | None:
    """The signature file Collect would name, or None when the head did not sign (absent, or
    disagreeing with escaping poverty)."""
    rng = rng_for("signature-choice", household.code)
    disagrees = household.outcome == "neither" and household.last_status == "ngheo"
    if (disagrees and rng.random() < 0.4) or rng.random() < 0.04:
        return None
    return _collect_file_name(when)


def _collect_file_name(when: datetime) -> str:
    """How Collect names a signature: the milliseconds since the epoch (``when`` in UTC)."""
    return f"{(when - datetime(1970, 1, 1)) // timedelta(milliseconds=1)}.png"


def seeded_counts(commune: Commune) -> dict[str, Any]:
    """What the demo commune holds now (for the command's summary and the tests)."""
    categories = dict(
        db.session.execute(
            select(HouseholdScore.category, func.count())
            .join(Submission, Submission.id == HouseholdScore.submission_id)
            .where(Submission.commune_id == commune.id, HouseholdScore.current.is_(True))
            .group_by(HouseholdScore.category)
        ).all()
    )
    forms = dict(
        db.session.execute(
            select(Form.xml_form_id, func.count())
            .join(Submission, Submission.form_id == Form.id)
            .where(
                Submission.commune_id == commune.id,
                Form.xml_form_id.in_((PHIEU_B, PHIEU_A, INCOME)),
            )
            .group_by(Form.xml_form_id)
        ).all()
    )
    disagree = db.session.scalar(
        select(func.count())
        .select_from(HouseholdScore)
        .join(Submission, Submission.id == HouseholdScore.submission_id)
        .where(
            Submission.commune_id == commune.id,
            HouseholdScore.current.is_(True),
            HouseholdScore.methods_disagree.is_(True),
        )
    )
    return {
        "phieu_b": forms.get(PHIEU_B, 0),
        "phieu_a": forms.get(PHIEU_A, 0),
        "income": forms.get(INCOME, 0),
        "categories": categories,
        "methods_disagree": disagree,
    }


# --- the whole demo review ---------------------------------------------------------------------

DEMO_TABLE = ("2022_2025", "rural", "demo_2022_2025_rural")


@dataclass(frozen=True, slots=True)
class DemoReview:
    households: int  # planned (and recorded) households
    households_written: int  # recorded or brought up to date by this run
    submissions: SeedResult


def seed_demo_review(commune_code: str, reviewer_username: str) -> DemoReview:
    """Villages, households with their history, and the scored 2026 questionnaires of the demo
    commune; run again, it adds nothing."""
    with write_transaction(db.session):
        commune = db.session.scalar(select(Commune).where(Commune.code == commune_code))
        seed_villages(commune)
        planned = plan_households(commune.code)
        written = seed_registry(commune, planned)
        standard, area, table = DEMO_TABLE
        assigned = db.session.scalar(
            select(CommuneB1Table.id).where(
                CommuneB1Table.commune_id == commune.id,
                CommuneB1Table.standard == standard,
                CommuneB1Table.area_type == area,
            )
        )
        if assigned is None:  # scored with the demo table: "minh họa" on every result
            assign_table(commune, standard, area, table)
    reviewer = db.session.scalar(select(User).where(User.username == reviewer_username))
    commune = db.session.scalar(select(Commune).where(Commune.code == commune_code))
    if reviewer is None or reviewer.commune_id != commune.id:
        return DemoReview(len(planned), written, SeedResult(0, 0, 0, 0))
    result = seed_submissions(commune, reviewer, planned)
    return DemoReview(len(planned), written, result)
