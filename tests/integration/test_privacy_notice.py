"""Told on the first screen (issue 14): every household questionnaire opens with the notice the
reviewer reads to the household — who collects, for what, what is collected — taken from
``privacy_notice.csv``, which the server writes for the phone asking from its province's notice
(rasoat's default until the province administrator writes its own).  A province's change
reaches its phones (a new MD5 in the manifest) and no other province's; JavaRosa (Collect's
engine) reads the text back whole from every shipped form; the page refuses an empty, too long
or unprintable notice with what was typed still there."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from lxml import etree
from sqlalchemy import select

from server.accounts.models import Role
from server.accounts.services import create_user
from server.audit.models import AuditEvent
from server.db import write_transaction
from server.extensions import db
from server.geography.models import Commune
from server.privacy.notice import TEXT_MAX, default_notice, notice_csv
from server.questionnaires.sources import load_sources
from tests.collect_client import CollectClient, FlaskTransport
from tests.engines import javarosa
from tests.integration.procedure import add_national_admin, add_other_province, csrf

XF = "{http://www.w3.org/2002/xforms}"
# A province's own words: a comma, quotes and a line break, as typed in the page's text area.
OWN_VI = 'UBND xã Một thu thập thông tin của hộ, "chỉ để rà soát".\r\nLiên hệ: 0260 3 999 999.'
OWN_EN = "Commune Một collects the household's information for the review only."
HOUSEHOLD_FORMS = (
    "phieu_a",
    "phieu_b_2022",
    "phieu_b_2027",
    "thu_nhap_mstb",
    "dac_diem_ho",
    "mau_01_de_nghi",
    "mau_04_de_nghi_thoat_ngheo",
    "rasoat_demo",
)


def _login(app, username, password="matkhau-123"):
    browser = app.test_client()
    token = csrf(browser.get("/login").get_data(as_text=True))
    reply = browser.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert reply.status_code == 302, reply.get_data(as_text=True)
    return browser


def _save(browser, data):
    token = csrf(browser.get("/admin/du-lieu-ca-nhan").get_data(as_text=True))
    return browser.post("/admin/du-lieu-ca-nhan/thong-bao", data={**data, "csrf_token": token})


def _rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


@pytest.mark.parametrize("name", HOUSEHOLD_FORMS)
def test_every_household_questionnaire_opens_with_the_notice(name):
    source = next(s for s in load_sources() if s.name == name)
    root = etree.fromstring(source.compiled_path.read_bytes())
    body = root.find("{http://www.w3.org/1999/xhtml}body")
    first = body[0]
    assert first.get("ref").endswith("/privacy_notice_note"), (name, first.get("ref"))
    instance = root.find(f".//{XF}instance[@id='privacy_notice']")
    assert instance is not None and instance.get("src") == "jr://file-csv/privacy_notice.csv"
    sample = _rows(
        (source.compiled_path.parents[1] / "xlsforms" / f"{name}-media")
        .joinpath("privacy_notice.csv")
        .read_bytes()
    )
    assert sample == [
        {"name": "notice", "label": default_notice().text_vi, "label_en": default_notice().text_en}
    ]


def _phone(app, username, password="matkhau-123"):
    return CollectClient(FlaskTransport(app), "http://rasoat.test", username, password)


def _phone_notice(phone, form_id="phieu_b_2022") -> tuple[str, list[dict[str, str]]]:
    entry = next(e for e in phone.form_list() if e.form_id == form_id)
    media = {m.filename: m for m in phone.manifest(entry)}
    return media["privacy_notice.csv"].hash, _rows(
        phone.download_media(media["privacy_notice.csv"])
    )


@pytest.fixture
def provinces(app, seeded, publish_shipped):
    """P1 (seeded, admin1, reviewer rsv1 of X1) and P2 (admin2, reviewer rsv.y1 of Y1), a
    national administrator; the shipped Phiếu B assigned in X1."""
    add_other_province(app, T01="Thôn Một Y")
    add_national_admin(app)
    with app.app_context(), write_transaction(db.session):
        y1 = db.session.scalar(select(Commune).where(Commune.code == "Y1"))
        create_user(
            username="rsv.y1",
            display_name="rsv.y1",
            role=Role.REVIEWER,
            password="matkhau-123",
            commune=y1,
        )
    publish_shipped("phieu_b_2022")
    return seeded


def test_a_provinces_notice_reaches_its_phones_and_no_others(app, provinces):
    seeded = provinces
    phone = _phone(app, seeded.reviewer, seeded.reviewer_password)
    before_hash, before = _phone_notice(phone)
    default = default_notice()
    assert before == [{"name": "notice", "label": default.text_vi, "label_en": default.text_en}]

    admin = _login(app, "admin1")
    page = admin.get("/admin/du-lieu-ca-nhan").get_data(as_text=True)
    assert "mặc định của rasoat — không phải văn bản chính thức" in page
    reply = _save(admin, {"text_vi": OWN_VI, "text_en": OWN_EN, "action": "save"})
    assert reply.status_code == 302
    after_hash, after = _phone_notice(phone)
    assert after_hash != before_hash  # Collect sees a new file and downloads it
    assert after == [{"name": "notice", "label": OWN_VI.replace("\r\n", "\n"), "label_en": OWN_EN}]
    page = admin.get("/admin/du-lieu-ca-nhan").get_data(as_text=True)
    assert "Tỉnh đang dùng lời thông báo riêng" in page and "Quản trị" in page

    # P2's reviewer still gets rasoat's default; P2's administrator writes P2's only.
    with app.app_context():
        from server.accounts.models import User

        y1_reviewer = db.session.scalar(select(User).where(User.username == "rsv.y1"))
        assert _rows(notice_csv(y1_reviewer))[0]["label"] == default.text_vi
    other = _login(app, "admin2")
    assert _save(other, {"text_vi": "Tỉnh Khác.", "text_en": "Other."}).status_code == 302
    assert _phone_notice(phone) == (after_hash, after)
    with app.app_context():
        y1_reviewer = db.session.scalar(select(User).where(User.username == "rsv.y1"))
        assert _rows(notice_csv(y1_reviewer))[0]["label"] == "Tỉnh Khác."
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("privacy_notice.%"))
        ).all()
    assert actions == ["privacy_notice.update", "privacy_notice.update"]

    # Back to the default: the phone's file is again byte for byte the default one.
    assert _save(admin, {"action": "reset"}).status_code == 302
    assert _phone_notice(phone) == (before_hash, before)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("text_vi", "   ", "Thông báo (tiếng Việt) không được để trống."),
        ("text_en", "x" * (TEXT_MAX + 1), f"tối đa {TEXT_MAX} ký tự"),
        ("text_vi", "Thông báo\x07có chuông", "ký tự điều khiển"),
    ],
)
def test_a_bad_notice_is_refused_with_what_was_typed(app, provinces, field, value, message):
    admin = _login(app, "admin1")
    typed = {"text_vi": OWN_VI, "text_en": OWN_EN} | {field: value}
    reply = _save(admin, {**typed, "action": "save"})
    assert reply.status_code == 400
    html = etree.HTML(reply.get_data(as_text=True))
    assert message in "".join(html.xpath("//*[@role='alert']//text()"))
    other = "text_en" if field == "text_vi" else "text_vi"
    kept = html.xpath(f"//textarea[@name='{other}']/text()")[0]
    assert kept.replace("\r\n", "\n") == typed[other].replace("\r\n", "\n")
    with app.app_context():
        assert not db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("privacy_notice.%"))
        ).all()


def test_who_may_read_and_write_the_notice(app, provinces):
    officer = _login(app, "canbo1")
    assert officer.get("/admin/du-lieu-ca-nhan").status_code == 403
    national = _login(app, "quocgia")
    page = national.get("/admin/du-lieu-ca-nhan")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert default_notice().text_vi in text and "<textarea" not in text
    # A national administrator has no province: the write is refused, nothing recorded.
    token = csrf(text)
    reply = national.post(
        "/admin/du-lieu-ca-nhan/thong-bao",
        data={"text_vi": "A", "text_en": "B", "csrf_token": token},
    )
    assert reply.status_code == 403
    assert "Chỉ quản trị viên tỉnh" in reply.get_data(as_text=True)


def test_collects_engine_reads_the_notice_from_every_shipped_form(app, provinces, tmp_path):
    """JavaRosa computes ``privacy_text`` (kept in the submission) from the file the server
    writes for the phone: the province's text whole, line break, comma and quotes included."""
    admin = _login(app, "admin1")
    assert _save(admin, {"text_vi": OWN_VI, "text_en": OWN_EN}).status_code == 302
    with app.app_context():
        from server.accounts.models import User

        reviewer = db.session.scalar(select(User).where(User.username == "rsv1"))
        content = notice_csv(reviewer)
    media = tmp_path / "media"
    media.mkdir()
    (media / "privacy_notice.csv").write_bytes(content)
    for name in HOUSEHOLD_FORMS:
        source = next(s for s in load_sources() if s.name == name)
        root = etree.fromstring(source.compiled_path.read_bytes())
        primary = root.find(f".//{XF}model/{XF}instance")[0]
        primary.find(f"{XF}meta/{XF}instanceID").text = f"uuid:{uuid.uuid4()}"
        values = javarosa.recompute(source.compiled_path, etree.tostring(primary), media)
        assert values["/data/privacy_text"] == OWN_VI.replace("\r\n", "\n"), name
        assert values["/data/privacy_text_en"] == OWN_EN, name
