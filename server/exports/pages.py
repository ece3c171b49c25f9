"""Staff pages of the exports (``/xuat``): request one (POST, from a round's page), watch it
(the page refreshes itself every 2 s while the file is being made: no JavaScript, for weak
laptops) and download it.  A job is visible to the staff whose scope includes its commune;
anyone else gets 404."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, send_file, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from server.accounts.models import Role
from server.accounts.web import staff_page
from server.blobs import blob_store
from server.db import write_transaction
from server.errors import AppError
from server.exports import runner
from server.exports.models import DONE, FAILED, QUEUED, RUNNING, ExportJob
from server.extensions import db
from server.filetypes import inert
from server.geography.models import Commune
from server.meetings.services import round_for
from server.submissions.scope import commune_scope

bp = Blueprint("exports", __name__, url_prefix="/xuat")
STAFF = (Role.OFFICER, Role.ADMIN)
REFRESH_SECONDS = 2

STATE_LABELS = {
    QUEUED: _l("Đang chờ"),
    RUNNING: _l("Đang tạo tệp"),
    DONE: _l("Đã xong"),
    FAILED: _l("Không tạo được tệp"),
}


def _job_or_404(job_id: int) -> ExportJob:
    job = db.session.scalar(
        select(ExportJob)
        .join(Commune, Commune.id == ExportJob.commune_id)
        .where(ExportJob.id == job_id, commune_scope(current_user))
    )
    if job is None:
        abort(404)
    return job


@bp.post("")
@staff_page(*STAFF)
def create():
    """Queue the commune-wide lists of a round (``round_id``, ``format`` pdf/xlsx) and go to
    the job's page."""
    try:
        round_id = int(request.form.get("round_id", ""))
    except ValueError:
        abort(404)
    fmt = request.form.get("format", "")
    if f"commune_lists_{fmt}" not in runner.KINDS:
        abort(400)
    try:
        with write_transaction(db.session):
            review = round_for(current_user, round_id)
            job = runner.request_commune_lists(current_user, review, fmt)
            job_id, fresh = job.id, job.state == QUEUED and job.attempts == 0
    except AppError as error:
        abort(error.status)
    if fresh:
        runner.start(job_id)
    return redirect(url_for(".job_page", job_id=job_id))


@bp.get("/<int:job_id>")
@staff_page(*STAFF)
def job_page(job_id: int):
    job = _job_or_404(job_id)
    if job.active and runner.is_stale(job):
        runner.recover_stale()  # its thread died: run it (and any other lost one) again
        db.session.rollback()  # a fresh read (SQLite keeps the transaction's snapshot)
        job = _job_or_404(job_id)
    review_id = job.params.get("round_id")
    response = render_template(
        "exports/job.html",
        job=job,
        label=runner.KINDS[job.kind].label if job.kind in runner.KINDS else job.kind,
        states=STATE_LABELS,
        refresh=REFRESH_SECONDS if job.active else None,
        review_id=review_id if isinstance(review_id, int) else None,
    )
    headers = {"Cache-Control": "no-store"}
    if job.active:
        headers["Refresh"] = str(REFRESH_SECONDS)  # as the <meta> in the page
    return response, 200, headers


@bp.get("/<int:job_id>/tep")
@staff_page(*STAFF)
def download(job_id: int):
    job = _job_or_404(job_id)
    if job.state != DONE or not job.blob_sha256:
        abort(404)
    path = blob_store().path_for(job.blob_sha256)
    if not path.is_file():
        abort(404)
    # Generated here (XLSX, PDF), yet a stored file all the same: a download, never run.
    return inert(
        send_file(
            path,
            mimetype=job.mimetype or "application/octet-stream",
            as_attachment=True,
            download_name=job.filename or f"xuat-{job.id}",
            max_age=0,
        )
    )
