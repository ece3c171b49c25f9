"""The B1 point tables shipped in ``forms/b1_tables`` (loaded once, validated)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from server.scoring.b1 import PointTable, load_table_yaml

TABLES_DIR = Path(__file__).resolve().parents[2] / "forms" / "b1_tables"


@cache
def shipped_tables(directory: Path = TABLES_DIR) -> dict[str, PointTable]:
    return {t.code: t for t in map(load_table_yaml, sorted(directory.glob("*.yaml")))}
