"""The 2027–2030 Phiếu B end to end: filled by the real ODK Web Forms engine with its income
module, re-opened by JavaRosa as Collect would, sent like Collect (through Flask and through a
live gunicorn server), scored by the server after the phone has its 201.

Expected values come from the law's figures (``../shared/domain/regulations.md``), never from the
engine: NĐ 351/2025 (§3) — income line 2,200,000 đ (rural) / 2,800,000 đ (urban) per person per
month; poor = income ≤ line and ≥ 3 deprivations; near-poor = income ≤ line and < 3; above the
line neither (the 2027–2030 average-living-standard band is MISSING).  The household is
reviewed in the late-2026 review (§0.3: which standard that review uses is not settled); the
questionnaire is written for 2027–2030 and is scored with that standard, saying why.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from server.db import write_transaction
from server.extensions import db
from server.geography.models import AreaType, Commune, Village
from server.scoring.models import HouseholdScore, ScoringJob
from server.submissions.models import Submission
from tests.collect_client import CollectClient, FlaskTransport, HttpTransport
from tests.engines import javarosa, webforms
from tests.forms import test_income_and_characteristics as income_forms
from tests.forms.test_phieu_b import (
    FORM_2027,
    Household,
    Member,
    form_path,
    household_steps,
    media_dir,
)
from tests.instances import jpeg_bytes

# regulations.md §3 (NĐ 351/2025/NĐ-CP), 2027–2030.
LINE = {"rural": 2_200_000, "urban": 2_800_000}
POOR_FROM_DEPRIVATIONS = 3
REVIEW_DATE = "2026-11-20"  # the late-2026 periodic review (§4.1: 1 September – 14 December)
URBAN_VILLAGE = "T03"  # made urban in this test (commune X1 is rural)


def vnd(amount: int) -> str:
    """An amount as Vietnamese writes it: 2.200.000."""
    return f"{amount:,}".replace(",", ".")


def lawful_category(income: int, area: str, deprivations: int) -> str:
    if income <= LINE[area]:
        return "ngheo" if deprivations >= POOR_FROM_DEPRIVATIONS else "can_ngheo"
    return "khong_ngheo_khong_can_ngheo"


def per_person_month(total: int, members: int) -> int:
    """Round half up, as XPath round() does."""
    exact = Fraction(total, members * 12)
    return int(exact + Fraction(1, 2)) if exact >= 0 else -int(-exact + Fraction(1, 2))


@dataclass(frozen=True)
class IncomeCase:
    household: Household
    area: str
    deprived: frozenset[str]

    @property
    def total(self) -> int:
        production = self.household.income_production or {}
        amounts = self.household.income_amounts or {}
        return sum(r - c for r, c in production.values()) + sum(amounts.values())

    @property
    def income(self) -> int:
        return per_person_month(self.total, len(self.household.members))


def _adults_and_children(names: list[str], eth: str = "kinh") -> list[Member]:
    """A head, a spouse and children of school age, all insured, schooled, working on the
    farm: no deprivation comes from the members."""
    ages = [44, 40, 12, 9, 14, 7]
    rels = ["chu_ho", "vo_chong", "con", "con", "con", "con"]
    sexes = ["1", "2", "1", "2", "2", "1"]
    return [
        Member(name, sexes[i], rels[i], ages[i], eth) for i, name in enumerate(names)
    ]  # two adults and up to four children: dependants ≤ 50 % only with ≤ 2 children


# Three deprivations from the dwelling alone: walls and columns of non-durable materials
# (housing quality), a pit latrine without slab (hygienic latrine), nobody uses digital
# services (digital services).  Telecom is used, water is safe, waste is collected.
THREE = {
    "wall": "tre_nua_la",
    "frame": "go_tap",
    "roof": "ton",
    "latrine": "ho_khong_san",
    "digital": ("khong_co",),
}
THREE_DEPRIVED = frozenset({"chat_luong_nha", "nha_tieu", "dich_vu_so"})
# One deprivation: waste dumped.
ONE = {
    "wall": "gach_da",
    "frame": "btct",
    "roof": "ngoi",
    "latrine": "tu_hoai",
    "digital": ("internet",),
    "waste": "vut_bua_bai",
}
ONE_DEPRIVED = frozenset({"rac_thai"})


def _household(code: str, village: str, members: list[Member], dwelling: dict, **income):
    return Household(
        form=FORM_2027,
        hh=code,
        village=village,
        members=members,
        floor_area="60",
        water="gieng_khoan",
        review_date=REVIEW_DATE,
        income_collect="co",
        **{"latrine": "tu_hoai", "waste": "thu_gom", **dwelling},
        **income,
    )


CASES: dict[str, IncomeCase] = {
    # Rural, exactly on the line: total = 2,200,000 × 12 × 4; three deprivations → poor.
    "rural_at_line_three": IncomeCase(
        _household(
            "X1-T01-0001",
            "T01",
            _adults_and_children(["A Thút", "Y Blăng", "A Khoa", "Y Nhơm"], "ba_na"),
            THREE,
            occupation="nong_nghiep",
            income_production={"farm": (120_000_000, 120_000_000 - 2_200_000 * 12 * 4)},
        ),
        "rural",
        THREE_DEPRIVED,
    ),
    # Rural, one đồng over the line: total = 2,200,001 × 12 × 4 → neither, whatever the
    # deprivations.
    "rural_one_dong_over": IncomeCase(
        _household(
            "X1-T01-0002",
            "T01",
            _adults_and_children(["A Hyoi", "Y Hlim", "A Dũng", "Y Phương"], "xo_dang"),
            THREE,
            occupation="lam_nghiep",
            income_production={"farm": (2_200_001 * 12 * 4 + 4_400_000, 4_400_000)},
        ),
        "rural",
        THREE_DEPRIVED,
    ),
    # Rural, on the line with one deprivation → near-poor; wages and a pension, not farming.
    "rural_at_line_one": IncomeCase(
        _household(
            "X1-T02-0002",
            "T02",
            _adults_and_children(["Trần Văn Lộc", "Trần Thị Lan", "Trần Minh An"]),
            ONE,
            occupation="khac",
            income_amounts={"wages": 2_200_000 * 12 * 3 - 12_000_000, "pension": 12_000_000},
        ),
        "rural",
        ONE_DEPRIVED,
    ),
    # Urban, exactly on the urban line (above the rural one: the area decides), wages and a
    # shop; three deprivations → poor.
    "urban_at_line_three": IncomeCase(
        _household(
            "X1-T03-0001",
            URBAN_VILLAGE,
            _adults_and_children(["Rơ Mah Bơk", "Rơ Mah Hyơk", "Rơ Mah Blơi", "Rơ Mah Nga"]),
            THREE,
            occupation="khac",
            income_production={"nonfarm_business": (50_000_000, 15_600_000)},
            income_amounts={"wages": 2_800_000 * 12 * 4 - 34_400_000},
        ),
        "urban",
        THREE_DEPRIVED,
    ),
    # Urban, one đồng over: total = 2,800,001 × 12 × 2 → neither.
    "urban_one_dong_over": IncomeCase(
        _household(
            "X1-T03-0003",
            URBAN_VILLAGE,
            _adults_and_children(["Lê Văn Tám", "Phạm Thị Hoa"]),
            THREE,
            occupation="khac",
            income_amounts={"wages": 2_800_001 * 12 * 2},
        ),
        "urban",
        THREE_DEPRIVED,
    ),
}


def test_the_cases_hit_the_lines_exactly():
    assert [c.income for c in CASES.values()] == [
        LINE["rural"],
        LINE["rural"] + 1,
        LINE["rural"],
        LINE["urban"],
        LINE["urban"] + 1,
    ]


def _media(tmp: Path) -> Path:
    """The form's sample lists, with village T03 urban as the server would list it."""
    target = tmp / "media"
    shutil.copytree(media_dir(FORM_2027), target)
    villages = target / "villages.csv"
    rows = villages.read_text(encoding="utf-8").splitlines()
    villages.write_text(
        "\n".join(
            r.replace(",rural", ",urban") if r.startswith(f"{URBAN_VILLAGE},") else r for r in rows
        )
        + "\n",
        encoding="utf-8",
    )
    return target


