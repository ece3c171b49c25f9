"""Phiếu B (household review form), standards 2022–2025 and 2027–2030, filled by real engines.

Each household below is filled with the ODK Web Forms engine from ``forms/phieu_b_<std>.xml``
and its ``<name>-media/`` sample lists.  The tests check

* the deprivation indicators the phone computes (``b2_*``, ``b2_count``, ``b2_score``) and the
  B1 codes, against values worked out by hand for each household, including the boundaries of
  the rules (child aged 5 vs 6 without insurance, 15 vs 16 out of school, 8 m² vs 7.99 m² per
  person, dependants exactly 50 % vs more);
* that JavaRosa (the engine inside ODK Collect) accepts each instance and, recomputing every
  calculation from the answers alone, gets the same values as the Web Forms engine;
* that the constraints stop a wrong roster or impossible values;
* that the server accepts each submission, stores its fields and stamps the village.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from server.extensions import db
from server.questionnaires.sources import FORMS_DIR, XLSFORMS_DIR
from server.submissions.models import SubmissionVersion
from tests.collect_client import CollectClient, FlaskTransport
from tests.engines import javarosa, webforms
from tests.instances import jpeg_bytes

FORM_2022 = "phieu_b_2022"
FORM_2027 = "phieu_b_2027"


def form_path(name: str) -> Path:
    return FORMS_DIR / f"{name}.xml"


def media_dir(name: str) -> Path:
    return XLSFORMS_DIR / f"{name}-media"


# --- describing a household as the reviewer would answer ------------------------------------


@dataclass
class Member:
    name: str
    sex: str  # "1" male, "2" female
    rel: str
    age: int
    eth: str = "kinh"
    work: str | None = None  # default: nong_nghiep (asked from 15)
    contract: str | None = None  # asked for lam_cong
    pension: str = "no"
    bhyt: str = "yes"
    malnourished: str = "no"  # asked under 16
    disability: str = "khong"
    ill: str = "no"  # asked from 16
    allowance: str = "no"
    in_school: str | None = None  # asked 3..30; default yes under 18, else no
    education: str | None = None  # asked from 6; default by age
    qualification: str = "khong"  # asked from 15
    employer_training: str = "no"  # asked 16..30 when not in school


def _default_education(age: int) -> str:
    if age >= 18:
        return "thpt"
    if age >= 15:
        return "thcs"
    if age >= 11:
        return "tieu_hoc"
    return "chua_tot_nghiep_th"


def member_steps(i: int, m: Member) -> list[dict]:
    """Answer only the questions the form shows for this person (the engine refuses others)."""
    b = f"/data/members[{i}]"
    steps = [
        {"op": "set", "ref": f"{b}/info/name", "value": m.name},
        {"op": "select", "ref": f"{b}/info/sex", "value": m.sex},
        {"op": "select", "ref": f"{b}/info/relationship", "value": m.rel},
        {"op": "set", "ref": f"{b}/info/age", "value": str(m.age)},
        {"op": "select", "ref": f"{b}/info/ethnicity", "value": m.eth},
    ]
    if m.age >= 15:
        work = m.work or "nong_nghiep"
        steps.append({"op": "select", "ref": f"{b}/work/work_status", "value": work})
        if work == "lam_cong":
            steps.append({"op": "select", "ref": f"{b}/work/contract", "value": m.contract})
        steps.append({"op": "select", "ref": f"{b}/work/pension", "value": m.pension})
    steps.append({"op": "select", "ref": f"{b}/health/health_insurance", "value": m.bhyt})
    if m.age < 16:
        steps.append({"op": "select", "ref": f"{b}/health/malnourished", "value": m.malnourished})
    steps.append({"op": "select", "ref": f"{b}/health/disability", "value": m.disability})
    if m.age >= 16:
        steps.append({"op": "select", "ref": f"{b}/health/serious_illness", "value": m.ill})
    steps.append({"op": "select", "ref": f"{b}/health/social_allowance", "value": m.allowance})
    if m.age >= 3:
        in_school = m.in_school or ("yes" if m.age < 18 else "no")
        if m.age <= 30:
            steps.append({"op": "select", "ref": f"{b}/edu/in_school", "value": in_school})
        if m.age >= 6:
            steps.append(
                {
                    "op": "select",
                    "ref": f"{b}/edu/education",
                    "value": m.education or _default_education(m.age),
                }
            )
        if m.age >= 15:
            steps.append(
                {"op": "select", "ref": f"{b}/edu/qualification", "value": m.qualification}
            )
        if 16 <= m.age <= 30 and in_school == "no":
            steps.append(
                {"op": "select", "ref": f"{b}/edu/employer_training", "value": m.employer_training}
            )
    return steps


@dataclass
class Household:
    form: str
    village: str  # expected village stamp
    members: list[Member]
    wall: str
    frame: str
    roof: str
    floor_area: str
    water: str
    latrine: str
    hh: str | None = None  # code from households.csv, or a new household:
    new_village: str | None = None
    new_head: str | None = None
    area_type: str | None = None  # asked only when villages.csv has no area_type
    phone: str | None = None
    gps: str | None = None
    telecom: str = "yes"
    devices: tuple[str, ...] = ("tivi", "dien_thoai_thong_minh")  # 2022 only
    digital: tuple[str, ...] = ("internet",)  # 2027 only
    waste: str = "thu_gom"  # 2027 only
    nonfarm: str = "khong"
    electricity: str = "kwh_25_49"
    assets: tuple[str, ...] = ("xe_may",)
    land: dict[str, str] | None = None
    livestock: dict[str, str] | None = None
    # 2027 only, the income module: "co" (asked here), "phieu_rieng" (separate income survey),
    # "khong_cung_cap"; with "co", the occupation and the 12-month amounts by source:
    # production sources as (revenue, cost), the others as an amount.
    income_collect: str = "phieu_rieng"
    occupation: str = "nong_nghiep"
    income_production: dict[str, tuple[int, int]] | None = None
    income_amounts: dict[str, int] | None = None
    review_date: str | None = None  # default: today, as the form sets it
    reviewer: str = "Trần Văn Bình"
    head_confirm: str = "dong_y"
    roster_ok: str = "yes"


def household_steps(h: Household, files: dict[str, Path]) -> list[dict]:
    steps: list[dict] = []
    if h.hh:
        steps += [
            {"op": "select", "ref": "/data/ident/in_list", "value": "yes"},
            {"op": "select", "ref": "/data/ident/hh", "value": h.hh},
        ]
    else:
        steps += [
            {"op": "select", "ref": "/data/ident/in_list", "value": "no"},
            {"op": "select", "ref": "/data/ident/new_village", "value": h.new_village},
            {"op": "set", "ref": "/data/ident/new_head_name", "value": h.new_head},
        ]
    answers = [
        ("select", "area_type_ask", h.area_type),
        ("set", "review_date", h.review_date),
        ("set", "phone", h.phone),
        ("set", "gps", h.gps),
    ]
    steps += [
        {"op": op, "ref": f"/data/general/{name}", "value": answer}
        for op, name, answer in answers
        if answer
    ]
    if "photo" in files:
        steps.append({"op": "attach", "ref": "/data/general/house_photo", "file": files["photo"]})
    steps.append({"op": "repeat_count", "ref": "/data/members", "count": len(h.members)})
    for i, m in enumerate(h.members, start=1):
        steps += member_steps(i, m)
    steps += [
        {"op": "select", "ref": "/data/roster_check/roster_ok", "value": h.roster_ok},
        {"op": "select", "ref": "/data/housing/wall", "value": h.wall},
        {"op": "select", "ref": "/data/housing/frame", "value": h.frame},
        {"op": "select", "ref": "/data/housing/roof", "value": h.roof},
        {"op": "set", "ref": "/data/housing/floor_area", "value": h.floor_area},
        {"op": "select", "ref": "/data/services/water_source", "value": h.water},
        {"op": "select", "ref": "/data/services/latrine", "value": h.latrine},
        {"op": "select", "ref": "/data/services/telecom_use", "value": h.telecom},
    ]
    if h.form == FORM_2022:
        steps.append(
            {"op": "select", "ref": "/data/services/info_devices", "values": list(h.devices)}
        )
    else:
        steps += [
            {"op": "select", "ref": "/data/services/digital_use", "values": list(h.digital)},
            {"op": "select", "ref": "/data/services/waste", "value": h.waste},
        ]
    steps += [
        {"op": "select", "ref": "/data/b1_work/nonfarm_work", "value": h.nonfarm},
        {"op": "select", "ref": "/data/b1_work/electricity", "value": h.electricity},
        {"op": "select", "ref": "/data/b1_assets_g/assets", "values": list(h.assets)},
        {"op": "select", "ref": "/data/b1_land/has_land", "value": "yes" if h.land else "no"},
    ]
    for name, value in (h.land or {}).items():
        steps.append({"op": "set", "ref": f"/data/b1_land/{name}", "value": value})
    steps.append(
        {
            "op": "select",
            "ref": "/data/b1_land/has_livestock",
            "value": "yes" if h.livestock else "no",
        }
    )
    for name, value in (h.livestock or {}).items():
        steps.append({"op": "set", "ref": f"/data/b1_land/{name}", "value": value})
    if h.form == FORM_2027:
        steps += income_steps(h)
    steps += [
        {"op": "set", "ref": "/data/confirm/reviewer_name", "value": h.reviewer},
        {"op": "select", "ref": "/data/confirm/head_confirm", "value": h.head_confirm},
    ]
    if h.head_confirm == "dong_y":
        steps.append(
            {"op": "attach", "ref": "/data/confirm/head_signature", "file": files["signature"]}
        )
    return steps


def income_steps(h: Household) -> list[dict]:
    """The 2027 form's income module, answered as the reviewer would."""
    steps = [{"op": "select", "ref": "/data/income_ask/income_collect", "value": h.income_collect}]
    if h.income_collect != "co":
        return steps
    production = h.income_production or {}
    amounts = h.income_amounts or {}
    sources = [*production, *amounts] or ["khong_co"]
    steps += [
        {"op": "select", "ref": "/data/income/occupation", "value": h.occupation},
        {"op": "select", "ref": "/data/income/sources", "values": sources},
    ]
    for source, (revenue, cost) in production.items():
        base = f"/data/income/{source}/{source}"
        steps += [
            {"op": "set", "ref": f"{base}_rev", "value": str(revenue)},
            {"op": "set", "ref": f"{base}_cost", "value": str(cost)},
        ]
        if cost > revenue:  # the reviewer confirms the loss
            steps.append({"op": "set", "ref": f"{base}_loss_ok", "value": True})
    for source, amount in amounts.items():
        steps.append({"op": "set", "ref": f"/data/income/{source}_amount", "value": str(amount)})
    return steps


