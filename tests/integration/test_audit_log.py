"""The audit log: every state-changing operation writes exactly one event (who, what,
before/after) in its own transaction — through the JSON API (HTTP authentication), the
administrators' pages (login session, CSRF) and the command line (the system) — and
administrators read it, filtered and scoped to their province, on ``/admin/nhat-ky`` and as a
streamed CSV file."""

from __future__ import annotations

import base64
import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from server.accounts.models import User
from server.accounts.services import set_password
from server.audit.models import AuditEvent
from server.audit.pages import ACTION_LABELS
from server.db import write_transaction
from server.extensions import db
from server.geography.models import Commune
from server.households.services import import_households
from server.i18n import vietnam_today
from server.questionnaires.services import assign_form, get_form
from tests.integration.procedure import add_national_admin, add_other_province
from tests.xlsforms import household_form

HTTPS = "https://rasoat.test"
DEMO_TABLE = "demo_2022_2025_rural"


# --- helpers ---------------------------------------------------------------------------------


def _basic(username: str, password: str = "matkhau-123") -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _login(app, username: str, password: str = "matkhau-123"):
    browser = app.test_client()
    token = _csrf(browser.get("/login").get_data(as_text=True))
    reply = browser.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert reply.status_code == 302, reply.get_data(as_text=True)
    return browser


def _post(browser, url: str, data: dict):
    token = _csrf(browser.get("/admin/forms").get_data(as_text=True))
    return browser.post(url, data={**data, "csrf_token": token})


def _mark(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(AuditEvent.id))) or 0


def _events(app, since: int = 0) -> list[dict]:
    """The events after ``since``, oldest first, as plain dicts."""
    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent, User.username, Commune.code)
            .outerjoin(User, User.id == AuditEvent.actor_id)
            .outerjoin(Commune, Commune.id == AuditEvent.commune_id)
            .where(AuditEvent.id > since)
            .order_by(AuditEvent.id)
        ).all()
        return [
            {
                "action": e.action,
                "actor": username,
                "target": (e.target_type, e.target_id),
                "commune": commune,
                "before": e.before,
                "after": e.after,
                "note": e.note,
            }
            for e, username, commune in rows
        ]


def _only(app, since: int) -> dict:
    events = _events(app, since)
    assert len(events) == 1, events
    return events[0]


def _upload_form(client, xlsx: bytes):
    return client.post(
        "/api/v1/forms",
        data={"xlsform": (io.BytesIO(xlsx), "phieu.xlsx")},
        headers=_basic("admin1"),
        base_url=HTTPS,
    )


def _table_yaml(version: str = "t1") -> bytes:
    return f"""
code: thu_audit
version: {version}
standard: "2022_2025"
region: "*"
area_type: rural
status: demo
source: bảng thử cho kiểm thử tự động; không phải số liệu chính thức
label_vi: Bảng điểm B1 thử nghiệm — không phải số liệu chính thức
items:
  b1_pension:
    kind: choice
    vi: Lương hưu
    options: {{khong: 0, mot_nguoi: {7 if version == "t1" else 8}}}
""".encode()


# --- what the operations write ---------------------------------------------------------------


def test_seeding_outside_a_request_is_recorded_as_the_system(app, seeded):
    events = _events(app)
    assert all(e["actor"] is None for e in events)
    created = [e for e in events if e["action"] == "user.create"]
    assert [e["after"]["username"] for e in created] == [
        "rsv1",
        "rsv.t02",
        "rsv2",
        "canbo1",
        "admin1",
    ]
    admin = created[-1]
    assert admin["before"] is None and admin["commune"] is None
    assert admin["after"] == {
        "username": "admin1",
        "display_name": "Quản trị",
        "role": "admin",
        "commune": None,
        "villages": [],
        "province": "P1",
    }
    assert created[1]["commune"] == "X1" and created[1]["after"]["villages"] == ["T02"]
    assert not any("password" in str(e["after"]) or "hash" in str(e["after"]) for e in created)
    token = next(e for e in events if e["action"] == "device_token.issue")
    assert token["commune"] == "X1"
    assert token["after"] == {"user": "rsv1", "label": "test phone"}
    assert seeded.reviewer_token not in str(events)  # the token itself is never kept
    published = [e for e in events if e["action"] == "form.publish"]
    assert [(e["target"], e["before"]["current_version"]) for e in published] == [
        (("form", seeded.form_id), None),
        (("form", seeded.other_form_id), None),
    ]
    assert published[0]["after"]["current_version"] == seeded.form_version
    assigned = [
        (e["target"][1], e["commune"], e["after"]) for e in events if e["action"] == "form.assign"
    ]
    assert assigned == [
        (seeded.form_id, "X1", {"commune": "X1"}),
        (seeded.other_form_id, "X2", {"commune": "X2"}),
    ]


