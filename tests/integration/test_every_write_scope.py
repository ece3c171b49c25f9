"""Every write above the commune — the JSON API, the administrators' pages and ODK Collect's
submission endpoint — tried by every role from two provinces × two communes (and a national
administrator): only the owner changes anything; for everyone else nothing changes (forms,
versions, drafts, assignments, B1 tables, commune tables, submissions, files, audit log).

Every write route of the API and of the administrators' pages must appear in ``CASES`` (or in
``COVERED_ELSEWHERE`` with the test that covers it): a write route added later fails this file
until someone says who may use it.  The commune pages' writes are walked by
``test_every_route_scope.py``; the commune's documents made in the background (``POST /xuat``)
are asked for here by every role of both provinces."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
import yaml
from sqlalchemy import func, select

from server.accounts.models import Role, User
from server.accounts.services import create_user
from server.audit.models import AuditEvent
from server.blobs import blob_store
from server.db import write_transaction
from server.exports.models import ExportJob
from server.extensions import db
from server.geography.models import Commune, Village
from server.meetings.models import MissingHouseholdReason, VillageMeeting
from server.questionnaires.models import Form, FormAssignment, FormVersion, VersionState
from server.questionnaires.services import assign_form, create_version, get_form
from server.scoring.models import B1Table, CommuneB1Table
from server.scoring.tables import TABLES_DIR
from server.submissions.models import Submission, SubmissionAttachment, SubmissionVersion
from tests.collect_client import CollectClient, FlaskTransport
from tests.instances import DEMO_VERSION, demo_instance, jpeg_bytes, new_instance_id
from tests.integration.procedure import add_national_admin, add_other_province, csrf, decide

HTTPS = "https://rasoat.test"
PASSWORD = "matkhau-123"
DEMO_TABLE = "demo_2022_2025_rural"

# Every account of the test world: two provinces (P1: communes X1, X2; P2: commune Y1), every
# role, and a national administrator.
ACTORS = (
    "admin1",  # P1 administrator
    "admin2",  # P2 administrator
    "quocgia",  # national administrator
    "canbo1",  # X1 officer
    "canbo.x2",  # X2 officer
    "canbo.y1",  # Y1 officer (P2)
    "rsv1",  # X1 reviewer, every village
    "rsv.t02",  # X1 reviewer limited to village T02
    "rsv2",  # X2 reviewer
    "rsv.y1",  # Y1 reviewer (P2)
    "tt.t02",  # village head of X1's T02
    "tt.y1",  # village head of Y1's T01 (P2)
)
PASSWORDS = {"rsv1": "rsv1-pass-xyz"}


def _form_xml(form_id: str, version: str) -> bytes:
    return f"""<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"
        xmlns:jr="http://openrosa.org/javarosa">
  <h:head><h:title>Phiếu {form_id}</h:title><model>
    <instance><data id="{form_id}" version="{version}"><ghi_chu/><meta><instanceID/></meta>
    </data></instance>
    <bind nodeset="/data/ghi_chu" type="string"/>
    <bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/>
  </model></h:head>
  <h:body><input ref="/data/ghi_chu"><label>Ghi chú</label></input></h:body>
</h:html>""".encode()


def _table_yaml(code: str, version: str) -> bytes:
    data = yaml.safe_load((TABLES_DIR / f"{DEMO_TABLE}.yaml").read_text(encoding="utf-8"))
    data |= {"code": code, "version": version, "label_vi": "Bảng thử của tỉnh (không chính thức)"}
    return yaml.safe_dump(data, allow_unicode=True).encode()


@pytest.fixture
def world(app, seeded):
    """The seeded province P1 plus P2, every role, a P1-owned form with a published version and
    a draft, and a P1-owned B1 table; the national demo form assigned in both provinces."""
    add_other_province(app, T01="Thôn Một Y")
    add_national_admin(app)
    with app.app_context(), write_transaction(db.session):
        communes = {c.code: c for c in db.session.scalars(select(Commune))}
        x1, y1 = communes["X1"], communes["Y1"]
        t02 = next(v for v in x1.villages if v.code == "T02")
        y1_t01 = next(v for v in y1.villages if v.code == "T01")
        for username, role, commune, villages in [
            ("canbo.x2", Role.OFFICER, communes["X2"], []),
            ("canbo.y1", Role.OFFICER, y1, []),
            ("rsv.y1", Role.REVIEWER, y1, []),
            ("tt.t02", Role.VILLAGE_HEAD, x1, [t02]),
            ("tt.y1", Role.VILLAGE_HEAD, y1, [y1_t01]),
        ]:
            create_user(
                username=username,
                display_name=username,
                role=role,
                password=PASSWORD,
                commune=commune,
                villages=villages,
            )
        admin1 = db.session.scalar(select(User).where(User.username == "admin1"))
        demo = get_form(seeded.form_id)
        for code in ("X2", "Y1"):
            assign_form(demo, communes[code], actor=None)
        p1 = create_version(_form_xml("p1_form", "1"), blobs=blob_store(), uploaded_by=admin1)
        assign_form(p1.form, x1, actor=None)
        create_version(
            _form_xml("p1_form", "2"),
            blobs=blob_store(),
            uploaded_by=admin1,
            state=VersionState.DRAFT,
            test_token="p1-draft-token",
        )
    client = app.test_client(use_cookies=False)
    reply = client.post(
        "/api/v1/b1-tables",
        data={"file": (io.BytesIO(_table_yaml("p1_table", "1")), "p1.yaml")},
        headers=_basic("admin1"),
        base_url=HTTPS,
        content_type="multipart/form-data",
    )
    assert reply.status_code == 201, reply.json
    return seeded


def _basic(username: str) -> dict[str, str]:
    secret = PASSWORDS.get(username, PASSWORD)
    token = base64.b64encode(f"{username}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _snapshot(app) -> dict:
    """Everything a write above the commune can change."""
    with app.app_context():
        return {
            "forms": sorted(
                (f.xml_form_id, f.state.value, f.province_id, f.current_version_id)
                for f in db.session.scalars(select(Form))
            ),
            "versions": sorted(
                (v.form_id, v.version, v.state.value, v.accepting_submissions)
                for v in db.session.scalars(select(FormVersion))
            ),
            "assignments": sorted(
                (a.form_id, a.commune_id) for a in db.session.scalars(select(FormAssignment))
            ),
            "tables": sorted(
                (t.code, t.version, t.province_id) for t in db.session.scalars(select(B1Table))
            ),
            "commune_tables": sorted(
                (c.commune_id, c.standard, c.area_type, c.table_code)
                for c in db.session.scalars(select(CommuneB1Table))
            ),
            "audit": db.session.scalar(select(func.count()).select_from(AuditEvent)),
        }


# --- the JSON API and the administrators' pages ------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One write, who may make it, and a request that makes it."""

    name: str
    endpoint: str  # the route it exercises (checked against the URL map)
    allowed: frozenset[str]
    send: Callable  # (client, username) -> response


