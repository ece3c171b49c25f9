"""The ODK Web Forms harness really fills forms with the real engine.

A small XLSForm covering the question types rasoat's questionnaires use is
compiled with pyxform, filled through ``fill_form`` and the engine's instance
is read back with XPath. Nothing here is mocked: if Node, the npm package or
the engine's API breaks, these tests fail.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree
from pyxform.xls2xform import convert

try:  # run from the repo root with `python -m pytest`, or as a package
    from tests.engines.webforms import FilledInstance, fill_form
except ImportError:  # pytest's default rootdir-less import puts this folder on sys.path
    from webforms import FilledInstance, fill_form

FORM_ID = "rasoat_harness"
FORM_VERSION = "2024061501"

XLSFORM_MD = f"""
| survey |
| | type                                | name         | label              | required | constraint           | constraint_message      | parameters     |
| | text                                | name         | Họ và tên chủ hộ   | yes      |                      |                         |                |
| | integer                             | age          | Tuổi               | yes      | . >= 0 and . <= 120  | Tuổi phải từ 0 đến 120  |                |
| | select_one sex                      | sex          | Giới tính          | yes      |                      |                         |                |
| | select_multiple assets              | assets       | Tài sản trong nhà  |          |                      |                         |                |
| | begin repeat                        | members      | Thành viên hộ      |          |                      |                         |                |
| | text                                | member_name  | Tên thành viên     | yes      |                      |                         |                |
| | integer                             | member_age   | Tuổi thành viên    |          |                      |                         |                |
| | end repeat                          |              |                    |          |                      |                         |                |
| | image                               | photo        | Ảnh nhà            |          |                      |                         | max-pixels=1024 |
| | select_one_from_file households.csv | household    | Mã hộ gia đình     | yes      |                      |                         |                |
| choices |
| | list_name | name  | label   |
| | sex       | 1     | Nam     |
| | sex       | 2     | Nữ      |
| | assets    | tv    | Ti vi   |
| | assets    | radio | Đài     |
| | assets    | bike  | Xe đạp  |
| settings |
| | form_id   | version        | form_title                 |
| | {FORM_ID} | {FORM_VERSION} | Khảo sát hộ gia đình (thử) |
"""

HOUSEHOLDS_CSV = "name,label\nHH001,Hộ ông Ba\nHH002,Hộ bà Tư\n"

# Not a decodable picture: the engine passes the bytes through untouched
# (max-pixels is the client's job), which is what the test checks.
PHOTO_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00harness-photo\xff\xd9"


@pytest.fixture(scope="module")
def form(tmp_path_factory) -> tuple[Path, Path]:
    """Compiled XForm and its media folder (households.csv)."""
    base = tmp_path_factory.mktemp("webforms-form")
    result = convert(xlsform=XLSFORM_MD, file_type=".md")
    xform = base / f"{FORM_ID}.xform"
    xform.write_text(result.xform, encoding="utf-8")
    media = base / "media"
    media.mkdir()
    (media / "households.csv").write_text(HOUSEHOLDS_CSV, encoding="utf-8")
    return xform, media


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "photo.jpg"
    path.write_bytes(PHOTO_BYTES)
    return path


def complete_steps(photo: Path, age: str = "42") -> list[dict]:
    return [
        {"op": "set", "ref": "/data/name", "value": "Nguyễn Văn A"},
        {"op": "set", "ref": "/data/age", "value": age},
        {"op": "select", "ref": "/data/sex", "value": "2"},
        {"op": "select", "ref": "/data/assets", "values": ["tv", "radio"]},
        # pyxform writes one repeat instance into the form; the engine starts from it.
        {"op": "add_repeat", "ref": "/data/members", "count": 1},
        {"op": "set", "ref": "/data/members[1]/member_name", "value": "Trần Thị Bình"},
        {"op": "set", "ref": "/data/members[1]/member_age", "value": "39"},
        {"op": "set", "ref": "/data/members[2]/member_name", "value": "Nguyễn Văn Út"},
        {"op": "set", "ref": "/data/members[2]/member_age", "value": "8"},
        {"op": "attach", "ref": "/data/photo", "file": str(photo)},
        {"op": "select", "ref": "/data/household", "value": "HH002"},
    ]


def xpath_text(doc: etree._Element, expr: str) -> str:
    found = doc.xpath(expr)
    assert len(found) == 1, f"{expr} matched {len(found)} nodes"
    return found[0]


def test_engine_fills_every_question_type(form, photo, tmp_path):
    xform, media = form
    out = tmp_path / "out"

    filled = fill_form(xform, complete_steps(photo), out, attachments_dir=media)

    assert isinstance(filled, FilledInstance)
    assert filled.xml == (out / "instance.xml").read_bytes()
    doc = etree.fromstring(filled.xml)

    # pyxform's instance root, in no namespace, carrying the form's identity.
    assert doc.tag == "data"
    assert doc.get("id") == FORM_ID
    assert doc.get("version") == FORM_VERSION

    assert xpath_text(doc, "/data/name/text()") == "Nguyễn Văn A"
    assert xpath_text(doc, "/data/age/text()") == "42"
    assert xpath_text(doc, "/data/sex/text()") == "2"
    assert xpath_text(doc, "/data/assets/text()").split() == ["tv", "radio"]
    assert xpath_text(doc, "/data/household/text()") == "HH002"

    assert doc.xpath("count(/data/members)") == 2
    assert xpath_text(doc, "/data/members[1]/member_name/text()") == "Trần Thị Bình"
    assert xpath_text(doc, "/data/members[1]/member_age/text()") == "39"
    assert xpath_text(doc, "/data/members[2]/member_name/text()") == "Nguyễn Văn Út"
    assert xpath_text(doc, "/data/members[2]/member_age/text()") == "8"

    instance_id = xpath_text(doc, "/data/meta/instanceID/text()")
    assert re.fullmatch(
        r"uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", instance_id
    )
    assert filled.instance_id == instance_id

    assert xpath_text(doc, "/data/photo/text()") == "photo.jpg"
    assert set(filled.files) == {"photo.jpg"}
    assert filled.files["photo.jpg"] == out.resolve() / "photo.jpg"
    assert filled.files["photo.jpg"].read_bytes() == PHOTO_BYTES
    assert sorted(p.name for p in out.iterdir()) == ["instance.xml", "photo.jpg"]


def test_each_fill_gets_a_new_instance_id(form, photo, tmp_path):
    xform, media = form
    first = fill_form(xform, complete_steps(photo), tmp_path / "a", attachments_dir=media)
    second = fill_form(xform, complete_steps(photo), tmp_path / "b", attachments_dir=media)
    assert first.instance_id != second.instance_id


def test_constraint_violation_is_refused(form, photo, tmp_path):
    xform, media = form
    with pytest.raises(RuntimeError) as excinfo:
        fill_form(xform, complete_steps(photo, age="130"), tmp_path / "out", attachments_dir=media)
    message = str(excinfo.value)
    assert "/data/age: constraint" in message
    assert "Tuổi phải từ 0 đến 120" in message  # the form's own constraint message
    assert not (tmp_path / "out" / "instance.xml").exists()


def test_unanswered_required_question_is_refused(form, photo, tmp_path):
    xform, media = form
    steps = [s for s in complete_steps(photo) if s["ref"] != "/data/members[2]/member_name"]
    with pytest.raises(RuntimeError, match=re.escape("/data/members[2]/member_name: required")):
        fill_form(xform, steps, tmp_path / "out", attachments_dir=media)


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ({"op": "set", "ref": "/data/nam", "value": "x"}, 'no node with ref "/data/nam"'),
        ({"op": "set", "ref": "/data/age", "value": "bốn mươi"}, "rejected or rewrote"),
        ({"op": "select", "ref": "/data/household", "value": "HH999"}, "not among the choices"),
    ],
    ids=["unknown-ref", "non-integer", "choice-not-in-csv"],
)
def test_bad_step_is_named_in_the_error(form, photo, tmp_path, step, expected):
    xform, media = form
    with pytest.raises(RuntimeError, match=re.escape(expected)) as excinfo:
        fill_form(xform, [*complete_steps(photo), step], tmp_path / "out", attachments_dir=media)
    assert "step 12" in str(excinfo.value)


def test_missing_form_media_is_refused(form, tmp_path):
    xform, _media = form
    with pytest.raises(RuntimeError, match=re.escape("jr://file-csv/households.csv")):
        fill_form(xform, [], tmp_path / "out", attachments_dir=tmp_path)
