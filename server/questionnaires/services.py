"""The life of a questionnaire: upload as a draft, test, publish, open/close, retire old
versions; and which forms a reviewer may see and fill.  Services flush; the caller commits.

Rules (ODK Central is the reference, ``../shared/openrosa/protocol.md`` §2.6):

* every version has a version string; a new upload must carry a version never published for the
  form, and an unchanged version with changed content is refused;
* a field may not change its type from one version to the next;
* older published versions keep accepting submissions until an administrator retires them;
* a form is open (listed, accepting), closing (not listed, accepting) or closed.
"""

from __future__ import annotations

import hashlib
import mimetypes
import secrets
from dataclasses import asdict, dataclass

from lxml import etree
from sqlalchemy import delete, select

from server.accounts.models import Role, User
from server.accounts.ownership import may_see, owner_for_new, require_manage, visible
from server.audit.services import record
from server.blobs import BlobStore
from server.db import utcnow
from server.errors import AppError
from server.extensions import db
from server.geography.models import Commune
from server.i18n import vietnam_now
from server.questionnaires.compiler import compile_xlsform
from server.questionnaires.models import (
    DraftSubmission,
    Form,
    FormAssignment,
    FormAttachment,
    FormState,
    FormVersion,
    VersionState,
)
from server.questionnaires.problems import FormProblem
from server.questionnaires.xform import XFormInfo, inspect_xform

# Media the server generates for each reviewer (see ``xlsforms/README.md``).
DYNAMIC_MEDIA = {
    "households.csv": "households",
    "villages.csv": "villages",
    "privacy_notice.csv": "privacy_notice",
}


@dataclass(frozen=True, slots=True)
class Upload:
    version: FormVersion
    test_token: str
    problems: tuple[FormProblem, ...]  # warnings, explained


def upload_xlsform(
    xlsx: bytes,
    *,
    blobs: BlobStore,
    uploaded_by: User | None,
    media: dict[str, bytes] | None = None,
    validate: bool = True,
) -> Upload:
    """Compile, validate and keep an XLSForm as the form's draft (replacing an older draft).

    :raises AppError: ``form.compile_error`` with located problems, and the rules of
        :func:`create_version`.
    """
    compiled = compile_xlsform(xlsx, file_type=".xlsx", validate=validate)
    xform = _ensure_version(compiled.xform)
    token = secrets.token_urlsafe(32)
    version = create_version(
        xform,
        blobs=blobs,
        media=media,
        xlsx=xlsx,
        state=VersionState.DRAFT,
        uploaded_by=uploaded_by,
        test_token=token,
        warnings=[p.as_dict()["message"] for p in compiled.problems],
    )
    return Upload(version, token, compiled.problems)


