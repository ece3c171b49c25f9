"""``flask collect …``: configure a reviewer's phone with one QR code."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from server.accounts.models import User
from server.accounts.services import issue_device_token
from server.db import write_transaction
from server.extensions import db
from server.openrosa.qr import collect_settings, settings_qr, write_png

collect_cli = AppGroup("collect", help="Configure ODK Collect on reviewers' phones.")


@collect_cli.command("qr")
@click.argument("username")
@click.option("--url", "server_url", required=True, help="Base URL phones use.")
@click.option("--png", "png_path", type=click.Path(path_type=Path), help="Also write a PNG.")
@click.option("--project", default="rasoat", help="Project name shown in Collect.")
def qr(username: str, server_url: str, png_path: Path | None, project: str) -> None:
    """Issue a device token for USERNAME and print the Collect settings QR code.

    Anyone holding the QR code can send submissions as USERNAME until the token is revoked
    (``flask users revoke-tokens USERNAME``).
    """
    with write_transaction(db.session):
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            raise click.ClickException(f"Unknown or inactive user {username}.")
        token = issue_device_token(user, "QR code").token
    url = f"{server_url.rstrip('/')}/key/{token}"
    code = settings_qr(collect_settings(url, project))
    click.echo(f"collect server url: {url}")
    if png_path is not None:
        write_png(code, png_path)
        click.echo(f"collect settings qr png: {png_path}")
    code.terminal(compact=True)
