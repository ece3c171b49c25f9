"""The one way rasoat reads XML from outside.

Every document from a phone, an uploaded form or a test goes through :func:`parse_xml`:
no DTD is loaded, no entity is expanded, nothing is fetched from the network, the size is
capped before parsing and a document that declares a DOCTYPE is refused outright (no XForm or
OpenRosa submission needs one, and it is how XXE and "billion laughs" attacks arrive).

A caller may also bound the number of elements and their depth: the document is then parsed
incrementally and refused as soon as a bound is crossed, so a million tiny elements cost the
time to read the first few thousand, not to build (and later walk) a million-node tree.
"""

from __future__ import annotations

from lxml import etree

from server.errors import AppError


class XmlRejected(AppError):
    """Raised for XML that is malformed, too large or hostile."""


_HARDENED = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}
# Bytes handed to the incremental parser at a time when elements are counted.
_CHUNK = 64 * 1024


def _parser() -> etree.XMLParser:
    return etree.XMLParser(**_HARDENED)


def parse_xml(
    data: bytes,
    *,
    max_bytes: int,
    what: str = "XML",
    max_elements: int | None = None,
    max_depth: int | None = None,
) -> etree._Element:
    """Parse untrusted bytes into an element tree root.

    :param data: the raw document.
    :param max_bytes: refuse anything larger before the parser sees it.
    :param what: a short name for messages ("submission", "form").
    :param max_elements: refuse a document with more elements (counted while parsing).
    :param max_depth: refuse a document nested deeper (the root is depth 1).
    :raises XmlRejected: ``xml.too_large`` (413), ``xml.malformed`` (400), ``xml.doctype`` (400),
        ``xml.too_many_elements`` (413), ``xml.too_deep`` (400).
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
        if max_elements is None and max_depth is None:
            root = etree.fromstring(data, parser=_parser())
        else:
            root = _parse_bounded(data, what, max_elements, max_depth)
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


def _parse_bounded(
    data: bytes, what: str, max_elements: int | None, max_depth: int | None
) -> etree._Element:
    """Parse in chunks, counting elements and depth from the parser's events; stop at a bound."""
    parser = etree.XMLPullParser(events=("start", "end"), **_HARDENED)
    elements = depth = 0
    for offset in range(0, len(data), _CHUNK):
        parser.feed(data[offset : offset + _CHUNK])
        for event, _element in parser.read_events():
            if event == "end":
                depth -= 1
                continue
            elements += 1
            depth += 1
            if max_elements is not None and elements > max_elements:
                raise XmlRejected(
                    "xml.too_many_elements",
                    413,
                    f"Tệp {what} có quá nhiều phần tử (hơn {max_elements:,}); "
                    f"không có phiếu thật nào lớn như vậy.",
                    f"The {what} has too many elements (more than {max_elements:,}).",
                )
            if max_depth is not None and depth > max_depth:
                raise XmlRejected(
                    "xml.too_deep",
                    400,
                    f"Tệp {what} lồng nhau quá sâu (hơn {max_depth} cấp).",
                    f"The {what} is nested too deeply (more than {max_depth} levels).",
                )
    return parser.close()


def local_name(element: etree._Element) -> str:
    """The element's name without its namespace (submissions may or may not use one)."""
    return etree.QName(element).localname