def _api(method: str, url: str, json=None, files=None):
    def send(client, username):
        if files is not None:
            return client.open(
                url,
                method=method,
                data=files(),
                headers=_basic(username),
                base_url=HTTPS,
                content_type="multipart/form-data",
            )
        return client.open(url, method=method, json=json, headers=_basic(username), base_url=HTTPS)

    return send


def _page(url: str, data: dict | None = None, files=None):
    def send(client, username):
        page = client.get("/login")
        token = csrf(page.get_data(as_text=True))
        login = client.post(
            "/login",
            data={"username": username, "password": PASSWORDS.get(username, PASSWORD)}
            | {"csrf_token": token},
        )
        if login.status_code != 302:  # reviewers have no web pages
            return login
        page = client.get("/admin/forms")
        if page.status_code != 200:  # not an administrator: the page refuses them already
            return client.post(url, data=data or {})
        token = csrf(page.get_data(as_text=True))
        body = dict(data or {}) | {"csrf_token": token}
        if files is not None:
            body |= files()
        return client.post(url, data=body)

    return send


def _b1_file(code: str, version: str):
    return lambda: {"file": (io.BytesIO(_table_yaml(code, version)), f"{code}.yaml")}


ONLY = frozenset
CASES = [
    # A province's own form: only its administrators.
    Case(
        "close p1 form",
        "forms_api.patch_form",
        ONLY({"admin1"}),
        _api("PATCH", "/api/v1/forms/p1_form", {"state": "closed"}),
    ),
    Case(
        "retire p1 version",
        "forms_api.patch_version",
        ONLY({"admin1"}),
        _api("PATCH", "/api/v1/forms/p1_form/versions/1", {"accepting_submissions": False}),
    ),
    Case(
        "publish p1 draft",
        "forms_api.publish",
        ONLY({"admin1"}),
        _api("POST", "/api/v1/forms/p1_form/draft/publish"),
    ),
    Case(
        "discard p1 draft",
        "forms_api.delete_draft",
        ONLY({"admin1"}),
        _api("DELETE", "/api/v1/forms/p1_form/draft"),
    ),
    Case(
        "assign p1 form in P1",
        "forms_api.assign",
        ONLY({"admin1"}),
        _api("POST", "/api/v1/forms/p1_form/assignments", {"commune": "X2"}),
    ),
    Case(
        "assign p1 form in P2",
        "forms_api.assign",
        ONLY(),
        _api("POST", "/api/v1/forms/p1_form/assignments", {"commune": "Y1"}),
    ),
    # A national form: only national administrators change it; provinces assign it at home.
    Case(
        "close national form",
        "forms_api.patch_form",
        ONLY({"quocgia"}),
        _api("PATCH", "/api/v1/forms/rasoat_demo", {"state": "closed"}),
    ),
    Case(
        "retire national version",
        "forms_api.patch_version",
        ONLY({"quocgia"}),
        _api(
            "PATCH",
            f"/api/v1/forms/rasoat_demo/versions/{DEMO_VERSION}",
            {"accepting_submissions": False},
        ),
    ),
    Case(
        "assign national form in P1",
        "forms_api.assign",
        ONLY({"admin1", "quocgia"}),
        _api("POST", "/api/v1/forms/other_form/assignments", {"commune": "X1"}),
    ),
    Case(
        "assign national form in P2",
        "forms_api.assign",
        ONLY({"admin2", "quocgia"}),
        _api("POST", "/api/v1/forms/other_form/assignments", {"commune": "Y1"}),
    ),
    # B1 tables: a code's versions come from its owner only.
    Case(
        "new version of p1 table",
        "b1_tables_api.upload",
        ONLY({"admin1"}),
        _api("POST", "/api/v1/b1-tables", files=_b1_file("p1_table", "2")),
    ),
    Case(
        "new version of national table",
        "b1_tables_api.upload",
        ONLY({"quocgia"}),
        _api("POST", "/api/v1/b1-tables", files=_b1_file(DEMO_TABLE, "demo-2")),
    ),
    Case(
        "choose X1 table",
        "b1_tables_api.assign",
        ONLY({"admin1"}),
        _api(
            "PUT",
            "/api/v1/communes/X1/b1-tables",
            {"standard": "2022_2025", "area_type": "rural", "table_code": "p1_table"},
        ),
    ),
    Case(
        "choose Y1 table",
        "b1_tables_api.assign",
        ONLY({"admin2"}),
        _api(
            "PUT",
            "/api/v1/communes/Y1/b1-tables",
            {"standard": "2022_2025", "area_type": "rural", "table_code": DEMO_TABLE},
        ),
    ),
    Case(
        "P2 chooses a P1 table",
        "b1_tables_api.assign",
        ONLY(),
        _api(
            "PUT",
            "/api/v1/communes/Y1/b1-tables",
            {"standard": "2022_2025", "area_type": "rural", "table_code": "p1_table"},
        ),
    ),
    # The same through the administrators' pages.
    Case(
        "page: close p1 form",
        "forms_admin.change_state",
        ONLY({"admin1"}),
        _page("/admin/forms/p1_form/state", {"state": "closed"}),
    ),
    Case(
        "page: close national form",
        "forms_admin.change_state",
        ONLY({"quocgia"}),
        _page("/admin/forms/rasoat_demo/state", {"state": "closed"}),
    ),
    Case(
        "page: retire p1 version",
        "forms_admin.accepting",
        ONLY({"admin1"}),
        _page("/admin/forms/p1_form/versions/1/accepting", {"accepting": "0"}),
    ),
    Case(
        "page: publish p1 draft",
        "forms_admin.publish",
        ONLY({"admin1"}),
        _page("/admin/forms/p1_form/publish"),
    ),
    Case(
        "page: discard p1 draft",
        "forms_admin.discard",
        ONLY({"admin1"}),
        _page("/admin/forms/p1_form/discard"),
    ),
    Case(
        "page: assign p1 form",
        "forms_admin.assign",
        ONLY({"admin1"}),
        _page("/admin/forms/p1_form/assign", {"commune": "X2"}),
    ),
    Case(
        "page: assign p1 form in P2",
        "forms_admin.assign",
        ONLY(),
        _page("/admin/forms/p1_form/assign", {"commune": "Y1"}),
    ),
    Case(
        "page: new version of p1 table",
        "b1_admin.upload",
        ONLY({"admin1"}),
        _page("/admin/b1-tables/upload", files=_b1_file("p1_table", "2")),
    ),
    Case(
        "page: new version of national table",
        "b1_admin.upload",
        ONLY({"quocgia"}),
        _page("/admin/b1-tables/upload", files=_b1_file(DEMO_TABLE, "demo-2")),
    ),
    Case(
        "page: choose X1 table",
        "b1_admin.assign",
        ONLY({"admin1"}),
        _page("/admin/b1-tables/communes/X1", {"2022_2025:rural": "p1_table"}),
    ),
    # The personal-data notice: each province administrator writes their own province's (the
    # route names no province); nobody else writes any.
    Case(
        "page: own province's personal-data notice",
        "privacy_admin.save_notice",
        ONLY({"admin1", "admin2"}),
        _page(
            "/admin/du-lieu-ca-nhan/thong-bao",
            {"text_vi": "Thông báo của tỉnh.", "text_en": "The province's notice."},
        ),
    ),
    # Legal holds on personal data (retention): a province's administrator, in its communes.
    Case(
        "page: hold an X1 household",
        "retention.hold",
        ONLY({"admin1"}),
        _page(
            "/admin/luu-tru/giu-lai",
            {"commune": "X1", "household_code": "X1-T01-0101"}
            | {"round_id": "", "reason": "Đang thanh tra"},
        ),
    ),
    Case(
        "page: hold a Y1 household",
        "retention.hold",
        ONLY({"admin2"}),
        _page(
            "/admin/luu-tru/giu-lai",
            {"commune": "Y1", "household_code": "Y1-T01-0101"}
            | {"round_id": "", "reason": "Đang thanh tra"},
        ),
    ),
]

