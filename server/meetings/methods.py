"""How each listed household's result was reached, in the short words the lists use.

A result is decided by the B1 score (score A against the cut-off, TT 07/2021) or by measured
income (income per person per month against the standard's line), or by neither (no verdict,
a Phiếu A stop, or a result stored before the method was kept).  When a household has both and
they fall on different sides of the line, the village meeting must look at it
(:mod:`server.scoring.engine`).  The stored score's ``method`` and ``methods_disagree`` columns
are the source.

The ``*_VI`` texts are for the printed lists and spreadsheets (Vietnamese only, like the rest of
those documents); the ``*_LABELS`` are for the staff pages (translated).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from server.extensions import db
from server.scoring.models import HouseholdScore

METHOD_SHORT_VI = {"b1": "Điểm B1", "income": "Thu nhập đo được"}
NO_METHOD_VI = "—"
DISAGREE_VI = "B1 và thu nhập không thống nhất — cần xem xét"

METHOD_LABELS = {"b1": _l("Điểm B1"), "income": _l("Thu nhập đo được")}
DISAGREE_LABEL = _l("B1 và thu nhập không thống nhất — cần xem xét")


def method_vi(method: str | None) -> str:
    return METHOD_SHORT_VI.get(method or "", NO_METHOD_VI)


@dataclass(frozen=True)
class Method:
    """The method that decided a stored score, and whether B1 and income disagree."""

    code: str | None
    disagree: bool


def methods_of(score_ids: Iterable[int]) -> dict[int, Method]:
    """score id → its :class:`Method`, in one query (from the score's columns)."""
    ids = sorted(set(score_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(HouseholdScore.id, HouseholdScore.method, HouseholdScore.methods_disagree).where(
            HouseholdScore.id.in_(ids)
        )
    )
    return {score_id: Method(method, bool(disagree)) for score_id, method, disagree in rows}
