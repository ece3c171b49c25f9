"""Staff pages of the reports: ``/bao-cao`` (tables and charts) and ``/bao-cao.xlsx``.

An officer sees their commune, an administrator their province with one row per commune
(:func:`server.submissions.scope.commune_scope`); a commune code outside that scope is 404.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request, send_file
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user

from server.accounts.models import Role
from server.accounts.web import staff_page
from server.reports.charts import Group, bar_chart
from server.reports.exports import footnotes, method_note, missing_note, report_xlsx
from server.reports.labels import (
    METHOD_COLUMNS,
    MISSING_COLUMNS,
    TRANSITION_COLUMNS,
    previous_source_label,
    source_label,
)
from server.reports.services import (
    Report,
    communes_in_scope,
    default_year,
    report,
    years_available,
)

bp = Blueprint("reports", __name__)
STAFF = (Role.OFFICER, Role.ADMIN)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _year() -> int:
    try:
        year = int(request.args.get("year", ""))
    except ValueError:
        return default_year(current_user)
    return year if 2000 <= year <= 2100 else default_year(current_user)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{format_decimal(value, format='#,##0.00')}\u00a0%"


def number(value: float | None) -> str:
    return "—" if value is None else format_decimal(value, format="#,##0")


def _charts(found: Report) -> dict:
    y, p = found.year, found.previous_year
    by_commune = bar_chart(
        "chart-communes",
        _(
            "Tỷ lệ hộ nghèo, hộ cận nghèo theo xã, năm %(year)d và năm %(previous)d",
            year=y,
            previous=p,
        ),
        _(
            "Biểu đồ cột ngang: mỗi xã bốn cột — tỷ lệ hộ nghèo năm %(year)d, năm %(previous)d, "
            "tỷ lệ hộ cận nghèo năm %(year)d, năm %(previous)d (%% tổng số hộ). Số liệu ở bảng "
            "“Hộ nghèo, hộ cận nghèo”.",
            year=y,
            previous=p,
        ),
        [
            _("Hộ nghèo %(year)d", year=y),
            _("Hộ nghèo %(year)d", year=p),
            _("Hộ cận nghèo %(year)d", year=y),
            _("Hộ cận nghèo %(year)d", year=p),
        ],
        [
            Group(
                u.name,
                [
                    u.current.rate(u.current.poor),
                    u.previous.rate(u.previous.poor),
                    u.current.rate(u.current.near_poor),
                    u.previous.rate(u.previous.near_poor),
                ],
            )
            for u in found.rows
        ],
        percent,
    )
    total = found.total
    by_indicator = bar_chart(
        "chart-indicators",
        _(
            "Số hộ nghèo, cận nghèo thiếu hụt theo chỉ số, năm %(year)d và năm %(previous)d",
            year=y,
            previous=p,
        ),
        _(
            "Biểu đồ cột ngang: mỗi chỉ số hai cột — số hộ thiếu hụt năm %(year)d và năm "
            "%(previous)d. Số liệu ở bảng “Thiếu hụt theo chỉ số”.",
            year=y,
            previous=p,
        ),
        [_("Năm %(year)d", year=y), _("Năm %(year)d", year=p)],
        [
            Group(name, [total.current.deprived_count(code), total.previous.deprived_count(code)])
            for code, name in found.indicators
        ],
        number,
        colors=("#2166ac", "#92c5de"),
    )
    return {"communes": by_commune, "indicators": by_indicator}


@bp.get("/bao-cao")
@staff_page(*STAFF)
def index():
    year = _year()
    commune = request.args.get("commune", "").strip() or None
    found = report(current_user, year, commune)
    years = sorted({*years_available(current_user), year}, reverse=True)
    return render_template(
        "reports/report.html",
        report=found,
        year=year,
        years=years,
        commune=commune,
        communes=communes_in_scope(current_user),
        charts=_charts(found),
        transitions=TRANSITION_COLUMNS,
        methods=METHOD_COLUMNS,
        method_note=method_note(),
        missing_columns=MISSING_COLUMNS,
        missing_note=missing_note(),
        source_label=source_label,
        previous_source_label=previous_source_label,
        notes=footnotes(found),
        percent=percent,
        number=number,
    )


@bp.get("/bao-cao.xlsx")
@staff_page(*STAFF)
def xlsx():
    year = _year()
    commune = request.args.get("commune", "").strip() or None
    found = report(current_user, year, commune)
    name = f"bao-cao-{year}" + (f"-{commune}" if commune else "") + ".xlsx"
    return send_file(
        report_xlsx(found), mimetype=XLSX, as_attachment=True, download_name=name, max_age=0
    )
