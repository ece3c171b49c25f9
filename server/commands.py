"""Command-line tools: ``flask --app wsgi <group> <command>``.

``db``     schema migrations;
``forms``  compile and publish the XLSForms shipped in ``xlsforms/``;
``users``  accounts and device tokens;
``households`` import a commune's household review list;
``scoring`` process the scoring queue, re-score, choose B1 tables;
``collect`` print the settings QR code that configures a reviewer's phone;
``demo``   seed a demo commune and print how to connect ODK Collect.
``exports`` run the export jobs left waiting or interrupted.
``retention`` the dry run and the purge of personal data past its retention period.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from server import schema


def register(app: Flask) -> None:
    from server.accounts.cli import users_cli
    from server.demo import demo_cli
    from server.exports.cli import exports_cli
    from server.households.cli import households_cli
    from server.openrosa.cli import collect_cli
    from server.questionnaires.cli import forms_cli
    from server.retention.cli import retention_cli
    from server.scoring.cli import scoring_cli

    db_cli = AppGroup("db", help="Database schema migrations.")

    @db_cli.command("upgrade")
    @click.argument("revision", default="head")
    def upgrade(revision: str) -> None:
        """Apply migrations up to REVISION (default: all)."""
        schema.upgrade(app, revision)

    @db_cli.command("downgrade")
    @click.argument("revision")
    def downgrade(revision: str) -> None:
        schema.downgrade(app, revision)

    @db_cli.command("revision")
    @click.option("-m", "--message", required=True)
    def revision(message: str) -> None:
        """Write a migration from the difference between the models and the database."""
        schema.revision(app, message)

    app.cli.add_command(db_cli)
    app.cli.add_command(forms_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(households_cli)
    app.cli.add_command(scoring_cli)
    app.cli.add_command(collect_cli)
    app.cli.add_command(exports_cli)
    app.cli.add_command(retention_cli)
