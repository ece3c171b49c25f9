"""XLSForm → XForm compilation with pyxform (pure: bytes in, result out, no file output).

Problems come back located and in Vietnamese (:mod:`server.questionnaires.problems`), never as a
traceback.  The workbook is bounded before anything parses it and the work runs in a child
process group that cannot outlive the request (see :func:`compile_xlsform`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context

from server.config import Defaults
from server.documents.spreadsheets import XlsxLimits, check_xlsx
from server.errors import AppError
from server.questionnaires.problems import FormProblem, explain

_CHILD = Path(__file__).with_name("compile_child.py")


@dataclass(frozen=True, slots=True)
class CompiledForm:
    xform: bytes
    warnings: tuple[str, ...]
    problems: tuple[FormProblem, ...]  # the warnings, located and explained
    itemsets: bytes | None


def compile_xlsform(
    source: bytes, *, file_type: str = ".xlsx", validate: bool = False
) -> CompiledForm:
    """Compile an XLSForm workbook.

    An ``.xlsx`` is first checked against the workbook limits (entries, unzipped size, rows,
    cells: :func:`server.documents.spreadsheets.check_xlsx`); pyxform and ODK Validate then run
    in a child process group bounded in time and memory (:mod:`compile_child`), killed when its
    time is up and in any case before this function returns.

    :param source: the workbook bytes (``.xlsx``) or, for tests, markdown text encoded as UTF-8.
    :param file_type: pyxform's file type, with the leading dot (".xlsx", ".md").
    :param validate: also run ODK Validate (JavaRosa, bundled in pyxform; needs ``java``).
    :raises AppError: ``form.compile_error`` (400) with ``details["problems"]``, each with the
        sheet, row and a Vietnamese message (also for a corrupt archive);
        ``spreadsheet.too_large`` (413) before compiling; ``form.too_complex`` (422) when
        compiling or validating runs out of time or memory; ``form.validator_unavailable``
        (503) without Java.
    """
    xlsx = source if file_type == ".xlsx" else None
    if xlsx is not None and not xlsx.startswith(b"PK\x03\x04"):  # .xlsx files are zip archives
        raise AppError(
            "form.compile_error",
            400,
            "Không đọc được tệp XLSForm: tệp không phải bảng tính Excel .xlsx.",
            "The file is not an .xlsx workbook.",
            {"problems": []},
        )
    settings = _settings()
    if xlsx is not None:
        try:
            check_xlsx(
                xlsx, XlsxLimits.from_config(settings), what_vi="Tệp XLSForm", what_en="XLSForm"
            )
        except AppError as error:
            if error.code != "spreadsheet.unreadable":
                raise
            raise AppError(
                "form.compile_error",
                400,
                "Không đọc được tệp XLSForm: tệp .xlsx bị hỏng (không giải nén được).",
                "The XLSForm could not be read: the .xlsx archive is corrupt.",
                {"problems": []},
            ) from None
    result = _run_child(source, file_type=file_type, validate=validate, settings=settings)
    error = result.get("error")
    if error == "invalid":
        problem = explain(result["message"], xlsx, default_sheet="survey")
        raise AppError(
            "form.compile_error",
            400,
            f"Không biên dịch được XLSForm. {problem.where_vi}: {problem.message_vi}",
            f"The XLSForm could not be compiled: {problem.message_en}",
            {"problems": [problem.as_dict()]},
        )
    if error == "no_java":
        raise AppError(
            "form.validator_unavailable",
            503,
            "Máy chủ chưa cài Java nên chưa kiểm tra được biểu mẫu bằng ODK Validate.",
            "Java is not installed, so ODK Validate cannot check the form.",
        )
    if error == "too_complex":
        raise _too_complex(settings)
    if error is not None:  # "unreadable"
        raise AppError(
            "form.compile_error",
            400,
            f"Không đọc được tệp XLSForm ({result.get('type')}): hãy kiểm tra đây là tệp .xlsx "
            "có các sheet survey, choices, settings.",
            f"The XLSForm could not be read: {result.get('message')}",
            {"problems": []},
        )
    warnings = tuple(result["warnings"])
    return CompiledForm(
        xform=result["xform"].encode("utf-8"),
        warnings=warnings,
        problems=tuple(explain(w, xlsx) for w in warnings),
        itemsets=result["itemsets"].encode("utf-8") if result["itemsets"] else None,
    )


def _settings() -> Mapping[str, Any]:
    """The app's configuration, or the defaults outside a request (the ``forms`` command)."""
    if has_app_context():
        return current_app.config
    return {k: getattr(Defaults, k) for k in dir(Defaults) if k.isupper()}


def _too_complex(settings: Mapping[str, Any]) -> AppError:
    seconds = int(settings["XLSFORM_COMPILE_SECONDS"])
    return AppError(
        "form.too_complex",
        422,
        "Biểu mẫu quá lớn hoặc quá phức tạp: máy chủ không biên dịch và kiểm tra xong trong "
        f"{seconds} giây hoặc trong giới hạn bộ nhớ. Hãy chia nhỏ biểu mẫu (bớt câu hỏi, bớt "
        "lựa chọn, rút gọn các biểu thức) rồi tải lên lại.",
        f"The form is too large or too complex: it could not be compiled and validated within "
        f"{seconds} seconds or the memory limit. Split it (fewer questions or choices, simpler "
        "expressions) and upload it again.",
    )


def _run_child(
    source: bytes, *, file_type: str, validate: bool, settings: Mapping[str, Any]
) -> dict:
    """Run :mod:`compile_child` in its own process group; the group never outlives this call."""
    seconds = int(settings["XLSFORM_COMPILE_SECONDS"])
    command = [
        sys.executable,
        "-I",  # only the standard library and site-packages: not the app, not the environment
        str(_CHILD),
        "--file-type",
        file_type,
        "--cpu-seconds",
        str(seconds + 1),
        "--memory-mb",
        str(int(settings["XLSFORM_COMPILE_MEMORY_MB"])),
        "--heap-mb",
        str(int(settings["XLSFORM_VALIDATOR_HEAP_MB"])),
        "--parent",
        str(os.getpid()),
    ]
    if validate:
        command.append("--validate")
    with tempfile.TemporaryDirectory(prefix="rasoat-compile-") as work_dir:
        return _run([*command, "--work-dir", work_dir], source, seconds, settings)


def _run(command: list[str], source: bytes, seconds: int, settings: Mapping[str, Any]) -> dict:
    child = subprocess.Popen(  # noqa: S603 - fixed command, no shell; input on stdin
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the JVM it starts joins it
    )
    try:
        try:
            out, err = child.communicate(source, timeout=seconds)
        except subprocess.TimeoutExpired:
            raise _too_complex(settings) from None
    finally:
        _kill_group(child)
    if child.returncode < 0:
        raise _too_complex(settings)  # RLIMIT_CPU (SIGXCPU) or the kernel's OOM killer
    try:
        return json.loads(out)
    except ValueError:
        if b"MemoryError" in err:
            raise _too_complex(settings) from None
        raise RuntimeError(
            f"compile_child failed ({child.returncode}): {err.decode(errors='replace')[-2000:]}"
        ) from None


def _kill_group(child: subprocess.Popen) -> None:
    """Kill the child's whole process group (the JVM included) and reap the child."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        child.communicate(timeout=5)
    if child.poll() is None:
        child.kill()
        child.wait()
