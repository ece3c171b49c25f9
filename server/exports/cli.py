"""``flask exports …``: run the export jobs that are waiting or whose thread was lost."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from server.exports.models import QUEUED, ExportJob
from server.exports.runner import run_job, stale_job_ids
from server.extensions import db

exports_cli = AppGroup("exports", help="Large exports made in the background.")


@exports_cli.command("run")
@click.option("--job", "job_ids", type=int, multiple=True, help="Only this job (repeatable).")
def run(job_ids: tuple[int, ...]) -> None:
    """Run, in this process, every queued job and every running job whose heartbeat is stale
    (its worker died); a job a live thread is running is left to it."""
    if not job_ids:
        queued = db.session.scalars(
            select(ExportJob.id).where(ExportJob.state == QUEUED).order_by(ExportJob.id)
        ).all()
        job_ids = tuple(dict.fromkeys([*queued, *stale_job_ids(limit=1000)]))
    db.session.rollback()
    for job_id in job_ids:
        ran = run_job(job_id)
        job = db.session.get(ExportJob, job_id)
        state = job.state if job is not None else "missing"
        note = f": {job.message}" if job is not None and job.message else ""
        click.echo(f"export {job_id}: {state if ran else f'not run ({state})'}{note}")
        db.session.rollback()