def test_form_lifecycle_through_the_api_records_the_authenticated_admin(app, client, seeded):
    mark = _mark(app)
    assert _upload_form(client, household_form("2026120101")).status_code == 201
    event = _only(app, mark)
    assert (event["action"], event["actor"], event["target"]) == (
        "form.draft_upload",
        "admin1",
        ("form", "phieu_thu"),
    )
    assert (event["before"], event["after"]) == (
        {"draft_version": None},
        {"draft_version": "2026120101"},
    )

    mark = _mark(app)  # a new draft replaces the old one: one event, not a discard too
    assert _upload_form(client, household_form("2026120102")).status_code == 201
    event = _only(app, mark)
    assert event["action"] == "form.draft_upload"
    assert (event["before"], event["after"]) == (
        {"draft_version": "2026120101"},
        {"draft_version": "2026120102"},
    )

    mark = _mark(app)
    reply = client.post(
        "/api/v1/forms/phieu_thu/draft/publish", headers=_basic("admin1"), base_url=HTTPS
    )
    assert reply.status_code == 200
    event = _only(app, mark)
    assert (event["action"], event["actor"]) == ("form.publish", "admin1")
    assert (event["before"], event["after"]) == (  # the title did not change: not kept
        {"current_version": None, "draft_version": "2026120102"},
        {"current_version": "2026120102", "draft_version": None},
    )

    mark = _mark(app)
    reply = client.patch(
        "/api/v1/forms/phieu_thu",
        json={"state": "closing"},
        headers=_basic("admin1"),
        base_url=HTTPS,
    )
    assert reply.status_code == 200
    event = _only(app, mark)
    assert (event["action"], event["actor"], event["before"], event["after"]) == (
        "form.state",
        "admin1",
        {"state": "open"},
        {"state": "closing"},
    )

    mark = _mark(app)
    reply = client.patch(
        "/api/v1/forms/phieu_thu/versions/2026120102",
        json={"accepting_submissions": False},
        headers=_basic("admin1"),
        base_url=HTTPS,
    )
    assert reply.status_code == 204
    event = _only(app, mark)
    assert (event["action"], event["target"], event["before"], event["after"]) == (
        "form.version_accepting",
        ("form_version", "phieu_thu/2026120102"),
        {"accepting_submissions": True},
        {"accepting_submissions": False},
    )

    mark = _mark(app)
    for _ in range(2):  # the second time changes nothing and records nothing
        reply = client.post(
            "/api/v1/forms/phieu_thu/assignments",
            json={"commune": "X2"},
            headers=_basic("admin1"),
            base_url=HTTPS,
        )
        assert reply.status_code == 204
    event = _only(app, mark)
    assert (event["action"], event["actor"], event["commune"], event["after"]) == (
        "form.assign",
        "admin1",
        "X2",
        {"commune": "X2"},
    )

    assert _upload_form(client, household_form("2026120103")).status_code == 201
    mark = _mark(app)
    reply = client.delete("/api/v1/forms/phieu_thu/draft", headers=_basic("admin1"), base_url=HTTPS)
    assert reply.status_code == 204
    event = _only(app, mark)
    assert (event["action"], event["actor"], event["before"], event["after"]) == (
        "form.draft_discard",
        "admin1",
        {"draft_version": "2026120103"},
        {"draft_version": None},
    )


def test_a_refused_change_records_nothing(app, client, seeded):
    mark = _mark(app)
    reply = client.post(
        "/api/v1/forms/rasoat_demo/draft/publish", headers=_basic("admin1"), base_url=HTTPS
    )
    assert reply.status_code == 403  # a national form: not the province's to publish
    assert _upload_form(client, b"not a workbook").status_code == 400
    assert _events(app, mark) == []


