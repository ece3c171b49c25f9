"""XLSForm → XForm compilation with pyxform (pure: bytes in, result out, no file output).

Problems come back located and in Vietnamese (:mod:`server.questionnaires.problems`), never as a
traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from pyxform.errors import PyXFormError
from pyxform.validators.odk_validate import ODKValidateError
from pyxform.xls2xform import convert

from server.errors import AppError
from server.questionnaires.problems import FormProblem, explain


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

    :param source: the workbook bytes (``.xlsx``) or, for tests, markdown text encoded as UTF-8.
    :param file_type: pyxform's file type, with the leading dot (".xlsx", ".md").
    :param validate: also run ODK Validate (JavaRosa, bundled in pyxform; needs ``java``).
    :raises AppError: ``form.compile_error`` (400) with ``details["problems"]``, each with the
        sheet, row and a Vietnamese message; ``form.validator_unavailable`` (503) without Java.
    """
    warnings: list[str] = []
    xlsx = source if file_type == ".xlsx" else None
    if xlsx is not None and not xlsx.startswith(b"PK\x03\x04"):  # .xlsx files are zip archives
        raise AppError(
            "form.compile_error",
            400,
            "Không đọc được tệp XLSForm: tệp không phải bảng tính Excel .xlsx.",
            "The file is not an .xlsx workbook.",
            {"problems": []},
        )
    xlsform = source.decode("utf-8") if file_type == ".md" else BytesIO(source)
    try:
        result = convert(
            xlsform=xlsform,
            file_type=file_type,
            warnings=warnings,
            validate=validate,
            pretty_print=True,
        )
    except (PyXFormError, ODKValidateError) as exc:
        problem = explain(str(exc), xlsx, default_sheet="survey")
        raise AppError(
            "form.compile_error",
            400,
            f"Không biên dịch được XLSForm. {problem.where_vi}: {problem.message_vi}",
            f"The XLSForm could not be compiled: {problem.message_en}",
            {"problems": [problem.as_dict()]},
        ) from None
    except (ValueError, KeyError, TypeError, OSError) as exc:
        if isinstance(exc, FileNotFoundError) and "java" in str(exc).lower():
            raise AppError(
                "form.validator_unavailable",
                503,
                "Máy chủ chưa cài Java nên chưa kiểm tra được biểu mẫu bằng ODK Validate.",
                "Java is not installed, so ODK Validate cannot check the form.",
            ) from None
        raise AppError(
            "form.compile_error",
            400,
            f"Không đọc được tệp XLSForm ({type(exc).__name__}): hãy kiểm tra đây là tệp .xlsx "
            "có các sheet survey, choices, settings.",
            f"The XLSForm could not be read: {exc}",
            {"problems": []},
        ) from None
    all_warnings = tuple(dict.fromkeys([*warnings, *result.warnings]))
    return CompiledForm(
        xform=result.xform.encode("utf-8"),
        warnings=all_warnings,
        problems=tuple(explain(w, xlsx) for w in all_warnings),
        itemsets=result.itemsets.encode("utf-8") if result.itemsets else None,
    )
