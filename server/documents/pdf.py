"""HTML → PDF with WeasyPrint (fonts from the system: Debian's DejaVu covers Vietnamese).

No network: documents are rendered with a URL fetcher that refuses everything except the app's
own static files, so rendering can never make the server fetch a remote resource.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import HTML
from weasyprint.urls import URLFetcher

STATIC = Path(__file__).resolve().parents[1] / "static"


class _LocalOnly(URLFetcher):
    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        path = Path(unquote(parts.path)).resolve()
        if parts.scheme != "file" or not path.is_relative_to(STATIC):
            raise ValueError(f"refused to fetch {url!r} while rendering a document")
        return super().fetch(url, headers)


def html_to_pdf(html: str) -> bytes:
    """Render a whole HTML document (its CSS inline or from ``server/static``)."""
    return HTML(
        string=html,
        base_url=f"file://{STATIC}/",
        url_fetcher=_LocalOnly(allowed_protocols={"file"}),
    ).write_pdf()
