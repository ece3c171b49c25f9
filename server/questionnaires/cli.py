"""``flask forms …``: compile and publish the shipped XLSForms, open/close forms."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from server.blobs import blob_store
from server.db import write_transaction
from server.errors import AppError
from server.extensions import db
from server.geography.models import Commune
from server.questionnaires.models import FormState, FormVersion
from server.questionnaires.services import (
    assign_form,
    get_form,
    publish_form_version,
    set_form_state,
)
from server.questionnaires.sources import compile_source, load_sources
from server.questionnaires.xform import inspect_xform

forms_cli = AppGroup("forms", help="Questionnaires (XLSForms) and their versions.")


@forms_cli.command("compile")
@click.option("--validate/--no-validate", default=True, help="Run ODK Validate (JavaRosa).")
@click.option("--only", "names", multiple=True, help="Compile only xlsforms/NAME.xlsx.")
def compile_command(validate: bool, names: tuple[str, ...]) -> None:
    """Compile xlsforms/*.xlsx into forms/*.xml."""
    for source in load_sources():
        if names and source.name not in names:
            continue
        compiled = compile_source(source, validate=validate)
        source.compiled_path.parent.mkdir(parents=True, exist_ok=True)
        source.compiled_path.write_bytes(compiled.xform)
        click.echo(f"{source.name}: {source.compiled_path} ({len(compiled.warnings)} warnings)")
        for warning in compiled.warnings:
            click.echo(f"  warning: {warning}")


@forms_cli.command("publish-shipped")
def publish_shipped() -> None:
    """Publish forms/*.xml (compiled from xlsforms/) unless that version is already published."""
    for source in load_sources():
        xform = source.compiled_path.read_bytes()
        info = inspect_xform(xform)
        with write_transaction(db.session):
            form = get_form(info.xml_form_id)
            existing = (
                db.session.scalar(
                    select(FormVersion).where(
                        FormVersion.form_id == form.id, FormVersion.version == info.version
                    )
                )
                if form
                else None
            )
            if existing is not None:
                click.echo(f"{info.xml_form_id} {info.version}: already published")
                continue
            try:
                publish_form_version(
                    xform, blobs=blob_store(), media=source.media, xlsx=source.xlsx
                )
            except AppError as exc:
                raise click.ClickException(exc.message) from None
            click.echo(f"{info.xml_form_id} {info.version}: published")


@forms_cli.command("assign")
@click.argument("xml_form_id")
@click.argument("commune_code")
def assign(xml_form_id: str, commune_code: str) -> None:
    """Let the reviewers of COMMUNE_CODE fill XML_FORM_ID."""
    with write_transaction(db.session):
        form = get_form(xml_form_id)
        commune = db.session.scalar(select(Commune).where(Commune.code == commune_code))
        if form is None or commune is None:
            raise click.ClickException("Unknown form or commune.")
        assign_form(form, commune, actor=None)


@forms_cli.command("state")
@click.argument("xml_form_id")
@click.argument("state", type=click.Choice([s.value for s in FormState]))
def state(xml_form_id: str, state: str) -> None:
    """Set a form open, closing (no downloads, still accepts) or closed."""
    with write_transaction(db.session):
        form = get_form(xml_form_id)
        if form is None:
            raise click.ClickException(f"Unknown form {xml_form_id}.")
        set_form_state(form, FormState(state), actor=None)
