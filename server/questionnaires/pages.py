"""Web pages for province administrators: upload an XLSForm, see its problems by sheet and row,
try the draft on a phone through its own QR code, publish, open/close, retire old versions,
assign to communes, and download every version's source."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select, true

from server.accounts.models import ADMIN_ROLES, Role
from server.accounts.ownership import may_manage
from server.accounts.web import staff_page
from server.blobs import blob_store
from server.db import write_transaction
from server.errors import AppError
from server.extensions import db
from server.geography.models import Commune, Province
from server.i18n import localized
from server.openrosa.qr import collect_settings, settings_qr
from server.questionnaires.models import Form, FormAssignment, FormState
from server.questionnaires.routes import version_download
from server.questionnaires.services import (
    assign_form,
    discard_draft,
    draft_of,
    form_for,
    forms_seen_by,
    publish_draft,
    set_form_state,
    set_version_accepting,
    upload_xlsform,
)

bp = Blueprint("forms_admin", __name__, url_prefix="/admin/forms")

STATE_LABELS = {
    FormState.OPEN: _l("Mở (tải về và nhận phiếu)"),
    FormState.CLOSING: _l("Sắp đóng (không cho tải, vẫn nhận phiếu)"),
    FormState.CLOSED: _l("Đóng (không nhận phiếu)"),
}


def _base_url() -> str:
    from flask import current_app

    return current_app.config["EXTERNAL_URL"].rstrip("/") or (
        request.host_url.rstrip("/") + request.script_root
    )


def _form_or_404(form_id: str) -> Form:
    try:
        return form_for(current_user, form_id)
    except AppError:
        abort(404)


@bp.get("")
@staff_page(*ADMIN_ROLES)
def index():
    forms = forms_seen_by(current_user)
    return render_template(
        "questionnaires/forms.html",
        forms=forms,
        drafts={f.id: draft_of(f) for f in forms},
        state_labels=STATE_LABELS,
    )


@bp.post("/upload")
@staff_page(*ADMIN_ROLES)
def upload():
    xlsform = request.files.get("xlsform")
    if xlsform is None or not xlsform.filename:
        flash(_("Hãy chọn tệp XLSForm (.xlsx) để tải lên."), "error")
        return index(), 400
    media = {f.filename: f.read() for f in request.files.getlist("media") if f.filename}
    try:
        with write_transaction(db.session):
            result = upload_xlsform(
                xlsform.read(), blobs=blob_store(), uploaded_by=current_user, media=media
            )
            form_id = result.version.form.xml_form_id
    except AppError as error:
        forms = forms_seen_by(current_user)
        return render_template(
            "questionnaires/forms.html",
            forms=forms,
            drafts={f.id: draft_of(f) for f in forms},
            state_labels=STATE_LABELS,
            upload_error=error,
            problems=error.details.get("problems", []),
            filename=xlsform.filename,
        ), error.status
    flash(
        _("Đã tải lên bản nháp. Hãy thử trên điện thoại bằng mã QR bên dưới rồi xuất bản."), "info"
    )
    return redirect(url_for(".detail", form_id=form_id))


@bp.get("/<form_id>")
@staff_page(*ADMIN_ROLES)
def detail(form_id: str):
    form = _form_or_404(form_id)
    draft = draft_of(form)
    test_url = qr_svg = None
    if draft is not None and draft.test_token:
        test_url = f"{_base_url()}/test/{draft.test_token}"
        label = _("[NHÁP] %(title)s", title=draft.title)
        qr = settings_qr(collect_settings(test_url, label, managed=False))
        qr_svg = qr.svg_inline(scale=4)
    # Only the actor's communes: a national form is assigned in many provinces.
    own = (
        true()
        if current_user.role == Role.NATIONAL
        else Commune.province_id == current_user.province_id
    )
    assigned = db.session.scalars(
        select(Commune)
        .join(FormAssignment, FormAssignment.commune_id == Commune.id)
        .where(FormAssignment.form_id == form.id, own)
        .order_by(Commune.code)
    ).all()
    communes = db.session.scalars(
        select(Commune)
        .where(own)
        .where(true() if form.province_id is None else Commune.province_id == form.province_id)
        .order_by(Commune.code)
    ).all()
    manages = may_manage(current_user, form.province_id)
    return render_template(
        "questionnaires/form_detail.html",
        form=form,
        draft=draft,
        test_url=test_url,
        qr_svg=qr_svg,
        published=[v for v in form.versions if v.state.value == "published"],
        state_labels=STATE_LABELS,
        assigned=assigned,
        communes=[c for c in communes if c not in assigned],
        manages=manages,
        owner_name=db.session.get(Province, form.province_id).name if form.province_id else "",
    )


def _act(form_id: str, action, done: str):
    try:
        with write_transaction(db.session):
            action(_form_or_404(form_id))
    except AppError as error:
        flash(localized(error.message_vi, error.message_en), "error")
    else:
        flash(done, "info")
    return redirect(url_for(".detail", form_id=form_id))


@bp.post("/<form_id>/publish")
@staff_page(*ADMIN_ROLES)
def publish(form_id: str):
    return _act(
        form_id,
        lambda f: publish_draft(f, actor=current_user),
        _("Đã xuất bản phiên bản mới; điện thoại sẽ được cập nhật."),
    )


@bp.post("/<form_id>/discard")
@staff_page(*ADMIN_ROLES)
def discard(form_id: str):
    return _act(
        form_id,
        lambda f: discard_draft(f, actor=current_user),
        _("Đã xoá bản nháp và các phiếu thử."),
    )


@bp.post("/<form_id>/state")
@staff_page(*ADMIN_ROLES)
def change_state(form_id: str):
    try:
        state = FormState(request.form.get("state", ""))
    except ValueError:
        abort(400)
    done = _("Trạng thái: %(state)s.", state=STATE_LABELS[state])
    return _act(form_id, lambda f: set_form_state(f, state, actor=current_user), done)


@bp.post("/<form_id>/versions/<version>/accepting")
@staff_page(*ADMIN_ROLES)
def accepting(form_id: str, version: str):
    accept = request.form.get("accepting") == "1"

    def apply(form: Form) -> None:
        found = next((v for v in form.versions if v.version == version), None)
        if found is None:
            abort(404)
        set_version_accepting(found, accept, actor=current_user)

    if accept:
        done = _("Phiên bản %(version)s: nhận phiếu trở lại.", version=version)
    else:
        done = _("Phiên bản %(version)s: ngừng nhận phiếu.", version=version)
    return _act(form_id, apply, done)


@bp.post("/<form_id>/assign")
@staff_page(*ADMIN_ROLES)
def assign(form_id: str):
    code = request.form.get("commune", "")

    def apply(form: Form) -> None:
        commune = db.session.scalar(select(Commune).where(Commune.code == code))
        if commune is None:
            abort(404)
        assign_form(form, commune, actor=current_user)

    return _act(form_id, apply, _("Đã giao biểu mẫu cho xã %(code)s.", code=code))


@bp.get("/<form_id>/versions/<version>.xlsx")
@staff_page(*ADMIN_ROLES)
def download_xlsx(form_id: str, version: str):
    return version_download(_form_or_404(form_id), version, "xlsx")


@bp.get("/<form_id>/versions/<version>.xml")
@staff_page(*ADMIN_ROLES)
def download_xml(form_id: str, version: str):
    return version_download(_form_or_404(form_id), version, "xml")
