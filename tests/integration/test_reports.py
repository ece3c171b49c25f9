"""Reports (``/bao-cao``, ``/bao-cao.xlsx``) over a small known world, on SQLite and PostgreSQL.

Commune X1 has ten registered households with their 2025 (and some 2024) recognised statuses
and real Phiếu B instances for 2026 — filled by the ODK Web Forms engine and sent like Collect
sends them, one filled instance cloned per household code — so most of its 2026 figures are
review results not yet decided; one household already has its 2026 recognised status.  Commune
X2 has only recognised statuses (its decision is taken).  Every count below is worked out by
hand from that table.
"""

from __future__ import annotations

import dataclasses
import io
import re
import uuid
from collections import Counter

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from server.accounts.models import Role
from server.accounts.services import create_user
from server.db import write_transaction
from server.extensions import db
from server.geography.models import Commune
from server.households.models import Household, HouseholdStatus, HouseholdYearStatus, ListSource
from server.scoring.b1_store import assign_table
from server.scoring.models import HouseholdScore
from server.submissions.models import Submission, SubmissionVersion
from tests.collect_client import CollectClient, FlaskTransport
from tests.engines import webforms
from tests.forms import test_phieu_b as phieu_b

P, N = HouseholdStatus.POOR, HouseholdStatus.NEAR_POOR
NONE, ESC, ESC_N = (
    HouseholdStatus.NONE,
    HouseholdStatus.ESCAPED_POVERTY,
    HouseholdStatus.ESCAPED_NEAR_POVERTY,
)
# code → (statuses by year, the 2026 Phiếu B(s) sent in this order).  Instances:
#   a        Ba Na, 3 deprivations, A ≤ 140       → poor
#   near     Kinh, 2 deprivations (hygienic latrine) → near-poor
#   rich     Ba Na, 3 deprivations, A > 140       → neither poor nor near-poor
#   elderly  Xơ Đăng, two people over working age and two children, 4 deprivations → poor,
#            without labour capacity
X1 = {
    "X1-T01-0101": ({2025: P}, ["a"]),  # still poor
    "X1-T01-0102": ({2025: N}, ["a"]),  # near-poor → poor
    "X1-T01-0103": ({}, ["a"]),  # newly poor
    "X1-T01-0104": ({2025: P}, ["a", "rich"]),  # the later questionnaire counts: escaped
    "X1-T01-0105": ({2024: P, 2025: NONE}, ["elderly"]),  # relapsed into poverty
    "X1-T01-0106": ({2025: N}, []),  # not reviewed yet
    "X1-T01-0107": ({2025: NONE}, ["near"]),  # newly near-poor
    "X1-T01-0108": ({2025: P, 2026: N}, ["a"]),  # recognised near-poor for 2026: that counts
    "X1-T01-0109": ({2024: N, 2025: ESC_N}, ["near"]),  # relapsed into near-poverty
    "X1-T01-0110": ({2025: N}, ["rich"]),  # escaped near-poverty
}
OUTSIDE = "X1-T01-9999"  # scored, but not in the registry
X2 = {
    "X2-T01-0201": {2025: P, 2026: P},
    "X2-T01-0202": {2025: N, 2026: P},
    "X2-T01-0203": {2025: NONE, 2026: N},
    "X2-T01-0204": {2025: P, 2026: ESC},
    "X2-T01-0205": {},
}


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _login(app, username):
    browser = app.test_client()
    token = _csrf(browser.get("/login").get_data(as_text=True))
    reply = browser.post(
        "/login", data={"username": username, "password": "matkhau-123", "csrf_token": token}
    )
    assert reply.status_code == 302
    return browser


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    webforms.ensure_installed()
    base = phieu_b.CASES["a_three_deprivations"]
    h = base.household
    kinh = [dataclasses.replace(m, eth="kinh") for m in h.members]
    elderly = [
        phieu_b.Member("Đinh Văn Giáp", "1", "chu_ho", 70, "xo_dang", work="khong_hoat_dong"),
        phieu_b.Member("Y Lan", "2", "vo_chong", 66, "xo_dang", work="khong_hoat_dong"),
        phieu_b.Member("A Tin", "1", "con", 10, "xo_dang"),
        phieu_b.Member("Y Hoa", "2", "con", 8, "xo_dang"),
    ]
    households = {
        "a": h,
        "near": dataclasses.replace(h, members=kinh, latrine="tu_hoai"),
        "rich": dataclasses.replace(
            h,
            nonfarm="cong_chuc",
            electricity="kwh_tu_200",
            assets=("o_to", "xe_may", "tu_lanh", "dieu_hoa", "may_giat"),
        ),
        "elderly": dataclasses.replace(h, members=elderly),
    }
    return {
        key: phieu_b.fill(
            dataclasses.replace(base, household=household), tmp_path_factory.mktemp(key)
        )
        for key, household in households.items()
    }


