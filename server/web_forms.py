"""What the staff pages share: reading the dates typed into a form, running the change a form asks
for in one write transaction with the outcome flashed to the user, showing a refused form again
with what was typed, and paging a list."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask import Flask, abort, flash, g, request
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


# --- a refused form shown again with what was typed ------------------------------------------

# Never written back into a page: the CSRF token (the page makes a fresh one) and secrets.
NOT_KEPT = frozenset({"csrf_token"})
KEPT_MAX = 20_000  # characters of one typed value shown again (inputs are bounded anyway)


def _secret(name: str) -> bool:
    return name in NOT_KEPT or "password" in name


def keep_typed(form_name: str) -> None:
    """Remember, for the page rendered next in this request, what was typed into the form
    ``form_name`` (the request's form fields, passwords left out); the page's templates read it
    back with :func:`typed` / :func:`typed_has`.  Only that form is refilled: a page with many
    small forms (one per complaint, say) names each one apart."""
    g.typed_form = form_name
    g.typed = {
        name: [value[:KEPT_MAX] for value in request.form.getlist(name)]
        for name in request.form
        if not _secret(name)
    }


def was_refused(form_name: str) -> bool:
    """Whether ``form_name`` is the form refused in this request."""
    return g.get("typed_form") == form_name


def typed(form_name: str, field: str, default: object = "") -> object:
    """What was typed into ``field`` of the refused form ``form_name`` (empty when left blank),
    else ``default`` (what the page shows when first opened)."""
    if not was_refused(form_name):
        return default
    values = g.typed.get(field)
    return values[0] if values else ""


def typed_has(form_name: str, field: str, value: object, default: bool = False) -> bool:
    """Whether ``value`` was chosen in ``field`` (a ticked box, a chosen option) of the refused
    form ``form_name``; else ``default``."""
    if not was_refused(form_name):
        return default
    return str(value) in g.typed.get(field, [])


def refused(error: AppError, form_name: str, page: Callable[[], object]):
    """A refused form: the 404 page for what is outside the user's scope, else the page again
    (``page()``) with the message and what was typed into ``form_name``, with the error's 4xx
    status."""
    if error.status == 404:
        abort(404)
    flash(localized(error.message_vi, error.message_en), "error")
    keep_typed(form_name)
    body = page()
    if isinstance(body, tuple):
        body = body[0]
    return body, error.status


def submit(
    apply: Callable[[], object],
    form_name: str,
    page: Callable[[], object],
    done: str | None = None,
):
    """Run ``apply`` in a write transaction and flash ``done`` (when given): None (the caller
    redirects); refused, the answer of :func:`refused`."""
    try:
        with write_transaction(db.session):
            apply()
    except AppError as error:
        return refused(error, form_name, page)
    if done:
        flash(done, "info")
    return None


def init_app(app: Flask) -> None:
    """``typed``, ``typed_has`` and ``was_refused`` in every template."""
    app.add_template_global(typed)
    app.add_template_global(typed_has)
    app.add_template_global(was_refused)


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
