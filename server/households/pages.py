"""``/xa/nhap-ho``: importing a commune's household list (last year's statuses) on the web.

The steps and the rules are in :mod:`server.households.imports`: a template to download, an
upload that is read and checked on the server and kept for its uploader, a preview of what
would change, and a confirmation that writes it.  The commune's officer and its province's
administrators import; a village head is refused; every other commune is *not found*."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from server.access.services import Seen, record_access
from server.accounts.models import STAFF_ROLES
from server.accounts.web import staff_page
from server.db import write_transaction
from server.errors import AppError
from server.extensions import db
from server.households import imports
from server.households.labels import SOURCE_LABELS, STATUS_LABELS
from server.i18n import local_time, localized, vi_number
from server.workspace.services import review_years

bp = Blueprint("household_import", __name__, url_prefix="/xa/nhap-ho")

# Rows of the preview's table (the counts cover every row).
PREVIEW_ROWS = 500
PREVIEW_ERRORS = 500
# The columns as the preview names them (errors and changes carry the Vietnamese header).
COLUMN_LABELS = {
    "Mã hộ": _l("Mã hộ"),
    "Thôn": _l("Thôn"),
    "Họ tên chủ hộ": _l("Họ tên chủ hộ"),
    "Tình trạng năm trước": _l("Tình trạng năm trước"),
    "Nguồn": _l("Nguồn"),
    "Danh sách rà soát": _l("Danh sách rà soát"),
}


def _default_year() -> int:
    """The year of last year's statuses: the one before the review under way."""
    current, _years = review_years(current_user)
    return current - 1


def _chosen(communes, code: str):
    """The commune named ``code`` among ``communes``; the only one when the user has one."""
    if code:
        return next((c for c in communes if c.code == code), None)
    return communes[0] if len(communes) == 1 else None


def _form_page(communes, chosen, year: str, error: str | None = None, status: int = 200):
    return (
        render_template(
            "households/import.html",
            communes=communes,
            chosen=chosen,
            year=year,
            error=error,
            max_mb=current_app.config["HOUSEHOLD_IMPORT_MAX_BYTES"] // 1_000_000,
            max_rows=vi_number(int(current_app.config["HOUSEHOLD_IMPORT_MAX_ROWS"])),
            statuses=imports.status_labels_vi(),
        ),
        status,
    )


@bp.get("")
@staff_page(*STAFF_ROLES)
def index():
    communes = imports.import_communes(current_user)
    code = request.args.get("commune", "").strip()[:50]
    chosen = _chosen(communes, code)
    if code and chosen is None:
        raise AppError("commune.not_found", 404, "Không tìm thấy xã.", "Commune not found.")
    year = request.args.get("year", "").strip()[:4] or str(_default_year())
    return _form_page(communes, chosen, year)


@bp.post("")
@staff_page(*STAFF_ROLES)
def upload():
    code = request.form.get("commune", "").strip()[:50]
    if not code and current_user.commune is not None:
        code = current_user.commune.code
    # Who may import into this commune is settled before anything of the file is read.
    commune = imports.commune_for_import(current_user, code)
    communes = imports.import_communes(current_user)
    year_text = request.form.get("year", "").strip()[:10]
    upload_file = request.files.get("file")
    try:
        year = imports.check_year(year_text)
        if upload_file is None or not upload_file.filename:
            raise AppError(
                "households.import_no_file",
                400,
                "Hãy chọn tệp danh sách hộ (.xlsx hoặc .csv).",
                "Choose the household list file (.xlsx or .csv).",
            )
        limit = int(current_app.config["HOUSEHOLD_IMPORT_MAX_BYTES"])
        content = upload_file.stream.read(limit + 1)
        if len(content) > limit:
            raise imports.too_large(limit)
        with write_transaction(db.session):
            stored = imports.upload(current_user, commune, year, upload_file.filename, content)
            token = stored.token
    except AppError as error:
        if error.status >= 500 or error.status in (403, 404):
            raise
        message = localized(error.message_vi, error.message_en)
        return _form_page(communes, commune, year_text, message, error.status)
    return redirect(url_for(".preview", token=token))


def _template_commune():
    communes = imports.import_communes(current_user)
    code = request.args.get("commune", "").strip()[:50]
    chosen = _chosen(communes, code)
    if chosen is None:
        if code or not communes:
            raise AppError("commune.not_found", 404, "Không tìm thấy xã.", "Commune not found.")
        raise AppError(
            "households.import_choose_commune",
            400,
            "Hãy chọn xã trước khi tải tệp mẫu.",
            "Choose the commune before downloading the template.",
        )
    return chosen


def _download(body: bytes, mimetype: str, name: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/mau.xlsx")
@staff_page(*STAFF_ROLES)
def template_xlsx():
    commune = _template_commune()
    return _download(
        imports.template_xlsx(commune), imports.XLSX_TYPE, f"mau-danh-sach-ho-{commune.code}.xlsx"
    )


@bp.get("/mau.csv")
@staff_page(*STAFF_ROLES)
def template_csv():
    commune = _template_commune()
    return _download(
        imports.template_csv(commune), "text/csv", f"mau-danh-sach-ho-{commune.code}.csv"
    )


@bp.get("/<token>")
@staff_page(*STAFF_ROLES)
def preview(token: str):
    found = imports.preview(current_user, token)
    stored, plan = found.stored, found.plan
    counts = dict(plan.counts)
    if stored.result:  # confirmed: what the confirmation did (the registry now matches)
        counts = {
            imports.NEW: stored.result["created"],
            imports.UPDATED: stored.result["updated"],
            imports.UNCHANGED: stored.result["unchanged"],
        }
    changed = [p for p in plan.rows if p.outcome != imports.UNCHANGED]
    unchanged = [p for p in plan.rows if p.outcome == imports.UNCHANGED][:PREVIEW_ROWS]
    # The registry's households the preview compares the file with: a look at them.
    record_access(
        "list",
        [
            Seen(None, p.row.code, stored.commune_id)
            for p in [*changed[:PREVIEW_ROWS], *unchanged]
            if p.outcome != imports.NEW
        ],
        ref=f"import:{stored.id}",
    )
    return render_template(
        "households/import_preview.html",
        stored=stored,
        plan=plan,
        counts=counts,
        errors=found.errors[:PREVIEW_ERRORS],
        error_count=len(found.errors),
        error_rows=found.error_rows,
        shown=changed[:PREVIEW_ROWS],
        changed_count=len(changed),
        unchanged=unchanged,
        statuses=STATUS_LABELS,
        sources=SOURCE_LABELS,
        expires=local_time(stored.expires_at),
        committed=local_time(stored.committed_at) if stored.committed_at else None,
        localized=localized,
        columns=COLUMN_LABELS,
    )


@bp.post("/<token>/xac-nhan")
@staff_page(*STAFF_ROLES)
def commit(token: str):
    with write_transaction(db.session):
        counts = imports.commit(current_user, token)
        stored = imports.pending_import(current_user, token)
        commune, year = stored.commune.code, stored.year
    flash(
        _(
            "Đã nhập danh sách hộ: %(created)d hộ mới, %(updated)d hộ cập nhật, "
            "%(unchanged)d hộ không đổi.",
            **counts,
        ),
        "info",
    )
    return redirect(url_for("workspace.index", commune=commune, year=year + 1))