def _ensure_version(xform: bytes) -> bytes:
    """Give a form without a version one (pyxform never invents one): the upload time (in
    Vietnam, as people read it)."""
    root = etree.fromstring(xform)
    ns = {"xf": "http://www.w3.org/2002/xforms", "h": "http://www.w3.org/1999/xhtml"}
    instance = root.find("h:head/xf:model/xf:instance", ns)
    data_root = (
        next(iter(instance.iterchildren(etree.Element)), None) if instance is not None else None
    )
    if data_root is None or data_root.get("version"):
        return xform
    data_root.set("version", vietnam_now().strftime("%Y%m%d%H%M%S"))
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def create_version(
    xform: bytes,
    *,
    blobs: BlobStore,
    media: dict[str, bytes] | None = None,
    xlsx: bytes | None = None,
    state: VersionState = VersionState.PUBLISHED,
    uploaded_by: User | None = None,
    test_token: str | None = None,
    warnings: list[str] | None = None,
) -> FormVersion:
    """Store an XForm as a new version of its form (creating the form if new).

    Media files the XForm references are stored; a reference without a file is kept as an
    expected-but-missing attachment and left out of the manifest until uploaded.

    :raises AppError: ``form.invalid_xform``; ``form.unexpected_media``;
        ``form.already_published`` (409, same version and same content);
        ``form.version_exists`` (409, same version, different content);
        ``form.type_changed`` (409, a field changed type).
    """
    info = inspect_xform(xform)
    media = dict(media or {})
    unexpected = sorted(set(media) - set(info.media))
    if unexpected:
        raise AppError(
            "form.unexpected_media",
            400,
            f"Biểu mẫu không dùng các tệp: {', '.join(unexpected)}.",
            f"The form does not reference: {', '.join(unexpected)}.",
        )
    form = get_form(info.xml_form_id)
    replaced_draft = previous = previous_title = None
    if form is None:
        form = Form(
            xml_form_id=info.xml_form_id,
            title=info.title,
            state=FormState.OPEN,
            province_id=owner_for_new(uploaded_by),
        )
        db.session.add(form)
        db.session.flush()
    else:
        _check_owner_of_upload(form, uploaded_by)
        _check_against_published(form, info, xform)
        previous_title = form.title
        previous = form.current_version.version if form.current_version else None
        if state == VersionState.DRAFT:
            old_draft = draft_of(form)
            replaced_draft = old_draft.version if old_draft else None
            _delete_draft(form)
    version = FormVersion(
        form=form,
        version=info.version,
        title=info.title,
        root_name=info.root_name,
        xform=xform,
        xform_md5=hashlib.md5(xform, usedforsecurity=False).hexdigest(),
        xform_sha256=hashlib.sha256(xform).hexdigest(),
        xlsx=xlsx,
        fields=[asdict(f) for f in info.fields],
        repeats=list(info.repeats),
        state=state,
        published_at=utcnow() if state == VersionState.PUBLISHED else None,
        uploaded_by_id=uploaded_by.id if uploaded_by else None,
        test_token=test_token,
        warnings=list(warnings or []),
    )
    db.session.add(version)
    for name in info.media:
        attachment = FormAttachment(
            form_version=version,
            name=name,
            content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
            dynamic=DYNAMIC_MEDIA.get(name),
        )
        if name in media:
            stored = blobs.put(media[name])
            attachment.blob_sha256, attachment.md5, attachment.size = (
                stored.sha256,
                stored.md5,
                stored.size,
            )
        db.session.add(attachment)
    db.session.flush()
    actor_id = uploaded_by.id if uploaded_by else None
    if state == VersionState.PUBLISHED:
        form.title = info.title
        form.current_version = version
        db.session.flush()
        record(
            "form.publish",
            "form",
            form.xml_form_id,
            before={"current_version": previous, "title": previous_title},
            after={"current_version": version.version, "title": info.title},
            actor_id=actor_id,
            province_id=form.province_id,
        )
    else:
        record(
            "form.draft_upload",
            "form",
            form.xml_form_id,
            before={"draft_version": replaced_draft},
            after={"draft_version": version.version},
            note="; ".join(version.warnings) or None,
            actor_id=actor_id,
            province_id=form.province_id,
        )
    return version


def _check_owner_of_upload(form: Form, uploaded_by: User | None) -> None:
    """A new version of an existing form only from its owner; a form ID another province owns
    is taken (form IDs are unique on the server: a submission names only its form ID)."""
    if not may_see(uploaded_by, form.province_id):
        raise AppError(
            "form.id_taken",
            409,
            f"Mã biểu mẫu (form_id) '{form.xml_form_id}' đã được dùng trên máy chủ này. Hãy đặt "
            "form_id khác trong sheet settings.",
            f"The form ID '{form.xml_form_id}' is already used on this server; choose another "
            "form_id in the settings sheet.",
        )
    require_manage(uploaded_by, form.province_id, *_what(form))


def _what(form: Form) -> tuple[str, str]:
    return f"biểu mẫu '{form.xml_form_id}'", f"form '{form.xml_form_id}'"


def publish_form_version(
    xform: bytes,
    *,
    blobs: BlobStore,
    media: dict[str, bytes] | None = None,
    xlsx: bytes | None = None,
) -> FormVersion:
    """Store an XForm and publish it at once (shipped forms, tests)."""
    return create_version(xform, blobs=blobs, media=media, xlsx=xlsx)


