"""JavaRosa — the form engine inside ODK Collect — for Python tests.

The engine is the one bundled with pyxform 4.5.0: ODK Validate v1.20.0, a fat jar
containing JavaRosa 5.1.0. Two checks:

    validate_form(xform_path)            # ODK Validate, exactly as pyxform runs it
    check_instance(form_xml, xml_bytes, media_dir)  # -> "uuid:..." or InstanceInvalid

``check_instance`` runs ``javarosa/InstanceCheck.java`` (compiled on first use into
``javarosa/build/``), which re-opens the instance the way Collect does when editing a
saved form and validates it as if it were finalized. ``media_dir`` holds the form's
attachments (``households.csv`` for ``jr://file-csv/households.csv``); without it,
selects from external files have no choices and any answer to them is rejected.
One check costs one JVM start, about 0.2-0.4 s.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent / "javarosa"
SOURCE = HERE / "InstanceCheck.java"
BUILD_ROOT = HERE / "build"
MAIN_CLASS = "InstanceCheck"
TIMEOUT_SECONDS = 120

__all__ = [
    "FormInvalid",
    "InstanceInvalid",
    "check_instance",
    "validate_form",
    "validator_jar",
]


class FormInvalid(Exception):
    """ODK Validate rejected the XForm; the message carries Validate's own output."""


class InstanceInvalid(Exception):
    """JavaRosa rejected the instance. ``ref`` is the failing node, ``reason`` the why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.ref, _, self.reason = message.partition(": ")


def validator_jar() -> Path:
    """ODK_Validate.jar shipped inside the installed pyxform wheel."""
    from pyxform.validators.odk_validate import ODK_VALIDATE_PATH

    jar = Path(ODK_VALIDATE_PATH)
    if not jar.is_file():
        raise RuntimeError(f"ODK Validate jar missing from the pyxform install: {jar}")
    return jar


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise RuntimeError(
            f"'{tool}' not found on PATH: the JavaRosa harness needs a JDK "
            "(apt-get install openjdk-17-jdk-headless)"
        )
    return path


def validate_form(xform_path: Path) -> None:
    """Run ODK Validate on an XForm through pyxform's own wrapper (same jar, same flags)."""
    from pyxform.validators.odk_validate import ODKValidateError, check_xform

    _require("java")
    try:
        warnings = check_xform(str(xform_path))
    except ODKValidateError as e:
        raise FormInvalid(f"{xform_path}: {e}") from None
    # check_xform reports a timeout or a killed JVM as a "warning"; neither is a pass.
    for w in warnings:
        if not w.startswith("ODK Validate Warnings:"):
            raise RuntimeError(f"ODK Validate did not finish on {xform_path}: {w}")


def _classes_dir(build_root: Path = BUILD_ROOT) -> Path:
    """Compile InstanceCheck.java once per (source, jar) and return the class directory.

    The directory is named after a hash of the source and the jar, so an edited
    .java gets recompiled. Each compile goes to a private temp directory that is then
    renamed into place: rename is atomic, so concurrent pytest workers either see no
    directory or a complete one, and a loser of the race just discards its copy.
    """
    jar = validator_jar()
    source = SOURCE.read_bytes()
    jar_stat = jar.stat()
    key = hashlib.sha256(
        source + f"\0{jar}\0{jar_stat.st_size}\0{jar_stat.st_mtime_ns}".encode()
    ).hexdigest()[:16]
    out = build_root / key
    if (out / f"{MAIN_CLASS}.class").is_file():
        return out

    javac = _require("javac")
    build_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=build_root))
    try:
        # Compile a copy of exactly the bytes that were hashed.
        (tmp / "src").mkdir()
        src_copy = tmp / "src" / SOURCE.name
        src_copy.write_bytes(source)
        classes = tmp / "classes"
        result = subprocess.run(
            [javac, "-encoding", "UTF-8", "-d", str(classes), "-cp", str(jar), str(src_copy)],
            check=False,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
        )
        if result.returncode != 0:
            raise RuntimeError(f"javac failed on {SOURCE}:\n{result.stdout}{result.stderr}")
        try:
            os.rename(classes, out)
        except OSError:
            if not (out / f"{MAIN_CLASS}.class").is_file():
                raise  # not a lost race: a real filesystem problem
        else:  # we built a new version: builds of older sources are dead weight
            for old in build_root.iterdir():
                if old != out and len(old.name) == len(key) and not old.name.startswith("."):
                    shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def check_instance(form_xml: Path, instance_xml: bytes, media_dir: Path | None = None) -> str:
    """Validate a submission instance against its XForm with JavaRosa.

    Returns the instance's ``meta/instanceID``. Raises ``InstanceInvalid`` when
    JavaRosa (or the harness's stricter checks: form id, unknown elements, values
    that do not fit their type, answers not among the choices) rejects it, and
    ``RuntimeError`` for anything else (unparseable XML, Java missing, timeout).
    """
    if isinstance(instance_xml, str):
        instance_xml = instance_xml.encode("utf-8")
    form_xml = Path(form_xml)
    if not form_xml.is_file():
        raise FileNotFoundError(form_xml)
    if media_dir is not None and not Path(media_dir).is_dir():
        raise FileNotFoundError(f"media_dir is not a directory: {media_dir}")

    java = _require("java")
    classpath = os.pathsep.join([str(validator_jar()), str(_classes_dir())])
    with tempfile.TemporaryDirectory(prefix="jr-instance-") as tmp:
        instance_path = Path(tmp) / "instance.xml"
        instance_path.write_bytes(instance_xml)
        cmd = [java, "-cp", classpath, MAIN_CLASS, str(form_xml), str(instance_path)]
        if media_dir is not None:
            cmd.append(str(media_dir))
        try:
            result = subprocess.run(
                cmd,
                check=False,
                capture_output=True,
                timeout=TIMEOUT_SECONDS,
                # UTF-8 file names for the JVM even when the caller runs under LANG=C.
                env={**os.environ, "LC_ALL": "C.UTF-8"},
            )
        except subprocess.TimeoutExpired:
            raise RuntimeError(
                f"JavaRosa check timed out after {TIMEOUT_SECONDS}s: {form_xml}"
            ) from None

    out = result.stdout.decode("utf-8", "replace").strip()
    last = out.splitlines()[-1] if out else ""
    if result.returncode == 0 and last.startswith("OK "):
        return last[len("OK ") :]
    if result.returncode == 1 and last.startswith("INVALID "):
        raise InstanceInvalid(last[len("INVALID ") :])
    raise RuntimeError(
        f"JavaRosa check failed (exit {result.returncode}) for {form_xml}:\n"
        f"{out}\n{result.stderr.decode('utf-8', 'replace')}".rstrip()
    )
