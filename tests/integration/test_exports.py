"""Commune-wide exports made in the background: the job runs in a real thread of the process
that accepted the request (or inline, or from ``flask exports run``), reports its progress,
produces the right XLSX and PDF, is shown with a self-refreshing progress bar and then a
download link, is invisible to another commune, is run again when its thread died, and a
failure is recorded without leaving any file behind."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select, update

from server.blobs import BlobStore, blob_store
from server.db import utcnow, write_transaction
from server.exports import commune_lists, runner
from server.exports.models import ExportJob
from server.extensions import db
from server.households.models import Household
from server.meetings.exports import SHEET_NAMES_VI
from server.meetings.services import LIST_ORDER
from tests.integration.procedure import case_rows, login, post_form, send

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def exports_app(app, tmp_path):
    """The app with its export temporary files in a folder the test can look into; no export
    thread may outlive the test."""
    app.config["EXPORTS_TMP_DIR"] = str(tmp_path / "export-tmp")
    yield app
    assert runner.join_threads(120), "an export thread outlived its test"


def request_export(browser, round_id: int, fmt: str) -> int:
    reply = post_form(browser, "/xuat", {"round_id": str(round_id), "format": fmt})
    assert reply.status_code == 302, reply.status_code
    match = re.fullmatch(r".*/xuat/(\d+)", reply.headers["Location"])
    return int(match.group(1))


def job_row(app, job_id: int) -> ExportJob:
    with app.app_context():
        job = db.session.get(ExportJob, job_id)
        db.session.expunge(job)
        return job


def set_job(app, job_id: int, **values) -> None:
    with app.app_context(), write_transaction(db.session):
        db.session.execute(update(ExportJob).where(ExportJob.id == job_id).values(**values))


def blob_files(app) -> set[Path]:
    with app.app_context():
        root = blob_store().root
    return {p.relative_to(root) for p in root.rglob("*")} if root.exists() else set()


def add_second_village(app, seeded, village, procedure_instances) -> None:
    """Two households of village T02, scored and put in the round's lists."""
    with app.app_context(), write_transaction(db.session):
        t01 = db.session.scalar(select(Household).where(Household.code == "X1-T01-0101"))
        t02 = next(v for v in t01.commune.villages if v.code == "T02")
        for code, head in (("X1-T02-0201", "Ksor Thuân"), ("X1-T02-0202", "Hoàng Thị Mai")):
            db.session.add(
                Household(
                    commune=t01.commune,
                    village=t02,
                    code=code,
                    head_name=head,
                    list_source=t01.list_source,
                )
            )
    send(app, seeded, procedure_instances["a_three_deprivations"], "X1-T02-0201")
    send(app, seeded, procedure_instances["c1_boundaries_not_deprived"], "X1-T02-0202")
    officer = village["officer"]
    assert post_form(officer, f"/xa/ra-soat/{village['round']}/lap-danh-sach", {}).status_code
    assert len(case_rows(app, village["round"])) == 6


def test_round_page_offers_the_commune_wide_exports(exports_app, village):
    page = village["officer"].get(f"/xa/ra-soat/{village['round']}").get_data(as_text=True)
    assert 'action="/xuat"' in page and "Xuất danh sách toàn xã" in page
    assert 'name="format" value="pdf"' in page and 'name="format" value="xlsx"' in page


