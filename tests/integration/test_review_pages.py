"""Commune staff reviewing submissions in the browser pages (Flask test client, CSRF on):
lists and filters, the detail page with labels, photo, location and the score explanation,
review states with comments, re-survey, bulk actions, history and audit — and an officer of
another commune seeing nothing of it."""

from __future__ import annotations

import html
import re
import uuid

import pytest
from sqlalchemy import select

from server.accounts.models import Role, User
from server.accounts.services import create_user
from server.audit.models import AuditEvent
from server.db import write_transaction
from server.extensions import db
from server.geography.models import Commune
from server.households.models import (
    Household,
    HouseholdStatus,
    HouseholdYearStatus,
    ListSource,
)
from server.households.services import RESURVEY_MARK, households_csv
from server.scoring.b1_store import assign_table
from server.submissions.models import Submission
from tests.collect_client import CollectClient, FlaskTransport
from tests.engines import webforms
from tests.forms import test_phieu_b as phieu_b
from tests.instances import demo_instance

CASE = "a_three_deprivations"  # household X1-T01-0001, village T01


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _login(app, username, password="matkhau-123"):
    browser = app.test_client()
    token = _csrf(browser.get("/login").get_data(as_text=True))
    reply = browser.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert reply.status_code == 302, reply.get_data(as_text=True)
    return browser


def _post(browser, url, data):
    page = browser.get("/xa/phieu").get_data(as_text=True)
    return browser.post(url, data={**data, "csrf_token": _csrf(page)})


@pytest.fixture(scope="module")
def filled_b(tmp_path_factory):
    webforms.ensure_installed()
    return phieu_b.fill(phieu_b.CASES[CASE], tmp_path_factory.mktemp("b"))


def _phone(app, seeded):
    return CollectClient(FlaskTransport(app), f"http://rasoat.test/key/{seeded.reviewer_token}")


def _submission_id(app, instance_id):
    with app.app_context():
        return db.session.scalar(select(Submission.id).where(Submission.instance_id == instance_id))


@pytest.fixture
def world(app, seeded, publish_shipped, filled_b):
    """X1 with a scored Phiếu B (demo B1 table) and two demo-form submissions; X2 with one
    submission and its own officer."""
    publish_shipped("phieu_b_2022")
    with app.app_context(), write_transaction(db.session):
        x1 = db.session.scalar(select(Commune).where(Commune.code == "X1"))
        x2 = db.session.scalar(select(Commune).where(Commune.code == "X2"))
        assign_table(x1, "2022_2025", "rural", "demo_2022_2025_rural")
        village = next(v for v in x1.villages if v.code == "T01")
        household = Household(
            commune=x1,
            village=village,
            code="X1-T01-0001",
            head_name="A Thút",
            list_source=ListSource.ON_LIST,
        )
        db.session.add(household)
        db.session.add(
            HouseholdYearStatus(household=household, year=2025, status=HouseholdStatus.POOR)
        )
        create_user(
            username="canbo2",
            display_name="Cán bộ xã Hai",
            role=Role.OFFICER,
            password="matkhau-123",
            commune=x2,
        )
    phone = _phone(app, seeded)
    files = {name: path.read_bytes() for name, path in filled_b.files.items()}
    assert [r.status for r in phone.submit(filled_b.xml, files)] == [201]
    demo_ids = []
    for village in ("T01", "T02"):
        instance_id = f"uuid:{uuid.uuid4()}"
        reply = phone.submit(demo_instance(instance_id, village=village, photo=None), {})
        assert reply[-1].status == 201
        demo_ids.append(_submission_id(app, instance_id))
    other = CollectClient(
        FlaskTransport(app), "http://rasoat.test", username="rsv2", password="matkhau-123"
    )
    other_xml = (
        '<data id="other_form" version="1"><note_text>xã Hai</note_text>'
        f"<meta><instanceID>uuid:{uuid.uuid4()}</instanceID></meta></data>"
    ).encode()
    assert other.submit(other_xml, {})[-1].status == 201
    with app.app_context():
        x2_id = db.session.scalar(select(Submission.id).join(Commune).where(Commune.code == "X2"))
    return {
        "b": _submission_id(app, filled_b.instance_id),
        "demo": demo_ids,
        "x2": x2_id,
    }


