"""Reading an OpenRosa submission instance (pure; no database).

Collect writes the instance without the XForms default namespace and ``meta`` may be plain or
``orx:meta``; the ODK Web Forms engine writes no XML declaration.  Everything is therefore read
by local name.  The version may be ``@version`` or ``@orx:version``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from lxml import etree

from server.config import Defaults
from server.errors import AppError
from server.xmlsafe import local_name, parse_xml

XFORMS_NS = "http://www.w3.org/2002/xforms"
ORX_NS = "http://openrosa.org/xforms"
ENCRYPTED_NS = "http://www.opendatakit.org/xforms/encrypted"
JR_NS = "http://openrosa.org/javarosa"
MAX_ID_LENGTH = 255


@dataclass(frozen=True, slots=True)
class ParsedSubmission:
    xml_form_id: str
    version: str
    instance_id: str
    deprecated_id: str | None
    instance_name: str | None
    root_name: str
    root: etree._Element


def _bad(code: str, message_vi: str, message_en: str) -> AppError:
    return AppError(code, 400, message_vi, message_en)


def parse_submission(
    data: bytes,
    *,
    max_bytes: int,
    max_elements: int = Defaults.MAX_SUBMISSION_ELEMENTS,
    max_depth: int = Defaults.MAX_SUBMISSION_DEPTH,
) -> ParsedSubmission:
    """Parse the ``xml_submission_file`` part.

    The element count and depth are bounded while parsing, so that a hostile instance is
    refused before a tree is built, its answers flattened or anything stored.

    :raises AppError: ``xml.*`` (including ``xml.too_many_elements`` 413, ``xml.too_deep``);
        ``submission.wrong_namespace``, ``submission.encrypted``,
        ``submission.no_form_id``, ``submission.no_instance_id``, ``submission.bad_instance_id``.
    """
    root = parse_xml(
        data,
        max_bytes=max_bytes,
        what="phiếu (submission)",
        max_elements=max_elements,
        max_depth=max_depth,
    )
    namespace = etree.QName(root).namespace
    if namespace == ENCRYPTED_NS or root.get("encrypted") == "yes":
        raise _bad(
            "submission.encrypted",
            "Máy chủ không nhận phiếu đã mã hoá; hãy dùng biểu mẫu không bật mã hoá.",
            "Encrypted submissions are not accepted; use the form without encryption.",
        )
    if namespace not in (None, XFORMS_NS):
        raise _bad(
            "submission.wrong_namespace",
            f"Phiếu có không gian tên XML lạ ({namespace}); đây không phải phiếu ODK.",
            f"The submission root has an unexpected namespace ({namespace}).",
        )
    xml_form_id = (root.get("id") or "").strip()
    if not xml_form_id:
        raise _bad(
            "submission.no_form_id",
            "Phiếu thiếu mã biểu mẫu (thuộc tính id ở phần tử gốc).",
            "The submission root has no id attribute.",
        )
    version = (root.get("version") or root.get(f"{{{ORX_NS}}}version") or "").strip()

    meta = next((c for c in root if isinstance(c.tag, str) and local_name(c) == "meta"), None)

    def meta_value(name: str) -> str | None:
        if meta is None:
            return None
        node = next((c for c in meta if isinstance(c.tag, str) and local_name(c) == name), None)
        text = (node.text or "").strip() if node is not None else ""
        return text or None

    instance_id = meta_value("instanceID") or (root.get("instanceID") or "").strip() or None
    if instance_id is None:
        raise _bad(
            "submission.no_instance_id",
            "Phiếu thiếu meta/instanceID; hãy dùng biểu mẫu có trường instanceID.",
            "The submission has no meta/instanceID.",
        )
    deprecated_id = meta_value("deprecatedID")
    for value in (instance_id, deprecated_id):
        if value is not None and len(value) > MAX_ID_LENGTH:
            raise _bad(
                "submission.bad_instance_id",
                f"instanceID dài quá {MAX_ID_LENGTH} ký tự.",
                f"The instanceID is longer than {MAX_ID_LENGTH} characters.",
            )
    return ParsedSubmission(
        xml_form_id=xml_form_id,
        version=version,
        instance_id=instance_id,
        deprecated_id=deprecated_id,
        instance_name=meta_value("instanceName"),
        root_name=local_name(root),
        root=root,
    )


def extract_fields(root: etree._Element, repeats: frozenset[str]) -> dict[str, str]:
    """Flatten the answers: ``{"group/field": value, "members[2]/age": value}``.

    :param repeats: absolute XForm paths of repeat groups (``/data/members``); their instances
        are numbered from 1 in document order.  Any other element that occurs more than once
        under the same parent is numbered too, so no answer is ever overwritten.
    """
    fields: dict[str, str] = {}
    root_path = "/" + local_name(root)

    def walk(element: etree._Element, key: str, schema_path: str) -> None:
        children = [
            c for c in element if isinstance(c.tag, str) and c.get(f"{{{JR_NS}}}template") is None
        ]
        if not children:
            if key:
                fields[key] = element.text or ""
            return
        totals = Counter(local_name(c) for c in children)
        seen: Counter[str] = Counter()
        for child in children:
            name = local_name(child)
            child_schema = f"{schema_path}/{name}"
            seen[name] += 1
            indexed = child_schema in repeats or totals[name] > 1
            segment = f"{name}[{seen[name]}]" if indexed else name
            walk(child, f"{key}/{segment}" if key else segment, child_schema)

    walk(root, "", root_path)
    return fields


def field_schema_path(root_name: str, key: str) -> str:
    """The form path of a field key: ``members[2]/age`` → ``/data/members/age``."""
    parts = [p.split("[", 1)[0] for p in key.split("/")]
    return "/" + "/".join([root_name, *parts])
