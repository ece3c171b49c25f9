"""The submission bounds leave a wide margin over the largest real questionnaire."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from lxml import etree

from server.config import Defaults
from server.submissions.parsing import parse_submission
from server.xmlsafe import XmlRejected, parse_xml

FORMS = Path(__file__).resolve().parents[2] / "forms"
XF = "{http://www.w3.org/2002/xforms}"


def _phieu_b_instance(members: int) -> bytes:
    """Phiếu B's primary instance with ``members`` member groups, every field filled."""
    xform = etree.parse(str(FORMS / "phieu_b_2027.xml"))
    data = copy.deepcopy(xform.find(f".//{XF}instance")[0])
    template = next(c for c in data if etree.QName(c).localname == "members")
    for old in [c for c in data if etree.QName(c).localname == "members"]:
        data.remove(old)
    index = 0
    for _ in range(members):
        member = copy.deepcopy(template)
        member.attrib.clear()
        data.insert(index + 1, member)
        index += 1
    for element in data.iter():
        if len(element) == 0:
            element.text = "Nguyễn Thị Một Hai Ba" if element.text is None else element.text
    meta = next(c for c in data if etree.QName(c).localname == "meta")
    next(c for c in meta if etree.QName(c).localname == "instanceID").text = "uuid:b30"
    for element in data.iter():
        element.tag = etree.QName(element).localname  # Collect writes no default namespace
    etree.cleanup_namespaces(data)
    return etree.tostring(data, xml_declaration=True, encoding="UTF-8")


def test_a_thirty_member_phieu_b_fits_sixteen_times_over():
    xml = _phieu_b_instance(30)
    parsed = parse_submission(xml, max_bytes=Defaults.MAX_SUBMISSION_XML_BYTES)
    elements = sum(1 for _ in parsed.root.iter(etree.Element))
    assert 1_000 < elements < Defaults.MAX_SUBMISSION_ELEMENTS / 16
    depth = max(len(list(e.iterancestors())) + 1 for e in parsed.root.iter(etree.Element))
    assert depth * 8 <= Defaults.MAX_SUBMISSION_DEPTH


def test_bounds_are_counted_exactly():
    xml = b"<r>" + b"<a/>" * 9 + b"</r>"
    assert len(parse_xml(xml, max_bytes=100, max_elements=10)) == 9
    with pytest.raises(XmlRejected) as refused:
        parse_xml(xml, max_bytes=100, max_elements=9)
    assert (refused.value.code, refused.value.status) == ("xml.too_many_elements", 413)
    nested = b"<a><b><c/></b></a>"
    assert parse_xml(nested, max_bytes=100, max_depth=3).tag == "a"
    with pytest.raises(XmlRejected) as refused:
        parse_xml(nested, max_bytes=100, max_depth=2)
    assert (refused.value.code, refused.value.status) == ("xml.too_deep", 400)


def test_bounded_parsing_keeps_the_hardened_settings():
    with pytest.raises(XmlRejected) as refused:
        parse_xml(
            b'<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><r>&e;</r>',
            max_bytes=1_000,
            max_elements=10,
            max_depth=5,
        )
    assert refused.value.code == "xml.doctype"
    root = parse_xml(b"<r><!-- c --><?pi x?><a/></r>", max_bytes=100, max_elements=5)
    assert [child.tag for child in root] == ["a"]


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode(),
        lambda text: text.encode("utf-16"),
        lambda text: ('<?xml version="1.0" encoding="UTF-16BE"?>' + text).encode("utf-16-be"),
    ],
    ids=["utf-8", "utf-16-bom", "utf-16-declared"],
)
def test_the_bound_holds_in_any_encoding(encode):
    """Whichever way the document is read (from its bytes' "<" count, or counted while
    parsing), the same documents pass and fail."""
    assert len(parse_xml(encode("<r>" + "<a/>" * 10 + "</r>"), max_bytes=10_000, max_elements=11))
    with pytest.raises(XmlRejected) as refused:
        parse_xml(encode("<r>" + "<a/>" * 11 + "</r>"), max_bytes=10_000, max_elements=11)
    assert refused.value.code == "xml.too_many_elements"


def test_markup_inside_cdata_is_not_counted():
    xml = b"<r><![CDATA[" + b"<x>" * 100 + b"]]><a/></r>"
    assert len(parse_xml(xml, max_bytes=10_000, max_elements=2, max_depth=2)) == 1
