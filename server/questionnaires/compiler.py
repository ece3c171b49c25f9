"""XLSForm → XForm compilation with pyxform (pure: bytes in, result out, no file output)."""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from pyxform.errors import PyXFormError
from pyxform.xls2xform import convert

from server.errors import AppError


@dataclass(frozen=True, slots=True)
class CompiledForm:
    xform: bytes
    warnings: tuple[str, ...]
    itemsets: bytes | None


def compile_xlsform(
    source: bytes, *, file_type: str = ".xlsx", validate: bool = False
) -> CompiledForm:
    """Compile an XLSForm workbook.

    :param source: the workbook bytes (``.xlsx``) or, for tests, markdown text encoded as UTF-8.
    :param file_type: pyxform's file type, with the leading dot (".xlsx", ".md").
    :param validate: also run ODK Validate (JavaRosa, bundled in pyxform; needs ``java``).
    :raises AppError: ``form.compile_error`` with pyxform's message.
    """
    warnings: list[str] = []
    xlsform = source.decode("utf-8") if file_type == ".md" else BytesIO(source)
    try:
        result = convert(
            xlsform=xlsform,
            file_type=file_type,
            warnings=warnings,
            validate=validate,
            pretty_print=True,
        )
    except PyXFormError as exc:
        raise AppError(
            "form.compile_error",
            400,
            f"Không biên dịch được XLSForm: {exc}",
            f"The XLSForm could not be compiled: {exc}",
        ) from None
    return CompiledForm(
        xform=result.xform.encode("utf-8"),
        warnings=tuple(warnings) + tuple(w for w in result.warnings if w not in warnings),
        itemsets=result.itemsets.encode("utf-8") if result.itemsets else None,
    )
