"""What a stored file really is, and how to hand it to a browser without it acting.

Files come from phones (submission attachments) and from administrators (form media).  The
content type a phone declares and the file's name are the sender's word: a "photo" declared
``text/html``, or an ``.svg``, served inline under the staff origin runs its script with the
officer's session (stored XSS).  So the type served is read from the file's first bytes, against
a short allow-list of formats a browser only ever *displays* — photos, recordings, videos, PDF
(:func:`sniff`).  Anything else — HTML, SVG, XML, scripts, unknown — is served as
``application/octet-stream`` and as a download (:func:`served_type`, :func:`inert`).

Every served file also carries ``X-Content-Type-Options: nosniff``, so that no browser second-
guesses the type, and a ``sandbox`` Content-Security-Policy, so that even a file opened as a
document has no origin, scripts or requests of its own (defence in depth).
"""

from __future__ import annotations

from pathlib import Path

from flask import Response

OCTET_STREAM = "application/octet-stream"
# Enough for every signature below (a ``ftyp`` box's brand, the WebM doctype).
SNIFF_BYTES = 64
INERT_POLICY = "sandbox; default-src 'none'"

# Every type :func:`sniff` can answer: the only ones ever served inline or embedded in a page.
ALLOWED_TYPES = frozenset(
    {
        "image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif",
        "audio/mpeg", "audio/aac", "audio/mp4", "audio/ogg", "audio/wav", "audio/amr",
        "audio/amr-wb", "video/mp4", "video/3gpp", "video/quicktime", "video/webm",
        "application/pdf",
    }
)  # fmt: skip

# Fixed first bytes, tried in order (AMR-WB before AMR, whose prefix it extends).
_PREFIXES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"ID3", "audio/mpeg"),
    (b"OggS", "audio/ogg"),
    (b"#!AMR-WB\n", "audio/amr-wb"),
    (b"#!AMR\n", "audio/amr"),
    (b"%PDF-", "application/pdf"),
)
# RIFF files name their form in bytes 8–12.
_RIFF_FORMS = {b"WEBP": "image/webp", b"WAVE": "audio/wav"}
# ISO base media files (MP4, M4A, 3GP, HEIC) name their major brand in their ``ftyp`` box.
_ISO_BRANDS = {
    **dict.fromkeys((b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"), "image/heic"),
    **dict.fromkeys((b"mif1", b"msf1"), "image/heif"),
    **dict.fromkeys((b"M4A ", b"M4B ", b"F4A "), "audio/mp4"),
    b"qt  ": "video/quicktime",
}
_3GP_PREFIXES = (b"3gp", b"3gg", b"3g2")
_MP4_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6",
    b"mp41", b"mp42", b"mp71", b"avc1", b"dash", b"M4V ", b"MSNV", b"F4V ",
}  # fmt: skip
# Generic MP4 brands hold sound or pictures; Android's recorder writes "isom" into .m4a files.
_AUDIO_NAMES = (".m4a", ".aac", ".mp4a")
_EBML = b"\x1a\x45\xdf\xa3"  # Matroska and WebM
_EBML_DOCTYPE = b"\x42\x82"


def sniff(head: bytes, name: str = "") -> str | None:
    """The allow-listed content type ``head`` (a file's first bytes) starts with, else None.

    ``name`` is consulted only to tell sound from pictures inside a generic MP4 container, both
    of which are safe; it never makes a file of another kind allow-listed.
    """
    for prefix, mimetype in _PREFIXES:
        if head.startswith(prefix):
            return mimetype
    if head.startswith(b"RIFF"):
        return _RIFF_FORMS.get(head[8:12])
    if head[4:8] == b"ftyp":
        return _iso_media(head[8:12], name)
    if head.startswith(_EBML):
        return _webm(head)
    return _mpeg_frame(head)


def _iso_media(brand: bytes, name: str) -> str | None:
    if brand in _MP4_BRANDS:
        return "audio/mp4" if name.lower().endswith(_AUDIO_NAMES) else "video/mp4"
    if brand.startswith(_3GP_PREFIXES):
        return "video/3gpp"
    return _ISO_BRANDS.get(brand)


def _webm(head: bytes) -> str | None:
    """WebM only: other Matroska files are not on the list."""
    at = head.find(_EBML_DOCTYPE, 4, 40)
    return "video/webm" if at >= 0 and head[at + 3 : at + 7] == b"webm" else None


def _mpeg_frame(head: bytes) -> str | None:
    """A raw MPEG audio frame: ADTS (AAC) has 12 sync bits and layer 00; MP3 has 11 sync bits
    and a layer."""
    if len(head) < 2 or head[0] != 0xFF:
        return None
    if head[1] & 0xF6 == 0xF0:
        return "audio/aac"
    if head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
        return "audio/mpeg"
    return None


def served_type(head: bytes, name: str = "") -> str:
    """The type to serve a file with: its allow-listed type, else a plain byte stream."""
    return sniff(head, name) or OCTET_STREAM


def read_head(path: str | Path) -> bytes:
    """The first bytes of a stored file, enough for :func:`sniff`."""
    with open(path, "rb") as handle:
        return handle.read(SNIFF_BYTES)


def media_kind(mimetype: str) -> str | None:
    """How a page may show a file of this (served) type: ``image``, ``audio``, ``video``,
    ``pdf``, or None when it may only be offered as a download."""
    if mimetype not in ALLOWED_TYPES:
        return None
    major = mimetype.split("/", 1)[0]
    if major in ("image", "audio", "video"):
        return major
    return "pdf" if mimetype == "application/pdf" else None


def is_inline(mimetype: str) -> bool:
    """Whether a file of this served type may be opened in the browser rather than saved."""
    return media_kind(mimetype) is not None


def inert(response: Response) -> Response:
    """Mark a response carrying a stored file so that a browser never runs it.

    A PDF gets no Content-Security-Policy: Chromium's viewer does not load under any policy
    (checked with the Chromium the browser tests drive), and it renders the file outside the
    page's origin anyway, so that no script of the file ever runs as the staff site.
    """
    response.headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype != "application/pdf":
        response.headers["Content-Security-Policy"] = INERT_POLICY
    return response
