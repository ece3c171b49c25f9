"""The audit log for province administrators (``/admin/nhat-ky``): every recorded change,
newest first, with filters, and the same events as a streamed CSV file.

Events name households (a household's code, a case, a questionnaire): the page and the CSV
record an access to each household they carry (issue 14), as every other page does.

An administrator sees the events of the communes of their province and the events that
belong to no commune (forms, B1 tables, province accounts); commune officers see nothing.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select, true
from sqlalchemy.orm import aliased

from server.access.services import Seen, record_access, submission_households
from server.accounts.models import ADMIN_ROLES, Role, User
from server.accounts.ownership import visible
from server.accounts.web import staff_page
from server.audit.models import AuditEvent
from server.documents.spreadsheets import csv_text
from server.extensions import db
from server.geography.models import Commune
from server.households.models import Household
from server.i18n import utc_start_of
from server.meetings.models import HouseholdCase, ReviewRound
from server.web_forms import filter_date, list_page

bp = Blueprint("audit", __name__)
log = logging.getLogger("rasoat.audit")

PAGE_SIZE = 50
CSV_BATCH = 500
# Filtering on the actor with one of these names finds what the system did (commands).
SYSTEM_NAMES = ("hệ thống", "he thong", "system", "-")

# What each recorded action means (unknown actions are shown as recorded).
ACTION_LABELS = {
    "form.draft_upload": _l("Tải lên bản nháp biểu mẫu"),
    "form.draft_discard": _l("Xoá bản nháp biểu mẫu"),
    "form.publish": _l("Xuất bản biểu mẫu"),
    "form.state": _l("Đổi trạng thái biểu mẫu"),
    "form.version_accepting": _l("Bật/tắt nhận phiếu của một phiên bản"),
    "form.assign": _l("Giao biểu mẫu cho xã"),
    "b1_table.upload": _l("Tải lên bảng điểm B1"),
    "b1_table.assign": _l("Chọn bảng điểm B1 cho xã"),
    "user.create": _l("Tạo tài khoản"),
    "user.update": _l("Sửa tài khoản"),
    "user.active": _l("Khoá / mở lại tài khoản"),
    "user.password": _l("Đổi mật khẩu"),
    "user.role": _l("Đổi vai trò / nơi làm việc"),
    "device_token.issue": _l("Cấp mã thiết bị"),
    "device_token.revoke": _l("Thu hồi mã thiết bị"),
    "households.import": _l("Nhập danh sách hộ"),
    "submission.review_state": _l("Đổi trạng thái phiếu"),
    "submission.comment": _l("Nhận xét phiếu"),
    "submission.resurvey": _l("Yêu cầu rà soát lại"),
    "commune.meeting_lists_rule": _l("Đổi cách lập danh sách họp dân của xã"),
    "round.open": _l("Mở đợt rà soát"),
    "round.compile": _l("Lập danh sách họp dân"),
    "case.stage": _l("Đổi bước của hộ trong đợt rà soát"),
    "meeting.record": _l("Ghi biên bản họp dân"),
    "posting.create": _l("Niêm yết công khai"),
    "complaint.file": _l("Ghi khiếu nại"),
    "complaint.recheck": _l("Ghi kết quả phúc tra"),
    "missing.reason": _l("Ghi lý do hộ nghèo, cận nghèo năm trước chưa có kết quả"),
    "decision.sign": _l("Ghi quyết định công nhận"),
    "refusal.answer": _l("Trả lời bằng văn bản"),
    "export.request": _l("Yêu cầu xuất tệp"),
    "export.download": _l("Tải tệp đã xuất"),
    "province.approval_rule": _l("Đổi quy trình phê duyệt của tỉnh"),
    "consultation.request": _l("Xã xin ý kiến tỉnh"),
    "consultation.answer": _l("Tỉnh cho ý kiến"),
    "retention.rules": _l("Đổi thời hạn lưu trữ dữ liệu cá nhân"),
    "retention.hold": _l("Ghi lệnh giữ lại dữ liệu (không xoá)"),
    "retention.hold_clear": _l("Bỏ lệnh giữ lại dữ liệu"),
    "retention.purge": _l("Xoá dữ liệu theo quy định lưu trữ"),
    "privacy_notice.update": _l("Sửa thông báo về dữ liệu cá nhân đọc cho hộ"),
    "privacy_notice.reset": _l("Dùng lại thông báo mặc định về dữ liệu cá nhân"),
    "household.data_report": _l("Lập tài liệu toàn bộ dữ liệu của hộ"),
    "household.correction": _l("Ghi việc sửa thông tin theo đề nghị của hộ"),
    "personal.reveal_id": _l("Xem số CCCD/CMND đầy đủ"),
}
TARGET_LABELS = {
    "form": _l("Biểu mẫu"),
    "form_version": _l("Phiên bản biểu mẫu"),
    "b1_table": _l("Bảng điểm B1"),
    "commune": _l("Xã"),
    "user": _l("Tài khoản"),
    "device_token": _l("Mã thiết bị"),
    "submission": _l("Phiếu"),
    "review_round": _l("Đợt rà soát"),
    "household": _l("Hộ gia đình"),
    "household_case": _l("Hộ trong đợt rà soát"),
    "village_meeting": _l("Cuộc họp dân"),
    "posting": _l("Niêm yết"),
    "complaint": _l("Khiếu nại"),
    "decision": _l("Quyết định"),
    "export_job": _l("Xuất tệp"),
    "province": _l("Tỉnh"),
    "consultation": _l("Xin ý kiến tỉnh"),
    "retention_hold": _l("Lệnh giữ lại dữ liệu"),
}

CSV_COLUMNS = (
    "id",
    "at_utc",
    "actor",
    "action",
    "target_type",
    "target_id",
    "commune",
    "before",
    "after",
    "note",
)


def _filters() -> dict:
    args = request.args
    return {
        "action": args.get("action", "").strip(),
        "actor": args.get("actor", "").strip(),
        "commune": args.get("commune", "").strip(),
        "target_type": args.get("target_type", "").strip(),
        "target_id": args.get("target_id", "").strip(),
        "date_from": filter_date(args.get("date_from")),
        "date_to": filter_date(args.get("date_to")),
    }


def _in_scope(actor: User):
    """A province administrator: the events of their province (its communes, and what the
    province owns: its forms, tables, accounts, rule) and national ones (the national forms and
    tables every province uses); never another province's.  A national administrator: all."""
    return visible(AuditEvent.province_id, actor)