# Write routes whose scope another test walks across provinces, communes and roles.
COVERED_ELSEWHERE = {
    "forms_api.upload": "test_every_write_scope.py::test_form_upload_respects_the_owner",
    "forms_admin.upload": "test_every_write_scope.py::test_form_upload_respects_the_owner",
    "user_admin.create": "test_user_admin.py (accounts only inside the province)",
    "user_admin.issue_token": "test_user_admin.py",
    "user_admin.revoke_token": "test_user_admin.py",
    "user_admin.change_password": "test_user_admin.py",
    "user_admin.update": "test_user_admin.py",
    "user_admin.change_active": "test_user_admin.py",
    "user_admin.change_role": "test_user_admin.py",
    "approvals.change_rule": "test_approval_chain.py (a province's own rule)",
    "approvals.give_opinion": "test_every_route_scope.py, test_approval_chain.py",
    "retention.change_rules": "test_retention.py (a province's own rules, every role)",
    "retention.release": "test_retention.py (only the province's administrator, every role)",
    "scoring_api.score": "stateless: writes nothing",
    "openrosa.submission": "test_collect_edits_only_within_the_household_scope",
    "openrosa_key.submission": "test_collect_edits_only_within_the_household_scope",
    "openrosa_test.submission": "a draft's own test token (test_form_lifecycle.py)",
    "auth.login": "test_login_security.py",
    "auth.logout": "test_login_security.py",
}
ABOVE_THE_COMMUNE = ("forms_api", "forms_admin", "b1_tables_api", "b1_admin", "user_admin")


def test_every_write_route_above_the_commune_is_in_the_matrix(app):
    covered = {c.endpoint for c in CASES} | set(COVERED_ELSEWHERE)
    writes = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
        and (
            rule.endpoint.split(".")[0] in ABOVE_THE_COMMUNE
            or rule.rule.startswith("/api/")
            or rule.rule.startswith("/admin/")
            or rule.endpoint.startswith("openrosa")
        )
    }
    assert writes - covered == set(), "say who may use these write routes"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_only_the_owner_writes(app, world, case):
    before = _snapshot(app)
    for username in ACTORS:
        if username in case.allowed:
            continue
        reply = case.send(app.test_client(), username)
        assert reply.status_code in (302, 400, 401, 403, 404, 409), (username, reply.status_code)
        assert _snapshot(app) == before, f"{username} changed something: {case.name}"
    for username in sorted(case.allowed)[:1]:  # the owner can: the request really writes
        reply = case.send(app.test_client(), username)
        assert reply.status_code in (200, 201, 204, 302), (username, reply.status_code)
        assert _snapshot(app) != before, f"{username} changed nothing: {case.name}"


