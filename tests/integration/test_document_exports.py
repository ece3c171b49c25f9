"""The PDFs too slow for a request (issue 13) — a village's lists, the meeting's minutes, a
posting notice, the decision with its lists, every certificate of a round — are background
export jobs: the page's button (POST, CSRF)
creates the job, its page shows the progress in pages and then the download; the file is the
document the request used to render (same template and context); the old addresses no longer
render in the request but offer the job; requests and downloads are in the audit log; a
failure is shown in plain Vietnamese with a way to try again."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from server.audit.models import AuditEvent
from server.db import utcnow
from server.decisions.documents import certificates_document, decision_document
from server.decisions.models import Certificate
from server.documents.pdf import html_to_pdf
from server.exports import documents, runner
from server.exports.models import ExportJob
from server.extensions import db
from server.meetings.documents import minutes_document, village_lists_document
from server.meetings.models import ReviewRound, VillageMeeting
from server.publication.documents import posting_document
from tests.integration.procedure import (
    case_rows,
    decide,
    exported_pdf,
    login,
    post_form,
)


@pytest.fixture
def decided(app, village, tmp_path):
    app.config["EXPORTS_TMP_DIR"] = str(tmp_path / "export-tmp")
    decide(app, village)
    yield village
    assert runner.join_threads(120), "an export thread outlived its test"


# Who produced the file and when, at the foot of each page (tests/integration/test_export_stamp.py
# checks it): the job's and the request's renderings differ by it alone.
STAMP = re.compile(r"Xuấtbởi.*?\(giờViệtNam\)")


def _pages(pdf: bytes) -> list[str]:
    return [
        STAMP.sub("", re.sub(r"\s+", "", p.extract_text()))
        for p in PdfReader(io.BytesIO(pdf)).pages
    ]


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _request(browser, kind: str, **params):
    return post_form(browser, "/xuat", {"kind": kind} | {k: str(v) for k, v in params.items()})


def _job(app, job_id: int) -> ExportJob:
    with app.app_context():
        job = db.session.get(ExportJob, job_id)
        db.session.expunge(job)
        return job


def _job_id(reply) -> int:
    assert reply.status_code == 302, reply.status_code
    return int(re.fullmatch(r".*/xuat/(\d+)", reply.headers["Location"]).group(1))


def _in_request(app, build) -> list[str]:
    """What the request rendered before: the owner's document, rendered here and now."""
    with app.test_request_context(), app.app_context():
        return _pages(html_to_pdf(build().html()))


def test_every_certificate_in_a_background_thread_with_progress_per_page(app, decided, monkeypatch):
    assert app.config.get("EXPORTS_RUNNER", "thread") == "thread"
    officer, round_id = decided["officer"], decided["round"]
    commits = []
    real_commit = runner.Progress._commit

    def spy(self, **values):
        commits.append((values.get("progress_done"), values.get("progress_total", self.total)))
        return real_commit(self, **values)

    monkeypatch.setattr(runner.Progress, "_commit", spy)
    page = officer.get(f"/xa/ra-soat/{round_id}/quyet-dinh").get_data(as_text=True)
    # The decision page's buttons ask for the jobs (a form each, with its CSRF token).
    for kind in ("decision_pdf", "certificates_pdf"):
        assert re.search(
            rf'<form method="post" action="/xuat" class="inline">\s*'
            rf'<input type="hidden" name="csrf_token" value="[^"]+">\s*'
            rf'<input type="hidden" name="kind" value="{kind}">\s*'
            rf'<input type="hidden" name="round_id" value="{round_id}">',
            page,
        ), kind
    assert "quyet-dinh.pdf" not in page and 'giay-chung-nhan.pdf"' not in page

    pdf = exported_pdf(officer, "certificates_pdf", round_id=round_id)
    pages = _pages(pdf)
    with app.app_context():
        certified = db.session.scalars(select(Certificate).order_by(Certificate.sequence)).all()
        expected = [(c.number, c.case.household_code, c.case.head_name) for c in certified]
        job = db.session.scalars(select(ExportJob)).one()
    assert len(expected) >= 2 and len(pages) == len(expected)
    # Each certificate's household, in the decision's order, one page each.
    for text, (number, code, head) in zip(pages, expected, strict=True):
        assert "GIẤYCHỨNGNHẬN" in text and number in text, text
        assert code in text and _squash(head) in text, (code, text)
    # Progress: the total is the certificates, counted page by page up to it.
    assert (job.state, job.kind, job.progress_done, job.progress_total) == (
        "done",
        "certificates_pdf",
        len(expected),
        len(expected),
    )
    assert commits[0] == (0, len(expected))
    done = [d for d, _total in commits]
    assert done == sorted(done) and set(range(1, len(expected) + 1)) <= set(done), commits
    page = officer.get(f"/xuat/{job.id}").get_data(as_text=True)
    assert f"100% — {len(expected)} trang" in page and "giay-chung-nhan-2026.pdf" in page
    assert f'href="/xa/ra-soat/{round_id}/quyet-dinh"' in page  # back to the decision
    # The same content as the request rendered before.
    with app.app_context():
        review = db.session.get(ReviewRound, round_id)
        assert pages == _in_request(app, lambda: certificates_document(review))