def test_list_filters(app, world):
    officer = _login(app, "canbo1")
    page = officer.get("/xa/phieu").get_data(as_text=True)
    assert f"#{world['b']}" in page and f"#{world['demo'][0]}" in page
    assert f"#{world['x2']}" not in page  # another commune's
    assert "Phiếu đã nhận" in page and "(3)" in page

    def shown(query):
        html = officer.get(f"/xa/phieu?{query}").get_data(as_text=True)
        return {int(i) for i in re.findall(r'name="ids" value="(\d+)"', html)}

    assert shown("form=phieu_b_2022") == {world["b"]}
    assert shown("village=T02") == {world["demo"][1]}
    assert shown("category=ngheo") | shown("category=can_ngheo") | shown(
        "category=khong_ngheo_khong_can_ngheo"
    ) == {world["b"]}
    assert shown("state=received") == {world["b"], *world["demo"]}
    assert shown("state=approved") == set()
    assert shown("reviewer=rsv1") == {world["b"], *world["demo"]}
    assert shown("reviewer=rsv.t02") == set()
    assert shown("date_from=2000-01-01&date_to=2000-01-02") == set()
    assert len(shown("date_from=2000-01-01")) == 3
    assert shown("commune=X2") == set()  # outside the officer's scope: nothing


def test_detail_shows_labels_location_photo_and_the_labelled_score(app, world, filled_b):
    officer = _login(app, "canbo1")
    reply = officer.get(f"/xa/phieu/{world['b']}")
    assert reply.status_code == 200
    page = reply.get_data(as_text=True)
    assert "Tổng diện tích ở của hộ (m²)" in page  # the question's label, not its name
    assert "A Thút" in page  # a member's answer inside the repeat
    assert "14.354500, 107.987600" in page and "geo:14.3545,107.9876" in page
    # The score, its explanation and the demo table's label.
    assert "minh họa — không phải số liệu chính thức" in page
    assert "Điểm B (B2)" in page and "Thiếu hụt" in page
    assert "Hộ nghèo" in page or "Hộ cận nghèo" in page or "Không nghèo" in page
    # Photos are served to staff from the stored blob.
    images = re.findall(r'<img src="([^"]+)"', page)
    assert images
    image = officer.get(images[0])
    assert image.status_code == 200
    assert image.data in [p.read_bytes() for p in filled_b.files.values()]


def _answer_labels(page: str) -> list[str]:
    table = page.split('<table class="answers">', 1)[1].split("</table>", 1)[0]
    return [html.unescape(t) for t in re.findall(r'<th[^>]*scope="row"[^>]*>([^<]*)</th>', table)]


def test_answers_leave_out_calculated_fields_unless_asked_and_name_each_member(app, world):
    officer = _login(app, "canbo1")
    page = officer.get(f"/xa/phieu/{world['b']}").get_data(as_text=True)
    asked = _answer_labels(page)
    assert "Tổng diện tích ở của hộ (m²)" in asked and "Họ và tên" in asked
    for internal in ("is_head", "d_bhyt", "qual_rank", "member_no", "b2_count", "deviceid"):
        assert internal not in asked, internal
    # Member headings show the member's number and name, never an empty placeholder.
    headings = re.findall(r'<th colspan="2" scope="rowgroup"[^>]*>([^<]*)</th>', page)
    assert "Người thứ 1: thông tin chung" in headings
    assert any(re.fullmatch(r"Người thứ 1 — A Thút: việc làm \(từ 15 tuổi\)", h) for h in headings)
    assert not any("…" in h or re.search(r"—\s*[:(]|—$", h) for h in headings)
    # A link (no script) shows them on request, and another hides them again.
    link = re.search(r'<a href="([^"]*tinh-toan=1[^"]*)">Hiện các trường tự tính</a>', page)
    assert link
    full = officer.get(html.unescape(link.group(1))).get_data(as_text=True)
    everything = _answer_labels(full)
    assert {"is_head", "d_bhyt", "qual_rank"} <= set(everything)
    assert set(asked) <= set(everything)
    assert "Ẩn các trường tự tính" in full


