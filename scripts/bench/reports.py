"""Reports benchmark (run by hand; not part of the test suite).

A province report over N registered households (default 200 000) on SQLite and/or PostgreSQL:
the time and the peak memory (ru_maxrss) of computing the report, of the page and of the XLSX.

    .venv/bin/python scripts/bench/reports.py [--households 200000] [--communes 20]
        [--backends sqlite,postgresql] [--json out.json]

1. Fill a fresh database with bulk ``insert()``s: a province of ``--communes`` communes, the
   household registry, recognised statuses for 2025 (every household) and 2024 (one in five),
   and for 2026 in the first two communes (their decision is taken); 2026 review results for
   90 % of the households — ``submissions``, ``submission_versions`` and ``household_scores``
   rows whose ``result`` is a real engine result (600 random households scored once with the
   demo B1 table, reused in turn), 2 % of the households with a second questionnaire and
   1 % of codes not in the registry.  The category column is drawn (9 % poor, 6 % near-poor,
   1 % undetermined, the rest neither) so that the share of poor households — the only ones
   whose JSON the report reads — is realistic whatever the demo table says.
2. Measure each of ``report()``, ``GET /bao-cao`` and ``GET /bao-cao.xlsx`` (the whole streamed
   body read) as the province administrator, each in a fresh Python process so that its
   ru_maxrss is its own (the filling runs in a child too: see :func:`_child`); "before" is the
   process's peak with the app created and the administrator logged in.  The report step also
   times its queries one by one and measures, in a second untimed run, the peak of what the
   report allocates in Python (tracemalloc).
3. Print the table; ``--json`` writes the figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.pgcluster import PgCluster

YEAR = 2026
PASSWORD = "bench-pass-123"  # noqa: S105  (an account of a throw-away benchmark database)
CHUNK = 5000
TEMPLATES = 600
ETHNICITIES = ["kinh"] * 5 + ["ba_na", "xo_dang", "gia_rai", "hre", "khac"]
WORK = ["nong_nghiep", "lam_cong", "that_nghiep", "khong_hoat_dong"]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- filling ----------------------------------------------------------------------------------


def _random_facts(rng: random.Random):
    from server.scoring.facts import HouseholdFacts, Member

    size = rng.randint(1, 7)
    ethnicity = rng.choice(ETHNICITIES)
    members = tuple(
        Member(
            name=f"Thành viên {n}",
            age=rng.randint(0, 85) if n else rng.randint(20, 80),
            sex=rng.choice("12"),
            relationship="chu_ho" if n == 0 else "con",
            ethnicity=ethnicity,
            work_status=rng.choice(WORK),
            contract=rng.choice(["co_hd", "khong_hd"]),
            disability=rng.choice(["khong"] * 9 + ["nang"]),
            serious_illness=rng.random() < 0.05,
            health_insurance=rng.random() > 0.2,
            malnourished=False,
            in_school=rng.random() > 0.5,
            education=rng.choice(["tieu_hoc", "thcs", "thpt"]),
            qualification="khong",
            employer_training=False,
            pension=False,
        )
        for n in range(size)
    )
    return HouseholdFacts(
        members=members,
        area_type="rural",
        floor_area=float(rng.randint(10, 120)),
        wall=rng.choice(["gach_da", "tre_nua_la"]),
        frame=rng.choice(["btct", "go_tap"]),
        roof=rng.choice(["ngoi", "ton"]),
        water_source=rng.choice(["nuoc_may", "gieng_khoan", "nuoc_mua"]),
        latrine=rng.choice(["tu_hoai", "ho_khong_san"]),
        telecom_use=rng.random() > 0.1,
        info_devices=frozenset(rng.sample(["tivi", "radio", "dien_thoai_thuong"], 1)),
        b1={
            "b1_hh_size": size,
            "b1_dependants": rng.randint(0, size),
            "b1_top_qual": "thpt",
            "b1_pension": "khong",
            "nonfarm_work": "khong",
            "electricity": rng.choice(["kwh_duoi_25", "kwh_25_49", "kwh_50_99"]),
            "b1_assets": frozenset({"xe_may"}),
        },
    )


def _plain(value):
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value):
        return {f: _plain(getattr(value, f)) for f in value.__dataclass_fields__}
    return value


def result_templates(count: int) -> list[dict]:
    """Real engine results (as ``_store_score`` stores them) for random households."""
    from server.scoring.engine import CATEGORY_VI, score_household
    from server.scoring.schemas import ScoreOut
    from server.scoring.standards import standard_for_year
    from server.scoring.tables import shipped_tables

    rng = random.Random(3)
    standard = standard_for_year(YEAR)
    table = shipped_tables()["demo_2022_2025_rural"]
    out = []
    for _ in range(count):
        facts = _random_facts(rng)
        result = score_household(facts, standard, table)
        body = ScoreOut().dump(result)
        body["category_vi"] = CATEGORY_VI[result.category]
        body["inputs"] = _plain(facts)
        body["evidence"] = []
        out.append(body)
    return out


def _category(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.09:
        return "ngheo"
    if r < 0.15:
        return "can_ngheo"
    if r < 0.16:
        return "chua_xac_dinh"
    return "khong_ngheo_khong_can_ngheo"


def _status(rng: random.Random) -> str:
    r = rng.random()
    return "ngheo" if r < 0.10 else "can_ngheo" if r < 0.17 else "khong"


def fill(url: str, instance: Path, households: int, communes: int) -> dict:  # noqa: PLR0915
    from sqlalchemy import func, insert, select, text

    from server import create_app, schema
    from server.accounts.models import Role, User
    from server.accounts.services import create_user
    from server.blobs import blob_store
    from server.db import write_transaction
    from server.extensions import db
    from server.geography.models import AreaType, Commune, Province, Village
    from server.households.models import Household, HouseholdYearStatus
    from server.questionnaires.services import publish_form_version
    from server.questionnaires.sources import load_sources
    from server.scoring.models import HouseholdScore
    from server.submissions.models import Submission, SubmissionVersion

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance)})
    schema.upgrade(app)
    rng = random.Random(5)
    templates = result_templates(TEMPLATES)
    started = time.perf_counter()
    with app.app_context():
        with write_transaction(db.session):
            source = next(s for s in load_sources() if s.name == "phieu_b_2022")
            version = publish_form_version(source.compiled_path.read_bytes(), blobs=blob_store())
            form_id, version_id = version.form_id, version.id
            province = Province(code="PB", name="Tỉnh Đo")
            for n in range(communes):
                commune = Commune(
                    province=province,
                    code=f"XB{n:02d}",
                    name=f"Xã Đo {n:02d}",
                    region="tay_nguyen",
                    area_type=AreaType.RURAL,
                )
                commune.villages.append(Village(code="T01", name="Thôn Một"))
            db.session.add(province)
            db.session.flush()
            create_user(
                username="admin.bench",
                display_name="Quản trị đo",
                role=Role.ADMIN,
                password=PASSWORD,
                province=province,
            )
            first = db.session.scalar(select(Commune).order_by(Commune.code))
            create_user(
                username="rsv.bench",
                display_name="Rà soát viên đo",
                role=Role.REVIEWER,
                password=PASSWORD,
                commune=first,
            )
        places = [
            (c.id, c.villages[0].id, n)
            for n, c in enumerate(db.session.scalars(select(Commune).order_by(Commune.code)))
        ]
        user_id = db.session.scalar(select(User.id).where(User.username == "rsv.bench"))
        per_commune = households // communes
        serial = 0
        for commune_id, village_id, n in places:
            for chunk in range(0, per_commune, CHUNK):
                size = min(CHUNK, per_commune - chunk)
                codes = [f"XB{n:02d}-{chunk + i:06d}" for i in range(size)]
                with write_transaction(db.session):
                    ids = db.session.scalars(
                        insert(Household).returning(Household.id),
                        [
                            {
                                "commune_id": commune_id,
                                "village_id": village_id,
                                "code": code,
                                "head_name": f"Chủ hộ {code}",
                                "list_source": "danh_sach",
                            }
                            for code in codes
                        ],
                    ).all()
                    statuses = []
                    for hid in ids:
                        statuses.append({"household_id": hid, "year": 2025, "status": _status(rng)})
                        if rng.random() < 0.2:
                            statuses.append(
                                {"household_id": hid, "year": 2024, "status": _status(rng)}
                            )
                        if n < 2:  # decided communes
                            statuses.append(
                                {"household_id": hid, "year": YEAR, "status": _status(rng)}
                            )
                    db.session.execute(insert(HouseholdYearStatus), statuses)
                    scored = [c for c in codes if rng.random() < 0.9]
                    scored += [c for c in scored if rng.random() < 0.02]  # a second questionnaire
                    scored += [f"{c}-NEW" for c in codes if rng.random() < 0.01]  # not registered
                    subs = db.session.scalars(
                        insert(Submission).returning(Submission.id),
                        [
                            {
                                "form_id": form_id,
                                "instance_id": f"uuid:bench-{serial + i}",
                                "commune_id": commune_id,
                                "village_id": village_id,
                                "submitter_id": user_id,
                                "review_state": "received",
                            }
                            for i in range(len(scored))
                        ],
                    ).all()
                    versions = db.session.scalars(
                        insert(SubmissionVersion).returning(SubmissionVersion.id),
                        [
                            {
                                "submission_id": sid,
                                "form_id": form_id,
                                "form_version_id": version_id,
                                "instance_id": f"uuid:bench-{serial + i}",
                                "xml_sha256": f"{serial + i:064d}",
                                "fields": {"hh_code": scored[i]},
                                "submitter_id": user_id,
                            }
                            for i, sid in enumerate(subs)
                        ],
                    ).all()
                    rows = []
                    for i, (sid, vid) in enumerate(zip(subs, versions, strict=True)):
                        body = templates[(serial + i) % TEMPLATES]
                        rows.append(
                            {
                                "submission_id": sid,
                                "submission_version_id": vid,
                                "household_code": scored[i],
                                "standard": "2022_2025",
                                "year": YEAR,
                                "table_code": "demo_2022_2025_rural",
                                "table_version": "demo-1",
                                "mapping": "phieu_b_2022",
                                "category": _category(rng),
                                "transition": None,
                                "score_a": body["score_a"],
                                "score_b": body["score_b"],
                                "deprivations": body["deprivations"],
                                "undetermined": body["undetermined_indicators"],
                                "provisional": True,
                                "result": body,
                                "inputs_sha256": "0" * 64,
                                "current": True,
                            }
                        )
                    db.session.execute(insert(HouseholdScore), rows)
                    serial += len(scored)
        counts = {
            "households": db.session.scalar(select(func.count()).select_from(Household)),
            "statuses": db.session.scalar(select(func.count()).select_from(HouseholdYearStatus)),
            "scores": db.session.scalar(select(func.count()).select_from(HouseholdScore)),
            "result_bytes_avg": round(
                sum(len(json.dumps(t, ensure_ascii=False)) for t in templates) / TEMPLATES
            ),
        }
        db.session.remove()
        if url.startswith("postgresql"):  # as autovacuum would have done
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            raw = db.engine.raw_connection()
            try:
                raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                raw.close()
        db.engine.dispose()
    counts["fill_seconds"] = round(time.perf_counter() - started, 1)
    return counts


# --- measuring (in a fresh process each) -----------------------------------------------------


def _browser(app):
    """A test client logged in as the administrator (through the session: a password check
    would set the process's peak memory with Argon2's 64 MB before anything is measured)."""
    from sqlalchemy import select

    from server.accounts.models import User
    from server.extensions import db

    with app.app_context():
        admin_id = db.session.scalar(select(User.id).where(User.username == "admin.bench"))
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["_user_id"], session["_fresh"] = str(admin_id), True
    return browser


def _phases(admin) -> dict:
    """The report's queries one by one (after the measured run: its peak is already taken)."""
    from server.extensions import db
    from server.reports import services

    ids = [c.id for c in services.communes_in_scope(admin)]
    timings = {}
    for year, review, name in ((YEAR, True, "this year"), (YEAR - 1, False, "previous year")):
        started = time.perf_counter()
        db.session.execute(services._groups(ids, year, review)).all()
        timings[f"{name}: aggregate"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        rows = sum(1 for _ in services._poor_and_near_poor(ids, year, review))
        timings[f"{name}: {rows} poor/near-poor streamed"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    services._outside_registry(ids, YEAR)
    timings["outside the registry"] = round(time.perf_counter() - started, 2)
    return timings


def measure(mode: str, url: str, instance: Path) -> dict:
    from sqlalchemy import select

    from server import create_app
    from server.accounts.models import User
    from server.extensions import db
    from server.reports.services import report

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance)})
    browser = _browser(app)
    before = peak_mb()
    started = time.perf_counter()
    phases = None
    if mode == "report":
        with app.test_request_context():
            admin = db.session.scalar(select(User).where(User.username == "admin.bench"))
            found = report(admin, YEAR)
            elapsed, peak = time.perf_counter() - started, peak_mb()
            size = found.total.current.total
            phases = _phases(admin)
            # What the report itself allocates in Python at its peak (a second, untimed run).
            tracemalloc.start()
            report(admin, YEAR)
            phases["python allocations at peak (MB)"] = round(
                tracemalloc.get_traced_memory()[1] / 2**20, 1
            )
            tracemalloc.stop()
    else:
        path = "/bao-cao" if mode == "page" else "/bao-cao.xlsx"
        reply = browser.get(f"{path}?year={YEAR}", buffered=False)
        assert reply.status_code == 200, reply.status_code
        size = sum(len(chunk) for chunk in reply.response)
        reply.close()
        elapsed, peak = time.perf_counter() - started, peak_mb()
    out = {
        "seconds": round(elapsed, 2),
        "peak_mb_before": round(before),
        "peak_mb": round(peak),
        "size": size,
    }
    if phases:
        out["phases"] = phases
    return out