# --- the households -------------------------------------------------------------------------

B2_2022 = [
    "viec_lam", "nguoi_phu_thuoc", "dinh_duong", "bhyt", "gd_nguoi_lon", "di_hoc_tre_em",
    "chat_luong_nha", "dien_tich_nha", "nuoc_sinh_hoat", "nha_tieu", "vien_thong",
    "phuong_tien_tt",
]  # fmt: skip
B2_2027 = [c for c in B2_2022 if c != "phuong_tien_tt"] + ["dich_vu_so", "rac_thai"]


@dataclass
class Case:
    household: Household
    deprived: set[str]  # the b2_ codes expected to be 1; every other one must be 0
    expect: dict[str, str]  # other fields of the instance (path under /data) → value
    media: str = "shipped"  # "shipped" or "no_area_type" (villages.csv without area_type)


CASES: dict[str, Case] = {
    # (a) A Ba Na household on the list: exactly 3 deprivations — two of the three main
    # structures are non-durable, a pit latrine without slab, and only a basic phone.
    "a_three_deprivations": Case(
        Household(
            form=FORM_2022,
            hh="X1-T01-0001",
            village="T01",
            gps="14.3545 107.9876 620 4.5",
            members=[
                Member("A Thút", "1", "chu_ho", 42, "ba_na", education="tieu_hoc"),
                Member("Y Blăng", "2", "vo_chong", 38, "ba_na", education="tieu_hoc"),
                Member("A Khoa", "1", "con", 17, "ba_na", work="khong_hoat_dong"),
                Member("Y Nhơm", "2", "con", 9, "ba_na"),
            ],
            wall="tre_nua_la",
            frame="go_tap",
            roof="ton",
            floor_area="36",
            water="gieng_khoan",
            latrine="ho_khong_san",
            devices=("dien_thoai_thuong",),
            electricity="kwh_duoi_25",
            land={"land_annual": "8000", "land_perennial": "3000"},
            livestock={"cattle": "2", "pigs": "3", "poultry": "15"},
        ),
        deprived={"chat_luong_nha", "nha_tieu", "phuong_tien_tt"},
        expect={
            "b2_count": "3",
            "b2_score": "30",
            "hh_code": "X1-T01-0001",
            "head_name": "A Thút",
            "meta/instanceName": "X1-T01-0001 – A Thút (Thôn Kon Rá)",
            "last_status": "ngheo",
            "area_type": "rural",
            "hh_size": "4",
            "n_dependants": "1",
            "wall_durable": "0",
            "frame_durable": "0",
            "roof_durable": "1",
            "latrine_hygienic": "0",
            "water_safe": "1",
            "area_pp": "9",
            "b1_area_pp_band": "dt_8_20",
            "b1_top_qual": "duoi_thpt",
            "b1_pension": "khong",
            "b1_assets": "xe_may",
            "b1_land/land_perennial": "3000.0",  # the engine writes decimals with a point
            "b1_land/land_forest": "0.0",  # default 0
            "b1_land/cattle": "2",
        },
    ),
    # (b) A new Kinh household (not on the list), villages.csv without area_type so the area
    # is asked: exactly 2 deprivations — a wage worker without contract, an adult without
    # insurance.  The father (63, unemployed) is past working age and does not count; he and
    # the child are the dependants: 2 of 4 = 50 %, not more.
    "b_two_deprivations_new_household": Case(
        Household(
            form=FORM_2022,
            new_village="T02",
            new_head="Phạm Văn Quang",
            village="T02",
            area_type="rural",
            phone="0912345678",
            members=[
                Member(
                    "Phạm Văn Quang",
                    "1",
                    "chu_ho",
                    35,
                    work="lam_cong",
                    contract="khong_hd",
                    qualification="so_cap",
                ),
                Member(
                    "Lê Thị Mai",
                    "2",
                    "vo_chong",
                    32,
                    work="phi_nong_nghiep",
                    bhyt="no",
                    education="thcs",
                ),
                Member("Phạm Minh Khôi", "1", "con", 7),
                Member(
                    "Phạm Văn Tư",
                    "1",
                    "bo_me",
                    63,
                    work="that_nghiep",
                    pension="yes",
                    education="tieu_hoc",
                ),
            ],
            wall="gach_da",
            frame="tuong_chiu_luc",
            roof="ngoi",
            floor_area="45",
            water="nuoc_may",
            latrine="tu_hoai",
            devices=("tivi", "dien_thoai_thong_minh"),
            nonfarm="phi_nn_khac",
            electricity="kwh_100_149",
            assets=("xe_may", "tu_lanh"),
        ),
        deprived={"viec_lam", "bhyt"},
        expect={
            "b2_count": "2",
            "b2_score": "20",
            "hh_code": "",
            "head_name": "Phạm Văn Quang",
            "last_status": "moi",
            "area_type_server": "",
            "area_type": "rural",
            "hh_size": "4",
            "n_dependants": "2",
            "n_pension": "1",
            "b1_pension": "mot_nguoi",
            "b1_top_qual": "so_cap",
            "b1_assets": "xe_may tu_lanh tivi",
            "b2_viec_lam_who": "Phạm Văn Quang",
            "b2_bhyt_who": "Lê Thị Mai",
            "members[4]/working_age": "0",
            "members[4]/d_viec_lam": "0",
            "members[1]/d_viec_lam": "1",
            "area_pp": "11.25",
        },
        media="no_area_type",
    ),
    # (c1) Boundaries, not-deprived side (Hrê household): a 5-year-old without insurance
    # (insurance counts from 6), exactly 8 m² per person, dependants exactly 50 %.  The
    # 16-year-old out of school without lower-secondary hits adult education, not children's
    # schooling.
    "c1_boundaries_not_deprived": Case(
        Household(
            form=FORM_2022,
            hh="X1-T02-0001",
            village="T02",
            members=[
                Member("Đinh Thị Hờ", "2", "chu_ho", 40, "hre", education="tieu_hoc"),
                Member(
                    "Đinh Văn Rin",
                    "1",
                    "con",
                    16,
                    "hre",
                    work="khong_hoat_dong",
                    in_school="no",
                    education="tieu_hoc",
                ),
                Member("Đinh Thị Mơ", "2", "con", 5, "hre", bhyt="no"),
                Member(
                    "Đinh Thị Sương",
                    "2",
                    "bo_me",
                    65,
                    "hre",
                    work="khong_hoat_dong",
                    allowance="yes",
                    education="chua_tot_nghiep_th",
                ),
            ],
            wall="gach_da",
            frame="btct",
            roof="ngoi",
            floor_area="32",
            water="gieng_dao_duoc_bao_ve",
            latrine="tham_doi_nuoc",
            devices=("radio",),
        ),
        deprived={"gd_nguoi_lon"},
        expect={
            "b2_count": "1",
            "b2_score": "10",
            "hh_size": "4",
            "n_dependants": "2",
            "area_pp": "8",
            "b1_area_pp_band": "dt_8_20",
            "members[2]/d_gd_nguoi_lon": "1",
            "members[2]/d_di_hoc_tre_em": "0",
            "members[3]/d_bhyt": "0",
            "members[2]/edu/employer_training": "no",
            "b2_gd_nguoi_lon_who": "Đinh Văn Rin",
        },
    ),
    # (c2) Boundaries, deprived side (Gia Rai household): a 6-year-old without insurance, a
    # 15-year-old out of school (children's schooling, not adult education), 7.99 m² per
    # person, dependants 3 of 4.
    "c2_boundaries_deprived": Case(
        Household(
            form=FORM_2022,
            hh="X1-T03-0001",
            village="T03",
            members=[
                Member("Rơ Mah Bơk", "1", "chu_ho", 50, "gia_rai", education="tieu_hoc"),
                Member(
                    "Rơ Mah Hyơk",
                    "2",
                    "con",
                    15,
                    "gia_rai",
                    work="khong_hoat_dong",
                    in_school="no",
                    education="tieu_hoc",
                ),
                Member("Rơ Mah Blơi", "1", "con", 6, "gia_rai", bhyt="no"),
                Member("Rơ Mah Nga", "2", "con", 10, "gia_rai"),
            ],
            wall="gach_da",
            frame="sat_thep",
            roof="fibro",
            floor_area="31.96",
            water="nuoc_mua",
            latrine="hai_ngan",
            devices=("tivi",),
        ),
        deprived={"bhyt", "di_hoc_tre_em", "dien_tich_nha", "nguoi_phu_thuoc"},
        expect={
            "b2_count": "4",
            "b2_score": "40",
            "hh_size": "4",
            "n_dependants": "3",
            "area_pp": "7.99",
            "b1_area_pp_band": "dt_duoi_8",
            "members[2]/d_di_hoc_tre_em": "1",
            "members[2]/d_gd_nguoi_lon": "0",
            "members[3]/d_bhyt": "1",
            "b2_bhyt_who": "Rơ Mah Blơi",
            "b2_di_hoc_tre_em_who": "Rơ Mah Hyơk",
        },
    ),
    # (d) 2027–2030 form (Xơ Đăng household): the new indicators — nobody uses digital
    # services, waste dumped — plus a stunted 4-year-old, an unprotected spring and no
    # telephone use.  No information devices either, which no longer counts.
    "d_2027_new_indicators": Case(
        Household(
            form=FORM_2027,
            hh="X1-T01-0004",
            village="T01",
            members=[
                Member("A Nhong", "1", "chu_ho", 33, "xo_dang", education="thcs"),
                Member("Y Bia", "2", "vo_chong", 30, "xo_dang"),
                Member("A Dũng", "1", "con", 4, "xo_dang", malnourished="yes"),
            ],
            wall="go_ben_chac",
            frame="go_ben_chac",
            roof="ton",
            floor_area="30",
            water="khe_mo_khong_bao_ve",
            latrine="ban_tu_hoai",
            telecom="no",
            digital=("khong_co",),
            waste="vut_bua_bai",
            assets=("xe_may", "tivi"),
        ),
        deprived={"dinh_duong", "nuoc_sinh_hoat", "vien_thong", "dich_vu_so", "rac_thai"},
        expect={
            "b2_count": "5",
            "b2_score": "50",
            "last_status": "moi",
            "b2_dinh_duong_who": "A Dũng",
            "members[2]/d_gd_nguoi_lon": "0",
            # The income comes from a separate survey: no income section in this instance.
            "income_ask/income_collect": "phieu_rieng",
        },
    ),
    # (d2) 2027–2030 form, a one-person household with no deprivation at all.
    "d2_2027_no_deprivation": Case(
        Household(
            form=FORM_2027,
            hh="X1-T03-0002",
            village="T03",
            members=[
                Member(
                    "Ksor H'Nhi",
                    "2",
                    "chu_ho",
                    45,
                    "gia_rai",
                    work="lam_cong",
                    contract="co_hd",
                    qualification="trung_cap",
                ),
            ],
            wall="be_tong",
            frame="btct",
            roof="be_tong",
            floor_area="20",
            water="nuoc_may",
            latrine="tu_hoai",
            digital=("internet", "dvc_truc_tuyen"),
            waste="tu_xu_ly",
            nonfarm="cong_chuc",
            electricity="kwh_50_99",
            assets=("khong_co",),
            # Income asked in the form: a wage and a small shop that made a loss.
            # (60 000 000 + 5 000 000 − 6 200 000) / 1 person / 12 = 4 900 000 đ.
            income_collect="co",
            occupation="khac",
            income_production={"nonfarm_business": (5_000_000, 6_200_000)},
            income_amounts={"wages": 60_000_000},
        ),
        deprived=set(),
        expect={
            "b2_count": "0",
            "b2_score": "0",
            "b1_top_qual": "trung_cap",
            "b1_assets": "",
            "b1_area_pp_band": "dt_20_30",
            "income_ask/income_collect": "co",
            "income/occupation": "khac",
            "income/nonfarm_business/nonfarm_business_net": "-1200000",
            "income/total_net_income_12m": "58800000",
            "income/income_per_person_month": "4900000",
            "income/income_pp_text": "4.900.000",
            "income/total_text": "58.800.000",
        },
    ),
}


