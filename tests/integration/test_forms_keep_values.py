"""Issue 13: every HTML form of the web UI, refused for one bad field, answers 4xx with the page
again, a readable Vietnamese message, and every other field as it was typed (passwords never
echoed; a file input cannot be refilled, the message asks to choose the file again).

``CASES`` is the table of forms; a POST route of the pages that is neither in it nor in
``NOT_HERE`` (with its reason) fails :func:`test_every_post_form_is_in_the_table`."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field

import lxml.html
import pytest
from sqlalchemy import select

from server.accounts.models import User
from server.extensions import db
from server.geography.models import Village
from server.publication.models import Complaint
from tests.integration.procedure import (
    case_rows,
    csrf,
    login,
    meeting_form,
    open_monthly_round,
    post_form,
)


@pytest.fixture
def app(make_app, sqlite_url):
    """One database is enough here: this is about the pages, not the SQL."""
    return make_app(sqlite_url)


def _user(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def _village_id(app, code: str) -> str:
    with app.app_context():
        return str(db.session.scalar(select(Village.id).where(Village.code == code)))


@dataclass
class Case:
    """One form: ``setup(app, request)`` → (browser, page URL holding the form, the URL posted
    to, the fields — one of them ``bad`` — and the files); the message expected."""

    endpoint: str
    setup: Callable
    bad: str
    message: str
    secret: tuple[str, ...] = ()  # typed, never shown again
    status: tuple[int, ...] = (400, 409, 422)
    files: dict = field(default_factory=dict)


# --- setups ------------------------------------------------------------------------------------


def _login_page(app, request):
    request.getfixturevalue("seeded")
    return (
        app.test_client(),
        "/login",
        "/login",
        {"username": "canbo1", "password": "sai-mat-khau"},
    )


def _own_password(app, request):
    request.getfixturevalue("seeded")
    url = "/tai-khoan/mat-khau"
    fields = {"current_password": "sai", "password": "moi-12345", "password_again": "moi-12345"}
    return login(app, "canbo1"), url, url, fields


def _user_create(app, request):
    request.getfixturevalue("seeded")
    fields = {
        "username": "rsv.moi",
        "display_name": "Rà soát viên Mới",
        "role": "reviewer",
        "commune": "X1",
        "villages": [_village_id(app, "T02")],
        "password": "ngan",
    }
    return login(app, "admin1"), "/admin/nguoi-dung", "/admin/nguoi-dung", fields


def _user_update(app, request):
    request.getfixturevalue("seeded")
    url = f"/admin/nguoi-dung/{_user(app, 'rsv.t02')}"
    fields = {"display_name": "   ", "villages": [_village_id(app, "T03")]}
    return login(app, "admin1"), url, f"{url}/sua", fields


def _user_role(app, request):
    request.getfixturevalue("seeded")
    url = f"/admin/nguoi-dung/{_user(app, 'rsv1')}"
    # A village head needs a village: none ticked.
    fields = {"role": "village_head", "commune": "X2", "villages": []}
    return login(app, "admin1"), url, f"{url}/vai-tro", fields


def _user_password(app, request):
    request.getfixturevalue("seeded")
    url = f"/admin/nguoi-dung/{_user(app, 'canbo1')}"
    fields = {"password": "matkhau-moi-1", "password_again": "matkhau-moi-2"}
    return login(app, "admin1"), url, f"{url}/mat-khau", fields


def _user_token(app, request):
    request.getfixturevalue("seeded")
    url = f"/admin/nguoi-dung/{_user(app, 'rsv1')}"
    return login(app, "admin1"), url, f"{url}/ma-thiet-bi", {"label": "Đ" * 201}


def _b1_assign(app, request):
    request.getfixturevalue("seeded")
    browser = login(app, "admin1")
    form = _form(browser.get("/admin/b1-tables").get_data(as_text=True), "/communes/X1")
    fields = {name: _values(form, name) for name in _names(form)}
    fields = {k: (v[0] if v else "") for k, v in fields.items()}
    # Another field typed differently from what is stored, then one bad table.
    names = sorted(fields)
    assert len(names) >= 2, names
    for name in names[1:]:
        options = form.xpath(f'.//select[@name="{name}"]/option/@value')
        fields[name] = next((o for o in options if o != fields[name]), fields[name])
    fields[names[0]] = "khong-co-bang-nay"
    return browser, "/admin/b1-tables", "/admin/b1-tables/communes/X1", fields, names[0]


def _b1_upload(app, request):
    request.getfixturevalue("seeded")
    return login(app, "admin1"), "/admin/b1-tables", "/admin/b1-tables/upload", {}


def _form_upload(app, request):
    request.getfixturevalue("seeded")
    return login(app, "admin1"), "/admin/forms", "/admin/forms/upload", {}


def _open_round(app, request):
    request.getfixturevalue("seeded")
    fields = {
        "commune": "X1",
        "year": "2027",
        "kind": "thuong_xuyen",
        "month": "5",
        "started_on": "2027-05-32",
    }
    return login(app, "canbo1"), "/xa/ra-soat", "/xa/ra-soat", fields


def _village(request):
    return request.getfixturevalue("village")


def _submission_id(app) -> int:
    from server.submissions.models import Submission

    with app.app_context():
        return db.session.scalar(select(Submission.id).order_by(Submission.id))


def _review_comment(app, request):
    village = _village(request)
    url = f"/xa/phieu/{_submission_id(app)}"
    return village["officer"], url, f"{url}/nhan-xet", {"comment": "x" * 2001}


def _review_bulk(app, request):
    village = _village(request)
    fields = {"ids": [str(_submission_id(app))], "state": "rejected", "comment": "", "back": "/"}
    return village["officer"], "/xa/phieu", "/xa/phieu/hang-loat", fields


def _posting(app, request):
    village = _village(request)
    url = f"/xa/ra-soat/{village['round']}/niem-yet"
    fields = {"places": "Nhà văn hóa thôn Một\nChợ xã", "starts_on": "2026-11-24", "ends_on": "x"}
    return village["officer"], url, url, fields


def _posted(app, village) -> str:
    officer, base = village["officer"], f"/xa/ra-soat/{village['round']}"
    voted = [c for c, case in case_rows(app).items() if case.list_type != "khong_thuoc_dien"]
    data = meeting_form(30, dict.fromkeys(voted, 30), app)
    assert post_form(officer, f"{village['url']}/hop-dan", data).status_code == 302
    post_form(officer, f"{base}/niem-yet", {"places": "Trụ sở UBND xã", "starts_on": "2026-11-24"})
    return base


def _complaint(app, request):
    village = _village(request)
    base = _posted(app, village)
    cases = case_rows(app, village["round"])
    fields = {
        "case_id": str(cases["X1-T01-0102"].id),
        "received_on": "2026-02-30",
        "complainant": "Y Blăng",
        "content": "Hộ tôi đủ điều kiện hộ nghèo.",
    }
    return village["officer"], f"{base}/niem-yet", f"{base}/khieu-nai", fields


def _recheck(app, request):
    village = _village(request)
    base = _posted(app, village)
    cases = case_rows(app, village["round"])
    post_form(
        village["officer"],
        f"{base}/khieu-nai",
        {"case_id": str(cases["X1-T01-0102"].id), "complainant": "A", "content": "B"},
    )
    with app.app_context():
        complaint_id = db.session.scalar(select(Complaint.id))
    fields = {
        "rechecked_by": "Tổ phúc tra xã",
        "rechecked_on": "không phải ngày",
        "result": "Đã đến hộ kiểm tra lại.",
        "outcome": "thay_doi",
        "new_category": "ngheo",
    }
    return (
        village["officer"],
        f"{base}/niem-yet",
        f"{base}/khieu-nai/{complaint_id}/phuc-tra",
        fields,
    )


def _sign(app, request):
    village = _village(request)
    base = _posted(app, village)
    fields = {
        "number": "125/QĐ-UBND",
        "signed_on": "2026-13-02",
        "signer_name": "Hồ Văn Nam",
        "signer_title": "Phó Chủ tịch UBND xã",
    }
    return village["officer"], f"{base}/quyet-dinh", f"{base}/quyet-dinh", fields


def _refusal(app, request):
    village = _village(request)
    monthly = open_monthly_round(village["officer"])
    post_form(village["officer"], f"{monthly}/lap-danh-sach", {})
    cases = [c for c in case_rows(app).values() if c.round_id != village["round"]]
    assert cases
    fields = {
        "case_id": str(cases[-1].id),
        "reason": "Hộ có thu nhập trên chuẩn cận nghèo.",
        "answered_on": "31/02",
        "signer_name": "Hồ Văn Nam",
    }
    return village["officer"], f"{monthly}/quyet-dinh", f"{monthly}/tu-choi", fields


def _opinion(app, request):
    from server.approvals.models import Consultation

    village = _village(request)
    base = _posted(app, village)
    admin = login(app, "admin1")
    post_form(admin, "/admin/phe-duyet/quy-trinh", {"needs_province_opinion": "yes"})
    post_form(village["officer"], f"{base}/xin-y-kien", {"note": "Kết quả rà soát"})
    with app.app_context():
        consultation_id = db.session.scalar(select(Consultation.id))
    url = f"/admin/phe-duyet/{consultation_id}"
    return admin, "/admin/phe-duyet", url, {"opinion": "revise", "comment": ""}


CASES = {
    "auth.login": Case(
        "auth.login",
        _login_page,
        "password",
        "Tên đăng nhập hoặc mật khẩu không đúng",
        secret=("password",),
        status=(401,),
    ),
    "auth.own_password": Case(
        "auth.own_password",
        _own_password,
        "current_password",
        "Mật khẩu hiện tại không đúng",
        secret=("current_password", "password", "password_again"),
    ),
    "user_admin.create": Case(
        "user_admin.create", _user_create, "password", "ít nhất 8 ký tự", secret=("password",)
    ),
    "user_admin.update": Case("user_admin.update", _user_update, "display_name", "Họ"),
    "user_admin.change_role": Case(
        "user_admin.change_role",
        _user_role,
        "villages",
        "trưởng thôn phải gắn với ít nhất một thôn",
    ),
    "user_admin.change_password": Case(
        "user_admin.change_password",
        _user_password,
        "password_again",
        "Hai lần nhập mật khẩu không giống nhau",
        secret=("password", "password_again"),
    ),
    "user_admin.issue_token": Case("user_admin.issue_token", _user_token, "label", "200"),
    "b1_admin.assign": Case("b1_admin.assign", _b1_assign, "", "Không lưu được bảng điểm"),
    "b1_admin.upload": Case(
        "b1_admin.upload",
        _b1_upload,
        "file",
        "chọn lại tệp",
        files={"file": ("bang.yaml", b"khong: [phai bang")},
    ),
    "forms_admin.upload": Case(
        "forms_admin.upload",
        _form_upload,
        "xlsform",
        "chọn lại tệp",
        files={"xlsform": ("phieu.xlsx", b"not an xlsx")},
    ),
    "meetings.create": Case("meetings.create", _open_round, "started_on", "Ngày không hợp lệ"),
    "review.comment": Case("review.comment", _review_comment, "comment", "2000"),
    "review.bulk": Case("review.bulk", _review_bulk, "comment", "Cần ghi lý do"),
    "publication.create_posting": Case(
        "publication.create_posting", _posting, "ends_on", "Ngày không hợp lệ"
    ),
    "publication.create_complaint": Case(
        "publication.create_complaint", _complaint, "received_on", "Ngày không hợp lệ"
    ),
    "publication.recheck": Case(
        "publication.recheck", _recheck, "rechecked_on", "Ngày không hợp lệ"
    ),
    "decisions.sign": Case("decisions.sign", _sign, "signed_on", "Ngày không hợp lệ"),
    "decisions.create_refusal": Case(
        "decisions.create_refusal", _refusal, "answered_on", "Ngày không hợp lệ"
    ),
    "approvals.give_opinion": Case(
        "approvals.give_opinion", _opinion, "comment", "Cần ghi rõ nội dung"
    ),
}

# POST routes of the pages that are not in CASES: why.
NOT_HERE = {
    "auth.logout": "no fields",
    "meetings.compile_page": "no fields (a button)",
    "forms_admin.publish": "no fields (a button)",
    "forms_admin.discard": "no fields (a button)",
    "user_admin.revoke_token": "no fields (a button)",
    "user_admin.change_active": "a button with one hidden field",
    "forms_admin.accepting": "a button with one hidden field",
    "meetings.change_settings": "a button with hidden fields",
    "exports.create": "a button with hidden fields; refused only as 404",
    "approvals.change_rule": "one yes/no choice; refused only outside the user's scope",
    "forms_admin.change_state": "one choice from a list; an unknown one is a tampered form (400)",
    "forms_admin.assign": "one choice from a list; refused only outside the user's scope",
    "review.resurvey": "no page offers this form any more (the decision form asks it)",
    "approvals.ask": "refused only when the page no longer offers the form (asked, decided)",
    "meetings.meeting_create": "test_meetings.py: refused meeting keeps every field",
    "meetings.missing_reason": "test_missing_households.py: the form keeps what was typed",
    "review.change_state": "test_review_pages.py: a refused decision keeps the choice",
    "review.reveal": "a button with one hidden field (which ID number to show)",
    "household_import.upload": "test_household_import.py: a refused file keeps the year (a "
    "browser does not refill a file field)",
    "household_import.commit": "a button; the upload is named by the URL's token",
    "household_data.correction": "test_household_data.py: a refused correction keeps the rest",
    "privacy_admin.save_notice": "test_privacy_notice.py: a refused notice keeps both texts",
    "retention.change_rules": "test_retention.py: a refused period keeps every typed period",
    "retention.hold": "test_retention.py: a hold without reason keeps what was typed",
    "retention.release": "a button (clears one hold)",
}


# --- reading the page back ---------------------------------------------------------------------


def _form(html: str, action_end: str):
    page = lxml.html.fromstring(html)
    forms = [f for f in page.forms if (f.get("action") or "").split("?")[0].endswith(action_end)]
    if not forms and action_end in ("/login", "/tai-khoan/mat-khau"):
        forms = [f for f in page.forms if not f.get("action")]
    assert len(forms) == 1, (action_end, [f.get("action") for f in page.forms])
    return forms[0]


def _names(form) -> set[str]:
    return {e.get("name") for e in form.xpath(".//*[@name][not(@type='file')]")} - {"csrf_token"}


def _values(form, name: str) -> list[str]:
    """What the page shows in field ``name``: text, ticked boxes, chosen options."""
    shown = []
    for element in form.xpath(f'.//*[@name="{name}"]'):
        if element.tag == "textarea":
            shown.append(element.text or "")
        elif element.tag == "select":
            shown += [o.get("value") for o in element.xpath(".//option") if o.get("selected")]
        elif element.get("type") in ("checkbox", "radio"):
            if element.get("checked") is not None:
                shown.append(element.get("value"))
        elif element.get("type") != "file":
            shown.append(element.get("value") or "")
    return shown


def _messages(html: str) -> str:
    page = lxml.html.fromstring(html)
    return " ".join(
        e.text_content()
        for e in page.xpath(
            '//*[contains(@class, "flash")][@role="alert" or contains(@class, "error")]'
        )
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_refused_form_keeps_every_other_field(app, request, name):
    case = CASES[name]
    setup = case.setup(app, request)
    browser, page_url, post_url, fields = setup[:4]
    bad = setup[4] if len(setup) > 4 else case.bad
    first = browser.get(page_url)
    assert first.status_code == 200, (page_url, first.status_code)
    html = first.get_data(as_text=True)
    form = _form(html, post_url)
    # The table knows every field of the form (a new field must be added here).
    assert set(fields) | set(case.files) >= _names(form) - {"then", "scope", "back", "page_ids"}, (
        _names(form) - set(fields)
    )
    data = [
        (k, v)
        for k, values in fields.items()
        for v in (values if isinstance(values, list) else [values])
    ]
    data.append(("csrf_token", csrf(html)))
    body = {}
    for k, v in data:
        body.setdefault(k, []).append(v)
    for k, (filename, content) in case.files.items():
        body[k] = (io.BytesIO(content), filename)
    reply = browser.post(post_url, data=body, content_type="multipart/form-data")

    assert reply.status_code in case.status, (
        name,
        reply.status_code,
        reply.headers.get("Location"),
    )
    html = reply.get_data(as_text=True)
    assert case.message.lower() in _messages(html).lower(), _messages(html)
    form = _form(html, post_url)
    for key, typed in fields.items():
        if key == bad or key in ("back",):
            continue
        shown = _values(form, key)
        if key in case.secret:
            assert shown in ([], [""]), (key, shown)  # never echoed
            continue
        expected = typed if isinstance(typed, list) else [typed]
        if expected == [""]:  # a blank option chosen: no option marked, the first one shows
            assert shown in ([], [""]), (key, shown)
            continue
        assert shown == expected, (key, shown, expected)
    if case.files:
        assert "chọn lại tệp" in html


def test_every_post_form_is_in_the_table(app):
    posts = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods
        and not rule.rule.startswith("/api/")
        and not rule.endpoint.startswith("openrosa")
    }
    assert not set(CASES) & set(NOT_HERE)
    assert posts - set(CASES) - set(NOT_HERE) == set(), "add the new form to CASES"
    assert set(CASES) | set(NOT_HERE) <= posts, "a form in the table no longer exists"
