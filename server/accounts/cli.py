"""``flask users …``: create accounts and issue or revoke device tokens."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from server.accounts.models import DeviceToken, Role, User
from server.accounts.services import create_user, issue_device_token, revoke_device_token
from server.db import write_transaction
from server.errors import AppError
from server.extensions import db
from server.geography.models import Commune, Province, Village

users_cli = AppGroup("users", help="Accounts and device tokens.")


@users_cli.command("create")
@click.argument("username")
@click.option("--name", "display_name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--commune", "commune_code")
@click.option("--village", "village_codes", multiple=True)
@click.option("--province", "province_code", help="The province of an administrator.")
@click.password_option()
def create(
    username, display_name, role, commune_code, village_codes, province_code, password
) -> None:
    """Create an account: reviewers, officers and village heads belong to a commune, an
    administrator to a province (--province), a national administrator to neither."""
    with write_transaction(db.session):
        province = (
            db.session.scalar(select(Province).where(Province.code == province_code))
            if province_code
            else None
        )
        if province_code and province is None:
            raise click.ClickException(f"Unknown province {province_code}.")
        commune = (
            db.session.scalar(select(Commune).where(Commune.code == commune_code))
            if commune_code
            else None
        )
        if commune_code and commune is None:
            raise click.ClickException(f"Unknown commune {commune_code}.")
        villages = [
            db.session.scalar(
                select(Village).where(Village.commune_id == commune.id, Village.code == code)
            )
            for code in village_codes
        ]
        if None in villages:
            raise click.ClickException("Unknown village code.")
        try:
            create_user(
                username=username,
                display_name=display_name,
                role=Role(role),
                password=password,
                commune=commune,
                villages=villages,
                province=province,
            )
        except AppError as exc:
            raise click.ClickException(exc.message) from None
    click.echo(f"created {username}")


@users_cli.command("issue-token")
@click.argument("username")
@click.option("--label", default="")
def issue_token(username: str, label: str) -> None:
    """Issue a device token; it is printed once and only its hash is kept."""
    with write_transaction(db.session):
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"Unknown user {username}.")
        issued = issue_device_token(user, label)
        token = issued.token
    click.echo(token)


@users_cli.command("revoke-tokens")
@click.argument("username")
def revoke_tokens(username: str) -> None:
    """Revoke every device token of USERNAME (phones must scan a new QR code)."""
    with write_transaction(db.session):
        records = db.session.scalars(
            select(DeviceToken)
            .join(User)
            .where(User.username == username, DeviceToken.revoked_at.is_(None))
        ).all()
        for record in records:
            revoke_device_token(record)
    click.echo(f"revoked {len(records)} token(s)")
