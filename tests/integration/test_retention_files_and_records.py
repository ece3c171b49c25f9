"""Retention of what is not a questionnaire's data (issue 14): the generated export files (counted
from the day each was made) and the access records (from the day of the look).  On a seeded
commune the purge removes exactly the files and records older than the rules' periods, keeps the
newer ones and the held ones, finishes after a crash midway, audits what it did, and the page of
a removed file says so; the dry run (page and command) counts them and writes nothing."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from sqlalchemy import func, select, update

from server.access.models import AccessRecord
from server.audit.models import AuditEvent
from server.blobs import blob_store
from server.db import write_transaction
from server.exports import runner
from server.exports.models import ExportJob
from server.extensions import db
from server.geography.models import Commune, Province
from server.retention import services
from server.retention.kinds import ACCESS_RECORDS, EXPORT_FILES
from server.retention.models import RetentionHold, RetentionPendingFile
from tests.integration.procedure import add_other_province, csrf, login, post_form
from tests.integration.test_retention import commune  # noqa: F401

# rasoat's defaults: generated files 6 months after they were made, access records 60 months
# after the look.  On TODAY what was made on or before 10/06/2026 and looked at on or before
# 10/12/2021 is due.
TODAY = date(2026, 12, 10)
HELD_CODE = "X1-T01-0101"
# Access records of X1 by day: (day, household code, how many).
X1_RECORDS = [
    (date(2019, 3, 1), "X1-T01-0102", 12),  # due
    (date(2021, 12, 10), "X1-T01-0103", 13),  # due: the last day of the period
    (date(2021, 12, 11), "X1-T01-0103", 4),  # kept: a day too young
    (date(2020, 5, 5), HELD_CODE, 3),  # due, but the household is held
]
DUE_RECORDS = 25


def _request(browser, round_id: int, fmt: str) -> int:
    reply = post_form(browser, "/xuat", {"round_id": str(round_id), "format": fmt})
    assert reply.status_code == 302, reply.status_code
    assert runner.join_threads(120)
    return int(re.fullmatch(r".*/xuat/(\d+)", reply.headers["Location"]).group(1))


def _record(commune_id, province_id, day, code, n) -> list[AccessRecord]:
    at = datetime.combine(day, datetime.min.time()).replace(hour=3)
    return [
        AccessRecord(
            at=at,
            day=day,
            username="canbo1",
            role="officer",
            commune_id=commune_id,
            province_id=province_id,
            kind="list",
            household_code=code,
            ref="round:1",
            count=n,
        )
        for _ in range(n)
    ]


@pytest.fixture
def seeded(app, commune):  # noqa: F811
    """Three finished exports of X1 — the new round's XLSX made 05/01/2026 (due), its PDF made
    today (kept), the old round's XLSX made 01/03/2025 (due) — and access records of X1 and of
    another province's commune Y1, of several ages."""
    officer = commune["officer"]
    jobs = {
        "old_new_round": _request(officer, commune["round"], "xlsx"),
        "fresh": _request(officer, commune["round"], "pdf"),
        "old_old_round": _request(officer, commune["old_round"], "xlsx"),
    }
    made = {"old_new_round": datetime(2026, 1, 5, 2), "old_old_round": datetime(2025, 3, 1, 2)}
    add_other_province(app, T01="Thôn Một Y")
    with app.app_context(), write_transaction(db.session):
        for name, at in made.items():
            db.session.execute(
                update(ExportJob)
                .where(ExportJob.id == jobs[name])
                .values(created_at=at, started_at=at, finished_at=at)
            )
        x1 = db.session.scalar(select(Commune).where(Commune.code == "X1"))
        y1 = db.session.scalar(select(Commune).where(Commune.code == "Y1"))
        db.session.execute(update(AccessRecord).values(at=datetime(2026, 12, 7, 3)))
        for day, code, n in X1_RECORDS:
            db.session.add_all(_record(x1.id, x1.province_id, day, code, n))
        db.session.add_all(_record(y1.id, y1.province_id, date(2019, 1, 1), "Y1-T01-0001", 5))
        shas = {
            name: db.session.get(ExportJob, job_id).blob_sha256 for name, job_id in jobs.items()
        }
    return commune | {"jobs": jobs, "shas": shas}


def _records(app) -> dict:
    """How many access records per (commune code, household code), and the youngest day."""
    with app.app_context():
        rows = db.session.execute(
            select(Commune.code, AccessRecord.household_code, func.count())
            .join(Commune, Commune.id == AccessRecord.commune_id)
            .where(AccessRecord.day < date(2026, 1, 1))
            .group_by(Commune.code, AccessRecord.household_code)
        ).all()
        recent = db.session.scalar(
            select(func.count())
            .select_from(AccessRecord)
            .where(AccessRecord.day >= date(2026, 1, 1))
        )
    return {(c, h): n for c, h, n in rows} | {"recent": recent}


def _jobs(app, jobs: dict) -> dict:
    with app.app_context():
        store = blob_store()
        found = {}
        for name, job_id in jobs.items():
            job = db.session.get(ExportJob, job_id)
            found[name] = (job.state, job.purged_at is not None, job.blob_sha256)
        found["on_disk"] = {
            s: store.exists(s)
            for s in db.session.scalars(select(ExportJob.blob_sha256))
            if s is not None
        }
        return found


