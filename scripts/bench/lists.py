"""Commune staff pages at scale (run by hand; not part of the test suite).

A commune of N households (default 5 000) in 5 villages, each with last year's status and a
Phiếu B submission scored by the real scoring queue.  Then, as the commune officer through the
Flask test client: compiling the village-meeting lists, a village's list page, its PDF and
XLSX, and the submissions list (first page, and filtered by classification).  Wall time per
step and the process's peak memory (ru_maxrss), on SQLite and/or PostgreSQL.

Then the commune-wide exports (``/xuat``): XLSX and PDF of every village's lists, each run by
the real background thread while the page is polled as the browser's refresh would; for each,
the wall time, how many progress updates the page showed, the file size, and the peak resident
memory *during the export* above what the process held before it (Linux: the peak is reset
through ``/proc/self/clear_refs`` and read from ``VmHWM``; elsewhere only ru_maxrss).

    .venv/bin/python scripts/bench/lists.py [--households 5000] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import func, insert, select

from scripts.bench.score import peak_mb, random_fields
from scripts.pgcluster import PgCluster
from server import create_app, schema
from server.accounts.models import Role
from server.accounts.services import create_user
from server.blobs import blob_store
from server.db import write_transaction
from server.exports import runner as export_runner
from server.exports.models import ExportJob
from server.extensions import db
from server.geography.models import AreaType, Commune, Province, Village
from server.households.models import Household, HouseholdStatus, HouseholdYearStatus, ListSource
from server.questionnaires.services import assign_form, publish_form_version
from server.questionnaires.sources import load_sources
from server.scoring.b1_store import assign_table
from server.scoring.models import HouseholdScore
from server.scoring.services import enqueue_rescore, pending_job_ids, process_jobs
from server.submissions.models import Submission, SubmissionVersion, SubmissionXml

VILLAGES = 5
PASSWORD = "matkhau-bench-1"  # noqa: S105  (a throw-away benchmark account)


def seed(app, households: int) -> None:
    rng = random.Random(7)
    with app.app_context():
        with write_transaction(db.session):
            province = Province(code="BENCH", name="Tỉnh đo")
            commune = Commune(
                province=province,
                code="BX1",
                name="Xã đo",
                region="tay_nguyen",
                area_type=AreaType.RURAL,
            )
            for n in range(1, VILLAGES + 1):
                commune.villages.append(Village(code=f"T{n:02d}", name=f"Thôn {n}"))
            db.session.add(province)
            db.session.flush()
            officer = create_user(
                username="canbo.bench",
                display_name="Cán bộ đo",
                role=Role.OFFICER,
                password=PASSWORD,
                commune=commune,
            )
            source = next(s for s in load_sources() if s.name == "phieu_b_2022")
            version = publish_form_version(
                source.compiled_path.read_bytes(), blobs=blob_store(), media=source.media
            )
            assign_form(version.form, commune, actor=None)
            assign_table(commune, "2022_2025", "rural", "demo_2022_2025_rural")
            ids = {
                "commune": commune.id,
                "officer": officer.id,
                "form": version.form_id,
                "version": version.id,
                "villages": [v.id for v in commune.villages],
            }
        statuses = [HouseholdStatus.POOR] * 12 + [HouseholdStatus.NEAR_POOR] * 10 + [None] * 78
        for start in range(0, households, 2000):
            with write_transaction(db.session):
                rows = []
                for i in range(start, min(households, start + 2000)):
                    village = ids["villages"][i % VILLAGES]
                    code = f"BX1-{i:06d}"
                    rows.append((code, village))
                    db.session.add(
                        Household(
                            commune_id=ids["commune"],
                            village_id=village,
                            code=code,
                            head_name=f"Chủ hộ {i}",
                            list_source=ListSource.ON_LIST,
                        )
                    )
                db.session.flush()
                households_by_code = dict(
                    db.session.execute(
                        select(Household.code, Household.id).where(
                            Household.code.in_([c for c, _ in rows])
                        )
                    ).all()
                )
                history = [
                    {"household_id": households_by_code[c], "year": 2025, "status": s}
                    for c, _ in rows
                    if (s := rng.choice(statuses)) is not None
                ]
                if history:
                    db.session.execute(insert(HouseholdYearStatus), history)
                subs = db.session.scalars(
                    insert(Submission).returning(Submission.id),
                    [
                        {
                            "form_id": ids["form"],
                            "instance_id": f"uuid:bench-{c}",
                            "commune_id": ids["commune"],
                            "village_id": v,
                            "submitter_id": ids["officer"],
                            "review_state": "received",
                        }
                        for c, v in rows
                    ],
                ).all()
                versions = db.session.scalars(
                    insert(SubmissionVersion).returning(SubmissionVersion.id),
                    [
                        {
                            "submission_id": sid,
                            "form_id": ids["form"],
                            "form_version_id": ids["version"],
                            "instance_id": f"uuid:bench-{c}",
                            "xml_sha256": hashlib.sha256(c.encode()).hexdigest(),
                            "fields": random_fields(rng, c),
                            "current": True,
                            "submitter_id": ids["officer"],
                        }
                        for sid, (c, _v) in zip(subs, rows, strict=True)
                    ],
                ).all()
                db.session.execute(
                    insert(SubmissionXml), [{"version_id": v, "xml": b"<data/>"} for v in versions]
                )
        with write_transaction(db.session):
            queued = enqueue_rescore(ids["commune"])
        process_jobs(pending_job_ids(queued + 10))
        scored = db.session.scalar(select(func.count()).select_from(HouseholdScore))
        assert scored == households, (scored, households)
        db.session.remove()


def timed(label: str, results: dict, call):
    started = time.perf_counter()
    value = call()
    results[label] = round(time.perf_counter() - started, 2)
    return value


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak() -> bool:
    """Reset this process's peak resident memory (Linux ≥ 4.0); False where it cannot."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return _status_kb("VmHWM") is not None


