"""Household traits the official reports count (``regulations.md`` §5.8: ethnic-minority poor
and near-poor households, poor households without labour capacity) that no questionnaire asks
as such.  Both rules below are **inferred** — the official definitions are not in our sources —
and both are three-valued like the scoring rules: ``None`` when the facts do not decide.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.scoring.facts import Member
from server.scoring.rules import member_fact
from server.scoring.standards import Standard

HEAD = "chu_ho"
MAJORITY = "kinh"
# The member facts the traits read: the reports extract only these from stored results.
MEMBER_FACTS = ("relationship", "ethnicity", "age", "sex", "disability", "serious_illness")


def member_from_facts(values: Sequence[Any]) -> Member:
    """A member from the values of :data:`MEMBER_FACTS`, in that order, as stored in a
    result's ``inputs`` (a fact unknown to an older result — such as ``ethnicity`` before it
    was mapped — is ``None``; a stored boolean may come back as 0 / 1)."""
    facts = dict(zip(MEMBER_FACTS, values, strict=True))
    ill = facts["serious_illness"]
    facts["serious_illness"] = None if ill is None else bool(ill)
    age = facts["age"]
    facts["age"] = None if age is None else int(age)
    return Member(**facts)


def head_of(members: Sequence[Member]) -> Member | None:
    """The member recorded as head (``chu_ho``), else the first member listed."""
    for member in members:
        if member.relationship == HEAD:
            return member
    return members[0] if members else None


def is_ethnic_minority(members: Sequence[Member]) -> bool | None:
    """Ethnic-minority household (hộ dân tộc thiểu số).

    INFERRED rule: the head's ethnicity is known and is not Kinh.  ``None`` when the household
    has no members or the head's ethnicity is not recorded.
    """
    head = head_of(members)
    if head is None or head.ethnicity is None or not head.ethnicity.strip():
        return None
    return head.ethnicity.strip().lower() != MAJORITY


def _not(value: bool | None) -> bool | None:
    return None if value is None else not value


def able_to_work(member: Member, standard: Standard) -> bool | None:
    """Of working age (the standard's ``working_age``) and neither severely disabled (the
    standard's ``dependant.severe_disability``) nor seriously ill."""
    severe = standard.data["dependant"]["severe_disability"]
    conditions = [
        member_fact(member, "working_age", standard),
        None if member.disability is None else member.disability not in severe,
        _not(member.serious_illness),
    ]
    if any(c is False for c in conditions):
        return False
    return None if any(c is None for c in conditions) else True


def without_labour_capacity(members: Sequence[Member], standard: Standard) -> bool | None:
    """Household without labour capacity (hộ không có khả năng lao động).

    INFERRED rule: no member is of working age without being severely disabled or seriously
    ill.  ``False`` as soon as one member is able to work; ``True`` when every member is known
    not to be; ``None`` otherwise (no members, or a fact that would decide is missing).
    """
    if not members:
        return None
    able = [able_to_work(m, standard) for m in members]
    if any(a is True for a in able):
        return False
    return None if any(a is None for a in able) else True
