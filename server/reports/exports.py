"""The report as XLSX: one sheet of summary figures, one of deprivations by indicator, one of
transitions — each row a commune, then the total, this year beside the previous year — and one
of the year's review results by the method that decided them.

Written with openpyxl's write-only workbook into a temporary file that is streamed to the client
(and deleted when closed).  Texts follow the page's language (Vietnamese by default).
"""

from __future__ import annotations

import tempfile
from typing import IO

from flask_babel import gettext as _
from openpyxl import Workbook

from server.documents.spreadsheets import text_row
from server.documents.stamp import stamp_request
from server.reports.labels import (
    METHOD_COLUMNS,
    MISSING_COLUMNS,
    TOTAL,
    TRANSITION_COLUMNS,
    previous_source_label,
    source_label,
)
from server.reports.services import Report, Unit


def _units(report: Report) -> list[Unit]:
    return [*report.rows, report.total]


def _name(unit: Unit) -> list:
    return [unit.code or "", unit.name or str(TOTAL)]


def _heading(sheet, report: Report, title: str) -> None:
    sheet.append(text_row(sheet, [title]))
    sheet.append(
        text_row(
            sheet,
            [
                _(
                    "Năm %(year)d, so với năm %(previous)d",
                    year=report.year,
                    previous=report.previous_year,
                )
            ],
        )
    )
    if report.total.current.unconfirmed:
        sheet.append(
            text_row(
                sheet,
                [
                    _(
                        "Có số liệu là kết quả rà soát, chưa quyết định (cột “Nguồn số liệu”); "
                        "năm %(previous)d: trạng thái đã công nhận.",
                        previous=report.previous_year,
                    )
                ],
            )
        )
    sheet.append(text_row(sheet, []))


def _summary(book: Workbook, report: Report) -> None:
    sheet = book.create_sheet(_("Tổng hợp")[:31])
    _heading(sheet, report, _("Tổng hợp kết quả rà soát hộ nghèo, hộ cận nghèo"))
    y, p = report.year, report.previous_year
    sheet.append(
        text_row(
            sheet,
            [
                _("Mã xã"),
                _("Xã"),
                _("Tổng số hộ"),
                _("Hộ nghèo %(year)d", year=y),
                _("Tỷ lệ hộ nghèo %(year)d (%%)", year=y),
                _("Hộ nghèo %(year)d", year=p),
                _("Tỷ lệ hộ nghèo %(year)d (%%)", year=p),
                _("Hộ cận nghèo %(year)d", year=y),
                _("Tỷ lệ hộ cận nghèo %(year)d (%%)", year=y),
                _("Hộ cận nghèo %(year)d", year=p),
                _("Tỷ lệ hộ cận nghèo %(year)d (%%)", year=p),
                _("Tỷ lệ nghèo đa chiều %(year)d (%%)", year=y),
                _("Tỷ lệ nghèo đa chiều %(year)d (%%)", year=p),
                _("Hộ nghèo DTTS %(year)d", year=y),
                _("Hộ nghèo DTTS %(year)d", year=p),
                _("Hộ cận nghèo DTTS %(year)d", year=y),
                _("Hộ cận nghèo DTTS %(year)d", year=p),
                _("Hộ nghèo không có khả năng lao động %(year)d", year=y),
                _("Hộ nghèo không có khả năng lao động %(year)d", year=p),
                _("Hộ nghèo, cận nghèo chưa rõ dân tộc %(year)d", year=y),
                _("Hộ nghèo, cận nghèo chưa rõ dân tộc %(year)d", year=p),
                _("Hộ nghèo chưa rõ khả năng lao động %(year)d", year=y),
                _("Hộ nghèo chưa rõ khả năng lao động %(year)d", year=p),
                _("Ngoài danh sách hộ: nghèo %(year)d", year=y),
                _("Ngoài danh sách hộ: cận nghèo %(year)d", year=y),
                _("Nguồn số liệu %(year)d", year=y),
                _("Nguồn số liệu %(year)d", year=p),
            ],
        )
    )
    for unit in _units(report):
        c, v = unit.current, unit.previous
        sheet.append(
            text_row(
                sheet,
                [
                    *_name(unit),
                    c.total,
                    c.poor,
                    c.rate(c.poor),
                    v.poor,
                    v.rate(v.poor),
                    c.near_poor,
                    c.rate(c.near_poor),
                    v.near_poor,
                    v.rate(v.near_poor),
                    c.rate(c.poor_or_near),
                    v.rate(v.poor_or_near),
                    c.minority_poor,
                    v.minority_poor,
                    c.minority_near_poor,
                    v.minority_near_poor,
                    c.poor_without_labour,
                    v.poor_without_labour,
                    c.ethnicity_unknown,
                    v.ethnicity_unknown,
                    c.labour_unknown,
                    v.labour_unknown,
                    c.outside_poor,
                    c.outside_near_poor,
                    source_label(c),
                    previous_source_label(v),
                ],
            )
        )
    sheet.append(text_row(sheet, []))
    for note in footnotes(report):
        sheet.append(text_row(sheet, [note]))