def _hold_household(app, code: str = HELD_CODE) -> None:
    admin = login(app, "admin1")
    token = csrf(admin.get("/admin/luu-tru").get_data(as_text=True))
    reply = admin.post(
        "/admin/luu-tru/giu-lai",
        data={"commune": "X1", "household_code": code, "round_id": ""}
        | {"reason": "Hộ khiếu nại về việc xem dữ liệu", "csrf_token": token},
    )
    assert reply.status_code == 302


def test_dry_run_counts_files_and_records_per_commune_with_the_oldest(app, seeded):
    _hold_household(app)
    before = (_records(app), _jobs(app, seeded["jobs"]))
    with app.app_context():
        p1 = db.session.scalar(select(Province.id).where(Province.code == "P1"))
        found = services.plan(TODAY, p1)
        everywhere = services.plan(TODAY)
    by_kind = {r.kind: r for r in found.records}
    assert set(by_kind) == {EXPORT_FILES, ACCESS_RECORDS}
    assert (by_kind[EXPORT_FILES].count, by_kind[EXPORT_FILES].oldest) == (2, date(2025, 3, 1))
    assert by_kind[EXPORT_FILES].through == date(2026, 6, 10)
    assert (by_kind[ACCESS_RECORDS].count, by_kind[ACCESS_RECORDS].oldest) == (
        DUE_RECORDS,
        date(2019, 3, 1),
    )
    assert by_kind[ACCESS_RECORDS].through == date(2021, 12, 10)
    [held] = found.records_held
    assert (held.kind, held.household_code, held.count) == (ACCESS_RECORDS, HELD_CODE, 3)
    assert "Hộ khiếu nại" in held.reason
    # P1's run never counts P2's commune; the run over every province does.
    assert len(everywhere.records) == 3
    # The province page shows the same, counted from the file's making / the look.
    page = login(app, "admin1").get(f"/admin/luu-tru?ngay={TODAY.isoformat()}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert text.count('data-records="') == 2 and "01/03/2025" in text and "01/03/2019" in text
    assert "ngày tạo tệp" in text and "ngày truy cập" in text
    assert 'data-records-held="access_records"' in text and "Xã Khác" not in text
    result = app.test_cli_runner().invoke(
        args=["retention", "plan", "--province", "P1", "--today", TODAY.isoformat()]
    )
    assert result.exit_code == 0, result.output
    assert f"{DUE_RECORDS} records, oldest 01/03/2019" in result.output
    assert "2 files, oldest 01/03/2025" in result.output
    assert (_records(app), _jobs(app, seeded["jobs"])) == before


def test_apply_removes_exactly_the_old_files_and_records_and_keeps_the_rest(app, seeded):
    _hold_household(app)
    jobs, shas = seeded["jobs"], seeded["shas"]
    before = _records(app)
    with app.app_context():
        p1 = db.session.scalar(select(Province.id).where(Province.code == "P1"))
        done = services.apply(TODAY, p1)
    assert (done.export_files, done.access_records) == (2, DUE_RECORDS)
    assert done.submissions == 1  # the 2023 round's questionnaire: its files, GPS, text, XML
    after = _records(app)
    assert after == {
        ("X1", "X1-T01-0103"): 4,
        ("X1", HELD_CODE): 3,
        ("Y1", "Y1-T01-0001"): 5,  # another province: not in P1's run
        "recent": before["recent"],
    }
    state = _jobs(app, jobs)
    assert state["old_new_round"] == ("done", True, None)
    assert state["old_old_round"] == ("done", True, None)
    assert state["fresh"] == ("done", False, shas["fresh"])
    assert state["on_disk"] == {shas["fresh"]: True}
    with app.app_context():
        assert not blob_store().exists(shas["old_new_round"])
        assert not blob_store().exists(shas["old_old_round"])
        assert db.session.scalar(select(func.count()).select_from(RetentionPendingFile)) == 0
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "retention.purge").order_by(AuditEvent.id)
        ).all()
    files = [e.after for e in events if e.after["kind"] == EXPORT_FILES]
    records = [e.after for e in events if e.after["kind"] == ACCESS_RECORDS]
    assert sorted(f["files"] for f in files) == [1, 1]  # one entry per round
    assert sorted(j for f in files for j in f["export_job_ids"]) == sorted(
        [jobs["old_new_round"], jobs["old_old_round"]]
    )
    assert sum(r["records"] for r in records) == DUE_RECORDS
    assert {r["through"] for r in records} == {"2021-12-10"}
    assert all(e.actor_id is None for e in events)
    # Again: nothing left to do.
    again = app.test_cli_runner().invoke(
        args=["retention", "apply", "--province", "P1", "--today", TODAY.isoformat()]
    )
    assert again.exit_code == 0, again.output
    assert "0 export files removed" in again.output and "0 access records deleted" in again.output
    assert _records(app) == after
    # Over every province: Y1's old records go too.
    assert _apply_everywhere(app).access_records == 5