@dataclass(frozen=True)
class Filled:
    instance: webforms.FilledInstance
    root: etree._Element
    media: Path

    def value(self, path: str) -> str:
        [node] = self.root.xpath("/data/" + path)
        return node.text or ""


def _fill(household: Household, tmp: Path, media: Path) -> Filled:
    tmp.mkdir(parents=True, exist_ok=True)
    files = {"photo": tmp / "nha.jpg", "signature": tmp / "chu ky.jpg"}
    files["photo"].write_bytes(jpeg_bytes(21, 2500))
    files["signature"].write_bytes(jpeg_bytes(22, 700))
    instance = webforms.fill_form(
        form_path(FORM_2027),
        household_steps(household, files),
        tmp / "out",
        attachments_dir=media,
        preload={"deviceID": "collect:phieu-b-2027", "username": "rsv1"},
    )
    return Filled(instance, etree.fromstring(instance.xml), media)


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> dict[str, Filled]:
    webforms.ensure_installed()
    media = _media(tmp_path_factory.mktemp("media"))
    return {
        key: _fill(case.household, tmp_path_factory.mktemp(key), media)
        for key, case in CASES.items()
    }


@pytest.mark.parametrize("key", list(CASES))
def test_the_phone_computes_income_per_person_as_the_law_reads_it(filled, key):
    case, f = CASES[key], filled[key]
    assert f.value("area_type") == case.area
    assert f.value("income/total_net_income_12m") == str(case.total)
    assert f.value("income/income_per_person_month") == str(case.income)
    assert f.value("income/income_pp_text") == income_forms.vn(case.income)
    assert f.value("b2_count") == str(len(case.deprived))
    assert {c for c in case.deprived if f.value(f"b2_{c}") == "1"} == case.deprived
    # JavaRosa re-opens the instance as Collect does and, recomputing every calculation from
    # the answers alone, finds the same income.
    assert javarosa.check_instance(form_path(FORM_2027), f.instance.xml, f.media) == (
        f.instance.instance_id
    )
    recomputed = javarosa.recompute(form_path(FORM_2027), f.instance.xml, f.media)
    assert int(float(recomputed["/data/income/income_per_person_month"])) == case.income


