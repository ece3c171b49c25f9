"""Web pages for province administrators: the B1 point tables (every version, with a visible
badge on demo and provisional ones), uploading a table from the XLSX template or YAML, each
table's items and points, and the table each commune uses per standard and area type."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from server.accounts.models import ADMIN_ROLES, Role
from server.accounts.web import staff_page
from server.db import write_transaction
from server.errors import AppError
from server.extensions import db
from server.geography.models import Commune
from server.scoring.b1 import template_xlsx
from server.scoring.b1_api import TEMPLATE_NAME
from server.scoring.b1_store import (
    AREA_TYPES,
    AREA_VI,
    ORIGIN_VI,
    STATUS_VI,
    XLSX_MIMETYPE,
    assign_table,
    assignments_of,
    catalog,
    catalog_entry,
    choices_for,
    communes_in_scope,
    region_label,
    rescore_after_response,
    upload_table,
)
from server.scoring.standards import all_standards
from server.web_forms import keep_typed

bp = Blueprint("b1_admin", __name__, url_prefix="/admin/b1-tables")

NOT_USED_VI = "— không dùng (B1 chưa đánh giá) —"


def _index_page(**extra) -> str:
    tables = catalog(current_user)
    communes = communes_in_scope(current_user)
    return render_template(
        "scoring/b1_tables.html",
        tables=tables,
        communes=[
            {
                "commune": commune,
                "assignments": assignments_of(commune),
                "choices": choices_for(commune, tables),
            }
            for commune in communes
        ],
        labels=_labels(),
        **extra,
    )


def _labels() -> dict:
    return {
        "area": AREA_VI,
        "origin": ORIGIN_VI,
        "status": STATUS_VI,
        "region": region_label,
        "not_used": NOT_USED_VI,
    }


@bp.get("")
@staff_page(*ADMIN_ROLES)
def index():
    return _index_page()


@bp.post("/upload")
@staff_page(*ADMIN_ROLES)
def upload():
    upload_file = request.files.get("file")
    if upload_file is None or not upload_file.filename:
        flash("Hãy chọn tệp bảng điểm (.xlsx theo mẫu hoặc .yaml) để tải lên.", "error")
        return _index_page(), 400
    content = upload_file.read()
    try:
        with write_transaction(db.session):
            result = upload_table(content, upload_file.filename, current_user)
    except AppError as error:
        page = _index_page(upload_error=error, filename=upload_file.filename)
        return page, error.status
    entry = result.entry
    if result.created:
        message = f"Đã lưu bảng điểm {entry.code} phiên bản {entry.version}."
    else:
        message = (
            f"Bảng điểm {entry.code} phiên bản {entry.version} đã có với nội dung giống hệt; "
            "không có gì thay đổi."
        )
    if result.communes:
        message += (
            f" Đang chấm điểm lại các phiếu của xã {', '.join(result.communes)} với phiên bản mới."
        )
    flash(message, "info")
    response = redirect(url_for(".detail", code=entry.code, version=entry.version))
    return rescore_after_response(response, result.rescore_job_ids)


@bp.get("/template.xlsx")
@staff_page(*ADMIN_ROLES)
def template():
    response = Response(template_xlsx(), mimetype=XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{TEMPLATE_NAME}"'
    return response


@bp.get("/<code>/<version>")
@staff_page(*ADMIN_ROLES)
def detail(code: str, version: str):
    entry = catalog_entry(code, version, current_user)
    if entry is None:
        abort(404)
    return render_template("scoring/b1_table_detail.html", entry=entry, labels=_labels())


@bp.post("/communes/<code>")
@staff_page(Role.ADMIN)
def assign(code: str):
    job_ids: list[int] = []
    changed = []
    try:
        with write_transaction(db.session):
            commune = db.session.scalar(
                select(Commune).where(
                    Commune.code == code, Commune.province_id == current_user.province_id
                )
            )
            if commune is None:
                abort(404)
            name = commune.name
            for standard in sorted(all_standards()):
                for area in AREA_TYPES:
                    field = f"{standard}:{area}"
                    if field not in request.form:
                        continue
                    result = assign_table(
                        commune, standard, area, request.form[field].strip() or None
                    )
                    job_ids += result.rescore_job_ids
                    if result.changed:
                        changed.append(f"{standard} {AREA_VI[area]}")
    except AppError as error:  # the page again, each table as it was chosen
        flash(f"Không lưu được bảng điểm cho xã {code}: {error.message_vi}", "error")
        keep_typed(f"b1-{code}")
        return _index_page(), error.status
    if changed:
        flash(
            f"Đã lưu bảng điểm B1 cho {name} ({'; '.join(changed)}); "
            "các phiếu của xã đang được chấm điểm lại.",
            "info",
        )
    else:
        flash(f"Bảng điểm B1 của {name} không thay đổi.", "info")
    response = redirect(url_for(".index", _anchor=f"xa-{code}"))
    return rescore_after_response(response, job_ids)
