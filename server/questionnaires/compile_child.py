"""The child process that runs pyxform and ODK Validate for :mod:`server.questionnaires.compiler`.

Started as ``python -m server.questionnaires.compile_child`` in a session of its own (so its
process group holds it and the ODK Validate JVM it starts); the parent kills that whole group
when its time is up or when the request ends.  Here the child limits itself: CPU seconds
(RLIMIT_CPU, inherited by the JVM), address space for pyxform (RLIMIT_AS, lifted again before
the JVM starts: a JVM reserves address space up front and will not start under it — its heap is
bounded with ``-Xmx`` instead), and it takes its group down with it if the parent dies.

Input: the workbook on stdin; options as arguments.  Output: one JSON object on stdout, either
``{"xform", "warnings", "itemsets"}`` or ``{"error": kind, "message": …}``.  pyxform's own ODK
Validate call is not used: it cannot be given a heap limit, it only SIGTERMs the JVM after 100 s
and then accepts the form with a warning.  The messages are pyxform's, so located problems read
the same as before (``check_xform`` in ``pyxform.validators.odk_validate``).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from io import BytesIO

# Imported before the memory limit is set: the limit bounds the work on the form, not this.
from pyxform.errors import PyXFormError
from pyxform.xls2xform import convert

_PR_SET_PDEATHSIG = 1
# Environment variables the JVM reads (and then announces on stderr, which ODK Validate's
# output would carry into the form's warnings).
_JAVA_ENV = ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS")


def _die_with_group(*_args) -> None:
    os.killpg(0, signal.SIGKILL)


def _limit_self(cpu_seconds: int, memory_mb: int, parent: int) -> None:
    signal.signal(signal.SIGTERM, _die_with_group)
    try:  # Linux: be told (SIGTERM) when the worker that started us dies
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it died before prctl took effect
        _die_with_group()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # SIGXCPU must not leave a core file
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 1024 * 1024, hard))


def _lift_memory_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


def _near_memory_limit(limit_mb: int) -> bool:
    """Whether this process's address space reached its limit (a failure is then memory's)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1]) * 1024 >= (limit_mb - 16) * 1024 * 1024
    except (OSError, ValueError):
        pass
    return False


def _compile(source: bytes, file_type: str, memory_mb: int) -> dict:
    warnings: list[str] = []
    xlsform = source.decode("utf-8") if file_type == ".md" else BytesIO(source)
    try:
        result = convert(
            xlsform=xlsform,
            file_type=file_type,
            warnings=warnings,
            validate=False,
            pretty_print=True,
        )
    except PyXFormError as exc:
        return {"error": "invalid", "message": str(exc)}
    except (MemoryError, RecursionError):
        return {"error": "too_complex", "message": "pyxform ran out of memory"}
    except Exception as exc:
        if _near_memory_limit(memory_mb):  # C code out of memory raises odd things
            return {"error": "too_complex", "message": f"pyxform ran out of memory ({exc!r})"}
        return {"error": "unreadable", "type": type(exc).__name__, "message": str(exc)}
    return {
        "xform": result.xform,
        "warnings": list(dict.fromkeys([*warnings, *result.warnings])),
        "itemsets": result.itemsets,
    }


def _validate(xform: str, heap_mb: int, directory: str) -> dict | list[str]:
    """ODK Validate as pyxform runs it, with a bounded heap.  Returns warnings or an error."""
    from pyxform.validators.error_cleaner import ErrorCleaner
    from pyxform.validators.odk_validate import ODK_VALIDATE_PATH
    from pyxform.validators.util import decode_stream

    java = shutil.which("java")
    if java is None:
        return {"error": "no_java", "message": "java not found"}
    env = {k: v for k, v in os.environ.items() if k not in _JAVA_ENV}
    path = os.path.join(directory, "form.xml")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(xform)
    command = [
        java,
        f"-Xmx{heap_mb}m",
        "-XX:+UseSerialGC",
        f"-Djava.io.tmpdir={directory}",
        "-Djava.awt.headless=true",
        "-jar",
        ODK_VALIDATE_PATH,
        path,
    ]
    done = subprocess.run(  # noqa: S603 - our own command, no shell, a file we wrote
        command, check=False, env=env, capture_output=True, stdin=subprocess.DEVNULL
    )
    stderr = decode_stream(done.stderr)
    if done.returncode < 0 or "java.lang.OutOfMemoryError" in stderr:
        return {"error": "too_complex", "message": f"ODK Validate stopped ({done.returncode})"}
    if done.returncode > 0:
        return {
            "error": "invalid",
            "message": "ODK Validate Errors:\n" + ErrorCleaner.odk_validate(stderr),
        }
    return ["ODK Validate Warnings:\n" + stderr] if stderr else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file-type", default=".xlsx")
    parser.add_argument("--validate", action="store_true")
    parser.add_argument("--cpu-seconds", type=int, required=True)
    parser.add_argument("--memory-mb", type=int, required=True)
    parser.add_argument("--heap-mb", type=int, required=True)
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--work-dir", required=True)  # the parent removes it
    args = parser.parse_args(argv)
    source = sys.stdin.buffer.read()
    _limit_self(args.cpu_seconds, args.memory_mb, args.parent)
    result = _compile(source, args.file_type, args.memory_mb)
    _lift_memory_limit()
    if args.validate and "error" not in result:
        checked = _validate(result["xform"], args.heap_mb, args.work_dir)
        if isinstance(checked, dict):
            result = checked
        else:
            result["warnings"] = list(dict.fromkeys([*result["warnings"], *checked]))
    sys.stdout.write(json.dumps(result))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