def test_state_changes_comments_history_and_audit(app, world):
    officer = _login(app, "canbo1")
    url = f"/xa/phieu/{world['b']}"
    # "Có vấn đề" needs a reason: refused, nothing changes, the page comes back with the
    # choice still made.
    reply = _post(officer, f"{url}/trang-thai", {"state": "has_issues", "comment": " "})
    assert reply.status_code == 400
    page = reply.get_data(as_text=True)
    assert "Cần ghi lý do" in page
    assert 'id="review-state">Đã nhận<' in page
    assert re.search(r'value="has_issues"\s+checked', page)
    assert "Cần ghi lý do" not in officer.get(url).get_data(as_text=True)
    _post(officer, f"{url}/trang-thai", {"state": "has_issues", "comment": "Thiếu ảnh nhà"})
    _post(officer, f"{url}/nhan-xet", {"comment": "Đã gọi rà soát viên"})
    _post(officer, f"{url}/trang-thai", {"state": "approved", "comment": ""})
    page = officer.get(url).get_data(as_text=True)
    assert 'id="review-state">Đã duyệt<' in page
    history = page[page.index('class="history"') :]
    assert history.index("gửi phiếu") < history.index("Thiếu ảnh nhà")
    assert history.index("Thiếu ảnh nhà") < history.index("Đã gọi rà soát viên")
    assert "“Có vấn đề” → “Đã duyệt”" in history
    # An unknown state is refused.
    reply = _post(officer, f"{url}/trang-thai", {"state": "received", "comment": "x"})
    assert reply.status_code == 400
    assert "Trạng thái không hợp lệ" in reply.get_data(as_text=True)
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.target_type == "submission").order_by(AuditEvent.id)
        ).all()
        assert [(e.action, e.before, e.after) for e in events] == [
            (
                "submission.review_state",
                {"review_state": "received"},
                {"review_state": "has_issues"},
            ),
            ("submission.comment", None, None),
            (
                "submission.review_state",
                {"review_state": "has_issues"},
                {"review_state": "approved"},
            ),
        ]
        assert {e.actor.username for e in events} == {"canbo1"}
        assert events[0].note == "Thiếu ảnh nhà"
        assert events[0].commune_id == db.session.scalar(
            select(Commune.id).where(Commune.code == "X1")
        )


def test_resurvey_flags_the_household_for_the_reviewer_until_it_is_surveyed_again(
    app, seeded, world, filled_b
):
    officer = _login(app, "canbo1")
    url = f"/xa/phieu/{world['b']}"
    _post(officer, f"{url}/ra-soat-lai", {"reason": "Diện tích nhà ghi sai"})
    page = officer.get(url).get_data(as_text=True)
    assert 'id="review-state">Cần rà soát lại<' in page and "đang chờ rà soát lại" in page
    with app.app_context():
        reviewer = db.session.scalar(select(User).where(User.username == "rsv1"))
        listed = households_csv(reviewer).decode()
    line = next(row for row in listed.splitlines() if row.startswith("X1-T01-0001,"))
    assert RESURVEY_MARK + ": Diện tích nhà ghi sai] X1-T01-0001" in line
    # The reviewer surveys the household again: a new questionnaire clears the flag.
    again = filled_b.xml.replace(filled_b.instance_id.encode(), f"uuid:{uuid.uuid4()}".encode())
    files = {name: path.read_bytes() for name, path in filled_b.files.items()}
    assert [r.status for r in _phone(app, seeded).submit(again, files)] == [201]
    with app.app_context():
        household = db.session.scalar(select(Household).where(Household.code == "X1-T01-0001"))
        assert household.resurvey_requested_at is None and household.resurvey_reason is None
        listed = households_csv(reviewer).decode()
    assert RESURVEY_MARK not in listed


