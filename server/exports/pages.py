"""Staff pages of the exports (``/xuat``): request one (POST, from the page the file belongs
to: a round's, the decision's, the posting's), watch it (the page refreshes itself every 2 s
while the file is being made: no JavaScript, for weak laptops) and download it (recorded in the
audit log, as the request is).  A job is visible to the staff whose scope includes its commune
and who may have its file; anyone else gets 404."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, send_file, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from server.access.services import export_households, export_kind, record_access
from server.accounts.models import VIEWER_ROLES
from server.accounts.web import staff_page
from server.blobs import blob_store
from server.db import write_transaction
from server.errors import AppError
from server.exports import runner
from server.exports.models import DONE, FAILED, QUEUED, RUNNING, ExportJob
from server.extensions import db
from server.filetypes import inert
from server.geography.models import Commune
from server.retention.services import export_file_purged
from server.submissions.scope import commune_scope

bp = Blueprint("exports", __name__, url_prefix="/xuat")
# Village heads ask for their villages' lists and minutes (each kind says who may have it).
VIEWERS = VIEWER_ROLES
REFRESH_SECONDS = 2

STATE_LABELS = {
    QUEUED: _l("Đang chờ"),
    RUNNING: _l("Đang tạo tệp"),
    DONE: _l("Đã xong"),
    FAILED: _l("Không tạo được tệp"),
}


def _job_or_404(job_id: int) -> ExportJob:
    """The job if its commune is within the user's scope and the user may have its file (the
    check of the page that offers it, run again: a village head of the commune, say, or a file
    whose document is gone); 404 otherwise."""
    job = db.session.scalar(
        select(ExportJob)
        .join(Commune, Commune.id == ExportJob.commune_id)
        .where(ExportJob.id == job_id, commune_scope(current_user))
    )
    if job is None:
        abort(404)
    try:
        runner.authorize(current_user, job.kind, job.params)
    except AppError:
        abort(404)
    return job


def _params(kind: runner.ExportKind) -> dict:
    try:
        return {name: read(request.form.get(name, "")) for name, read in kind.fields.items()}
    except ValueError:
        abort(404)


@bp.post("")
@staff_page(*VIEWERS)
def create():
    """Queue a file (``kind``, or for the commune-wide lists ``format`` pdf/xlsx, with the
    kind's fields: ``round_id`` …) and go to the job's page."""
    name = request.form.get("kind") or f"commune_lists_{request.form.get('format', '')}"
    kind = runner.KINDS.get(name)
    if kind is None:  # no such file to make
        abort(404)
    params = _params(kind)
    try:
        with write_transaction(db.session):
            job = runner.request_export(current_user, name, params)
            job_id, fresh = job.id, job.state == QUEUED and job.attempts == 0
    except AppError as error:
        abort(error.status)
    if fresh:
        runner.start(job_id)
    return redirect(url_for(".job_page", job_id=job_id))


@bp.get("/<int:job_id>")
@staff_page(*VIEWERS)
def job_page(job_id: int):
    job = _job_or_404(job_id)
    if job.active and runner.is_stale(job):
        runner.recover_stale()  # its thread died: run it (and any other lost one) again
        db.session.rollback()  # a fresh read (SQLite keeps the transaction's snapshot)
        job = _job_or_404(job_id)
    kind = runner.KINDS[job.kind]
    response = render_template(
        "exports/job.html",
        job=job,
        kind=kind,
        label=kind.label,
        states=STATE_LABELS,
        refresh=REFRESH_SECONDS if job.active else None,
        back=kind.back(job.params),
    )
    headers = {"Cache-Control": "no-store"}
    if job.active:
        headers["Refresh"] = str(REFRESH_SECONDS)  # as the <meta> in the page
    return response, 200, headers


@bp.get("/<int:job_id>/tep")
@staff_page(*VIEWERS)
def download(job_id: int):
    job = _job_or_404(job_id)
    if job.purged_at is not None:  # gone for good: say so (410), never a bare 404
        raise export_file_purged(job.purged_at)
    if job.state != DONE or not job.blob_sha256:
        abort(404)
    path = blob_store().path_for(job.blob_sha256)
    if not path.is_file():
        abort(404)
    with write_transaction(db.session):
        runner.record_download(current_user, job)
    record_access(
        export_kind(job.mimetype),
        export_households(job),
        ref=f"export:{job.id}",
        commune_id=job.commune_id,
    )
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
