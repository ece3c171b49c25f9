"""Publishing form versions and deciding which forms a reviewer may see and fill.

Services flush; the caller commits.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import asdict

from sqlalchemy import select

from server.accounts.models import User
from server.blobs import BlobStore
from server.errors import AppError
from server.extensions import db
from server.geography.models import Commune
from server.questionnaires.models import (
    Form,
    FormAssignment,
    FormAttachment,
    FormState,
    FormVersion,
)
from server.questionnaires.xform import inspect_xform


def publish_form_version(
    xform: bytes,
    *,
    blobs: BlobStore,
    media: dict[str, bytes] | None = None,
    xlsx: bytes | None = None,
) -> FormVersion:
    """Publish an XForm as the current version of its form (creating the form if new).

    Media files the XForm references are stored; references without a file are kept as
    expected-but-missing attachments and left out of the manifest until uploaded.

    :raises AppError: ``form.invalid_xform``; ``form.version_exists`` (409) when this version
        string is already published for the form; ``form.unexpected_media`` (400) for a file the
        form does not reference.
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
    form = db.session.scalar(select(Form).where(Form.xml_form_id == info.xml_form_id))
    if form is None:
        form = Form(xml_form_id=info.xml_form_id, title=info.title, state=FormState.OPEN)
        db.session.add(form)
        db.session.flush()
    elif db.session.scalar(
        select(FormVersion.id).where(
            FormVersion.form_id == form.id, FormVersion.version == info.version
        )
    ):
        raise AppError(
            "form.version_exists",
            409,
            f"Biểu mẫu {info.xml_form_id} đã có phiên bản {info.version}; "
            "hãy đổi 'version' trong sheet settings.",
            f"Form {info.xml_form_id} already has version {info.version}; change the version.",
        )
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
    )
    db.session.add(version)
    for name in info.media:
        attachment = FormAttachment(
            form_version=version,
            name=name,
            content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
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
    form.title = info.title
    form.current_version = version
    db.session.flush()
    return version


def set_form_state(form: Form, state: FormState) -> None:
    form.state = state
    db.session.flush()


def assign_form(form: Form, commune: Commune) -> None:
    """Let the reviewers of ``commune`` download and fill ``form`` (idempotent)."""
    if db.session.get(FormAssignment, (form.id, commune.id)) is None:
        db.session.add(FormAssignment(form_id=form.id, commune_id=commune.id))
        db.session.flush()


def get_form(xml_form_id: str) -> Form | None:
    return db.session.scalar(select(Form).where(Form.xml_form_id == xml_form_id))


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


def version_for_download(user: User, xml_form_id: str, version: str) -> FormVersion | None:
    """A published version ``user`` may download (any version, so old links keep working)."""
    form = get_form(xml_form_id)
    if form is None or form.state == FormState.CLOSED or not can_fill(user, form):
        return None
    return db.session.scalar(
        select(FormVersion).where(FormVersion.form_id == form.id, FormVersion.version == version)
    )
