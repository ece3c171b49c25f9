"""Small XLSForm workbooks built in tests (rows in, .xlsx bytes out)."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook


def workbook(
    survey: list[list[str]],
    *,
    choices: list[list[str]] | None = None,
    settings: dict[str, str] | None = None,
) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "survey"
    for row in survey:
        sheet.append(row)
    if choices:
        choice_sheet = book.create_sheet("choices")
        for row in choices:
            choice_sheet.append(row)
    if settings:
        settings_sheet = book.create_sheet("settings")
        settings_sheet.append(list(settings))
        settings_sheet.append(list(settings.values()))
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def household_form(
    version: str = "2026120101", *, age_type: str = "integer", title: str = "Phiếu thử hộ"
) -> bytes:
    """A household questionnaire picking the household from households.csv."""
    return workbook(
        [
            ["type", "name", "label", "calculation"],
            ["select_one_from_file households.csv", "hh", "Hộ", ""],
            ["calculate", "village", "", "instance('households')/root/item[name=${hh}]/village"],
            [age_type, "age", "Tuổi chủ hộ", ""],
        ],
        settings={"form_title": title, "form_id": "phieu_thu", "version": version},
    )
