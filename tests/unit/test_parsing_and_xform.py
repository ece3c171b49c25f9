"""Pure modules: submission parsing, XForm inspection, the blob store, the Collect QR payload."""

from __future__ import annotations

import os

import pytest

from server.blobs import BlobStore
from server.errors import AppError
from server.openrosa.qr import collect_settings, decode_settings, encode_settings
from server.questionnaires.compiler import compile_xlsform
from server.questionnaires.xform import inspect_xform
from server.submissions.parsing import extract_fields, field_schema_path, parse_submission

FORM_MD = """
| survey   |                                  |           |           |                    |
|          | type                             | name      | label     | appearance         |
|          | text                             | head      | Chủ hộ    |                    |
|          | select_one_from_file hh.csv      | hh        | Hộ        |                    |
|          | select_one ward                  | ward      | Tổ        | search('wards')    |
|          | begin_group                      | house     | Nhà       |                    |
|          | decimal                          | area      | Diện tích |                    |
|          | end_group                        | house     |           |                    |
|          | begin_repeat                     | members   | Thành viên|                    |
|          | integer                          | age       | Tuổi      |                    |
|          | begin_repeat                     | jobs      | Việc làm  |                    |
|          | text                             | job       | Việc      |                    |
|          | end_repeat                       | jobs      |           |                    |
|          | end_repeat                       | members   |           |                    |
|          | image                            | photo     | Ảnh       |                    |
| choices  |                                  |           |           |                    |
|          | list_name                        | name      | label     |                    |
|          | ward                             | a         | A         |                    |
| settings |                                  |           |           |                    |
|          | form_id                          | version   |           |                    |
|          | unit_form                        | 7         |           |                    |
"""


@pytest.fixture(scope="module")
def xform() -> bytes:
    return compile_xlsform(FORM_MD.encode(), file_type=".md").xform


def test_inspect_xform_reads_identity_types_repeats_and_media(xform):
    info = inspect_xform(xform)
    assert (info.xml_form_id, info.version, info.root_name) == ("unit_form", "7", "data")
    types = {f.path: f.type for f in info.fields}
    assert types["/data/house/area"] == "decimal"
    assert types["/data/members/age"] == "int"
    assert types["/data/members/jobs/job"] == "string"
    assert types["/data/photo"] == "binary"
    assert info.repeats == ("/data/members", "/data/members/jobs")
    assert info.media == ("hh.csv", "wards.csv")


def test_inspect_xform_requires_a_version():
    unversioned = compile_xlsform(
        FORM_MD.replace("| version", "| title").replace("| 7 ", "| T ").encode(), file_type=".md"
    ).xform
    with pytest.raises(AppError) as error:
        inspect_xform(unversioned)
    assert error.value.code == "form.invalid_xform"
    assert "phiên bản" in error.value.message_vi


def test_extract_fields_numbers_repeats_even_with_one_instance():
    parsed = parse_submission(
        b"<data id='unit_form' version='7'><head>A</head><house><area>7.99</area></house>"
        b"<members><age>5</age><jobs><job>x</job></jobs></members>"
        b"<members><age>30</age><jobs><job>y</job></jobs><jobs><job>z</job></jobs></members>"
        b"<photo>p.jpg</photo><meta><instanceID>uuid:1</instanceID></meta></data>",
        max_bytes=10_000,
    )
    fields = extract_fields(parsed.root, frozenset({"/data/members", "/data/members/jobs"}))
    assert fields == {
        "head": "A",
        "house/area": "7.99",
        "members[1]/age": "5",
        "members[1]/jobs[1]/job": "x",
        "members[2]/age": "30",
        "members[2]/jobs[1]/job": "y",
        "members[2]/jobs[2]/job": "z",
        "photo": "p.jpg",
        "meta/instanceID": "uuid:1",
    }
    assert field_schema_path("data", "members[2]/jobs[2]/job") == "/data/members/jobs/job"


def test_parse_submission_reads_orx_meta_and_orx_version():
    parsed = parse_submission(
        b'<d xmlns:orx="http://openrosa.org/xforms" id="f" orx:version="3">'
        b"<orx:meta><orx:instanceID>uuid:a</orx:instanceID>"
        b"<orx:deprecatedID>uuid:b</orx:deprecatedID></orx:meta></d>",
        max_bytes=1000,
    )
    assert (parsed.xml_form_id, parsed.version, parsed.instance_id, parsed.deprecated_id) == (
        "f",
        "3",
        "uuid:a",
        "uuid:b",
    )
    assert parsed.root_name == "d"


@pytest.mark.parametrize(
    ("xml", "code"),
    [
        (
            b"<data version='1'><meta><instanceID>uuid:1</instanceID></meta></data>",
            "submission.no_form_id",
        ),
        (b"<data id='f'><meta/></data>", "submission.no_instance_id"),
        (
            b"<data id='f'><meta><instanceID>uuid:" + b"x" * 300 + b"</instanceID></meta></data>",
            "submission.bad_instance_id",
        ),
        (b"", "xml.malformed"),
    ],
)
def test_parse_submission_rejects_what_cannot_be_stored(xml, code):
    with pytest.raises(AppError) as error:
        parse_submission(xml, max_bytes=10_000)
    assert error.value.code == code
    assert error.value.status == 400


def test_blob_store_is_content_addressed_and_leaves_no_temp_files(tmp_path):
    store = BlobStore(tmp_path)
    first = store.put(b"anh nha")
    second = store.put(b"anh nha")
    assert first == second
    assert store.read(first.sha256) == b"anh nha"
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert [p.name for p in files] == [first.sha256]


def test_blob_store_write_failure_leaves_nothing_under_the_final_name(tmp_path, monkeypatch):
    store = BlobStore(tmp_path)

    def broken_fsync(_fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        store.put(b"half written")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_collect_qr_payload_round_trips_and_has_required_sections():
    settings = collect_settings("https://rasoat.vn/key/abc", "Xã Một")
    decoded = decode_settings(encode_settings(settings))
    assert decoded == settings
    assert set(decoded) >= {"general", "admin"}
    assert decoded["general"]["server_url"] == "https://rasoat.vn/key/abc"
    assert decoded["general"]["app_language"] == "vi"
    assert "password" not in decoded["general"]