def _query(actor: User, filters: dict):
    """(event, actor username, actor display name, commune code, commune name) in scope and
    matching the filters, newest first."""
    who = aliased(User)
    query = (
        select(AuditEvent, who.username, who.display_name, Commune.code, Commune.name)
        .outerjoin(who, who.id == AuditEvent.actor_id)
        .outerjoin(Commune, Commune.id == AuditEvent.commune_id)
        .where(_in_scope(actor))
    )
    if filters["action"]:
        query = query.where(AuditEvent.action == filters["action"])
    if filters["actor"]:
        if filters["actor"].lower() in SYSTEM_NAMES:
            query = query.where(AuditEvent.actor_id.is_(None))
        else:
            query = query.where(who.username == filters["actor"])
    if filters["commune"]:
        query = query.where(Commune.code == filters["commune"])
    if filters["target_type"]:
        query = query.where(AuditEvent.target_type == filters["target_type"])
    if filters["target_id"]:
        query = query.where(AuditEvent.target_id == filters["target_id"])
    # The dates are days in Vietnam (as the page shows times); events are stored in UTC.
    if filters["date_from"]:
        query = query.where(AuditEvent.at >= utc_start_of(filters["date_from"]))
    if filters["date_to"]:
        query = query.where(AuditEvent.at < utc_start_of(filters["date_to"] + timedelta(days=1)))
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("có") if value else _("không")
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value) or "—"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@dataclass(frozen=True, slots=True)
class Change:
    key: str
    old: str | None  # None: the key had no earlier value recorded (a creation)
    new: str | None  # None: the key has no later value recorded (a deletion)


def changes(before: dict | None, after: dict | None) -> list[Change]:
    """``key: old → new`` for every key of the event, in the order recorded."""
    before, after = before or {}, after or {}
    keys = list(before) + [k for k in after if k not in before]
    return [
        Change(
            key,
            _shown(before[key]) if key in before else None,
            _shown(after[key]) if key in after else None,
        )
        for key in keys
    ]


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def target_label(target_type: str) -> str:
    label = TARGET_LABELS.get(target_type)
    return str(label) if label is not None else target_type


