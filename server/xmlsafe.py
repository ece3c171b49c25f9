"""The one way rasoat reads XML from outside.

Every document from a phone, an uploaded form or a test goes through :func:`parse_xml`:
no DTD is loaded, no entity is expanded, nothing is fetched from the network, the size is
capped before parsing and a document that declares a DOCTYPE is refused outright (no XForm or
OpenRosa submission needs one, and it is how XXE and "billion laughs" attacks arrive).
"""

from __future__ import annotations

from lxml import etree

from server.errors import AppError


class XmlRejected(AppError):
    """Raised for XML that is malformed, too large or hostile."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(data: bytes, *, max_bytes: int, what: str = "XML") -> etree._Element:
    """Parse untrusted bytes into an element tree root.

    :param data: the raw document.
    :param max_bytes: refuse anything larger before the parser sees it.
    :param what: a short name for messages ("submission", "form").
    :raises XmlRejected: ``xml.too_large`` (413), ``xml.malformed`` (400), ``xml.doctype`` (400).
    """
    if len(data) > max_bytes:
        raise XmlRejected(
            "xml.too_large",
            413,
            f"Tệp {what} quá lớn ({len(data):,} byte, tối đa {max_bytes:,} byte).",
            f"The {what} is too large ({len(data):,} bytes, at most {max_bytes:,}).",
        )
    if not data.strip():
        raise XmlRejected("xml.malformed", 400, f"Tệp {what} trống.", f"The {what} is empty.")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise XmlRejected(
            "xml.malformed",
            400,
            f"Tệp {what} không phải XML hợp lệ: {exc.msg}.",
            f"The {what} is not well-formed XML: {exc.msg}.",
        ) from None
    if root.getroottree().docinfo.doctype:
        raise XmlRejected(
            "xml.doctype",
            400,
            f"Tệp {what} chứa khai báo DOCTYPE, không được phép.",
            f"The {what} contains a DOCTYPE declaration, which is not allowed.",
        )
    return root


def local_name(element: etree._Element) -> str:
    """The element's name without its namespace (submissions may or may not use one)."""
    return etree.QName(element).localname
