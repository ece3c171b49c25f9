"""Access records (issue 14, "every look is recorded"): each instrumented page, file and API
read writes who (account, role), what kind of data, which households or which list, and how
many households it carried — after the process's buffer is written; a failure to write never
fails the page; the province's log page filters, is scoped to the administrator's province and
refused to everyone else, and lists an account's unusually heavy day at the top."""

from __future__ import annotations

import base64
import logging
import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import delete, event, insert, select

from server.access import recorder as access_recorder
from server.access.models import AccessRecord
from server.access.recorder import RoundCases
from server.access.services import Seen, flush, record_access
from server.accounts.models import Role
from server.accounts.services import create_user
from server.db import utcnow, write_transaction
from server.exports import runner
from server.extensions import db
from server.geography.models import Commune, Province
from server.households.models import Household
from server.meetings.models import HouseholdCase
from server.submissions.models import Submission
from tests.conftest import seed
from tests.integration.procedure import (
    add_national_admin,
    add_other_province,
    add_village_heads,
    login,
    post_form,
    try_login,
)

HTTPS = "https://rasoat.test"


def _basic(username: str, password: str = "matkhau-123") -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _records(app, **where) -> list[AccessRecord]:
    with app.app_context():
        query = select(AccessRecord).order_by(AccessRecord.id)
        for name, value in where.items():
            query = query.where(getattr(AccessRecord, name) == value)
        records = list(db.session.scalars(query))
        db.session.expunge_all()
        return records


def _clear(app) -> None:
    with app.app_context(), write_transaction(db.session):
        db.session.execute(delete(AccessRecord))


def _ids(app) -> dict:
    with app.app_context():
        households = dict(
            db.session.execute(
                select(Household.code, Household.id).where(Household.code.like("X1-%"))
            )
            .tuples()
            .all()
        )
        x1, province = db.session.execute(
            select(Commune.id, Commune.province_id).where(Commune.code == "X1")
        ).one()
        return {"households": households, "x1": x1, "province": province}


def _submission_of(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(HouseholdCase.submission_id).where(HouseholdCase.household_code == code)
        )


# --- each instrumented route ------------------------------------------------------------------


def test_each_instrumented_route_records_who_role_kind_and_households(app, village):
    officer = village["officer"]
    _clear(app)
    ids = _ids(app)
    lam = ids["households"]["X1-T01-0101"]
    submission_id = _submission_of(app, "X1-T01-0101")

    # The submission's page: its answers (with files, score and history) of one household.
    assert officer.get(f"/xa/phieu/{submission_id}").status_code == 200
    (record,) = _records(app)
    assert (record.username, record.role, record.kind) == ("canbo1", "officer", "answers")
    assert (record.household_id, record.household_code) == (lam, "X1-T01-0101")
    assert (record.submission_id, record.count) == (submission_id, 1)
    assert (record.commune_id, record.province_id) == (ids["x1"], ids["province"])
    assert record.endpoint == "review.detail"
    assert record.ref == f"submission:{submission_id}"
    assert abs(record.at - utcnow()) < timedelta(minutes=1)

    # One of its files (a photo): the household and the file's name.
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        name = next(a.name for a in submission.current_version.attachments if a.blob_sha256)
    _clear(app)
    assert officer.get(f"/xa/phieu/{submission_id}/tep/{name}").status_code == 200
    (record,) = _records(app)
    assert (record.kind, record.household_id, record.ref) == ("photo", lam, f"file:{name}")

    # The household's page across years.
    _clear(app)
    assert officer.get("/xa/ho/X1-T01-0101").status_code == 200
    (record,) = _records(app)
    assert (record.kind, record.household_id, record.household_code) == (
        "history",
        lam,
        "X1-T01-0101",
    )
    assert record.endpoint == "workspace.household"

    # The village's meeting lists, on the page and as XLSX: one record per household carried.
    for url, kind in ((village["url"], "list"), (f"{village['url']}/danh-sach.xlsx", "xlsx")):
        _clear(app)
        assert officer.get(url).status_code == 200
        records = _records(app)
        assert {r.kind for r in records} == {kind}
        assert {r.household_id for r in records} == set(ids["households"].values())
        assert {r.count for r in records} == {4}
        assert {r.ref for r in records} == {f"round:{village['round']}/village:T01"}

    # A refused look (another commune's officer) records nothing.
    _clear(app)
    stranger = _other_officer(app)
    assert stranger.get(f"/xa/phieu/{submission_id}").status_code == 404
    assert stranger.get("/xa/ho/X1-T01-0101").status_code == 404
    assert _records(app) == []


