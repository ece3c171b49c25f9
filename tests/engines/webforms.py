"""Fill XForms with the real ODK Web Forms engine, from Python tests.

The engine (``@getodk/xforms-engine``, pinned in ``webforms/package.json``)
runs in Node with jsdom through ``webforms/fill.mjs``; this module installs it
from the lockfile on first use and turns a list of steps into the submission
instance exactly as the engine serializes it, plus its attachment files.

    filled = fill_form(form_xml, [{"op": "set", "ref": "/data/name", "value": "A"}], tmp_path)
    filled.xml           # bytes of instance.xml as written by the engine
    filled.instance_id   # "uuid:..."
    filled.files         # {"photo.jpg": Path(...)}

See the header of ``webforms/fill.mjs`` for the step ops.
"""

from __future__ import annotations

import fcntl
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

ENGINE_DIR = Path(__file__).parent / "webforms"
ENGINE_PACKAGE = "@getodk/xforms-engine"
MIN_NODE_VERSION = (20, 19, 0)

_FILL_SCRIPT = ENGINE_DIR / "fill.mjs"


@dataclass(frozen=True)
class FilledInstance:
    xml: bytes
    instance_id: str
    files: dict[str, Path]


def _node_executable() -> str:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError(
            "node is not installed: the ODK Web Forms harness needs Node.js "
            f">= {'.'.join(map(str, MIN_NODE_VERSION))} on PATH"
        )
    out = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.match(r"v(\d+)\.(\d+)\.(\d+)", out.strip())
    if match is None or tuple(map(int, match.groups())) < MIN_NODE_VERSION:
        raise RuntimeError(
            f"node {out.strip()} is too old: {ENGINE_PACKAGE} needs Node.js "
            f">= {'.'.join(map(str, MIN_NODE_VERSION))}"
        )
    return node


def _installed_matches_pin() -> bool:
    installed = ENGINE_DIR / "node_modules" / ENGINE_PACKAGE / "package.json"
    if not installed.is_file():
        return False
    pinned = json.loads((ENGINE_DIR / "package.json").read_text())["dependencies"][ENGINE_PACKAGE]
    return json.loads(installed.read_text())["version"] == pinned


def ensure_installed() -> None:
    """Install the pinned engine with ``npm ci`` unless it is already there."""
    _node_executable()
    if _installed_matches_pin():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "npm is not installed: it is needed once to install the ODK Web Forms engine"
        )
    # Parallel test workers may all find the engine missing; the lock makes
    # one of them install while the others wait (npm ci deletes node_modules
    # first, so two at once would break each other).
    with open(ENGINE_DIR / "package-lock.json", "rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if _installed_matches_pin():
                return
            result = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                check=False,
                cwd=ENGINE_DIR,
                capture_output=True,
                text=True,
                timeout=600,
            )
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    if result.returncode != 0 or not _installed_matches_pin():
        raise RuntimeError(
            f"npm ci in {ENGINE_DIR} failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
        )


def fill_form(
    form_xml: Path,
    steps: list[dict],
    out_dir: Path,
    attachments_dir: Path | None = None,
    *,
    preload: dict[str, str] | None = None,
    timeout: float = 120,
) -> FilledInstance:
    """Fill ``form_xml`` with the engine, applying ``steps`` in order.

    Writes ``out_dir/instance.xml`` and the instance attachments. ``preload``
    is passed to the engine as its preload properties (deviceID, username,
    email, phoneNumber); without it the engine leaves those fields empty.
    Raises RuntimeError carrying the engine's message on any failure,
    including required/constraint violations left at the end.
    """
    node = _node_executable()
    ensure_installed()
    out_dir = Path(out_dir).resolve()
    request = {
        "form": str(Path(form_xml).resolve()),
        "attachments_dir": str(Path(attachments_dir).resolve())
        if attachments_dir is not None
        else None,
        "out_dir": str(out_dir),
        "preload": preload or {},
        "steps": steps,
    }
    # The request lives outside out_dir so that out_dir holds only what the
    # engine produced.
    with tempfile.NamedTemporaryFile(
        "w", suffix=".json", prefix="webforms-request-", encoding="utf-8"
    ) as fh:
        json.dump(request, fh, ensure_ascii=False, default=str)  # default=str: Path values in steps
        fh.flush()
        try:
            result = subprocess.run(
                [node, str(_FILL_SCRIPT), fh.name],
                check=False,
                cwd=ENGINE_DIR,
                capture_output=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            stderr = (exc.stderr or b"").decode("utf-8", "replace")
            raise RuntimeError(
                f"ODK Web Forms engine timed out after {timeout}s filling {form_xml}:\n{stderr}"
            ) from exc

    stderr = result.stderr.decode("utf-8", "replace")
    if result.returncode != 0:
        raise RuntimeError(
            f"ODK Web Forms engine failed filling {form_xml} (exit {result.returncode}):\n{stderr}"
        )
    try:
        summary = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise RuntimeError(
            f"fill.mjs printed no JSON summary:\n{result.stdout!r}\n{stderr}"
        ) from exc

    return FilledInstance(
        xml=Path(summary["instance"]).read_bytes(),
        instance_id=summary["instance_id"],
        files={name: out_dir / name for name in summary["attachments"]},
    )
