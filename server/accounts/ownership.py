"""Who owns what above the commune, and who may touch it: the one place that decides.

Questionnaires (forms and their versions), B1 point tables, approval rules and audit events
belong to a province, or are national (``province_id`` None: the shipped questionnaires and
tables).  Ownership is stored on the row as data; every service that reads or writes such a row
asks this module, so a route can never forget the rule.

* A **province administrator** manages (writes) only what their province owns, and sees what
  their province owns plus what is national (a province assigns national questionnaires to its
  communes and chooses national tables for them, but cannot close, retire or re-version them).
* A **national administrator** manages only what is national and sees everything.
* Commune staff and reviewers see what is national or their province's and manage nothing here.
* ``actor=None`` is the system (commands run by the server's operator, the demo seed): allowed.

What another province owns is answered as *not found* (404), never as *forbidden*, so that a
stranger learns nothing of it; what the actor sees but may not change is *forbidden* (403) with
the reason.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, true

from server.accounts.models import Role, User
from server.errors import AppError


def owner_for_new(actor: User | None) -> int | None:
    """The province that owns what ``actor`` creates (None: national)."""
    if actor is None or actor.role == Role.NATIONAL:
        return None
    return actor.province_id


def may_see(actor: User | None, province_id: int | None) -> bool:
    if actor is None or actor.role == Role.NATIONAL:
        return True
    return province_id is None or (
        actor.province_id is not None and province_id == actor.province_id
    )


def may_manage(actor: User | None, province_id: int | None) -> bool:
    if actor is None:
        return True
    if actor.role == Role.NATIONAL:
        return province_id is None
    if actor.role == Role.ADMIN:
        return actor.province_id is not None and province_id == actor.province_id
    return False


def visible(column, actor: User | None) -> ColumnElement[bool]:
    """SQL condition on an owning ``province_id`` column: the rows ``actor`` may see."""
    if actor is None or actor.role == Role.NATIONAL:
        return true()
    if actor.province_id is None:
        return column.is_(None)
    return or_(column.is_(None), column == actor.province_id)


def owned(column, actor: User | None) -> ColumnElement[bool]:
    """SQL condition: the rows ``actor`` manages."""
    if actor is None:
        return true()
    if actor.role == Role.NATIONAL:
        return column.is_(None)
    if actor.role == Role.ADMIN and actor.province_id is not None:
        return column == actor.province_id
    return false()


def require_manage(actor: User | None, province_id: int | None, what_vi: str, what_en: str):
    """Raise unless ``actor`` may change a thing owned by ``province_id``.

    :raises AppError: ``ownership.not_found`` (404) when the actor may not even see it,
        ``ownership.forbidden`` (403) when they see it but it is national / another level's.
    """
    if may_manage(actor, province_id):
        return
    if not may_see(actor, province_id):
        raise not_found(what_vi, what_en)
    what_vi, what_en = what_vi[:1].upper() + what_vi[1:], what_en[:1].upper() + what_en[1:]
    if province_id is None:
        raise AppError(
            "ownership.forbidden",
            403,
            f"{what_vi} là của cấp trung ương: tỉnh được giao cho xã dùng nhưng không được sửa, "
            "đóng hay thay phiên bản. Muốn có bản riêng, hãy tải lên với mã khác.",
            f"{what_en} is national: a province may use it but not change it; upload your own "
            "under another code.",
        )
    raise AppError(
        "ownership.forbidden",
        403,
        f"{what_vi} là của một tỉnh; chỉ quản trị viên của tỉnh đó được sửa.",
        f"{what_en} belongs to a province; only that province's administrators may change it.",
    )


def not_found(what_vi: str, what_en: str) -> AppError:
    return AppError("ownership.not_found", 404, f"Không có {what_vi}.", f"No {what_en}.")