def export(app, browser, base: str, fmt: str, results: dict) -> None:
    """Request the commune-wide export, poll its page until it is done (as the page's own
    refresh would, but every 0.5 s), download it; time and memory in ``results``."""
    round_id = int(base.rstrip("/").rsplit("/", 1)[-1])
    resettable = reset_peak()
    rss_before = _status_kb("VmRSS")
    started = time.perf_counter()
    reply = browser.post("/xuat", data={"round_id": str(round_id), "format": fmt})
    assert reply.status_code == 302, reply.status_code
    job_url = reply.headers["Location"]
    job_id = int(job_url.rsplit("/", 1)[-1])
    shown = set()
    while True:
        page = browser.get(job_url)
        assert page.status_code == 200
        shown.update(re.findall(rb"(\d+)% \xe2\x80\x94", page.data))
        if b'http-equiv="refresh"' not in page.data:
            break
        time.sleep(0.5)
    results[f"commune_{fmt}_s"] = round(time.perf_counter() - started, 2)
    assert export_runner.join_threads(60)
    with app.app_context():
        job = db.session.get(ExportJob, job_id)
        assert job.state == "done", (job.state, job.message)
        assert job.progress_done == job.progress_total
        results[f"commune_{fmt}_households"] = job.progress_total
        results[f"commune_{fmt}_kb"] = round(job.size / 1024)
        db.session.remove()
    results[f"commune_{fmt}_progress_updates_seen"] = len(shown)
    if resettable and rss_before is not None:
        peak = _status_kb("VmHWM")
        results[f"commune_{fmt}_rss_before_mb"] = round(rss_before / 1024)
        results[f"commune_{fmt}_peak_above_before_mb"] = round((peak - rss_before) / 1024)
    else:
        results[f"commune_{fmt}_peak_mb_ru_maxrss"] = round(peak_mb())
    download = browser.get(f"{job_url}/tep")
    assert download.status_code == 200
    magic = b"%PDF" if fmt == "pdf" else b"PK"
    assert download.data.startswith(magic)
    download.close()


def bench(url: str, households: int, instance: Path) -> dict:
    app = create_app(
        {"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "WTF_CSRF_ENABLED": False}
    )
    schema.upgrade(app)
    results: dict = {"households": households}
    timed("seed_and_score_s", results, lambda: seed(app, households))
    browser = app.test_client()
    reply = browser.post("/login", data={"username": "canbo.bench", "password": PASSWORD})
    assert reply.status_code == 302, reply.status_code
    reply = browser.post("/xa/ra-soat", data={"commune": "BX1", "year": "2026", "kind": "dinh_ky"})
    base = reply.headers["Location"]
    memory_before = peak_mb()
    reply = timed(
        "compile_lists_s", results, lambda: browser.post(f"{base}/lap-danh-sach", data={})
    )
    assert reply.status_code == 302
    page = timed("village_page_s", results, lambda: browser.get(f"{base}/thon/T01"))
    assert page.status_code == 200
    results["village_households"] = len(re.findall(rb"<tr><td>\d+</td>", page.data))
    results["village_page_kb"] = round(len(page.data) / 1024)
    pdf = timed("village_pdf_s", results, lambda: browser.get(f"{base}/thon/T01/danh-sach.pdf"))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    results["village_pdf_kb"] = round(len(pdf.data) / 1024)
    xlsx = timed("village_xlsx_s", results, lambda: browser.get(f"{base}/thon/T01/danh-sach.xlsx"))
    assert xlsx.status_code == 200
    listing = timed("submissions_page_s", results, lambda: browser.get("/xa/phieu"))
    assert listing.status_code == 200
    filtered = timed(
        "submissions_filtered_s", results, lambda: browser.get("/xa/phieu?category=ngheo")
    )
    assert filtered.status_code == 200
    results["peak_mb_before_pages"] = round(memory_before)
    results["peak_mb"] = round(peak_mb())
    if os.environ.get("BENCH_SKIP_EXPORTS") != "1":
        export(app, browser, base, "xlsx", results)
        export(app, browser, base, "pdf", results)
    with app.app_context():
        db.engine.dispose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=5000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix="rasoat-bench-") as tmp:
            if backend == "sqlite":
                result = bench(f"sqlite:///{tmp}/bench.sqlite3", args.households, Path(tmp))
            else:
                cluster = PgCluster.start()
                try:
                    result = bench(cluster.create_database("bench"), args.households, Path(tmp))
                finally:
                    cluster.stop()
        print(backend, result, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