def test_decision_and_posting_notice_jobs_inline_give_what_the_request_gave(app, decided):
    app.config["EXPORTS_RUNNER"] = "inline"
    officer, round_id = decided["officer"], decided["round"]
    decision = _pages(exported_pdf(officer, "decision_pdf", round_id=round_id))
    notice = _pages(exported_pdf(officer, "posting_pdf", round_id=round_id, number=1))
    with app.app_context():
        review = db.session.get(ReviewRound, round_id)
        assert decision == _in_request(app, lambda: decision_document(review))
        assert notice == _in_request(app, lambda: posting_document(review, 1))
    text = "".join(decision)
    assert "QUYẾTĐỊNH" in text and "125/QĐ-UBND" in text and "DANHSÁCHHỘNGHÈO" in text
    for code, case in case_rows(app, round_id).items():
        if case.final_category in ("ngheo", "can_ngheo"):
            assert code in text, code
        assert code in "".join(notice), code
    with app.app_context():
        jobs = db.session.scalars(select(ExportJob).order_by(ExportJob.id)).all()
        assert [(j.kind, j.params, j.state) for j in jobs] == [
            ("decision_pdf", {"round_id": round_id}, "done"),
            ("posting_pdf", {"round_id": round_id, "number": 1}, "done"),
        ]
        assert [j.filename for j in jobs] == ["quyet-dinh-2026.pdf", "niem-yet-2026-lan-1.pdf"]
        assert all(j.progress_done == j.progress_total >= 1 for j in jobs)
    # The posting page's button asks for the notice.
    page = officer.get(f"/xa/ra-soat/{round_id}/niem-yet").get_data(as_text=True)
    assert re.search(
        r'name="kind" value="posting_pdf">\s*<input type="hidden" name="round_id" value="'
        + str(round_id)
        + r'">\s*<input type="hidden" name="number" value="1">',
        page,
    )


def test_village_lists_and_minutes_jobs_give_what_the_request_gave(app, decided):
    app.config["EXPORTS_RUNNER"] = "inline"
    officer, round_id = decided["officer"], decided["round"]
    with app.app_context():
        meeting = db.session.scalars(select(VillageMeeting)).one()
        meeting_id = meeting.id
    lists = _pages(
        exported_pdf(officer, "village_lists_pdf", round_id=round_id, village_code="T01")
    )
    minutes = _pages(exported_pdf(officer, "minutes_pdf", round_id=round_id, meeting_id=meeting_id))
    with app.app_context():
        review = db.session.get(ReviewRound, round_id)
        meeting = db.session.get(VillageMeeting, meeting_id)
        assert lists == _in_request(app, lambda: village_lists_document(review, meeting.village))
        assert minutes == _in_request(app, lambda: minutes_document(review, meeting))
    for code, case in case_rows(app, round_id).items():
        assert code in "".join(lists) and _squash(case.head_name) in "".join(lists), code
    assert "".join(minutes).count("BIÊNBẢNHỌPDÂN") == 2
    page = officer.get(f"/xa/ra-soat/{round_id}/thon/T01").get_data(as_text=True)
    for kind in ("village_lists_pdf", "minutes_pdf"):
        assert f'name="kind" value="{kind}"' in page, kind
    assert "danh-sach.pdf" not in page and "bien-ban.pdf" not in page


