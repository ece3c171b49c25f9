"""``flask scoring …``: process the scoring queue, re-score, choose a commune's B1 table."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from server.db import write_transaction
from server.extensions import db
from server.geography.models import Commune
from server.scoring.b1 import template_xlsx
from server.scoring.mapping import mappings
from server.scoring.services import enqueue_rescore, pending_job_ids, process_jobs
from server.scoring.standards import StandardError, all_standards
from server.scoring.tables import shipped_tables

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
def use_table(commune_code: str, table_code: str | None) -> None:
    """Use B1 table TABLE_CODE for COMMUNE_CODE (no TABLE_CODE: none, B1 not assessed)."""
    if table_code and table_code not in shipped_tables():
        raise click.ClickException(f"Unknown table {table_code}: {', '.join(shipped_tables())}")
    with write_transaction(db.session):
        commune = db.session.scalar(select(Commune).where(Commune.code == commune_code))
        if commune is None:
            raise click.ClickException(f"Unknown commune {commune_code}.")
        commune.b1_table = table_code
    table = shipped_tables().get(table_code or "")
    if table is not None and table.disclaimer_vi:
        click.echo(f"note: {table.label_vi} ({table.disclaimer_vi})")


@scoring_cli.command("table-template")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def table_template(path: Path) -> None:
    """Write an empty B1 point table (XLSX) to fill with the official values."""
    path.write_bytes(template_xlsx())
    click.echo(f"written {path}")