def _send(phone, instance, code):
    original = re.search(rb"<hh_code>([^<]*)</hh_code>", instance.xml).group(1)
    xml = instance.xml.replace(original, code.encode()).replace(
        instance.instance_id.encode(), f"uuid:{uuid.uuid4()}".encode()
    )
    files = {name: path.read_bytes() for name, path in instance.files.items()}
    assert [r.status for r in phone.submit(xml, files)] == [201]


def _register(commune, village, code, statuses):
    household = Household(
        commune=commune, village=village, code=code, head_name=code, list_source=ListSource.ON_LIST
    )
    db.session.add(household)
    for year, status in statuses.items():
        db.session.add(HouseholdYearStatus(household=household, year=year, status=status))


@pytest.fixture
def world(app, seeded, publish_shipped, filled):
    publish_shipped("phieu_b_2022")
    with app.app_context(), write_transaction(db.session):
        x1 = db.session.scalar(select(Commune).where(Commune.code == "X1"))
        x2 = db.session.scalar(select(Commune).where(Commune.code == "X2"))
        assign_table(x1, "2022_2025", "rural", "demo_2022_2025_rural")
        for code, (statuses, _sent) in X1.items():
            _register(x1, x1.villages[0], code, statuses)
        for code, statuses in X2.items():
            _register(x2, x2.villages[0], code, statuses)
        create_user(
            username="canbo2",
            display_name="Cán bộ xã Hai",
            role=Role.OFFICER,
            password="matkhau-123",
            commune=x2,
        )
    phone = CollectClient(FlaskTransport(app), f"http://rasoat.test/key/{seeded.reviewer_token}")
    for code, (_statuses, sent) in X1.items():
        for key in sent:
            _send(phone, filled[key], code)
    _send(phone, filled["a"], OUTSIDE)
    return {"admin": _login(app, "admin1"), "officer": _login(app, "canbo1")}


def _report(app, username, year=2026, commune=None):
    from server.accounts.models import User
    from server.reports.services import report

    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.username == username))
        return report(user, year, commune)


def test_the_review_results_are_what_the_table_says(app, world):
    """The instances score as described (so the expected figures below hold)."""
    with app.app_context():
        scores = db.session.scalars(
            select(HouseholdScore).where(HouseholdScore.current.is_(True))
        ).all()
        by_code = {}
        for s in sorted(scores, key=lambda s: s.id):
            by_code[s.household_code] = s
    assert {c: s.category for c, s in by_code.items()} == {
        "X1-T01-0101": "ngheo",
        "X1-T01-0102": "ngheo",
        "X1-T01-0103": "ngheo",
        "X1-T01-0104": "khong_ngheo_khong_can_ngheo",
        "X1-T01-0105": "ngheo",
        "X1-T01-0107": "can_ngheo",
        "X1-T01-0108": "ngheo",
        "X1-T01-0109": "can_ngheo",
        "X1-T01-0110": "khong_ngheo_khong_can_ngheo",
        OUTSIDE: "ngheo",
    }
    deprived = {
        c: {i["code"] for i in s.result["indicators"] if i["outcome"] == "deprived"}
        for c, s in by_code.items()
    }
    assert deprived["X1-T01-0101"] == {"chat_luong_nha", "nha_tieu", "phuong_tien_tt"}
    assert deprived["X1-T01-0107"] == {"chat_luong_nha", "phuong_tien_tt"}
    assert deprived["X1-T01-0105"] == {
        "nguoi_phu_thuoc",
        "chat_luong_nha",
        "nha_tieu",
        "phuong_tien_tt",
    }
    assert by_code["X1-T01-0107"].result["inputs"]["members"][0]["ethnicity"] == "kinh"
    assert by_code["X1-T01-0101"].result["inputs"]["members"][0]["ethnicity"] == "ba_na"


