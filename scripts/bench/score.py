"""Scoring benchmark (run by hand; not part of the test suite).

1. The pure engine: households scored per second (standard 2022–2025, the demo B1 table).
2. Re-scoring N stored Phiếu B submissions (default 100 000) on SQLite and/or PostgreSQL:
   wall time, rate and the process's peak memory (ru_maxrss).

    .venv/bin/python scripts/bench/score.py [--households 20000] [--stored 100000]
        [--backends sqlite,postgresql] [--json out.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import func, insert, select

from scripts.pgcluster import PgCluster
from server import create_app, schema
from server.accounts.models import Role
from server.accounts.services import create_user
from server.db import write_transaction
from server.extensions import db
from server.geography.models import AreaType, Commune, Province, Village
from server.scoring.b1_store import assign_table
from server.scoring.engine import score_household
from server.scoring.facts import HouseholdFacts, Member
from server.scoring.models import HouseholdScore
from server.scoring.standards import standard_for_year
from server.scoring.tables import shipped_tables
from server.submissions.models import Submission, SubmissionVersion, SubmissionXml

WORK = ["nong_nghiep", "lam_cong", "that_nghiep", "khong_hoat_dong"]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def random_member(rng: random.Random, n: int) -> dict[str, str]:
    age = rng.randint(0, 85)
    return {
        "info/name": f"Thành viên {n}",
        "info/age": str(age),
        "info/sex": rng.choice("12"),
        "info/relationship": "chu_ho" if n == 1 else "con",
        "work/work_status": rng.choice(WORK),
        "work/contract": rng.choice(["co_hd", "khong_hd"]),
        "work/pension": "no",
        "health/health_insurance": rng.choice(["yes", "yes", "no"]),
        "health/malnourished": "no",
        "health/disability": "khong",
        "health/serious_illness": "no",
        "edu/in_school": rng.choice(["yes", "no"]),
        "edu/education": rng.choice(["tieu_hoc", "thcs", "thpt"]),
        "edu/qualification": "khong",
        "edu/employer_training": "no",
    }


def random_fields(rng: random.Random, code: str) -> dict[str, str]:
    size = rng.randint(1, 8)
    fields = {
        "hh_code": code,
        "area_type": "rural",
        "village": "T01",
        "general/review_date": "2026-10-15",
        "housing/floor_area": str(rng.randint(10, 120)),
        "housing/wall": rng.choice(["gach_da", "dat"]),
        "housing/frame": rng.choice(["btct", "tre"]),
        "housing/roof": rng.choice(["ngoi", "la_tranh"]),
        "services/water_source": rng.choice(["nuoc_may", "nuoc_mat"]),
        "services/latrine": rng.choice(["tu_hoai", "khong_co"]),
        "services/telecom_use": rng.choice(["yes", "no"]),
        "services/info_devices": "tivi",
        "b1_hh_size": str(size),
        "b1_dependants": str(rng.randint(0, size)),
        "b1_top_qual": "thpt",
        "b1_pension": "khong",
        "b1_work/nonfarm_work": "khong",
        "b1_work/electricity": "kwh_25_49",
        "b1_assets": "xe_may",
    }
    for n in range(1, size + 1):
        fields |= {f"members[{n}]/{k}": v for k, v in random_member(rng, n).items()}
    return fields


def bench_engine(count: int) -> dict:
    rng = random.Random(1)
    standard = standard_for_year(2026)
    table = shipped_tables()["demo_2022_2025_rural"]
    households = [
        HouseholdFacts(
            members=tuple(
                Member(
                    name=f"M{n}",
                    age=rng.randint(0, 85),
                    sex=rng.choice("12"),
                    work_status=rng.choice(WORK),
                    contract="khong_hd",
                    disability="khong",
                    serious_illness=False,
                    health_insurance=rng.random() > 0.2,
                    malnourished=False,
                    in_school=rng.random() > 0.5,
                    education="thcs",
                    qualification="khong",
                    employer_training=False,
                )
                for n in range(rng.randint(1, 8))
            ),
            area_type="rural",
            floor_area=float(rng.randint(10, 120)),
            wall="gach_da",
            frame="btct",
            roof="ngoi",
            water_source="nuoc_mat",
            latrine="tu_hoai",
            telecom_use=True,
            info_devices=frozenset({"tivi"}),
            b1={
                "b1_hh_size": 4,
                "b1_dependants": 1,
                "b1_top_qual": "thpt",
                "b1_pension": "khong",
                "nonfarm_work": "khong",
                "electricity": "kwh_25_49",
                "b1_assets": frozenset({"xe_may"}),
            },
        )
        for _ in range(count)
    ]
    started = time.perf_counter()
    for facts in households:
        score_household(facts, standard, table)
    elapsed = time.perf_counter() - started
    return {"households": count, "seconds": round(elapsed, 2), "per_second": round(count / elapsed)}


def bench_rescore(url: str, stored: int, instance: Path) -> dict:
    from server.blobs import blob_store
    from server.questionnaires.services import publish_form_version
    from server.questionnaires.sources import load_sources

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance)})
    schema.upgrade(app)
    rng = random.Random(2)
    with app.app_context():
        with write_transaction(db.session):
            source = next(s for s in load_sources() if s.name == "phieu_b_2022")
            version = publish_form_version(source.compiled_path.read_bytes(), blobs=blob_store())
            form_id, version_id = version.form_id, version.id
        with write_transaction(db.session):
            commune = Commune(
                province=Province(code="BENCH", name="Tỉnh đo"),
                code="BX1",
                name="Xã đo",
                region="tay_nguyen",
                area_type=AreaType.RURAL,
            )
            commune.villages.append(Village(code="T01", name="Thôn 1"))
            db.session.add(commune)
            db.session.flush()
            assign_table(commune, "2022_2025", "rural", "demo_2022_2025_rural")
            user = create_user(
                username="rsv.bench",
                display_name="Rà soát viên đo",
                role=Role.REVIEWER,
                password="matkhau-bench-1",  # noqa: S106  (a throw-away benchmark account)
                commune=commune,
            )
            commune_id, user_id = commune.id, user.id
        started = time.perf_counter()
        for chunk in range(0, stored, 5000):
            with write_transaction(db.session):
                n = min(5000, stored - chunk)
                subs = [
                    {
                        "form_id": form_id,
                        "instance_id": f"uuid:b-{chunk + i}",
                        "commune_id": commune_id,
                        "submitter_id": user_id,
                        "review_state": "received",
                    }
                    for i in range(n)
                ]
                ids = db.session.scalars(insert(Submission).returning(Submission.id), subs).all()
                versions = [
                    {
                        "submission_id": sid,
                        "form_id": form_id,
                        "form_version_id": version_id,
                        "instance_id": f"uuid:b-{chunk + i}",
                        "xml_sha256": hashlib.sha256(str(chunk + i).encode()).hexdigest(),
                        "fields": random_fields(rng, f"DEMO01-T01-{chunk + i:06d}"),
                        "current": True,
                        "submitter_id": user_id,
                    }
                    for i, sid in enumerate(ids)
                ]
                vids = db.session.scalars(
                    insert(SubmissionVersion).returning(SubmissionVersion.id), versions
                ).all()
                db.session.execute(
                    insert(SubmissionXml), [{"version_id": v, "xml": b"<data/>"} for v in vids]
                )
        prefill = time.perf_counter() - started
        db.session.remove()
    memory_before = peak_mb()
    runner = app.test_cli_runner()
    started = time.perf_counter()
    result = runner.invoke(args=["scoring", "rescore"])
    elapsed = time.perf_counter() - started
    if result.exit_code != 0:
        raise SystemExit(result.output)
    with app.app_context():
        scores = db.session.scalar(select(func.count()).select_from(HouseholdScore))
        db.engine.dispose()
    assert scores == stored, (scores, stored)
    return {
        "stored": stored,
        "prefill_seconds": round(prefill, 1),
        "rescore_seconds": round(elapsed, 1),
        "per_second": round(stored / elapsed),
        "peak_mb_before": round(memory_before),
        "peak_mb_after": round(peak_mb()),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=20000)
    parser.add_argument("--stored", type=int, default=100000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = {"engine": bench_engine(args.households)}
    print("engine:", report["engine"], flush=True)
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix="rasoat-bench-") as tmp:
            if backend == "sqlite":
                url = f"sqlite:///{tmp}/bench.sqlite3"
                report[backend] = bench_rescore(url, args.stored, Path(tmp))
            else:
                with PgCluster.start() as cluster:
                    report[backend] = bench_rescore(
                        cluster.create_database("bench"), args.stored, Path(tmp)
                    )
        print(f"{backend}:", report[backend], flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