def _other_officer(app):
    with app.app_context():
        exists = db.session.scalar(select(Commune.id).where(Commune.code == "X2"))
    assert exists
    return login(app, "canbo2")


def test_the_commune_wide_export_records_every_household_it_carries_when_downloaded(app, village):
    officer = village["officer"]
    reply = post_form(officer, "/xuat", {"round_id": str(village["round"]), "format": "xlsx"})
    job_url = reply.headers["Location"]
    job_id = int(job_url.rsplit("/", 1)[-1])
    assert runner.join_threads(120)
    _clear(app)
    assert officer.get(job_url).status_code == 200
    assert _records(app) == []  # the job's page shows no household
    assert officer.get(f"{job_url}/tep").status_code == 200
    records = _records(app)
    ids = _ids(app)
    assert {r.kind for r in records} == {"xlsx"}
    assert {r.household_code for r in records} == set(ids["households"])
    assert {r.count for r in records} == {4}
    assert {r.ref for r in records} == {f"export:{job_id}"}
    assert {(r.username, r.role) for r in records} == {("canbo1", "officer")}


def test_recording_after_a_commit_does_not_load_the_user_again(app, village):
    """An export's download commits (it counts the download) before it records the look; the
    commit expires the request's user, whose name and role the record needs: they come from
    what was noted when the user was loaded, so recording adds no query for the user."""
    officer = village["officer"]
    reply = post_form(officer, "/xuat", {"round_id": str(village["round"]), "format": "xlsx"})
    job_url = reply.headers["Location"]
    assert runner.join_threads(120)
    recorder = app.extensions["rasoat.access"]
    with app.app_context():
        engine = db.engine

    def users_read() -> int:
        statements: list[str] = []

        def seen(conn, cursor, statement, parameters, context, executemany):
            statements.append(" ".join(statement.split()))

        event.listen(engine, "before_cursor_execute", seen)
        try:
            assert officer.get(f"{job_url}/tep").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        return sum(1 for s in statements if re.search(r"\bFROM users\b", s))

    _clear(app)
    recorded = users_read()
    records = _records(app)
    assert records and {(r.username, r.role) for r in records} == {("canbo1", "officer")}
    mode = recorder.mode
    recorder.mode = "off"
    try:
        not_recorded = users_read()
    finally:
        recorder.mode = mode
    assert recorded == not_recorded


def test_the_json_api_reads_are_recorded(app, client, village):
    _clear(app)
    listing = client.get("/api/v1/submissions", headers=_basic("canbo1"), base_url=HTTPS)
    assert listing.status_code == 200
    items = listing.json["items"]
    records = _records(app)
    assert {r.kind for r in records} == {"api"}
    assert {r.submission_id for r in records} == {item["id"] for item in items}
    assert {r.count for r in records} == {len(items)}
    assert {r.household_code for r in records} == set(_ids(app)["households"])
    assert {r.endpoint for r in records} == {"submissions_api.list_submissions"}

    submission_id = _submission_of(app, "X1-T01-0102")
    for url, kind in (
        (f"/api/v1/submissions/{submission_id}", "api"),
        (f"/api/v1/submissions/{submission_id}/score", "score"),
    ):
        _clear(app)
        assert client.get(url, headers=_basic("canbo1"), base_url=HTTPS).status_code == 200
        (record,) = _records(app)
        assert (record.kind, record.household_code, record.submission_id) == (
            kind,
            "X1-T01-0102",
            submission_id,
        )
        assert (record.username, record.role) == ("canbo1", "officer")


# --- never breaking a page ------------------------------------------------------------------


def test_a_failed_write_never_breaks_the_page_and_is_retried(app, village, monkeypatch, caplog):
    officer = village["officer"]
    _clear(app)

    def broken(self, rows):
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(access_recorder.AccessRecorder, "_write", broken)
    with caplog.at_level(logging.ERROR, logger="rasoat.access"):
        assert officer.get("/xa/ho/X1-T01-0101").status_code == 200
        assert officer.get(village["url"]).status_code == 200
    assert "could not write" in caplog.text
    assert _records(app) == []
    recorder = app.extensions["rasoat.access"]
    assert recorder.pending() == 5  # kept for the next try: 1 household + 4 of the list
    monkeypatch.undo()
    with app.app_context():
        assert flush() == 5
    assert len(_records(app)) == 5