# --- filling ----------------------------------------------------------------------------------


def _media_for(case: Case, tmp: Path) -> Path:
    shipped = media_dir(case.household.form)
    if case.media == "shipped":
        return shipped
    # The server's villages.csv as generated today (name, label only): the area is asked.
    target = tmp / "media-no-area-type"
    if not target.exists():
        shutil.copytree(shipped, target)
        rows = (shipped / "villages.csv").read_text(encoding="utf-8").splitlines()
        (target / "villages.csv").write_text(
            "\n".join(",".join(r.split(",")[:2]) for r in rows) + "\n", encoding="utf-8"
        )
    return target


@dataclass
class Filled:
    case: Case
    instance: webforms.FilledInstance
    root: etree._Element
    media: Path
    photo: bytes
    signature: bytes


def fill(case: Case, tmp: Path, *, steps_override=None) -> webforms.FilledInstance:
    tmp.mkdir(parents=True, exist_ok=True)
    files = {"photo": tmp / "nha.jpg", "signature": tmp / "chu ky.jpg"}
    files["photo"].write_bytes(jpeg_bytes(11, 3000))
    files["signature"].write_bytes(jpeg_bytes(12, 800))
    steps = steps_override or household_steps(case.household, files)
    return webforms.fill_form(
        form_path(case.household.form),
        steps,
        tmp / "out",
        attachments_dir=_media_for(case, tmp),
        preload={"deviceID": "collect:phieu-b-test", "username": "rsv1"},
    )


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> dict[str, Filled]:
    webforms.ensure_installed()
    result = {}
    for key, case in CASES.items():
        tmp = tmp_path_factory.mktemp(key)
        instance = fill(case, tmp)
        result[key] = Filled(
            case=case,
            instance=instance,
            root=etree.fromstring(instance.xml),
            media=_media_for(case, tmp),
            photo=(tmp / "nha.jpg").read_bytes(),
            signature=(tmp / "chu ky.jpg").read_bytes(),
        )
    return result