def test_refusals_say_not_found_for_another_province_and_why_for_a_national_form(app, world):
    client = app.test_client(use_cookies=False)
    close = {"state": "closed"}
    stranger = client.patch(
        "/api/v1/forms/p1_form", json=close, headers=_basic("admin2"), base_url=HTTPS
    )
    assert stranger.status_code == 404
    assert stranger.json["code"] == "form.not_found"
    national = client.patch(
        "/api/v1/forms/rasoat_demo", json=close, headers=_basic("admin1"), base_url=HTTPS
    )
    assert national.status_code == 403
    assert national.json["code"] == "ownership.forbidden"
    assert "cấp trung ương" in national.json["message"]
    table = client.post(
        "/api/v1/b1-tables",
        data={"file": (io.BytesIO(_table_yaml("p1_table", "9")), "t.yaml")},
        headers=_basic("admin2"),
        base_url=HTTPS,
        content_type="multipart/form-data",
    )
    assert table.status_code == 409
    assert table.json["code"] == "b1_table.code_taken"


def test_what_a_province_sees_of_forms_and_tables(app, world):
    client = app.test_client(use_cookies=False)

    def form_ids(username):
        reply = client.get("/api/v1/forms", headers=_basic(username), base_url=HTTPS)
        return {f["form_id"] for f in reply.json}

    assert form_ids("admin1") == {"rasoat_demo", "other_form", "p1_form"}
    assert form_ids("admin2") == {"rasoat_demo", "other_form"}
    assert form_ids("quocgia") == {"rasoat_demo", "other_form", "p1_form"}

    def codes(username):
        reply = client.get("/api/v1/b1-tables", headers=_basic(username), base_url=HTTPS)
        return {t["code"] for t in reply.json}

    assert "p1_table" in codes("admin1")
    assert "p1_table" not in codes("admin2")
    assert DEMO_TABLE in codes("admin2")
    reply = client.get("/api/v1/b1-tables/p1_table/1", headers=_basic("admin2"), base_url=HTTPS)
    assert reply.status_code == 404


def test_form_upload_respects_the_owner(app, world):
    """An upload is a new form of the uploader's province, or a new version of a form the
    uploader owns: never of another province's form (its ID is taken) or a national one."""
    from tests.xlsforms import workbook

    def upload(username: str, form_id: str, version: str):
        xlsx = workbook(
            [["type", "name", "label"], ["text", "ghi_chu", "Ghi chú"]],
            settings={"form_id": form_id, "version": version},
        )
        return app.test_client().post(
            "/api/v1/forms",
            data={"xlsform": (io.BytesIO(xlsx), "phieu.xlsx")},
            headers=_basic(username),
            base_url=HTTPS,
            content_type="multipart/form-data",
        )

    before = _snapshot(app)
    for username in ACTORS:
        if username == "admin1":
            continue
        reply = upload(username, "p1_form", "3")
        assert reply.status_code in (401, 403, 409), (username, reply.status_code)
    reply = upload("admin2", "p1_form", "3")
    assert reply.json["code"] == "form.id_taken"
    reply = upload("admin1", "rasoat_demo", "2099")
    assert (reply.status_code, reply.json["code"]) == (403, "ownership.forbidden")
    assert _snapshot(app) == before
    assert upload("admin1", "p1_form", "3").status_code == 201
    assert upload("admin2", "p2_form", "1").status_code == 201
    with app.app_context():
        owners = {f.xml_form_id: f.province_id for f in db.session.scalars(select(Form))}
        provinces = dict(db.session.execute(select(User.username, User.province_id)).all())
    assert owners["p1_form"] == provinces["admin1"]
    assert owners["p2_form"] == provinces["admin2"]
    assert owners["rasoat_demo"] is None


# --- ODK Collect: edits and resends of another household's submission --------------------


def _phone(app, username: str) -> CollectClient:
    return CollectClient(
        FlaskTransport(app),
        "http://rasoat.test",
        username=username,
        password=PASSWORDS.get(username, PASSWORD),
    )


def _submission_state(app) -> tuple:
    with app.app_context():
        return (
            tuple(
                (s.instance_id, s.review_state, s.current_version.instance_id)
                for s in db.session.scalars(select(Submission).order_by(Submission.id))
            ),
            db.session.scalar(select(func.count()).select_from(SubmissionVersion)),
            tuple(
                (a.name, a.blob_sha256)
                for a in db.session.scalars(
                    select(SubmissionAttachment).order_by(SubmissionAttachment.id)
                )
            ),
            db.session.scalar(select(func.count()).select_from(AuditEvent)),
        )


# Who may edit or complete a submission about a household of X1's village T01: an account of
# X1 not limited to other villages.
MAY_EDIT_T01 = {"rsv1", "canbo1"}


@pytest.mark.parametrize("username", ACTORS)
def test_collect_edits_only_within_the_household_scope(app, world, username):
    # A household of X1's village T01, sent without its photo yet (a split upload).
    owner = _phone(app, "rsv1")
    victim_id = new_instance_id()
    victim = demo_instance(victim_id, village="T01", photo="nha.jpg")
    first = owner.request(
        "POST",
        "http://rasoat.test/submission",
        [("xml_submission_file", "instance.xml", victim, "text/xml")],
    )
    assert first.status == 201
    before = _submission_state(app)
    phone = _phone(app, username)

    # 1. an edit naming the victim's instanceID
    edit = demo_instance(
        new_instance_id(), village="T01", head="Kẻ lạ", photo=None, deprecated_id=victim_id
    )
    edited = phone.submit(edit)[-1]
    # 2. the identical XML with a file: would complete the victim's missing photo
    resent = phone.submit(victim, {"nha.jpg": jpeg_bytes(9)})[-1]
    # 3. what an edit of an instanceID that exists nowhere gets
    unknown = phone.submit(
        demo_instance(new_instance_id(), village="T01", deprecated_id=new_instance_id())
    )[-1]

    if username in MAY_EDIT_T01:
        assert edited.status == 201
        assert resent.status == 201  # the photo completes it
        return
    assert _submission_state(app) == before, username
    assert edited.status in (403, 404), (username, edited.status)
    assert resent.status in (403, 409), (username, resent.status)
    if edited.status == 404:
        # Indistinguishable from an instanceID that exists nowhere.
        assert (edited.status, edited.message) == (
            unknown.status,
            unknown.message.replace(_deprecated_of(unknown), victim_id),
        )