def _deprivations(book: Workbook, report: Report) -> None:
    sheet = book.create_sheet(_("Thiếu hụt")[:31])
    _heading(sheet, report, _("Thiếu hụt theo chỉ số (hộ nghèo và hộ cận nghèo)"))
    y, p = report.year, report.previous_year
    sheet.append(
        text_row(
            sheet,
            [
                _("Mã xã"),
                _("Xã"),
                _("Mã chỉ số"),
                _("Chỉ số"),
                _("Số hộ thiếu hụt %(year)d", year=y),
                _("Tỷ lệ %(year)d (%% hộ nghèo và cận nghèo)", year=y),
                _("Số hộ thiếu hụt %(year)d", year=p),
                _("Tỷ lệ %(year)d (%% hộ nghèo và cận nghèo)", year=p),
                _("Chưa xác định được %(year)d", year=y),
            ],
        )
    )
    for unit in _units(report):
        c, v = unit.current, unit.previous
        for code, name in report.indicators:
            sheet.append(
                text_row(
                    sheet,
                    [
                        *_name(unit),
                        code,
                        name,
                        c.deprived_count(code),
                        c.deprived_share(code),
                        v.deprived_count(code),
                        v.deprived_share(code),
                        c.indicator_unknown[code],
                    ],
                )
            )


def _transitions(book: Workbook, report: Report) -> None:
    sheet = book.create_sheet(_("Diễn biến")[:31])
    _heading(sheet, report, _("Diễn biến hộ nghèo, hộ cận nghèo"))
    header = [_("Mã xã"), _("Xã")]
    for _key, label, _get in TRANSITION_COLUMNS:
        header += [f"{label} {report.year}", f"{label} {report.previous_year}"]
    sheet.append(text_row(sheet, header))
    for unit in _units(report):
        row = _name(unit)
        for _key, _label, get in TRANSITION_COLUMNS:
            row += [get(unit.current), get(unit.previous)]
        sheet.append(text_row(sheet, row))


def _methods(book: Workbook, report: Report) -> None:
    sheet = book.create_sheet(_("Phương pháp")[:31])
    _heading(
        sheet,
        report,
        _("Kết quả rà soát năm %(year)d theo phương pháp quyết định", year=report.year),
    )
    sheet.append(
        text_row(sheet, [_("Mã xã"), _("Xã"), *(str(label) for _k, label, _g in METHOD_COLUMNS)])
    )
    for unit in _units(report):
        sheet.append(
            text_row(sheet, [*_name(unit), *(get(unit.current) for _k, _l, get in METHOD_COLUMNS)])
        )
    sheet.append(text_row(sheet, []))
    sheet.append(text_row(sheet, [method_note()]))


def _missing(book: Workbook, report: Report) -> None:
    sheet = book.create_sheet(_("Hộ chưa có kết quả")[:31])
    _heading(
        sheet,
        report,
        _(
            "Hộ nghèo, cận nghèo năm %(previous)d chưa có kết quả rà soát năm %(year)d, theo lý do",
            previous=report.previous_year,
            year=report.year,
        ),
    )
    sheet.append(
        text_row(sheet, [_("Mã xã"), _("Xã"), *(str(label) for _k, label, _g in MISSING_COLUMNS)])
    )
    for unit in _units(report):
        sheet.append(
            text_row(sheet, [*_name(unit), *(get(unit.current) for _k, _l, get in MISSING_COLUMNS)])
        )
    sheet.append(text_row(sheet, []))
    sheet.append(text_row(sheet, [missing_note()]))


def missing_note() -> str:
    return _(
        "Hộ có trạng thái hộ nghèo hoặc hộ cận nghèo năm trước mà năm nay chưa có phiếu rà soát "
        "nào được chấm điểm (kết quả bị loại không tính). Lý do do cán bộ xã ghi trong đợt rà "
        "soát định kỳ của năm; quyết định công nhận chỉ được ghi khi mọi hộ đã có lý do."
    )


def method_note() -> str:
    return _(
        "Phương pháp quyết định: điểm B1 (điểm A so với ngưỡng) hoặc thu nhập bình quân đầu "
        "người đo được (so với chuẩn nghèo). Mỗi hộ trong danh sách hộ được tính một lần, theo "
        "kết quả rà soát của năm (kể cả khi đã có quyết định). “Chưa có phương pháp quyết "
        "định”: chưa phân loại được, dừng ở Phiếu A, hoặc kết quả lưu trước khi ghi phương "
        "pháp. “B1 và thu nhập không thống nhất”: hộ có cả hai, một phương pháp cho thu nhập "
        "dưới chuẩn, phương pháp kia trên chuẩn — cần xem xét."
    )


def footnotes(report: Report) -> list[str]:
    """What the figures rest on, including the rules that are inferred."""
    return [
        _(
            "Nguồn: trạng thái hộ đã được công nhận cho năm (quyết định); hộ chưa có thì lấy kết "
            "quả rà soát năm đó (phiếu mới nhất của mã hộ, Phiếu B trước Phiếu A) — kết quả rà "
            "soát, chưa quyết định. Năm trước: trạng thái đã công nhận."
        ),
        _(
            "Tổng số hộ: số hộ trong danh sách hộ của xã hiện nay (dùng cho cả hai năm). Tỷ lệ "
            "thiếu hụt: trên tổng số hộ nghèo và cận nghèo."
        ),
        _(
            "Suy luận, chưa đối chiếu văn bản: hộ dân tộc thiểu số là hộ có chủ hộ (hoặc thành "
            "viên đầu tiên) không phải dân tộc Kinh; hộ không có khả năng lao động là hộ không "
            "có thành viên nào trong độ tuổi lao động mà không khuyết tật nặng hoặc bệnh nặng."
        ),
    ]


def report_xlsx(report: Report) -> IO[bytes]:
    """The workbook in a temporary file, positioned at its start (deleted when closed)."""
    book = Workbook(write_only=True)
    _summary(book, report)
    _deprivations(book, report)
    _transitions(book, report)
    _methods(book, report)
    _missing(book, report)
    stamp_request(book)
    out = tempfile.TemporaryFile()
    book.save(out)
    out.seek(0)
    return out