def value(root: etree._Element, path: str) -> str | None:
    """Text of /data/<path> (``members[2]/age`` style), None when the node is absent."""
    nodes = root.xpath("/data/" + path)
    assert len(nodes) <= 1, path
    return None if not nodes else (nodes[0].text or "")


# --- what the phone computes ------------------------------------------------------------------


@pytest.mark.parametrize("key", list(CASES))
def test_deprivations_computed_on_the_phone(filled, key):
    f = filled[key]
    codes = B2_2022 if f.case.household.form == FORM_2022 else B2_2027
    got = {code: value(f.root, f"b2_{code}") for code in codes}
    assert got == {code: "1" if code in f.case.deprived else "0" for code in codes}
    assert value(f.root, "b2_count") == str(len(f.case.deprived))
    assert value(f.root, "b2_score") == str(10 * len(f.case.deprived))
    for path, expected in f.case.expect.items():
        assert value(f.root, path) == expected, path
    assert value(f.root, "village") == f.case.household.village
    # The result page shows one note per deprivation found (the others are not relevant).
    shown = {el.tag[len("b2n_") :] for el in f.root.find("b2") if el.tag.startswith("b2n_")}
    assert shown == (f.case.deprived or {"none"})


def test_2027_form_has_no_information_devices_indicator(filled):
    for key in ("d_2027_new_indicators", "d2_2027_no_deprivation"):
        root = filled[key].root
        assert root.get("id") == FORM_2027
        assert value(root, "b2_phuong_tien_tt") is None
        assert value(root, "services/info_devices") is None
        assert value(root, "services/digital_use") is not None
    root_2022 = filled["a_three_deprivations"].root
    assert value(root_2022, "b2_dich_vu_so") is None
    assert value(root_2022, "b2_rac_thai") is None


