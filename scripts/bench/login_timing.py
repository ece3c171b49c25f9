"""Login timing benchmark (run by hand; not part of the test suite).

Does the time of a failed staff login tell whether the username exists?  Measures, through the
Flask test client with the production Argon2 parameters (``PASSWORD_HASH_*`` defaults) on a
fresh SQLite database, the median time of a login with a known username and a wrong password
and of a login with an unknown username (and of a deactivated account's), and prints their
ratio (target: unknown / known between 1/1.2 and 1.2).

Every attempt uses a new client address and a new username variant where needed, so the login
throttle (which would answer 429 without verifying anything) never kicks in.

    .venv/bin/python scripts/bench/login_timing.py [--rounds 40] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from server import create_app, schema
from server.accounts.models import Role
from server.accounts.services import create_user
from server.db import write_transaction
from server.extensions import db
from server.geography.models import AreaType, Commune, Province

TARGET_RATIO = 1.2
PASSWORD = "matkhau-123"  # noqa: S105 (a throw-away benchmark account)


def _setup(instance: Path):
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{instance / 'rasoat.sqlite3'}",
            "INSTANCE_PATH": str(instance),
            "WTF_CSRF_ENABLED": False,
            # Many attempts on one name: keep the throttle out of the measurement.
            "LOGIN_MAX_FAILURES_PER_USER": 10**6,
            "LOGIN_MAX_FAILURES_PER_IP": 10**6,
        }
    )
    schema.upgrade(app)
    with app.app_context(), write_transaction(db.session):
        province = Province(code="P1", name="Tỉnh")
        commune = Commune(
            province=province, code="X1", name="Xã", region="tay_nguyen", area_type=AreaType.RURAL
        )
        db.session.add(province)
        db.session.flush()
        create_user(
            username="canbo1",
            display_name="Cán bộ",
            role=Role.OFFICER,
            password=PASSWORD,
            commune=commune,
        )
        create_user(
            username="dakhoa",
            display_name="Đã khoá",
            role=Role.OFFICER,
            password=PASSWORD,
            commune=commune,
        ).active = False
    return app


def _time_login(client, username: str, n: int) -> float:
    started = time.perf_counter()
    reply = client.post(
        "/login",
        data={"username": username, "password": "sai-mat-khau"},
        environ_base={"REMOTE_ADDR": f"10.0.{n // 250}.{n % 250 + 1}"},
    )
    elapsed = time.perf_counter() - started
    assert reply.status_code == 401, reply.status_code
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = _setup(Path(tmp))
        client = app.test_client()
        kinds = {"known, wrong password": "canbo1", "unknown": None, "deactivated": "dakhoa"}
        times: dict[str, list[float]] = {kind: [] for kind in kinds}
        n = 0
        for username in kinds.values():  # warm-up (the dummy hash is made once)
            _time_login(client, username or "warm-up", n)
            n += 1
        for round_ in range(args.rounds):  # interleaved, so drift hits every kind alike
            for kind, username in kinds.items():
                times[kind].append(_time_login(client, username or f"khong-co-{round_}", n))
                n += 1
    medians = {kind: statistics.median(values) * 1000 for kind, values in times.items()}
    known = medians["known, wrong password"]
    ok = True
    print(f"{'login':<24} {'median ms':>10} {'÷ known':>8}")
    for kind, median in medians.items():
        ratio = median / known
        ok &= 1 / TARGET_RATIO <= ratio <= TARGET_RATIO
        print(f"{kind:<24} {median:>10.1f} {ratio:>8.2f}")
    verdict = "met" if ok else "NOT met"
    print(f"target: every ratio within {1 / TARGET_RATIO:.2f}–{TARGET_RATIO}: {verdict}")
    if args.json:
        args.json.write_text(json.dumps({"rounds": args.rounds, "median_ms": medians}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
