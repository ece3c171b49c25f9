"""The one way rasoat reads XML from outside.

Every document from a phone, an uploaded form or a test goes through :func:`parse_xml`:
no DTD is loaded, no entity is expanded, nothing is fetched from the network, the size is
capped before parsing and a document that declares a DOCTYPE is refused outright (no XForm or
OpenRosa submission needs one, and it is how XXE and "billion laughs" attacks arrive).

A caller may also bound the number of elements and their depth.  A document whose bytes show
it cannot exceed the element bound (fewer start-tag ``<`` than the bound) is parsed at C speed
and then checked in C (XPath ``count``); any other is parsed incrementally and refused as soon
as a bound is crossed, so a million tiny elements cost the time to read the first few
thousand, not to build (and later walk) a million-node tree.
"""

from __future__ import annotations

import gc
import re

from lxml import etree

from server.errors import AppError
from server.i18n import vi_number


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
_CHUNK = 16 * 1024
# Encodings in which every "<" of the document is the byte 0x3C (what _element_bound counts).
_ASCII_COMPATIBLE = {b"utf-8", b"utf8", b"us-ascii", b"ascii", b"iso-8859-1", b"latin1"}
_DECLARATION = re.compile(rb"""\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")


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
            f"Tệp {what} quá lớn ({vi_number(len(data))} byte, "
            f"tối đa {vi_number(max_bytes)} byte).",
            f"The {what} is too large ({len(data):,} bytes, at most {max_bytes:,}).",
        )
    if not data.strip():
        raise XmlRejected("xml.malformed", 400, f"Tệp {what} trống.", f"The {what} is empty.")
    try:
        bound = 0 if max_elements is None else _element_bound(data)
        if max_elements is None and max_depth is None:
            root = etree.fromstring(data, parser=_parser())
        elif bound is not None and (max_elements is None or bound <= max_elements):
            root = etree.fromstring(data, parser=_parser())
            _check_shape(root, what, max_elements, max_depth)
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


def _too_many(what: str, max_elements: int) -> XmlRejected:
    return XmlRejected(
        "xml.too_many_elements",
        413,
        f"Tệp {what} có quá nhiều phần tử (hơn {vi_number(max_elements)}); "
        f"không có phiếu thật nào lớn như vậy.",
        f"The {what} has too many elements (more than {max_elements:,}).",
    )


def _too_deep(what: str, max_depth: int) -> XmlRejected:
    return XmlRejected(
        "xml.too_deep",
        400,
        f"Tệp {what} lồng nhau quá sâu (hơn {max_depth} cấp).",
        f"The {what} is nested too deeply (more than {max_depth} levels).",
    )


def _element_bound(data: bytes) -> int | None:
    """At least the number of elements, read from the bytes alone (no parsing), or None when
    the encoding may write "<" otherwise than as the byte 0x3C.

    Every start tag begins with a "<"; every other "<" starts an end tag, a comment, CDATA, a
    declaration or a processing instruction, or lies inside one of those.
    """
    head = data[3:200] if data.startswith(b"\xef\xbb\xbf") else data[:200]
    if not head.lstrip().startswith(b"<"):
        return None
    declared = _DECLARATION.match(head)
    if declared and declared.group(1).lower() not in _ASCII_COMPATIBLE:
        return None
    return data.count(b"<") - data.count(b"</") - data.count(b"<!") - data.count(b"<?")


def _check_shape(
    root: etree._Element, what: str, max_elements: int | None, max_depth: int | None
) -> None:
    """Check a parsed tree against the bounds, in C (XPath), creating no Python object per
    element."""
    if max_elements is not None and root.xpath("count(//*)") > max_elements:
        raise _too_many(what, max_elements)
    if max_depth is not None and root.xpath("boolean(" + "/".join(["*"] * max_depth) + ")"):
        raise _too_deep(what, max_depth)


def _parse_bounded(
    data: bytes, what: str, max_elements: int | None, max_depth: int | None
) -> etree._Element:
    """Parse in chunks, counting elements and depth from the parser's events; stop at a bound.

    Each event makes a Python proxy of its element, freed at once; the cyclic garbage collector
    is paused meanwhile (at most ``max_elements`` events), because in a large process (a
    gunicorn worker) those allocations would trigger full collections costing a second.
    """
    parser = etree.XMLPullParser(events=("start", "end"), **_HARDENED)
    elements = depth = 0
    collecting = gc.isenabled()
    gc.disable()
    try:
        for offset in range(0, len(data), _CHUNK):
            parser.feed(data[offset : offset + _CHUNK])
            for event, _element in parser.read_events():
                if event == "end":
                    depth -= 1
                    continue
                elements += 1
                depth += 1
                if max_elements is not None and elements > max_elements:
                    raise _too_many(what, max_elements)
                if max_depth is not None and depth > max_depth:
                    raise _too_deep(what, max_depth)
        return parser.close()
    finally:
        if collecting:
            gc.enable()


def local_name(element: etree._Element) -> str:
    """The element's name without its namespace (submissions may or may not use one)."""
    return etree.QName(element).localname
