"""A household's own data (its right of access, Law 91/2025/QH15): one printable document of
everything rasoat holds about it — the registry entry and its statuses, every questionnaire's
answers in the form's words (what the form computed too), the files received, each year's
verdict and the procedure (meeting, decision, certificate), who did what on its questionnaires
and who looked at it — and the corrections made at its request (:func:`record_correction`).

Scope is the household page's (:func:`server.workspace.services.household_view`); only staff
(officers, province administrators) produce it, and producing it is in the audit log."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import or_, select

from server.access.models import AccessRecord
from server.access.services import Seen, record_access
from server.accounts.models import STAFF_ROLES, User
from server.audit.models import AuditEvent
from server.audit.services import record
from server.errors import AppError
from server.extensions import db
from server.i18n import vietnam_today
from server.privacy.models import HouseholdCorrection
from server.questionnaires.labels import AnswerRow, form_labels, labelled_answers
from server.retention.services import purged_kinds
from server.submissions.models import Submission
from server.workspace.services import HouseholdView, household_view

TEXT_MAX = 2000
# The newest looks listed in the document (a household read in every list has many).
ACCESS_SHOWN = 500
NAME_MAX = 200


@dataclass
class SubmissionData:
    submission: Submission
    kind: str
    rows: list[AnswerRow]
    files: list[tuple[str, int | None, bool]]  # name, size, received
    purged: dict[str, datetime]


@dataclass
class HouseholdData:
    view: HouseholdView
    submissions: list[SubmissionData] = field(default_factory=list)
    corrections: list[HouseholdCorrection] = field(default_factory=list)
    events: list[AuditEvent] = field(default_factory=list)
    # Who looked at the household's data (pages, lists, files, the API), newest first.
    accesses: list[AccessRecord] = field(default_factory=list)


def _forbid_viewers(actor: User) -> None:
    if actor.role not in STAFF_ROLES:
        raise AppError(
            "household_data.forbidden",
            403,
            "Chỉ cán bộ xã hoặc quản trị viên tỉnh lập tài liệu dữ liệu của hộ.",
            "Only commune officers and province administrators produce a household's data.",
        )


def household_data(actor: User, code: str, commune_code: str = "", lang: str = "vi"):
    """Everything held about the household ``code`` in ``actor``'s scope.

    :raises AppError: 404 outside the scope, 403 for a village head."""
    _forbid_viewers(actor)
    view = household_view(actor, code, commune_code)
    data = HouseholdData(view=view)
    seen: set[int] = set()
    for year in view.years:
        for q in year.questionnaires:
            if q.submission_id in seen:
                continue
            seen.add(q.submission_id)
            submission = db.session.get(Submission, q.submission_id)
            version = submission.current_version
            labels = form_labels(version.form_version.xform, lang)
            data.submissions.append(
                SubmissionData(
                    submission=submission,
                    kind=q.kind,
                    rows=labelled_answers(labels, version.fields, include_calculated=True),
                    files=[
                        (a.name, a.size, a.blob_sha256 is not None) for a in version.attachments
                    ],
                    purged=purged_kinds(submission.id),
                )
            )
    if view.household is not None:
        data.corrections = list(
            db.session.scalars(
                select(HouseholdCorrection)
                .where(HouseholdCorrection.household_id == view.household.id)
                .order_by(HouseholdCorrection.requested_on, HouseholdCorrection.id)
            )
        )
    targets = [
        (AuditEvent.target_type == "submission")
        & (AuditEvent.target_id.in_([str(i) for i in seen]))
    ]
    if view.code:
        targets.append(
            (AuditEvent.target_type == "household") & (AuditEvent.target_id == view.code)
        )
    data.events = list(
        db.session.scalars(
            select(AuditEvent)
            .where(or_(*targets), AuditEvent.commune_id == view.commune.id)
            .order_by(AuditEvent.at, AuditEvent.id)
        )
    )
    shown = [AccessRecord.household_code == view.code] if view.code else []
    if view.household is not None:
        shown.append(AccessRecord.household_id == view.household.id)
    if shown:
        data.accesses = list(
            db.session.scalars(
                select(AccessRecord)
                .where(or_(*shown), AccessRecord.commune_id == view.commune.id)
                .order_by(AccessRecord.at.desc(), AccessRecord.id.desc())
                .limit(ACCESS_SHOWN)
            )
        )
    return data


def note_produced(actor: User, data: HouseholdData, form: str) -> None:
    """Put the production of the household's document in the audit log (flushed) and in
    the access records (it shows everything held about the household)."""
    household = data.view.household
    record_access(
        "household_data",
        [Seen(household.id if household else None, data.view.code, data.view.commune.id)],
        ref=f"file:du-lieu-cua-ho-{data.view.code}.pdf" if form == "pdf" else None,
        actor=actor,
    )
    record(
        "household.data_report",
        "household",
        data.view.code,
        commune_id=data.view.commune.id,
        after={"format": form, "questionnaires": len(data.submissions)},
        actor_id=actor.id,
    )


@dataclass(frozen=True)
class CorrectionInput:
    requested_on: str
    requested_by: str
    request: str
    action: str


def _text(value: str, limit: int, what_vi: str, what_en: str, code: str) -> str:
    value = (value or "").replace("\r\n", "\n").strip()
    if not value:
        raise AppError(
            f"correction.{code}_missing",
            400,
            f"Hãy ghi {what_vi}.",
            f"Please fill in {what_en}.",
        )
    if len(value) > limit:
        raise AppError(
            f"correction.{code}_too_long",
            400,
            f"{what_vi[0].upper()}{what_vi[1:]} dài {len(value)} ký tự; tối đa {limit} ký tự.",
            f"{what_en} has {len(value)} characters; at most {limit}.",
        )
    if any(unicodedata.category(c) == "Cc" and c != "\n" for c in value):
        raise AppError(
            f"correction.{code}_control",
            400,
            f"{what_vi[0].upper()}{what_vi[1:]} có ký tự điều khiển không in được.",
            f"{what_en} contains control characters.",
        )
    return value


def record_correction(actor: User, code: str, typed: CorrectionInput, commune_code: str = ""):
    """Record a correction made at the household's request (flushed; the caller commits).

    :raises AppError: 404 outside the scope; 403 for a village head; 400 for a missing, too
        long or unprintable field, a bad date or one in the future, or a household that is not
        in the commune's registry (a correction is kept against the registry entry)."""
    _forbid_viewers(actor)
    view = household_view(actor, code, commune_code)
    if view.household is None:
        raise AppError(
            "correction.not_in_registry",
            400,
            "Hộ chưa có trong sổ hộ của xã: hãy thêm hộ vào sổ hộ trước khi ghi việc sửa "
            "thông tin.",
            "The household is not in the commune's registry yet.",
        )
    try:
        requested_on = date.fromisoformat(typed.requested_on or "")
    except ValueError:
        raise AppError(
            "correction.bad_date",
            400,
            "Ngày hộ đề nghị không hợp lệ (ngày/tháng/năm).",
            "The request date is not a valid date.",
        ) from None
    if requested_on > vietnam_today() or requested_on.year < 2000:
        raise AppError(
            "correction.date_out_of_range",
            400,
            "Ngày hộ đề nghị không được sau hôm nay.",
            "The request date cannot be in the future.",
        )
    correction = HouseholdCorrection(
        household_id=view.household.id,
        requested_on=requested_on,
        requested_by=_text(
            typed.requested_by, NAME_MAX, "họ tên người đề nghị", "the requester's name", "name"
        ),
        request=_text(typed.request, TEXT_MAX, "nội dung hộ đề nghị sửa", "the request", "request"),
        action=_text(typed.action, TEXT_MAX, "việc xã đã sửa", "what was corrected", "action"),
        recorded_by_id=actor.id,
    )
    db.session.add(correction)
    db.session.flush()
    record(
        "household.correction",
        "household",
        view.code,
        commune_id=view.commune.id,
        after={
            "requested_on": requested_on,
            "requested_by": correction.requested_by,
            "request": correction.request,
            "action": correction.action,
        },
        actor_id=actor.id,
    )
    return correction