def test_form_pages_record_the_logged_in_admin(app, seeded):
    browser = _login(app, "admin1")
    page = browser.get("/admin/forms").get_data(as_text=True)
    mark = _mark(app)
    reply = browser.post(
        "/admin/forms/upload",
        data={
            "xlsform": (io.BytesIO(household_form("2026120101")), "phieu.xlsx"),
            "csrf_token": _csrf(page),
        },
    )
    assert reply.status_code == 302
    assert _only(app, mark)["action"] == "form.draft_upload"

    mark = _mark(app)
    assert _post(browser, "/admin/forms/phieu_thu/publish", {}).status_code == 302
    event = _only(app, mark)
    assert (event["action"], event["actor"], event["target"]) == (
        "form.publish",
        "admin1",
        ("form", "phieu_thu"),
    )
    assert event["after"]["current_version"] == "2026120101"

    mark = _mark(app)
    assert _post(browser, "/admin/forms/phieu_thu/state", {"state": "closed"}).status_code == 302
    event = _only(app, mark)
    assert (event["action"], event["actor"], event["after"]) == (
        "form.state",
        "admin1",
        {"state": "closed"},
    )

    mark = _mark(app)
    url = "/admin/forms/phieu_thu/versions/2026120101/accepting"
    assert _post(browser, url, {"accepting": "0"}).status_code == 302
    assert _only(app, mark)["after"] == {"accepting_submissions": False}

    mark = _mark(app)
    assert _post(browser, "/admin/forms/phieu_thu/assign", {"commune": "X1"}).status_code == 302
    event = _only(app, mark)
    assert (event["action"], event["actor"], event["commune"]) == ("form.assign", "admin1", "X1")


def test_b1_tables_through_the_api_and_the_pages(app, client, seeded):
    mark = _mark(app)
    reply = client.put(
        "/api/v1/communes/X1/b1-tables",
        json={"standard": "2022_2025", "area_type": "rural", "table_code": DEMO_TABLE},
        headers=_basic("admin1"),
        base_url=HTTPS,
    )
    assert reply.status_code == 200, reply.json
    event = _only(app, mark)
    assert (event["action"], event["actor"], event["target"], event["commune"]) == (
        "b1_table.assign",
        "admin1",
        ("commune", "X1"),
        "X1",
    )
    assert (event["before"], event["after"]) == (
        {"2022_2025/rural": None},
        {"2022_2025/rural": DEMO_TABLE},
    )

    mark = _mark(app)
    for _ in range(2):  # the identical table again changes nothing
        reply = client.post(
            "/api/v1/b1-tables",
            data={"file": (io.BytesIO(_table_yaml()), "thu.yaml")},
            headers=_basic("admin1"),
            base_url=HTTPS,
        )
        assert reply.status_code in (200, 201), reply.json
    event = _only(app, mark)
    assert (event["action"], event["actor"], event["target"], event["commune"]) == (
        "b1_table.upload",
        "admin1",
        ("b1_table", "thu_audit/t1"),
        None,
    )
    assert event["before"] is None
    assert event["after"]["code"] == "thu_audit" and event["after"]["filename"] == "thu.yaml"
    assert event["after"]["status"] == "demo" and len(event["after"]["sha256"]) == 64

    # The page: remove the table X1 uses (B1 not assessed).
    browser = _login(app, "admin1")
    token = _csrf(browser.get("/admin/b1-tables").get_data(as_text=True))
    mark = _mark(app)
    reply = browser.post(
        "/admin/b1-tables/communes/X1", data={"2022_2025:rural": "", "csrf_token": token}
    )
    assert reply.status_code == 302
    event = _only(app, mark)
    assert (event["actor"], event["before"], event["after"]) == (
        "admin1",
        {"2022_2025/rural": DEMO_TABLE},
        {"2022_2025/rural": None},
    )


