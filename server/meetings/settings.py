"""A commune's rule for its village-meeting lists: whether only the results its staff approved
go to the village meeting (``Commune.meeting_lists_approved_only``).

With the rule on, a household still waiting for the meeting ("chờ họp dân") whose result is not
approved is kept out of the lists and out of the vote — and shown apart, in plain words, on the
village's page, its PDF and XLSX, the commune-wide exports and the decision page, never dropped
silently (:func:`held_back`).  With it off every result goes to the meeting, as before; either
way the lists say each household's review state.  Services flush; callers commit; a change is
in the audit log."""

from __future__ import annotations

from sqlalchemy import select

from server.accounts.models import STAFF_ROLES, User
from server.audit.services import record
from server.errors import AppError
from server.extensions import db
from server.geography.models import Commune
from server.submissions.scope import commune_scope

# The pseudo-list of the households the rule keeps out of the meeting.
HELD_BACK = "chua_duyet"
HELD_BACK_VI = "Hộ chưa duyệt — không đưa vào danh sách họp dân (xã chỉ đưa hộ đã duyệt)"


def commune_for_settings(actor: User, code: str) -> Commune:
    """The commune whose rule ``actor`` may change: an officer's own commune, a province
    administrator's communes.

    :raises AppError: ``commune.not_found`` (404) for any other commune (it does not exist for
        the actor), ``commune.settings_forbidden`` (403) for a village head of the commune.
    """
    commune = db.session.scalar(select(Commune).where(Commune.code == code, commune_scope(actor)))
    if commune is None:
        raise AppError("commune.not_found", 404, "Không tìm thấy xã.", "Commune not found.")
    if actor.role not in STAFF_ROLES:
        raise AppError(
            "commune.settings_forbidden",
            403,
            "Chỉ cán bộ xã hoặc quản trị viên tỉnh được đổi cài đặt của xã.",
            "Only commune officers and province administrators change a commune's settings.",
        )
    return commune


def set_approved_only(actor: User, code: str, approved_only: bool) -> bool:
    """Choose whether only approved results go to the commune's village-meeting lists.

    :return: whether the rule changed.
    :raises AppError: as :func:`commune_for_settings`.
    """
    commune = commune_for_settings(actor, code)
    before = bool(commune.meeting_lists_approved_only)
    if before == approved_only:
        return False
    commune.meeting_lists_approved_only = approved_only
    db.session.flush()
    record(
        "commune.meeting_lists_rule",
        "commune",
        commune.code,
        commune_id=commune.id,
        before={"approved_only": before},
        after={"approved_only": approved_only},
        actor_id=actor.id,
    )
    return True


def held_back(approved_only: bool, stage: str, review_state: str | None) -> bool:
    """Whether the rule keeps a household out of the meeting: the rule is on, the household
    still waits for the meeting, and its result is not approved."""
    return approved_only and stage == "listed" and review_state != "approved"
