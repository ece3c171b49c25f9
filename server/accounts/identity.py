"""Who the request's user is, noted once when the user is loaded for the request.

A page that commits (``write_transaction``) expires every loaded object, its user included;
reading ``user.username`` afterwards costs a query to load the user again.  Whatever only
needs the user's id, name and role after that (the access records) reads them from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, has_request_context

from server.accounts.models import User


@dataclass(frozen=True, slots=True)
class Identity:
    user: User
    id: int
    username: str
    role: str


def remember_identity(user: User) -> None:
    """Note ``user`` as the request's user (called where the user is loaded)."""
    if has_request_context():
        g.user_identity = Identity(user, user.id, user.username, user.role.value)


def request_identity() -> Identity | None:
    """The identity noted for this request, if any."""
    return g.get("user_identity") if has_request_context() else None