def _apply_everywhere(app, **options):
    with app.app_context():
        return services.apply(TODAY, **options)


def test_a_held_round_keeps_its_files_and_a_province_may_keep_them_all(app, seeded):
    jobs = seeded["jobs"]
    with app.app_context(), write_transaction(db.session):
        x1 = db.session.scalar(select(Commune).where(Commune.code == "X1"))
        db.session.add(
            RetentionHold(commune_id=x1.id, round_id=seeded["old_round"], reason="Thanh tra đợt")
        )
    with app.app_context():
        found = services.plan(TODAY)
    held = [r for r in found.records_held if r.kind == EXPORT_FILES]
    assert [(r.count, r.round_label) for r in held] == [(1, "2023")]
    assert "Thanh tra đợt" in held[0].reason
    done = _apply_everywhere(app)
    assert (done.export_files, done.export_files_held) == (1, 1)
    state = _jobs(app, jobs)
    assert state["old_old_round"] == ("done", False, seeded["shas"]["old_old_round"])
    assert state["old_new_round"][1] is True
    # A province that keeps generated files (an empty period) keeps them.
    admin = login(app, "admin1")
    token = csrf(admin.get("/admin/luu-tru").get_data(as_text=True))
    values = {"attachments": "24", "gps": "24", "free_text": "24", "xml": "24"}
    values |= {"answers": "60", "scores": "60", "audit": "120", "access_records": "60"}
    reply = admin.post(
        "/admin/luu-tru/quy-tac", data=values | {"export_files": ""} | {"csrf_token": token}
    )
    assert reply.status_code == 302
    with app.app_context(), write_transaction(db.session):
        db.session.execute(
            update(ExportJob)
            .where(ExportJob.id == jobs["fresh"])
            .values(finished_at=datetime(2020, 1, 1))
        )
        db.session.execute(update(RetentionHold).values(cleared_at=datetime(2026, 12, 8)))
    assert _apply_everywhere(app).export_files == 0


def test_a_crash_midway_is_finished_by_the_next_run(app, seeded):
    jobs, shas = seeded["jobs"], seeded["shas"]

    def crash_after_first_file(batch: int) -> None:
        # Batch 1 is the 2023 round's questionnaire; batch 2 the first file's: committed, its
        # blob not yet deleted.
        if batch == 2:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        _apply_everywhere(app, batch_size=1, after_commit=crash_after_first_file)
    state = _jobs(app, jobs)
    first, second = sorted([jobs["old_new_round"], jobs["old_old_round"]])
    names = {job_id: name for name, job_id in jobs.items()}
    assert state[names[first]][:2] == ("done", True)  # the row says the file is gone …
    assert state[names[second]][:2] == ("done", False)
    with app.app_context():
        assert blob_store().exists(shas[names[first]])  # … its blob still waits, listed
        assert db.session.scalar(select(func.count()).select_from(RetentionPendingFile)) == 1
    # A crash among the access records' batches: the committed batches are gone, the rest
    # stays, nothing half done.
    before = _records(app)

    def crash_after_two_record_batches(batch: int) -> None:
        if batch == 3:  # the other file's batch, then two record batches
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        _apply_everywhere(
            app, batch_size=1, records_batch_size=10, after_commit=crash_after_two_record_batches
        )
    middle = _records(app)
    removed = sum(before[k] - middle.get(k, 0) for k in before if k != "recent")
    assert removed == 20
    with app.app_context():
        assert not blob_store().exists(shas[names[first]])  # the re-run deleted it first
    done = _apply_everywhere(app, batch_size=1, records_batch_size=10)
    # No hold here: the 3 records of HELD_CODE are due too, and Y1's 5.
    assert (done.export_files, done.access_records) == (0, DUE_RECORDS + 3 + 5 - 20)
    final = _records(app)
    assert final == {("X1", "X1-T01-0103"): 4, "recent": before["recent"]}
    state = _jobs(app, jobs)
    assert state["on_disk"] == {shas["fresh"]: True}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RetentionPendingFile)) == 0
    assert _apply_everywhere(app).access_records == 0


def test_the_page_of_a_removed_file_says_so_and_offers_to_make_it_again(app, seeded):
    _apply_everywhere(app)
    officer, job = seeded["officer"], seeded["jobs"]["old_new_round"]
    page = officer.get(f"/xuat/{job}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "đã xoá theo quy định lưu trữ (ngày" in text and "Tạo lại tệp" in text
    assert f"/xuat/{job}/tep" not in text
    reply = officer.get(f"/xuat/{job}/tep")
    assert reply.status_code == 410
    assert "Tệp đã xoá theo quy định lưu trữ (ngày" in reply.get_data(as_text=True)
    fresh = seeded["jobs"]["fresh"]
    reply = officer.get(f"/xuat/{fresh}/tep")
    assert reply.status_code == 200 and reply.mimetype == "application/pdf"
    reply.close()
    # Made again from the stored data: a new job, a new file.
    again = _request(officer, seeded["round"], "xlsx")
    assert again != job
    reply = officer.get(f"/xuat/{again}/tep")
    assert reply.status_code == 200
    reply.close()