def test_command_line_changes_are_recorded_as_the_system(app, seeded, tmp_path):
    runner = app.test_cli_runner()
    mark = _mark(app)
    result = runner.invoke(args=["users", "issue-token", "rsv2", "--label", "máy 2"])
    assert result.exit_code == 0, result.output
    event = _only(app, mark)
    assert (event["action"], event["actor"], event["commune"], event["after"]) == (
        "device_token.issue",
        None,
        "X2",
        {"user": "rsv2", "label": "máy 2"},
    )
    assert result.output.strip() not in str(event)

    mark = _mark(app)
    result = runner.invoke(args=["users", "revoke-tokens", "rsv2"])
    assert result.exit_code == 0, result.output
    event = _only(app, mark)
    assert (event["action"], event["actor"], event["target"][0], event["note"]) == (
        "device_token.revoke",
        None,
        "device_token",
        "rsv2 máy 2",
    )
    assert event["before"] == {"revoked_at": None} and event["after"]["revoked_at"]

    mark = _mark(app)
    result = runner.invoke(
        args=[
            "users",
            "create",
            "canbo9",
            "--name",
            "Cán bộ Chín",
            "--role",
            "officer",
            "--commune",
            "X2",
        ],
        input="matkhau-999\nmatkhau-999\n",
    )
    assert result.exit_code == 0, result.output
    event = _only(app, mark)
    assert (event["action"], event["actor"], event["commune"]) == ("user.create", None, "X2")
    assert event["after"]["role"] == "officer" and "matkhau" not in str(event)

    mark = _mark(app)
    assert runner.invoke(args=["forms", "state", "rasoat_demo", "closing"]).exit_code == 0
    event = _only(app, mark)
    assert (event["action"], event["actor"], event["after"]) == (
        "form.state",
        None,
        {"state": "closing"},
    )

    households = tmp_path / "ho.csv"
    households.write_text(
        "code,village,head_name,last_status,source\n"
        "H1,T01,Chủ hộ Một,ngheo,danh_sach\n"
        "H2,T02,Chủ hộ Hai,can_ngheo,danh_sach\n"
        "H3,T03,Chủ hộ Ba,moi,de_nghi\n",
        encoding="utf-8",
    )
    mark = _mark(app)
    args = ["households", "import", str(households), "--commune", "X1", "--year", "2025"]
    assert runner.invoke(args=args).exit_code == 0
    event = _only(app, mark)  # one event per import, not one per household
    assert (event["action"], event["actor"], event["target"], event["commune"]) == (
        "households.import",
        None,
        ("commune", "X1"),
        "X1",
    )
    assert event["after"] == {"year": 2025, "rows": 3, "created": 3, "updated": 0}
    mark = _mark(app)
    assert runner.invoke(args=args).exit_code == 0
    assert _only(app, mark)["after"] == {"year": 2025, "rows": 3, "created": 0, "updated": 3}


def test_password_change_is_recorded_without_the_password(app, seeded):
    mark = _mark(app)
    with app.app_context(), write_transaction(db.session):
        user = db.session.scalar(select(User).where(User.username == "canbo1"))
        set_password(user, "mat-khau-moi-1")
    event = _only(app, mark)
    assert (event["action"], event["target"][0], event["commune"], event["note"]) == (
        "user.password",
        "user",
        "X1",
        "canbo1",
    )
    assert event["before"] is None and event["after"] is None


# --- the page and the CSV file ---------------------------------------------------------------