def test_the_old_addresses_offer_the_job_instead_of_rendering(app, decided):
    app.config["EXPORTS_RUNNER"] = "manual"
    officer, round_id = decided["officer"], decided["round"]
    base = f"/xa/ra-soat/{round_id}"
    with app.app_context():
        meeting_id = db.session.scalar(select(VillageMeeting.id))
    for url, kind, fields in (
        (
            f"{base}/thon/T01/danh-sach.pdf",
            "village_lists_pdf",
            {"round_id": round_id, "village_code": "T01"},
        ),
        (
            f"{base}/hop-dan/{meeting_id}/bien-ban.pdf",
            "minutes_pdf",
            {"round_id": round_id, "meeting_id": meeting_id},
        ),
        (f"{base}/giay-chung-nhan.pdf", "certificates_pdf", {"round_id": round_id}),
        (f"{base}/quyet-dinh.pdf", "decision_pdf", {"round_id": round_id}),
        (f"{base}/niem-yet/1.pdf", "posting_pdf", {"round_id": round_id, "number": 1}),
    ):
        reply = officer.get(url)
        assert reply.status_code == 200 and reply.mimetype == "text/html", url
        assert not reply.data.startswith(b"%PDF") and "Content-Disposition" not in reply.headers
        page = reply.get_data(as_text=True)
        assert "Tạo tệp PDF" in page and "được tạo trong nền" in page
        assert f'name="kind" value="{kind}"' in page, url
        for name, value in fields.items():
            assert f'name="{name}" value="{value}"' in page, (url, name)
        # Its button makes the job; asking again while it waits gives the same job.
        first = _job_id(_request(officer, kind, **fields))
        assert _job_id(_request(officer, kind, **fields)) == first
    with app.app_context():
        assert db.session.query(ExportJob).count() == 5
    # One certificate (a page) is still made in the request.
    with app.app_context():
        certificate_id = db.session.scalar(select(Certificate.id))
    reply = officer.get(f"{base}/giay-chung-nhan/{certificate_id}.pdf")
    assert reply.status_code == 200 and reply.data.startswith(b"%PDF")
    # What does not exist is still 404, on the old address and for the job.
    assert officer.get(f"{base}/niem-yet/9.pdf").status_code == 404
    assert _request(officer, "posting_pdf", round_id=round_id, number=9).status_code == 404


def test_progress_page_counts_pages_and_refreshes_without_script(app, decided):
    app.config["EXPORTS_RUNNER"] = "manual"
    officer, round_id = decided["officer"], decided["round"]
    job_id = _job_id(_request(officer, "certificates_pdf", round_id=round_id))
    with app.app_context():
        job = db.session.get(ExportJob, job_id)
        job.state, job.progress_total, job.progress_done = "running", 8, 2
        job.run_token, job.heartbeat_at, job.attempts = "live", utcnow(), 1
        db.session.commit()
    reply = officer.get(f"/xuat/{job_id}")
    page = reply.get_data(as_text=True)
    assert reply.headers["Refresh"] == "2" and '<meta http-equiv="refresh" content="2">' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # no inline script
    assert '<progress id="export-progress" value="2" max="8">' in page
    assert "25% — 2/8 trang" in page and "ước tính" in page
    assert "Tất cả giấy chứng nhận (PDF)" in page
    # All pages counted but the file not yet written: not 100 % yet.
    with app.app_context():
        job = db.session.get(ExportJob, job_id)
        job.progress_done = 8
        db.session.commit()
    assert "99% — 8/8 trang" in officer.get(f"/xuat/{job_id}").get_data(as_text=True)