class NamedHouseholds:
    """The households audit events name: a household (by code, in its commune), a household
    case, a questionnaire, or a ``household_code`` among the recorded values."""

    def __init__(self) -> None:
        self.codes: set[tuple[int, str]] = set()
        self.cases: set[int] = set()
        self.submissions: set[int] = set()

    def add(self, event: AuditEvent) -> None:
        target = event.target_id or ""
        if event.target_type == "household" and target and event.commune_id is not None:
            self.codes.add((event.commune_id, target))
        elif event.target_type == "household_case" and target.isdigit():
            self.cases.add(int(target))
        elif event.target_type == "submission" and target.isdigit():
            self.submissions.add(int(target))
        for values in (event.before, event.after):
            code = (values or {}).get("household_code")
            if isinstance(code, str) and code and event.commune_id is not None:
                self.codes.add((event.commune_id, code[:50]))

    def seen(self) -> list[Seen]:
        """One per household (a few reads: the cases, questionnaires and registry ids)."""
        found: dict[tuple, Seen] = {}
        cases = sorted(self.cases)
        for start in range(0, len(cases), CSV_BATCH):
            for household_id, code, commune_id in db.session.execute(
                select(
                    HouseholdCase.household_id, HouseholdCase.household_code, ReviewRound.commune_id
                )
                .join(ReviewRound, ReviewRound.id == HouseholdCase.round_id)
                .where(HouseholdCase.id.in_(cases[start : start + CSV_BATCH]))
            ):
                if code:
                    found.setdefault((commune_id, code), Seen(household_id, code, commune_id))
        submissions = sorted(self.submissions)
        for start in range(0, len(submissions), CSV_BATCH):
            for seen in submission_households(submissions[start : start + CSV_BATCH]):
                key = (seen.commune_id, seen.code or f"#{seen.submission_id}")
                found.setdefault(key, seen)
        codes = sorted(k for k in self.codes if k not in found)
        registry: dict[tuple[int, str], int] = {}
        for start in range(0, len(codes), CSV_BATCH):
            chunk = codes[start : start + CSV_BATCH]
            registry.update(
                ((commune_id, code), household_id)
                for household_id, commune_id, code in db.session.execute(
                    select(Household.id, Household.commune_id, Household.code).where(
                        Household.commune_id.in_({c for c, _code in chunk}),
                        Household.code.in_({code for _c, code in chunk}),
                    )
                )
            )
        for commune_id, code in codes:
            found[(commune_id, code)] = Seen(registry.get((commune_id, code)), code, commune_id)
        return list(found.values())


@bp.get("/admin/nhat-ky")
@staff_page(*ADMIN_ROLES)
def index():
    filters = _filters()
    listed = list_page(_query(current_user, filters), PAGE_SIZE)
    national = current_user.role == Role.NATIONAL
    communes = db.session.scalars(
        select(Commune)
        .where(true() if national else Commune.province_id == current_user.province_id)
        .order_by(Commune.code)
    ).all()
    scope = _in_scope(current_user)
    recorded = db.session.scalars(select(AuditEvent.action).where(scope).distinct()).all()
    actions = {a: action_label(a) for a in sorted(set(ACTION_LABELS) | set(recorded))}
    recorded_types = db.session.scalars(
        select(AuditEvent.target_type).where(scope).distinct()
    ).all()
    target_types = {t: target_label(t) for t in sorted(set(TARGET_LABELS) | set(recorded_types))}
    named = NamedHouseholds()
    for row in listed.rows:
        named.add(row[0])
    if households := named.seen():
        record_access("list", households, ref="audit:page")
    return render_template(
        "audit/events.html",
        listed=listed,
        filters=filters,
        communes=communes,
        actions=actions,
        target_types=target_types,
        action_label=action_label,
        target_label=target_label,
        changes=changes,
    )


def _cell(value: str | None) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    return csv_text(value or "")


def _json(value: dict | None) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _csv_lines(query) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(values) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield "\ufeff" + line(CSV_COLUMNS)  # the BOM makes spreadsheets read UTF-8
    named = NamedHouseholds()
    try:
        yield from _csv_rows(query, line, named)
    finally:
        # Recorded once the file is written, or as far as it went when the download stopped:
        # the households of every event that left the server.
        try:
            households = named.seen()
        except Exception:
            log.exception("could not find the households of the audit log's CSV")
            households = []
        if households:
            record_access("csv", households, ref="audit:csv")


def _csv_rows(query, line, named: NamedHouseholds) -> Iterator[str]:
    result = db.session.execute(query.execution_options(yield_per=CSV_BATCH))
    for event, username, _display, commune_code, _commune_name in result:
        named.add(event)
        yield line(
            [
                event.id,
                event.at.isoformat(sep=" ", timespec="seconds"),
                _cell(username),
                _cell(event.action),
                _cell(event.target_type),
                _cell(event.target_id),
                _cell(commune_code),
                _cell(_json(event.before)),
                _cell(_json(event.after)),
                _cell(event.note),
            ]
        )


@bp.get("/admin/nhat-ky.csv")
@staff_page(*ADMIN_ROLES)
def export_csv():
    query = _query(current_user, _filters())
    response = Response(stream_with_context(_csv_lines(query)), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="nhat-ky-thay-doi.csv"'
    return response
