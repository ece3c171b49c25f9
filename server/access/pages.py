"""The access log for administrators (``/admin/truy-cap``), beside the audit log: who looked
at which household's data, when and how, with filters, paged, newest first; above it the
accounts whose day was unusual (more households read, or more communes exported, than the
thresholds shown).

A province administrator reads their province's records, a national administrator all;
commune staff, village heads and reviewers have no access (403), as for the audit log.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select, true

from server.access.services import (
    KINDS,
    Filters,
    records_query,
    thresholds,
    unusual_days,
)
from server.accounts.models import ADMIN_ROLES, Role
from server.accounts.web import staff_page
from server.extensions import db
from server.geography.models import Commune
from server.i18n import vietnam_today
from server.web_forms import filter_date, list_page

bp = Blueprint("access", __name__)

PAGE_SIZE = 50
MAX_FILTER_LENGTH = 80
# With no dates chosen, the unusual days of the last week are listed.
UNUSUAL_DAYS = 7

KIND_LABELS = {
    "answers": _l("Câu trả lời của phiếu"),
    "photo": _l("Ảnh / tệp của phiếu"),
    "score": _l("Điểm và giải thích điểm"),
    "history": _l("Trang hộ (các năm)"),
    "list": _l("Danh sách"),
    "pdf": _l("Tệp PDF"),
    "xlsx": _l("Tệp XLSX"),
    "csv": _l("Tệp CSV"),
    "api": _l("API dữ liệu"),
    "id_number_reveal": _l("Xem số CCCD"),
    "household_data": _l("Dữ liệu của hộ (tài liệu lập cho hộ)"),
}
ROLE_LABELS = {
    Role.ADMIN.value: _l("Quản trị viên tỉnh"),
    Role.OFFICER.value: _l("Công chức xã"),
    Role.REVIEWER.value: _l("Rà soát viên"),
    Role.VILLAGE_HEAD.value: _l("Trưởng thôn"),
    Role.NATIONAL.value: _l("Quản trị viên trung ương"),
}

# The parts of a record's ``ref`` ("round:3/village:T01"), in words.
REF_LABELS = {
    "submission": _l("phiếu"),
    "file": _l("tệp"),
    "round": _l("đợt rà soát"),
    "village": _l("thôn"),
    "export": _l("tệp xuất"),
    "api": _l("API"),
}
REF_VALUES = {
    "api:submissions": _l("API danh sách phiếu"),
    "audit:page": _l("trang nhật ký thay đổi"),
    "audit:csv": _l("tệp CSV nhật ký thay đổi"),
}


def ref_label(ref: str | None) -> str:
    """A record's list or file in words: "đợt rà soát 3, thôn T01"."""
    if not ref:
        return ""
    if ref in REF_VALUES:
        return str(REF_VALUES[ref])
    parts = []
    for part in ref.split("/"):
        name, _sep, value = part.partition(":")
        label = REF_LABELS.get(name)
        parts.append(f"{label} {value}" if label is not None else part)
    return ", ".join(parts)


def kind_label(kind: str) -> str:
    label = KIND_LABELS.get(kind)
    return str(label) if label is not None else kind


def role_label(role: str) -> str:
    label = ROLE_LABELS.get(role)
    return str(label) if label is not None else role


def _communes():
    national = current_user.role == Role.NATIONAL
    return db.session.scalars(
        select(Commune)
        .where(true() if national else Commune.province_id == current_user.province_id)
        .order_by(Commune.code)
    ).all()


@bp.get("/admin/truy-cap")
@staff_page(*ADMIN_ROLES)
def index():
    args = request.args
    communes = _communes()
    by_code = {c.code: c for c in communes}
    raw = {
        "person": args.get("person", "").strip()[:MAX_FILTER_LENGTH],
        "household": args.get("household", "").strip()[:MAX_FILTER_LENGTH],
        "commune": args.get("commune", "").strip()[:MAX_FILTER_LENGTH],
        "kind": args.get("kind", "").strip()[:MAX_FILTER_LENGTH],
        "date_from": filter_date(args.get("date_from")),
        "date_to": filter_date(args.get("date_to")),
    }
    commune = by_code.get(raw["commune"])
    filters = Filters(
        person=raw["person"],
        household=raw["household"],
        # A commune outside the user's province (or unknown) matches nothing, not everything.
        commune_id=commune.id if commune else (-1 if raw["commune"] else None),
        date_from=raw["date_from"],
        date_to=raw["date_to"],
        kind=raw["kind"],
    )
    listed = list_page(records_query(current_user, filters), PAGE_SIZE)
    limits = thresholds()
    until = raw["date_to"] or vietnam_today()
    since = raw["date_from"] or until - timedelta(days=UNUSUAL_DAYS - 1)
    return render_template(
        "access/records.html",
        listed=listed,
        filters=raw,
        communes=communes,
        commune_names={c.id: c for c in communes},
        kinds={k: kind_label(k) for k in KINDS},
        kind_label=kind_label,
        role_label=role_label,
        ref_label=ref_label,
        limits=limits,
        unusual=unusual_days(current_user, since, until, limits),
        since=since,
        until=until,
    )