def _make_village_urban(app) -> None:
    with app.app_context(), write_transaction(db.session):
        village = db.session.scalar(
            select(Village)
            .join(Commune, Commune.id == Village.commune_id)
            .where(Commune.code == "X1", Village.code == URBAN_VILLAGE)
        )
        village.area_type = AreaType.URBAN


def _current_score(app, instance_id: str) -> HouseholdScore | None:
    with app.app_context():
        score = db.session.scalar(
            select(HouseholdScore)
            .join(Submission, Submission.id == HouseholdScore.submission_id)
            .where(Submission.instance_id == instance_id, HouseholdScore.current.is_(True))
        )
        db.session.expunge_all()
        return score


def _wait_for_scores(app, instance_ids: list[str], seconds: float = 60) -> dict:
    """The server scores after the phone has its answer (in the gunicorn worker, after the
    response): wait for it, as a reviewer would refresh the page."""
    deadline = time.monotonic() + seconds
    while True:
        scores = {i: _current_score(app, i) for i in instance_ids}
        if all(scores.values()) or time.monotonic() > deadline:
            return scores
        time.sleep(0.2)


@pytest.mark.parametrize("transport", ["flask", "gunicorn"])
def test_phieu_b_2027_sent_like_collect_is_classified_by_its_measured_income(
    request, transport, app, seeded, publish_shipped, filled
):
    publish_shipped(FORM_2027)
    _make_village_urban(app)
    if transport == "flask":
        base, channel = "http://rasoat.test", FlaskTransport(app)
    else:
        base, channel = request.getfixturevalue("live_server").url, HttpTransport()
    collect = CollectClient(channel, f"{base}/key/{seeded.reviewer_token}")
    for key, f in filled.items():
        files = {name: path.read_bytes() for name, path in f.instance.files.items()}
        replies = collect.submit(f.instance.xml, files)
        assert [r.status for r in replies] == [201], (key, replies[0].body)

    scores = _wait_for_scores(app, [f.instance.instance_id for f in filled.values()])
    with app.app_context():
        jobs = db.session.scalars(select(ScoringJob)).all()
        assert sorted(j.state for j in jobs) == ["done"] * len(CASES)
    for key, case in CASES.items():
        f, score = filled[key], scores[filled[key].instance.instance_id]
        assert score is not None, key
        r = score.result
        phone_income = int(f.value("income/income_per_person_month"))
        # The questionnaire's standard, not the review year's, and the result says why.
        assert (score.standard, score.year, r["standard_basis"]) == (
            "2027_2030",
            2026,
            "questionnaire",
        ), key
        assert r["explanation_vi"][0] == (
            "Phiếu B 2027–2030 rà soát năm 2026: chấm theo chuẩn 2027–2030 (áp dụng từ năm "
            "2027); chuẩn của năm 2026 là chuẩn 2022–2025, không khớp câu hỏi của phiếu."
        )
        # Measured income decides (no B1 cut-off exists for 2027–2030), with the phone's figure.
        assert r["method"] == "income", key
        assert r["income_per_person_month"] == phone_income == case.income, key
        assert r["income_source"] == "phieu_b" and r["income_phieu_b"] == phone_income
        assert r["inputs"]["income"]["per_person_month"] == phone_income
        assert r["inputs"]["income"]["agricultural"] == (
            case.household.occupation in ("nong_nghiep", "lam_nghiep", "ngu_nghiep")
        )
        assert (r["area_type"], r["income_line"]) == (case.area, LINE[case.area]), key
        assert (
            f"mục thu nhập của Phiếu B: {vnd(case.income)} đ/người/tháng" in r["explanation_vi"][1]
        )
        # The server's deprivations are the phone's.
        deprived = {i["code"] for i in r["indicators"] if i["outcome"] == "deprived"}
        assert deprived == case.deprived, key
        assert score.deprivations == int(f.value("b2_count")) == len(case.deprived)
        assert score.category == lawful_category(case.income, case.area, len(case.deprived)), key
    assert [scores[filled[k].instance.instance_id].category for k in CASES] == [
        "ngheo",
        "khong_ngheo_khong_can_ngheo",
        "can_ngheo",
        "ngheo",
        "khong_ngheo_khong_can_ngheo",
    ]


