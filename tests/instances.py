"""Submission instances of the shipped demo form, written the way ODK Collect serialises them
(no XForms default namespace, ``jr``/``orx`` prefixes declared, an XML declaration)."""

from __future__ import annotations

import uuid
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

DEMO_FORM_ID = "rasoat_demo"
# The shipped demo form's version, read from its compiled XForm (it changes with the form).
DEMO_VERSION = (
    etree.parse(Path(__file__).resolve().parents[1] / "forms" / "rasoat_demo.xml")
    .find(".//{http://www.w3.org/2002/xforms}instance/*")
    .get("version")
)


def new_instance_id() -> str:
    return f"uuid:{uuid.uuid4()}"


def demo_instance(
    instance_id: str | None = None,
    *,
    village: str = "T01",
    head: str = "Nguyễn Văn A",
    members: list[tuple[str, int, str]] | None = None,
    photo: str | None = "nha-1.jpg",
    deprecated_id: str | None = None,
    version: str = DEMO_VERSION,
    form_id: str = DEMO_FORM_ID,
    root: str = "data",
    declaration: bool = True,
) -> bytes:
    instance_id = instance_id or new_instance_id()
    members = members if members is not None else [("Nguyễn Văn A", 42, "1"), ("Y Bình", 8, "2")]
    member_xml = "".join(
        f"<members><name>{escape(n)}</name><age>{a}</age><sex>{s}</sex></members>"
        for n, a, s in members
    )
    meta = f"<instanceID>{escape(instance_id)}</instanceID>"
    if deprecated_id:
        meta += f"<deprecatedID>{escape(deprecated_id)}</deprecatedID>"
    meta += f"<instanceName>{escape(head)} – {escape(village)}</instanceName>"
    body = (
        f'<{root} xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" '
        f'id="{escape(form_id)}" version="{escape(version)}">'
        f"<village>{escape(village)}</village><hh_head>{escape(head)}</hh_head>{member_xml}"
        f"<member_count>{len(members)}</member_count><member_note/>"
        f"<house_photo>{escape(photo or '')}</house_photo><meta>{meta}</meta></{root}>"
    )
    prefix = "<?xml version='1.0' encoding='UTF-8' ?>" if declaration else ""
    return (prefix + body).encode("utf-8")


def jpeg_bytes(seed: int = 1, size: int = 2048) -> bytes:
    """Bytes that look like a JPEG to anyone checking the magic number."""
    import random

    rng = random.Random(seed)
    return b"\xff\xd8\xff\xe0" + bytes(rng.getrandbits(8) for _ in range(size)) + b"\xff\xd9"