@pytest.fixture
def history(app, client, seeded):
    """A few events by admin1 (and the national administrator, who owns the demo form) on top
    of the seeded (system) ones."""
    add_national_admin(app)
    client.patch(
        "/api/v1/forms/rasoat_demo",
        json={"state": "closing"},
        headers=_basic("quocgia"),
        base_url=HTTPS,
    ).close()
    client.put(
        "/api/v1/communes/X2/b1-tables",
        json={"standard": "2022_2025", "area_type": "rural", "table_code": DEMO_TABLE},
        headers=_basic("admin1"),
        base_url=HTTPS,
    )
    with app.app_context(), write_transaction(db.session):
        x1 = db.session.scalar(select(Commune).where(Commune.code == "X1"))
        import_households(x1, [{"code": "H1", "village": "T01", "head_name": "A"}], 2025)
    return seeded


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def test_the_page_lists_newest_first_and_filters(app, history):
    browser = _login(app, "admin1")
    html = browser.get("/admin/nhat-ky").get_data(as_text=True)
    assert 'href="/admin/nhat-ky">Nhật ký thay đổi</a>' in html  # in the admin navigation
    rows = _rows(html)
    assert len(rows) == len(_events(app))
    assert "Nhập danh sách hộ" in rows[0]  # the newest first
    assert "Chọn bảng điểm B1 cho xã" in rows[1]
    assert "<code>2022_2025/rural</code>: — → demo_2022_2025_rural" in rows[1]
    assert "Xã Hai" in rows[1] and "Quản trị" in rows[1] and "(admin1)" in rows[1]
    assert "<code>state</code>: open → closing" in rows[2]
    assert "hệ thống" in rows[0]  # imported outside a request
    # Times in Vietnam time (stored in UTC).
    assert "Thời gian theo giờ Việt Nam (UTC + 7)." in html
    with app.app_context():
        newest = db.session.scalar(select(AuditEvent.at).order_by(AuditEvent.id.desc()).limit(1))
    assert (newest + timedelta(hours=7)).strftime("%d/%m/%Y %H:%M:%S") in rows[0]

    def shown(query: str) -> list[str]:
        reply = browser.get(f"/admin/nhat-ky?{query}")
        assert reply.status_code == 200
        return _rows(reply.get_data(as_text=True))

    assert len(shown("action=form.state")) == 1
    assert len(shown("actor=admin1")) == 1  # the form change was the national administrator's
    assert len(shown("actor=quocgia")) == 1
    assert len(shown("actor=h%E1%BB%87+th%E1%BB%91ng")) == len(_events(app)) - 2  # "hệ thống"
    assert len(shown("actor=nobody")) == 1  # the "nothing" row
    assert "Không có thay đổi nào." in shown("actor=nobody")[0]
    x2 = shown("commune=X2")
    assert len(x2) == 3  # rsv2 created, form assigned, B1 table assigned
    assert all("Xã Hai" in row for row in x2)
    assert len(shown("target_type=form&target_id=rasoat_demo")) == 3  # publish, assign, state
    today = vietnam_today()
    assert len(
        shown(f"date_from={today - timedelta(days=1)}&date_to={today + timedelta(days=1)}")
    ) == len(_events(app))
    assert "Không có thay đổi nào." in shown(f"date_from={today + timedelta(days=2)}")[0]
    assert "Không có thay đổi nào." in shown(f"date_to={today - timedelta(days=2)}")[0]
    # Every known action has a label; an unknown one is shown as recorded.
    with app.app_context(), write_transaction(db.session):
        from server.audit.services import record

        record("meeting.vote", "meeting", 7, note="thử")
    assert "meeting.vote" in shown("action=meeting.vote")[0]
    assert set(ACTION_LABELS) >= {e["action"] for e in _events(app)} - {"meeting.vote"}


def test_the_page_in_english(app, history):
    browser = _login(app, "admin1")
    html = browser.get("/admin/nhat-ky?lang=en").get_data(as_text=True)
    assert "Audit log" in html and "Import the household list" in html
    assert "Nhập danh sách hộ" not in html


def test_pagination(app, seeded):
    with app.app_context(), write_transaction(db.session):
        form = get_form(seeded.form_id)
        x2 = db.session.scalar(select(Commune).where(Commune.code == "X2"))
        from server.audit.services import record

        for number in range(60):
            record("test.event", "thing", number, commune_id=x2.id)
        assign_form(form, x2, actor=None)
    browser = _login(app, "admin1")
    total = len(_events(app))
    first = browser.get("/admin/nhat-ky").get_data(as_text=True)
    assert len(_rows(first)) == 50
    assert f"Trang 1 / {-(-total // 50)}" in first
    second = browser.get("/admin/nhat-ky?page=2").get_data(as_text=True)
    assert len(_rows(second)) == total - 50


def test_officers_and_anonymous_users_cannot_see_the_log(app, seeded):
    officer = _login(app, "canbo1")
    assert officer.get("/admin/nhat-ky").status_code == 403
    assert officer.get("/admin/nhat-ky.csv").status_code == 403
    anonymous = app.test_client()
    reply = anonymous.get("/admin/nhat-ky.csv")
    assert reply.status_code == 302 and "/login" in reply.headers["Location"]