def test_2027_income_module_is_in_the_instance_only_when_asked(filled):
    separate = filled["d_2027_new_indicators"].root
    assert value(separate, "income_ask/income_collect") == "phieu_rieng"
    assert value(separate, "income") is None  # not relevant: not in the instance
    asked = filled["d2_2027_no_deprivation"].root
    assert value(asked, "income/sources") == "nonfarm_business wages"
    assert value(asked, "income/wages_amount") == "60000000"
    assert value(asked, "income/nonfarm_business/nonfarm_business_loss_ok") == "OK"
    assert value(asked, "income/farm") is None
    assert value(root_2022 := filled["a_three_deprivations"].root, "income_ask") is None
    assert root_2022.get("id") == FORM_2022


def test_a_new_household_cannot_leave_its_income_to_a_separate_survey(tmp_path):
    """The separate income survey is linked by household code; a household not on the list
    has none, so the form asks its income here."""
    case = CASES["d2_2027_no_deprivation"]
    h = case.household
    new = Case(
        Household(
            **{
                **h.__dict__,
                "hh": None,
                "new_village": "T03",
                "new_head": "Ksor H'Nhi",
                "income_collect": "phieu_rieng",
                "head_confirm": "vang_mat",
            }
        ),
        deprived=set(),
        expect={},
    )
    steps = [s for s in household_steps(new.household, {}) if s["op"] != "attach"]
    with pytest.raises(RuntimeError) as caught:
        fill(new, tmp_path, steps_override=steps)
    message = str(caught.value)
    assert "(1 violation(s))" in message, message
    assert re.search(r"^  /data/income_ask/income_collect: constraint", message, re.M), message


