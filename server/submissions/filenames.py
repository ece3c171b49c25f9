"""The name an attachment is stored and served under.

A submission names its files twice: in an answer of the XML (``<house_photo>1700000000000.jpg
</house_photo>``) and as the multipart file name of the part that carries the bytes.  Collect
writes ``<milliseconds>.<ext>`` in both, but any client can send ``../x``, a full path, control
characters or a name of a thousand characters: stored as sent, such a name cannot be put in a
URL (``/tep/../x`` is ``/x`` to a browser) and can mislead whoever reads it.

:func:`safe_attachment_name` reduces a name to a safe base name.  Ingest applies it to *both*
sides, so an answer and its part still match, and an ordinary name passes unchanged.  The
answer itself is kept as sent in the submission's data.
"""

from __future__ import annotations

import hashlib
import unicodedata

# Well under the column's 255 characters, and under common file systems' 255 bytes for names
# of Vietnamese letters (up to three bytes each in UTF-8).
MAX_NAME_LENGTH = 80
MAX_EXTENSION_LENGTH = 10
GENERATED_PREFIX = "tep-"
# Control and invisible formatting characters (incl. right-to-left overrides that can disguise
# "photo\u202egpj.exe"), line and paragraph separators.
_DROPPED_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}


def safe_attachment_name(raw: str) -> str:
    """``raw`` without any directory, control characters or leading dots, at most
    :data:`MAX_NAME_LENGTH` characters with its extension kept; a generated name (stable for
    the same ``raw``) when nothing is left."""
    base = _base_name(raw)
    cleaned = "".join(c for c in base if unicodedata.category(c) not in _DROPPED_CATEGORIES)
    cleaned = cleaned.strip().lstrip(".").strip()
    if not cleaned:
        digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()
        return GENERATED_PREFIX + digest[:12]
    return _bounded(cleaned)


def _base_name(raw: str) -> str:
    """The last non-empty segment of a path written with ``/`` or ``\\`` (phones, Windows)."""
    segments = [s for s in raw.replace("\\", "/").split("/") if s.strip()]
    return segments[-1] if segments else ""


def _bounded(name: str) -> str:
    if len(name) <= MAX_NAME_LENGTH:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and stem and len(extension) <= MAX_EXTENSION_LENGTH:
        return stem[: MAX_NAME_LENGTH - len(extension) - 1].rstrip() + "." + extension
    return name[:MAX_NAME_LENGTH].rstrip()
