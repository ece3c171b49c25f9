"""XLSForm upload bounds benchmark (run by hand; not part of the test suite).

How long the checks of ``server/documents/spreadsheets.py`` and ``server/questionnaires/
compiler.py`` take to refuse hostile workbooks, what memory they need, and what the child
process costs a normal upload:

1. a 300 MB zip bomb (~300 KB on the wire) → refused (413);
2. a form of 200,000 questions (~1 MB on the wire) → refused (413);
3. each real form of ``xlsforms/`` compiled and validated with ODK Validate, in the child
   process group, against pyxform in-process (how it ran before);
4. a validator that never finishes (a stand-in ``java``) → 422 after XLSFORM_COMPILE_SECONDS,
   and the time until its process group is gone.

    .venv/bin/python scripts/bench/xlsform_limits.py [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from flask import Flask
from pyxform.xls2xform import convert

from server.config import Defaults
from server.errors import AppError
from server.questionnaires.compiler import compile_xlsform
from server.questionnaires.sources import load_sources
from tests.integration.test_upload_limits import many_rows, zip_bomb
from tests.xlsforms import workbook

MB = 1024 * 1024


def _app(**overrides) -> Flask:
    app = Flask("bench")
    app.config.from_object(Defaults)
    app.config.update(overrides)
    return app


def _refusal(source: bytes, **overrides) -> tuple[str, float, float]:
    """(status or "ok", seconds, peak traced Python MB) of compiling ``source``."""
    with _app(**overrides).app_context():
        tracemalloc.start()
        started = time.monotonic()
        try:
            compile_xlsform(source, validate=True)
            status = "ok"
        except AppError as error:
            status = f"{error.status} {error.code}"
        seconds = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1] / MB
        tracemalloc.stop()
    return status, seconds, peak


def _stuck_validator(seconds: int) -> tuple[str, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        java = Path(tmp) / "java"
        pids = Path(tmp) / "pids"
        java.write_text(f"#!/bin/sh\nsleep 600 &\necho $$ $! > {pids}\nwait\n")
        java.chmod(java.stat().st_mode | stat.S_IXUSR)
        path = os.environ["PATH"]
        os.environ["PATH"] = f"{tmp}{os.pathsep}{path}"
        try:
            source = workbook(
                [["type", "name", "label"], ["text", "a", "A"]],
                settings={"form_id": "bench", "version": "1"},
            )
            status, took, _peak = _refusal(source, XLSFORM_COMPILE_SECONDS=seconds)
        finally:
            os.environ["PATH"] = path
        started = time.monotonic()
        left = [int(p) for p in pids.read_text().split()]
        while any(_alive(p) for p in left) and time.monotonic() - started < 10:
            time.sleep(0.01)
        return status, took, time.monotonic() - started


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json")
    args = parser.parse_args()
    rows = []

    started = time.monotonic()
    bomb = zip_bomb(300)
    print(f"zip bomb built in {time.monotonic() - started:.2f} s, {len(bomb):,} bytes")
    status, seconds, peak = _refusal(bomb)
    rows.append(("zip bomb 300 MB", len(bomb), status, seconds, peak, 0.5))

    started = time.monotonic()
    rows_form = many_rows(200_000)
    print(f"200,000-row form built in {time.monotonic() - started:.2f} s")
    status, seconds, peak = _refusal(rows_form)
    rows.append(("200,000 rows", len(rows_form), status, seconds, peak, 2.0))

    for source in load_sources():
        started = time.monotonic()
        convert(xlsform=source.xlsx, file_type=".xlsx", validate=True, pretty_print=True)
        before = time.monotonic() - started
        status, seconds, peak = _refusal(source.xlsx)
        rows.append(
            (
                f"{source.name} (before: {before:.2f} s)",
                len(source.xlsx),
                status,
                seconds,
                peak,
                max(3.0, 2 * before),
            )
        )

    status, seconds, gone = _stuck_validator(5)
    rows.append((f"stuck validator, 5 s (group gone +{gone:.2f} s)", 0, status, seconds, 0, 6.0))

    print(
        f"\n{'case':52} {'bytes':>10} {'answer':28} {'s':>6} {'MB':>6} {'target s':>8} {'ratio':>6}"
    )
    for name, size, status, seconds, peak, target in rows:
        print(
            f"{name:52} {size:>10,} {status:28} {seconds:6.2f} {peak:6.1f} {target:8.1f} "
            f"{seconds / target:6.2f}"
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                [
                    dict(
                        zip(
                            ("case", "bytes", "answer", "seconds", "peak_mb", "target_s"),
                            r,
                            strict=False,
                        )
                    )
                    for r in rows
                ],
                indent=2,
            )
        )
    return 0 if all(r[3] <= r[5] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
