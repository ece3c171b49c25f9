"""HTML → PDF with WeasyPrint (fonts from the system: Debian's DejaVu covers Vietnamese).

No network: documents are rendered with a URL fetcher that refuses everything except the app's
own static files, so rendering can never make the server fetch a remote resource.

Progress.  WeasyPrint reports each page it has laid out on its ``weasyprint.progress`` logger
("Step 5 - Creating layout - Page N"); :func:`html_to_pdf` with ``on_page`` hears the pages of
*its own thread's* rendering (a background export reporting how far it is) through one handler
installed here.  That logger no longer propagates to the application's logs (a line per page
would drown them).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import render_template
from weasyprint import CSS, HTML
from weasyprint.logger import PROGRESS_LOGGER
from weasyprint.urls import URLFetcher

from server.documents.stamp import page_css, request_line

STATIC = Path(__file__).resolve().parents[1] / "static"
PDF_MIMETYPE = "application/pdf"
_PAGE_MESSAGE = "Step 5 - Creating layout - Page %d"


class _LocalOnly(URLFetcher):
    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        path = Path(unquote(parts.path)).resolve()
        if parts.scheme != "file" or not path.is_relative_to(STATIC):
            raise ValueError(f"refused to fetch {url!r} while rendering a document")
        return super().fetch(url, headers)


class _PageListeners(logging.Handler):
    """Calls, for a page laid out, the listener of the thread that lays it out (if any).  A
    listener's exception (a background job that lost its claim) stops that rendering."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.listeners: dict[int, Callable[[int], None]] = {}

    def handle(self, record: logging.LogRecord) -> bool:  # no handler lock: one dict lookup
        listener = self.listeners.get(record.thread)
        if listener is not None and record.msg == _PAGE_MESSAGE and record.args:
            listener(int(record.args[0]))
        return True

    def emit(self, record: logging.LogRecord) -> None:  # pragma: no cover (handle() does it)
        self.handle(record)


_pages = _PageListeners()
PROGRESS_LOGGER.addHandler(_pages)
PROGRESS_LOGGER.setLevel(logging.INFO)
PROGRESS_LOGGER.propagate = False


def html_to_pdf(
    html: str, on_page: Callable[[int], None] | None = None, stamp: str | None = None
) -> bytes:
    """Render a whole HTML document (its CSS inline or from ``server/static``); ``on_page(n)``
    is called as page ``n`` is laid out (layout is most of the time; writing the PDF follows
    the last page); ``stamp``: who produced it and when, at the foot of every page
    (:mod:`server.documents.stamp`)."""
    thread = threading.get_ident()
    if on_page is not None:
        _pages.listeners[thread] = on_page
    try:
        return HTML(
            string=html,
            base_url=f"file://{STATIC}/",
            url_fetcher=_LocalOnly(allowed_protocols={"file"}),
        ).write_pdf(stylesheets=[CSS(string=page_css(stamp))] if stamp else None)
    finally:
        if on_page is not None:
            _pages.listeners.pop(thread, None)


@dataclass(frozen=True)
class PrintDocument:
    """One printable document: its template and context (built by the capability that owns
    the data, the same whether it is rendered in a request or by a background export), the
    file name it is downloaded as, and about how many pages it will have (for progress)."""

    template: str
    context: dict[str, Any] = field(hash=False)
    filename: str
    pages: int = 1

    def html(self) -> str:
        return render_template(self.template, **self.context)

    def pdf(self, on_page: Callable[[int], None] | None = None, stamp: str | None = None) -> bytes:
        """The PDF, stamped with who produced it (default: the request's user)."""
        return html_to_pdf(self.html(), on_page, stamp or request_line())