def test_bulk_action_applies_to_the_selected_in_scope_submissions_only(app, world):
    officer = _login(app, "canbo1")
    reply = _post(
        officer, "/xa/phieu/hang-loat", {"ids": world["demo"], "state": "approved", "comment": ""}
    )
    assert reply.status_code == 302
    assert "Đã cập nhật 2 phiếu" in officer.get("/xa/phieu").get_data(as_text=True)
    # One id of another commune in the selection (only a forged form can send one): 404, and
    # nothing at all is changed.
    reply = _post(
        officer,
        "/xa/phieu/hang-loat",
        {"ids": [world["b"], world["x2"]], "state": "rejected", "comment": "sai"},
    )
    assert reply.status_code == 404
    with app.app_context():
        states = dict(db.session.execute(select(Submission.id, Submission.review_state)).all())
    assert states[world["b"]] == "received" and states[world["x2"]] == "received"
    assert states[world["demo"][0]] == states[world["demo"][1]] == "approved"


def test_officer_of_another_commune_sees_nothing_on_any_route(app, world):
    other = _login(app, "canbo2")
    page = other.get("/xa/phieu").get_data(as_text=True)
    assert f"#{world['x2']}" in page and f"#{world['b']}" not in page
    target = world["b"]
    assert other.get(f"/xa/phieu/{target}").status_code == 404
    assert other.get(f"/xa/phieu/{target}/tep/nha.jpg").status_code == 404
    for action, data in [
        ("trang-thai", {"state": "approved"}),
        ("nhan-xet", {"comment": "x"}),
        ("ra-soat-lai", {"reason": "x"}),
    ]:
        assert _post(other, f"/xa/phieu/{target}/{action}", data).status_code == 404
    _post(other, "/xa/phieu/hang-loat", {"ids": [target], "state": "approved"})
    with app.app_context():
        assert db.session.get(Submission, target).review_state == "received"
        assert (
            db.session.scalars(
                select(AuditEvent).where(AuditEvent.target_type == "submission")
            ).all()
            == []
        )
    # The province administrator sees both communes.
    admin = _login(app, "admin1")
    page = admin.get("/xa/phieu").get_data(as_text=True)
    assert f"#{world['x2']}" in page and f"#{world['b']}" in page


def test_reviewers_and_anonymous_users_cannot_open_the_pages(app, world):
    anonymous = app.test_client()
    reply = anonymous.get(f"/xa/phieu/{world['b']}")
    assert reply.status_code == 302 and "/login" in reply.headers["Location"]


def test_pages_in_english(app, world):
    officer = _login(app, "canbo1")
    page = officer.get("/xa/phieu?lang=en").get_data(as_text=True)
    assert "Received submissions" in page and "Phiếu đã nhận" not in page
    page = officer.get(f"/xa/phieu/{world['b']}").get_data(as_text=True)
    assert "Total living floor area (m²)" in page  # the form's English labels
    assert "Review" in page


def test_list_pages_take_any_page_number(app, world):
    officer = _login(app, "canbo1")
    for url in ("/xa/phieu", "/admin/nhat-ky"):
        browser = officer if url.startswith("/xa") else _login(app, "admin1")
        for raw, shown in (("x", "Trang 1 /"), ("-3", "Trang 1 /"), ("9" * 30, "Trang 1000000 /")):
            reply = browser.get(f"{url}?page={raw}")
            assert reply.status_code == 200, (url, raw)
            assert shown in reply.get_data(as_text=True), (url, raw)