def _check_against_published(form: Form, info: XFormInfo, xform: bytes) -> None:
    published = [v for v in form.versions if v.state == VersionState.PUBLISHED]
    same = next((v for v in published if v.version == info.version), None)
    if same is not None:
        if same.xform_sha256 == hashlib.sha256(xform).hexdigest():
            raise AppError(
                "form.already_published",
                409,
                f"Phiên bản {info.version} của biểu mẫu {info.xml_form_id} đã được xuất bản.",
                f"Version {info.version} of {info.xml_form_id} is already published.",
            )
        raise AppError(
            "form.version_exists",
            409,
            f"Biểu mẫu {info.xml_form_id} đã có phiên bản {info.version} với nội dung khác. "
            "Nội dung thay đổi thì phải đổi 'version' trong sheet settings "
            "(ví dụ ngày sửa: 2026112401).",
            f"Form {info.xml_form_id} already has a version {info.version} with other content; "
            "change the version in the settings sheet.",
        )
    changed = []
    new_types = {f.path: f.type for f in info.fields}
    for version in published:
        for field in version.fields:
            new_type = new_types.get(field["path"])
            if new_type is not None and new_type != field["type"]:
                changed.append((field["path"], field["type"], new_type, version.version))
    if changed:
        unique = sorted({(p, o, n) for p, o, n, _ in changed})
        raise AppError(
            "form.type_changed",
            409,
            "Không được đổi kiểu dữ liệu của trường đã có ở phiên bản trước: "
            + "; ".join(f"{p}: {o} → {n}" for p, o, n in unique)
            + ". Hãy đặt tên mới cho trường nếu cần đổi kiểu.",
            "A field may not change type between versions: "
            + "; ".join(f"{p}: {o} -> {n}" for p, o, n in unique),
            {"fields": [{"path": p, "was": o, "now": n} for p, o, n in unique]},
        )


def draft_of(form: Form) -> FormVersion | None:
    return next((v for v in form.versions if v.state == VersionState.DRAFT), None)


def discard_draft(form: Form, *, actor: User | None) -> None:
    """Delete the form's draft and its test submissions."""
    require_manage(actor, form.province_id, *_what(form))
    draft = draft_of(form)
    if draft is None:
        return
    record(
        "form.draft_discard",
        "form",
        form.xml_form_id,
        before={"draft_version": draft.version},
        after={"draft_version": None},
        province_id=form.province_id,
    )
    _delete_draft(form)


def _delete_draft(form: Form) -> None:
    draft = draft_of(form)
    if draft is None:
        return
    db.session.execute(delete(DraftSubmission).where(DraftSubmission.form_version_id == draft.id))
    db.session.execute(delete(FormAttachment).where(FormAttachment.form_version_id == draft.id))
    form.versions.remove(draft)
    db.session.delete(draft)
    db.session.flush()


def publish_draft(form: Form, *, actor: User | None) -> FormVersion:
    """Make the draft the form's current version; its test submissions are deleted.

    :raises AppError: ``form.no_draft`` (404), and the version rules (another upload may have
        been published since the draft was made).
    """
    require_manage(actor, form.province_id, *_what(form))
    draft = draft_of(form)
    if draft is None:
        raise AppError(
            "form.no_draft", 404, "Biểu mẫu không có bản nháp để xuất bản.", "No draft to publish."
        )
    info = inspect_xform(draft.xform)
    _check_against_published(form, info, draft.xform)
    before = {
        "current_version": form.current_version.version if form.current_version else None,
        "title": form.title,
        "draft_version": draft.version,
    }
    db.session.execute(delete(DraftSubmission).where(DraftSubmission.form_version_id == draft.id))
    draft.state = VersionState.PUBLISHED
    draft.published_at = utcnow()
    draft.test_token = None
    form.title = draft.title
    form.current_version = draft
    db.session.flush()
    record(
        "form.publish",
        "form",
        form.xml_form_id,
        before=before,
        after={"current_version": draft.version, "title": draft.title, "draft_version": None},
        province_id=form.province_id,
    )
    return draft


def set_version_accepting(version: FormVersion, accepting: bool, *, actor: User | None) -> None:
    """Stop (or resume) accepting submissions made with an old version."""
    require_manage(actor, version.form.province_id, *_what(version.form))
    before = version.accepting_submissions
    version.accepting_submissions = accepting
    db.session.flush()
    if before != accepting:
        record(
            "form.version_accepting",
            "form_version",
            f"{version.form.xml_form_id}/{version.version}",
            before={"accepting_submissions": before},
            after={"accepting_submissions": accepting},
            province_id=version.form.province_id,
        )


def set_form_state(form: Form, state: FormState, *, actor: User | None) -> None:
    require_manage(actor, form.province_id, *_what(form))
    before = form.state
    form.state = state
    db.session.flush()
    if before != state:
        record(
            "form.state",
            "form",
            form.xml_form_id,
            before={"state": before},
            after={"state": state},
            province_id=form.province_id,
        )