def _deprecated_of(reply) -> str:
    import re

    return re.search(r"\((uuid:[^)]+)\)", reply.message).group(1)


def test_a_village_reviewer_cannot_move_another_village_out_of_poverty(app, world):
    """The probe's case: a reviewer limited to T02 edits a T01 household's questionnaire."""
    owner = _phone(app, "rsv1")
    victim_id = new_instance_id()
    assert owner.submit(demo_instance(victim_id, village="T01", photo=None))[-1].status == 201
    before = _submission_state(app)
    reply = _phone(app, "rsv.t02").submit(
        demo_instance(new_instance_id(), village="T02", photo=None, deprecated_id=victim_id)
    )[-1]
    assert reply.status == 404
    assert _submission_state(app) == before
    with app.app_context():
        victim = db.session.scalar(select(Submission).where(Submission.instance_id == victim_id))
        assert victim.review_state == "received"
        assert victim.current_version.instance_id == victim_id
        village = db.session.get(Village, victim.village_id)
        assert village.code == "T01"


def test_the_audit_log_shows_a_province_only_its_own_and_national_events(app, world):
    """The probe saw every administrator read other provinces' events that name no commune
    (here: P1 uploading its own B1 table and creating its accounts)."""

    def log(username: str) -> str:
        browser = app.test_client()
        page = browser.get("/login")
        browser.post(
            "/login",
            data={"username": username, "password": PASSWORD, "csrf_token": csrf(page.text)},
        )
        return browser.get("/admin/nhat-ky?target_type=b1_table").get_data(as_text=True)

    assert "p1_table/1" in log("admin1")
    assert "p1_table/1" not in log("admin2")
    assert "p1_table/1" in log("quocgia")
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.target_id == "p1_table/1")
        ).all()
        admin1 = db.session.scalar(select(User).where(User.username == "admin1"))
        assert [e.province_id for e in events] == [admin1.province_id]


def test_a_national_administrator_lands_on_the_forms_and_sees_every_province(app, world):
    browser = app.test_client()
    page = browser.get("/login")
    reply = browser.post(
        "/login",
        data={"username": "quocgia", "password": PASSWORD, "csrf_token": csrf(page.text)},
    )
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/admin/forms")
    forms = browser.get("/admin/forms").get_data(as_text=True)
    assert "p1_form" in forms and "rasoat_demo" in forms
    assert 'href="/admin/nhat-ky"' in forms and 'href="/admin/nguoi-dung"' not in forms
    assert browser.get("/admin/nhat-ky").status_code == 200
    assert browser.get("/admin/b1-tables").status_code == 200
    assert browser.get("/admin/nguoi-dung").status_code == 403  # accounts: provinces' own
    detail = browser.get("/admin/forms/p1_form").get_data(as_text=True)
    assert "Biểu mẫu của Tỉnh Thử." in detail and 'name="state"' not in detail


# --- a commune's documents made in the background (issue 13) ----------------------------------

# Who may have X1's documents: its officer and its province's administrator (the decision and
# posting pages' own rule: staff of the commune's scope), and for a village's lists and minutes
# also the village's head (as they read them).
X1_STAFF = frozenset({"canbo1", "admin1"})
DOCUMENTS = {  # case: (kind, fields, who may)
    "certificates": ("certificates_pdf", {}, X1_STAFF),
    "decision": ("decision_pdf", {}, X1_STAFF),
    "posting notice": ("posting_pdf", {"number": "1"}, X1_STAFF),
    "T01 lists": ("village_lists_pdf", {"village_code": "T01"}, X1_STAFF),
    "T02 lists": ("village_lists_pdf", {"village_code": "T02"}, X1_STAFF | {"tt.t02"}),
    "T01 minutes": ("minutes_pdf", {"meeting_id": "T01"}, X1_STAFF),
}


@pytest.fixture
def decided_world(app, world, village, tmp_path):
    """The test world, with X1's round (the ``village`` fixture) carried to its decision."""
    app.config["EXPORTS_RUNNER"] = "inline"
    app.config["EXPORTS_TMP_DIR"] = str(tmp_path / "export-tmp")
    decide(app, village)
    return village


def _web_client(app, username: str):
    """A browser logged in as ``username`` with a CSRF token of its session (from the page
    the login leads to); a reviewer, who has no web pages, stays logged out."""
    client = app.test_client()
    token = csrf(client.get("/login").get_data(as_text=True))
    reply = client.post(
        "/login",
        data={"username": username, "password": PASSWORDS.get(username, PASSWORD)}
        | {"csrf_token": token},
    )
    if reply.status_code == 302:
        page = client.get(reply.headers["Location"]).get_data(as_text=True)
        token = csrf(page)
    return client, token


def _exports(app) -> tuple:
    with app.app_context():
        return (
            tuple(db.session.scalars(select(ExportJob.id).order_by(ExportJob.id))),
            db.session.scalar(select(func.count()).select_from(AuditEvent)),
        )


@pytest.mark.parametrize("case", list(DOCUMENTS))
def test_only_the_communes_staff_ask_for_its_documents(app, decided_world, case):
    """Every role of both provinces (and the nation) asks for one of X1's documents: only
    those who may read it get a job; the others get 403/404 and nothing is written, nor can
    they open the job made for X1 or its file."""
    kind, extra, allowed = DOCUMENTS[case]
    if "meeting_id" in extra:
        with app.app_context():
            extra = {"meeting_id": str(db.session.scalar(select(VillageMeeting.id)))}
    fields = {"kind": kind, "round_id": str(decided_world["round"])} | extra
    before = _exports(app)
    for username in ACTORS:
        if username in allowed:
            continue
        client, token = _web_client(app, username)
        reply = client.post("/xuat", data=fields | {"csrf_token": token})
        assert reply.status_code in (302, 403, 404), (username, reply.status_code)
        if reply.status_code == 302:  # a reviewer: sent to the login page
            assert "/login" in reply.headers["Location"], username
        assert _exports(app) == before, f"{username} made a job for X1's {case}"
    made = []
    for username in sorted(allowed):
        client, token = _web_client(app, username)
        reply = client.post("/xuat", data=fields | {"csrf_token": token})
        assert reply.status_code == 302, (username, reply.status_code)
        job = reply.headers["Location"]
        assert client.get(f"{job}/tep").status_code == 200, username
        made.append(job)
    assert _exports(app)[0] != before[0]
    for username in ACTORS:
        if username in allowed:
            continue
        client, _token = _web_client(app, username)
        for job in made:
            for url in (job, f"{job}/tep"):
                status = client.get(url).status_code
                assert status in (302, 403, 404), (username, url, status)


