"""Reading what rasoat needs out of an XForm document (pure; no database).

:func:`inspect_xform` returns the form's identity (``id``, ``version``, title, root element),
the type of every leaf field of the primary instance (from its ``<bind type>``), the repeat
groups, and the media files the form expects — the names of ``jr://…`` references, of
``search('name')`` appearances (which need ``name.csv``) and of ``itemsets.csv`` when an input
uses an external itemset query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from server.errors import AppError
from server.xmlsafe import local_name, parse_xml

XFORMS_NS = "http://www.w3.org/2002/xforms"
XHTML_NS = "http://www.w3.org/1999/xhtml"
_NS = {"xf": XFORMS_NS, "h": XHTML_NS}

_MEDIA_REF = re.compile(r"jr://(?:images|audio|video|file|file-csv)/([^\s\"'<>]+)")
_WHOLE_MEDIA_REF = re.compile(r"jr://(?:images|audio|video|file|file-csv)/([^\"'<>]+)")
_SEARCH_APPEARANCE = re.compile(r"search\(\s*'([^']+)'")


@dataclass(frozen=True, slots=True)
class FieldInfo:
    path: str
    type: str


@dataclass(frozen=True, slots=True)
class XFormInfo:
    xml_form_id: str
    version: str
    title: str
    root_name: str
    fields: tuple[FieldInfo, ...]
    repeats: tuple[str, ...]
    media: tuple[str, ...]


def _invalid(message_vi: str, message_en: str) -> AppError:
    return AppError("form.invalid_xform", 400, message_vi, message_en)


def inspect_xform(data: bytes, *, max_bytes: int = 20_000_000) -> XFormInfo:
    """Describe an XForm.

    :raises AppError: ``form.invalid_xform`` when the document is not an XForm rasoat can serve
        (no primary instance, no ``id``, no ``version``), or an ``xml.*`` error.
    """
    root = parse_xml(data, max_bytes=max_bytes, what="biểu mẫu XForm")
    model = root.find("h:head/xf:model", _NS)
    if model is None:
        raise _invalid("Không tìm thấy <model> trong biểu mẫu.", "The XForm has no <model>.")
    primary = next((i for i in model.findall("xf:instance", _NS) if i.get("id") is None), None)
    data_root = None if primary is None else next(iter(primary.iterchildren(etree.Element)), None)
    if data_root is None:
        raise _invalid("Biểu mẫu không có instance chính.", "The XForm has no primary instance.")
    xml_form_id = data_root.get("id") or ""
    if not xml_form_id:
        raise _invalid(
            "Instance chính của biểu mẫu thiếu thuộc tính id (form_id).",
            "The primary instance has no id attribute (form_id).",
        )
    version = data_root.get("version") or ""
    if not version:
        raise _invalid(
            "Biểu mẫu chưa có phiên bản (version trong sheet settings).",
            "The form has no version (settings sheet 'version').",
        )
    title_el = root.find("h:head/h:title", _NS)
    title = (title_el.text or "").strip() if title_el is not None else ""

    bind_types = {
        bind.get("nodeset"): (bind.get("type") or "string").split(":")[-1]
        for bind in model.findall("xf:bind", _NS)
        if bind.get("nodeset")
    }
    fields: list[FieldInfo] = []
    seen: set[str] = set()
    for element in data_root.iter(etree.Element):
        if element is data_root or len(element) > 0:
            continue
        path = _path(element, data_root)
        if path not in seen:  # a repeat appears twice: its jr:template and a first instance
            seen.add(path)
            fields.append(FieldInfo(path, bind_types.get(path, "string")))

    body = root.find("h:body", _NS)
    repeats = (
        tuple(
            sorted(
                {r.get("nodeset") for r in body.iter(f"{{{XFORMS_NS}}}repeat") if r.get("nodeset")}
            )
        )
        if body is not None
        else ()
    )

    media: set[str] = set()
    for element in root.iter(etree.Element):
        for value in [element.text or "", *element.attrib.values()]:
            whole = _WHOLE_MEDIA_REF.fullmatch(value.strip())
            if whole:  # an itext value or src that is exactly one reference may hold spaces
                media.add(whole.group(1).rsplit("/", 1)[-1])
            else:
                media.update(m.rsplit("/", 1)[-1] for m in _MEDIA_REF.findall(value))
        appearance = element.get("appearance") or ""
        media.update(f"{name}.csv" for name in _SEARCH_APPEARANCE.findall(appearance))
        if local_name(element) in ("select1", "select") and element.get("query"):
            media.add("itemsets.csv")
    return XFormInfo(
        xml_form_id=xml_form_id,
        version=version,
        title=title or xml_form_id,
        root_name=local_name(data_root),
        fields=tuple(fields),
        repeats=repeats,
        media=tuple(sorted(media)),
    )


def _path(element: etree._Element, data_root: etree._Element) -> str:
    """Absolute XForm path of an instance node, e.g. ``/data/members/age``."""
    names = []
    node = element
    while node is not None and node is not data_root:
        names.append(local_name(node))
        node = node.getparent()
    names.append(local_name(data_root))
    return "/" + "/".join(reversed(names))