def assign_form(form: Form, commune: Commune, *, actor: User | None) -> None:
    """Let the reviewers of ``commune`` download and fill ``form`` (idempotent).

    A province administrator assigns national forms and their province's own to their
    province's communes; a national administrator national forms to any commune.

    :raises AppError: ``ownership.not_found`` (404) for a form or commune out of reach.
    """
    if not may_see(actor, form.province_id):
        raise AppError("form.not_found", 404, *_not_found(form.xml_form_id))
    reachable = actor is None or (
        (actor.role == Role.NATIONAL and form.province_id is None)
        or (actor.role == Role.ADMIN and commune.province_id == actor.province_id)
    )
    if not reachable or form.province_id not in (None, commune.province_id):
        raise AppError(
            "commune.not_found",
            404,
            f"Không có xã '{commune.code}' trong tỉnh của tài khoản.",
            "No such commune in your province.",
        )
    if db.session.get(FormAssignment, (form.id, commune.id)) is None:
        db.session.add(FormAssignment(form_id=form.id, commune_id=commune.id))
        db.session.flush()
        record(
            "form.assign",
            "form",
            form.xml_form_id,
            commune_id=commune.id,
            after={"commune": commune.code},
        )


def get_form(xml_form_id: str) -> Form | None:
    """Any form by its ID, whoever owns it (for phones: what they may fill is decided by the
    assignments, :func:`can_fill`)."""
    return db.session.scalar(select(Form).where(Form.xml_form_id == xml_form_id))


def forms_seen_by(actor: User) -> list[Form]:
    """The forms an administrator sees: national ones and their province's (all: national)."""
    return list(
        db.session.scalars(
            select(Form).where(visible(Form.province_id, actor)).order_by(Form.xml_form_id)
        )
    )


def form_for(actor: User, xml_form_id: str) -> Form:
    """A form ``actor`` may see; another province's form is answered as not found.

    :raises AppError: ``form.not_found`` (404).
    """
    form = get_form(xml_form_id)
    if form is None or not may_see(actor, form.province_id):
        raise AppError("form.not_found", 404, *_not_found(xml_form_id))
    return form


def _not_found(xml_form_id: str) -> tuple[str, str]:
    return f"Không có biểu mẫu '{xml_form_id}'.", f"No form '{xml_form_id}'."


def draft_for_test_token(token: str) -> FormVersion | None:
    if len(token) > 100:
        return None
    return db.session.scalar(
        select(FormVersion).where(
            FormVersion.test_token == token, FormVersion.state == VersionState.DRAFT
        )
    )


def _assigned_to(user: User):
    """Condition restricting forms to those assigned to the user's commune.

    Reviewers and commune officers fill the forms of their commune; a province administrator
    belongs to no commune and fills none (submissions must be stamped with a commune).
    """
    return Form.id.in_(
        select(FormAssignment.form_id).where(FormAssignment.commune_id == user.commune_id)
    )


def forms_for_download(user: User, xml_form_id: str | None = None) -> list[FormVersion]:
    """Current versions of the open forms ``user`` may fill (what the form list shows)."""
    query = (
        select(FormVersion)
        .join(Form, Form.current_version_id == FormVersion.id)
        .where(Form.state == FormState.OPEN, _assigned_to(user))
        .order_by(Form.xml_form_id)
    )
    if xml_form_id is not None:
        query = query.where(Form.xml_form_id == xml_form_id)
    return list(db.session.scalars(query))


def can_fill(user: User, form: Form) -> bool:
    return (
        user.commune_id is not None
        and db.session.get(FormAssignment, (form.id, user.commune_id)) is not None
    )


def published_version(form: Form, version: str) -> FormVersion | None:
    return db.session.scalar(
        select(FormVersion).where(
            FormVersion.form_id == form.id,
            FormVersion.version == version,
            FormVersion.state == VersionState.PUBLISHED,
        )
    )


def version_for_download(user: User, xml_form_id: str, version: str) -> FormVersion | None:
    """A published version ``user`` may download (any version, so old links keep working)."""
    form = get_form(xml_form_id)
    if form is None or form.state == FormState.CLOSED or not can_fill(user, form):
        return None
    return published_version(form, version)
