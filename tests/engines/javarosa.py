"""JavaRosa — the form engine inside ODK Collect — for Python tests.

The engine is the one bundled with pyxform 4.5.0: ODK Validate v1.20.0, a fat jar
containing JavaRosa 5.1.0. Two checks and a computation:

    validate_form(xform_path)            # ODK Validate, exactly as pyxform runs it
    check_instance(form_xml, xml_bytes, media_dir)  # -> "uuid:..." or InstanceInvalid
    recompute(form_xml, xml_bytes, media_dir)  # -> {"/data/rep[2]/calc": "value", ...}

``check_instance`` runs ``javarosa/InstanceCheck.java``, which re-opens the instance the
way Collect does when editing a saved form and validates it as if it were finalized.
``recompute`` runs ``javarosa/Recompute.java``, which re-opens it the same way after
emptying every calculated node, and returns what JavaRosa computes for each of them.
Both programs are compiled together on first use into ``javarosa/build/``. ``media_dir``
holds the form's attachments (``households.csv`` for ``jr://file-csv/households.csv``);
without it, external files read as empty: selects from them have no choices (any answer
is rejected) and lookups in them compute "". One call costs one JVM start, about
0.2-0.4 s.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent / "javarosa"
CHECK_CLASS = "InstanceCheck"
RECOMPUTE_CLASS = "Recompute"
SOURCES = tuple(HERE / f"{name}.java" for name in (CHECK_CLASS, RECOMPUTE_CLASS))
BUILD_ROOT = HERE / "build"
TIMEOUT_SECONDS = 120

__all__ = [
    "FormInvalid",
    "InstanceInvalid",
    "check_instance",
    "recompute",
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
    """Compile the Java sources once per (sources, jar) and return the class directory.

    The directory is named after a hash of every source and the jar, so editing any
    .java recompiles them all (they are compiled together: Recompute uses InstanceCheck).
    Each compile goes to a private temp directory that is then renamed into place:
    rename is atomic, so concurrent pytest workers either see no directory or a complete
    one, and a loser of the race just discards its copy.
    """
    jar = validator_jar()
    sources = {path.name: path.read_bytes() for path in SOURCES}
    jar_stat = jar.stat()
    digest = hashlib.sha256()
    for name, source in sources.items():
        digest.update(f"{name}\0{len(source)}\0".encode() + source)
    digest.update(f"\0{jar}\0{jar_stat.st_size}\0{jar_stat.st_mtime_ns}".encode())
    key = digest.hexdigest()[:16]
    out = build_root / key

    def complete(classes: Path) -> bool:
        return all((classes / f"{path.stem}.class").is_file() for path in SOURCES)

    if complete(out):
        return out

    javac = _require("javac")
    build_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=build_root))
    try:
        # Compile a copy of exactly the bytes that were hashed.
        src_dir = tmp / "src"
        src_dir.mkdir()
        for name, source in sources.items():
            (src_dir / name).write_bytes(source)
        classes = tmp / "classes"
        javac_cmd = [javac, "-encoding", "UTF-8", "-d", str(classes), "-cp", str(jar)]
        result = subprocess.run(
            [*javac_cmd, *(str(src_dir / name) for name in sources)],
            check=False,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
        )
        if result.returncode != 0:
            names = ", ".join(str(path) for path in SOURCES)
            raise RuntimeError(f"javac failed on {names}:\n{result.stdout}{result.stderr}")
        try:
            os.rename(classes, out)
        except OSError:
            if not complete(out):
                raise  # not a lost race: a real filesystem problem
        else:  # we built a new version: builds of older sources are dead weight
            for old in build_root.iterdir():
                if old != out and len(old.name) == len(key) and not old.name.startswith("."):
                    shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _run(
    main_class: str, form_xml: Path, instance_xml: bytes, media_dir: Path | None
) -> tuple[int, str, str]:
    """Run a harness program on an instance: (exit code, its last stdout line, all output)."""
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
        cmd = [java, "-cp", classpath, main_class, str(form_xml), str(instance_path)]
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
                f"JavaRosa {main_class} timed out after {TIMEOUT_SECONDS}s: {form_xml}"
            ) from None

    # The programs print UTF-8 whatever the locale.
    out = result.stdout.decode("utf-8", "replace").strip()
    last = out.splitlines()[-1] if out else ""
    everything = f"{out}\n{result.stderr.decode('utf-8', 'replace')}".rstrip()
    return result.returncode, last, everything


def check_instance(form_xml: Path, instance_xml: bytes, media_dir: Path | None = None) -> str:
    """Validate a submission instance against its XForm with JavaRosa.

    Returns the instance's ``meta/instanceID``. Raises ``InstanceInvalid`` when
    JavaRosa (or the harness's stricter checks: form id, unknown elements, values
    that do not fit their type, answers not among the choices) rejects it, and
    ``RuntimeError`` for anything else (unparseable XML, Java missing, timeout).
    """
    code, last, out = _run(CHECK_CLASS, form_xml, instance_xml, media_dir)
    if code == 0 and last.startswith("OK "):
        return last[len("OK ") :]
    if code == 1 and last.startswith("INVALID "):
        raise InstanceInvalid(last[len("INVALID ") :])
    raise RuntimeError(f"JavaRosa check failed (exit {code}) for {form_xml}:\n{out}")


def recompute(form_xml: Path, instance_xml: bytes, media_dir: Path | None = None) -> dict[str, str]:
    """Every calculation of the form, as JavaRosa (ODK Collect) computes it for this instance.

    Every node bound by a ``calculate`` is emptied first, then the instance is re-opened
    as Collect re-opens a saved instance for editing, so each value is computed again from
    the answers alone (and ``media_dir``'s CSV/XML files), whatever the instance carried.

    Returns ``{path: value}`` in document order for every calculated node that is
    relevant, i.e. that Collect would submit (``meta/instanceName`` included); as in
    Collect, a node the instance lacks counts as not relevant unless a ``relevant``
    expression of its own says otherwise. A path is
    the node's absolute XPath with a 1-based position on every repeat instance and
    nowhere else -- ``/data/n_members``, ``/data/members[1]/age_group`` even when there is
    a single member -- the same form as ``InstanceInvalid.ref`` and the Web Forms steps'
    ``ref``. A value is the text Collect would write in the submission ("" when empty).

    Raises ``InstanceInvalid`` when the instance does not belong to the form (another
    root or form id, elements or values the form cannot hold: computing from what is
    left would be meaningless); constraints and required answers are not checked (that is
    ``check_instance``). ``RuntimeError`` for anything else (unparseable XML, Java
    missing, timeout).
    """
    code, last, out = _run(RECOMPUTE_CLASS, form_xml, instance_xml, media_dir)
    if code == 0 and last.startswith("OK "):
        return json.loads(last[len("OK ") :])
    if code == 1 and last.startswith("INVALID "):
        raise InstanceInvalid(last[len("INVALID ") :])
    raise RuntimeError(f"JavaRosa recompute failed (exit {code}) for {form_xml}:\n{out}")