# --- the commune's writes: deciding on results, and the commune's meeting-list rule -----------


@pytest.fixture
def results(app, world) -> dict[str, int]:
    """One demo-form result in each commune's village T01 (X1 and X2 of P1, Y1 of P2), sent by
    the commune's reviewer."""
    ids = {}
    for commune, username in (("X1", "rsv1"), ("X2", "rsv2"), ("Y1", "rsv.y1")):
        instance_id = new_instance_id()
        reply = _phone(app, username).submit(demo_instance(instance_id, photo=None))[-1]
        assert reply.status == 201, (username, reply.status)
        with app.app_context():
            ids[commune] = db.session.scalar(
                select(Submission.id).where(Submission.instance_id == instance_id)
            )
    return ids


def _commune_snapshot(app) -> dict:
    """Everything the commune's writes can change."""
    from server.geography.models import Commune
    from server.households.models import Household
    from server.review.models import SubmissionEvent

    with app.app_context():
        return {
            "states": sorted(
                db.session.execute(select(Submission.id, Submission.review_state)).tuples()
            ),
            "events": db.session.scalar(select(func.count()).select_from(SubmissionEvent)),
            "rules": sorted(
                db.session.execute(
                    select(Commune.code, Commune.meeting_lists_approved_only)
                ).tuples()
            ),
            "flags": sorted(
                db.session.execute(select(Household.code, Household.resurvey_requested_at)).tuples()
            ),
            "missing": sorted(
                db.session.execute(
                    select(
                        MissingHouseholdReason.round_id,
                        MissingHouseholdReason.household_id,
                        MissingHouseholdReason.reason,
                        MissingHouseholdReason.note,
                        MissingHouseholdReason.recorded_at,
                    )
                ).tuples()
            ),
            "audit": db.session.scalar(select(func.count()).select_from(AuditEvent)),
        }


@dataclass(frozen=True)
class CommuneCase:
    """One commune write: the route, who may make it, the URL and form (``{X1}`` … stand for
    the result of that commune), and what to undo before each allowed account tries it."""

    name: str
    endpoint: str
    allowed: frozenset[str]
    url: str
    data: dict
    reset: Callable | None = None  # (app) -> None


def _commune_post(client, username: str, url: str, data: dict):
    page = client.get("/login")
    login = client.post(
        "/login",
        data={"username": username, "password": PASSWORDS.get(username, PASSWORD)}
        | {"csrf_token": csrf(page.get_data(as_text=True))},
    )
    if login.status_code != 302:  # reviewers have no web pages
        return login
    token = None
    for where in ("/xa/phieu", "/admin/forms"):  # any page of theirs carries the token
        found = client.get(where).get_data(as_text=True)
        if 'name="csrf_token"' in found:
            token = csrf(found)
            break
    return client.post(url, data=dict(data) | ({"csrf_token": token} if token else {}))


def _rule_off(app) -> None:
    from server.geography.models import Commune

    with app.app_context(), write_transaction(db.session):
        for commune in db.session.scalars(select(Commune)):
            commune.meeting_lists_approved_only = False


X1_STAFF, X2_STAFF, Y1_STAFF = (
    ONLY({"canbo1", "admin1"}),
    ONLY({"canbo.x2", "admin1"}),
    ONLY({"canbo.y1", "admin2"}),
)
PROBLEM = {"state": "has_issues", "comment": "Ảnh nhà bị mờ", "then": "stay"}
COMMUNE_CASES = [
    CommuneCase(
        "decide on an X1 result",
        "review.change_state",
        X1_STAFF,
        "/xa/phieu/{X1}/trang-thai",
        PROBLEM,
    ),
    CommuneCase(
        "decide on an X2 result",
        "review.change_state",
        X2_STAFF,
        "/xa/phieu/{X2}/trang-thai?village=T01",
        PROBLEM | {"then": "next"},
    ),
    CommuneCase(
        "decide on a Y1 result",
        "review.change_state",
        Y1_STAFF,
        "/xa/phieu/{Y1}/trang-thai",
        PROBLEM,
    ),
    CommuneCase(
        "send an X1 household back",
        "review.change_state",
        X1_STAFF,
        "/xa/phieu/{X1}/trang-thai",
        {"state": "resurvey", "comment": "Đo lại diện tích", "then": "stay"},
    ),
    CommuneCase(
        "send back (old route)",
        "review.resurvey",
        Y1_STAFF,
        "/xa/phieu/{Y1}/ra-soat-lai",
        {"reason": "Đo lại diện tích"},
    ),
    CommuneCase(
        "comment on an X2 result",
        "review.comment",
        X2_STAFF,
        "/xa/phieu/{X2}/nhan-xet",
        {"comment": "Đã gọi điện"},
    ),
    CommuneCase(
        "bulk: the whole page of X1",
        "review.bulk",
        X1_STAFF,
        "/xa/phieu/hang-loat",
        {"scope": "page", "page_ids": ["{X1}"]} | PROBLEM,
    ),
    CommuneCase(
        "bulk: results of two provinces",
        "review.bulk",
        ONLY(),
        "/xa/phieu/hang-loat",
        {"scope": "page", "page_ids": ["{X1}", "{Y1}"]} | PROBLEM,
    ),
    CommuneCase(
        "X1's meeting-list rule",
        "meetings.change_settings",
        X1_STAFF,
        "/xa/ra-soat/cai-dat",
        {"commune": "X1", "approved_only": "1"},
        _rule_off,
    ),
    CommuneCase(
        "X2's meeting-list rule",
        "meetings.change_settings",
        X2_STAFF,
        "/xa/ra-soat/cai-dat",
        {"commune": "X2", "approved_only": "1"},
        _rule_off,
    ),
    CommuneCase(
        "Y1's meeting-list rule",
        "meetings.change_settings",
        Y1_STAFF,
        "/xa/ra-soat/cai-dat",
        {"commune": "Y1", "approved_only": "1"},
        _rule_off,
    ),
]
# The review's and the meeting rule's write routes: each in COMMUNE_CASES, or walked elsewhere.
COMMUNE_WRITES_ELSEWHERE = {
    "meetings.create": "test_every_route_scope.py",
    "meetings.compile_page": "test_every_route_scope.py",
    "meetings.meeting_create": "test_every_route_scope.py",
    "meetings.missing_reason": "test_only_the_communes_staff_explain_a_missing_household",
    "household_import.upload": "test_only_the_communes_staff_import_its_households",
    "household_import.commit": "test_only_the_communes_staff_import_its_households",
    "review.reveal": "test_only_the_communes_staff_reveal_an_id_number",
}


