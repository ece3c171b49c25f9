"""Forms, their published versions, media attachments and commune assignments.

The XForm bytes of a version are stored verbatim: Collect compares the MD5 in the form list with
the MD5 of what it downloads, so the served document must never be re-serialised.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from server.accounts.models import User
from server.db import Base, str_enum, utcnow


class FormState(enum.StrEnum):
    OPEN = "open"  # listed for download, accepts submissions
    CLOSING = "closing"  # not listed, still accepts submissions
    CLOSED = "closed"  # not listed, refuses submissions


class VersionState(enum.StrEnum):
    DRAFT = "draft"  # uploaded, testable through its own test URL, not offered to phones
    PUBLISHED = "published"


class Form(Base):
    __tablename__ = "forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    xml_form_id: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    # The province that owns the form (None: national, e.g. the shipped questionnaires); only
    # its administrators change it (:mod:`server.accounts.ownership`).  The form ID stays unique
    # across provinces: a phone's submission names only the form ID.
    province_id: Mapped[int | None] = mapped_column(ForeignKey("provinces.id"), index=True)
    state: Mapped[FormState] = mapped_column(str_enum(FormState, 10), default=FormState.OPEN)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("form_versions.id", use_alter=True)
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    current_version: Mapped[FormVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )
    versions: Mapped[list[FormVersion]] = relationship(
        back_populates="form", foreign_keys="FormVersion.form_id", order_by="FormVersion.id"
    )


class FormVersion(Base):
    __tablename__ = "form_versions"
    __table_args__ = (UniqueConstraint("form_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)
    version: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(500))
    # Name of the primary instance's root element (``data`` unless the XLSForm names it).
    root_name: Mapped[str] = mapped_column(String(200))
    xform: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    xform_md5: Mapped[str] = mapped_column(String(32))
    xform_sha256: Mapped[str] = mapped_column(String(64))
    # Source workbook when the version was compiled from an XLSForm.
    xlsx: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    # [{"path": "/data/members/age", "type": "int"}, …] for every leaf of the primary instance.
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # Paths of repeat groups, e.g. ["/data/members"].
    repeats: Mapped[list[str]] = mapped_column(JSON)
    state: Mapped[VersionState] = mapped_column(
        str_enum(VersionState, 10), default=VersionState.PUBLISHED
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The draft's test token (``/test/<token>/…``, like ODK Central's draft URL): it gives
    # access to this draft only and is cleared when the draft is published.
    test_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    # An administrator can stop accepting an old version (phones are told to update).
    accepting_submissions: Mapped[bool] = mapped_column(Boolean, default=True)

    form: Mapped[Form] = relationship(back_populates="versions", foreign_keys=[form_id])
    uploaded_by: Mapped[User | None] = relationship()
    attachments: Mapped[list[FormAttachment]] = relationship(
        back_populates="form_version", order_by="FormAttachment.name"
    )

    @property
    def binary_paths(self) -> frozenset[str]:
        return frozenset(f["path"] for f in self.fields if f["type"] == "binary")


class FormAttachment(Base):
    """A media file the form refers to (CSV list, image…).

    ``blob_sha256`` is None until the file is uploaded."""

    __tablename__ = "form_attachments"
    __table_args__ = (UniqueConstraint("form_version_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_version_id: Mapped[int] = mapped_column(ForeignKey("form_versions.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    blob_sha256: Mapped[str | None] = mapped_column(String(64))
    md5: Mapped[str | None] = mapped_column(String(32))
    size: Mapped[int | None] = mapped_column()
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    # "households" / "villages": generated per reviewer by the server (the uploaded file, if
    # any, is only a sample); None: the uploaded file is served as it is.
    dynamic: Mapped[str | None] = mapped_column(String(20))

    form_version: Mapped[FormVersion] = relationship(back_populates="attachments")


class DraftSubmission(Base):
    """A test submission sent to a draft; deleted when the draft is published or replaced."""

    __tablename__ = "draft_submissions"
    __table_args__ = (UniqueConstraint("form_version_id", "instance_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_version_id: Mapped[int] = mapped_column(
        ForeignKey("form_versions.id", ondelete="CASCADE"), index=True
    )
    instance_id: Mapped[str] = mapped_column(String(255))
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    # {file name: sha256 of the stored blob, or None while missing}
    attachments: Mapped[dict[str, str | None]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FormAssignment(Base):
    """Which communes' reviewers may download and fill a form."""

    __tablename__ = "form_assignments"

    form_id: Mapped[int] = mapped_column(
        ForeignKey("forms.id", ondelete="CASCADE"), primary_key=True
    )
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"), primary_key=True)
