"""Who produced a file and when, on every page and every sheet (issue 14): a PDF carries the
line at the foot of each page, an XLSX in each sheet's printed footer and in the workbook's
properties.  The person is the account that asked for the file (a background export's
requester, or the user of the request); the time is Vietnam time."""

from __future__ import annotations

from datetime import datetime

from flask import has_request_context
from flask_login import current_user

from server.accounts.models import User
from server.db import utcnow
from server.i18n import local_time


def producer_line(user: User | None, when: datetime | None = None) -> str:
    who = f"{user.display_name} ({user.username})" if user is not None else "hệ thống"
    return f"Xuất bởi {who} lúc {local_time(when or utcnow())} (giờ Việt Nam)"


def request_line() -> str | None:
    """The line for a file made in this request (None outside a logged-in request)."""
    if has_request_context() and current_user and current_user.is_authenticated:
        return producer_line(current_user)
    return None


def page_css(line: str) -> str:
    """A style sheet putting ``line`` at the bottom left of every page (WeasyPrint)."""
    quoted = line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return (
        '@page { @bottom-left { content: "' + quoted + '"; font-size: 8pt; color: #444;'
        " font-family: 'DejaVu Sans', sans-serif; vertical-align: top; } }"
    )


def stamp_workbook(book, line: str, user: User | None = None) -> None:
    """Every sheet's printed footer (left) says ``line``; the workbook's properties too."""
    for sheet in book.worksheets:
        for footer in (sheet.oddFooter, sheet.evenFooter):
            footer.left.text = line
            footer.left.size = 8
    book.properties.creator = "rasoat"
    book.properties.lastModifiedBy = user.username if user is not None else "rasoat"
    book.properties.description = line


def stamp_request(book) -> None:
    """Stamp a workbook made in this request with its user (nothing outside a request)."""
    line = request_line()
    if line is not None:
        stamp_workbook(book, line, current_user)
