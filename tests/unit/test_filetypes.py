"""What a stored file is, read from its first bytes (never from a phone's word or its name), and
the safe base name an attachment is stored under."""

from __future__ import annotations

import pytest
from flask import Response

from server.filetypes import (
    ALLOWED_TYPES,
    INERT_POLICY,
    OCTET_STREAM,
    inert,
    media_kind,
    served_type,
    sniff,
)
from server.submissions.filenames import MAX_NAME_LENGTH, safe_attachment_name


def _iso(brand: bytes) -> bytes:
    """The start of an ISO base media file (MP4, M4A, 3GP, HEIC): a ``ftyp`` box."""
    return b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x00\x00" + brand + b"isom" + b"\0" * 32


@pytest.mark.parametrize(
    ("head", "name", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "a.jpg", "image/jpeg"),
        (b"\xff\xd8\xff\xe1\x00\x10Exif\x00", "a.bin", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a.png", "image/png"),
        (b"GIF89a\x01\x00\x01\x00", "a.gif", "image/gif"),
        (b"GIF87a\x01\x00\x01\x00", "a.gif", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "a.webp", "image/webp"),
        (_iso(b"heic"), "a.heic", "image/heic"),
        (_iso(b"mif1"), "a.heif", "image/heif"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", "a.mp3", "audio/mpeg"),
        (b"\xff\xfb\x90\x64\x00", "a.mp3", "audio/mpeg"),
        (b"\xff\xf1\x50\x80\x02\x1f\xfc", "a.aac", "audio/aac"),
        (_iso(b"M4A "), "a.m4a", "audio/mp4"),
        (_iso(b"isom"), "1700000000000.m4a", "audio/mp4"),  # Android's recorder
        (_iso(b"isom"), "1700000000000.mp4", "video/mp4"),
        (_iso(b"mp42"), "clip", "video/mp4"),
        (_iso(b"3gp4"), "a.3gp", "video/3gpp"),
        (b"OggS\x00\x02\x00\x00", "a.ogg", "audio/ogg"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "a.wav", "audio/wav"),
        (b"#!AMR\n\x3c", "a.amr", "audio/amr"),
        (b"#!AMR-WB\n\x3c", "a.amr", "audio/amr-wb"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "a.webm", "video/webm"),
        (b"%PDF-1.7\n", "a.pdf", "application/pdf"),
    ],
)
def test_allow_listed_types_are_recognised_by_their_first_bytes(head, name, expected):
    assert sniff(head, name) == expected
    assert served_type(head, name) == expected
    assert expected in ALLOWED_TYPES and media_kind(expected) is not None


@pytest.mark.parametrize(
    "head",
    [
        b"<html><script>alert(1)</script></html>",
        b"\xef\xbb\xbf<!DOCTYPE html><script>alert(1)</script>",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b"alert(document.cookie)",
        b"",
        b"\xff\xd8",  # too short to be a JPEG
        b"RIFF\x24\x00\x00\x00AVI LIST",  # RIFF, but neither WebP nor WAV
        _iso(b"zzzz"),  # an ISO box of an unknown brand
        b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska",  # not WebM
        b"\x00\x00\x01\x00\x01\x00",  # an icon: an image, but not on the list
    ],
    ids=["html", "html-bom", "svg", "svg-xml", "js", "empty", "short", "avi", "iso", "mkv", "ico"],
)
def test_everything_else_is_unknown_and_served_as_bytes(head):
    assert sniff(head, "anh.jpg") is None
    assert served_type(head, "anh.jpg") == OCTET_STREAM


def test_the_name_never_makes_html_an_image():
    html = b"<html><script>alert(1)</script></html>"
    for name in ("nha.jpg", "nha.png", "nha.mp4", "nha.m4a", "nha.pdf"):
        assert served_type(html, name) == OCTET_STREAM


@pytest.mark.parametrize(
    ("mimetype", "kind"),
    [
        ("image/jpeg", "image"),
        ("image/heic", "image"),
        ("audio/amr", "audio"),
        ("video/3gpp", "video"),
        ("application/pdf", "pdf"),
        (OCTET_STREAM, None),
        ("text/html", None),
        ("image/svg+xml", None),
    ],
)
def test_media_kind_says_how_the_review_page_may_embed_a_file(mimetype, kind):
    assert media_kind(mimetype) == kind


@pytest.mark.parametrize("mimetype", ["image/jpeg", "video/mp4", OCTET_STREAM])
def test_served_files_are_nosniff_and_sandboxed(mimetype):
    response = inert(Response(b"x", mimetype=mimetype))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert (
        response.headers["Content-Security-Policy"] == INERT_POLICY == "sandbox; default-src 'none'"
    )


def test_a_pdf_is_nosniff_without_a_policy_that_would_stop_the_browsers_viewer():
    response = inert(Response(b"%PDF-1.7", mimetype="application/pdf"))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in response.headers


@pytest.mark.parametrize(
    "name",
    ["1700000000000.jpg", "ảnh nhà 1.jpg", "signature-2026.png", "a.b.c.m4a", "x"],
)
def test_ordinary_names_are_kept_as_they_are(name):
    assert safe_attachment_name(name) == name


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../x.jpg", "x.jpg"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\x.jpg", "x.jpg"),
        ("C:\\fakepath\\anh.png", "anh.png"),
        ("/sdcard/odk/instances/1700000000000.jpg", "1700000000000.jpg"),
        ("a\x00b\x1f\x7f.jpg", "ab.jpg"),
        ("photo\u202egpj.exe", "photogpj.exe"),  # a right-to-left override hiding the type
        (".htaccess", "htaccess"),
        ("...x.jpg", "x.jpg"),
        ("  x.jpg  ", "x.jpg"),
        ("x.jpg/", "x.jpg"),
    ],
)
def test_hostile_names_are_reduced_to_a_safe_base_name(raw, safe):
    assert safe_attachment_name(raw) == safe


@pytest.mark.parametrize("raw", ["", "..", "/", "../", "\\..\\", "\x00\x01", "   "])
def test_names_that_become_empty_get_a_generated_one(raw):
    name = safe_attachment_name(raw)
    assert name.startswith("tep-") and len(name) == len("tep-") + 12
    assert safe_attachment_name(raw) == name  # the same for the XML answer and the file part


def test_different_empty_names_get_different_generated_names():
    assert safe_attachment_name("..") != safe_attachment_name("/")


def test_long_names_are_bounded_and_keep_their_extension():
    name = safe_attachment_name("a" * 1000 + ".jpeg")
    assert len(name) <= MAX_NAME_LENGTH
    assert name.endswith(".jpeg")
    assert name.startswith("aaaa")
    # A long "extension" is not an extension: the name is simply cut.
    odd = safe_attachment_name("x." + "b" * 1000)
    assert len(odd) <= MAX_NAME_LENGTH


def test_names_are_bounded_in_characters_that_fit_the_column():
    name = safe_attachment_name("ả" * 1000 + ".jpg")
    assert len(name) <= MAX_NAME_LENGTH <= 255
    assert name.endswith(".jpg")
