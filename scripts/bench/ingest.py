#!/usr/bin/env python3
"""Submission ingest benchmark: simulated ODK Collect phones against rasoat under gunicorn.

For each database backend (SQLite, PostgreSQL) the benchmark

1. sets up a fresh instance with the project's own CLI (``db upgrade``, ``forms
   publish-shipped``, ``demo setup``) and pre-fills the submissions tables with ``--prefill``
   stored submissions by direct bulk SQL, because the duplicate-instanceID check is only
   interesting against a large table (``../shared/openrosa/protocol.md`` §5: Central slows from
   57 to 37 submissions/s once 100 k submissions are stored);
2. starts gunicorn on loopback and drives ``--phones`` concurrent phones that each do what
   Collect does for one finalized form: ``HEAD /submission`` then a multipart ``POST`` of a new
   instance of the shipped demo form, a ~30 KB JPEG attached to ``--attachment-ratio`` of them;
3. checks that the database holds exactly pre-fill + accepted submissions afterwards.

In the same run the same load is sent to ``scripts/bench/hello_app.py`` (bare Flask, no XML,
no database) under the same gunicorn settings: that is the ceiling the ingest rate is compared
with.  Everything listens on 127.0.0.1 and is removed at the end, also on Ctrl-C.

Run from the repository root with the project's virtualenv::

    .venv/bin/python scripts/bench/ingest.py --phones 4,16 --json /tmp/ingest.json

See ``scripts/bench/README.md`` for what each number means.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import math
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run as a file (python scripts/bench/ingest.py), not with -m
    sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, event, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import Connection, Engine  # noqa: E402

from scripts.pgcluster import PgCluster, free_port  # noqa: E402
from server.accounts.models import User  # noqa: E402
from server.blobs import BlobStore, StoredBlob  # noqa: E402
from server.config import Defaults  # noqa: E402
from server.db import utcnow  # noqa: E402
from server.geography.models import Village  # noqa: E402
from server.questionnaires.models import Form, FormVersion  # noqa: E402
from server.submissions.models import (  # noqa: E402
    Submission,
    SubmissionAttachment,
    SubmissionVersion,
    SubmissionXml,
)
from server.submissions.parsing import (  # noqa: E402
    extract_fields,
    field_schema_path,
    parse_submission,
)
from tests.instances import DEMO_FORM_ID, DEMO_VERSION, demo_instance, jpeg_bytes  # noqa: E402

BACKENDS = ("sqlite", "postgresql")
REVIEWER = "rsv.demo"  # the demo reviewer whose device token the phones use (server/demo.py)
COLLECT_UA = "org.odk.collect.android/v2025.2.0 Dalvik/2.1.0 (Linux; Android 13)"
PHOTO_BYTES = 30 * 1024
PREFILL_BATCH = 2_000
# Distinct photos the pre-filled rows point at.  Blobs are content-addressed, so many rows may
# share one file; writing 100 k distinct 30 KB files would only measure the disk.
PREFILL_PHOTOS = 16
PG_DATABASE = "rasoat_bench"
MAX_ERROR_SAMPLES = 20

HEADS = [
    "Nguyễn Văn A",
    "Y Bình Niê",
    "Rơ Châm Hyưk",
    "Đinh Thị Lan",
    "A Tùng",
    "Siu H'Nhi",
    "Ksor Y Phun",
    "Lê Thị Mơ",
    "Hoàng Văn Đức",
    "Nay H'Ben",
]
GIVEN = ["Hoa", "Bình", "Lan", "Y Khoa", "H'Mai", "Tùng", "Ánh", "Đức", "Nhi", "Phúc"]


# --- small helpers ---------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def quietly(action: Callable[[], object]) -> None:
    """Run a clean-up step; report its failure instead of hiding the error being handled."""
    try:
        action()
    except Exception as exc:  # clean-up must go on
        log(f"clean-up step failed: {exc}")


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list (NaN when empty)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def int_list(value: str) -> list[int]:
    numbers = [int(v) for v in value.split(",") if v.strip()]
    if not numbers or any(n < 1 for n in numbers):
        raise argparse.ArgumentTypeError("a comma-separated list of positive integers")
    return numbers


def backend_list(value: str) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = set(names) - set(BACKENDS)
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(BACKENDS)}")
    return names


def ratio(value: str) -> float:
    number = float(value)
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError("a fraction between 0 and 1")
    return number


# --- what a phone sends ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Household:
    """The answers of one demo questionnaire (everything but its identity and photo)."""

    village: str
    head: str
    members: list[tuple[str, int, str]]

    def xml(self, instance_id: str, photo: str | None) -> bytes:
        return demo_instance(
            instance_id, village=self.village, head=self.head, members=self.members, photo=photo
        )


def random_household(rng: random.Random) -> Household:
    head = rng.choice(HEADS)
    members = [(head, rng.randint(25, 80), rng.choice("12"))]
    members.extend(
        (f"{head.split()[0]} {rng.choice(GIVEN)}", rng.randint(0, 90), rng.choice("12"))
        for _ in range(rng.randint(0, 6))
    )
    return Household(village=rng.choice(["T01", "T02", "T03"]), head=head, members=members)


def new_instance_id(rng: random.Random) -> str:
    # Collect's instanceID is "uuid:" + a random UUID; a seeded generator keeps runs repeatable.
    return f"uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"


def photo_name(rng: random.Random) -> str:
    """Collect names a captured image after the capture time in milliseconds."""
    return f"{rng.randint(1_760_000_000_000, 1_790_000_000_000)}.jpg"


def unique_photo(base: bytes, instance_id: str) -> bytes:
    """A JPEG-looking file that differs per submission, so the blob store writes (and fsyncs)
    every one instead of finding it already stored."""
    tag = instance_id.encode()
    return base[:4] + tag + base[4 + len(tag) :]


def multipart(parts: list[tuple[str, str, bytes, str]]) -> tuple[bytes, str]:
    """Encode (field, file name, bytes, content type) parts as Collect's OkHttp does."""
    boundary = uuid.uuid4().hex
    chunks: list[bytes] = []
    for name, filename, data, content_type in parts:
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n'
            f"Content-Length: {len(data)}\r\n\r\n".encode()
        )
        chunks.append(data)
        chunks.append(b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


# --- server setup and pre-fill ---------------------------------------------------------------


@dataclass
class Instance:
    """A set-up rasoat instance: its folder, database URL and the demo reviewer's token."""

    backend: str
    path: Path
    database_url: str  # "" = SQLite in the instance folder
    token: str = ""

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.path / 'rasoat.sqlite3'}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RASOAT_")}
        env["RASOAT_INSTANCE_PATH"] = str(self.path)
        if self.database_url:
            env["RASOAT_DATABASE_URL"] = self.database_url
        return env


