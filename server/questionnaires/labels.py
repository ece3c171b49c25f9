"""Questionnaire labels for showing a submission to staff (pure; no database).

:func:`form_labels` reads an XForm once and returns, for every group, repeat and field of the
primary instance, the label a reviewer saw on the phone (in Vietnamese or English), the kind of
control that asked it and, for select questions with a static choice list, the label of every
choice.  :func:`labelled_answers` then turns a submission's flattened answers
(:attr:`SubmissionVersion.fields`, e.g. ``{"members[2]/info/age": "31"}``) into rows, in the
order of the form, ready to render.

Paths here are relative to the instance root and carry no repeat index (``members/info/age``);
answer rows carry the indexed path of the answer (``members[2]/info/age``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from types import MappingProxyType
from typing import Literal, cast

from lxml import etree

from server.errors import AppError
from server.i18n import local_time
from server.xmlsafe import local_name, parse_xml

XFORMS_NS = "http://www.w3.org/2002/xforms"
XHTML_NS = "http://www.w3.org/1999/xhtml"
JR_NS = "http://openrosa.org/javarosa"
_NS = {"xf": XFORMS_NS, "h": XHTML_NS}

#: Body elements that ask (or show) one field, by local name.
_CONTROLS = frozenset(
    {"input", "select1", "select", "upload", "trigger", "range", "rank", "textarea", "secret"}
)
_MULTIPLE = frozenset({"select", "rank"})

_ITEXT_LITERAL = re.compile(r"""^\s*jr:itext\(\s*['"]([^'"]*)['"]\s*\)\s*$""")
_ITEXT_NODE = re.compile(r"""^\s*jr:itext\(\s*([A-Za-z_][\w.-]*)\s*\)\s*$""")
_INSTANCE_CALL = re.compile(r"""^\s*instance\(\s*['"]([^'"]+)['"]\s*\)(.*)$""", re.S)
_INDEXED = re.compile(r"^(.*)\[(\d+)\]$")

_OUTPUT_MARK = "…"
# While a label is cleaned, its n-th <output/> is held by the private-use character U+E000+n,
# which no markdown or HTML rule touches; the label shows "…" there, and a submission's page
# the answer the output names (see :class:`LabelTemplate`).
_SLOT = 0xE000
_MAX_SLOTS = 0x100
_SLOTS = re.compile("[\ue000-\ue0ff]")
_EMPTY = "\ue100"  # an output whose answer is empty, removed with the separator before it
_PRIVATE = re.compile("[\ue000-\ue100]")  # never taken from a form's own text
_SIMPLE_REF = re.compile(r"^(?:\.\./)*(?:\.|[A-Za-z_][\w.-]*(?:/[A-Za-z_][\w.-]*)*)$")
_HTML_BREAK = re.compile(r"<\s*(?:br|/p|/div|/h[1-6]|/li)\s*/?\s*>", re.I)
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MD_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_MD_EM_STAR = re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])")
_MD_EM_UNDERSCORE = re.compile(r"(?<![\w_])_(?=\S)([^_]+?)(?<=\S)_(?![\w_])")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.M)
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>])")
_SPACES = re.compile(r"\s+")

Control = Literal[
    "input", "select1", "select", "upload", "trigger", "range", "rank", "textarea", "secret", "none"
]


@dataclass(frozen=True, slots=True)
class LabelTemplate:
    """A label that shows answers (``<output value="../member_no"/>``): its text with slot
    characters where the outputs are, and the path each output names (no root, no repeat
    index; None when the output is an expression rather than a path)."""

    text: str
    refs: tuple[str | None, ...]


@dataclass(frozen=True, slots=True)
class GroupLabel:
    """A group or repeat of the primary instance."""

    path: str  # "members/info", no root, no repeat index
    name: str  # "info"
    label: str  # readable text; the name when the form gives none
    repeat: bool
    template: LabelTemplate | None = None  # when the label shows answers


@dataclass(frozen=True, slots=True)
class FieldLabel:
    """A leaf of the primary instance."""

    path: str  # "members/info/age", no root, no repeat index
    name: str  # "age"
    label: str  # readable text: markdown/HTML stripped, <output/> shown as "…"
    control: Control  # body element that asks it; "none" for calculates and hidden fields
    type: str  # bind type without prefix: string, int, decimal, date, binary…
    # value → label for selects with a static list (itext or inline <item>); None when the
    # choices come from a file or another instance (CSV, instance('households'), a repeat…).
    choices: Mapping[str, str] | None
    # The value was computed by the form (calculate, preload or a field with no control),
    # not typed or chosen by the reviewer.
    calculated: bool
    # A read-only message with no answer of its own (an XLSForm "note").
    note: bool
    template: LabelTemplate | None = None  # when the label shows answers


@dataclass(frozen=True, slots=True)
class FormLabels:
    """Labels of one XForm in one language."""

    title: str
    root_name: str
    language: str | None  # the itext translation used ("English (en)"), None if none
    groups: Mapping[str, GroupLabel]  # by path, in document order
    fields: Mapping[str, FieldLabel]  # by path, in document order
    order: tuple[str, ...]  # every group and field path, in document (pre-)order

    def label(self, path: str) -> str:
        """The label of a field or group path (repeat indexes allowed); the path if unknown."""
        bare = strip_indexes(path)
        item = self.fields.get(bare) or self.groups.get(bare)
        return item.label if item is not None else path


@dataclass(frozen=True, slots=True)
class AnswerRow:
    """One line of the submission page.

    ``kind`` is ``"group"`` or ``"repeat"`` for a heading (``value``/``display`` are None;
    a repeat heading is emitted once per repeat instance, with ``instance`` set), and
    ``"answer"`` for an answer.
    """

    kind: Literal["group", "repeat", "answer"]
    path: str  # with repeat indexes: "members[2]/info/age"; headings: "members[2]/info"
    label: str
    value: str | None = None  # raw submitted value
    display: str | None = None  # choice labels ("; "-joined for select multiple), else raw
    control: str | None = None  # FieldLabel.control; None for headings and unknown paths
    type: str | None = None  # FieldLabel.type; None for headings and unknown paths
    instance: int | None = None  # number (from 1) of the innermost enclosing repeat instance
    depth: int = 0  # nesting level, for indentation
    calculated: bool = False
    # False: the answer could not be placed in the form's structure (the form changed); such
    # rows come last, labelled with the raw path unless the form knows the field.
    known: bool = True
    # The label shows this instance's answers ("Người thứ 2 — Y Bình: việc làm"), so a heading
    # needs no instance number beside it.
    filled: bool = False


def _invalid(message_vi: str, message_en: str) -> AppError:
    return AppError("form.invalid_xform", 400, message_vi, message_en)


def strip_indexes(path: str) -> str:
    """``members[2]/info/age`` → ``members/info/age``."""
    return "/".join(segment.split("[", 1)[0] for segment in path.split("/"))


def form_labels(xform: bytes, lang: str = "vi", *, max_bytes: int = 20_000_000) -> FormLabels:
    """Read the labels of an XForm.

    :param lang: ``"vi"`` or ``"en"``: the itext translation whose name contains ``(vi)`` /
        ``(en)`` (or is exactly ``lang``); texts it lacks come from the default translation,
        then from a plain ``<label>``, then the field's name.
    :raises AppError: ``form.invalid_xform`` or ``xml.*``.
    """
    return _form_labels(bytes(xform), lang, max_bytes)


@lru_cache(maxsize=32)
def _form_labels(xform: bytes, lang: str, max_bytes: int) -> FormLabels:
    root = parse_xml(xform, max_bytes=max_bytes, what="biểu mẫu XForm")
    model = root.find("h:head/xf:model", _NS)
    if model is None:
        raise _invalid("Không tìm thấy <model> trong biểu mẫu.", "The XForm has no <model>.")
    instances = model.findall("xf:instance", _NS)
    primary = next((i for i in instances if i.get("id") is None), None)
    data_root = None if primary is None else next(iter(primary.iterchildren(etree.Element)), None)
    if data_root is None:
        raise _invalid("Biểu mẫu không có instance chính.", "The XForm has no primary instance.")
    root_name = local_name(data_root)
    title_el = root.find("h:head/h:title", _NS)
    title = _SPACES.sub(" ", title_el.text or "").strip() if title_el is not None else ""

    texts = _Texts(model, lang)
    secondary = {i.get("id"): i for i in instances if i.get("id") is not None}
    binds = {
        _relative(bind.get("nodeset") or "", root_name): bind
        for bind in model.findall("xf:bind", _NS)
        if bind.get("nodeset")
    }
    bind_ids = {bind.get("id"): path for path, bind in binds.items() if bind.get("id")}

    body = _Body(texts, secondary, root_name, bind_ids)
    body_el = root.find("h:body", _NS)
    if body_el is not None:
        body.walk(body_el, "")

    groups: dict[str, GroupLabel] = {}
    fields: dict[str, FieldLabel] = {}
    order: list[str] = []
    for element in data_root.iter(etree.Element):
        if element is data_root:
            continue
        path = _instance_path(element, data_root)
        if path in groups or path in fields:  # a repeat's jr:template and its first instance
            continue
        name = local_name(element)
        order.append(path)
        if len(element) > 0:
            groups[path] = GroupLabel(
                path=path,
                name=name,
                label=body.group_labels.get(path) or name,
                repeat=path in body.repeats or element.get(f"{{{JR_NS}}}template") is not None,
                template=body.templates.get(path),
            )
            continue
        bind = binds.get(path)
        control = body.controls.get(path, "none")
        computed = bind is not None and (
            bind.get("calculate") is not None or bind.get(f"{{{JR_NS}}}preload") is not None
        )
        readonly = bind is not None and (bind.get("readonly") or "").strip() in ("true()", "true")
        fields[path] = FieldLabel(
            path=path,
            name=name,
            label=body.labels.get(path) or _preload_label(bind, lang) or name,
            control=control,
            type=((bind.get("type") if bind is not None else None) or "string").split(":")[-1],
            choices=body.choices.get(path),
            calculated=computed or control == "none",
            note=control == "input" and readonly and not computed,
            template=body.templates.get(path),
        )
    return FormLabels(
        title=title or (data_root.get("id") or root_name),
        root_name=root_name,
        language=texts.language,
        groups=MappingProxyType(groups),
        fields=MappingProxyType(fields),
        order=tuple(order),
    )


# What the phone fills in by itself (ODK metadata, ``jr:preload``), in plain words: these
# fields have no label in the form, and their names (start, end, deviceid) are codes.
PRELOAD_LABELS = {
    ("timestamp", "start"): ("Thời điểm bắt đầu phỏng vấn", "Interview started"),
    ("timestamp", "end"): ("Thời điểm kết thúc phỏng vấn", "Interview ended"),
    ("date", "today"): ("Ngày phỏng vấn", "Interview date"),
    ("property", "deviceid"): ("Mã thiết bị", "Device ID"),
    ("property", "username"): ("Tài khoản trên điện thoại", "Username on the phone"),
    ("property", "email"): ("Thư điện tử trên điện thoại", "Email on the phone"),
    ("property", "phonenumber"): ("Số điện thoại", "Phone number"),
    ("property", "subscriberid"): ("Mã thuê bao", "Subscriber ID"),
    ("property", "simserial"): ("Số sê-ri SIM", "SIM serial number"),
}


def _preload_label(bind, lang: str) -> str | None:
    if bind is None:
        return None
    preload = (bind.get(f"{{{JR_NS}}}preload") or "").strip()
    params = (bind.get(f"{{{JR_NS}}}preloadParams") or "").strip()
    found = PRELOAD_LABELS.get((preload, params))
    if found is None:
        return None
    return found[1] if lang == "en" else found[0]


def _relative(ref: str, root_name: str) -> str:
    """``/data/members/age`` → ``members/age`` (whitespace and a leading root removed)."""
    ref = ref.strip()
    prefix = f"/{root_name}/"
    if ref.startswith(prefix):
        return ref[len(prefix) :]
    return ref.lstrip("/")


def _instance_path(element: etree._Element, data_root: etree._Element) -> str:
    names = []
    node = element
    while node is not None and node is not data_root:
        names.append(local_name(node))
        node = node.getparent()
    return "/".join(reversed(names))


class _Texts:
    """The itext translations of a form, and readable text out of labels."""

    def __init__(self, model: etree._Element, lang: str) -> None:
        translations: list[tuple[str, dict[str, etree._Element]]] = []
        default_index = 0
        for index, translation in enumerate(model.findall("xf:itext/xf:translation", _NS)):
            texts = {t.get("id"): t for t in translation.findall("xf:text", _NS) if t.get("id")}
            translations.append((translation.get("lang") or "", texts))
            if (translation.get("default") or "").strip() in ("true()", "true"):
                default_index = index
        wanted = lang.strip().lower()
        chosen = next(
            (
                i
                for i, (name, _) in enumerate(translations)
                if wanted and (f"({wanted})" in name.lower() or name.strip().lower() == wanted)
            ),
            None,
        )
        order = [i for i in (chosen, default_index) if i is not None and i < len(translations)]
        self._lookups = [translations[i][1] for i in dict.fromkeys(order)]
        self.language = translations[order[0]][0] if order else None

    def itext_value(self, text_id: str) -> etree._Element | None:
        """The ``<value>`` of an itext id with readable text (chosen language first)."""
        for texts in self._lookups:
            text = texts.get(text_id)
            if text is None:
                continue
            values = {v.get("form"): v for v in text.findall("xf:value", _NS)}
            value = next((values[form] for form in (None, "long", "short") if form in values), None)
            if value is not None and readable_text(value):
                return value
        return None

    def itext(self, text_id: str) -> str | None:
        value = self.itext_value(text_id)
        return readable_text(value) if value is not None else None

    def label_element(self, label_el: etree._Element | None) -> etree._Element | None:
        """What holds the text of a ``<label>``: its itext value, else the label itself."""
        if label_el is None:
            return None
        match = _ITEXT_LITERAL.match(label_el.get("ref") or "")
        if match:
            value = self.itext_value(match.group(1))
            if value is not None:
                return value
        return label_el

    def label(self, label_el: etree._Element | None) -> str | None:
        """The text of a ``<label>``: its itext reference, else its own text."""
        element = self.label_element(label_el)
        return (readable_text(element) or None) if element is not None else None


class _Body:
    """What the ``<h:body>`` says about each path: label, control, choices, repeats."""

    def __init__(
        self,
        texts: _Texts,
        secondary: dict[str, etree._Element],
        root_name: str,
        bind_ids: dict[str, str],
    ) -> None:
        self.texts = texts
        self.secondary = secondary
        self.root_name = root_name
        self.bind_ids = bind_ids
        self.labels: dict[str, str] = {}
        self.controls: dict[str, Control] = {}
        self.choices: dict[str, Mapping[str, str] | None] = {}
        self.group_labels: dict[str, str] = {}
        self.templates: dict[str, LabelTemplate] = {}
        self.repeats: set[str] = set()

    def template(self, label_el: etree._Element | None, path: str) -> None:
        """Keep the template of a label that shows answers, its outputs resolved against the
        group or field it labels."""
        element = self.texts.label_element(label_el)
        if element is None or path in self.templates:
            return
        text, outputs = _readable_parts(element)
        if outputs:
            refs = tuple(_output_path(ref, path, self.root_name) for ref in outputs)
            self.templates[path] = LabelTemplate(text, refs)

    def resolve(self, element: etree._Element, attribute: str, context: str) -> str | None:
        bind = element.get("bind")
        if bind and bind in self.bind_ids:
            return self.bind_ids[bind]
        ref = (element.get(attribute) or "").strip()
        if not ref:
            return None
        if ref.startswith("/"):
            return _relative(ref, self.root_name)
        parts = [p for p in context.split("/") if p] if context else []
        for step in ref.split("/"):
            if step == "..":
                if parts:
                    parts.pop()
            elif step not in ("", "."):
                parts.append(step)
        return "/".join(parts)

    def walk(self, parent: etree._Element, context: str) -> None:
        for element in parent.iterchildren(etree.Element):
            name = local_name(element)
            if name in ("label", "hint", "help", "itemset", "item", "setvalue"):
                continue
            label = self.texts.label(element.find("xf:label", _NS))
            if name == "group":
                path = self.resolve(element, "ref", context) or context
                if path and label and path != context:
                    self.group_labels.setdefault(path, label)
                    self.template(element.find("xf:label", _NS), path)
                self.walk(element, path)
            elif name == "repeat":
                path = self.resolve(element, "nodeset", context) or context
                if path:
                    self.repeats.add(path)
                    if label:
                        self.group_labels.setdefault(path, label)
                        self.template(element.find("xf:label", _NS), path)
                self.walk(element, path)
            elif name in _CONTROLS:
                path = self.resolve(element, "ref", context)
                if path and path not in self.controls:
                    self.controls[path] = cast(Control, name)
                    if label:
                        self.labels[path] = label
                        self.template(element.find("xf:label", _NS), path)
                    if name in ("select1", "select", "rank"):
                        self.choices[path] = self.select_choices(element)
            else:
                self.walk(element, context)

    def select_choices(self, select: etree._Element) -> Mapping[str, str] | None:
        if select.get("query"):  # external itemsets (itemsets.csv)
            return None
        itemset = select.find("xf:itemset", _NS)
        if itemset is not None:
            return self.itemset_choices(itemset)
        choices: dict[str, str] = {}
        for item in select.findall("xf:item", _NS):
            value_el = item.find("xf:value", _NS)
            value = (value_el.text or "").strip() if value_el is not None else ""
            if value:
                choices[value] = self.texts.label(item.find("xf:label", _NS)) or value
        return MappingProxyType(choices)

    def itemset_choices(self, itemset: etree._Element) -> Mapping[str, str] | None:
        match = _INSTANCE_CALL.match(itemset.get("nodeset") or "")
        if not match:
            return None  # choices from the primary instance (a repeat): they vary per answer
        instance = self.secondary.get(match.group(1))
        if instance is None or instance.get("src"):
            return None  # a CSV / XML file attached to the form, or a server-generated list
        value_el = itemset.find("xf:value", _NS)
        label_el = itemset.find("xf:label", _NS)
        value_ref = (value_el.get("ref") or "").strip() if value_el is not None else ""
        label_ref = (label_el.get("ref") or "").strip() if label_el is not None else ""
        if not value_ref or "/" in value_ref:
            return None
        choices: dict[str, str] = {}
        for item in _select_nodes(instance, match.group(2)):
            value = _child_text(item, value_ref)
            if value is None or not value.strip():
                continue
            value = value.strip()
            label: str | None = None
            node_ref = _ITEXT_NODE.match(label_ref)
            if node_ref:
                text_id = _child_text(item, node_ref.group(1))
                label = self.texts.itext(text_id.strip()) if text_id else None
            elif label_ref and "/" not in label_ref and "(" not in label_ref:
                label = _SPACES.sub(" ", _child_text(item, label_ref) or "").strip() or None
            choices[value] = label or value
        return MappingProxyType(choices)


def _select_nodes(instance: etree._Element, path: str) -> list[etree._Element]:
    """The nodes of a secondary instance named by ``/root/item[...]`` (predicates ignored)."""
    steps = [s.strip() for s in _without_predicates(path).split("/") if s.strip()]
    nodes = [instance]
    for step in steps:
        name = step.split(":")[-1]
        nodes = [c for n in nodes for c in n.iterchildren(etree.Element) if local_name(c) == name]
    return nodes


def _without_predicates(path: str) -> str:
    out: list[str] = []
    depth = 0
    for char in path:
        if char == "[":
            depth += 1
        elif char == "]":
            depth = max(depth - 1, 0)
        elif depth == 0:
            out.append(char)
    return "".join(out)


def _child_text(item: etree._Element, name: str) -> str | None:
    for child in item.iterchildren(etree.Element):
        if local_name(child) == name:
            return child.text or ""
    return None


def readable_text(element: etree._Element) -> str:
    """The text of an itext ``<value>`` or ``<label>`` as plain text.

    ``<output value="…"/>`` becomes "…"; HTML tags and markdown emphasis, headings and links
    are removed; entities are decoded and whitespace collapsed.
    """
    text, _outputs = _readable_parts(element)
    return _SLOTS.sub(_OUTPUT_MARK, text)


def _readable_parts(element: etree._Element) -> tuple[str, tuple[str, ...]]:
    """The readable text with a slot character for each ``<output/>``, and their values."""
    parts: list[str] = []
    outputs: list[str] = []

    def collect(node: etree._Element) -> None:
        parts.append(_PRIVATE.sub("", node.text or ""))
        for child in node.iterchildren():
            if isinstance(child.tag, str):
                if local_name(child) == "output":
                    if len(outputs) < _MAX_SLOTS:
                        parts.append(chr(_SLOT + len(outputs)))
                        outputs.append(child.get("value") or child.get("ref") or "")
                    else:
                        parts.append(_OUTPUT_MARK)
                else:
                    collect(child)
            parts.append(_PRIVATE.sub("", child.tail or ""))

    collect(element)
    return clean_label("".join(parts)), tuple(outputs)


def _output_path(ref: str, context: str, root_name: str) -> str | None:
    """The instance path (no root) an output names, relative to the labelled group or field;
    None for anything but a plain path (an expression, a function call, another instance)."""
    ref = ref.strip()
    if ref.startswith(f"/{root_name}/"):
        ref, parts = ref[len(root_name) + 2 :], []
    elif ref.startswith("/"):
        return None
    else:
        parts = [p for p in context.split("/") if p]
    if not _SIMPLE_REF.match(ref):
        return None
    for step in ref.split("/"):
        if step == "..":
            if not parts:
                return None
            parts.pop()
        elif step != ".":
            parts.append(step)
    return "/".join(parts) or None


def clean_label(text: str) -> str:
    """Strip HTML and markdown from a label (see :func:`readable_text`)."""
    text = _HTML_BREAK.sub(" ", text)
    text = _HTML_TAG.sub("", text)
    text = html.unescape(text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_HEADING.sub("", text)
    for pattern in (_MD_STRONG, _MD_STRONG):  # twice: "**__x__**"
        text = pattern.sub(lambda m: m.group(2), text)
    text = _MD_EM_STAR.sub(r"\1", text)
    text = _MD_EM_UNDERSCORE.sub(r"\1", text)
    text = _MD_ESCAPE.sub(r"\1", text)
    return _SPACES.sub(" ", text).strip()


# An answer's date (and time) as XForms write them: "2026-09-12", "2026-09-12T08:15:03.123+07:00".
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?")
_ISO_TIME = re.compile(r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?")
_TIME_ANSWERS = {
    "dateTime": (_ISO_MOMENT, "%d/%m/%Y %H:%M"),
    "date": (_ISO_DATE, "%d/%m/%Y"),
    "time": (_ISO_TIME, "%H:%M"),
}


def time_answer(kind: str, value: str) -> str | None:
    """A date, time or dateTime answer (``kind`` the bind type) as Vietnamese write it, in
    Vietnam time: "12/09/2026 08:15" (as the pages show every time), "12/09/2026", "08:15".  A
    value with an offset (or Z) is converted to UTC+7; one without is kept as the phone gave
    it.  None when ``value`` is not such a value (shown as it is)."""
    text = value.strip()
    pattern, shape = _TIME_ANSWERS.get(kind, (None, ""))
    if pattern is None or not pattern.fullmatch(text):
        return None
    try:
        if kind == "time":
            clock = time.fromisoformat(text)
            moment = datetime.combine(date(2000, 1, 1), clock)  # keeps the clock's offset
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return local_time(moment, shape) if moment.tzinfo is not None else moment.strftime(shape)


def display_value(field: FieldLabel, value: str) -> str:
    """The value as a reviewer would read it: choice labels for selects, a date or time in
    Vietnam time and Vietnamese order (:func:`time_answer`), else the raw value."""
    if field.type in ("date", "time", "dateTime") and value.strip():
        return time_answer(field.type, value) or value
    if field.choices is None or not value.strip():
        return value
    if field.control in _MULTIPLE:
        return "; ".join(field.choices.get(v, v) for v in value.split())
    return field.choices.get(value.strip(), value)


def _indexed_like(path: str, key: str) -> str:
    """``members/member_no`` read in the repeat instances of ``members[2]/work``:
    ``members[2]/member_no`` (the indexes of the leading steps both share)."""
    steps = key.split("/")
    out: list[str] = []
    for position, name in enumerate(path.split("/")):
        aligned = len(out) == position and position < len(steps)
        if aligned and strip_indexes(steps[position]) == name:
            out.append(steps[position])
        else:
            out.append(name)
    return "/".join(out)


def _tidy(text: str) -> str:
    """Drop empty outputs with the dash before them, then any separator left dangling."""
    text = re.sub(r"\s*[—–-]?\s*" + _EMPTY, "", text)
    text = re.sub(r"([:—–-])\s*[—–-](?=\s)", r"\1", text)
    text = re.sub(r"\(\s*\)", "", text)
    text = re.sub(r"^\s*[—–:,;-]\s*|\s*[—–,;-]\s*$", "", text)
    text = re.sub(r"\s+([:,.;)])", r"\1", text)
    return _SPACES.sub(" ", text).strip()


def fill_label(
    labels: FormLabels, template: LabelTemplate, key: str, values: Mapping[str, str]
) -> str:
    """A label that shows answers, with those of the instance at ``key`` (an indexed path):
    a choice by its label, an empty or missing answer dropped with the dash before it, an
    output that is not a plain path shown as "…"."""

    def answer(match: re.Match[str]) -> str:
        ref = template.refs[ord(match.group(0)) - _SLOT]
        if ref is None:
            return _OUTPUT_MARK
        value = values.get(_indexed_like(ref, key), "").strip()
        field = labels.fields.get(ref)
        if value and field is not None:
            value = display_value(field, value)
        return value or _EMPTY

    return _tidy(_SLOTS.sub(answer, template.text))


def _repeat_instances(values: Mapping[str, str]) -> dict[tuple[str, str], set[int]]:
    """(indexed parent path, repeat name) → the instance numbers the answers have."""
    instances: dict[tuple[str, str], set[int]] = {}
    for key in values:
        segments = key.split("/")
        for position, segment in enumerate(segments):
            indexed = _INDEXED.match(segment)
            if indexed:
                parent = "/".join(segments[:position])
                instances.setdefault((parent, indexed.group(1)), set()).add(int(indexed.group(2)))
    return instances


def labelled_answers(
    labels: FormLabels,
    answers: Mapping[str, object],
    *,
    include_notes: bool = False,
    include_empty: bool = True,
    include_calculated: bool = True,
) -> list[AnswerRow]:
    """Rows for the submission page, in the order of the form.

    Only answers present in ``answers`` are shown (a question that was not relevant has no
    key); ``meta/*`` is left out.  A group or repeat instance gets a heading row before its
    first answer and none when it has no answer.  Repeat instances come in index order.
    Answers whose path the form does not know (or knows under a different nesting) follow at
    the end, labelled with their raw path when the form has no label for it.  A label that
    shows answers (``<output/>``) shows those of its own repeat instance
    (:func:`fill_label`).

    :param include_notes: also show notes (read-only messages), which are empty by default.
    :param include_empty: show answers whose value is empty.
    :param include_calculated: show what the form computed (calculates, preloads, hidden
        fields), not only what the reviewer was asked.
    """
    values = {key: "" if value is None else str(value) for key, value in answers.items()}
    children: dict[str, list[str]] = {}
    for path in labels.order:
        children.setdefault(path.rsplit("/", 1)[0] if "/" in path else "", []).append(path)
    instances = _repeat_instances(values)

    used: set[str] = set()

    def keep(field: FieldLabel, value: str) -> bool:
        if field.calculated and not include_calculated:
            return False
        if value:
            return True
        return include_notes if field.note else include_empty

    def label_of(item: FieldLabel | GroupLabel, key: str) -> tuple[str, bool]:
        if item.template is None:
            return item.label, False
        return fill_label(labels, item.template, key, values), True

    def answer_row(
        field: FieldLabel, key: str, depth: int, instance: int | None, *, known: bool = True
    ) -> AnswerRow:
        value = values[key]
        label, filled = label_of(field, key)
        return AnswerRow(
            kind="answer",
            path=key,
            label=label,
            value=value,
            display=display_value(field, value),
            control=field.control,
            type=field.type,
            instance=instance,
            depth=depth,
            calculated=field.calculated,
            known=known,
            filled=filled,
        )

    def heading(group: GroupLabel, key: str, instance: int | None, depth: int) -> AnswerRow:
        label, filled = label_of(group, key)
        kind: Literal["repeat", "group"] = "repeat" if group.repeat else "group"
        return AnswerRow(kind, key, label, instance=instance, depth=depth, filled=filled)

    def walk(schema: str, prefix: str, depth: int, instance: int | None) -> list[AnswerRow]:
        rows: list[AnswerRow] = []
        for path in children.get(schema, []):
            if path == "meta" or path.startswith("meta/"):
                continue
            name = path.rsplit("/", 1)[-1]
            key = f"{prefix}/{name}" if prefix else name
            field = labels.fields.get(path)
            if field is not None:
                if key in values and keep(field, values[key]):
                    used.add(key)
                    rows.append(answer_row(field, key, depth, instance))
                continue
            group = labels.groups[path]
            if group.repeat:
                for number in sorted(instances.get((prefix, name), ())):
                    inner = walk(path, f"{key}[{number}]", depth + 1, number)
                    if inner:
                        rows += [heading(group, f"{key}[{number}]", number, depth), *inner]
            else:
                inner = walk(path, key, depth + 1, instance)
                if inner:
                    rows += [heading(group, key, instance, depth), *inner]
        return rows

    rows = walk("", "", 0, None)
    for key, value in values.items():
        if key in used or key == "meta" or key.startswith("meta/"):
            continue
        field = labels.fields.get(strip_indexes(key))
        numbers = [int(m.group(2)) for s in key.split("/") if (m := _INDEXED.match(s))]
        instance = numbers[-1] if numbers else None
        if field is not None:
            if keep(field, value):
                rows.append(answer_row(field, key, 0, instance, known=False))
        elif include_empty or value:
            rows.append(
                AnswerRow(
                    kind="answer",
                    path=key,
                    label=key,
                    value=value,
                    # A date-time the form does not declare is still shown in Vietnam time.
                    display=time_answer("dateTime", value) or value,
                    instance=instance,
                    known=False,
                )
            )
    return rows