# --- Phiếu B's own income and the income survey ----------------------------------------------


def _survey(tmp: Path, code: str, members: int, forestry: tuple[int, int]):
    tmp.mkdir(parents=True, exist_ok=True)
    signature = tmp / "chu ky.jpg"
    signature.write_bytes(jpeg_bytes(23, 900))
    case = income_forms.IncomeCase(
        id=f"khao_sat_{code}",
        identify=income_forms.household(code),
        occupation="lam_nghiep",
        members=members,
        production={"forestry": forestry},
    )
    steps = [
        *case.steps(signature),
        {"op": "set", "ref": "/data/confirm/review_date", "value": REVIEW_DATE},
    ]
    return case, income_forms.fill(income_forms.INCOME, steps, tmp / "out")


def test_the_income_survey_is_preferred_to_the_phieu_b_module_and_both_are_shown(
    app, seeded, publish_shipped, tmp_path
):
    """Household X1-T02-0001: its Phiếu B module says 2,000,000 đ (≤ the rural line), the
    dedicated income survey says 2,500,000 đ (> the line).  Whichever arrives first, the
    survey decides and the Phiếu B figure is shown beside it."""
    webforms.ensure_installed()
    members = _adults_and_children(["Y Hlơn", "A Yơk", "Y Jun", "A Hlang"], "ba_na")
    household = _household(
        "X1-T02-0001",
        "T02",
        members,
        THREE,
        occupation="lam_nghiep",
        income_production={"farm": (2_000_000 * 12 * 4, 0)},
    )
    media = _media(tmp_path / "m")
    b = _fill(household, tmp_path / "b", media)
    survey_case, survey = _survey(tmp_path / "s", "X1-T02-0001", 4, (2_500_000 * 12 * 4, 0))
    survey_income = int(income_forms.value(survey.xml, "/data/income/income_per_person_month"))
    assert survey_income == per_person_month(survey_case.total, 4) == 2_500_000
    publish_shipped(FORM_2027)
    publish_shipped(income_forms.INCOME)

    income_forms.post(app, seeded, b.instance)
    first = _current_score(app, b.instance.instance_id)
    assert (first.result["income_source"], first.result["income_per_person_month"]) == (
        "phieu_b",
        2_000_000,
    )
    assert first.category == lawful_category(2_000_000, "rural", 3) == "ngheo"

    income_forms.post(app, seeded, survey)
    now = _current_score(app, b.instance.instance_id)
    r = now.result
    assert (r["income_source"], r["income_per_person_month"], r["income_phieu_b"]) == (
        "khao_sat",
        survey_income,
        2_000_000,
    )
    assert r["method"] == "income" and now.standard == "2027_2030"
    assert (
        now.category
        == lawful_category(survey_income, "rural", 3)
        == ("khong_ngheo_khong_can_ngheo")
    )
    assert [e["kind"] for e in r["evidence"]] == ["income"]
    assert r["explanation_vi"][1] == (
        "Thu nhập đo được lấy từ Phiếu khảo sát thu nhập (phiếu chuyên dùng để đo thu nhập, "
        "được ưu tiên): 2.500.000 đ/người/tháng; mục thu nhập của Phiếu B ghi 2.000.000 "
        "đ/người/tháng (khác phiếu khảo sát)."
    )