def test_questions_outside_their_age_range_are_not_in_the_instance(filled):
    root = filled["c1_boundaries_not_deprived"].root
    # 5-year-old: no schooling level, no work; 16-year-old: no malnutrition question.
    assert value(root, "members[3]/edu/education") is None
    assert value(root, "members[3]/work") is None
    assert value(root, "members[3]/edu/in_school") == "yes"
    assert value(root, "members[2]/health/malnourished") is None
    assert value(root, "members[2]/health/serious_illness") == "no"
    # 65-year-old: not asked about school attendance (over 30).
    assert value(root, "members[4]/edu/in_school") is None
    assert value(root, "members[4]/edu/education") == "chua_tot_nghiep_th"


# --- JavaRosa ---------------------------------------------------------------------------------


def calculated_paths(form: Path) -> list[str]:
    """Form paths (/data/...) of every calculate bind, meta excluded."""
    tree = etree.parse(str(form))
    binds = tree.xpath("//*[local-name()='bind'][@calculate]")
    return [b.get("nodeset") for b in binds if not b.get("nodeset").startswith("/data/meta/")]


def calculated_values(form: Path, root: etree._Element) -> dict[str, str]:
    """Every calculated node present in the instance, keyed as ``javarosa.recompute`` keys
    them: a 1-based position on each repeat instance (``/data/members[1]/...``)."""
    repeats = set(etree.parse(str(form)).xpath("//*[local-name()='repeat']/@nodeset"))
    out = {}
    for path in calculated_paths(form):
        for node in root.xpath(path):
            generic = ref = ""
            for el in [*reversed(list(node.iterancestors())), node]:
                generic += f"/{el.tag}"
                ref += f"/{el.tag}"
                if generic in repeats:
                    ref += f"[{sum(1 for _ in el.itersiblings(el.tag, preceding=True)) + 1}]"
            out[ref] = node.text or ""
    return out


