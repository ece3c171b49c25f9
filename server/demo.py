"""A demo province, commune, villages and accounts, and how to connect ODK Collect to them.

``flask demo setup --url http://HOST:PORT`` is idempotent: the first run creates everything and
keeps the generated passwords and device token in ``<instance>/demo-credentials.json``
(readable by the owner only); later runs print the same credentials again.
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
from server.extensions import db
from server.geography.models import AreaType, Commune, Province, Village
from server.households.services import import_households
from server.openrosa.qr import collect_settings, settings_qr, write_png
from server.questionnaires.models import Form
from server.questionnaires.services import assign_form

demo_cli = AppGroup("demo", help="Demo data.")

PROVINCE = ("DEMO", "Tỉnh Demo (dữ liệu minh họa)")
COMMUNE = ("DEMO01", "Xã Đăk Demo", "tay_nguyen", AreaType.RURAL)
VILLAGES = [("T01", "Thôn Kon Rá"), ("T02", "Thôn Đăk Lung"), ("T03", "Làng Plei Demo")]
ACCOUNTS = [
    ("rsv.demo", "Rà soát viên Demo", Role.REVIEWER),
    ("canbo.demo", "Cán bộ xã Demo", Role.OFFICER),
    ("admin.demo", "Quản trị tỉnh Demo", Role.ADMIN),
]


DEMO_LIST_YEAR = 2025
_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Đinh", "A", "Y", "Hồ", "Rơ Châm", "Siu"]
_GIVEN = [
    "Văn Minh",
    "Thị Hoa",
    "Blúp",
    "Hlơn",
    "Thút",
    "Văn Tài",
    "Thị Lan",
    "Nhơn",
    "Byă",
    "Quang",
]
# Rough shares of last year's statuses in a poor mountain commune (illustrative only).
_STATUS_CYCLE = ["ngheo", "ngheo", "can_ngheo", "khong", "ngheo", "can_ngheo", "khong", "moi"]


def demo_households(per_village: int = 40) -> list[dict[str, str]]:
    """Illustrative households (deterministic, not real people) for the demo villages."""
    rows = []
    for v_index, (v_code, _name) in enumerate(VILLAGES):
        for n in range(1, per_village + 1):
            family = _FAMILY[(n + v_index) % len(_FAMILY)]
            given = _GIVEN[(n * 3 + v_index) % len(_GIVEN)]
            status = _STATUS_CYCLE[(n + v_index) % len(_STATUS_CYCLE)]
            rows.append(
                {
                    "code": f"{COMMUNE[0]}-{v_code}-{n:04d}",
                    "village": v_code,
                    "head_name": f"{family} {given}",
                    "last_status": status,
                    "source": "de_nghi" if status == "moi" else "danh_sach",
                }
            )
    return rows


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
        commune.b1_table = "demo_2022_2025_rural"
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
            )
            credentials["accounts"][role.value] = {"username": username, "password": password}
        import_households(commune, demo_households(), year=DEMO_LIST_YEAR)
        reviewer = db.session.scalar(select(User).where(User.username == ACCOUNTS[0][0]))
        credentials["reviewer_token"] = issue_device_token(reviewer, "demo phone").token
        for form in db.session.scalars(select(Form)):
            assign_form(form, commune)
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
            assign_form(form, commune)
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
    click.echo(f"collect settings qr png: {png}")
    click.echo("Scan this QR code in ODK Collect (Configure with QR code):")
    qr.terminal(compact=True)