def _filled(value, ids: dict[str, int]):
    if isinstance(value, list):
        return [_filled(v, ids) for v in value]
    return value.format(**ids) if isinstance(value, str) else value


def test_every_review_and_rule_write_is_in_the_commune_matrix(app):
    writes = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
        and rule.endpoint.split(".")[0] in ("review", "meetings", "household_import")
    }
    assert writes - {c.endpoint for c in COMMUNE_CASES} - set(COMMUNE_WRITES_ELSEWHERE) == set()


@pytest.mark.parametrize("case", COMMUNE_CASES, ids=lambda c: c.name)
def test_only_the_communes_staff_decide_and_set_its_rule(app, world, results, case):
    """Every role of two provinces × two communes (and a national administrator): only the
    commune's officer and its province's administrator change anything — every one of them
    does — and for everyone else nothing changes."""
    url, data = case.url.format(**results), {k: _filled(v, results) for k, v in case.data.items()}
    before = _commune_snapshot(app)
    for username in ACTORS:
        if username in case.allowed:
            continue
        reply = _commune_post(app.test_client(), username, url, data)
        assert reply.status_code in (302, 400, 401, 403, 404, 409), (username, reply.status_code)
        assert _commune_snapshot(app) == before, f"{username} changed something: {case.name}"
    for username in sorted(case.allowed):
        if case.reset is not None:
            case.reset(app)
        before = _commune_snapshot(app)
        reply = _commune_post(app.test_client(), username, url, data)
        assert reply.status_code == 302, (username, reply.status_code)
        assert _commune_snapshot(app) != before, f"{username} changed nothing: {case.name}"


def test_only_the_communes_staff_reveal_an_id_number(app, world, results, monkeypatch):
    """ "Hiện số" (an ID number in full, recorded in the audit log) by every role of two
    provinces × two communes: only the commune's officer and its province's administrator see
    the number, each reveal is one audit record; everyone else is refused and nothing is
    recorded.  (The demo form has no ID number: its ``members/name`` plays one here.)"""
    from server.privacy import fields

    data = fields.personal_fields()
    classes = {**data["forms"], "rasoat_demo": {"id_number": ("members/name",)}}
    monkeypatch.setattr(fields, "personal_fields", lambda: {**data, "forms": classes})
    allowed = {"X1": X1_STAFF, "X2": X2_STAFF, "Y1": Y1_STAFF}

    def reveals() -> int:
        with app.app_context():
            return db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "personal.reveal_id")
            )

    for commune, submission_id in results.items():
        url = f"/xa/phieu/{submission_id}/hien-so"
        for username in ACTORS:
            before = reveals()
            reply = _commune_post(app.test_client(), username, url, {"field": "members[2]/name"})
            page = reply.get_data(as_text=True)
            if username in allowed[commune]:
                assert reply.status_code == 200, (username, commune, reply.status_code)
                assert "Y Bình" in page and "•••••••••n A" in page, username
                assert reveals() == before + 1, (username, commune)
            else:
                assert reply.status_code in (302, 401, 403, 404), (username, reply.status_code)
                assert reveals() == before, f"{username} revealed {commune}'s number"
                assert "Y Bình" not in page, username


@pytest.fixture
def missing(app, world) -> dict[str, int]:
    """In each commune (X1, X2 of P1; Y1 of P2) an annual 2026 round and a household of its
    village T01, poor in 2025, with no 2026 result: ``R_X1`` … the rounds, ``H_X1`` … the
    households."""
    from server.households.models import (
        Household,
        HouseholdStatus,
        HouseholdYearStatus,
        ListSource,
    )
    from server.meetings.models import ReviewRound

    ids = {}
    with app.app_context(), write_transaction(db.session):
        for commune in db.session.scalars(select(Commune)):
            t01 = next(v for v in commune.villages if v.code == "T01")
            household = Household(
                commune=commune,
                village=t01,
                code=f"{commune.code}-T01-9001",
                head_name=f"Hộ vắng {commune.code}",
                list_source=ListSource.ON_LIST,
            )
            review = ReviewRound(
                commune_id=commune.id,
                year=2026,
                kind="dinh_ky",
                month=0,
                started_on=date(2026, 9, 1),
            )
            db.session.add_all([household, review])
            db.session.add(
                HouseholdYearStatus(household=household, year=2025, status=HouseholdStatus.POOR)
            )
            db.session.flush()
            ids[f"R_{commune.code}"], ids[f"H_{commune.code}"] = review.id, household.id
    return ids


def _no_reasons(app) -> None:
    from sqlalchemy import delete

    with app.app_context(), write_transaction(db.session):
        db.session.execute(delete(MissingHouseholdReason))


