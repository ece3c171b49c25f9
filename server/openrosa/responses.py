"""OpenRosa documents and headers (built with lxml, so every value is escaped)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import formatdate

from flask import Response, current_app
from lxml import etree
from lxml.builder import ElementMaker

from server.errors import AppError

XFORMS_LIST_NS = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"
RESPONSE_NS = "http://openrosa.org/http/response"
XML_CONTENT_TYPE = "text/xml; charset=utf-8"


@dataclass(frozen=True, slots=True)
class FormListEntry:
    xml_form_id: str
    name: str
    version: str
    md5: str
    download_url: str
    manifest_url: str | None


@dataclass(frozen=True, slots=True)
class MediaEntry:
    filename: str
    md5: str
    download_url: str


def _serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def form_list(entries: Iterable[FormListEntry]) -> bytes:
    e = ElementMaker(namespace=XFORMS_LIST_NS, nsmap={None: XFORMS_LIST_NS})
    xforms = e.xforms()
    for entry in entries:
        xform = e.xform(
            e.formID(entry.xml_form_id),
            e.name(entry.name),
            e.version(entry.version),
            e.hash(f"md5:{entry.md5}"),
            e.downloadUrl(entry.download_url),
        )
        if entry.manifest_url:
            xform.append(e.manifestUrl(entry.manifest_url))
        xforms.append(xform)
    return _serialize(xforms)


def manifest(entries: Iterable[MediaEntry]) -> bytes:
    e = ElementMaker(namespace=MANIFEST_NS, nsmap={None: MANIFEST_NS})
    root = e.manifest()
    for entry in entries:
        root.append(
            e.mediaFile(
                e.filename(entry.filename),
                e.hash(f"md5:{entry.md5}"),
                e.downloadUrl(entry.download_url),
            )
        )
    return _serialize(root)


def message(text: str, *, nature: str = "") -> bytes:
    e = ElementMaker(namespace=RESPONSE_NS, nsmap={None: RESPONSE_NS})
    return _serialize(e.OpenRosaResponse(e.message(text, nature=nature), items="0"))


def xml_response(body: bytes, status: int = 200, *, etag: bool = False) -> Response:
    response = Response(body, status=status, content_type=XML_CONTENT_TYPE)
    if etag:
        response.set_etag(hashlib.md5(body, usedforsecurity=False).hexdigest())
    return response


def message_response(text: str, status: int, *, nature: str = "") -> Response:
    return xml_response(message(text, nature=nature), status)


def error_response(error: AppError) -> Response:
    return message_response(error.message, error.status, nature="error")


def add_protocol_headers(response: Response) -> Response:
    """Headers every OpenRosa response carries (Collect rejects lists without the version)."""
    response.headers["X-OpenRosa-Version"] = "1.0"
    response.headers["X-OpenRosa-Accept-Content-Length"] = str(
        current_app.config["OPENROSA_ACCEPT_CONTENT_LENGTH"]
    )
    response.headers.setdefault("Date", formatdate(usegmt=True))
    response.headers["Content-Language"] = "vi"
    # Collect keeps an HTTP cache; lists and manifests must be revalidated every time.
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.add("Accept-Encoding")
    return response
