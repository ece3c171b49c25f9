"""Importing the household list and producing the per-reviewer CSV files phones use.

The CSV files follow ``xlsforms/README.md``: ``households.csv`` (``name``, ``label``,
``village``, ``village_name``, ``head_name``, ``last_status``, ``source``) and ``villages.csv``
(``name``, ``label``, ``area_type`` = ``rural``/``urban``).  A reviewer's phone gets only its
own commune, or its own villages when the account is limited to some; the bytes are
deterministic, so their MD5 changes exactly when the list changes and Collect then downloads
the new list.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from server.accounts.models import User
from server.audit.services import record as audit_record
from server.db import utcnow
from server.errors import AppError
from server.extensions import db
from server.geography.models import Commune, Village
from server.households.models import (
    Household,
    HouseholdStatus,
    HouseholdYearStatus,
    ListSource,
)

IMPORT_COLUMNS = ("code", "village", "head_name", "last_status", "source")


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    updated: int


def import_households(commune: Commune, rows: Iterable[dict[str, str]], year: int) -> ImportResult:
    """Create or update households of ``commune`` from rows with :data:`IMPORT_COLUMNS`;
    ``last_status`` is recorded as the household's status for ``year``.

    Every row is checked before anything is written.

    :raises AppError: ``households.invalid`` (400) listing each bad row (1-based, header = 1).
    """
    villages = {v.code: v for v in commune.villages}
    errors: list[str] = []
    parsed = []
    for number, row in enumerate(rows, start=2):
        code = (row.get("code") or "").strip()
        village = villages.get((row.get("village") or "").strip())
        head = (row.get("head_name") or "").strip()
        try:
            status = HouseholdStatus((row.get("last_status") or "moi").strip())
            source = ListSource((row.get("source") or "danh_sach").strip())
        except ValueError:
            errors.append(f"dòng {number}: trạng thái hoặc nguồn không hợp lệ")
            continue
        if not code or village is None or not head:
            errors.append(f"dòng {number}: thiếu mã hộ, mã thôn đúng hoặc tên chủ hộ")
            continue
        parsed.append((code, village, head, status, source))
    if errors:
        raise AppError(
            "households.invalid",
            400,
            "Danh sách hộ có lỗi: " + "; ".join(errors[:20]),
            "The household list has errors: " + "; ".join(errors[:20]),
            {"errors": errors},
        )
    existing = {
        h.code: h
        for h in db.session.scalars(
            select(Household)
            .where(Household.commune_id == commune.id)
            .options(selectinload(Household.statuses))
        )
    }
    created = updated = 0
    for code, village, head, status, source in parsed:
        household = existing.get(code)
        if household is None:
            household = Household(
                commune_id=commune.id,
                code=code,
                list_source=source,
                village=village,
                head_name=head,
            )
            db.session.add(household)
            existing[code] = household
            created += 1
        else:
            household.village, household.head_name = village, head
            household.list_source, household.updated_at = source, utcnow()
            updated += 1
        household.on_review_list = True
        record = next((s for s in household.statuses if s.year == year), None)
        if record is None:
            household.statuses.append(HouseholdYearStatus(year=year, status=status))
        else:
            record.status = status
    db.session.flush()
    audit_record(
        "households.import",
        "commune",
        commune.code,
        commune_id=commune.id,
        after={"year": year, "rows": len(parsed), "created": created, "updated": updated},
    )
    return ImportResult(created, updated)


def _villages_in_scope(user: User | None) -> list[Village]:
    if user is None:
        return []
    if user.villages:
        return list(user.villages)
    if user.commune_id is None:
        return []
    return list(
        db.session.scalars(
            select(Village).where(Village.commune_id == user.commune_id).order_by(Village.code)
        )
    )


def _csv(header: tuple[str, ...], rows: Iterable[tuple]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def villages_csv(user: User | None) -> bytes:
    return _csv(
        ("name", "label", "area_type"),
        ((v.code, v.name, v.effective_area_type.value) for v in _villages_in_scope(user)),
    )


def households_csv(user: User | None) -> bytes:
    """The reviewer's household list.  Households commune staff sent back for re-survey come
    first (most recent request first), their label starting with :data:`RESURVEY_MARK` and the
    officer's reason (short: :func:`resurvey_label`), so the reviewer sees them at the top of
    the choices in Collect (``select_one_from_file``, with or without ``search``/autocomplete,
    shows the ``label`` column in file order); the whole reason is in ``resurvey_reason`` for a
    form that wants to show it.  The others follow by code."""
    villages = {v.id: v for v in _villages_in_scope(user)}
    if not villages:
        return _csv(HOUSEHOLD_CSV_HEADER, [])
    households = list(
        db.session.scalars(
            select(Household)
            .where(Household.village_id.in_(villages), Household.on_review_list.is_(True))
            .options(selectinload(Household.statuses))
            .order_by(Household.code)
        )
    )
    flagged = sorted(
        (h for h in households if h.resurvey_requested_at is not None),
        key=lambda h: (-h.resurvey_requested_at.timestamp(), h.code),
    )
    rest = [h for h in households if h.resurvey_requested_at is None]
    rows = []
    for household in [*flagged, *rest]:
        village = villages[household.village_id]
        last = household.statuses[-1].status.value if household.statuses else "moi"
        label = f"{household.code} – {household.head_name} ({village.name})"
        reason = ""
        if household.resurvey_requested_at is not None:
            reason = one_line(household.resurvey_reason or "")
            label = resurvey_label(reason) + label
        rows.append(
            (
                household.code,
                label,
                village.code,
                village.name,
                household.head_name,
                last,
                household.list_source.value,
                reason,
            )
        )
    return _csv(HOUSEHOLD_CSV_HEADER, rows)


# Shown before the household in the reviewer's list when commune staff asked for a re-survey.
RESURVEY_MARK = "[CẦN RÀ SOÁT LẠI"
# How much of the officer's reason the label carries (a phone shows a choice on a line or
# two); the whole reason is in the ``resurvey_reason`` column.
RESURVEY_LABEL_REASON = 60


def one_line(text: str) -> str:
    """``text`` on one line: line breaks, tabs and runs of spaces become one space (a choice
    label is one line on the phone, and a CSV cell without line breaks reads the same in every
    CSV reader)."""
    return " ".join(text.split())


def resurvey_label(reason: str) -> str:
    """The flag put before a household's label: ``[CẦN RÀ SOÁT LẠI: <reason>] ``, the reason
    cut to :data:`RESURVEY_LABEL_REASON` characters (with "…")."""
    reason = one_line(reason)
    if len(reason) > RESURVEY_LABEL_REASON:
        reason = reason[: RESURVEY_LABEL_REASON - 1].rstrip() + "…"
    return f"{RESURVEY_MARK}: {reason}] " if reason else f"{RESURVEY_MARK}] "


HOUSEHOLD_CSV_HEADER = (
    "name",
    "label",
    "village",
    "village_name",
    "head_name",
    "last_status",
    "source",
    "resurvey_reason",
)
