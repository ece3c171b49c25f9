"""Administrators' JSON API over questionnaires (``/api/v1/forms``): upload an XLSForm as a
draft, publish it, open/close forms, retire old versions, assign forms to communes, and
download every version's XLSForm source and XForm.

``scripts/upload_form.py`` is the command-line client of this API.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, request
from marshmallow import Schema, ValidationError
from sqlalchemy import select

from server.accounts.httpauth import api_guard
from server.accounts.models import ADMIN_ROLES
from server.blobs import blob_store
from server.db import write_transaction
from server.errors import AppError
from server.extensions import db
from server.filetypes import inert
from server.geography.models import Commune
from server.questionnaires.models import Form, FormState, FormVersion
from server.questionnaires.schemas import (
    AssignmentIn,
    DraftOut,
    FormOut,
    FormPatch,
    VersionPatch,
)
from server.questionnaires.services import (
    assign_form,
    discard_draft,
    form_for,
    forms_seen_by,
    publish_draft,
    set_form_state,
    set_version_accepting,
    upload_xlsform,
)

bp = Blueprint("forms_api", __name__, url_prefix="/api/v1/forms")
bp.before_request(
    api_guard(*ADMIN_ROLES, forbidden_vi="Chỉ quản trị viên cấp tỉnh quản lý biểu mẫu.")
)


def _load(schema: Schema) -> dict:
    try:
        return schema.load(request.get_json(silent=True) or {})
    except ValidationError as exc:
        raise AppError(
            "request.invalid", 400, "Dữ liệu gửi lên không hợp lệ.", "Invalid body.", exc.messages
        ) from None


def _form_or_404(form_id: str) -> Form:
    return form_for(g.actor, form_id)


def _version_or_404(form: Form, version: str) -> FormVersion:
    found = next((v for v in form.versions if v.version == version), None)
    if found is None:
        raise AppError(
            "form.version_not_found",
            404,
            f"Biểu mẫu '{form.xml_form_id}' không có phiên bản '{version}'.",
            "No such version.",
        )
    return found


def _draft_test_url(token: str) -> str:
    base = current_app.config["EXTERNAL_URL"].rstrip("/") or (
        request.host_url.rstrip("/") + request.script_root
    )
    return f"{base}/test/{token}"


@bp.get("")
def list_forms():
    return jsonify(FormOut(many=True).dump(forms_seen_by(g.actor)))


@bp.post("")
def upload():
    """Multipart: ``xlsform`` (the .xlsx) and any number of ``media`` files."""
    xlsform = request.files.get("xlsform")
    if xlsform is None or not xlsform.filename:
        raise AppError(
            "form.no_file", 400, "Hãy chọn tệp XLSForm (.xlsx).", "Choose an XLSForm file."
        )
    media = {f.filename: f.read() for f in request.files.getlist("media") if f.filename}
    with write_transaction(db.session):
        result = upload_xlsform(
            xlsform.read(), blobs=blob_store(), uploaded_by=g.actor, media=media
        )
        body = DraftOut().dump(
            {
                "form_id": result.version.form.xml_form_id,
                "version": result.version.version,
                "test_url": _draft_test_url(result.test_token),
                "warnings": [p.as_dict() for p in result.problems],
            }
        )
    return jsonify(body), 201


@bp.get("/<form_id>")
def get_one(form_id: str):
    return jsonify(FormOut().dump(_form_or_404(form_id)))


@bp.post("/<form_id>/draft/publish")
def publish(form_id: str):
    with write_transaction(db.session):
        version = publish_draft(_form_or_404(form_id), actor=g.actor)
        body = {"form_id": form_id, "version": version.version}
    return jsonify(body)


@bp.delete("/<form_id>/draft")
def delete_draft(form_id: str):
    with write_transaction(db.session):
        discard_draft(_form_or_404(form_id), actor=g.actor)
    return Response(status=204)


@bp.patch("/<form_id>")
def patch_form(form_id: str):
    data = _load(FormPatch())
    with write_transaction(db.session):
        form = _form_or_404(form_id)
        set_form_state(form, FormState(data["state"]), actor=g.actor)
        body = FormOut().dump(form)
    return jsonify(body)


@bp.patch("/<form_id>/versions/<version>")
def patch_version(form_id: str, version: str):
    data = _load(VersionPatch())
    with write_transaction(db.session):
        found = _version_or_404(_form_or_404(form_id), version)
        set_version_accepting(found, data["accepting_submissions"], actor=g.actor)
    return Response(status=204)


@bp.post("/<form_id>/assignments")
def assign(form_id: str):
    data = _load(AssignmentIn())
    with write_transaction(db.session):
        form = _form_or_404(form_id)
        commune = db.session.scalar(select(Commune).where(Commune.code == data["commune"]))
        if commune is None:
            raise AppError(
                "commune.not_found",
                404,
                f"Không có xã '{data['commune']}' trong tỉnh của tài khoản.",
                "No such commune in your province.",
            )
        assign_form(form, commune, actor=g.actor)
    return Response(status=204)


@bp.get("/<form_id>/versions/<version>.xlsx")
def download_xlsx(form_id: str, version: str):
    return version_download(_form_or_404(form_id), version, "xlsx")


@bp.get("/<form_id>/versions/<version>.xml")
def download_xml(form_id: str, version: str):
    return version_download(_form_or_404(form_id), version, "xml")


def version_download(form: Form, version: str, kind: str) -> Response:
    """A version's XLSForm source (``xlsx``) or XForm (``xml``) as a file download."""
    found = _version_or_404(form, version)
    if kind == "xml":
        content, mimetype = found.xform, "text/xml; charset=utf-8"
    elif found.xlsx is None:
        raise AppError(
            "form.no_source",
            404,
            "Phiên bản này được nạp dưới dạng XForm, không có tệp XLSForm gốc.",
            "This version was uploaded as an XForm; there is no XLSForm source.",
        )
    else:
        content = found.xlsx
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{form.xml_form_id}-{found.version}.{kind}"'
    )
    return inert(response)  # an uploaded file: saved, never rendered (server.filetypes)