def test_a_failed_document_says_so_in_vietnamese_and_can_be_tried_again(app, decided, monkeypatch):
    app.config["EXPORTS_RUNNER"] = "inline"
    officer, round_id = decided["officer"], decided["round"]

    def broken(html, on_page=None, stamp=None):
        on_page(1)
        raise OSError("No space left on device")

    monkeypatch.setattr(documents, "html_to_pdf", broken)
    job_id = _job_id(_request(officer, "decision_pdf", round_id=round_id))
    job = _job(app, job_id)
    assert job.state == "failed" and job.blob_sha256 is None
    page = officer.get(f"/xuat/{job_id}").get_data(as_text=True)
    assert "Không tạo được tệp" in page and "Có lỗi khi tạo tệp" in page
    assert "hãy bấm “Thử lại”" in page and "No space left on device" in page
    assert officer.get(f"/xuat/{job_id}/tep").status_code == 404
    assert 'name="kind" value="decision_pdf"' in page
    assert f'name="round_id" value="{round_id}"' in page
    monkeypatch.setattr(documents, "html_to_pdf", html_to_pdf)
    again = _job_id(_request(officer, "decision_pdf", round_id=round_id))
    assert again != job_id and _job(app, again).state == "done"


def test_requests_and_downloads_are_in_the_audit_log(app, decided):
    app.config["EXPORTS_RUNNER"] = "inline"
    officer, round_id = decided["officer"], decided["round"]
    exported_pdf(officer, "certificates_pdf", round_id=round_id)
    with app.app_context():
        job = db.session.scalars(select(ExportJob)).one()
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.target_type == "export_job").order_by(AuditEvent.id)
        ).all()
        assert [(e.action, e.target_id, e.actor.username) for e in events] == [
            ("export.request", str(job.id), "canbo1"),
            ("export.download", str(job.id), "canbo1"),
        ]
        assert events[0].after == {"kind": "certificates_pdf", "round_id": round_id}
        assert events[1].after["filename"] == "giay-chung-nhan-2026.pdf"
        assert {e.commune_id for e in events} == {job.commune_id}
    log = login(app, "admin1").get("/admin/nhat-ky?target_type=export_job").get_data(True)
    assert "Yêu cầu xuất tệp" in log and "Tải tệp đã xuất" in log


def test_another_commune_gets_404_for_the_jobs_and_the_old_addresses(app, decided):
    app.config["EXPORTS_RUNNER"] = "inline"
    officer, round_id = decided["officer"], decided["round"]
    job_id = _job_id(_request(officer, "certificates_pdf", round_id=round_id))
    other = login(app, "canbo2")
    base = f"/xa/ra-soat/{round_id}"
    for url in (
        f"/xuat/{job_id}",
        f"/xuat/{job_id}/tep",
        f"{base}/giay-chung-nhan.pdf",
        f"{base}/quyet-dinh.pdf",
        f"{base}/niem-yet/1.pdf",
    ):
        assert other.get(url).status_code == 404, url
    for kind, extra in (("certificates_pdf", {}), ("decision_pdf", {}), ("posting_pdf", {})):
        fields = {"round_id": round_id} | extra | ({"number": 1} if kind == "posting_pdf" else {})
        assert _request(other, kind, **fields).status_code == 404, kind
    with app.app_context():
        assert db.session.scalars(select(ExportJob.id)).all() == [job_id]


def test_no_decision_yet_no_job(app, village):
    officer, round_id = village["officer"], village["round"]
    for kind in ("decision_pdf", "certificates_pdf"):
        assert _request(officer, kind, round_id=round_id).status_code == 404
    assert officer.get(f"/xa/ra-soat/{round_id}/quyet-dinh.pdf").status_code == 404
    assert officer.get(f"/xa/ra-soat/{round_id}/giay-chung-nhan.pdf").status_code == 404
    assert _request(officer, "no_such_kind", round_id=round_id).status_code == 404
    with app.app_context():
        assert db.session.scalars(select(ExportJob.id)).all() == []
