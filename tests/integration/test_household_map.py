"""The household map (``/xa/ban-do`` and its JSON): exactly the households in the account's scope
with a GPS point, every other one listed with the reason, verdicts from the recognised status or
the review result, scope per role (two communes, another province, village heads), and the tile
server allowed in the page's Content-Security-Policy only when one is configured.

The commune is the procedure's (``village`` fixture): four registry households of village T01
whose Phiếu B were filled by the ODK Web Forms engine — three with the point
"14.3545 107.9876 620 4.5", X1-T01-0104 without one — and sent like Collect."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from sqlalchemy import select

from server import create_app
from server.db import write_transaction
from server.extensions import db
from server.geography.models import Commune
from server.households.models import Household, HouseholdStatus, HouseholdYearStatus, ListSource
from server.i18n import vietnam_today
from server.maps.services import geopoint_path, parse_point
from server.questionnaires.models import Form, FormVersion
from server.security_headers import CONTENT_SECURITY_POLICY
from server.submissions.models import Submission
from tests.collect_client import CollectClient, FlaskTransport
from tests.integration.procedure import (
    add_national_admin,
    add_other_province,
    add_village_heads,
    login,
)

POINT = {"lat": 14.3545, "lon": 107.9876, "accuracy": 4.5}
YEAR = vietnam_today().year  # the questionnaires' review date is the day they were filled


def send_with_point(app, seeded, instance, code: str, gps: str | None) -> None:
    """The filled Phiếu B as a new submission for household ``code`` with the GPS answer
    ``gps`` (None: left unanswered)."""
    original = re.search(rb"<hh_code>([^<]*)</hh_code>", instance.xml).group(1)
    xml = instance.xml.replace(original, code.encode()).replace(
        instance.instance_id.encode(), f"uuid:{uuid.uuid4()}".encode()
    )
    answer = b"<gps/>" if gps is None else f"<gps>{gps}</gps>".encode()
    xml, replaced = re.subn(rb"<gps>[^<]*</gps>|<gps\s*/>", answer, xml)
    assert replaced == 1
    phone = CollectClient(FlaskTransport(app), f"http://rasoat.test/key/{seeded.reviewer_token}")
    files = {name: path.read_bytes() for name, path in instance.files.items()}
    assert [r.status for r in phone.submit(xml, files)] == [201]


def add_household(app, code: str, head: str, village: str = "T02", commune: str = "X1") -> None:
    with app.app_context(), write_transaction(db.session):
        found = db.session.scalar(select(Commune).where(Commune.code == commune))
        db.session.add(
            Household(
                commune=found,
                village=next(v for v in found.villages if v.code == village),
                code=code,
                head_name=head,
                list_source=ListSource.ON_LIST,
            )
        )


def map_of(browser, query: str = "") -> dict:
    reply = browser.get(f"/xa/ban-do.json{query}")
    assert reply.status_code == 200, reply.status_code
    return reply.get_json()


def placed(found: dict) -> dict[str, dict]:
    return {h["code"]: h for h in found["households"]}


def unplaced(found: dict) -> dict[str, str]:
    return {h["code"]: h["reason"] for h in found["without_point"]}


def test_the_officer_sees_every_household_with_its_point_and_those_without_one(app, village):
    officer = village["officer"]
    found = map_of(officer)
    assert found["year"] == YEAR
    assert found["commune"] == {"code": "X1", "name": "Xã Một"}
    households = placed(found)
    assert set(households) == {"X1-T01-0101", "X1-T01-0102", "X1-T01-0103"}
    for code, household in households.items():
        assert {k: household[k] for k in POINT} == POINT, code
        assert household["village"] == "T01" and household["village_name"] == "Thôn Một"
        assert household["registered"] is True and household["decided"] is False
        assert re.fullmatch(r"/xa/phieu/\d+", household["submission_url"])
    assert households["X1-T01-0101"]["head_name"] == "Nguyễn Văn Lâm"  # the registry's name
    # The three have the same answers, so the same verdict: poor or near-poor (the demo table).
    verdicts = {h["verdict"] for h in households.values()}
    assert len(verdicts) == 1 and verdicts <= {"poor", "near_poor"}
    assert unplaced(found) == {"X1-T01-0104": "no_point"}
    assert found["without_point_count"] == 1
    counts = {v["key"]: v["count"] for v in found["verdicts"]}
    assert list(counts) == ["poor", "near_poor", "neither", "undecided"]
    assert sum(counts.values()) == 3 and counts[verdicts.pop()] == 3
    # Each link opens that household's questionnaire.
    for code, household in households.items():
        page = officer.get(household["submission_url"]).get_data(as_text=True)
        assert code in page
    # The page says the same, in words.
    page = officer.get("/xa/ban-do").get_data(as_text=True)
    assert "3 hộ có tọa độ trên bản đồ" in page and "1 hộ chưa có tọa độ" in page
    assert "Siu H&#39;Nga" in page and "Phiếu không có tọa độ" in page
    block = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', page, re.S)
    assert block and "<" not in block.group(1)  # tojson escapes markup: no way out of the block
    data = json.loads(block.group(1))  # the script's data: the households on the map only
    assert [h["code"] for h in data["households"]] == [h["code"] for h in found["households"]]
    assert "without_point" not in data and data["verdicts"] == found["verdicts"]


def test_reasons_verdicts_and_households_outside_the_registry(
    app, seeded, village, procedure_instances
):
    instances = procedure_instances["a_three_deprivations"]
    add_household(app, "X1-T02-0201", "Đinh Văn Chưa")  # no questionnaire this year
    add_household(app, "X1-T02-0202", "Rơ Châm Lý")
    send_with_point(app, seeded, instances, "X1-T02-0202", "not a point")  # unreadable
    send_with_point(app, seeded, instances, "X1-T01-0999", "14.40 107.95 600 0")  # not registered
    rejected_ids = _instance_ids_of(app, "X1-T01-0103")
    with app.app_context(), write_transaction(db.session):
        # The commune recognised X1-T01-0101 as near-poor for the year: that is its verdict.
        household = db.session.scalar(select(Household).where(Household.code == "X1-T01-0101"))
        db.session.add(
            HouseholdYearStatus(household=household, year=YEAR, status=HouseholdStatus.NEAR_POOR)
        )
        # A rejected questionnaire does not count: X1-T01-0103 has none left this year.
        rejected = db.session.scalar(
            select(Submission).where(Submission.instance_id.in_(rejected_ids)).limit(1)
        )
        rejected.review_state = "rejected"
    found = map_of(village["officer"])
    households = placed(found)
    assert set(households) == {"X1-T01-0101", "X1-T01-0102", "X1-T01-0999"}
    assert households["X1-T01-0101"]["verdict"] == "near_poor"
    assert households["X1-T01-0101"]["decided"] is True
    outside = households["X1-T01-0999"]
    assert outside["registered"] is False and outside["village"] == "T01"
    assert outside["head_name"] == "A Thút"  # the roster's head ("chu_ho")
    assert (outside["lat"], outside["lon"], outside["accuracy"]) == (14.40, 107.95, 0.0)
    assert unplaced(found) == {
        "X1-T01-0103": "no_questionnaire",
        "X1-T01-0104": "no_point",
        "X1-T02-0201": "no_questionnaire",
        "X1-T02-0202": "bad_point",
    }
    without = {h["code"]: h for h in found["without_point"]}
    assert without["X1-T02-0201"]["verdict"] == "undecided"
    assert without["X1-T02-0201"]["submission_url"] is None
    assert without["X1-T02-0202"]["reason_label"] == "Tọa độ trong phiếu không hợp lệ"
    assert found["without_point_count"] == 4
    # One village: its households only, outside the registry too.
    t02 = map_of(village["officer"], "?village=T02")
    assert placed(t02) == {} and set(unplaced(t02)) == {"X1-T02-0201", "X1-T02-0202"}
    t01 = map_of(village["officer"], "?village=T01")
    assert set(placed(t01)) == {"X1-T01-0101", "X1-T01-0102", "X1-T01-0999"}
    assert set(unplaced(t01)) == {"X1-T01-0103", "X1-T01-0104"}
    # Another year: nothing reviewed, every registry household listed without a point.
    earlier = map_of(village["officer"], f"?year={YEAR - 1}")
    assert earlier["households"] == [] and earlier["without_point_count"] == 6


def _instance_ids_of(app, code: str) -> list[str]:
    from server.scoring.models import HouseholdScore

    with app.app_context():
        return list(
            db.session.scalars(
                select(Submission.instance_id)
                .join(HouseholdScore, HouseholdScore.submission_id == Submission.id)
                .where(HouseholdScore.household_code == code)
            )
        )


def test_scope_per_role(app, seeded, village):
    add_household(app, "X1-T02-0201", "Đinh Văn Chưa")
    add_village_heads(app, {"truongthon-t01": "T01", "truongthon-t02": "T02"})
    add_village_heads(app, {"truongthon-x2": "T01"}, commune="X2")
    add_other_province(app, T01="Thôn Một Y")
    add_household(app, "Y1-T01-0001", "Người Tỉnh Khác", village="T01", commune="Y1")
    everything = {"X1-T01-0101", "X1-T01-0102", "X1-T01-0103"}

    # The province administrator: one commune at a time, the first by default.
    admin = login(app, "admin1")
    assert set(placed(map_of(admin))) == everything
    assert set(placed(map_of(admin, "?commune=X1"))) == everything
    x2 = map_of(admin, "?commune=X2")
    assert x2["commune"]["code"] == "X2" and x2["households"] == x2["without_point"] == []
    page = admin.get("/xa/ban-do").get_data(as_text=True)
    assert 'name="commune"' in page and "Xã Hai" in page  # the choice of commune
    # Another commune's officer, another province's administrator and officer see nothing of X1.
    for username in ("canbo2", "truongthon-x2", "admin2"):
        browser = login(app, username)
        own = map_of(browser)
        assert own["commune"]["code"] != "X1"
        assert not set(placed(own)) & everything
        assert not {h["code"] for h in own["without_point"]} & (everything | {"X1-T02-0201"})
        for url in ("/xa/ban-do?commune=X1", "/xa/ban-do.json?commune=X1"):
            assert browser.get(url).status_code == 404, (username, url)
    assert unplaced(map_of(login(app, "admin2"))) == {"Y1-T01-0001": "no_questionnaire"}
    assert login(app, "canbo1").get("/xa/ban-do?commune=Y1").status_code == 404
    # Village heads: their villages only; another village is not found.
    t01 = login(app, "truongthon-t01")
    assert set(placed(map_of(t01))) == everything
    # X1-T01-0104's questionnaire was sent from village T02: not theirs to see (as on the
    # review list), so to them the household has none — listed all the same.
    assert unplaced(map_of(t01)) == {"X1-T01-0104": "no_questionnaire"}
    assert t01.get("/xa/ban-do.json?village=T02").status_code == 404
    t02 = login(app, "truongthon-t02")
    assert placed(map_of(t02)) == {}
    assert unplaced(map_of(t02)) == {"X1-T02-0201": "no_questionnaire"}
    assert t02.get("/xa/ban-do?village=T01").status_code == 404
    # A national administrator manages no commune: no map.
    add_national_admin(app)
    assert login(app, "quocgia").get("/xa/ban-do").status_code == 403
    assert app.test_client().get("/xa/ban-do").status_code == 302  # to the login page


def test_the_tile_server_is_allowed_only_on_the_map_page_and_only_when_configured(app, village):
    officer = village["officer"]
    reply = officer.get("/xa/ban-do")
    assert reply.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "data-tile-url" not in reply.get_data(as_text=True)

    app.config["MAP_TILE_URL"] = "https://{s}.tile.example.org/{z}/{x}/{y}.png"
    app.config["MAP_TILE_ATTRIBUTION"] = "© Bản đồ Ví dụ"
    reply = officer.get("/xa/ban-do")
    policy = dict(p.split(" ", 1) for p in reply.headers["Content-Security-Policy"].split("; "))
    # data: for Leaflet's way of cancelling a tile (an inline empty GIF as its src)
    assert policy["img-src"] == "'self' data: https://*.tile.example.org"
    assert {k: v for k, v in policy.items() if k != "img-src"} == {
        k: v
        for k, v in (p.split(" ", 1) for p in CONTENT_SECURITY_POLICY.split("; "))
        if k != "img-src"
    }
    page = reply.get_data(as_text=True)
    assert 'data-tile-url="https://{s}.tile.example.org/{z}/{x}/{y}.png"' in page
    assert 'data-tile-attribution="© Bản đồ Ví dụ"' in page
    # Every other page keeps the strict policy.
    for url in ("/xa/phieu", "/xa/ban-do.json", "/bao-cao"):
        assert officer.get(url).headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY

    app.config["MAP_TILE_URL"] = "http://127.0.0.1:8081/tiles/{z}/{x}/{y}.png"
    reply = officer.get("/xa/ban-do")
    assert "img-src 'self' data: http://127.0.0.1:8081;" in reply.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "url",
    [
        "https://tile.example.org/tiles.png",  # no {z}/{x}/{y}
        "ftp://tile.example.org/{z}/{x}/{y}.png",
        "https://tile-{s}.example.org/{z}/{x}/{y}.png",  # {s} inside a label: no CSP source
        "https://user@tile.example.org/{z}/{x}/{y}.png",
        "https://tile.example.org/{z}/{x}/{y}.png?k={apikey}",
        "javascript:alert(1)//{z}/{x}/{y}",
    ],
)
def test_a_tile_setting_that_cannot_work_stops_the_server_with_the_reason(
    instance_path, sqlite_url, url
):
    with pytest.raises(RuntimeError, match="RASOAT_MAP_TILE_URL"):
        create_app(
            {"DATABASE_URL": sqlite_url, "INSTANCE_PATH": str(instance_path)}
            | {"MAP_TILE_URL": url}
        )


def test_geopoints_are_read_as_positions_on_earth():
    point = parse_point("14.3545 107.9876 620 4.5")
    assert (point.lat, point.lon, point.accuracy) == (14.3545, 107.9876, 4.5)
    assert parse_point("14.3545 107.9876").accuracy is None
    assert parse_point("-33.9 151.2 0 -1").accuracy is None  # no accuracy rather than a wrong one
    for bad in ("", "abc", "14.3", "91 10 0 1", "10 181 0 1", "nan 10", "10 inf"):
        assert parse_point(bad) is None, bad


def test_the_point_is_the_first_geopoint_outside_repeats(app, village):
    with app.app_context():
        version = db.session.scalar(
            select(FormVersion)
            .join(Form, Form.id == FormVersion.form_id)
            .where(Form.xml_form_id == "phieu_b_2022")
        )
        assert geopoint_path(version) == "general/gps"
        version.fields = [
            {"path": "/data/members/where", "type": "geopoint"},
            {"path": "/data/place/gps", "type": "geopoint"},
        ]
        version.repeats = ["/data/members"]
        assert geopoint_path(version) == "place/gps"
        db.session.rollback()


def _list_rows(page: str) -> dict[str, list[str]]:
    """The page's list of the households on the map: code → its cells' text and link."""
    from lxml import html as lxml_html

    tree = lxml_html.fromstring(page)
    rows = {}
    for row in tree.xpath("//h2[@id='danh-sach-ho']/following-sibling::div[1]//tbody/tr"):
        cells = [" ".join(td.text_content().split()) for td in row.xpath("td")]
        rows[cells[1]] = [*cells, *row.xpath(".//a/@href")]
    return rows


def test_the_page_lists_every_household_on_the_map_in_text_with_its_link(app, seeded, village):
    """Without a mouse (or without JavaScript) the map's households are a table on the page:
    village, code, head, verdict, coordinates, each code linking to the household's page — the
    account's scope, as the map's."""
    officer = village["officer"]
    page = officer.get("/xa/ban-do").get_data(as_text=True)
    assert "Đến danh sách hộ" in page and 'href="#danh-sach-ho"' in page
    assert "Danh sách các hộ, có và chưa có tọa độ, ở bên dưới." in page  # the no-script note
    rows = _list_rows(page)
    found = placed(map_of(officer))
    assert set(rows) == set(found) == {"X1-T01-0101", "X1-T01-0102", "X1-T01-0103"}
    for code, (village_name, shown, head, verdict, where, link) in rows.items():
        assert shown == code and village_name == "Thôn Một"
        assert head == found[code]["head_name"]
        assert verdict == found[code]["verdict_label"]
        assert where == "14,35450°B; 107,98760°Đ"
        assert link == f"/xa/ho/{code}"
        assert code in officer.get(link).get_data(as_text=True)
    assert rows["X1-T01-0101"][2] == "Nguyễn Văn Lâm"
    # Scope: another commune's officer and another province's administrator list none of them.
    add_village_heads(app, {"truongthon-t02": "T02"})
    add_other_province(app, T01="Thôn Một Y")
    for username in ("canbo2", "admin2", "truongthon-t02"):
        other = _list_rows(login(app, username).get("/xa/ban-do").get_data(as_text=True))
        assert not set(other) & set(rows), username
    # The province administrator sees the commune's list when looking at it.
    assert set(
        _list_rows(login(app, "admin1").get("/xa/ban-do?commune=X1").get_data(as_text=True))
    ) == set(rows)
