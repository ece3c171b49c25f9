"""``flask households …``: import a commune's household list."""

from __future__ import annotations

import csv
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from server.db import write_transaction
from server.errors import AppError
from server.extensions import db
from server.geography.models import Commune
from server.households.services import import_households

households_cli = AppGroup("households", help="The household registry and review lists.")


@households_cli.command("import")
@click.argument("csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--commune", "commune_code", required=True)
@click.option("--year", type=int, required=True, help="Year whose status last_status records.")
def import_command(csv_path: Path, commune_code: str, year: int) -> None:
    """Import households from a UTF-8 CSV (columns: code, village, head_name, last_status,
    source) as the commune's review list; last_status is recorded for YEAR."""
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with write_transaction(db.session):
        commune = db.session.scalar(select(Commune).where(Commune.code == commune_code))
        if commune is None:
            raise click.ClickException(f"Unknown commune {commune_code}.")
        try:
            result = import_households(commune, rows, year)
        except AppError as exc:
            raise click.ClickException(exc.message) from None
    click.echo(f"created {result.created}, updated {result.updated}")
