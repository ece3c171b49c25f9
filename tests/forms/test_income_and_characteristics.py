"""The income survey for average-living-standard agri households (``thu_nhap_mstb``) and the
poor / near-poor household characteristics form (``dac_diem_ho``), filled by the real ODK Web
Forms engine, re-opened by JavaRosa as Collect would, and sent to the server like Collect.

The numbers asserted here are the ones the phone computes: net income per source (a loss is a
negative net), ``total_net_income_12m`` without social allowances, ``income_per_person_month``
rounded to whole đồng, and its Vietnamese spelling (``1.500.000``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from server.extensions import db
from server.questionnaires.sources import XLSFORMS_DIR, load_sources
from server.submissions.models import SubmissionVersion
from tests.collect_client import CollectClient, FlaskTransport
from tests.engines import javarosa, webforms
from tests.instances import jpeg_bytes

SOURCES = {s.name: s for s in load_sources()}
INCOME = "thu_nhap_mstb"
TRAITS = "dac_diem_ho"


def form_path(name: str) -> Path:
    return SOURCES[name].compiled_path


def media_dir(name: str) -> Path:
    return XLSFORMS_DIR / f"{name}-media"


def fill(name: str, steps: list[dict], out_dir: Path) -> webforms.FilledInstance:
    return webforms.fill_form(form_path(name), steps, out_dir, attachments_dir=media_dir(name))


def values(xml: bytes, path: str) -> list[str]:
    return [node.text or "" for node in etree.fromstring(xml).xpath(path)]


def value(xml: bytes, path: str) -> str:
    found = values(xml, path)
    assert len(found) == 1, f"{path}: {found}"
    return found[0]


def vn(amount: int) -> str:
    """1500000 -> '1.500.000' (Vietnamese thousands separator)."""
    return f"{amount:,}".replace(",", ".")


def per_person_month(total: int, members: int) -> int:
    """Round half up, as XPath round() does."""
    exact = Fraction(total, members * 12)
    return int(exact + Fraction(1, 2)) if exact >= 0 else -int(-exact + Fraction(1, 2))


def post(app, seeded, filled: webforms.FilledInstance) -> None:
    """Send the instance and its files as Collect does; the server must answer 201."""
    collect = CollectClient(FlaskTransport(app), f"http://rasoat.test/key/{seeded.reviewer_token}")
    files = {name: path.read_bytes() for name, path in filled.files.items()}
    replies = collect.submit(filled.xml, files)
    assert [r.status for r in replies] == [201], replies[0].body


def stored(instance_id: str) -> SubmissionVersion:
    """The stored version (call inside an application context)."""
    version = db.session.scalar(
        select(SubmissionVersion).where(SubmissionVersion.instance_id == instance_id)
    )
    assert version is not None
    return version


# --- thu_nhap_mstb ----------------------------------------------------------------------------


def household(code: str) -> list[dict]:
    return [
        {"op": "select", "ref": "/data/in_list", "value": "yes"},
        {"op": "select", "ref": "/data/hh", "value": code},
    ]


def new_household(village: str, head: str) -> list[dict]:
    return [
        {"op": "select", "ref": "/data/in_list", "value": "no"},
        {"op": "select", "ref": "/data/new_village", "value": village},
        {"op": "set", "ref": "/data/new_head_name", "value": head},
    ]


def production(source: str, revenue: int, cost: int) -> list[dict]:
    steps = [
        {"op": "set", "ref": f"/data/income/{source}/{source}_rev", "value": str(revenue)},
        {"op": "set", "ref": f"/data/income/{source}/{source}_cost", "value": str(cost)},
    ]
    if cost > revenue:  # the reviewer confirms the loss
        steps.append({"op": "set", "ref": f"/data/income/{source}/{source}_loss_ok", "value": True})
    return steps


def amount(source: str, value_: int) -> list[dict]:
    return [{"op": "set", "ref": f"/data/income/{source}_amount", "value": str(value_)}]


def confirm(signature: Path) -> list[dict]:
    return [
        {"op": "set", "ref": "/data/confirm/reviewer_name", "value": "Lê Thị Hoa"},
        {"op": "attach", "ref": "/data/confirm/head_signature", "file": str(signature)},
    ]


@dataclass(frozen=True)
class IncomeCase:
    id: str
    identify: list[dict]
    occupation: str
    members: int
    production: dict[str, tuple[int, int]] = field(default_factory=dict)
    amounts: dict[str, int] = field(default_factory=dict)
    allowance: int = 0  # social allowances received: recorded, never counted
    village: str = ""
    hh_code: str = ""
    head: str = ""

    @property
    def eligible(self) -> bool:
        return self.occupation != "khac"

    @property
    def total(self) -> int:
        return sum(r - c for r, c in self.production.values()) + sum(self.amounts.values())

    def steps(self, signature: Path) -> list[dict]:
        steps = [
            *self.identify,
            {"op": "select", "ref": "/data/main_occupation", "value": self.occupation},
            {"op": "set", "ref": "/data/members", "value": str(self.members)},
        ]
        if self.eligible:
            steps.append(
                {
                    "op": "select",
                    "ref": "/data/income/sources",
                    "values": [*self.production, *self.amounts],
                }
            )
            for source, (revenue, cost) in self.production.items():
                steps += production(source, revenue, cost)
            for source, received in self.amounts.items():
                steps += amount(source, received)
            allowance = "/data/income/allowance/social_allowance"
            steps.append(
                {"op": "select", "ref": allowance, "value": "yes" if self.allowance else "no"}
            )
            if self.allowance:
                steps.append(
                    {"op": "set", "ref": f"{allowance}_amount", "value": str(self.allowance)}
                )
        return steps + confirm(signature)


INCOME_CASES = [
    # A Xơ Đăng farming household with rice, coffee, a loss on pigs, wages, remittances and a
    # monthly social allowance that must stay out of the income.
    IncomeCase(
        id="nong_nghiep_nhieu_nguon",
        identify=household("X1-T02-0001"),
        occupation="nong_nghiep",
        members=6,
        production={
            "crops_annual": (42_000_000, 15_500_000),
            "crops_perennial": (60_000_000, 22_000_000),
            "livestock": (3_000_000, 4_200_000),
        },
        amounts={"wages": 24_000_000, "remittances": 5_000_000},
        allowance=4_320_000,
        village="T02",
        hh_code="X1-T02-0001",
        head="Y Hlơn",
    ),
    # A household not yet in the list, living from forestry and a pension, exactly on
    # 1,500,000 đ per person per month (the rural line of 2022-2026: the server decides).
    IncomeCase(
        id="lam_nghiep_dung_1500000",
        identify=new_household("T03", "A Blong"),
        occupation="lam_nghiep",
        members=4,
        production={"forestry": (50_000_000, 8_000_000)},
        amounts={"pension": 30_000_000},
        village="T03",
        head="A Blong",
    ),
    # Other occupation: not eligible, the income section ends.
    IncomeCase(
        id="nganh_khac",
        identify=household("X1-T01-0003"),
        occupation="khac",
        members=3,
        village="T01",
        hh_code="X1-T01-0003",
        head="Trần Thị Mai",
    ),
]


@pytest.fixture(scope="module")
def signature(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("signature") / "chu ky chu ho.jpg"
    path.write_bytes(jpeg_bytes(5, 3000))
    return path


@pytest.fixture(scope="module")
def income_filled(tmp_path_factory, signature) -> dict[str, webforms.FilledInstance]:
    webforms.ensure_installed()
    return {
        case.id: fill(INCOME, case.steps(signature), tmp_path_factory.mktemp(case.id))
        for case in INCOME_CASES
    }


def test_income_cases_add_up():
    """The expected figures of the cases, worked by hand."""
    farming, boundary, _ = INCOME_CASES
    assert farming.total == 26_500_000 + 38_000_000 - 1_200_000 + 24_000_000 + 5_000_000
    assert farming.total == 92_300_000
    assert per_person_month(farming.total, 6) == 1_281_944  # 1,281,944.44...
    assert boundary.total == 72_000_000
    assert per_person_month(boundary.total, 4) == 1_500_000


@pytest.mark.parametrize("case", INCOME_CASES, ids=[c.id for c in INCOME_CASES])
def test_income_computed_on_the_phone(case, income_filled):
    xml = income_filled[case.id].xml
    assert value(xml, "/data/village") == case.village
    assert value(xml, "/data/head_name") == case.head
    assert value(xml, "/data/hh_code") == case.hh_code
    assert value(xml, "/data/members") == str(case.members)
    if not case.eligible:
        assert values(xml, "/data/income") == []  # the whole section is left out
        assert values(xml, "/data/not_eligible_note") == [""]
        return
    assert values(xml, "/data/not_eligible_note") == []
    for source, (revenue, cost) in case.production.items():
        assert value(xml, f"/data/income/{source}/{source}_net") == str(revenue - cost)
    total = case.total
    income = per_person_month(total, case.members)
    assert value(xml, "/data/income/total_net_income_12m") == str(total)
    assert value(xml, "/data/income/income_per_person_month") == str(income)
    assert value(xml, "/data/income/total_text") == vn(total)
    assert value(xml, "/data/income/income_pp_text") == vn(income)
    assert value(xml, "/data/income/social_allowance_excluded") == str(case.allowance)
    assert value(xml, "/data/income/allowance_text") == vn(case.allowance)


def test_social_allowance_is_recorded_but_not_income(income_filled):
    xml = income_filled["nong_nghiep_nhieu_nguon"].xml
    assert value(xml, "/data/income/allowance/social_allowance_amount") == "4320000"
    assert value(xml, "/data/income/total_net_income_12m") == "92300000"  # not 96,620,000
    assert value(xml, "/data/income/livestock/livestock_net") == "-1200000"  # a loss counts
    assert value(xml, "/data/income/livestock/livestock_loss_ok") == "OK"
    boundary = income_filled["lam_nghiep_dung_1500000"].xml
    assert value(boundary, "/data/income/income_per_person_month") == "1500000"
    assert value(boundary, "/data/income/income_pp_text") == "1.500.000"
    assert value(boundary, "/data/last_status") == "moi"


def test_other_occupation_ends_the_income_section(tmp_path, signature):
    steps = [
        *household("X1-T01-0003"),
        {"op": "select", "ref": "/data/main_occupation", "value": "khac"},
        {"op": "set", "ref": "/data/members", "value": "3"},
        {"op": "select", "ref": "/data/income/sources", "values": ["wages"]},
    ]
    with pytest.raises(RuntimeError, match="/data/income/sources is not relevant"):
        fill(INCOME, steps, tmp_path)


@pytest.mark.parametrize(
    ("steps", "violation"),
    [
        pytest.param(
            [{"op": "set", "ref": "/data/members", "value": "0"}],
            "/data/members: constraint (Số nhân khẩu phải từ 1 đến 50.)",
            id="members_0",
        ),
        pytest.param(
            [
                {"op": "select", "ref": "/data/income/sources", "values": ["crops_annual"]},
                {
                    "op": "set",
                    "ref": "/data/income/crops_annual/crops_annual_rev",
                    "value": "-5000000",
                },
                {"op": "set", "ref": "/data/income/crops_annual/crops_annual_cost", "value": "0"},
            ],
            "/data/income/crops_annual/crops_annual_rev: constraint",
            id="negative_revenue",
        ),
        pytest.param(
            [
                {"op": "select", "ref": "/data/income/sources", "values": ["livestock"]},
                {"op": "set", "ref": "/data/income/livestock/livestock_rev", "value": "3000000"},
                {"op": "set", "ref": "/data/income/livestock/livestock_cost", "value": "4200000"},
            ],
            "/data/income/livestock/livestock_loss_ok: required",
            id="loss_not_confirmed",
        ),
        pytest.param(
            [
                {"op": "select", "ref": "/data/income/sources", "values": ["wages"]},
                {"op": "set", "ref": "/data/income/wages_amount", "value": "0"},
            ],
            "/data/income/wages_amount: constraint",
            id="selected_source_without_amount",
        ),
    ],
)
def test_income_constraints_are_enforced(tmp_path, signature, steps, violation):
    base = [
        *household("X1-T03-0001"),
        {"op": "select", "ref": "/data/main_occupation", "value": "nong_nghiep"},
        {"op": "set", "ref": "/data/members", "value": "5"},
    ]
    if not any(s["ref"] == "/data/income/sources" for s in steps):
        base.append({"op": "select", "ref": "/data/income/sources", "values": ["wages"]})
        base += amount("wages", 20_000_000)
    allowance = [{"op": "select", "ref": "/data/income/allowance/social_allowance", "value": "no"}]
    with pytest.raises(RuntimeError) as failure:
        fill(INCOME, base + steps + allowance + confirm(signature), tmp_path)
    assert "reports the filled form invalid" in str(failure.value)
    assert violation in str(failure.value)


@pytest.mark.parametrize(
    ("members", "amounts", "production", "total_text", "per_person_text"),
    [
        # Over a billion: four groups of digits.
        (
            1,
            {"wages": 999_999_999, "other_income": 500_000_001},
            {},
            "1.500.000.000",
            "125.000.000",
        ),
        # A business loss larger than the other income: negative total and average.
        (
            2,
            {"remittances": 600_000},
            {"nonfarm_business": (1_000_000, 2_200_000)},
            "-600.000",
            "-25.000",
        ),
        # Small amounts need no separator; 7 / 3 / 12 rounds to 0.
        (3, {"other_income": 7}, {}, "7", "0"),
    ],
    ids=["ty_dong", "lo", "nho"],
)
def test_vietnamese_number_spelling(
    tmp_path, signature, members, amounts, production, total_text, per_person_text
):
    case = IncomeCase(
        id="format",
        identify=new_household("T01", "Đinh Văn Thơ"),
        occupation="ngu_nghiep",
        members=members,
        production=production,
        amounts=amounts,
    )
    xml = fill(INCOME, case.steps(signature), tmp_path).xml
    assert value(xml, "/data/income/total_net_income_12m") == str(case.total)
    assert value(xml, "/data/income/total_text") == total_text
    assert value(xml, "/data/income/income_pp_text") == per_person_text
    assert value(xml, "/data/income/income_per_person_month") == str(
        per_person_month(case.total, members)
    )
    javarosa.check_instance(form_path(INCOME), xml, media_dir(INCOME))


def test_javarosa_accepts_the_income_instances_and_enforces_the_constraints(income_filled):
    for case in INCOME_CASES:
        filled = income_filled[case.id]
        assert (
            javarosa.check_instance(form_path(INCOME), filled.xml, media_dir(INCOME))
            == filled.instance_id
        )
    xml = income_filled["nong_nghiep_nhieu_nguon"].xml
    tampered = xml.replace(b"<members>6</members>", b"<members>0</members>")
    assert tampered != xml
    with pytest.raises(javarosa.InstanceInvalid) as invalid:
        javarosa.check_instance(form_path(INCOME), tampered, media_dir(INCOME))
    assert invalid.value.ref == "/data/members"


@pytest.mark.parametrize("case", INCOME_CASES, ids=[c.id for c in INCOME_CASES])
def test_income_survey_is_accepted_and_stored(
    case, income_filled, app, seeded, publish_shipped, signature
):
    assert publish_shipped(INCOME) == INCOME
    filled = income_filled[case.id]
    post(app, seeded, filled)
    with app.app_context():
        version = stored(filled.instance_id)
        fields = version.fields
        assert version.submission.village is not None
        assert version.submission.village.code == case.village
        assert fields["village"] == case.village
        assert fields["hh_code"] == case.hh_code
        assert fields["head_name"] == case.head
        assert fields["main_occupation"] == case.occupation
        assert fields["members"] == str(case.members)
        assert fields["confirm/reviewer_name"] == "Lê Thị Hoa"
        assert [a.name for a in version.attachments] == [signature.name]
        assert fields["confirm/head_signature"] == signature.name
        assert version.missing_attachments == []
        if not case.eligible:
            assert not [key for key in fields if key.startswith("income/")]
            return
        total = case.total
        assert fields["income/total_net_income_12m"] == str(total)
        assert fields["income/income_per_person_month"] == str(
            per_person_month(total, case.members)
        )
        assert fields["income/sources"] == " ".join([*case.production, *case.amounts])
        for source, (revenue, cost) in case.production.items():
            assert fields[f"income/{source}/{source}_rev"] == str(revenue)
            assert fields[f"income/{source}/{source}_cost"] == str(cost)
            assert fields[f"income/{source}/{source}_net"] == str(revenue - cost)
        for source, received in case.amounts.items():
            assert fields[f"income/{source}_amount"] == str(received)
        if case.allowance:
            assert fields["income/allowance/social_allowance"] == "yes"
            assert fields["income/allowance/social_allowance_amount"] == str(case.allowance)
        else:
            assert fields["income/allowance/social_allowance"] == "no"
            assert "income/allowance/social_allowance_amount" not in fields


# --- dac_diem_ho ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TraitsCase:
    id: str
    code: str
    village: str
    head: str
    status: str  # expected; set only when it differs from the default taken from last_status
    set_status: bool
    causes: list[str]
    main_cause: str
    needs: list[str]
    priorities: list[str]
    merit: str
    labour: str
    ethnic: str
    housing: str
    extra: list[dict] = field(default_factory=list)

    def steps(self) -> list[dict]:
        steps = household(self.code)
        if self.set_status:
            steps.append({"op": "select", "ref": "/data/status", "value": self.status})
        steps += [
            {"op": "select", "ref": "/data/causes", "values": self.causes},
            *[s for s in self.extra if s["ref"] == "/data/causes_other"],
            {"op": "select", "ref": "/data/main_cause", "value": self.main_cause},
            {"op": "select", "ref": "/data/needs", "values": self.needs},
        ]
        for rank, need in enumerate(self.priorities, start=1):
            steps.append({"op": "select", "ref": f"/data/priority_{rank}", "value": need})
        steps += [
            {"op": "select", "ref": "/data/traits/merit_member", "value": self.merit},
            {"op": "select", "ref": "/data/traits/labour_capacity", "value": self.labour},
            {"op": "select", "ref": "/data/traits/ethnic_minority", "value": self.ethnic},
            *[s for s in self.extra if s["ref"] != "/data/causes_other"],
            {"op": "select", "ref": "/data/traits/housing", "value": self.housing},
            {"op": "set", "ref": "/data/confirm/reviewer_name", "value": "Nguyễn Văn Tâm"},
        ]
        return steps


TRAITS_CASES = [
    # Near-poor last year and still near-poor: the status comes from households.csv.
    TraitsCase(
        id="can_ngheo_giu_nguyen",
        code="X1-T01-0002",
        village="T01",
        head="A Thút",
        status="can_ngheo",
        set_status=False,
        causes=["thieu_von", "thieu_dat", "om_dau"],
        main_cause="om_dau",
        needs=["tin_dung", "dao_tao_nghe", "nha_o", "bhyt"],
        priorities=["nha_o", "tin_dung", "bhyt"],
        merit="no",
        labour="yes",
        ethnic="yes",
        housing="nha_tam",
        extra=[{"op": "set", "ref": "/data/traits/ethnicity", "value": "Xơ Đăng"}],
    ),
    # Near-poor last year, poor now; no labour capacity, a person with meritorious service,
    # only two needs so there is no third priority.
    TraitsCase(
        id="can_ngheo_thanh_ngheo",
        code="X1-T03-0001",
        village="T03",
        head="Rơ Châm Bớt",
        status="ngheo",
        set_status=True,
        causes=["thieu_lao_dong", "om_dau", "khac"],
        main_cause="thieu_lao_dong",
        needs=["nha_o", "bhyt"],
        priorities=["nha_o", "bhyt"],
        merit="yes",
        labour="no",
        ethnic="yes",
        housing="nha_dot_nat",
        extra=[
            {"op": "set", "ref": "/data/causes_other", "value": "Chủ hộ cao tuổi, sống một mình"},
            {"op": "set", "ref": "/data/traits/ethnicity", "value": "Gia Rai"},
        ],
    ),
]


@pytest.fixture(scope="module")
def traits_filled(tmp_path_factory) -> dict[str, webforms.FilledInstance]:
    webforms.ensure_installed()
    return {
        case.id: fill(TRAITS, case.steps(), tmp_path_factory.mktemp(case.id))
        for case in TRAITS_CASES
    }


@pytest.mark.parametrize("case", TRAITS_CASES, ids=[c.id for c in TRAITS_CASES])
def test_characteristics_filled(case, traits_filled):
    filled = traits_filled[case.id]
    xml = filled.xml
    assert value(xml, "/data/village") == case.village
    assert value(xml, "/data/head_name") == case.head
    assert value(xml, "/data/last_status") == "can_ngheo"
    assert value(xml, "/data/status") == case.status
    assert value(xml, "/data/causes") == " ".join(case.causes)
    assert value(xml, "/data/main_cause") == case.main_cause
    ranked = [values(xml, f"/data/priority_{rank}") for rank in (1, 2, 3)]
    assert [v[0] for v in ranked if v] == case.priorities
    assert len({*case.priorities}) == len(case.priorities)
    if len(case.needs) < 3:
        assert ranked[2] == []  # no third priority to give
    assert value(xml, "/data/traits/labour_capacity") == case.labour
    assert javarosa.check_instance(form_path(TRAITS), xml, media_dir(TRAITS)) == filled.instance_id


def _traits_base() -> list[dict]:
    return [
        *household("X1-T02-0003"),  # a new request (last_status moi): status has no default
        {"op": "select", "ref": "/data/status", "value": "can_ngheo"},
        {"op": "select", "ref": "/data/causes", "values": ["thieu_viec_lam", "thien_tai"]},
        {"op": "select", "ref": "/data/main_cause", "value": "thien_tai"},
        {"op": "select", "ref": "/data/needs", "values": ["viec_lam", "nha_o", "thong_tin"]},
        {"op": "select", "ref": "/data/priority_1", "value": "nha_o"},
        {"op": "select", "ref": "/data/priority_2", "value": "viec_lam"},
        {"op": "select", "ref": "/data/priority_3", "value": "thong_tin"},
        {"op": "select", "ref": "/data/traits/merit_member", "value": "no"},
        {"op": "select", "ref": "/data/traits/labour_capacity", "value": "yes"},
        {"op": "select", "ref": "/data/traits/ethnic_minority", "value": "yes"},
        {"op": "select", "ref": "/data/traits/housing", "value": "nha_ben_vung"},
        {"op": "set", "ref": "/data/confirm/reviewer_name", "value": "Nguyễn Văn Tâm"},
    ]


def test_characteristics_base_case_is_valid(tmp_path):
    xml = fill(TRAITS, _traits_base(), tmp_path).xml
    assert value(xml, "/data/last_status") == "moi"
    assert value(xml, "/data/priority_3") == "thong_tin"


def test_duplicate_priority_is_caught(tmp_path, traits_filled):
    # Making the first priority equal to the second empties the second (it is filtered out);
    # the form cannot be finalized until a different second priority is chosen.
    steps = [*_traits_base(), {"op": "select", "ref": "/data/priority_1", "value": "viec_lam"}]
    with pytest.raises(RuntimeError) as failure:
        fill(TRAITS, steps, tmp_path / "dup")
    assert "/data/priority_2: required" in str(failure.value)
    # A duplicate cannot even be offered.
    steps = [*_traits_base()[:7], {"op": "select", "ref": "/data/priority_2", "value": "nha_o"}]
    with pytest.raises(RuntimeError, match=r"not among the choices the engine offers"):
        fill(TRAITS, steps, tmp_path / "offered")
    # Collect (JavaRosa) keeps a stale answer where Web Forms drops it: it must refuse it too.
    xml = traits_filled["can_ngheo_giu_nguyen"].xml
    tampered = xml.replace(b"<priority_2>tin_dung</priority_2>", b"<priority_2>nha_o</priority_2>")
    assert tampered != xml
    with pytest.raises(javarosa.InstanceInvalid) as invalid:
        javarosa.check_instance(form_path(TRAITS), tampered, media_dir(TRAITS))
    assert invalid.value.ref == "/data/priority_2"


def test_main_cause_only_among_selected_causes(tmp_path):
    steps = [*_traits_base()[:4], {"op": "select", "ref": "/data/main_cause", "value": "thieu_von"}]
    with pytest.raises(
        RuntimeError, match=r"not among the choices.*\"thieu_viec_lam\",\"thien_tai\""
    ):
        fill(TRAITS, steps, tmp_path)


@pytest.mark.parametrize("case", TRAITS_CASES, ids=[c.id for c in TRAITS_CASES])
def test_characteristics_accepted_and_stored(case, traits_filled, app, seeded, publish_shipped):
    assert publish_shipped(TRAITS) == TRAITS
    filled = traits_filled[case.id]
    post(app, seeded, filled)
    with app.app_context():
        version = stored(filled.instance_id)
        fields = version.fields
        assert version.submission.village is not None
        assert version.submission.village.code == case.village
        assert fields["hh_code"] == case.code
        assert fields["status"] == case.status
        assert fields["causes"] == " ".join(case.causes)
        assert fields["main_cause"] == case.main_cause
        assert fields["needs"] == " ".join(case.needs)
        for rank, need in enumerate(case.priorities, start=1):
            assert fields[f"priority_{rank}"] == need
        assert fields["traits/merit_member"] == case.merit
        assert fields["traits/labour_capacity"] == case.labour
        assert fields["traits/ethnic_minority"] == case.ethnic
        assert fields["traits/housing"] == case.housing
        assert fields["confirm/reviewer_name"] == "Nguyễn Văn Tâm"
        assert version.attachments == []