def test_xlsx_export_runs_in_a_background_thread_and_is_downloaded(exports_app, village):
    app, officer = exports_app, village["officer"]
    assert app.config.get("EXPORTS_RUNNER", "thread") == "thread"
    job_id = request_export(officer, village["round"], "xlsx")
    assert runner.join_threads(120)
    job = job_row(app, job_id)
    assert job.state == "done", job.message
    assert job.progress_total == 4 and job.progress_done == job.progress_total
    assert job.attempts == 1 and job.started_at and job.finished_at and job.heartbeat_at
    assert job.filename == "danh-sach-toan-xa-X1-2026.xlsx" and job.mimetype == XLSX
    page_reply = officer.get(f"/xuat/{job_id}")
    page = page_reply.get_data(as_text=True)
    assert page_reply.status_code == 200 and "Refresh" not in page_reply.headers
    assert 'http-equiv="refresh"' not in page
    assert f'href="/xuat/{job_id}/tep"' in page and "Đã xong" in page and "100%" in page
    reply = officer.get(f"/xuat/{job_id}/tep")
    assert reply.status_code == 200 and reply.mimetype == XLSX
    assert "danh-sach-toan-xa-X1-2026.xlsx" in reply.headers["Content-Disposition"]
    assert reply.headers["Content-Disposition"].startswith("attachment")
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert len(reply.data) == job.size
    book = load_workbook(io.BytesIO(reply.data))
    assert book.sheetnames == [SHEET_NAMES_VI[name] for name in LIST_ORDER]
    assert book.sheetnames[:2] == ["Hộ nghèo mới", "Hộ cận nghèo mới"]
    cases = case_rows(app, village["round"])
    seen = {}
    for name in LIST_ORDER:
        rows = [list(r) for r in book[SHEET_NAMES_VI[name]].iter_rows(values_only=True)]
        header = rows.index(next(r for r in rows if r and r[0] == "STT"))
        assert rows[header][:4] == ["STT", "Thôn", "Mã hộ", "Họ tên chủ hộ"]
        assert "toàn xã" in rows[0][0] and "Xã Một" in rows[1][0]
        assert any("minh họa — không phải số liệu chính thức" in str(r[0]) for r in rows[:header])
        body = rows[header + 1 :]
        assert [r[0] for r in body] == list(range(1, len(body) + 1))
        for r in body:
            seen[r[2]] = (name, r[1], r[3])
    assert set(seen) == set(cases)
    for code, case in cases.items():
        assert seen[code] == (case.list_type, "T01 Thôn Một", case.head_name)
    reply.close()


def test_pdf_export_in_chunks_covers_every_village(
    exports_app, seeded, village, procedure_instances
):
    app, officer = exports_app, village["officer"]
    add_second_village(app, seeded, village, procedure_instances)
    app.config["EXPORTS_RUNNER"] = "inline"
    app.config["EXPORTS_PDF_CHUNK_ROWS"] = 1  # 6 households: lists cut across chunks
    job_id = request_export(officer, village["round"], "pdf")
    job = job_row(app, job_id)
    assert job.state == "done", job.message
    assert job.progress_total == 6 == job.progress_done
    reply = officer.get(f"/xuat/{job_id}/tep")
    assert reply.status_code == 200 and reply.mimetype == "application/pdf"
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(reply.data)).pages]
    reply.close()
    text = "\n".join(pages)
    squashed = re.sub(r"\s+", "", text)
    assert "TOÀN XÃ" in pages[0] and "T01 Thôn Một" in pages[0] and "Làng Ba" in pages[0]
    assert text.count("DANH SÁCH HỘ GIA ĐÌNH ĐƯA RA HỌP DÂN THỐNG NHẤT KẾT QUẢ RÀ SOÁT") >= 3
    for code, case in case_rows(app, village["round"]).items():
        assert code in squashed and re.sub(r"\s", "", case.head_name) in squashed, code
    assert "Thôn Một (tiếp theo)" in text  # a village continued in the next chunk …
    assert re.search(r"\(\d+ hộ\) — tiếp theo", text)  # … and a list
    assert "minh họa — không phải số liệu chính thức" in text
    assert squashed.index("X1-T01-0101") < squashed.index("X1-T02-0201")
    # Pages are numbered on through the chunks: from page 2 (ND 30/2020), the number alone on
    # a line (in the top margin, drawn after the text, before the foot's "Xuất bởi …" line:
    # test_export_stamp.py).
    tops = [
        [line for line in page.split("\n") if not line.startswith("Xuất bởi ")][-1].strip()
        for page in pages
    ]
    assert len(pages) >= 3 and tops[1:] == [str(n) for n in range(2, len(pages) + 1)], tops
    assert tops[0] != "1"


