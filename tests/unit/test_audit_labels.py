"""Every action and target type the server records in the audit log has a readable label on
the audit page (read from the source, so a new ``record(...)`` call without one fails here)."""

from __future__ import annotations

import re
from pathlib import Path

from server.audit.pages import ACTION_LABELS, TARGET_LABELS

SERVER = Path(__file__).resolve().parents[2] / "server"
CALL = re.compile(r'\brecord\(\s*"([a-z0-9_]+\.[a-z0-9_]+)",\s*"([a-z0-9_]+)"', re.S)


def _recorded() -> set[tuple[str, str]]:
    return {
        match.groups()
        for path in SERVER.rglob("*.py")
        for match in CALL.finditer(path.read_text("utf-8"))
    }


def test_the_source_records_many_kinds_of_change():
    assert len(_recorded()) >= 25


def test_every_recorded_action_and_target_has_a_label():
    recorded = _recorded()
    assert {action for action, _target in recorded} - set(ACTION_LABELS) == set()
    assert {target for _action, target in recorded} - set(TARGET_LABELS) == set()
