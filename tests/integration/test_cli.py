"""Command-line tools administrators use."""

from __future__ import annotations

import re

from sqlalchemy import select

from server.accounts.models import User
from server.extensions import db
from server.geography.models import Province
from tests.collect_client import CollectClient, FlaskTransport


def test_collect_qr_issues_a_working_token_and_revoke_disables_it(app, seeded, tmp_path):
    runner = app.test_cli_runner()
    png = tmp_path / "qr.png"
    result = runner.invoke(
        args=["collect", "qr", "rsv1", "--url", "http://rasoat.test", "--png", str(png)]
    )
    assert result.exit_code == 0, result.output
    url = re.search(r"^collect server url: (\S+)$", result.output, re.M).group(1)
    assert png.read_bytes()[:4] == b"\x89PNG"
    phone = CollectClient(FlaskTransport(app), url)
    assert [e.form_id for e in phone.form_list()] == [seeded.form_id]

    result = runner.invoke(args=["users", "revoke-tokens", "rsv1"])
    assert result.exit_code == 0
    assert "revoked 2 token(s)" in result.output  # the seeded one and the new one
    assert phone.request("GET", f"{url}/formList").status == 403


def test_users_create_refuses_a_reviewer_without_commune(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "rsv9", "--name", "X", "--role", "reviewer"],
        input="matkhau-123\nmatkhau-123\n",
    )
    assert result.exit_code != 0
    assert "phải thuộc một xã" in result.output


def test_forms_state_closing_hides_the_form_from_the_list(app, seeded):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["forms", "state", "rasoat_demo", "closing"]).exit_code == 0
    phone = CollectClient(FlaskTransport(app), f"http://rasoat.test/key/{seeded.reviewer_token}")
    assert phone.form_list() == []


def test_users_create_administrators_of_a_province_and_of_the_nation(app, seeded):
    runner = app.test_cli_runner()

    def create(*args: str):
        return runner.invoke(args=["users", "create", *args], input="matkhau-123\nmatkhau-123\n")

    refused = create("qt9", "--name", "Q", "--role", "admin")
    assert refused.exit_code != 0 and "thuộc một tỉnh" in refused.output
    assert create("qt9", "--name", "Q", "--role", "admin", "--province", "P1").exit_code == 0
    refused = create("tw1", "--name", "T", "--role", "national", "--province", "P1")
    assert refused.exit_code != 0 and "không thuộc tỉnh" in refused.output
    assert create("tw1", "--name", "T", "--role", "national").exit_code == 0
    with app.app_context():
        rows = dict(
            db.session.execute(
                select(User.username, User.province_id).where(User.username.in_(["qt9", "tw1"]))
            ).all()
        )
        p1 = db.session.scalar(select(Province.id).where(Province.code == "P1"))
    assert rows == {"qt9": p1, "tw1": None}