def test_progress_page_refreshes_until_done_and_the_command_runs_what_was_left(
    exports_app, village
):
    app, officer = exports_app, village["officer"]
    app.config["EXPORTS_RUNNER"] = "manual"
    job_id = request_export(officer, village["round"], "xlsx")
    assert request_export(officer, village["round"], "xlsx") == job_id  # not twice
    reply = officer.get(f"/xuat/{job_id}")
    page = reply.get_data(as_text=True)
    assert reply.headers["Refresh"] == "2" and '<meta http-equiv="refresh" content="2">' in page
    assert '<progress id="export-progress"' in page and "Đang chờ" in page
    assert officer.get(f"/xuat/{job_id}/tep").status_code == 404
    # Half way.
    set_job(
        app,
        job_id,
        state="running",
        progress_total=4,
        progress_done=2,
        heartbeat_at=utcnow(),
        attempts=1,
        run_token="a-live-thread",
    )
    page = officer.get(f"/xuat/{job_id}?lang=en").get_data(as_text=True)
    assert '<progress id="export-progress" value="2" max="4">' in page
    assert "50% — 2/4" in page and "Creating the file" in page
    assert 'http-equiv="refresh"' in page
    assert officer.get(f"/xuat/{job_id}/tep").status_code == 404
    # A live thread's job is left alone by the command …
    result = app.test_cli_runner().invoke(args=["exports", "run"])
    assert result.exit_code == 0 and job_row(app, job_id).state == "running", result.output
    # … until its heartbeat goes stale: then the command runs it.
    set_job(app, job_id, heartbeat_at=utcnow() - timedelta(hours=1))
    result = app.test_cli_runner().invoke(args=["exports", "run"])
    assert result.exit_code == 0, result.output
    assert f"export {job_id}: done" in result.output
    job = job_row(app, job_id)
    assert (job.state, job.progress_done, job.progress_total, job.attempts) == ("done", 4, 4, 2)
    reply = officer.get(f"/xuat/{job_id}")
    assert "Refresh" not in reply.headers and f"/xuat/{job_id}/tep" in reply.get_data(True)


def test_a_job_whose_thread_died_is_run_again_when_its_page_is_opened(exports_app, village):
    app, officer = exports_app, village["officer"]
    app.config["EXPORTS_RUNNER"] = "manual"
    job_id = request_export(officer, village["round"], "pdf")
    # A worker claimed it, reported a little progress and was killed.
    set_job(
        app,
        job_id,
        state="running",
        run_token="dead-worker",
        attempts=1,
        progress_total=4,
        progress_done=1,
        started_at=utcnow() - timedelta(hours=1),
        heartbeat_at=utcnow() - timedelta(hours=1),
    )
    app.config["EXPORTS_RUNNER"] = "thread"
    assert officer.get(f"/xuat/{job_id}").status_code == 200  # starts it again in a thread
    assert runner.join_threads(120)
    job = job_row(app, job_id)
    assert job.state == "done", job.message
    assert job.attempts == 2 and job.run_token != "dead-worker"
    assert job.progress_done == job.progress_total == 4
    # Had the dead worker come back to life, it could write nothing more.
    with app.app_context(), pytest.raises(runner.LostClaim):
        runner.Progress(job_id, "dead-worker").advance(4)
    assert job_row(app, job_id).state == "done"
    reply = officer.get(f"/xuat/{job_id}/tep")
    assert reply.status_code == 200 and reply.data.startswith(b"%PDF")
    reply.close()


