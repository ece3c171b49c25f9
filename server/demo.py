"""A demo province, commune, villages and accounts, and how to connect ODK Collect to them.

``flask demo setup --url http://HOST:PORT`` is idempotent: the first run creates everything and
keeps the generated passwords and device token in ``<instance>/demo-credentials.json``
(readable by the owner only); later runs print the same credentials again.  Every run also
makes sure the demo commune has its households and their scored 2026 questionnaires
(:mod:`server.demo_households`, :mod:`server.demo_submissions`), adding only what is missing.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from server.accounts.models import Role, User
from server.accounts.services import create_user, issue_device_token
from server.db import write_transaction
from server.demo_households import VILLAGES as DEMO_VILLAGES
from server.demo_submissions import seed_demo_review, seeded_counts
from server.extensions import db
from server.geography.models import AreaType, Commune, Province, Village
from server.openrosa.qr import collect_settings, settings_qr, write_png
from server.questionnaires.models import Form
from server.questionnaires.services import assign_form
from server.scoring.b1 import DEMO_LABEL_VI
from server.scoring.engine import CATEGORY_VI, Category
from server.scoring.models import CommuneB1Table

demo_cli = AppGroup("demo", help="Demo data.")

PROVINCE = ("DEMO", "Tỉnh Demo (dữ liệu minh họa)")
COMMUNE = ("DEMO01", "Xã Đăk Demo", "tay_nguyen", AreaType.RURAL)
VILLAGES = [(v.code, v.name) for v in DEMO_VILLAGES]
ACCOUNTS = [
    ("rsv.demo", "Rà soát viên Demo", Role.REVIEWER),
    ("canbo.demo", "Cán bộ xã Demo", Role.OFFICER),
    ("admin.demo", "Quản trị tỉnh Demo", Role.ADMIN),
    # Head of the first village: Collect for it, and its pages read-only on the web.
    ("truongthon.demo", "Trưởng thôn Demo", Role.VILLAGE_HEAD),
]


def _credentials_file() -> Path:
    return Path(current_app.instance_path) / "demo-credentials.json"


def seed_demo() -> dict:
    """Create the demo geography and accounts once; return the stored credentials."""
    path = _credentials_file()
    if path.exists():
        return json.loads(path.read_text())
    with write_transaction(db.session):
        province = Province(code=PROVINCE[0], name=PROVINCE[1])
        code, name, region, area = COMMUNE
        commune = Commune(province=province, code=code, name=name, region=region, area_type=area)
        # The demo B1 table: invented points, labelled "minh họa" wherever a result shows.
        db.session.add(
            CommuneB1Table(
                commune=commune,
                standard="2022_2025",
                area_type="rural",
                table_code="demo_2022_2025_rural",
            )
        )
        for v_code, v_name in VILLAGES:
            commune.villages.append(Village(code=v_code, name=v_name))
        db.session.add(province)
        db.session.flush()
        credentials: dict = {"accounts": {}}
        for username, display_name, role in ACCOUNTS:
            password = secrets.token_urlsafe(9)
            create_user(
                username=username,
                display_name=display_name,
                role=role,
                password=password,
                commune=None if role == Role.ADMIN else commune,
                province=province,
                villages=commune.villages[:1] if role == Role.VILLAGE_HEAD else None,
            )
            credentials["accounts"][role.value] = {"username": username, "password": password}
        reviewer = db.session.scalar(select(User).where(User.username == ACCOUNTS[0][0]))
        credentials["reviewer_token"] = issue_device_token(reviewer, "demo phone").token
        for form in db.session.scalars(select(Form)):
            assign_form(form, commune, actor=None)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(credentials, handle)
    return credentials


@demo_cli.command("setup")
@click.option(
    "--url", "server_url", required=True, help="Base URL phones use, e.g. http://192.168.1.5:8000"
)
def setup(server_url: str) -> None:
    """Seed the demo (once) and print how to connect ODK Collect."""
    credentials = seed_demo()
    with write_transaction(db.session):
        commune = db.session.scalar(select(Commune).where(Commune.code == COMMUNE[0]))
        for form in db.session.scalars(select(Form)):
            assign_form(form, commune, actor=None)
    # The realistic part: households with their history and scored 2026 questionnaires.
    review = seed_demo_review(COMMUNE[0], ACCOUNTS[0][0])
    commune = db.session.scalar(select(Commune).where(Commune.code == COMMUNE[0]))
    counts = seeded_counts(commune)
    base = server_url.rstrip("/")
    token_url = f"{base}/key/{credentials['reviewer_token']}"
    reviewer = credentials["accounts"]["reviewer"]
    officer = credentials["accounts"]["officer"]
    admin = credentials["accounts"]["admin"]
    qr = settings_qr(collect_settings(token_url, f"rasoat — {COMMUNE[1]}"))
    png = Path(current_app.instance_path) / "demo-collect-qr.png"
    write_png(qr, png)
    click.echo(f"server url: {base}/")
    click.echo(f"collect server url (demo reviewer, no password needed): {token_url}")
    click.echo(f"collect server url (with username/password): {base}")
    click.echo(f"username: {reviewer['username']}")
    click.echo(f"password: {reviewer['password']}")
    click.echo(f"officer username: {officer['username']}")
    click.echo(f"officer password: {officer['password']}")
    click.echo(f"admin username: {admin['username']}")
    click.echo(f"admin password: {admin['password']}")
    head = credentials["accounts"].get("village_head")  # absent from demos seeded before it
    if head:
        click.echo(f"village head username: {head['username']}")
        click.echo(f"village head password: {head['password']}")
        click.echo(f"village head village: {VILLAGES[0][0]} {VILLAGES[0][1]}")
    click.echo(
        f"demo commune: {COMMUNE[1]} ({COMMUNE[0]}), {len(VILLAGES)} villages, "
        f"{review.households} households"
    )
    click.echo(
        f"demo submissions: {counts['phieu_b'] + counts['phieu_a'] + counts['income']} received "
        f"({counts['phieu_b']} Phiếu B, {counts['phieu_a']} Phiếu A, "
        f"{counts['income']} phiếu khảo sát thu nhập), "
        f"{sum(counts['categories'].values())} results "
        f"({_category_summary(counts['categories'])}); B1 table: {DEMO_LABEL_VI}"
    )
    click.echo(
        f"demo income surveys: {counts['income']} farming households, "
        f"{counts['categories'].get(Category.AVERAGE.value, 0)} of average living standard, "
        f"{counts['methods_disagree']} flagged "
        "“B1 và thu nhập không thống nhất — cần xem xét”"
    )
    click.echo(f"review page for the officer: {base}/xa/phieu")
    click.echo(f"collect settings qr png: {png}")
    click.echo("Scan this QR code in ODK Collect (Configure with QR code):")
    qr.terminal(compact=True)


def _category_summary(categories: dict[str, int]) -> str:
    return ", ".join(
        f"{count} {_lower_first(CATEGORY_VI[Category(code)].split(' (')[0])}"
        for code, count in sorted(categories.items(), key=lambda item: (-item[1], item[0]))
    )


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
