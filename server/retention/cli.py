"""``flask retention plan`` (the dry run: writes nothing) and ``flask retention apply`` (the
purge, in small batches; run it again after a crash and it finishes the work)."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from server.extensions import db
from server.geography.models import Province
from server.i18n import vietnam_today
from server.retention.kinds import EXPORT_FILES, KIND_LABELS
from server.retention.services import apply, plan

retention_cli = AppGroup("retention", help="Retention of personal data (issue 14).")

_province = click.option("--province", "province_code", help="Only this province (its code).")
_today = click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Count periods up to this day (YYYY-MM-DD; default: today in Vietnam, UTC+7).",
)


def _province_id(code: str | None) -> int | None:
    if code is None:
        return None
    province_id = db.session.scalar(select(Province.id).where(Province.code == code))
    if province_id is None:
        raise click.BadParameter(f"no province with code {code!r}", param_hint="--province")
    return province_id


@retention_cli.command("plan")
@_province
@_today
def plan_command(province_code: str | None, today) -> None:
    """What a purge would delete, per commune, round and kind (generated export files and
    access records: per commune, with the oldest), and what is held (writes nothing)."""
    day = today.date() if today else vietnam_today()
    found = plan(day, _province_id(province_code))
    db.session.rollback()
    click.echo(f"retention plan on {day:%Y-%m-%d} (dry run: nothing deleted)")
    if not found.rows and not found.records:
        click.echo("nothing due")
    for row in found.rows:
        files = f", {row.files} files" if row.files else ""
        click.echo(
            f"{row.commune} | round {row.round_id} ({row.round_label}), decided "
            f"{row.decided_on:%d/%m/%Y} | {row.kind} ({KIND_LABELS[row.kind]}): "
            f"{row.submissions} submissions{files}"
        )
    for row in found.records:
        click.echo(
            f"{row.commune} | {row.kind} ({KIND_LABELS[row.kind]}), counted from "
            f"{'the file made' if row.kind == EXPORT_FILES else 'the day of the look'}, "
            f"through {row.through:%d/%m/%Y}: {row.count} "
            f"{'files' if row.kind == EXPORT_FILES else 'records'}, "
            f"oldest {row.oldest:%d/%m/%Y}"
        )
    for row in found.records_held:
        click.echo(
            f"HELD {row.commune} | {row.round_label or '-'} | household "
            f"{row.household_code or '-'} | {row.kind}: {row.count}, oldest "
            f"{row.oldest:%d/%m/%Y}: {row.reason}"
        )
    for held in found.held:
        click.echo(
            f"HELD {held.commune} | {held.round_label} | household {held.household_code or '-'}"
            f" | submission {held.submission_id} | {', '.join(held.kinds)}: {held.reason}"
        )


@retention_cli.command("apply")
@_province
@_today
@click.option("--batch-size", default=50, show_default=True, type=click.IntRange(1, 1000))
def apply_command(province_code: str | None, today, batch_size: int) -> None:
    """Purge what the rules say is due (run `flask retention plan` first)."""
    day = today.date() if today else vietnam_today()
    done = apply(day, _province_id(province_code), batch_size=batch_size)
    kinds = ", ".join(f"{kind}: {n}" for kind, n in sorted(done.counts.items())) or "nothing"
    click.echo(
        f"retention applied on {day:%Y-%m-%d}: {done.submissions} submissions in "
        f"{done.batches} batches ({kinds}); {done.export_files} export files removed "
        f"({done.export_files_held} held); {done.access_records} access records deleted "
        f"({done.record_batches} batches of files and records); "
        f"{done.files_deleted} files deleted; {done.held} held"
    )
