"""The commune's households page at scale (run by hand; not part of the test suite).

A commune of N households (default 3 000, a large commune) in 6 villages, filled with bulk
``insert()``s: the registry (Vietnamese names with diacritics; the folded name comes from the
column's default, as for any bulk insert), 2025 statuses (12 % poor, 10 % near-poor) and 2024
for one in five; 2026 questionnaires for 90 % of the households — ``submissions``,
``submission_versions`` and ``household_scores`` whose ``result`` is a real engine result (the
templates of ``reports.py``), with their transition from the 2025 status, 2 % of them with the
B1/income disagreement flag, a third approved — plus a Phiếu A (evidence) for 5 %, 1 % of
codes outside the registry, and a review round whose lists hold half of the scored households.

Then, as the commune officer through the Flask test client: the list (first page, each filter,
a search without diacritics, the last page) and a household's page.  Each figure is the median
of ``--repeat`` runs; the table gives figure, target and ratio (figure / target, below 1 meets
it).  The SQL statements of one list page are counted too: they must not grow with the
commune.  Exits 1 when a target is missed.

    .venv/bin/python scripts/bench/households.py [--households 3000] [--backends sqlite,postgresql]
        [--repeat 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import event, func, insert, select, text

from scripts.bench.reports import result_templates
from scripts.pgcluster import PgCluster
from server import create_app, schema
from server.accounts.models import Role, User
from server.accounts.services import create_user
from server.blobs import blob_store
from server.db import write_transaction
from server.extensions import db
from server.geography.models import AreaType, Commune, Province, Village
from server.households.models import Household, HouseholdYearStatus
from server.meetings.models import HouseholdCase, ReviewRound
from server.questionnaires.services import publish_form_version
from server.questionnaires.sources import load_sources
from server.scoring.engine import Category
from server.scoring.evidence import HouseholdEvidence
from server.scoring.models import HouseholdScore
from server.scoring.transitions import transition
from server.submissions.models import Submission, SubmissionVersion
from tests.conftest import FAST_HASHING

YEAR = 2026
VILLAGES = 6
PASSWORD = "matkhau-bench-1"  # noqa: S105  (a throw-away benchmark account)
TEMPLATES = 200
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Y", "A", "Rơ Mah", "Ksor", "Đinh"]
MIDDLE = ["Văn", "Thị", "Đức", "Hữu", "Thị Ngọc", "", "Quang"]
GIVEN = ["An", "Bình", "Đào", "Hoa", "Lâm", "Nga", "Thắng", "H'Bia", "Blăng", "Ánh"]
# Targets: a page of a weak commune computer should answer within half a second.
TARGETS = {
    "list, first page (s)": 0.5,
    "list, no questionnaire yet (s)": 0.5,
    "list, result changed (s)": 0.5,
    "list, poor last year, nothing this year (s)": 0.5,
    "list, methods disagree (s)": 0.5,
    "list, search 'nguyen van' (s)": 0.5,
    "list, last page (s)": 0.5,
    "household page (s)": 0.5,
    "SQL statements of a list page": 25,
}
PAGES = {
    "list, first page (s)": "/xa/ho",
    "list, no questionnaire yet (s)": "/xa/ho?show=chua_co_phieu",
    "list, result changed (s)": "/xa/ho?show=thay_doi",
    "list, poor last year, nothing this year (s)": "/xa/ho?show=ngheo_chua_co_gi",
    "list, methods disagree (s)": "/xa/ho?show=khong_thong_nhat",
    "list, search 'nguyen van' (s)": "/xa/ho?q=nguyen+van",
}


def _status(rng: random.Random) -> str:
    r = rng.random()
    return "ngheo" if r < 0.12 else "can_ngheo" if r < 0.22 else "khong"


def _category(rng: random.Random, last: str) -> str:
    """Mostly the same as last year, some movement either way."""
    r = rng.random()
    if r < 0.8:
        return {"ngheo": "ngheo", "can_ngheo": "can_ngheo"}.get(last, "khong_ngheo_khong_can_ngheo")
    return rng.choice(["ngheo", "can_ngheo", "khong_ngheo_khong_can_ngheo", "chua_xac_dinh"])


def fill(app, households: int) -> dict:  # noqa: PLR0915  (one linear filling)
    rng = random.Random(11)
    templates = result_templates(TEMPLATES)
    started = time.perf_counter()
    with app.app_context():
        with write_transaction(db.session):
            source = next(s for s in load_sources() if s.name == "phieu_b_2022")
            version = publish_form_version(source.compiled_path.read_bytes(), blobs=blob_store())
            form_id, version_id = version.form_id, version.id
            source_a = next(s for s in load_sources() if s.name == "phieu_a")
            version_a = publish_form_version(
                source_a.compiled_path.read_bytes(), blobs=blob_store(), media=source_a.media
            )
            province = Province(code="PB", name="Tỉnh Đo")
            commune = Commune(
                province=province,
                code="XB",
                name="Xã Đo",
                region="tay_nguyen",
                area_type=AreaType.RURAL,
            )
            for n in range(1, VILLAGES + 1):
                commune.villages.append(Village(code=f"T{n:02d}", name=f"Thôn Đo {n}"))
            db.session.add(province)
            db.session.flush()
            for username, role in (("canbo.bench", Role.OFFICER), ("rsv.bench", Role.REVIEWER)):
                create_user(
                    username=username,
                    display_name=username,
                    role=role,
                    password=PASSWORD,
                    commune=commune,
                )
            commune_id = commune.id
            villages = [v.id for v in commune.villages]
            review = ReviewRound(
                commune_id=commune_id,
                year=YEAR,
                kind="dinh_ky",
                month=0,
                started_on=date(YEAR, 9, 1),
            )
            db.session.add(review)
            db.session.flush()
            round_id = review.id
        user_id = db.session.scalar(select(User.id).where(User.username == "rsv.bench"))
        with write_transaction(db.session):
            rows = []
            for n in range(households):
                name = " ".join(
                    p for p in (rng.choice(FAMILY), rng.choice(MIDDLE), rng.choice(GIVEN)) if p
                )
                village = villages[n % VILLAGES]
                rows.append(
                    {
                        "commune_id": commune_id,
                        "village_id": village,
                        "code": f"XB-T{n % VILLAGES + 1:02d}-{n:05d}",
                        "head_name": name,
                        "list_source": "danh_sach",
                    }
                )
            ids = db.session.scalars(insert(Household).returning(Household.id), rows).all()
            history = {}
            statuses = []
            for hid, row in zip(ids, rows, strict=True):
                last = _status(rng)
                history[row["code"]] = [(2025, last)]
                statuses.append({"household_id": hid, "year": 2025, "status": last})
                if rng.random() < 0.2:
                    earlier = _status(rng)
                    history[row["code"]].append((2024, earlier))
                    statuses.append({"household_id": hid, "year": 2024, "status": earlier})
            db.session.execute(insert(HouseholdYearStatus), statuses)
            scored = [(r, hid) for r, hid in zip(rows, ids, strict=True) if rng.random() < 0.9]
            outside = [
                ({**r, "code": r["code"] + "-MOI"}, None) for r, _ in scored if rng.random() < 0.01
            ]
            scored += outside
            subs = db.session.scalars(
                insert(Submission).returning(Submission.id),
                [
                    {
                        "form_id": form_id,
                        "instance_id": f"uuid:bench-b-{i}",
                        "commune_id": commune_id,
                        "village_id": r["village_id"],
                        "submitter_id": user_id,
                        "review_state": "approved" if rng.random() < 0.33 else "received",
                        "created_at": datetime(YEAR, 10, 1, 12),
                    }
                    for i, (r, _hid) in enumerate(scored)
                ],
            ).all()
            versions = db.session.scalars(
                insert(SubmissionVersion).returning(SubmissionVersion.id),
                [
                    {
                        "submission_id": sid,
                        "form_id": form_id,
                        "form_version_id": version_id,
                        "instance_id": f"uuid:bench-b-{i}",
                        "xml_sha256": f"{i:064d}",
                        "fields": {"hh_code": r["code"], "head_name": r["head_name"]},
                        "submitter_id": user_id,
                        "created_at": datetime(YEAR, 10, 1, 12),
                    }
                    for i, (sid, (r, _hid)) in enumerate(zip(subs, scored, strict=True))
                ],
            ).all()
            score_rows = []
            for i, (sid, vid, (r, hid)) in enumerate(zip(subs, versions, scored, strict=True)):
                body = templates[i % TEMPLATES]
                last = history.get(r["code"], [(2025, "moi")])[0][1]
                category = _category(rng, last)
                moved = transition(history[r["code"]], YEAR, Category(category)) if hid else None
                score_rows.append(
                    {
                        "submission_id": sid,
                        "submission_version_id": vid,
                        "household_code": r["code"],
                        "standard": "2022_2025",
                        "year": YEAR,
                        "table_code": "demo_2022_2025_rural",
                        "table_version": "demo-1",
                        "mapping": "phieu_b_2022",
                        "category": category,
                        "transition": moved,
                        "score_a": body["score_a"],
                        "score_b": body["score_b"],
                        "deprivations": body["deprivations"],
                        "undetermined": body["undetermined_indicators"],
                        "provisional": True,
                        "method": "b1",
                        "methods_disagree": rng.random() < 0.02,
                        "result": body,
                        "inputs_sha256": "0" * 64,
                        "current": True,
                    }
                )
            score_ids = db.session.scalars(
                insert(HouseholdScore).returning(HouseholdScore.id), score_rows
            ).all()
            with_a = [(r, hid) for r, hid in zip(rows, ids, strict=True) if rng.random() < 0.05]
            a_subs = db.session.scalars(
                insert(Submission).returning(Submission.id),
                [
                    {
                        "form_id": version_a.form_id,
                        "instance_id": f"uuid:bench-a-{i}",
                        "commune_id": commune_id,
                        "village_id": r["village_id"],
                        "submitter_id": user_id,
                        "created_at": datetime(YEAR, 9, 20, 12),
                    }
                    for i, (r, _hid) in enumerate(with_a)
                ],
            ).all()
            a_versions = db.session.scalars(
                insert(SubmissionVersion).returning(SubmissionVersion.id),
                [
                    {
                        "submission_id": sid,
                        "form_id": version_a.form_id,
                        "form_version_id": version_a.id,
                        "instance_id": f"uuid:bench-a-{i}",
                        "xml_sha256": f"a{i:063d}",
                        "fields": {"hh_code": r["code"]},
                        "submitter_id": user_id,
                    }
                    for i, (sid, (r, _hid)) in enumerate(zip(a_subs, with_a, strict=True))
                ],
            ).all()
            db.session.execute(
                insert(HouseholdEvidence),
                [
                    {
                        "submission_id": sid,
                        "submission_version_id": vid,
                        "commune_id": commune_id,
                        "household_code": r["code"],
                        "year": YEAR,
                        "kind": "screening",
                        "data": {"screened_out": False, "reasons": None},
                    }
                    for sid, vid, (r, _hid) in zip(a_subs, a_versions, with_a, strict=True)
                ],
            )
            cases = [
                {
                    "round_id": round_id,
                    "village_id": r["village_id"],
                    "household_id": hid,
                    "household_code": r["code"],
                    "head_name": r["head_name"],
                    "submission_id": sid,
                    "score_id": score_id,
                    "previous_status": "khong",
                    "proposed_category": score["category"],
                    "transition": score["transition"],
                    "list_type": "khong_thuoc_dien",
                    "stage": "listed",
                }
                for sid, score_id, score, (r, hid) in zip(
                    subs, score_ids, score_rows, scored, strict=True
                )
                if hid and rng.random() < 0.5
            ]
            db.session.execute(insert(HouseholdCase), cases)
        counts = {
            "households": db.session.scalar(select(func.count()).select_from(Household)),
            "scores": db.session.scalar(select(func.count()).select_from(HouseholdScore)),
            "phieu_a": len(a_subs),
            "cases": len(cases),
            "folded names filled": db.session.scalar(
                select(func.count()).where(Household.head_name_folded != "")
            ),
        }
        db.session.remove()
        if str(db.engine.url).startswith("postgresql"):  # as autovacuum would have done
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
    counts["fill seconds"] = round(time.perf_counter() - started, 1)
    return counts


def measure(url: str, instance: Path, households: int, repeat: int) -> dict[str, float]:
    app = create_app(
        {"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "WTF_CSRF_ENABLED": False}
        | FAST_HASHING
    )
    schema.upgrade(app)
    print("  filled:", fill(app, households), flush=True)
    browser = app.test_client()
    reply = browser.post("/login", data={"username": "canbo.bench", "password": PASSWORD})
    assert reply.status_code == 302, reply.status_code
    with app.app_context():
        engine = db.engine
        last_page = -(-db.session.scalar(select(func.count()).select_from(Household)) // 50)
        code = db.session.scalar(
            select(HouseholdScore.household_code).order_by(HouseholdScore.id).limit(1)
        )
    pages = PAGES | {
        "list, last page (s)": f"/xa/ho?page={last_page}",
        "household page (s)": f"/xa/ho/{code}",
    }
    results: dict[str, float] = {}
    for name, path in pages.items():
        browser.get(path)  # warm
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            reply = browser.get(path)
            times.append(time.perf_counter() - started)
            assert reply.status_code == 200, (path, reply.status_code)
        results[name] = round(statistics.median(times), 3)
    count = [0]

    def counter(*_args):
        count[0] += 1

    event.listen(engine, "before_cursor_execute", counter)
    browser.get("/xa/ho")
    event.remove(engine, "before_cursor_execute", counter)
    results["SQL statements of a list page"] = count[0]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return results


def print_table(report: dict[str, dict[str, float]], households: int) -> bool:
    backends = list(report)
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    print()
    print(f"{households:,} households")
    print("| figure | " + " | ".join(names[b] for b in backends) + " | target | ratio |")
    print("|---|" + "---|" * len(backends) + "---|---|")
    ok = True
    for figure, target in TARGETS.items():
        worst = max(report[b][figure] for b in backends)
        ratio = worst / target
        ok = ok and ratio <= 1
        values = " | ".join(f"{report[b][figure]}" for b in backends)
        print(f"| {figure} | {values} | {target} | {ratio:.2f} |")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=3000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = {}
    for backend in args.backends.split(","):
        print(f"{backend}:", flush=True)
        with tempfile.TemporaryDirectory(prefix="rasoat-bench-") as tmp:
            if backend == "sqlite":
                url = f"sqlite:///{tmp}/bench.sqlite3"
                report[backend] = measure(url, Path(tmp), args.households, args.repeat)
            else:
                with PgCluster.start() as cluster:
                    report[backend] = measure(
                        cluster.create_database("bench"), Path(tmp), args.households, args.repeat
                    )
        print(" ", report[backend], flush=True)
    ok = print_table(report, args.households)
    print("load average (1, 5, 15 min) at the end:", os.getloadavg())
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
