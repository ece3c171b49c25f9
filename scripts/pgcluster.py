"""A throw-away PostgreSQL cluster for tests and benchmarks.

Starts ``initdb``/``pg_ctl`` from Debian's packages (``/usr/lib/postgresql/*/bin`` or PATH) in a
temporary directory, listening on 127.0.0.1 and a free port with trust authentication, and
removes it afterwards.  PostgreSQL refuses to run as root, so as root the server runs as the
``postgres`` system user (created by Debian's package).

Usage from Python::

    with PgCluster.start() as cluster:
        url = cluster.create_database("rasoat_test")
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


def find_pg_bin() -> Path:
    """The directory holding initdb and pg_ctl, or a clear error saying how to install them."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for directory in candidates:
        if (Path(directory) / "initdb").exists():
            return Path(directory)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's 'postgresql' "
        "package (scripts/test does this when run as root)."
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PgCluster:
    data_dir: Path
    port: int
    bin_dir: Path
    run_as: str | None

    @classmethod
    def start(cls) -> PgCluster:
        bin_dir = find_pg_bin()
        run_as = "postgres" if os.geteuid() == 0 else None
        base = Path(tempfile.mkdtemp(prefix="rasoat-pg-"))
        data_dir = base / "data"
        if run_as:
            user = pwd.getpwnam(run_as)
            os.chown(base, user.pw_uid, user.pw_gid)
        cluster = cls(data_dir=data_dir, port=free_port(), bin_dir=bin_dir, run_as=run_as)
        cluster._run(
            "initdb",
            "-D",
            str(data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        # fsync off and small shared buffers: a test cluster's data is thrown away anyway.
        cluster._run(
            "pg_ctl",
            "-D",
            str(data_dir),
            "-w",
            "-t",
            "60",
            "-l",
            str(base / "server.log"),
            "-o",
            f"-h 127.0.0.1 -p {cluster.port} -k {base} -F -c max_connections=200",
            "start",
        )
        return cluster

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin_dir / program), *args]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed: {result.stdout}\n{result.stderr}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(sql)

    def create_database(self, name: str, template: str | None = None) -> str:
        suffix = f" TEMPLATE {template}" if template else ""
        self.execute(f"CREATE DATABASE {name}{suffix}")
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.data_dir.parent, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()


if __name__ == "__main__":
    started = time.monotonic()
    with PgCluster.start() as c:
        print("started", c.url(), f"{time.monotonic() - started:.1f}s")
