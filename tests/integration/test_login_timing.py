"""A login costs the same whether or not the username exists: an unknown, deactivated or
reviewer account runs one Argon2 verification with the configured parameters, like a wrong
password.  (The time itself is measured by ``scripts/bench/login_timing.py``, not here.)"""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, extract_parameters
from sqlalchemy import select

from server.accounts.models import User
from server.db import write_transaction
from server.extensions import db
from tests.integration.procedure import try_login


@pytest.fixture
def verifications(monkeypatch):
    """The Argon2 parameters of each hash a login verified against, in order."""
    seen = []
    original = PasswordHasher.verify

    def counting(self, hash, password):
        seen.append(extract_parameters(hash))
        return original(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    return seen


def _deactivate(app, username: str) -> None:
    with app.app_context(), write_transaction(db.session):
        db.session.scalar(select(User).where(User.username == username)).active = False


def test_every_failed_login_verifies_one_hash_with_the_same_parameters(app, seeded, verifications):
    _, reply = try_login(app, seeded.officer, "sai-mat-khau")
    assert reply.status_code == 401
    assert len(verifications) == 1
    known = verifications[0]
    assert (known.time_cost, known.memory_cost) == (
        app.config["PASSWORD_HASH_TIME_COST"],
        app.config["PASSWORD_HASH_MEMORY_COST"],
    )
    _deactivate(app, "rsv2")
    for username in ("khong-co-ai", "CANBO1-x", "rsv2", seeded.reviewer):
        verifications.clear()
        _, reply = try_login(app, username, "sai-mat-khau")
        assert reply.status_code == 401, username
        assert verifications == [known], username


def test_a_reviewer_with_the_right_password_is_still_refused(app, seeded, verifications):
    _, reply = try_login(app, seeded.reviewer, seeded.reviewer_password)
    assert reply.status_code == 401
    assert len(verifications) == 1


def test_basic_authentication_of_an_unknown_username_verifies_one_hash(app, seeded, verifications):
    """ODK Collect over https: Basic for a username that exists nowhere costs what a wrong
    password costs."""
    import base64

    client = app.test_client()
    for username, password in (("khong-co-ai", "sai"), (seeded.reviewer, "sai")):
        verifications.clear()
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        reply = client.get(
            "https://rasoat.test/formList",
            headers={"Authorization": f"Basic {token}", "X-OpenRosa-Version": "1.0"},
        )
        assert reply.status_code == 401, username
        assert len(verifications) == 1, username
