"""Creating export jobs and running them: in a background thread of the process that accepted
the request, inline, or from ``flask exports run``.

A job is *claimed* by one atomic ``UPDATE … WHERE state = 'queued' OR (state = 'running' AND
heartbeat_at < stale)`` that stores a fresh ``run_token``; every later write of the runner
(progress, result, failure) is conditional on that token, so when two processes try to run the
same job only one does, and a thread that lost its claim (its heartbeat went stale and another
process took the job over) stops at its next progress commit.

The runner reads with the thread's own ``db.session`` (one long read, streamed) and writes the
job's state through separate short sessions, committed every few percent of progress (and at
least every ``PROGRESS_SECONDS``), which is also the heartbeat.  A job whose heartbeat is older
than ``EXPORTS_STALE_SECONDS`` (default 120) lost its thread (the worker was killed, the machine
restarted): it is run again when a job page is next opened or by ``flask exports run``, at most
``EXPORTS_MAX_ATTEMPTS`` times (default 3), then recorded as failed.

The file is produced in a temporary directory (``EXPORTS_TMP_DIR``, default
``<instance>/tmp``: not ``/tmp``, which is often memory-backed) and only a complete file is put
in the blob store (:meth:`server.blobs.BlobStore.put_file`, atomic); a failure removes the
temporary directory and records the message, so no half-written file is ever referenced.

``EXPORTS_RUNNER``: ``thread`` (default), ``inline`` (run inside the request: tests, tiny
installations) or ``manual`` (leave it queued for ``flask exports run``).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from server.accounts.models import Role, User
from server.audit.services import record
from server.blobs import blob_store
from server.db import utcnow, write_transaction
from server.errors import AppError
from server.exports import commune_lists, documents
from server.exports.models import DONE, FAILED, QUEUED, RUNNING, ExportJob
from server.extensions import db
from server.meetings.models import ReviewRound
from server.meetings.services import round_for

log = logging.getLogger("rasoat.exports")

DEFAULT_STALE_SECONDS = 120
DEFAULT_MAX_ATTEMPTS = 3
PROGRESS_STEP = 0.02  # commit progress every 2 % …
PROGRESS_SECONDS = 5.0  # … or every 5 s, whichever comes first (the heartbeat)
STAFF = (Role.OFFICER, Role.ADMIN)


def _commune_lists_authorize(actor: User, params: dict) -> int:
    return round_for(actor, int(params["round_id"])).commune_id


def _round_page(params: dict) -> str:
    return url_for("meetings.round_page", round_id=params["round_id"])


@dataclass(frozen=True)
class ExportKind:
    """A kind of file made in the background.  ``authorize(actor, params)`` is the check of the
    page that offers it (the service the page calls, AppError 404 when out of scope or missing)
    and gives the commune; it runs when the job is requested and again whenever its page or
    file is opened, after the role check (``roles``).  ``fields``: the request form's fields
    that make the params, each with its converter (ValueError: malformed)."""

    label: str
    produce: Callable  # (job, directory, progress) -> commune_lists.Artefact
    authorize: Callable[[User, dict], int]
    fields: dict[str, Callable[[str], object]] = field(default_factory=lambda: {"round_id": int})
    roles: tuple[Role, ...] = STAFF
    unit: str = _l("hộ")  # what progress counts
    estimated: bool = False  # the total is an estimate (pages before the layout is done)
    back: Callable[[dict], str] = _round_page  # the page the file belongs to
    back_label: str = _l("Đợt rà soát")


def _document(document: documents.Document) -> ExportKind:
    return ExportKind(
        document.label,
        documents.producer(document),
        documents.authorizer(document),
        fields=document.fields,
        roles=document.roles,
        unit=_l("trang"),
        estimated=True,
        back=document.back,
        back_label=document.back_label,
    )


KINDS = {
    "commune_lists_pdf": ExportKind(
        _l("Danh sách họp dân toàn xã (PDF)"), commune_lists.write_pdf, _commune_lists_authorize
    ),
    "commune_lists_xlsx": ExportKind(
        _l("Danh sách họp dân toàn xã (XLSX)"), commune_lists.write_xlsx, _commune_lists_authorize
    ),
    **{name: _document(document) for name, document in documents.DOCUMENTS.items()},
}


class LostClaim(Exception):
    """Another runner took the job over (this one's heartbeat went stale)."""


def _config(name: str, default):
    return type(default)(current_app.config.get(name, default))


def stale_seconds() -> int:
    return _config("EXPORTS_STALE_SECONDS", DEFAULT_STALE_SECONDS)


# --- requesting ------------------------------------------------------------------------------


def kind_of(name: str) -> ExportKind:
    kind = KINDS.get(name)
    if kind is None:
        raise AppError("export.kind", 400, "Loại tệp không hợp lệ.", "Invalid kind of file.")
    return kind


def authorize(actor: User, name: str, params: dict) -> int:
    """The commune of the file ``name`` with ``params`` if ``actor`` may have it (the page's own
    check: AppError 404 otherwise, 403 for a role that has no such page)."""
    kind = kind_of(name)
    if actor.role not in kind.roles:
        raise AppError("export.forbidden", 403, "Không có quyền.", "Forbidden.")
    return kind.authorize(actor, params)


def request_export(actor: User, name: str, params: dict) -> ExportJob:
    """Queue the file ``name`` with ``params`` (checked as its page checks them); flushes.  The
    same file already queued or running is returned instead of a second job."""
    commune_id = authorize(actor, name, params)
    for job in db.session.scalars(
        select(ExportJob).where(
            ExportJob.commune_id == commune_id,
            ExportJob.kind == name,
            ExportJob.state.in_([QUEUED, RUNNING]),
        )
    ):
        if job.params == params and not is_stale(job):
            return job
    job = ExportJob(
        kind=name,
        params=params,
        commune_id=commune_id,
        requested_by_id=actor.id,
        state=QUEUED,
        progress_done=0,
        progress_total=0,
        attempts=0,
    )
    db.session.add(job)
    db.session.flush()
    record(
        "export.request",
        "export_job",
        job.id,
        commune_id=commune_id,
        after={"kind": name, **params},
        actor_id=actor.id,
    )
    return job


def request_commune_lists(actor: User, review: ReviewRound, fmt: str) -> ExportJob:
    """Queue the commune-wide lists of ``review`` (``fmt``: pdf or xlsx)."""
    return request_export(actor, f"commune_lists_{fmt}", {"round_id": review.id})


def record_download(actor: User, job: ExportJob) -> None:
    """A finished file was handed to ``actor`` (its audit entry; flushes)."""
    record(
        "export.download",
        "export_job",
        job.id,
        commune_id=job.commune_id,
        after={"kind": job.kind, **job.params, "filename": job.filename},
        actor_id=actor.id,
    )


def is_stale(job: ExportJob) -> bool:
    cutoff = utcnow() - timedelta(seconds=stale_seconds())
    if job.state == RUNNING:
        return job.heartbeat_at is None or job.heartbeat_at < cutoff
    return job.state == QUEUED and job.created_at < cutoff


# --- starting --------------------------------------------------------------------------------

_threads: dict[int, threading.Thread] = {}
_threads_lock = threading.Lock()


def start(job_id: int) -> None:
    """Run the job as ``EXPORTS_RUNNER`` says (after the request's commit)."""
    mode = current_app.config.get("EXPORTS_RUNNER", "thread")
    if mode == "inline":
        run_job(job_id)
    elif mode == "thread":
        start_thread(current_app._get_current_object(), job_id)


def start_thread(app: Flask, job_id: int) -> threading.Thread:
    """Run the job in a daemon thread of this process (one per job at a time).  A daemon: a
    stopping worker does not wait for it; the job's heartbeat goes stale and it is run again."""
    with _threads_lock:
        thread = _threads.get(job_id)
        if thread is not None and thread.is_alive():
            return thread
        thread = threading.Thread(
            target=_thread_main, args=(app, job_id), name=f"rasoat-export-{job_id}", daemon=True
        )
        _threads[job_id] = thread
        thread.start()
        return thread


def _thread_main(app: Flask, job_id: int) -> None:
    try:
        with app.app_context():
            try:
                run_job(job_id)
            finally:
                db.session.remove()
    except Exception:  # never let a thread die with a traceback nobody reads
        app.logger.exception("export job %s failed outside its runner", job_id)
    finally:
        with _threads_lock:
            if _threads.get(job_id) is threading.current_thread():
                del _threads[job_id]


def join_threads(timeout: float = 60.0) -> bool:
    """Wait for this process's export threads (tests, benchmarks, shutdown); True if none is
    left running."""
    deadline = time.monotonic() + timeout
    while True:
        with _threads_lock:
            alive = [t for t in _threads.values() if t.is_alive()]
        if not alive:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        alive[0].join(remaining)


def stale_job_ids(limit: int = 20) -> list[int]:
    cutoff = utcnow() - timedelta(seconds=stale_seconds())
    return list(
        db.session.scalars(
            select(ExportJob.id)
            .where(
                or_(
                    and_(
                        ExportJob.state == RUNNING,
                        or_(ExportJob.heartbeat_at.is_(None), ExportJob.heartbeat_at < cutoff),
                    ),
                    and_(ExportJob.state == QUEUED, ExportJob.created_at < cutoff),
                )
            )
            .order_by(ExportJob.id)
            .limit(limit)
        )
    )


def recover_stale() -> list[int]:
    """Start again, as ``EXPORTS_RUNNER`` says, the jobs whose thread was lost; returns their
    ids.  Called when a job page is opened."""
    ids = stale_job_ids()
    for job_id in ids:
        start(job_id)
    return ids


# --- running ---------------------------------------------------------------------------------


def _write(statement) -> int:
    """Run one UPDATE in its own short transaction (never the reading session's)."""
    with Session(db.engine) as session, write_transaction(session):
        return session.execute(statement, execution_options={"synchronize_session": False}).rowcount


def _claim(job_id: int, token: str) -> bool:
    now = utcnow()
    cutoff = now - timedelta(seconds=stale_seconds())
    max_attempts = _config("EXPORTS_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS)
    claimable = or_(
        ExportJob.state == QUEUED,
        and_(
            ExportJob.state == RUNNING,
            or_(ExportJob.heartbeat_at.is_(None), ExportJob.heartbeat_at < cutoff),
        ),
    )
    # A job that keeps losing its thread (killed for memory?) is not tried for ever.
    _write(
        update(ExportJob)
        .where(ExportJob.id == job_id, claimable, ExportJob.attempts >= max_attempts)
        .values(
            state=FAILED,
            finished_at=now,
            run_token=None,
            message=f"Đã thử {max_attempts} lần nhưng lần nào cũng bị dừng giữa chừng. "
            f"(Interrupted {max_attempts} times.)",
        )
    )
    return (
        _write(
            update(ExportJob)
            .where(ExportJob.id == job_id, claimable, ExportJob.attempts < max_attempts)
            .values(
                state=RUNNING,
                run_token=token,
                attempts=ExportJob.attempts + 1,
                started_at=now,
                heartbeat_at=now,
                progress_done=0,
                message=None,
            )
        )
        == 1
    )


class Progress:
    """Counts what the producer has done and commits it every few percent (the heartbeat)."""

    def __init__(self, job_id: int, token: str) -> None:
        self.job_id, self.token = job_id, token
        self.total = self.done = self.committed = 0
        self.committed_at = time.monotonic()

    def _commit(self, **values) -> None:
        changed = _write(
            update(ExportJob)
            .where(ExportJob.id == self.job_id, ExportJob.run_token == self.token)
            .values(heartbeat_at=utcnow(), **values)
        )
        if changed != 1:
            raise LostClaim(self.job_id)
        self.committed, self.committed_at = self.done, time.monotonic()

    def start(self, total: int) -> None:
        self.total, self.done = total, 0
        self._commit(progress_total=total, progress_done=0)

    def beat(self) -> None:
        """Still alive (a long step without rows, such as merging the PDF)."""
        if time.monotonic() - self.committed_at >= PROGRESS_SECONDS:
            self._commit(progress_done=self.done)

    def reach(self, done: int) -> None:
        """``done`` units are finished (pages laid out); the total, an estimate, grows to it
        when the layout goes past it."""
        if done > self.total:
            self.total = self.done = done
            self._commit(progress_total=self.total, progress_done=self.done)
            return
        self.done = done
        self.advance(0)

    def finish(self, total: int) -> None:
        """The work turned out to be ``total`` units (the pages the document really has)."""
        self.total = self.done = total
        self._commit(progress_total=total, progress_done=total)

    def advance(self, n: int = 1) -> None:
        self.done = min(self.total, self.done + n) if self.total else self.done + n
        step = max(1, int(self.total * PROGRESS_STEP))
        if (
            self.done - self.committed >= step
            or time.monotonic() - self.committed_at >= PROGRESS_SECONDS
        ):
            self._commit(progress_done=self.done)


def _temporary_root() -> Path:
    configured = current_app.config.get("EXPORTS_TMP_DIR")
    root = Path(configured) if configured else Path(current_app.instance_path) / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    return root


def run_job(job_id: int) -> bool:
    """Claim the job and run it here and now; False if it could not be claimed (done, failed,
    or being run by a live thread elsewhere)."""
    token = uuid.uuid4().hex
    if not _claim(job_id, token):
        return False
    log.info("export job %s: started", job_id)
    db.session.rollback()  # read what is committed now, not an older snapshot of this session
    try:
        job = db.session.get(ExportJob, job_id)
        kind = KINDS.get(job.kind)
        if kind is None:
            raise AppError("export.kind", 400, f"Không rõ loại tệp {job.kind!r}.", "Unknown kind.")
        directory = Path(tempfile.mkdtemp(prefix=f"export-{job_id}-", dir=_temporary_root()))
        try:
            artefact = kind.produce(job, directory, Progress(job_id, token))
            db.session.rollback()  # end the read before the (slow) copy into the store
            stored = blob_store().put_file(artefact.path)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        done = _write(
            update(ExportJob)
            .where(ExportJob.id == job_id, ExportJob.run_token == token)
            .values(
                state=DONE,
                progress_done=ExportJob.progress_total,
                blob_sha256=stored.sha256,
                size=stored.size,
                filename=artefact.filename,
                mimetype=artefact.mimetype,
                finished_at=utcnow(),
                heartbeat_at=utcnow(),
                message=None,
            )
        )
        if done != 1:
            raise LostClaim(job_id)
        log.info("export job %s: done, %d bytes", job_id, stored.size)
    except LostClaim:
        db.session.rollback()
        log.warning("export job %s: taken over by another runner; this one stops", job_id)
    except Exception as error:
        db.session.rollback()
        log.exception("export job %s failed", job_id)
        if isinstance(error, AppError):
            message = f"{error.message_vi} ({error.message_en})"
        else:
            message = (
                "Có lỗi khi tạo tệp; hãy bấm “Thử lại”, nếu vẫn lỗi xin báo quản trị hệ thống. "
                f"(An error occurred: {type(error).__name__}: {error})"
            )
        _write(
            update(ExportJob)
            .where(ExportJob.id == job_id, ExportJob.run_token == token)
            .values(state=FAILED, message=message[:2000], finished_at=utcnow())
        )
    return True