def test_an_administrator_sees_only_their_province(app, history):
    add_other_province(app, "Xã Y Một")
    with app.app_context(), write_transaction(db.session):
        y1 = db.session.scalar(select(Commune).where(Commune.code == "Y1"))
        assign_form(get_form(history.form_id), y1, actor=None)
    other = _login(app, "admin2")
    rows = "".join(_rows(other.get("/admin/nhat-ky").get_data(as_text=True)))
    assert "Xã Y Một" in rows  # their own commune's event
    assert "Xã Một" not in rows and "Xã Hai" not in rows
    assert "Nhập danh sách hộ" not in rows and "Chọn bảng điểm B1 cho xã" not in rows
    assert "Đổi trạng thái biểu mẫu" in rows  # a national form: every province sees it
    assert "Tạo tài khoản" in rows  # admin2's own account, of their province
    nothing = _rows(other.get("/admin/nhat-ky?commune=X1").get_data(as_text=True))
    assert len(nothing) == 1 and "Không có thay đổi nào." in nothing[0]
    listed = list(
        csv.DictReader(
            io.StringIO(other.get("/admin/nhat-ky.csv").get_data(as_text=True).lstrip("\ufeff"))
        )
    )
    assert listed and {r["commune"] for r in listed} == {"", "Y1"}
    # ... and the first province's administrator does not see Y1.
    rows = "".join(_rows(_login(app, "admin1").get("/admin/nhat-ky").get_data(as_text=True)))
    assert "Xã Y Một" not in rows and "Xã Hai" in rows


def test_csv_export_streams_the_filtered_events(app, history):
    browser = _login(app, "admin1")
    reply = browser.get("/admin/nhat-ky.csv")
    assert reply.status_code == 200
    assert reply.is_streamed
    assert reply.mimetype == "text/csv"
    assert "attachment" in reply.headers["Content-Disposition"]
    text = reply.get_data(as_text=True)
    assert text.startswith("\ufeffid,at_utc,actor,action,")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == len(_events(app))
    newest = rows[0]
    assert (newest["action"], newest["actor"], newest["commune"], newest["target_id"]) == (
        "households.import",
        "",
        "X1",
        "X1",
    )
    assert '"created": 1' in newest["after"]
    assigned = rows[1]
    assert (assigned["action"], assigned["actor"]) == ("b1_table.assign", "admin1")
    assert assigned["before"] == '{"2022_2025/rural": null}'
    assert assigned["after"] == '{"2022_2025/rural": "demo_2022_2025_rural"}'

    filtered = browser.get("/admin/nhat-ky.csv?actor=quocgia&action=form.state")
    rows = list(csv.DictReader(io.StringIO(filtered.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["action"], r["target_id"], r["after"]) for r in rows] == [
        ("form.state", "rasoat_demo", '{"state": "closing"}')
    ]


def test_csv_cells_are_not_spreadsheet_formulas(app, seeded):
    with app.app_context(), write_transaction(db.session):
        from server.audit.services import record

        record("test.event", "thing", "=1+1", note="@SUM(A1)")
    browser = _login(app, "admin1")
    text = browser.get("/admin/nhat-ky.csv?action=test.event").get_data(as_text=True)
    row = next(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert (row["target_id"], row["note"]) == ("'=1+1", "'@SUM(A1)")


def test_date_filters_are_days_in_vietnam(app, seeded):
    """An event at 18:30 UTC on 1 March happened on 2 March in Vietnam (01:30): the page shows
    it at that time and the filter finds it on 2 March, not on 1 March."""
    from datetime import datetime

    from server.audit.services import record

    with app.app_context(), write_transaction(db.session):
        event = record("form.state", "form", "giua-dem", note="nửa đêm", actor_id=None)
        event.at = datetime(2026, 3, 1, 18, 30)
    browser = _login(app, "admin1")

    def rows(query: str) -> list[str]:
        reply = browser.get(f"/admin/nhat-ky?target_id=giua-dem&{query}")
        assert reply.status_code == 200
        return _rows(reply.get_data(as_text=True))

    (shown,) = rows("date_from=2026-03-02&date_to=2026-03-02")
    assert "02/03/2026 01:30:00" in shown
    assert "Không có thay đổi nào." in rows("date_from=2026-03-01&date_to=2026-03-01")[0]