def test_a_phieu_b_leaving_income_to_the_survey_waits_for_it(
    app, seeded, publish_shipped, tmp_path
):
    """Income left to a separate survey: not assessed (no B1 cut-off for 2027–2030) until the
    survey of the same household code and review year arrives, then classified by it."""
    webforms.ensure_installed()
    members = _adults_and_children(["A Thút", "Y Blăng", "A Khoa", "Y Nhơm"], "ba_na")
    household = replace(
        _household("X1-T01-0002", "T01", members, THREE), income_collect="phieu_rieng"
    )
    b = _fill(household, tmp_path / "b", _media(tmp_path / "m"))
    assert b.root.xpath("/data/income") == []
    # 4 people, forestry: exactly on the rural line.
    _, survey = _survey(tmp_path / "s", "X1-T01-0002", 4, (2_200_000 * 12 * 4 + 1_000, 1_000))
    publish_shipped(FORM_2027)
    publish_shipped(income_forms.INCOME)

    income_forms.post(app, seeded, b.instance)
    first = _current_score(app, b.instance.instance_id)
    assert (first.standard, first.category, first.result["method"]) == (
        "2027_2030",
        "chua_danh_gia",
        None,
    )
    assert first.result["income_source"] is None

    income_forms.post(app, seeded, survey)
    now = _current_score(app, b.instance.instance_id)
    assert now.result["income_source"] == "khao_sat" and now.result["income_phieu_b"] is None
    assert now.result["income_per_person_month"] == LINE["rural"]
    assert now.category == lawful_category(LINE["rural"], "rural", 3) == "ngheo"