def test_commune_and_province_figures_with_the_previous_year(app, world):
    found = _report(app, "admin1")
    assert [r.code for r in found.rows] == ["X1", "X2"]
    x1, x2 = found.rows
    c = x1.current
    assert (c.total, c.poor, c.near_poor) == (10, 4, 3)
    assert (c.rate(c.poor), c.rate(c.near_poor), c.rate(c.poor_or_near)) == (40.0, 30.0, 70.0)
    assert (c.official, c.review, c.no_verdict, c.no_result) == (1, 8, 0, 1)
    assert c.unconfirmed
    assert (c.minority_poor, c.minority_near_poor, c.ethnicity_unknown) == (4, 1, 0)
    assert (c.poor_without_labour, c.labour_unknown) == (1, 0)
    assert (c.outside_poor, c.outside_near_poor) == (1, 0)
    assert +c.transitions == Counter(
        {
            "can_ngheo_sang_ngheo": 1,  # 0102
            "ngheo_phat_sinh": 1,  # 0103
            "thoat_ngheo": 1,  # 0104
            "tai_ngheo": 1,  # 0105
            "can_ngheo_phat_sinh": 1,  # 0107
            "ngheo_sang_can_ngheo": 1,  # 0108 (recognised)
            "tai_can_ngheo": 1,  # 0109
            "thoat_can_ngheo": 1,  # 0110
        }
    )
    assert c.escaped_poverty == 2
    assert +c.deprived == Counter(
        {"chat_luong_nha": 7, "phuong_tien_tt": 7, "nha_tieu": 5, "nguoi_phu_thuoc": 1}
    )
    assert c.share(c.deprived["nha_tieu"]) == 71.43
    assert c.without_indicators == 0
    # 2025: recognised statuses only; no 2025 questionnaire, so no deprivation or ethnicity.
    v = x1.previous
    assert (v.total, v.poor, v.near_poor, v.official, v.review) == (10, 3, 3, 9, 0)
    assert v.rate(v.poor) == 30.0
    assert +v.transitions == Counter(
        {"ngheo_phat_sinh": 3, "can_ngheo_phat_sinh": 3, "thoat_ngheo": 1, "thoat_can_ngheo": 1}
    )
    assert (v.without_indicators, v.ethnicity_unknown, sum(v.deprived.values())) == (6, 6, 0)
    # X2: decided (recognised statuses), nothing scored.
    c2 = x2.current
    assert (c2.total, c2.poor, c2.near_poor, c2.official, c2.review, c2.no_result) == (
        5,
        2,
        1,
        4,
        0,
        1,
    )
    assert not c2.unconfirmed
    assert +c2.transitions == Counter(
        {"can_ngheo_sang_ngheo": 1, "can_ngheo_phat_sinh": 1, "thoat_ngheo": 1}
    )
    assert (c2.ethnicity_unknown, c2.labour_unknown, c2.without_indicators) == (3, 2, 3)
    assert (x2.previous.poor, x2.previous.near_poor) == (2, 1)
    # The province.
    t = found.total.current
    assert (t.total, t.poor, t.near_poor) == (15, 6, 4)
    assert (t.rate(t.poor), t.rate(t.near_poor), t.rate(t.poor_or_near)) == (40.0, 26.67, 66.67)
    assert t.deprived["chat_luong_nha"] == 7 and t.share(7) == 70.0
    assert (found.total.previous.poor, found.total.previous.near_poor) == (5, 4)
    assert [code for code, _name in found.indicators][:2] == ["viec_lam", "nguoi_phu_thuoc"]
    assert len(found.indicators) == 12


def test_review_transitions_agree_with_the_stored_ones(app, world):
    """For undecided households the report's transition is the one the scoring stored (0104,
    with two questionnaires, and 0108, recognised for 2026, are left out on both sides)."""
    with app.app_context():
        stored = Counter(
            s.transition
            for s in db.session.scalars(
                select(HouseholdScore).where(
                    HouseholdScore.current.is_(True),
                    HouseholdScore.household_code.in_(
                        [c for c in X1 if c not in ("X1-T01-0104", "X1-T01-0108")]
                    ),
                )
            )
        )
    found = _report(app, "canbo1").rows[0].current
    counted = +found.transitions
    counted["ngheo_sang_can_ngheo"] -= 1  # 0108
    counted["thoat_ngheo"] -= 1  # 0104
    assert +counted == +Counter({k: v for k, v in stored.items() if k != "van_ngheo"})


