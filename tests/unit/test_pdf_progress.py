"""WeasyPrint's page progress, as heard by ``html_to_pdf(on_page=…)``: each page laid out, in
order, only from the thread that renders it; a listener that raises stops the rendering (a
background export that lost its job stops there); the application's log gets no page lines."""

from __future__ import annotations

import logging
import threading

import pytest
from pypdf import PdfReader

from server.documents.pdf import html_to_pdf

THREE_PAGES = (
    "<!doctype html><html><head><style>section { page-break-after: always; }"
    "section:last-child { page-break-after: auto; }</style></head><body>"
    + "".join(f"<section>Trang số {n}</section>" for n in (1, 2, 3))
    + "</body></html>"
)


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.names: list[str] = []

    def emit(self, record):
        self.names.append(record.name)


def test_every_page_is_reported_in_order(tmp_path):
    pages: list[int] = []
    application_log = _Collect()  # what the application's handlers (on the root) would get
    root = logging.getLogger()
    root.addHandler(application_log)
    level, root.level = root.level, logging.DEBUG
    try:
        pdf = html_to_pdf(THREE_PAGES, on_page=pages.append)
    finally:
        root.removeHandler(application_log)
        root.setLevel(level)
    path = tmp_path / "three.pdf"
    path.write_bytes(pdf)
    assert len(PdfReader(path).pages) == 3
    assert pages == [1, 2, 3]
    assert "weasyprint.progress" not in application_log.names


def test_another_threads_rendering_is_not_heard():
    heard: list[int] = []
    other: list[int] = []

    def render_elsewhere():
        other.append(len(html_to_pdf(THREE_PAGES)))  # no listener of its own

    listening = threading.Event()

    def slow_listener(number: int) -> None:
        heard.append(number)
        if number == 1:
            thread = threading.Thread(target=render_elsewhere)
            thread.start()
            thread.join()
            listening.set()

    html_to_pdf(THREE_PAGES, on_page=slow_listener)
    assert listening.is_set() and other and heard == [1, 2, 3]


def test_a_listener_that_raises_stops_the_rendering():
    class Stop(Exception):
        pass

    def stop_at_two(number: int) -> None:
        if number == 2:
            raise Stop

    with pytest.raises(Stop):
        html_to_pdf(THREE_PAGES, on_page=stop_at_two)
    assert html_to_pdf(THREE_PAGES).startswith(b"%PDF")  # nothing left listening