def flask_cli(instance: Instance, *args: str) -> None:
    """Run ``flask --app wsgi ARGS`` exactly as an operator would."""
    flask = Path(sys.executable).with_name("flask")
    command = [
        str(flask) if flask.exists() else sys.executable,
        *([] if flask.exists() else ["-m", "flask"]),
        "--app",
        "wsgi",
        *args,
    ]
    result = subprocess.run(
        command,
        cwd=REPO,
        env=instance.env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


def set_up_instance(instance: Instance) -> None:
    flask_cli(instance, "db", "upgrade")
    flask_cli(instance, "forms", "publish-shipped")
    # The URL is only printed (and put in the QR code); phones reach whatever port is current.
    flask_cli(instance, "demo", "setup", "--url", f"http://127.0.0.1:{free_port()}")
    credentials = json.loads((instance.path / "demo-credentials.json").read_text())
    instance.token = credentials["reviewer_token"]


@dataclass
class PrefillReport:
    rows: int
    with_photo: int
    seconds: float
    rows_per_second: float
    database_bytes: int


def bulk_engine(instance: Instance) -> Engine:
    engine = create_engine(instance.sqlalchemy_url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            # The server's own pragmas (server.db) plus no fsync: pre-fill is set-up, not the
            # thing measured, and the file is thrown away if the machine crashes mid-way.
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            dbapi_connection.execute("PRAGMA synchronous=OFF")
            dbapi_connection.execute("PRAGMA foreign_keys=ON")
            dbapi_connection.execute("PRAGMA busy_timeout=30000")

    return engine


@dataclass(frozen=True)
class DemoIds:
    form_id: int
    form_version_id: int
    root_name: str
    repeats: frozenset[str]
    binary_paths: frozenset[str]
    reviewer_id: int
    commune_id: int
    villages: dict[str, int]


def demo_ids(conn: Connection) -> DemoIds:
    form_id, version_id, root_name, repeats, fields = conn.execute(
        select(
            Form.id, FormVersion.id, FormVersion.root_name, FormVersion.repeats, FormVersion.fields
        )
        .join(FormVersion, FormVersion.form_id == Form.id)
        .where(Form.xml_form_id == DEMO_FORM_ID, FormVersion.version == DEMO_VERSION)
    ).one()
    reviewer_id, commune_id = conn.execute(
        select(User.id, User.commune_id).where(User.username == REVIEWER)
    ).one()
    villages = dict(
        conn.execute(select(Village.code, Village.id).where(Village.commune_id == commune_id)).all()
    )
    return DemoIds(
        form_id=form_id,
        form_version_id=version_id,
        root_name=root_name,
        repeats=frozenset(repeats),
        binary_paths=frozenset(f["path"] for f in fields if f["type"] == "binary"),
        reviewer_id=reviewer_id,
        commune_id=commune_id,
        villages=villages,
    )


def parsed_fields(ids: DemoIds, xml: bytes) -> dict[str, str]:
    """The server's own reading of a submission (server.submissions.parsing)."""
    parsed = parse_submission(xml, max_bytes=Defaults.MAX_SUBMISSION_XML_BYTES)
    return extract_fields(parsed.root, ids.repeats)


class StoredRows:
    """Rows of the four submission tables exactly as ingest_submission would store them.

    The XML bytes and their sha256, the answers as the server's parser flattens them, the
    village resolved from its code, one attachment row per referenced photo pointing at a blob
    that exists.  Answers come from a few hundred households, each parsed once by the server's
    parser; every row then only gets its own instanceID and photo name (spot-checked against a
    full parse of the row's XML).
    """

    def __init__(
        self,
        ids: DemoIds,
        photos: list[StoredBlob],
        count: int,
        attachment_ratio: float,
        seed: int,
        offset: int = 0,
    ) -> None:
        self.ids, self.photos, self.attachment_ratio = ids, photos, attachment_ratio
        # Row ids follow the submissions already stored (the demo's own review).
        self.offset = offset
        self.rng = random.Random(seed)
        self.households = [random_household(self.rng) for _ in range(300)]
        placeholder = "uuid:00000000-0000-4000-8000-000000000000"
        self.templates = {
            (i, has_photo): parsed_fields(ids, h.xml(placeholder, "0.jpg" if has_photo else None))
            for i, h in enumerate(self.households)
            for has_photo in (False, True)
        }
        self.devices = [f"collect:{self.rng.getrandbits(64):016x}" for _ in range(40)]
        # Spread over the past 60 days, oldest first, as ids increase.
        self.first_at = utcnow() - timedelta(days=60)
        self.step = timedelta(days=60) / max(count, 1)
        self.with_photo = 0

    def batch(self, ids: range) -> dict[Any, list[dict[str, Any]]]:
        """Rows for the submissions numbered ``ids``, keyed by table."""
        tables: dict[Any, list[dict[str, Any]]] = {
            Submission.__table__: [],
            SubmissionVersion.__table__: [],
            SubmissionXml.__table__: [],
            SubmissionAttachment.__table__: [],
        }
        for row_id in ids:
            for table, row in self._one(row_id):
                tables[table].append(row)
        return tables

    def _one(self, row_id: int) -> list[tuple[Any, dict[str, Any]]]:
        ids, rng = self.ids, self.rng
        index = rng.randrange(len(self.households))
        household = self.households[index]
        instance_id = new_instance_id(rng)
        photo = photo_name(rng) if rng.random() < self.attachment_ratio else None
        xml = household.xml(instance_id, photo)
        fields = dict(self.templates[(index, photo is not None)])
        fields["meta/instanceID"] = instance_id
        if photo:
            fields["house_photo"] = photo
        if row_id <= 20 or row_id % 10_000 == 0:
            assert fields == parsed_fields(ids, xml), "pre-fill answers differ from the parser's"
        referenced = [
            v
            for k, v in fields.items()
            if v and field_schema_path(ids.root_name, k) in ids.binary_paths
        ]
        assert referenced == ([photo] if photo else []), referenced
        created = self.first_at + self.step * row_id
        row_id += self.offset  # the table's id, after the rows already stored
        rows: list[tuple[Any, dict[str, Any]]] = [
            (
                Submission.__table__,
                {
                    "id": row_id,
                    "form_id": ids.form_id,
                    "instance_id": instance_id,
                    "commune_id": ids.commune_id,
                    "village_id": ids.villages[household.village],
                    "submitter_id": ids.reviewer_id,
                    "review_state": "received",
                    "created_at": created,
                    "updated_at": created,
                },
            ),
            (
                SubmissionVersion.__table__,
                {
                    "id": row_id,
                    "submission_id": row_id,
                    "form_id": ids.form_id,
                    "form_version_id": ids.form_version_id,
                    "instance_id": instance_id,
                    "deprecated_id": None,
                    "instance_name": f"{household.head} – {household.village}",
                    "xml_sha256": hashlib.sha256(xml).hexdigest(),
                    "fields": fields,
                    "current": True,
                    "submitter_id": ids.reviewer_id,
                    "device_id": rng.choice(self.devices),
                    "user_agent": COLLECT_UA,
                    "attachments_expected": len(referenced),
                    "attachments_present": len(referenced),
                    "created_at": created,
                },
            ),
            (SubmissionXml.__table__, {"version_id": row_id, "xml": xml}),
        ]
        if photo:
            self.with_photo += 1
            blob = self.photos[row_id % len(self.photos)]
            rows.append(
                (
                    SubmissionAttachment.__table__,
                    {
                        "version_id": row_id,
                        "name": photo,
                        "blob_sha256": blob.sha256,
                        "size": blob.size,
                        "content_type": "image/jpeg",
                        "received_at": created,
                    },
                )
            )
        return rows


def prefill(instance: Instance, count: int, attachment_ratio: float, seed: int) -> PrefillReport:
    """Store ``count`` submissions straight into the four submission tables (see StoredRows)."""
    started = time.monotonic()
    engine = bulk_engine(instance)
    try:
        with engine.begin() as conn:
            ids = demo_ids(conn)
            offset = max(
                conn.scalar(select(func.coalesce(func.max(table.c.id), 0)))
                for table in (Submission.__table__, SubmissionVersion.__table__)
            )
        blobs = BlobStore(instance.path / "blobs")
        photos = [
            blobs.put(jpeg_bytes(seed=1000 + i, size=PHOTO_BYTES)) for i in range(PREFILL_PHOTOS)
        ]
        rows = StoredRows(ids, photos, count, attachment_ratio, seed, offset)
        for first in range(1, count + 1, PREFILL_BATCH):
            batch = rows.batch(range(first, min(first + PREFILL_BATCH, count + 1)))
            # One transaction per batch; parents before children for the foreign keys.
            with engine.begin() as conn:
                for table, values in batch.items():
                    if values:
                        conn.execute(insert(table), values)
        finish_prefill(engine)
        size = database_bytes(instance, engine)
    finally:
        engine.dispose()
    seconds = time.monotonic() - started
    return PrefillReport(
        rows=count,
        with_photo=rows.with_photo,
        seconds=round(seconds, 2),
        rows_per_second=round(count / seconds, 1) if seconds else 0.0,
        database_bytes=size,
    )


def finish_prefill(engine: Engine) -> None:
    """Leave the database as a long-running server would have it."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # Explicit ids do not advance the serial sequences; the server's inserts would
            # collide with the pre-filled rows otherwise.
            for table in ("submissions", "submission_versions", "submission_attachments"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 — constant names
                        f"(SELECT COALESCE(max(id), 0) + 1 FROM {table}), false)"
                    )
                )
            conn.commit()
            # Autovacuum would have analysed a table this size long ago.
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        else:
            # Fold the WAL into the database so the benchmark does not start with a huge WAL.
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def database_bytes(instance: Instance, engine: Engine) -> int:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            return int(conn.scalar(text("SELECT pg_database_size(current_database())")))
    path = instance.path / "rasoat.sqlite3"
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


@dataclass
class StoredCounts:
    submissions: int
    versions: int
    attachments_received: int
    attachments_missing: int


def stored_counts(instance: Instance) -> StoredCounts:
    engine = create_engine(instance.sqlalchemy_url)
    try:
        with engine.connect() as conn:
            attachments = SubmissionAttachment.__table__
            return StoredCounts(
                submissions=conn.scalar(select(func.count()).select_from(Submission.__table__)),
                versions=conn.scalar(select(func.count()).select_from(SubmissionVersion.__table__)),
                attachments_received=conn.scalar(
                    select(func.count())
                    .select_from(attachments)
                    .where(attachments.c.blob_sha256.is_not(None))
                ),
                attachments_missing=conn.scalar(
                    select(func.count())
                    .select_from(attachments)
                    .where(attachments.c.blob_sha256.is_(None))
                ),
            )
    finally:
        engine.dispose()


def missing_blobs(instance: Instance, since_version_id: int) -> list[str]:
    """Attachment rows written by the benchmark whose file is not in the blob store."""
    engine = create_engine(instance.sqlalchemy_url)
    blobs = BlobStore(instance.path / "blobs")
    try:
        with engine.connect() as conn:
            attachments = SubmissionAttachment.__table__
            digests = conn.scalars(
                select(attachments.c.blob_sha256).where(
                    attachments.c.version_id > since_version_id,
                    attachments.c.blob_sha256.is_not(None),
                )
            )
            return [d for d in digests if not blobs.exists(d)]
    finally:
        engine.dispose()


def restart_pg_with_fsync(cluster: PgCluster) -> None:
    """PgCluster runs PostgreSQL with fsync off (``-F``), fine for tests but not a fair
    comparison with SQLite's synchronous=FULL.  A command-line ``-F`` cannot be undone with
    ALTER SYSTEM, so restart the cluster with the same options minus ``-F``."""
    socket_dir = cluster.data_dir.parent
    # PgCluster has no public restart; _run uses its binaries and, as root, the postgres user.
    cluster._run(
        "pg_ctl",
        "-D",
        str(cluster.data_dir),
        "-w",
        "-t",
        "60",
        "-m",
        "fast",
        "-l",
        str(socket_dir / "server.log"),
        "-o",
        f"-h 127.0.0.1 -p {cluster.port} -k {socket_dir} -c max_connections=200",
        "restart",
    )


def postmaster_pid(cluster: PgCluster | None) -> int | None:
    if cluster is None:
        return None
    return int((cluster.data_dir / "postmaster.pid").read_text().split()[0])


def pg_setting(url: str, name: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.scalar(text(f"SHOW {name}")))
    finally:
        engine.dispose()


# --- gunicorn and its memory -----------------------------------------------------------------


def read_status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as handle:
        # The command name may contain spaces; fields after the closing parenthesis are fixed.
        fields = handle.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(p) for p in handle.read().split()]
    except FileNotFoundError:
        return []


def busy_cpu_seconds() -> float:
    """CPU time the whole machine has spent not idle since boot (all cores, /proc/stat)."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    # Fields 8 and 9 (guest, guest_nice) are already counted in user and nice.
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass
class ProcessSample:
    hwm_kb: int = 0
    cpu_ticks: int = 0


class ProcessTree:
    """A process and its children, sampled from /proc for peak memory and CPU time.

    Sampled periodically, so that a worker replaced mid-run still counts (VmHWM is per process
    and disappears with it).
    """

    def __init__(self, root: int) -> None:
        self.root = root
        self.samples: dict[int, ProcessSample] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def sample(self) -> None:
        for pid in [self.root, *children(self.root)]:
            with contextlib.suppress(FileNotFoundError, ProcessLookupError, IndexError):
                hwm, ticks = read_status_kb(pid, "VmHWM"), cpu_ticks(pid)
                with self._lock:
                    seen = self.samples.setdefault(pid, ProcessSample())
                    seen.hwm_kb = max(seen.hwm_kb, hwm)
                    seen.cpu_ticks = max(seen.cpu_ticks, ticks)

    def start(self, interval: float = 0.25) -> None:
        def watch() -> None:
            while not self._stop.wait(interval):
                self.sample()

        self.sample()
        self._watcher = threading.Thread(target=watch, name="proc-watch", daemon=True)
        self._watcher.start()

    def stop(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(2)

    def totals(self) -> tuple[int, float]:
        """(sum of VmHWM in kB, CPU seconds) over every process seen so far."""
        self.sample()
        with self._lock:
            return (
                sum(s.hwm_kb for s in self.samples.values()),
                sum(s.cpu_ticks for s in self.samples.values()) / os.sysconf("SC_CLK_TCK"),
            )


class Gunicorn:
    """A gunicorn master in its own process group."""

    def __init__(
        self, app_spec: str, env: dict[str, str], workers: int, threads: int, log_path: Path
    ) -> None:
        self.port = free_port()
        self.workers = workers
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
        ]
        if threads > 1:
            command += ["--threads", str(threads)]  # gthread worker: keep-alive, thread pool
        # A long timeout so that a worker waiting for the SQLite write lock is never killed
        # mid-request (the 30 s default equals SQLite's busy_timeout).
        command += ["--timeout", "120", "--graceful-timeout", "5", app_spec]
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: Ctrl-C does not reach it, we stop it
        )
        self.tree = ProcessTree(self.process.pid)

    def wait_ready(self, probe: Callable[[int], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_tail()}")
            if len(children(self.process.pid)) >= self.workers:
                with contextlib.suppress(OSError, http.client.HTTPException):
                    if probe(self.port):
                        return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn not ready within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        self.tree.stop()
        if self.process.poll() is None:
            self.process.terminate()  # graceful: workers finish their request
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self._log.close()


# --- the phones ------------------------------------------------------------------------------


@dataclass
class LoadResult:
    measured_seconds: float = 0.0
    successes: int = 0  # 201s in the measured window
    warmup_successes: int = 0
    attachments_sent: int = 0  # among all successes
    errors: int = 0
    error_samples: dict[str, int] = field(default_factory=dict)
    post_ms: list[float] = field(default_factory=list)
    head_ms: list[float] = field(default_factory=list)
    wall_seconds: float = 0.0  # warm-up included: the span CPU time is compared with
    client_cpu_seconds: float = 0.0


class Load:
    """``phones`` threads, each one Collect phone with its own keep-alive connection."""

    def __init__(
        self,
        port: int,
        path: str,
        phones: int,
        duration: float,
        warmup: float,
        max_requests: int | None,
        attachment_ratio: float,
        seed: int,
    ) -> None:
        self.port, self.path, self.phones = port, path, phones
        self.duration, self.warmup, self.max_requests = duration, warmup, max_requests
        self.attachment_ratio, self.seed = attachment_ratio, seed
        self.photo = jpeg_bytes(seed=seed, size=PHOTO_BYTES)
        self.result = LoadResult()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._started = 0  # measured submissions started, for --max-requests
        self._last_done = 0.0
        self._measure_from = 0.0

    def _take(self, now: float) -> bool | None:
        """Whether the next submission is measured (None: stop)."""
        if self._stop.is_set():
            return None
        if now < self._measure_from:
            return False
        with self._lock:
            if self.max_requests is not None and self._started >= self.max_requests:
                return None
            self._started += 1
        return True

    def _error(self, what: str) -> None:
        with self._lock:
            self._count_error(what)

    def _count_error(self, what: str) -> None:
        """Count an error; keep at most MAX_ERROR_SAMPLES distinct descriptions."""
        self.result.errors += 1
        samples = self.result.error_samples
        if what not in samples and len(samples) >= MAX_ERROR_SAMPLES:
            what = "(other errors)"
        samples[what] = samples.get(what, 0) + 1

    def _phone(self, number: int) -> None:
        rng = random.Random(self.seed * 1000 + number)
        device = f"collect:{rng.getrandbits(64):016x}"
        url = f"{self.path}?deviceID={device}"
        headers = {"X-OpenRosa-Version": "1.0", "User-Agent": COLLECT_UA, "Accept-Encoding": "gzip"}
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            while True:
                measured = self._take(time.perf_counter())
                if measured is None:
                    return
                instance_id = new_instance_id(rng)
                household = random_household(rng)
                photo = photo_name(rng) if rng.random() < self.attachment_ratio else None
                parts = [
                    (
                        "xml_submission_file",
                        f"rasoat_demo_{instance_id[5:13]}.xml",
                        household.xml(instance_id, photo),
                        "text/xml",
                    )
                ]
                if photo:
                    parts.append(
                        (photo, photo, unique_photo(self.photo, instance_id), "image/jpeg")
                    )
                body, content_type = multipart(parts)
                try:
                    started = time.perf_counter()
                    conn.request("HEAD", url, headers=headers)
                    reply = conn.getresponse()
                    reply.read()
                    head_done = time.perf_counter()
                    if reply.status != 204:
                        self._error(f"HEAD {reply.status}")
                    conn.request(
                        "POST", url, body=body, headers=headers | {"Content-Type": content_type}
                    )
                    reply = conn.getresponse()
                    answer = reply.read()
                    done = time.perf_counter()
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    self._error(f"{type(exc).__name__}: {exc}")
                    continue
                with self._lock:
                    if reply.status != 201:
                        self._count_error(
                            f"POST {reply.status}: {answer[:300].decode(errors='replace')}"
                        )
                        continue
                    self.result.attachments_sent += photo is not None
                    if measured:
                        self.result.successes += 1
                        self.result.post_ms.append((done - head_done) * 1000)
                        self.result.head_ms.append((head_done - started) * 1000)
                        self._last_done = max(self._last_done, done)
                    else:
                        self.result.warmup_successes += 1
        finally:
            conn.close()

    def run(self) -> LoadResult:
        cpu_before = time.process_time()
        start = time.perf_counter()
        self._measure_from = start + self.warmup
        deadline = self._measure_from + self.duration
        threads = [
            threading.Thread(target=self._phone, args=(n,), name=f"phone-{n}", daemon=True)
            for n in range(self.phones)
        ]
        for thread in threads:
            thread.start()
        try:
            while any(t.is_alive() for t in threads) and time.perf_counter() < deadline:
                time.sleep(0.05)
        finally:
            self._stop.set()  # phones finish the submission they are sending, start no more
            for thread in threads:
                thread.join(130)
        self.result.measured_seconds = max(self._last_done - self._measure_from, 1e-9)
        self.result.wall_seconds = time.perf_counter() - start
        self.result.client_cpu_seconds = time.process_time() - cpu_before
        return self.result


def probe(path: str) -> Callable[[int], bool]:
    def check(port: int) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("HEAD", path, headers={"X-OpenRosa-Version": "1.0"})
            return conn.getresponse().status == 204
        finally:
            conn.close()

    return check


# --- one measured run ------------------------------------------------------------------------


@dataclass
class RunReport:
    target: str  # "hello", "sqlite" or "postgresql"
    phones: int
    workers: int
    threads: int
    seconds: float
    submissions: int
    submissions_per_second: float
    post_p50_ms: float
    post_p95_ms: float
    post_p99_ms: float
    head_p50_ms: float
    errors: int
    error_samples: dict[str, int]
    peak_memory_mb: float  # sum of VmHWM over gunicorn master and workers
    # CPU used during the run (warm-up included) in % of one core: gunicorn, this client,
    # and PostgreSQL's processes (None for SQLite, which runs inside the workers).
    server_cpu_percent: float
    client_cpu_percent: float
    database_cpu_percent: float | None
    # Everything else on the machine meanwhile: well above 0 means the run was disturbed.
    other_cpu_percent: float
    attachments_sent: int
    warmup_submissions: int
    percent_of_hello: float | None = None
    stored_after: dict[str, int] | None = None


def run_load(
    target: str,
    app_spec: str,
    env: dict[str, str],
    path: str,
    args: argparse.Namespace,
    phones: int,
    log_path: Path,
    database_pid: int | None = None,
) -> tuple[RunReport, LoadResult]:
    server = Gunicorn(app_spec, env, args.workers, args.threads, log_path)
    database = ProcessTree(database_pid) if database_pid else None
    try:
        server.wait_ready(probe(path))
        server.tree.start()
        _, server_cpu_before = server.tree.totals()
        database_cpu_before = database.totals()[1] if database else 0.0
        machine_cpu_before = busy_cpu_seconds()
        load = Load(
            server.port,
            path,
            phones,
            args.duration,
            args.warmup,
            args.max_requests,
            args.attachment_ratio,
            seed=args.seed + phones,
        )
        result = load.run()
        hwm_kb, server_cpu_after = server.tree.totals()
        database_cpu_after = database.totals()[1] if database else 0.0
        machine_cpu = busy_cpu_seconds() - machine_cpu_before
    finally:
        server.stop()
    post = sorted(result.post_ms)
    wall = max(result.wall_seconds, 1e-9)
    report = RunReport(
        target=target,
        phones=phones,
        workers=args.workers,
        threads=args.threads,
        seconds=round(result.measured_seconds, 2),
        submissions=result.successes,
        submissions_per_second=round(result.successes / result.measured_seconds, 1),
        post_p50_ms=round(percentile(post, 50), 1),
        post_p95_ms=round(percentile(post, 95), 1),
        post_p99_ms=round(percentile(post, 99), 1),
        head_p50_ms=round(percentile(sorted(result.head_ms), 50), 2),
        errors=result.errors,
        error_samples=result.error_samples,
        peak_memory_mb=round(hwm_kb / 1024, 1),
        server_cpu_percent=round(100 * (server_cpu_after - server_cpu_before) / wall),
        client_cpu_percent=round(100 * result.client_cpu_seconds / wall),
        database_cpu_percent=(
            round(100 * (database_cpu_after - database_cpu_before) / wall) if database else None
        ),
        other_cpu_percent=max(
            0,
            round(
                100
                * (
                    machine_cpu
                    - (server_cpu_after - server_cpu_before)
                    - result.client_cpu_seconds
                    - (database_cpu_after - database_cpu_before)
                )
                / wall
            ),
        ),
        attachments_sent=result.attachments_sent,
        warmup_submissions=result.warmup_successes,
    )
    log(
        f"{target:<10} phones={phones:<3} {report.submissions_per_second:>7.1f}/s "
        f"p50={report.post_p50_ms} p95={report.post_p95_ms} p99={report.post_p99_ms} ms "
        f"errors={report.errors} peak={report.peak_memory_mb} MB"
    )
    return report, result


# --- the whole benchmark ---------------------------------------------------------------------


def git_state() -> dict[str, Any]:
    """The commit measured, when run from a git checkout (not from a ``git archive`` copy)."""
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False
    )
    if commit.returncode != 0:
        return {"commit": None, "dirty_files": None}
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True, check=False
    )
    return {"commit": commit.stdout.strip(), "dirty_files": len(status.stdout.splitlines())}