def test_officer_sees_only_their_commune(app, world):
    officer = world["officer"]
    page = officer.get("/bao-cao?year=2026").get_data(as_text=True)
    assert "Xã Một" in page and "Xã Hai" not in page
    assert officer.get("/bao-cao?year=2026&commune=X2").status_code == 404
    assert officer.get("/bao-cao.xlsx?year=2026&commune=X2").status_code == 404
    assert _report(app, "canbo1").total.current.total == 10
    # The officer's chart: one commune, four bars.
    chart = re.search(r'<svg[^>]*id="chart-communes".*?</svg>', page, re.S).group(0)
    assert chart.count('<rect class="bar"') == 4
    assert app.test_client().get("/bao-cao").status_code == 302  # to the login page


def test_admin_page_tables_charts_and_labels(app, world):
    admin = world["admin"]
    reply = admin.get("/bao-cao?year=2026")
    assert reply.status_code == 200
    page = reply.get_data(as_text=True)
    assert "Xã Một" in page and "Xã Hai" in page and "Tổng cộng" in page
    assert "kết quả rà soát, chưa quyết định" in page
    assert "trạng thái đã công nhận" in page
    assert "40,00\xa0%" in page and "26,67\xa0%" in page  # Vietnamese decimals
    assert "Suy luận, chưa đối chiếu văn bản" in page  # the inferred rules, said so
    assert 'href="/bao-cao"' in page  # the nav link
    communes = re.search(r'<svg[^>]*id="chart-communes".*?</svg>', page, re.S).group(0)
    assert communes.count('<rect class="bar"') == 8  # two communes × four bars
    assert '<title id="chart-communes-title">' in communes
    assert '<desc id="chart-communes-desc">' in communes
    assert 'role="img"' in communes
    indicators = re.search(r'<svg[^>]*id="chart-indicators".*?</svg>', page, re.S).group(0)
    assert indicators.count('<rect class="bar"') == 24  # twelve indicators × two years
    # Drawn by the server: no script in the page (the head's shared app.js only prints).
    assert "<script" not in page.split("</head>", 1)[1]
    one = admin.get("/bao-cao?year=2026&commune=X2").get_data(as_text=True)
    assert '<th scope="row">Xã Hai</th>' in one
    assert '<th scope="row">Xã Một</th>' not in one
    english = admin.get("/bao-cao?year=2026&lang=en").get_data(as_text=True)
    assert "review result, not yet decided" in english
    # Another year: its own figures, the year before as comparison.
    earlier = _report(app, "admin1", year=2025)
    assert (earlier.total.current.poor, earlier.total.current.review) == (5, 0)


def test_xlsx_has_the_five_sheets_with_the_figures(app, world):
    reply = world["admin"].get("/bao-cao.xlsx?year=2026")
    assert reply.status_code == 200
    assert reply.mimetype.endswith("spreadsheetml.sheet")
    assert "bao-cao-2026.xlsx" in reply.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(reply.data), read_only=True)
    assert book.sheetnames == [
        "Tổng hợp",
        "Thiếu hụt",
        "Diễn biến",
        "Phương pháp",
        "Hộ chưa có kết quả",
    ]

    def rows(name):
        return [list(r) for r in book[name].iter_rows(values_only=True)]

    summary = rows("Tổng hợp")
    header = next(r for r in summary if r and r[0] == "Mã xã")
    assert header[3:7] == [
        "Hộ nghèo 2026",
        "Tỷ lệ hộ nghèo 2026 (%)",
        "Hộ nghèo 2025",
        "Tỷ lệ hộ nghèo 2025 (%)",
    ]
    x1 = next(r for r in summary if r and r[0] == "X1")
    assert x1[1:11] == ["Xã Một", 10, 4, 40.0, 3, 30.0, 3, 30.0, 3, 30.0]
    assert x1[13] == 4  # ethnic-minority poor 2026
    assert x1[17] == 1  # poor without labour capacity 2026
    assert x1[-2] == "1 hộ theo trạng thái đã công nhận; 8 hộ theo kết quả rà soát, chưa quyết định"
    total = next(r for r in summary if len(r) > 1 and r[1] == "Tổng cộng")
    assert total[2:5] == [15, 6, 40.0]
    deprivations = rows("Thiếu hụt")
    line = next(r for r in deprivations if r and r[0] == "X1" and r[2] == "nha_tieu")
    assert line[4:9] == [5, 71.43, None, None, 0]  # no 2025 questionnaire: no figure
    transitions = rows("Diễn biến")
    header = next(r for r in transitions if r and r[0] == "Mã xã")
    x2 = next(r for r in transitions if r and r[0] == "X2")
    assert dict(zip(header, x2, strict=True))["Từ cận nghèo thành nghèo 2026"] == 1
    assert dict(zip(header, x2, strict=True))["Thoát nghèo 2026"] == 1
    # Every X1 result of a registry household is decided by the demo B1 table (no measured
    # income): nine households (0106 has none; the household outside the registry is left out).
    methods = rows("Phương pháp")
    assert next(r for r in methods if r and r[0] == "X1")[:7] == ["X1", "Xã Một", 9, 9, 0, 0, 0]
    assert next(r for r in methods if r and r[0] == "X2")[:7] == ["X2", "Xã Hai", 0, 0, 0, 0, 0]
    officer = world["officer"].get("/bao-cao.xlsx?year=2026")
    book = load_workbook(io.BytesIO(officer.data), read_only=True)
    codes = {r[0] for r in book["Tổng hợp"].iter_rows(values_only=True) if r and r[0]}
    assert "X1" in codes and "X2" not in codes


