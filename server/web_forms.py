"""What the staff pages share: reading the dates typed into a form, running the change a form asks
for in one write transaction with the outcome flashed to the user, and paging a list."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask import abort, flash, request
from flask_babel import gettext as _
from sqlalchemy import func, select

from server.db import write_transaction
from server.errors import AppError
from server.extensions import db
from server.i18n import localized


def form_date(raw: str | None, default: date | None = None) -> date | None:
    """A date typed in a form (``YYYY-MM-DD``); ``default`` when left blank.

    :raises AppError: ``date.invalid`` (400) for anything else.
    """
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise AppError("date.invalid", 400, "Ngày không hợp lệ.", "Invalid date.") from None


def filter_date(raw: str | None) -> date | None:
    """A date in a list filter: a blank or malformed value filters nothing."""
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def run_and_flash(apply: Callable[[], object], done: str | None = None) -> bool:
    """Run ``apply`` in a write transaction; flash ``done`` (default "Đã lưu.") or the error.

    A 404 from the service (something outside the user's scope) becomes the 404 page; any other
    :class:`AppError` is shown in the user's language and nothing is stored.  Returns whether the
    change was made.
    """
    try:
        with write_transaction(db.session):
            apply()
    except AppError as error:
        if error.status == 404:
            abort(404)
        flash(localized(error.message_vi, error.message_en), "error")
        return False
    flash(done or _("Đã lưu."), "info")
    return True


# The largest page number a list accepts: far beyond any real list, small enough for any
# database's OFFSET.
MAX_PAGE = 1_000_000


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page of a staff list, with what ``_pager.html`` needs to link the others."""

    rows: list
    total: int
    number: int
    pages: int
    args: dict[str, str]  # the list's filters, to keep in the links


def list_page(query, size: int) -> ListPage:
    """The page of ``query`` (an ordered SELECT) the request's ``?page=`` asks for."""
    try:
        number = min(max(1, int(request.args.get("page", "1"))), MAX_PAGE)
    except ValueError:
        number = 1
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.execute(query.limit(size).offset((number - 1) * size)).all()
    return ListPage(
        rows=list(rows),
        total=total,
        number=number,
        pages=max(1, -(-total // size)),
        args={k: v for k, v in request.args.items() if k != "page"},
    )
