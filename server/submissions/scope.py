"""What a staff member may see: an officer their commune, an administrator their province, a
village head (read-only) the villages they are attached to.  Every staff query over submissions,
communes and villages goes through these conditions, so the rule is enforced in the database
query, never after loading."""

from __future__ import annotations

from sqlalchemy import and_, select

from server.accounts.models import Role, User, UserVillage
from server.geography.models import Commune, Village
from server.submissions.models import Submission


def _own_villages(actor: User):
    return select(UserVillage.village_id).where(UserVillage.user_id == actor.id)


def commune_scope(actor: User):
    """The condition limiting communes to the actor's."""
    if actor.role in (Role.OFFICER, Role.VILLAGE_HEAD):
        return Commune.id == actor.commune_id
    if actor.role == Role.ADMIN:
        return Commune.province_id == actor.province_id
    return Commune.id.is_(None)  # nothing


def village_scope(actor: User):
    """The condition limiting villages to the actor's (all of their commune or province, or a
    village head's own villages)."""
    if actor.role == Role.OFFICER:
        return Village.commune_id == actor.commune_id
    if actor.role == Role.ADMIN:
        return Village.commune_id.in_(
            select(Commune.id).where(Commune.province_id == actor.province_id)
        )
    if actor.role == Role.VILLAGE_HEAD:
        return and_(Village.commune_id == actor.commune_id, Village.id.in_(_own_villages(actor)))
    return Village.id.is_(None)  # nothing


def in_scope(actor: User):
    """The condition limiting submissions to the actor's commune, province or villages."""
    if actor.role == Role.OFFICER:
        return Submission.commune_id == actor.commune_id
    if actor.role == Role.ADMIN:
        return Submission.commune_id.in_(
            select(Commune.id).where(Commune.province_id == actor.province_id)
        )
    if actor.role == Role.VILLAGE_HEAD:
        return and_(
            Submission.commune_id == actor.commune_id,
            Submission.village_id.in_(_own_villages(actor)),
        )
    return Submission.id.is_(None)  # nothing