class Bench:
    """One benchmark run: the ceiling, then each backend; collects reports and failures."""

    def __init__(self, args: argparse.Namespace, stack: contextlib.ExitStack) -> None:
        self.args, self.stack = args, stack
        self.work = Path(tempfile.mkdtemp(prefix="rasoat-bench-"))
        if not args.keep:
            stack.callback(shutil.rmtree, self.work, ignore_errors=True)
        log(f"work directory {self.work}" + (" (kept)" if args.keep else ""))
        self.runs: list[RunReport] = []
        self.prefills: dict[str, PrefillReport] = {}
        self.notes: dict[str, Any] = {}
        self.hello_rate: dict[int, float] = {}
        self.failures: list[str] = []

    def ceiling(self) -> None:
        """The bare Flask app: same gunicorn settings, same phones, same payload."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("RASOAT_")}
        for phones in self.args.phones:
            report, _ = run_load(
                "hello",
                "scripts.bench.hello_app:app",
                env,
                "/key/hello/submission",
                self.args,
                phones,
                self.work / "hello.log",
            )
            self.hello_rate[phones] = report.submissions_per_second
            self.runs.append(report)

    def backend(self, backend: str) -> None:
        args = self.args
        instance_dir = self.work / backend
        instance_dir.mkdir()
        cluster: PgCluster | None = None
        if backend == "postgresql":
            log("starting a throw-away PostgreSQL cluster")
            cluster = PgCluster.start()
            self.stack.callback(quietly, cluster.stop)
        instance = Instance(
            backend, instance_dir, cluster.create_database(PG_DATABASE) if cluster else ""
        )
        log(f"{backend}: setting up the demo instance")
        set_up_instance(instance)
        demo_rows = stored_counts(instance).submissions  # the demo's own review
        log(f"{backend}: pre-filling {args.prefill:,} submissions")
        filled = self.prefills[backend] = prefill(
            instance, args.prefill, args.attachment_ratio, args.seed
        )
        log(
            f"{backend}: pre-fill took {filled.seconds:.1f} s ({filled.rows_per_second:,.0f} "
            f"rows/s, {filled.database_bytes / 1e6:,.0f} MB)"
        )
        if cluster is not None:
            if args.pg_fsync == "on":
                restart_pg_with_fsync(cluster)
            self.notes["postgresql"] = {
                name: pg_setting(instance.database_url, name)
                for name in ("server_version", "fsync", "synchronous_commit", "shared_buffers")
            }
        expected = stored_counts(instance)
        if expected.submissions != demo_rows + args.prefill:
            raise RuntimeError(
                f"pre-fill stored {expected.submissions - demo_rows}, not {args.prefill}"
            )
        for phones in args.phones:
            report, result = run_load(
                backend,
                "wsgi:app",
                instance.env(),
                f"/key/{instance.token}/submission",
                args,
                phones,
                self.work / f"{backend}.log",
                postmaster_pid(cluster),
            )
            accepted = result.successes + result.warmup_successes
            expected = StoredCounts(
                submissions=expected.submissions + accepted,
                versions=expected.versions + accepted,
                attachments_received=expected.attachments_received + result.attachments_sent,
                attachments_missing=0,
            )
            stored = stored_counts(instance)
            report.stored_after = asdict(stored)
            if self.hello_rate.get(phones):
                report.percent_of_hello = round(
                    100 * report.submissions_per_second / self.hello_rate[phones], 1
                )
            self.runs.append(report)
            if stored != expected:
                # Keep going so the other numbers are still reported; main() fails the run.
                self.failures.append(
                    f"{backend}, {phones} phones: the database holds {stored}, expected "
                    f"{expected} (pre-fill {args.prefill} + accepted submissions)"
                )
                expected = stored
        lost = missing_blobs(instance, args.prefill)
        if lost:
            self.failures.append(f"{backend}: {len(lost)} attachment rows without their file")

    def results(self) -> dict[str, Any]:
        return {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "git": git_state(),
            "settings": {k: v for k, v in vars(self.args).items() if k != "json"},
            "notes": self.notes,
            "prefill": {k: asdict(v) for k, v in self.prefills.items()},
            "runs": [asdict(r) for r in self.runs],
            "failures": self.failures,
        }

    def run(self) -> None:
        if not self.args.skip_hello:
            self.ceiling()
        for backend in self.args.backends:
            self.backend(backend)


def print_table(results: dict[str, Any]) -> None:
    settings = results["settings"]
    print(
        f"\nrasoat ingest benchmark — {results['date']}, {results['machine']['cpus']} CPUs, "
        f"gunicorn {settings['workers']} workers × {settings['threads']} threads, "
        f"{settings['duration']} s per run, {settings['attachment_ratio']:.0%} with a "
        f"{PHOTO_BYTES // 1024} KB photo"
    )
    for backend, p in results["prefill"].items():
        print(
            f"pre-fill {backend:<10} {p['rows']:>9,} submissions in {p['seconds']:>6.1f} s "
            f"({p['rows_per_second']:,.0f}/s), database {p['database_bytes'] / 1e6:,.0f} MB"
        )
    header = (
        f"{'target':<11}{'phones':>6}{'subm/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'p99 ms':>9}{'errors':>7}{'peak MB':>9}{'% hello':>9}{'CPU srv':>9}"
        f"{'db':>6}{'client':>8}{'other':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in results["runs"]:
        percent = f"{r['percent_of_hello']:.1f}" if r["percent_of_hello"] is not None else "—"
        database = "—" if r["database_cpu_percent"] is None else f"{r['database_cpu_percent']}%"
        print(
            f"{r['target']:<11}{r['phones']:>6}{r['submissions_per_second']:>9.1f}"
            f"{r['post_p50_ms']:>9.1f}{r['post_p95_ms']:>9.1f}{r['post_p99_ms']:>9.1f}"
            f"{r['errors']:>7}{r['peak_memory_mb']:>9.1f}{percent:>9}"
            f"{r['server_cpu_percent']:>8}%{database:>6}{r['client_cpu_percent']:>7}%"
            f"{r['other_cpu_percent']:>6}%"
        )
    disturbed = [r for r in results["runs"] if r["other_cpu_percent"] > 15]
    for r in disturbed:
        print(
            f"WARNING {r['target']} phones={r['phones']}: other processes used "
            f"{r['other_cpu_percent']}% CPU during the run; its numbers are not reliable"
        )
    for r in results["runs"]:
        for sample, count in r["error_samples"].items():
            print(f"ERROR {r['target']} phones={r['phones']} ×{count}: {sample}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--backends",
        type=backend_list,
        default=",".join(BACKENDS),
        help="comma-separated database backends",
    )
    parser.add_argument(
        "--prefill", type=int, default=100_000, help="submissions stored before the load starts"
    )
    parser.add_argument(
        "--phones", type=int_list, default="4", help="concurrent phones; a list (4,16) runs each"
    )
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds per run")
    parser.add_argument(
        "--warmup",
        type=float,
        default=2.0,
        help="seconds of load before measuring (stored, not counted)",
    )
    parser.add_argument(
        "--max-requests",
        type=int,
        default=None,
        help="stop a run after this many measured submissions",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="gunicorn threads per worker (>1 selects the gthread worker)",
    )
    parser.add_argument(
        "--attachment-ratio",
        type=ratio,
        default=0.2,
        help="fraction of submissions carrying a 30 KB photo",
    )
    parser.add_argument("--seed", type=int, default=2026, help="for repeatable test data")
    parser.add_argument(
        "--pg-fsync",
        choices=["on", "off"],
        default="on",
        help="PostgreSQL fsync during the load; 'off' is the test cluster's setting, faster "
        "but not comparable with SQLite's synchronous=FULL",
    )
    parser.add_argument("--skip-hello", action="store_true", help="do not measure the ceiling")
    parser.add_argument(
        "--keep", action="store_true", help="keep the work directory (instances, gunicorn logs)"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.prefill < 0 or args.duration <= 0 or args.workers < 1 or args.threads < 1:
        parser.error("--prefill ≥ 0, --duration > 0, --workers ≥ 1, --threads ≥ 1")
    if args.max_requests is not None and args.max_requests < 1:
        parser.error("--max-requests ≥ 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def on_term(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt  # same clean-up path as Ctrl-C

    signal.signal(signal.SIGTERM, on_term)
    with contextlib.ExitStack() as stack:
        bench = Bench(args, stack)
        try:
            bench.run()
        except KeyboardInterrupt:
            log("interrupted; cleaning up")
            return 130
        except Exception as exc:
            # Report what was measured before the failure, then fail.
            traceback.print_exc()
            bench.failures.append(f"aborted: {type(exc).__name__}: {exc}"[:2000])
    results = bench.results()
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
        log(f"wrote {args.json}")
    errors = sum(r["errors"] for r in results["runs"])
    if errors:
        log(f"FAILED: {errors} requests did not get the expected answer")
    for failure in results["failures"]:
        log(f"FAILED: {failure}")
    return 1 if errors or results["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