def test_a_failure_to_queue_never_breaks_the_page(app, village, monkeypatch, caplog):
    def broken(self, rows):
        raise MemoryError

    monkeypatch.setattr(access_recorder.AccessRecorder, "add", broken)
    with caplog.at_level(logging.ERROR, logger="rasoat.access"):
        assert village["officer"].get("/xa/ho/X1-T01-0101").status_code == 200
    assert "could not queue" in caplog.text


def test_a_full_buffer_drops_the_oldest_rows_and_says_so(app, caplog):
    recorder = app.extensions["rasoat.access"]
    recorder.max_buffer = 3
    with caplog.at_level(logging.ERROR, logger="rasoat.access"):
        recorder._keep([{"n": n} for n in range(5)])
    assert recorder.pending() == 3
    assert "2 oldest records dropped" in caplog.text
    recorder._rows.clear()


def test_in_the_background_rows_are_written_by_the_process_thread(make_app, sqlite_url):
    app = make_app(
        sqlite_url, ACCESS_RECORDS="background", ACCESS_RECORDS_BATCH=3, ACCESS_RECORDS_SECONDS=30
    )
    seeded = seed(app)
    browser = login(app, seeded.admin)
    recorder = app.extensions["rasoat.access"]
    assert recorder.mode == "background"
    with app.test_request_context():
        record_access("history", [Seen(None, "A", None)], actor=None)
        record_access("history", [Seen(None, "B", None)], actor=None)
    assert recorder.pending() == 2  # under the batch: waiting (30 s)
    assert _records(app) == []
    with app.test_request_context():
        record_access("history", [Seen(None, "C", None)], actor=None)  # the batch is full
    deadline = time.monotonic() + 10
    while len(_records(app)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [r.household_code for r in _records(app)] == ["A", "B", "C"]
    assert browser.get("/admin/truy-cap").status_code == 200


# --- the log page ---------------------------------------------------------------------------


@pytest.fixture
def two_provinces(app, seeded):
    """P1 (X1, X2) and P2 (Y1), every role, and records in each commune."""
    add_other_province(app, T01="Thôn Một Y")
    add_national_admin(app)
    add_village_heads(app, {"truongthon1": "T01"})
    with app.app_context(), write_transaction(db.session):
        communes = dict(db.session.execute(select(Commune.code, Commune.id)).tuples().all())
        provinces = dict(db.session.execute(select(Province.code, Province.id)).tuples().all())
        for username, code in (("canbo.y1", "Y1"), ("canbo2", "X2")):
            create_user(
                username=username,
                display_name=f"Cán bộ xã {code}",
                role=Role.OFFICER,
                password="matkhau-123",
                commune=db.session.get(Commune, communes[code]),
            )
        today = utcnow().replace(microsecond=0)
        rows = []
        for commune, province, who, code, days_ago in (
            ("X1", "P1", "canbo1", "X1-T01-0101", 0),
            ("X1", "P1", "canbo1", "X1-T01-0102", 3),
            ("X2", "P1", "canbo2", "X2-T01-0001", 0),
            ("Y1", "P2", "canbo.y1", "Y1-T01-0001", 0),
        ):
            at = today - timedelta(days=days_ago)
            rows.append(
                {
                    "at": at,
                    "day": (at + timedelta(hours=7)).date(),
                    "user_id": None,
                    "username": who,
                    "role": "officer",
                    "commune_id": communes[commune],
                    "province_id": provinces[province],
                    "kind": "history",
                    "household_id": None,
                    "household_code": code,
                    "submission_id": None,
                    "ref": None,
                    "count": 1,
                    "endpoint": "workspace.household",
                }
            )
        db.session.execute(insert(AccessRecord), rows)
    return {"today": (today + timedelta(hours=7)).date()}


def _codes(page: str) -> set[str]:
    return set(re.findall(r"<code>([A-Z0-9-]+)</code>", page))


def test_the_log_is_scoped_to_the_administrators_province(app, two_provinces):
    everything = {"X1-T01-0101", "X1-T01-0102", "X2-T01-0001", "Y1-T01-0001"}
    seen = {
        "admin1": {"X1-T01-0101", "X1-T01-0102", "X2-T01-0001"},
        "admin2": {"Y1-T01-0001"},
        "quocgia": everything,
    }
    for username, codes in seen.items():
        page = login(app, username).get("/admin/truy-cap")
        assert page.status_code == 200, username
        assert _codes(page.get_data(as_text=True)) == codes, username
    # Commune officers of either province, a village head: no access.
    for username in ("canbo1", "canbo2", "canbo.y1", "truongthon1"):
        assert login(app, username).get("/admin/truy-cap").status_code == 403, username
    # A reviewer (ODK Collect only) has no page at all.
    browser, reply = try_login(app, "rsv1", "rsv1-pass-xyz")
    if reply.status_code == 302:
        assert browser.get("/admin/truy-cap").status_code in (302, 403)
    # Asking for another province's commune shows nothing of it.
    page = login(app, "admin1").get("/admin/truy-cap?commune=Y1")
    assert _codes(page.get_data(as_text=True)) == set()


def test_the_log_filters_by_person_household_commune_and_dates(app, two_provinces):
    admin = login(app, "admin1")
    today = two_provinces["today"]

    def codes(query: str) -> set[str]:
        reply = admin.get(f"/admin/truy-cap?{query}")
        assert reply.status_code == 200
        return _codes(reply.get_data(as_text=True))

    assert codes("person=canbo1") == {"X1-T01-0101", "X1-T01-0102"}
    assert codes("person=canbo.y1") == set()  # another province's account
    assert codes("household=X1-T01-0102") == {"X1-T01-0102"}
    assert codes("commune=X2") == {"X2-T01-0001"}
    assert codes(f"date_from={today.isoformat()}") == {"X1-T01-0101", "X2-T01-0001"}
    earlier = (today - timedelta(days=1)).isoformat()
    assert codes(f"date_to={earlier}") == {"X1-T01-0102"}
    assert codes("kind=pdf") == set()
    assert codes("date_from=not-a-date&person=" + "x" * 500) == set()  # bounded, no error


def test_an_unusually_heavy_reader_is_flagged_at_the_top(app, two_provinces):
    app.config["ACCESS_UNUSUAL_HOUSEHOLDS_PER_DAY"] = 5
    app.config["ACCESS_UNUSUAL_COMMUNES_PER_DAY"] = 1
    with app.app_context(), write_transaction(db.session):
        x1, x2 = (
            db.session.scalar(select(Commune).where(Commune.code == code)) for code in ("X1", "X2")
        )
        now = utcnow()
        base = {
            "at": now,
            "day": (now + timedelta(hours=7)).date(),
            "user_id": None,
            "role": "officer",
            "province_id": x1.province_id,
            "submission_id": None,
            "ref": "export:1",
            "endpoint": "exports.download",
        }
        heavy = [
            base
            | {
                "username": "doc.nhieu",
                "kind": "xlsx",
                "commune_id": (x1 if n % 2 else x2).id,
                "household_id": 1000 + n,
                "household_code": f"H{n}",
                "count": 8,
            }
            for n in range(8)
        ]
        light = [
            base
            | {
                "username": "doc.it",
                "kind": "history",
                "commune_id": x1.id,
                "household_id": 2000 + n,
                "household_code": f"L{n}",
                "count": 1,
            }
            for n in range(3)
        ]
        db.session.execute(insert(AccessRecord), heavy + light)
    page = login(app, "admin1").get("/admin/truy-cap").get_data(as_text=True)
    unusual = page.split('class="unusual"', 1)[1].split("</table>", 1)[0]
    assert "doc.nhieu" in unusual
    assert "doc.it" not in unusual
    assert re.search(r"<td>8 <strong>", unusual)  # 8 households, above 5
    assert re.search(r"<td>2 <strong>", unusual)  # 2 communes exported, above 1
    # The thresholds are shown, and the flag comes before the list.
    assert "5 hộ" in page and "1 xã" in page
    assert page.index('class="unusual"') < page.index('class="access-records"')
    # Another province's administrator does not see this province's heavy reader.
    other = login(app, "admin2").get("/admin/truy-cap").get_data(as_text=True)
    assert "doc.nhieu" not in other


def test_the_log_page_is_linked_beside_the_audit_log(app, seeded):
    page = login(app, "admin1").get("/admin/nhat-ky").get_data(as_text=True)
    assert 'href="/admin/truy-cap"' in page


def test_the_log_page_in_english(app, two_provinces):
    browser = login(app, "admin1")
    page = browser.get("/admin/truy-cap?lang=en").get_data(as_text=True)
    assert "Access log" in page


def test_a_rounds_households_are_expanded_when_written_and_an_empty_one_still_recorded(
    app, village
):
    _clear(app)
    with app.app_context():
        x1 = db.session.scalar(select(Commune.id).where(Commune.code == "X1"))
    with app.test_request_context():
        record_access("pdf", RoundCases(village["round"], village_code="T01"), commune_id=x1)
        record_access("pdf", RoundCases(village["round"], village_code="T02"), commune_id=x1)
        assert app.extensions["rasoat.access"].pending() == 2  # one queued row each
        assert flush() == 2
    records = _records(app)
    t01 = [r for r in records if r.household_code]
    assert {r.household_code for r in t01} == set(_ids(app)["households"])
    assert {r.count for r in t01} == {4}
    assert {(r.username, r.commune_id, r.kind) for r in records} == {("-", x1, "pdf")}
    (empty,) = [r for r in records if not r.household_code]  # T02 has no household
    assert empty.count == 0


# --- the audit log names households: reading it is a look too ---------------------------------


def test_the_audit_log_page_and_its_csv_record_the_households_they_name(app, village):
    """The audit log names households (a household's code, a case, a questionnaire, a code among
    the values): the province administrator's page records a ``list`` look and the CSV a
    ``csv`` look at each household it carries, never one of another province."""
    from server.audit.services import record

    ids = _ids(app)
    add_other_province(app, T01="Thôn Một Y")
    submission = _submission_of(app, "X1-T01-0103")
    with app.app_context(), write_transaction(db.session):
        case = db.session.scalar(
            select(HouseholdCase).where(HouseholdCase.household_code == "X1-T01-0102")
        )
        y1 = db.session.scalar(select(Commune.id).where(Commune.code == "Y1"))
        record("household.correction", "household", "X1-T01-0101", commune_id=ids["x1"])
        record("case.stage", "household_case", case.id, commune_id=ids["x1"])
        record("submission.comment", "submission", submission, commune_id=ids["x1"])
        record("household.correction", "household", "Y1-T01-0009", commune_id=y1)
    _clear(app)
    admin = login(app, "admin1")
    page = admin.get("/admin/nhat-ky")
    assert page.status_code == 200 and "X1-T01-0101" in page.get_data(as_text=True)
    looks = _records(app, username="admin1")
    assert {r.kind for r in looks} == {"list"} and {r.ref for r in looks} == {"audit:page"}
    assert {r.household_code for r in looks} >= {"X1-T01-0101", "X1-T01-0102", "X1-T01-0103"}
    assert "Y1-T01-0009" not in {r.household_code for r in looks}
    assert all(r.role == "admin" and r.endpoint == "audit.index" for r in looks)
    assert {r.household_id for r in looks if r.household_code == "X1-T01-0101"} == {
        ids["households"]["X1-T01-0101"]
    }
    _clear(app)
    reply = admin.get("/admin/nhat-ky.csv")
    assert reply.status_code == 200 and "X1-T01-0101" in reply.get_data(as_text=True)
    looks = _records(app, username="admin1")
    assert {r.kind for r in looks} == {"csv"} and {r.ref for r in looks} == {"audit:csv"}
    assert {r.household_code for r in looks} >= {"X1-T01-0101", "X1-T01-0102", "X1-T01-0103"}
    assert all(r.count == len(looks) for r in looks)
    # The log page names the kind in words, and counts the CSV as data leaving the server.
    text = admin.get("/admin/truy-cap?kind=csv").get_data(as_text=True)
    assert "Tệp CSV" in text and "tệp CSV nhật ký thay đổi" in text
    # A page of events naming no household records nothing.
    _clear(app)
    assert admin.get("/admin/nhat-ky?action=user.create").status_code == 200
    assert _records(app, username="admin1") == []
