"""``flask scoring …``: process the scoring queue, re-score, upload B1 tables and choose the
one a commune uses."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from server.db import write_transaction
from server.errors import AppError
from server.extensions import db
from server.geography.models import Commune
from server.scoring.b1 import template_xlsx
from server.scoring.b1_store import (
    AREA_TYPES,
    assign_table,
    assignments_of,
    catalog,
    upload_table,
)
from server.scoring.mapping import mappings
from server.scoring.services import enqueue_rescore, pending_job_ids, process_jobs
from server.scoring.standards import StandardError, all_standards
from server.scoring.tables import current_table, shipped_tables

scoring_cli = AppGroup("scoring", help="Scoring households.")


@scoring_cli.command("check")
def check() -> None:
    """Validate every standard, B1 table and mapping file (errors name the file and key)."""
    try:
        standards, tables, maps = all_standards(), shipped_tables(), mappings()
    except StandardError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"standards: {', '.join(standards)}")
    for table in tables.values():
        click.echo(f"b1 table {table.code} ({table.status}): {table.label_vi}")
    click.echo(f"mappings: {', '.join(maps)}")


@scoring_cli.command("run")
@click.option("--limit", default=100000)
def run(limit: int) -> None:
    """Score every pending submission (also retries failed ones)."""
    scored = process_jobs(pending_job_ids(limit))
    click.echo(f"scored {scored}")


@scoring_cli.command("rescore")
@click.option("--commune", "commune_code", help="Only this commune.")
def rescore(commune_code: str | None) -> None:
    """Score every current submission again (after a standard, table or mapping change);
    earlier results are kept as history."""
    with write_transaction(db.session):
        commune_id = None
        if commune_code:
            commune = db.session.scalar(select(Commune).where(Commune.code == commune_code))
            if commune is None:
                raise click.ClickException(f"Unknown commune {commune_code}.")
            commune_id = commune.id
        queued = enqueue_rescore(commune_id)
    click.echo(f"queued {queued}")
    click.echo(f"scored {process_jobs(pending_job_ids(queued + 1000))}")


@scoring_cli.command("use-table")
@click.argument("commune_code")
@click.argument("table_code", required=False)
@click.option("--standard", help="Without TABLE_CODE: only this standard.")
@click.option("--area", type=click.Choice(AREA_TYPES), help="Without TABLE_CODE: only this area.")
def use_table(
    commune_code: str, table_code: str | None, standard: str | None, area: str | None
) -> None:
    """Use B1 table TABLE_CODE (its newest version) for COMMUNE_CODE, for the table's standard
    and area type; no TABLE_CODE: no table (B1 not assessed), for every standard and area
    type or those given.  The commune's submissions are then scored again."""
    table = current_table(table_code) if table_code else None
    if table_code and table is None:
        known = ", ".join(sorted({e.code for e in catalog()}))
        raise click.ClickException(f"Unknown table {table_code}: {known}")
    job_ids: list[int] = []
    try:
        with write_transaction(db.session):
            commune = db.session.scalar(select(Commune).where(Commune.code == commune_code))
            if commune is None:
                raise click.ClickException(f"Unknown commune {commune_code}.")
            if table is not None:
                keys = [(table.standard, table.area_type)]
            else:
                keys = [
                    (a.standard, a.area_type)
                    for a in assignments_of(commune)
                    if a.table_code
                    and standard in (None, a.standard)
                    and area in (None, a.area_type)
                ]
            for key_standard, key_area in keys:
                job_ids += assign_table(commune, key_standard, key_area, table_code).rescore_job_ids
    except AppError as error:
        raise click.ClickException(error.message_vi) from None
    if table is not None and table.disclaimer_vi:
        click.echo(f"note: {table.label_vi} ({table.disclaimer_vi})")
    _rescore(job_ids)


@scoring_cli.command("upload-table")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def upload_table_command(path: Path) -> None:
    """Store the B1 table in PATH (XLSX from the template, or YAML) as a new version; the
    communes using its code are scored again."""
    try:
        with write_transaction(db.session):
            result = upload_table(path.read_bytes(), path.name, uploaded_by=None)
    except AppError as error:
        raise click.ClickException(error.message_vi) from None
    entry = result.entry
    state = "stored" if result.created else "already stored (identical)"
    click.echo(f"b1 table {entry.code} version {entry.version}: {state}")
    if entry.disclaimer_vi:
        click.echo(f"note: {entry.table.label_vi} ({entry.disclaimer_vi})")
    _rescore(result.rescore_job_ids)


def _rescore(job_ids: list[int]) -> None:
    if job_ids:
        click.echo(f"queued {len(job_ids)}")
        click.echo(f"scored {process_jobs(job_ids)}")


@scoring_cli.command("table-template")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def table_template(path: Path) -> None:
    """Write an empty B1 point table (XLSX) to fill with the official values."""
    path.write_bytes(template_xlsx())
    click.echo(f"written {path}")
