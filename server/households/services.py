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
    villages = {v.id: v for v in _villages_in_scope(user)}
    if not villages:
        return _csv(HOUSEHOLD_CSV_HEADER, [])
    households = db.session.scalars(
        select(Household)
        .where(Household.village_id.in_(villages), Household.on_review_list.is_(True))
        .options(selectinload(Household.statuses))
        .order_by(Household.code)
    )
    rows = []
    for household in households:
        village = villages[household.village_id]
        last = household.statuses[-1].status.value if household.statuses else "moi"
        rows.append(
            (
                household.code,
                (RESURVEY_MARK if household.resurvey_requested_at else "")
                + f"{household.code} – {household.head_name} ({village.name})",
                village.code,
                village.name,
                household.head_name,
                last,
                household.list_source.value,
            )
        )
    return _csv(HOUSEHOLD_CSV_HEADER, rows)


# Shown before the household in the reviewer's list when commune staff asked for a re-survey.
RESURVEY_MARK = "[CẦN RÀ SOÁT LẠI] "

HOUSEHOLD_CSV_HEADER = (
    "name",
    "label",
    "village",
    "village_name",
    "head_name",
    "last_status",
    "source",
)