def _child(*args: str) -> dict:
    """Run this script in a fresh process and return the JSON it prints.

    Filling and measuring both run in children: Linux carries a process's peak RSS over
    ``fork`` + ``exec`` into the new program's ru_maxrss, so a measuring process started by
    the process that filled the database would report the filler's peak.  This parent stays
    small (it imports neither the app nor SQLAlchemy)."""
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_backend(url: str, instance: Path, households: int, communes: int) -> dict:
    where = ["--url", url, "--instance", str(instance)]
    result = {
        "fill": _child(
            "--fill", "--households", str(households), "--communes", str(communes), *where
        )
    }
    print("  filled:", result["fill"], flush=True)
    for mode in ("report", "page", "xlsx"):
        result[mode] = _child("--measure", mode, *where)
        print(f"  {mode}:", result[mode], flush=True)
    return result


def print_table(report: dict) -> None:
    print()
    print("| backend | households | step | seconds | peak MB (before → after) | output |")
    print("|---|---|---|---|---|---|")
    for backend, result in report.items():
        for mode, label, unit in (
            ("report", "report() (province)", "households"),
            ("page", "GET /bao-cao", "bytes"),
            ("xlsx", "GET /bao-cao.xlsx", "bytes"),
        ):
            m = result[mode]
            print(
                f"| {backend} | {result['fill']['households']:,} | {label} | {m['seconds']} | "
                f"{m['peak_mb_before']} → {m['peak_mb']} | {m['size']:,} {unit} |"
            )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=200_000)
    parser.add_argument("--communes", type=int, default=20)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--fill", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", choices=("report", "page", "xlsx"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--instance", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fill:
        print(json.dumps(fill(args.url, args.instance, args.households, args.communes)))
        return 0
    if args.measure:
        print(json.dumps(measure(args.measure, args.url, args.instance)))
        return 0
    report = {}
    for backend in args.backends.split(","):
        print(f"{backend}:", flush=True)
        with tempfile.TemporaryDirectory(prefix="rasoat-bench-") as tmp:
            if backend == "sqlite":
                url = f"sqlite:///{tmp}/bench.sqlite3"
                report[backend] = run_backend(url, Path(tmp), args.households, args.communes)
            else:
                with PgCluster.start() as cluster:
                    report[backend] = run_backend(
                        cluster.create_database("bench"), Path(tmp), args.households, args.communes
                    )
    print_table(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