def test_phieu_b_over_phieu_a_and_rejected_submissions_left_out(app, world):
    """A later Phiếu A "stop" does not replace a household's Phiếu B; alone it is the
    household's result (neither poor nor near-poor); a rejected questionnaire does not count."""
    with app.app_context(), write_transaction(db.session):
        b = db.session.scalar(
            select(HouseholdScore).where(HouseholdScore.household_code == "X1-T01-0101")
        )
        for code in ("X1-T01-0101", "X1-T01-0106"):
            submission = Submission(
                form_id=b.submission.form_id,
                instance_id=f"uuid:phieu-a-{code}",
                commune_id=b.submission.commune_id,
                village_id=b.submission.village_id,
                submitter_id=b.submission.submitter_id,
            )
            db.session.add(submission)
            db.session.flush()
            version = SubmissionVersion(
                submission_id=submission.id,
                form_id=submission.form_id,
                form_version_id=b.submission.current_version.form_version_id,
                instance_id=submission.instance_id,
                xml_sha256="0" * 64,
                fields={},
                submitter_id=submission.submitter_id,
            )
            db.session.add(version)
            db.session.flush()
            db.session.add(
                HouseholdScore(
                    submission_id=submission.id,
                    submission_version_id=version.id,
                    household_code=code,
                    standard="2022_2025",
                    year=2026,
                    mapping="phieu_a",
                    category="dung_o_phieu_a",
                    score_b=0,
                    deprivations=0,
                    undetermined=0,
                    provisional=True,
                    result={"indicators": [], "inputs": {"members": []}},
                    inputs_sha256="0" * 64,
                )
            )
        rejected = db.session.scalar(
            select(Submission)
            .join(HouseholdScore, HouseholdScore.submission_id == Submission.id)
            .where(HouseholdScore.household_code == "X1-T01-0103")
        )
        rejected.review_state = "rejected"
    c = _report(app, "canbo1").rows[0].current
    assert (c.poor, c.near_poor, c.review, c.no_result) == (3, 3, 8, 1)  # 0103 out, 0106 in
    assert c.transitions["ngheo_phat_sinh"] == 0  # 0103
    assert c.transitions["thoat_can_ngheo"] == 2  # 0110, and 0106 stopped at Phiếu A
    assert c.deprived["nha_tieu"] == 4 and c.poor_or_near == 6


def test_years_without_data_and_a_bad_year(app, world):
    admin = world["admin"]
    page = admin.get("/bao-cao?year=2030").get_data(as_text=True)
    assert "năm 2030" in page and "—" in page  # 2030: nothing yet, the 2027–2030 indicators
    assert "Xử lý rác thải sinh hoạt" in page
    found = _report(app, "admin1", year=2030)
    assert found.standard == "2027_2030" and found.total.current.poor == 0
    default = admin.get("/bao-cao?year=abc").get_data(as_text=True)
    assert "năm 2026" in default  # the latest year with data
