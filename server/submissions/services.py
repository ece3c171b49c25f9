"""Ingesting submissions without ever losing or duplicating one.

The decision table follows ODK Central (``../shared/openrosa/protocol.md`` §2.3):

======================================  ===================================================
incoming                                outcome
======================================  ===================================================
new instanceID                          create submission + version, expected attachments
same instanceID, byte-identical XML     attach any newly arrived files (split upload or retry)
same instanceID, different XML          409 ``submission.conflict``
``deprecatedID`` of the current version new version (an edit from Collect), files carried over
``deprecatedID`` of an old version      409 ``submission.edit_stale``
``deprecatedID`` unknown                404 ``submission.edit_unknown``
======================================  ===================================================

A submission is only ever changed (edited, completed with files, answered as a resend) by an
account that may submit for its household: same commune, and one of its villages when the
account is limited to some.  To anyone else an existing submission looks like what it would be
if it belonged to nobody they can see: an edit of it is ``submission.edit_unknown`` (404, as if
no such instanceID existed) and a new submission reusing its instanceID is
``submission.conflict`` (409, the answer to any instanceID already taken; instanceIDs are random
UUIDs, so only a copied one collides).

Files are written to the blob store (atomically) before the database rows that point at them;
the caller commits the transaction and only then answers the phone.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.accounts.models import User
from server.blobs import BlobStore, StoredBlob
from server.config import Defaults
from server.db import utcnow
from server.errors import AppError
from server.extensions import db
from server.filetypes import served_type
from server.geography.models import Village
from server.questionnaires.models import DraftSubmission, FormState, FormVersion
from server.questionnaires.services import can_fill, get_form, published_version
from server.submissions.filenames import safe_attachment_name
from server.submissions.models import (
    Submission,
    SubmissionAttachment,
    SubmissionVersion,
    SubmissionXml,
)
from server.submissions.parsing import (
    ParsedSubmission,
    extract_fields,
    field_schema_path,
    parse_submission,
)

# The field whose value, if it matches a village code of the reviewer's commune, says which
# village the household belongs to.
VILLAGE_FIELD = "village"


class IngestOutcome(enum.StrEnum):
    CREATED = "created"
    EDITED = "edited"
    ATTACHMENTS_ADDED = "attachments_added"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class IncomingFile:
    """A file part as the phone sent it: its name and declared type are the phone's word only
    (see :func:`_files_by_name` and :mod:`server.filetypes`)."""

    name: str
    data: bytes
    content_type: str | None = None


def _files_by_name(files: list[IncomingFile]) -> dict[str, IncomingFile]:
    """Non-empty parts by the safe name they are stored under (the XML's answers are reduced the
    same way, so that each still finds its file)."""
    return {safe_attachment_name(f.name): f for f in files if f.data}


def _referenced_names(values) -> tuple[str, ...]:
    """The safe names of the files that the binary answers ``values`` refer to, once each."""
    return tuple(dict.fromkeys(safe_attachment_name(v.strip()) for v in values if v.strip()))


@dataclass(frozen=True, slots=True)
class IngestResult:
    outcome: IngestOutcome
    version: SubmissionVersion

    @property
    def missing(self) -> list[str]:
        return self.version.missing_attachments


@dataclass(frozen=True, slots=True)
class PreparedSubmission:
    """A POST checked and its files stored, before anything is written to the database.

    Plain values only (no ORM objects): the write transaction that follows begins afresh, and
    nothing prepared here has to be loaded again while it holds SQLite's write lock.
    """

    raw: bytes
    parsed: ParsedSubmission
    xml_form_id: str
    form_id: int
    form_version_id: int
    fields: dict[str, str]
    referenced: tuple[str, ...]
    xml_sha256: str
    village_id: int | None
    submitter_id: int
    commune_id: int | None
    stored: dict[str, tuple[StoredBlob, str]]
    # The villages the submitter is limited to (empty: all of their commune).
    submitter_villages: tuple[int, ...] = ()


def ingest_submission(
    xml: bytes,
    files: list[IncomingFile],
    *,
    submitter: User,
    blobs: BlobStore,
    max_xml_bytes: int,
    max_elements: int = Defaults.MAX_SUBMISSION_ELEMENTS,
    max_depth: int = Defaults.MAX_SUBMISSION_DEPTH,
    device_id: str | None = None,
    user_agent: str | None = None,
) -> IngestResult:
    """Store one POST of a submission (possibly one part of a split upload): both steps below.

    Must run inside a write transaction; flushes, never commits.
    """
    prepared = prepare_submission(
        xml,
        files,
        submitter=submitter,
        blobs=blobs,
        max_xml_bytes=max_xml_bytes,
        max_elements=max_elements,
        max_depth=max_depth,
    )
    return store_submission(prepared, device_id=device_id, user_agent=user_agent)


def prepare_submission(
    xml: bytes,
    files: list[IncomingFile],
    *,
    submitter: User,
    blobs: BlobStore,
    max_xml_bytes: int,
    max_elements: int = Defaults.MAX_SUBMISSION_ELEMENTS,
    max_depth: int = Defaults.MAX_SUBMISSION_DEPTH,
) -> PreparedSubmission:
    """Parse and check one POST and store its files in the blob store; reads only.

    Run it before the write transaction (:func:`store_submission`): on SQLite that takes the
    database's single write lock, which then covers only the few statements that write.  A file
    stored here whose submission is then refused stays in the blob store, unreferenced, like the
    file of a request cut off mid-way (blobs are content-addressed; storing one twice is a no-op).

    :raises AppError: parsing errors (400), ``form.not_found`` (404), ``form.closed`` (409),
        ``form.version_unknown`` (404), ``form.version_retired`` (409),
        ``submission.forbidden`` (403), ``submission.wrong_root`` (400).
    """
    prepared = _prepare(
        parse_submission(
            xml, max_bytes=max_xml_bytes, max_elements=max_elements, max_depth=max_depth
        ),
        xml,
        submitter,
    )
    wanted = set(prepared.referenced)
    # Only files the XML names are kept; Collect sends every file in the instance folder.  The
    # type recorded is what the bytes are, never what the phone declared.
    stored = {
        name: (blobs.put(f.data), served_type(f.data, name))
        for name, f in _files_by_name(files).items()
        if name in wanted
    }
    return dataclasses.replace(prepared, stored=stored)


def store_submission(
    prepared: PreparedSubmission, *, device_id: str | None = None, user_agent: str | None = None
) -> IngestResult:
    """Write a prepared POST: a new submission, an edit, more files of one, or a resend.

    Must run inside a write transaction; flushes, never commits.

    :raises AppError: the conflicts in the module's table.
    """
    stored = prepared.stored
    parsed = prepared.parsed
    form_id = prepared.form_id
    existing = _version_by_instance_id(form_id, parsed.instance_id)
    if existing is not None and not _may_change(prepared, existing.submission):
        raise _conflict(parsed.instance_id)
    if existing is None:
        try:
            with db.session.begin_nested():
                if parsed.deprecated_id:
                    version = _create_edit(prepared, device_id, user_agent)
                    outcome = IngestOutcome.EDITED
                    _attach(version, stored)
                else:  # its files were stored with it
                    version = _create_new(prepared, device_id, user_agent)
                    outcome = IngestOutcome.CREATED
            return IngestResult(outcome, version)
        except IntegrityError:
            # Another request stored the same instanceID between our check and our insert
            # (concurrent retries from a phone on a bad network); treat this one as a resend.
            existing = _version_by_instance_id(form_id, parsed.instance_id)
            if existing is None:
                raise
            if not _may_change(prepared, existing.submission):
                raise _conflict(parsed.instance_id) from None
    if existing.xml_sha256 != prepared.xml_sha256:
        raise _conflict(parsed.instance_id)
    added = _attach(existing, stored)
    return IngestResult(
        IngestOutcome.ATTACHMENTS_ADDED if added else IngestOutcome.DUPLICATE, existing
    )


def _conflict(instance_id: str) -> AppError:
    return AppError(
        "submission.conflict",
        409,
        "Đã có một phiếu với cùng instanceID nhưng nội dung khác. Muốn gửi thêm tệp đính kèm "
        "thì phải gửi lại đúng tệp XML cũ; muốn sửa phiếu thì hãy sửa trên ODK Collect.",
        "A submission already exists with this instanceID but different XML. To add files, "
        "resend the identical XML; to change answers, edit the submission in Collect.",
        {"instance_id": instance_id},
    )


def _may_change(prepared: PreparedSubmission, submission: Submission) -> bool:
    """Whether the account sending ``prepared`` may submit for ``submission``'s household:
    same commune, and one of its villages when limited to some."""
    if prepared.commune_id is None or submission.commune_id != prepared.commune_id:
        return False
    allowed = prepared.submitter_villages
    return not allowed or submission.village_id in allowed


def _prepare(parsed: ParsedSubmission, xml: bytes, submitter: User) -> PreparedSubmission:
    form = get_form(parsed.xml_form_id)
    if form is None:
        raise AppError(
            "form.not_found",
            404,
            f"Máy chủ không có biểu mẫu '{parsed.xml_form_id}'.",
            f"There is no form '{parsed.xml_form_id}' on this server.",
        )
    if not can_fill(submitter, form):
        raise AppError(
            "submission.forbidden",
            403,
            f"Tài khoản {submitter.username} không được gửi phiếu '{form.title}'.",
            f"Account {submitter.username} may not submit '{form.title}'.",
        )
    if form.state == FormState.CLOSED:
        raise AppError(
            "form.closed",
            409,
            f"Biểu mẫu '{form.title}' đã đóng, không nhận phiếu mới.",
            f"The form '{form.title}' is closed and accepts no submissions.",
        )
    form_version = published_version(form, parsed.version)
    if form_version is None:
        raise AppError(
            "form.version_unknown",
            404,
            f"Máy chủ không có phiên bản '{parsed.version}' của biểu mẫu '{form.title}'. "
            "Hãy tải lại biểu mẫu mới.",
            f"Version '{parsed.version}' of '{form.title}' does not exist on this server.",
        )
    if not form_version.accepting_submissions:
        raise AppError(
            "form.version_retired",
            409,
            f"Phiên bản '{parsed.version}' của biểu mẫu '{form.title}' không còn được nhận. "
            "Hãy tải biểu mẫu mới và nhập lại phiếu.",
            f"Version '{parsed.version}' of '{form.title}' no longer accepts submissions.",
        )
    if parsed.root_name != form_version.root_name:
        raise AppError(
            "submission.wrong_root",
            400,
            f"Phần tử gốc của phiếu là <{parsed.root_name}>, biểu mẫu cần "
            f"<{form_version.root_name}>.",
            f"The submission root is <{parsed.root_name}>; the form's is "
            f"<{form_version.root_name}>.",
        )
    fields = extract_fields(parsed.root, frozenset(form_version.repeats))
    binary = form_version.binary_paths
    referenced = _referenced_names(
        value for key, value in fields.items() if field_schema_path(parsed.root_name, key) in binary
    )
    village = _village_of(fields, submitter)
    return PreparedSubmission(
        raw=xml,
        parsed=parsed,
        xml_form_id=form.xml_form_id,
        form_id=form_version.form_id,
        form_version_id=form_version.id,
        fields=fields,
        referenced=referenced,
        xml_sha256=hashlib.sha256(xml).hexdigest(),
        village_id=village.id if village is not None else None,
        submitter_id=submitter.id,
        commune_id=submitter.commune_id,
        stored={},
        submitter_villages=tuple(v.id for v in submitter.villages),
    )


def _village_of(fields: dict[str, str], submitter: User) -> Village | None:
    """The village a submission is about, within the submitter's scope.

    :raises AppError: ``submission.village_scope`` (403) when the reviewer is limited to some
        villages and the household is in another.
    """
    allowed = list(submitter.villages)
    code = _village_code(fields)
    village = None
    if code is not None:
        village = db.session.scalar(
            select(Village).where(Village.commune_id == submitter.commune_id, Village.code == code)
        )
    if village is None and len(allowed) == 1:
        return allowed[0]
    if village is not None and allowed and village not in allowed:
        raise AppError(
            "submission.village_scope",
            403,
            f"Tài khoản {submitter.username} không được giao rà soát thôn {village.name}.",
            f"Account {submitter.username} is not assigned to village {village.name}.",
        )
    return village


def _village_code(fields: dict[str, str]) -> str | None:
    """The value of the top-level ``village`` field, else of one inside a group (never in a
    repeat)."""
    candidates = [
        (key.count("/"), value.strip())
        for key, value in fields.items()
        if key.rsplit("/", 1)[-1] == VILLAGE_FIELD and "[" not in key and value.strip()
    ]
    return min(candidates)[1] if candidates else None


def _version_by_instance_id(form_id: int, instance_id: str) -> SubmissionVersion | None:
    return db.session.scalar(
        select(SubmissionVersion).where(
            SubmissionVersion.form_id == form_id, SubmissionVersion.instance_id == instance_id
        )
    )


def _new_version(
    prepared: PreparedSubmission,
    submission: Submission,
    device_id: str | None,
    user_agent: str | None,
) -> SubmissionVersion:
    parsed = prepared.parsed
    version = SubmissionVersion(
        submission=submission,
        form_id=prepared.form_id,
        form_version_id=prepared.form_version_id,
        instance_id=parsed.instance_id,
        deprecated_id=parsed.deprecated_id,
        instance_name=(parsed.instance_name or None) and parsed.instance_name[:500],
        xml_sha256=prepared.xml_sha256,
        fields=prepared.fields,
        current=True,
        submitter_id=prepared.submitter_id,
        device_id=(device_id or None) and device_id[:255],
        user_agent=(user_agent or None) and user_agent[:500],
        attachments_expected=len(prepared.referenced),
        attachments_present=sum(1 for name in prepared.referenced if name in prepared.stored),
        xml_row=SubmissionXml(xml=prepared.raw),
        attachments=[],
    )
    # Each row is inserted with its file when the file came with this request (one INSERT, no
    # UPDATE afterwards); the others wait for a later request (split upload, resend).  Built
    # with the version, so that its collection is in memory and never read back.
    now = utcnow()
    for name in prepared.referenced:
        attachment = SubmissionAttachment(name=name)
        if name in prepared.stored:
            _set_file(attachment, *prepared.stored[name], now)
        version.attachments.append(attachment)
    db.session.add(version)
    db.session.flush()
    return version


def _create_new(
    prepared: PreparedSubmission, device_id: str | None, user_agent: str | None
) -> SubmissionVersion:
    submission = Submission(
        form_id=prepared.form_id,
        instance_id=prepared.parsed.instance_id,
        commune_id=prepared.commune_id,
        village_id=prepared.village_id,
        submitter_id=prepared.submitter_id,
        review_state="received",
    )
    db.session.add(submission)
    return _new_version(prepared, submission, device_id, user_agent)  # flushes both


def _create_edit(
    prepared: PreparedSubmission, device_id: str | None, user_agent: str | None
) -> SubmissionVersion:
    parsed = prepared.parsed
    old = _version_by_instance_id(prepared.form_id, parsed.deprecated_id or "")
    # Another commune's (or village's) submission is answered exactly as a missing one.
    if old is None or not _may_change(prepared, old.submission):
        raise AppError(
            "submission.edit_unknown",
            404,
            f"Không tìm thấy phiếu gốc ({parsed.deprecated_id}) của bản sửa này.",
            f"The submission being edited ({parsed.deprecated_id}) does not exist.",
        )
    if not old.current:
        raise AppError(
            "submission.edit_stale",
            409,
            "Bản phiếu anh/chị sửa đã cũ: phiếu này đã được sửa sau đó. Hãy tải bản mới nhất.",
            "The copy you edited is out of date: the submission was edited since.",
        )
    submission = old.submission
    old.current = False
    version = _new_version(prepared, submission, device_id, user_agent)
    # Files the edit still names but did not resend are the same files as before.
    previous = {a.name: a for a in old.attachments if a.blob_sha256}
    for attachment in version.attachments:
        carried = previous.get(attachment.name)
        if carried is not None:
            attachment.blob_sha256 = carried.blob_sha256
            attachment.size = carried.size
            attachment.content_type = carried.content_type
            attachment.received_at = carried.received_at
    version.attachments_present = sum(1 for a in version.attachments if a.blob_sha256)
    submission.review_state = "edited"
    submission.updated_at = utcnow()
    db.session.flush()
    return version


def _set_file(attachment: SubmissionAttachment, blob: StoredBlob, content_type: str, now) -> None:
    """Point ``attachment`` at its arrived file.  ``content_type`` (what the bytes were sniffed
    to be) is kept for information; serving reads the file again and never trusts it."""
    attachment.blob_sha256 = blob.sha256
    attachment.size = blob.size
    attachment.content_type = content_type
    attachment.received_at = now


def _attach(version: SubmissionVersion, stored: dict) -> bool:
    """Record arrived files on ``version``; True if any was new."""
    added = False
    for attachment in version.attachments:
        if attachment.blob_sha256 is not None or attachment.name not in stored:
            continue
        _set_file(attachment, *stored[attachment.name], utcnow())
        added = True
    if added:
        version.attachments_present = sum(1 for a in version.attachments if a.blob_sha256)
        db.session.flush()
    return added


def ingest_draft_submission(
    draft: FormVersion,
    xml: bytes,
    files: list[IncomingFile],
    *,
    blobs: BlobStore,
    max_xml_bytes: int,
    max_elements: int = Defaults.MAX_SUBMISSION_ELEMENTS,
    max_depth: int = Defaults.MAX_SUBMISSION_DEPTH,
) -> IngestOutcome:
    """Keep a test submission sent to a draft through its test URL (deleted on publish).

    :raises AppError: parsing errors; ``submission.not_this_draft`` (400) when the instance is
        not of the draft's form and version; ``submission.conflict`` (409).
    """
    parsed = parse_submission(
        xml, max_bytes=max_xml_bytes, max_elements=max_elements, max_depth=max_depth
    )
    if (parsed.xml_form_id, parsed.version) != (draft.form.xml_form_id, draft.version):
        raise AppError(
            "submission.not_this_draft",
            400,
            f"Phiếu thuộc biểu mẫu '{parsed.xml_form_id}' phiên bản '{parsed.version}', không "
            f"phải bản nháp '{draft.form.xml_form_id}' phiên bản '{draft.version}'.",
            "The submission is not of this draft's form and version.",
        )
    fields = extract_fields(parsed.root, frozenset(draft.repeats))
    binary = draft.binary_paths
    referenced = set(
        _referenced_names(
            v for k, v in fields.items() if field_schema_path(parsed.root_name, k) in binary
        )
    )
    stored = {
        name: blobs.put(f.data).sha256
        for name, f in _files_by_name(files).items()
        if name in referenced
    }
    existing = db.session.scalar(
        select(DraftSubmission).where(
            DraftSubmission.form_version_id == draft.id,
            DraftSubmission.instance_id == parsed.instance_id,
        )
    )
    if existing is None:
        db.session.add(
            DraftSubmission(
                form_version_id=draft.id,
                instance_id=parsed.instance_id,
                xml=xml,
                attachments={name: stored.get(name) for name in sorted(referenced)},
            )
        )
        db.session.flush()
        return IngestOutcome.CREATED
    if existing.xml != xml:
        raise AppError(
            "submission.conflict",
            409,
            "Đã có phiếu thử cùng instanceID nhưng nội dung khác.",
            "A test submission with this instanceID but different XML exists.",
        )
    missing = {n for n, sha in existing.attachments.items() if sha is None and n in stored}
    if not missing:
        return IngestOutcome.DUPLICATE
    existing.attachments = {
        n: (stored[n] if n in missing else sha) for n, sha in existing.attachments.items()
    }
    db.session.flush()
    return IngestOutcome.ATTACHMENTS_ADDED
