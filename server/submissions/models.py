"""Submission storage.

``submissions`` is the narrow, indexed table staff lists filter on (one row per logical
submission, i.e. per household questionnaire, whatever its edits).  Each received XML is a
``submission_versions`` row (an edit from Collect carries ``deprecatedID`` and becomes a new
version); the XML bytes themselves sit in ``submission_xml`` so list queries never read them.
``(form_id, instance_id)`` is unique in the database: that, not application code, is what makes
concurrent retries of the same submission store it once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from server.accounts.models import User
from server.db import Base, utcnow
from server.geography.models import Commune, Village
from server.questionnaires.models import Form, FormVersion

# "resurvey": commune staff (or the village meeting) sent the household back to its reviewer.
REVIEW_STATES = ("received", "has_issues", "edited", "approved", "rejected", "resurvey")


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_commune_form_created", "commune_id", "form_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)
    # The instanceID first received; stays the submission's identity across edits.
    instance_id: Mapped[str] = mapped_column(String(255))
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"), index=True)
    submitter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    review_state: Mapped[str] = mapped_column(String(20), default="received", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    form: Mapped[Form] = relationship()
    commune: Mapped[Commune] = relationship()
    village: Mapped[Village | None] = relationship()
    submitter: Mapped[User] = relationship()
    versions: Mapped[list[SubmissionVersion]] = relationship(
        back_populates="submission", order_by="SubmissionVersion.id"
    )

    @property
    def current_version(self) -> SubmissionVersion:
        return next(v for v in reversed(self.versions) if v.current)


class SubmissionVersion(Base):
    __tablename__ = "submission_versions"
    __table_args__ = (UniqueConstraint("form_id", "instance_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"))
    form_version_id: Mapped[int] = mapped_column(ForeignKey("form_versions.id"), index=True)
    instance_id: Mapped[str] = mapped_column(String(255))
    deprecated_id: Mapped[str | None] = mapped_column(String(255))
    instance_name: Mapped[str | None] = mapped_column(String(500))
    xml_sha256: Mapped[str] = mapped_column(String(64))
    # Parsed answers keyed by field path inside the instance, repeats indexed from 1:
    # {"hh_name": "…", "members[2]/age": "8", "meta/instanceID": "uuid:…"}.
    fields: Mapped[dict[str, Any]] = deferred(mapped_column(JSON, nullable=False))
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    submitter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[str | None] = mapped_column(String(255))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    attachments_expected: Mapped[int] = mapped_column(default=0)
    attachments_present: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="versions")
    form_version: Mapped[FormVersion] = relationship()
    submitter: Mapped[User] = relationship()
    attachments: Mapped[list[SubmissionAttachment]] = relationship(
        back_populates="version", order_by="SubmissionAttachment.name"
    )
    xml_row: Mapped[SubmissionXml] = relationship(uselist=False)

    @property
    def missing_attachments(self) -> list[str]:
        return [a.name for a in self.attachments if a.blob_sha256 is None]


class SubmissionXml(Base):
    """The submission XML exactly as received, byte for byte."""

    __tablename__ = "submission_xml"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("submission_versions.id", ondelete="CASCADE"), primary_key=True
    )
    xml: Mapped[bytes] = mapped_column(LargeBinary)


class SubmissionAttachment(Base):
    """A file the submission XML names; ``blob_sha256`` is None until the file has arrived."""

    __tablename__ = "submission_attachments"
    __table_args__ = (UniqueConstraint("version_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("submission_versions.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    blob_sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column()
    content_type: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[datetime | None] = mapped_column()

    version: Mapped[SubmissionVersion] = relationship(back_populates="attachments")