MISSING_URL = "/xa/ra-soat/{R}/ho-chua-co-ket-qua"
MISSING_CASES = [
    CommuneCase(
        "explain X1's missing household",
        "meetings.missing_reason",
        X1_STAFF,
        MISSING_URL.replace("{R}", "{R_X1}"),
        {"household": "{H_X1}", "reason": "moved", "note": "Vào Bình Dương"},
        _no_reasons,
    ),
    CommuneCase(
        "explain X2's missing household (from its village page)",
        "meetings.missing_reason",
        X2_STAFF,
        MISSING_URL.replace("{R}", "{R_X2}"),
        {"household": "{H_X2}", "reason": "other", "note": "Hộ ở rẫy", "village": "T01"},
        _no_reasons,
    ),
    CommuneCase(
        "explain Y1's missing household",
        "meetings.missing_reason",
        Y1_STAFF,
        MISSING_URL.replace("{R}", "{R_Y1}"),
        {"household": "{H_Y1}", "reason": "died_out"},
        _no_reasons,
    ),
    CommuneCase(
        "Y1's household through X1's round",
        "meetings.missing_reason",
        ONLY(),
        MISSING_URL.replace("{R}", "{R_X1}"),
        {"household": "{H_Y1}", "reason": "moved"},
    ),
    CommuneCase(
        "X2's household through X1's round",
        "meetings.missing_reason",
        ONLY(),
        MISSING_URL.replace("{R}", "{R_X1}"),
        {"household": "{H_X2}", "reason": "moved"},
    ),
]


@pytest.mark.parametrize("case", MISSING_CASES, ids=lambda c: c.name)
def test_only_the_communes_staff_explain_a_missing_household(app, world, missing, case):
    """Recording why a household of last year's lists has no result: every role of two
    provinces × two communes (and a national administrator) — only the commune's officer and
    its province's administrator record it (each of them does), for everyone else (village
    heads included) nothing changes; a household of another commune through a round is found
    by no one."""
    url = case.url.format(**missing)
    data = {k: _filled(v, missing) for k, v in case.data.items()}
    before = _commune_snapshot(app)
    for username in ACTORS:
        if username in case.allowed:
            continue
        reply = _commune_post(app.test_client(), username, url, data)
        assert reply.status_code in (302, 400, 401, 403, 404, 409), (username, reply.status_code)
        assert _commune_snapshot(app) == before, f"{username} changed something: {case.name}"
    for username in sorted(case.allowed):
        case.reset(app)
        before = _commune_snapshot(app)
        reply = _commune_post(app.test_client(), username, url, data)
        assert reply.status_code == 302, (username, reply.status_code)
        after = _commune_snapshot(app)
        assert after != before, f"{username} changed nothing: {case.name}"
        assert [m[1:3] for m in after["missing"]] == [(int(data["household"]), data["reason"])]


# --- importing a commune's household list on the web (issue 13) --------------------------------

IMPORTERS = {"X1": X1_STAFF, "X2": X2_STAFF, "Y1": Y1_STAFF}


def _household_list(code: str) -> dict:
    content = f"Mã hộ,Thôn,Họ tên chủ hộ,Tình trạng năm trước\n{code},T01,Hộ nhập,Hộ nghèo\n"
    return {"year": "2025", "file": (io.BytesIO(content.encode()), "ds.csv")}


def _registry(app) -> dict:
    from server.households.models import Household, HouseholdImport

    with app.app_context():
        return {
            "households": sorted(
                db.session.execute(
                    select(Commune.code, Household.code).join(
                        Commune, Commune.id == Household.commune_id
                    )
                ).tuples()
            ),
            "imports": sorted(
                db.session.execute(
                    select(HouseholdImport.user_id, HouseholdImport.committed_at)
                ).tuples()
            ),
            "audit": db.session.scalar(select(func.count()).select_from(AuditEvent)),
        }


@pytest.mark.parametrize("commune", list(IMPORTERS))
def test_only_the_communes_staff_import_its_households(app, world, commune):
    """Every role of two provinces × two communes (and a national administrator) uploads a list
    for the commune and tries to confirm each upload: only the commune's officer and its
    province's administrator upload (each of them does), only the uploader confirms, and for
    everyone else nothing changes — no upload kept, no household, no audit event."""
    allowed = IMPORTERS[commune]
    before = _registry(app)
    for username in ACTORS:
        if username in allowed:
            continue
        data = {"commune": commune} | _household_list(f"{commune}-T01-{username}")
        reply = _commune_post(app.test_client(), username, "/xa/nhap-ho", data)
        assert reply.status_code in (302, 401, 403, 404), (username, reply.status_code)
        if reply.status_code == 302:
            assert "/login" in reply.headers["Location"], username
        assert _registry(app) == before, f"{username} imported into {commune}"
    for uploader in sorted(allowed):
        data = {"commune": commune} | _household_list(f"{commune}-T01-{uploader}")
        reply = _commune_post(app.test_client(), uploader, "/xa/nhap-ho", data)
        assert reply.status_code == 302, (uploader, reply.status_code)
        preview = reply.headers["Location"]
        assert "/xa/nhap-ho/" in preview, preview
        uploaded = _registry(app)
        assert uploaded != before, f"{uploader} uploaded nothing"
        for username in ACTORS:
            if username == uploader:
                continue
            reply = _commune_post(app.test_client(), username, f"{preview}/xac-nhan", {})
            assert reply.status_code in (302, 401, 403, 404), (username, reply.status_code)
            if reply.status_code == 302:
                assert "/login" in reply.headers["Location"], username
            assert _registry(app) == uploaded, f"{username} confirmed {uploader}'s upload"
        reply = _commune_post(app.test_client(), uploader, f"{preview}/xac-nhan", {})
        assert reply.status_code == 302, (uploader, reply.status_code)
        before = _registry(app)
        assert (commune, f"{commune}-T01-{uploader}") in before["households"]
    assert {c for c, _code in before["households"]} == {commune}