def _same(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        return float(a) == float(b)
    except ValueError:
        return False


@pytest.mark.parametrize("key", list(CASES))
def test_javarosa_accepts_and_recomputes_the_same_values(filled, key):
    f = filled[key]
    form = form_path(f.case.household.form)
    assert javarosa.check_instance(form, f.instance.xml, f.media) == f.instance.instance_id

    # JavaRosa blanks every calculated value and computes them again from the answers alone.
    webforms_values = calculated_values(form, f.root)
    assert len(webforms_values) > 50
    javarosa_values = javarosa.recompute(form, f.instance.xml, f.media)
    differ = {
        p: (v, javarosa_values.get(p))
        for p, v in webforms_values.items()
        if not _same(v, javarosa_values.get(p, "<missing>"))
    }
    assert differ == {}, differ
    assert javarosa_values["/data/b2_count"] == str(len(f.case.deprived))


def test_javarosa_rejects_a_roster_with_two_heads(filled):
    f = filled["a_three_deprivations"]
    tampered = re.sub(
        rb"<relationship>vo_chong</relationship>", b"<relationship>chu_ho</relationship>",
        f.instance.xml,
    )  # fmt: skip
    assert tampered != f.instance.xml
    with pytest.raises(javarosa.InstanceInvalid) as caught:
        javarosa.check_instance(form_path(FORM_2022), tampered, f.media)
    assert caught.value.ref == "/data/roster_check/roster_ok"


# --- constraints the reviewer meets ---------------------------------------------------------


def _mutated(case: Case, change) -> list[dict]:
    files = {"photo": Path("/nonexistent"), "signature": Path("/nonexistent")}
    steps = household_steps(case.household, files)
    steps = [s for s in steps if s["op"] != "attach"]
    return change(steps)


def _set(ref: str, new):
    def change(steps):
        return [
            {**step, ("values" if "values" in step else "value"): new}
            if step["ref"] == ref
            else step
            for step in steps
        ]

    return change


@pytest.mark.parametrize(
    ("case_key", "ref", "new", "violation"),
    [
        ("b_two_deprivations_new_household", "/data/members[2]/info/relationship", "chu_ho",
         "/data/roster_check/roster_ok"),
        ("b_two_deprivations_new_household", "/data/members[1]/info/relationship", "con",
         "/data/roster_check/roster_ok"),
        ("c2_boundaries_deprived", "/data/members[1]/info/age", "121",
         "/data/members[1]/info/age"),
        ("c2_boundaries_deprived", "/data/housing/floor_area", "0", "/data/housing/floor_area"),
        ("a_three_deprivations", "/data/services/info_devices", ["radio", "khong_co"],
         "/data/services/info_devices"),
        ("d_2027_new_indicators", "/data/services/digital_use", ["internet", "khong_co"],
         "/data/services/digital_use"),
        ("d2_2027_no_deprivation", "/data/income/sources", ["nonfarm_business", "wages", "khong_co"],
         "/data/income/sources"),
        ("d2_2027_no_deprivation", "/data/income/wages_amount", "0", "/data/income/wages_amount"),
        ("b_two_deprivations_new_household", "/data/general/phone", "12345",
         "/data/general/phone"),
    ],
)  # fmt: skip
def test_constraints_stop_wrong_answers(tmp_path, case_key, ref, new, violation):
    case = CASES[case_key]
    steps = _mutated(case, _set(ref, new))
    # Without the photo and signature the form is still complete except for the signature
    # when the head agrees; say the head was absent.
    steps = _set("/data/confirm/head_confirm", "vang_mat")(steps)
    with pytest.raises(RuntimeError) as caught:
        fill(case, tmp_path, steps_override=steps)
    message = str(caught.value)
    # Exactly the one wrong answer is reported, as a constraint (not a missing answer).
    assert "(1 violation(s))" in message, message
    assert re.search(rf"^  {re.escape(violation)}: constraint", message, re.M), message


def test_signature_required_when_the_head_agrees(tmp_path):
    case = CASES["d2_2027_no_deprivation"]
    steps = _mutated(case, lambda s: s)
    with pytest.raises(RuntimeError, match=r"/data/confirm/head_signature: required"):
        fill(case, tmp_path, steps_override=steps)


# --- the server --------------------------------------------------------------------------------


def test_submissions_are_accepted_stored_and_stamped(app, seeded, publish_shipped, filled):
    assert publish_shipped(FORM_2022) == FORM_2022
    assert publish_shipped(FORM_2027) == FORM_2027
    collect = CollectClient(FlaskTransport(app), f"http://rasoat.test/key/{seeded.reviewer_token}")
    for key, f in filled.items():
        files = {name: path.read_bytes() for name, path in f.instance.files.items()}
        assert len(files) == 2, key  # house photo and signature
        replies = collect.submit(f.instance.xml, files)
        assert [r.status for r in replies] == [201], (key, replies[0].body)

        with app.app_context():
            version = db.session.scalar(
                select(SubmissionVersion).where(
                    SubmissionVersion.instance_id == f.instance.instance_id
                )
            )
            fields = version.fields
            h = f.case.household
            assert version.submission.village.code == h.village, key
            assert fields["village"] == h.village
            assert fields["b2_count"] == str(len(f.case.deprived))
            assert fields["b2_score"] == str(10 * len(f.case.deprived))
            for i, m in enumerate(h.members, start=1):
                assert fields[f"members[{i}]/info/name"] == m.name
                assert fields[f"members[{i}]/info/age"] == str(m.age)
            assert fields["housing/floor_area"] == value(f.root, "housing/floor_area")
            assert sorted(a.name for a in version.attachments) == sorted(files)
            assert version.missing_attachments == []