def test_a_job_that_keeps_dying_ends_as_failed(exports_app, village):
    app, officer = exports_app, village["officer"]
    app.config["EXPORTS_RUNNER"] = "manual"
    job_id = request_export(officer, village["round"], "xlsx")
    stale = utcnow() - timedelta(hours=1)
    set_job(app, job_id, state="running", attempts=3, heartbeat_at=stale, run_token="x")
    app.config["EXPORTS_RUNNER"] = "inline"
    page = officer.get(f"/xuat/{job_id}").get_data(as_text=True)
    assert "Không tạo được tệp" in page and "Đã thử 3 lần" in page
    assert job_row(app, job_id).state == "failed"


def test_another_communes_officer_gets_404(exports_app, village):
    app, officer = exports_app, village["officer"]
    app.config["EXPORTS_RUNNER"] = "inline"
    job_id = request_export(officer, village["round"], "xlsx")
    assert job_row(app, job_id).state == "done"
    other = login(app, "canbo2")
    assert other.get(f"/xuat/{job_id}").status_code == 404
    assert other.get(f"/xuat/{job_id}/tep").status_code == 404
    reply = post_form(other, "/xuat", {"round_id": str(village["round"]), "format": "pdf"})
    assert reply.status_code == 404
    with app.app_context():
        assert db.session.scalars(select(ExportJob.id)).all() == [job_id]
    # The province administrator sees the commune's exports.
    admin = login(app, "admin1")
    assert admin.get(f"/xuat/{job_id}").status_code == 200
    assert officer.get("/xuat/999999").status_code == 404


def test_a_failure_is_recorded_and_leaves_no_file(exports_app, village, monkeypatch, tmp_path):
    app, officer = exports_app, village["officer"]
    app.config["EXPORTS_RUNNER"] = "inline"
    app.config["EXPORTS_PDF_CHUNK_ROWS"] = 1
    before = blob_files(app)
    rendered = []
    real = commune_lists.html_to_pdf

    def failing(html, stamp=None):
        rendered.append(1)
        if len(rendered) == 3:  # the cover and one chunk went well
            raise RuntimeError("hết dung lượng đĩa (disk full)")
        return real(html, stamp=stamp)

    monkeypatch.setattr(commune_lists, "html_to_pdf", failing)
    job_id = request_export(officer, village["round"], "pdf")
    job = job_row(app, job_id)
    assert job.state == "failed" and job.blob_sha256 is None and job.size is None
    assert "RuntimeError: hết dung lượng đĩa (disk full)" in job.message
    assert 0 < job.progress_done < job.progress_total == 4
    assert blob_files(app) == before  # nothing stored, not even a temporary file
    assert list((tmp_path / "export-tmp").iterdir()) == []
    reply = officer.get(f"/xuat/{job_id}")
    page = reply.get_data(as_text=True)
    assert "Không tạo được tệp" in page and "disk full" in page and "Refresh" not in reply.headers
    assert 'name="kind" value="commune_lists_pdf"' in page  # try again
    assert officer.get(f"/xuat/{job_id}/tep").status_code == 404
    # Trying again makes a new job, which works.
    monkeypatch.setattr(commune_lists, "html_to_pdf", real)
    again = request_export(officer, village["round"], "pdf")
    assert again != job_id and job_row(app, again).state == "done"


def test_put_file_streams_and_a_failed_copy_leaves_nothing(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    source = tmp_path / "big.bin"
    source.write_bytes(b"0123456789" * 300_000)  # 3 MB: several chunks
    stored = store.put_file(source)
    assert stored == store.put(source.read_bytes())  # the same identity as put()
    assert store.read(stored.sha256) == source.read_bytes() and source.exists()
    assert store.put_file(source) == stored  # again: harmless

    class Broken(io.RawIOBase):
        def __init__(self):
            self.calls = 0

        def readable(self):
            return True

        def read(self, size=-1):
            self.calls += 1
            if self.calls > 2:
                raise OSError("the disk went away")
            return b"x" * 1024

    files = set((tmp_path / "blobs").rglob("*"))
    with pytest.raises(OSError, match="went away"):
        store.put_stream(Broken(), chunk_size=1024)
    assert set((tmp_path / "blobs").rglob("*")) == files
