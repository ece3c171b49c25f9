"""Which submissions a staff member may see: an officer their commune, an administrator their
province.  Every staff query over submissions goes through :func:`in_scope`, so the rule is
enforced in the database query, never after loading."""

from __future__ import annotations

from sqlalchemy import select

from server.accounts.models import Role, User
from server.geography.models import Commune
from server.submissions.models import Submission


def commune_scope(actor: User):
    """The condition limiting communes to the actor's."""
    if actor.role == Role.OFFICER:
        return Commune.id == actor.commune_id
    if actor.role == Role.ADMIN:
        return Commune.province_id == actor.province_id
    return Commune.id.is_(None)  # nothing


def in_scope(actor: User):
    """The condition limiting submissions to the actor's commune or province."""
    if actor.role == Role.OFFICER:
        return Submission.commune_id == actor.commune_id
    if actor.role == Role.ADMIN:
        return Submission.commune_id.in_(
            select(Commune.id).where(Commune.province_id == actor.province_id)
        )
    return Submission.id.is_(None)  # nothing
