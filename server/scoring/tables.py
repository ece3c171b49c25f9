"""B1 point tables: the ones shipped in ``forms/b1_tables`` (loaded once, validated), the ones
administrators upload (``b1_tables`` rows, :mod:`server.scoring.b1_store`), and which one a
commune's household is scored with (:func:`resolve_table`).

A table is identified by its code; each upload of a code is a new version and the newest one
(by the time it was recorded) applies.  A shipped table not yet recorded in the database counts
as older than every upload of its code.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select

from server.extensions import db
from server.geography.models import Commune
from server.scoring.b1 import PointTable, load_table_yaml, table_from_dict
from server.scoring.models import B1Table, CommuneB1Table

TABLES_DIR = Path(__file__).resolve().parents[2] / "forms" / "b1_tables"
ANY_REGION = "*"


@cache
def shipped_catalog(directory: Path = TABLES_DIR) -> tuple[PointTable, ...]:
    """Every shipped table (every version), in file-name order."""
    return tuple(map(load_table_yaml, sorted(directory.glob("*.yaml"))))


@cache
def shipped_tables(directory: Path = TABLES_DIR) -> dict[str, PointTable]:
    """Shipped tables by code (a code shipped in several files: the last one)."""
    return {t.code: t for t in shipped_catalog(directory)}


def table_content(table: PointTable) -> dict[str, Any]:
    """The validated table as plain JSON-able data (what ``b1_tables.content`` stores)."""
    return dataclasses.asdict(table)


def content_sha256(content: dict[str, Any]) -> str:
    """Equal for the same table whether it came from XLSX, YAML or the shipped files."""
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


_PARSED: dict[str, PointTable] = {}


def table_from_row(row: B1Table) -> PointTable:
    """The stored table, validated again (cached by content hash: rows never change)."""
    table = _PARSED.get(row.sha256)
    if table is None:
        table = table_from_dict(row.content, f"{row.code} {row.version}")
        if len(_PARSED) > 256:
            _PARSED.clear()
        _PARSED[row.sha256] = table
    return table


def newest_row(code: str) -> B1Table | None:
    return db.session.scalars(
        select(B1Table)
        .where(B1Table.code == code)
        .order_by(B1Table.created_at.desc(), B1Table.id.desc())
        .limit(1)
    ).first()


def current_table(code: str) -> PointTable | None:
    """The newest version of table ``code``: uploaded or recorded, else shipped."""
    row = newest_row(code)
    if row is not None:
        return table_from_row(row)
    return shipped_tables().get(code)


def region_matches(table: PointTable, region: str) -> bool:
    return table.region in (ANY_REGION, region)


def resolve_table(commune: Commune, standard_code: str, area_type: str) -> PointTable | None:
    """The B1 table to score a household of ``commune`` with, under ``standard_code`` in an
    ``area_type`` area: the newest version of the table assigned to the commune for that
    standard and area.  None (B1 not assessed) when nothing is assigned, or when that table is
    for another standard, area type or income region."""
    code = db.session.scalar(
        select(CommuneB1Table.table_code).where(
            CommuneB1Table.commune_id == commune.id,
            CommuneB1Table.standard == standard_code,
            CommuneB1Table.area_type == area_type,
        )
    )
    if code is None:
        return None
    table = current_table(code)
    if (
        table is None
        or (table.standard, table.area_type) != (standard_code, area_type)
        or not region_matches(table, commune.region)
    ):
        return None
    return table
