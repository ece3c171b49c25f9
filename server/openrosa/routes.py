"""OpenRosa endpoints.

The blueprint is registered twice: at the server root, authenticated with HTTP Digest (Basic
over https), and under ``/key/<token>``, authenticated by a device token in the URL so that a
QR code alone configures a phone (ODK Central's app-user model).  Every URL the server emits
keeps the prefix and host the phone used, or the configured external URL.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from server.accounts.httpauth import AuthStatus, authenticate, challenge_headers
from server.accounts.services import user_for_token
from server.blobs import blob_store
from server.db import write_transaction
from server.errors import AppError
from server.extensions import db
from server.filetypes import SNIFF_BYTES, inert, served_type
from server.i18n import vi_number
from server.openrosa import responses
from server.questionnaires.media import media_bytes
from server.questionnaires.models import FormAttachment, FormVersion
from server.questionnaires.services import (
    draft_for_test_token,
    forms_for_download,
    version_for_download,
)
from server.scoring.services import enqueue as enqueue_scoring
from server.scoring.services import is_scored_form, pending_job_ids, process_jobs
from server.submissions.services import (
    IncomingFile,
    IngestOutcome,
    ingest_draft_submission,
    prepare_submission,
    store_submission,
)

bp = Blueprint("openrosa", __name__)

XML_PART = "xml_submission_file"


# --- authentication and protocol checks ---------------------------------------------------


@bp.url_value_preprocessor
def _pop_token(_endpoint, values):
    g.device_token = values.pop("token", None) if values else None
    g.test_token = values.pop("test_token", None) if values else None
    g.draft = None


@bp.before_request
def _authenticate():
    if g.test_token is not None:
        # A draft's test URL: whoever holds it may try the draft (ODK Central does the same).
        draft = draft_for_test_token(g.test_token)
        if draft is None:
            return responses.message_response(
                "Đường dẫn thử biểu mẫu nháp không còn hiệu lực (bản nháp đã được xuất bản hoặc "
                "thay thế). (The draft test link is no longer valid.)",
                403,
                nature="error",
            )
        g.draft = draft
        g.actor = draft.uploaded_by
    elif g.device_token is not None:
        user = user_for_token(g.device_token)
        if user is None:
            # 403, not 401: a 401 would make Collect ask for a password the token user lacks.
            return responses.message_response(
                "Mã truy cập của thiết bị không hợp lệ hoặc đã bị thu hồi; hãy quét lại mã QR. "
                "(The device token is invalid or revoked.)",
                403,
                nature="error",
            )
        g.actor = user
    else:
        result = authenticate(request)
        if result.status == AuthStatus.LOCKED:
            # No challenge: Collect shows the message instead of asking for the password again.
            minutes = max(1, -(-result.retry_after() // 60))
            response = responses.message_response(
                f"Đăng nhập sai quá nhiều lần nên tài khoản tạm thời bị khoá; hãy thử lại sau "
                f"{minutes} phút hoặc liên hệ cán bộ xã. (Too many failed logins: try again in "
                f"{minutes} min.)",
                429,
                nature="error",
            )
            response.headers["Retry-After"] = str(result.retry_after())
            return response
        if result.status != AuthStatus.OK:
            response = responses.message_response(
                "Cần đăng nhập: hãy nhập tên đăng nhập và mật khẩu rà soát viên. "
                "(Authentication required.)",
                401,
                nature="error",
            )
            for name, value in challenge_headers(request, stale=result.status == AuthStatus.STALE):
                response.headers.add(name, value)
            return response
        g.actor = result.user
    if (request.endpoint or "").rsplit(".", 1)[-1] in ("submission", "submission_probe"):
        if request.headers.get("X-OpenRosa-Version") != "1.0":
            return responses.message_response(
                "Thiếu tiêu đề X-OpenRosa-Version: 1.0; hãy gửi phiếu bằng ODK Collect. "
                "(Missing X-OpenRosa-Version: 1.0 header.)",
                400,
                nature="error",
            )
    return None


@bp.after_request
def _protocol_headers(response: Response) -> Response:
    return responses.add_protocol_headers(response)


@bp.errorhandler(AppError)
def _app_error(error: AppError):
    return responses.error_response(error)


@bp.errorhandler(Exception)
def _unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return responses.message_response(
            f"{error.name} ({error.code})", error.code or 500, nature="error"
        )
    current_app.logger.exception("OpenRosa request failed")
    return responses.message_response(
        "Máy chủ gặp lỗi, phiếu CHƯA được lưu; ODK Collect sẽ gửi lại sau. "
        "(Server error: the submission was not saved; Collect will retry.)",
        500,
        nature="error",
    )


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error):
    limit = current_app.config["OPENROSA_ACCEPT_CONTENT_LENGTH"]
    return responses.message_response(
        f"Phiếu gửi lên quá lớn (tối đa {vi_number(limit)} byte mỗi lần gửi); "
        "hãy giảm kích thước ảnh. "
        f"(The upload is too large: at most {limit:,} bytes per request.)",
        413,
        nature="error",
    )


# --- URLs ------------------------------------------------------------------------------------


def _base_url() -> str:
    """Where the phone reached us, keeping any ``/key/<token>`` prefix."""
    external = current_app.config["EXTERNAL_URL"].rstrip("/")
    base = external or (request.host_url.rstrip("/") + request.script_root)
    if g.device_token is not None:
        base += f"/key/{quote(g.device_token, safe='')}"
    elif g.test_token is not None:
        base += f"/test/{quote(g.test_token, safe='')}"
    return base


def _version_url(version: FormVersion, suffix: str) -> str:
    return (
        f"{_base_url()}/forms/{quote(version.form.xml_form_id, safe='')}"
        f"/versions/{quote(version.version, safe='')}{suffix}"
    )


def _version_or_404(xml_form_id: str, version: str) -> FormVersion:
    if g.draft is not None:
        matches = g.draft.form.xml_form_id == xml_form_id and g.draft.version == version
        found = g.draft if matches else None
    else:
        found = version_for_download(g.actor, xml_form_id, version)
    if found is None:
        raise AppError(
            "form.not_found",
            404,
            f"Không tìm thấy biểu mẫu '{xml_form_id}' phiên bản '{version}'.",
            f"Form '{xml_form_id}' version '{version}' was not found.",
        )
    return found


# --- routes ------------------------------------------------------------------------------------


@bp.get("/formList")
def form_list():
    """The forms this device may fill (only ``?formID=`` is honoured; ``deviceID`` is ignored)."""
    entries = [
        responses.FormListEntry(
            xml_form_id=v.form.xml_form_id,
            name=v.title,
            version=v.version,
            md5=v.xform_md5,
            download_url=_version_url(v, ".xml"),
            manifest_url=_version_url(v, "/manifest") if v.attachments else None,
        )
        for v in _listed_versions()
    ]
    response = responses.xml_response(responses.form_list(entries), etag=True)
    return response.make_conditional(request)


def _listed_versions() -> list[FormVersion]:
    wanted = request.args.get("formID")
    if g.draft is not None:
        return [g.draft] if wanted in (None, g.draft.form.xml_form_id) else []
    return forms_for_download(g.actor, wanted)


@bp.get("/forms/<xml_form_id>/versions/<version>.xml")
def form_xml(xml_form_id: str, version: str):
    found = _version_or_404(xml_form_id, version)
    response = Response(found.xform, content_type=responses.XML_CONTENT_TYPE)
    response.set_etag(found.xform_md5)
    return response.make_conditional(request)


@bp.get("/forms/<xml_form_id>/versions/<version>/manifest")
def form_manifest(xml_form_id: str, version: str):
    found = _version_or_404(xml_form_id, version)
    return _manifest_response(
        found, lambda a: _version_url(found, _attachment_path(a)), draft=g.draft is not None
    )


@bp.get("/forms/<xml_form_id>/versions/<version>/attachments/<name>")
def form_attachment(xml_form_id: str, version: str, name: str):
    return _attachment_response(
        _version_or_404(xml_form_id, version), name, draft=g.draft is not None
    )


def _attachment_path(attachment: FormAttachment) -> str:
    return f"/attachments/{quote(attachment.name, safe='')}"


def _manifest_response(version: FormVersion, url_for_attachment, *, draft: bool = False):
    entries = []
    for attachment in version.attachments:
        content = media_bytes(attachment, g.actor, draft=draft)
        if content is None:  # not uploaded yet: left out, as Central does
            continue
        entries.append(
            responses.MediaEntry(
                filename=attachment.name,
                md5=hashlib.md5(content, usedforsecurity=False).hexdigest(),
                download_url=url_for_attachment(attachment),
            )
        )
    response = responses.xml_response(responses.manifest(entries), etag=True)
    return response.make_conditional(request)


def _attachment_response(version: FormVersion, name: str, *, draft: bool = False):
    attachment = next((a for a in version.attachments if a.name == name), None)
    content = media_bytes(attachment, g.actor, draft=draft) if attachment else None
    if content is None:
        raise AppError(
            "form.attachment_not_found",
            404,
            f"Biểu mẫu không có tệp đính kèm '{name}'.",
            f"The form has no attachment '{name}'.",
        )
    # Typed by its content, always a download, never run by a browser (server.filetypes);
    # Collect saves the bytes under the manifest's file name whatever the type.
    response = Response(content, mimetype=served_type(content[:SNIFF_BYTES], attachment.name))
    response.set_etag(hashlib.md5(content, usedforsecurity=False).hexdigest())
    response.headers["Content-Disposition"] = (
        f"attachment; filename*=UTF-8''{quote(attachment.name, safe='')}"
    )
    return inert(response).make_conditional(request)


@bp.route("/submission", methods=["HEAD", "GET"])
def submission_probe():
    """Collect sends HEAD first and needs 204 plus the size limit header (never 200)."""
    return Response(status=204)


@bp.post("/submission")
def submission():
    files = request.files
    xml_file = files.get(XML_PART)
    xml = xml_file.read() if xml_file is not None else request.form.get(XML_PART, "").encode()
    if not xml:
        raise AppError(
            "submission.no_xml",
            400,
            f"Yêu cầu thiếu phần '{XML_PART}' chứa phiếu.",
            f"Required multipart field {XML_PART} is missing.",
        )
    incoming = [
        IncomingFile(name=f.filename or key, data=f.read(), content_type=f.mimetype or None)
        for key, f in files.items(multi=True)
        if key != XML_PART
    ]
    if g.draft is not None:
        with write_transaction(db.session):
            outcome = ingest_draft_submission(
                g.draft,
                xml,
                incoming,
                blobs=blob_store(),
                **_xml_limits(),
            )
        status = 202 if outcome == IngestOutcome.DUPLICATE else 201
        return responses.message_response(
            "Đã nhận phiếu thử cho bản nháp (sẽ bị xoá khi xuất bản). "
            "(Test submission received for the draft.)",
            status,
            nature="submit_success",
        )
    # Checks and file storage first, outside the write transaction, so that SQLite's single
    # write lock covers only the statements that write (scripts/bench/README.md).
    prepared = prepare_submission(
        xml,
        incoming,
        submitter=g.actor,
        blobs=blob_store(),
        **_xml_limits(),
    )
    with write_transaction(db.session):
        result = store_submission(
            prepared,
            device_id=request.args.get("deviceID"),
            user_agent=request.headers.get("User-Agent"),
        )
        text = _receipt(result.outcome, result.version.instance_name, result.missing)
        version_id = result.version.id
        to_score = result.outcome in (IngestOutcome.CREATED, IngestOutcome.EDITED) and (
            is_scored_form(prepared.xml_form_id)
        )
        if to_score:
            enqueue_scoring(result.version)
    status = 202 if result.outcome == IngestOutcome.DUPLICATE else 201
    response = responses.message_response(text, status, nature="submit_success")
    if to_score:
        # Scoring runs once the phone has its answer; a failure leaves the job for a retry
        # (flask scoring run) and never affects the stored submission.
        app = current_app._get_current_object()
        response.call_on_close(lambda: _score_after_response(app, version_id))
    return response


def _xml_limits() -> dict[str, int]:
    """The bounds on one submission's XML (size, elements, depth; server/config.py)."""
    config = current_app.config
    return {
        "max_xml_bytes": config["MAX_SUBMISSION_XML_BYTES"],
        "max_elements": config["MAX_SUBMISSION_ELEMENTS"],
        "max_depth": config["MAX_SUBMISSION_DEPTH"],
    }


def _score_after_response(app, version_id: int) -> None:
    with app.app_context():
        try:
            process_jobs(pending_job_ids(version_id=version_id))
        except Exception:  # the job stays pending; `flask scoring run` picks it up
            app.logger.exception("scoring after ingest failed")
        finally:
            db.session.remove()


def _receipt(outcome: IngestOutcome, name: str | None, missing: list[str]) -> str:
    label = f" «{name}»" if name else ""
    if outcome == IngestOutcome.DUPLICATE:
        text = f"Phiếu{label} đã được nhận trước đó. (Already received.)"
    elif outcome == IngestOutcome.EDITED:
        text = f"Đã nhận bản sửa của phiếu{label}. (Edit received.)"
    else:
        text = f"Đã nhận phiếu{label}. (Submission received.)"
    if missing:
        text += (
            f" Còn thiếu {len(missing)} tệp: {', '.join(missing)}. "
            f"({len(missing)} file(s) still missing.)"
        )
    return text
