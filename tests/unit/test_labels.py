"""Questionnaire labels for the staff submission page (server/questionnaires/labels.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.questionnaires.compiler import compile_xlsform
from server.questionnaires.labels import (
    AnswerRow,
    FormLabels,
    clean_label,
    form_labels,
    labelled_answers,
)
from server.questionnaires.xform import inspect_xform
from server.submissions.parsing import extract_fields, parse_submission
from server.xmlsafe import XmlRejected
from tests.instances import demo_instance

FORMS = Path(__file__).resolve().parents[2] / "forms"


def _xform(name: str) -> bytes:
    return (FORMS / f"{name}.xml").read_bytes()


@pytest.fixture(scope="module")
def phieu_b_vi() -> FormLabels:
    return form_labels(_xform("phieu_b_2022"), "vi")


@pytest.fixture(scope="module")
def phieu_b_en() -> FormLabels:
    return form_labels(_xform("phieu_b_2022"), "en")


def _answer(rows: list[AnswerRow], path: str) -> AnswerRow:
    matches = [r for r in rows if r.kind == "answer" and r.path == path]
    assert len(matches) == 1, f"{path}: {matches}"
    return matches[0]


# --- labels ---------------------------------------------------------------------------------


def test_question_label_in_vietnamese_and_english(phieu_b_vi, phieu_b_en):
    assert phieu_b_vi.language == "Tiếng Việt (vi)"
    assert phieu_b_en.language == "English (en)"
    vi = phieu_b_vi.fields["housing/floor_area"]
    en = phieu_b_en.fields["housing/floor_area"]
    assert vi.label == "Tổng diện tích ở của hộ (m²)"
    assert en.label == "Total living floor area (m²)"
    assert (vi.control, vi.type, vi.calculated, vi.note) == ("input", "decimal", False, False)
    assert phieu_b_vi.fields["members/info/age"].label == "Tuổi (tuổi tròn)"
    assert phieu_b_en.fields["members/info/age"].label == "Age (completed years)"
    assert phieu_b_en.fields["members/info/age"].type == "int"


def test_unknown_language_falls_back_to_the_default_translation():
    labels = form_labels(_xform("phieu_b_2022"), "fr")
    assert labels.language == "Tiếng Việt (vi)"
    assert labels.fields["housing/floor_area"].label == "Tổng diện tích ở của hộ (m²)"


def test_group_and_repeat_labels(phieu_b_vi, phieu_b_en):
    assert phieu_b_vi.groups["housing"].label == "5. Nhà ở"
    assert phieu_b_en.groups["housing"].label == "5. Housing"
    assert phieu_b_vi.groups["housing"].repeat is False
    assert phieu_b_vi.groups["members"].label == "Thành viên hộ"
    assert phieu_b_vi.groups["members"].repeat is True
    # a group inside the repeat, whose label shows <output/> values
    assert phieu_b_vi.groups["members/info"].label == "Người thứ …: thông tin chung"
    assert phieu_b_en.groups["members/info"].label == "Person …: general"
    assert phieu_b_vi.groups["members/info"].repeat is False
    # label() takes indexed paths and leaves unknown ones as they are
    assert phieu_b_en.label("members[3]/work") == "Person … — …: work (15+)"
    assert phieu_b_en.label("no/such[2]/path") == "no/such[2]/path"


def test_document_order_follows_the_form(phieu_b_vi):
    order = phieu_b_vi.order
    assert order.index("ident") < order.index("ident/in_list") < order.index("members")
    assert order.index("members/info/name") < order.index("members/info/age")
    assert order.index("members/edu") < order.index("roster_check") < order.index("housing")
    assert list(phieu_b_vi.fields)[:4] == ["start", "end", "deviceid", "username"]


def test_markdown_html_and_outputs_are_made_readable():
    en = form_labels(_xform("phieu_a"), "en")
    vi = form_labels(_xform("phieu_a"), "vi")
    assert en.fields["provisional_banner"].label == (
        "Provisional Form A: the criteria are loaded by the administrator and not checked "
        "against the official text. Quick identification of household characteristics. "
        'Rule in use (provisional): a household with at least one "stop" characteristic '
        "stops at Form A (not poor, not near-poor); the others continue with Form B."
    )
    assert vi.fields["hh_info"].label == "Hộ: … — mã … — thôn … — tình trạng theo danh sách: …."
    assert en.fields["result_tiep"].label == (
        "Form A result: CONTINUE WITH FORM B. … characteristic(s) ticked, "
        'none of the "stop" kind (provisional).'
    )
    assert form_labels(_xform("rasoat_demo"), "vi").fields["member_note"].label == (
        "Hộ có … thành viên."
    )
    # names with underscores, arithmetic and stray "<" survive
    assert clean_label("Tệp phieu_a_tieu_chi.csv, 2 * 3 < 7 > 1") == (
        "Tệp phieu_a_tieu_chi.csv, 2 * 3 < 7 > 1"
    )
    assert clean_label("# Tiêu đề\n*nghiêng* và [liên kết](https://x.vn)&nbsp;!") == (
        "Tiêu đề nghiêng và liên kết !"
    )


def test_notes_and_calculates_are_flagged():
    labels = form_labels(_xform("rasoat_demo"), "vi")
    note = labels.fields["member_note"]
    assert (note.control, note.note, note.calculated) == ("input", True, False)
    calc = labels.fields["member_count"]
    assert (calc.control, calc.calculated, calc.note) == ("none", True, False)
    assert calc.label == "member_count"  # no label in the form: the field name
    photo = labels.fields["house_photo"]
    assert (photo.control, photo.type, photo.label) == ("upload", "binary", "Ảnh chụp ngôi nhà")


def test_what_the_phone_fills_in_has_plain_labels(phieu_b_vi, phieu_b_en):
    # start, end, deviceid, username: ODK metadata with no label in the form.
    expected = {
        "start": ("Thời điểm bắt đầu phỏng vấn", "Interview started"),
        "end": ("Thời điểm kết thúc phỏng vấn", "Interview ended"),
        "deviceid": ("Mã thiết bị", "Device ID"),
        "username": ("Tài khoản trên điện thoại", "Username on the phone"),
    }
    for path, (vi, en) in expected.items():
        assert (phieu_b_vi.fields[path].label, phieu_b_en.fields[path].label) == (vi, en)
        assert phieu_b_vi.fields[path].calculated


def test_select_one_choice_labels(phieu_b_vi, phieu_b_en):
    assert dict(phieu_b_vi.fields["members/info/sex"].choices) == {"1": "Nam", "2": "Nữ"}
    assert dict(phieu_b_en.fields["members/info/sex"].choices) == {"1": "Male", "2": "Female"}
    assert phieu_b_vi.fields["members/info/sex"].control == "select1"
    assert phieu_b_vi.fields["housing/wall"].choices["tre_nua_la"] == "Tre, nứa, lá, phên"
    assert phieu_b_en.fields["general/area_type_ask"].choices["urban"] == "Urban"


def test_choices_from_files_are_not_resolved():
    labels = form_labels(_xform("phieu_a"), "vi")
    assert labels.fields["ident/hh"].choices is None  # instance('households'), a CSV
    assert labels.fields["nhan_dang/criteria"].choices is None  # select_multiple_from_file
    assert labels.fields["nhan_dang/criteria"].control == "select"
    assert dict(labels.fields["ident/in_list"].choices) == {"yes": "Có", "no": "Không"}
    rows = labelled_answers(
        labels, {"ident/in_list": "yes", "ident/hh": "HH-0007", "nhan_dang/criteria": "a2 b1"}
    )
    assert _answer(rows, "ident/in_list").display == "Có"
    assert _answer(rows, "ident/hh").display == "HH-0007"
    assert _answer(rows, "nhan_dang/criteria").display == "a2 b1"


# --- answer rows ------------------------------------------------------------------------------


def test_select_multiple_shows_joined_choice_labels(phieu_b_vi, phieu_b_en):
    answers = {"services/info_devices": "tivi dien_thoai_thong_minh"}
    vi = _answer(labelled_answers(phieu_b_vi, answers), "services/info_devices")
    en = _answer(labelled_answers(phieu_b_en, answers), "services/info_devices")
    assert vi.display == "Ti vi; Điện thoại thông minh"
    assert en.display == "Television; Smartphone"
    assert vi.value == "tivi dien_thoai_thong_minh"
    assert vi.control == "select"
    assert vi.label == "Hộ có những phương tiện nào sau đây (đang dùng được)?"
    # a value the list no longer has is shown raw
    gone = labelled_answers(phieu_b_vi, {"services/info_devices": "tivi dien_thoai_ban"})
    assert _answer(gone, "services/info_devices").display == "Ti vi; dien_thoai_ban"


def test_repeat_with_two_members_in_order(phieu_b_vi):
    answers = {  # deliberately out of order
        "members[2]/info/name": "Y Bình",
        "members[2]/info/sex": "2",
        "members[1]/info/sex": "1",
        "members[1]/info/name": "Nguyễn Văn A",
        "members[1]/info/age": "42",
        "members[1]/member_no": "1",
        "members[2]/member_no": "2",
        "housing/floor_area": "36.5",
    }
    rows = labelled_answers(phieu_b_vi, answers)
    assert [(r.kind, r.path) for r in rows] == [
        ("repeat", "members[1]"),
        ("answer", "members[1]/member_no"),
        ("group", "members[1]/info"),
        ("answer", "members[1]/info/name"),
        ("answer", "members[1]/info/sex"),
        ("answer", "members[1]/info/age"),
        ("repeat", "members[2]"),
        ("answer", "members[2]/member_no"),
        ("group", "members[2]/info"),
        ("answer", "members[2]/info/name"),
        ("answer", "members[2]/info/sex"),
        ("group", "housing"),
        ("answer", "housing/floor_area"),
    ]
    by_path = {r.path: r for r in rows}
    assert by_path["members[1]"].label == "Thành viên hộ"
    assert (by_path["members[1]"].instance, by_path["members[2]"].instance) == (1, 2)
    # the heading shows the instance's own answers (<output value="../member_no"/>)
    assert by_path["members[2]/info"].label == "Người thứ 2: thông tin chung"
    assert by_path["members[2]/info"].filled is True
    assert by_path["members[1]"].filled is False
    assert by_path["members[2]/info/sex"].display == "Nữ"
    assert by_path["members[1]/info/sex"].display == "Nam"
    assert by_path["members[2]/info/name"].instance == 2
    assert by_path["members[2]/info/name"].label == "Họ và tên"
    assert by_path["members[2]/info/name"].depth == 2
    assert by_path["members[2]/member_no"].calculated is True
    assert by_path["members[2]/info/name"].calculated is False
    assert by_path["housing/floor_area"].instance is None


def test_member_headings_show_the_number_and_name_and_no_dangling_dash(phieu_b_vi):
    answers = {
        "members[1]/member_no": "1",
        "members[1]/info/name": "Nguyễn Văn A",
        "members[1]/work/work_status": "that_nghiep",
        "members[2]/member_no": "2",
        "members[2]/info/name": "",  # no name given
        "members[2]/work/work_status": "that_nghiep",
        "members[3]/member_no": "3",  # the name was not asked at all
        "members[3]/work/work_status": "that_nghiep",
    }
    rows = labelled_answers(phieu_b_vi, answers)
    headings = [r.label for r in rows if r.kind == "group" and r.path.endswith("/work")]
    assert headings == [
        "Người thứ 1 — Nguyễn Văn A: việc làm (từ 15 tuổi)",
        "Người thứ 2: việc làm (từ 15 tuổi)",
        "Người thứ 3: việc làm (từ 15 tuổi)",
    ]
    assert all("…" not in r.label for r in rows)


def test_calculated_fields_are_left_out_when_not_asked_for(phieu_b_vi):
    answers = {
        "start": "2026-09-18T12:15:00.000+07:00",
        "hh_code": "DEMO01-T01-0022",
        "members[1]/member_no": "1",
        "members[1]/info/name": "A Rin",
        "members[1]/info/relationship": "chu_ho",
        "members[1]/is_head": "1",
        "members[1]/d_bhyt": "0",
        "members[1]/qual_rank": "0",
        "housing/wall": "go_ben_chac",
        "wall_durable": "1",
    }
    everything = labelled_answers(phieu_b_vi, answers)
    assert {"members[1]/is_head", "members[1]/d_bhyt", "start"} <= {r.path for r in everything}
    asked = labelled_answers(phieu_b_vi, answers, include_calculated=False)
    assert [(r.kind, r.path) for r in asked] == [
        ("repeat", "members[1]"),
        ("group", "members[1]/info"),
        ("answer", "members[1]/info/name"),
        ("answer", "members[1]/info/relationship"),
        ("group", "housing"),
        ("answer", "housing/wall"),
    ]
    # the heading still shows the member's number, read from the hidden calculate
    assert asked[1].label == "Người thứ 1: thông tin chung"
    assert asked[3].display == "Chủ hộ"


def test_repeat_instances_are_numbered_numerically():
    labels = form_labels(_xform("rasoat_demo"), "vi")
    answers = {f"members[{n}]/name": f"Người {n}" for n in (10, 2, 1)}
    rows = labelled_answers(labels, answers)
    assert [r.path for r in rows if r.kind == "repeat"] == [
        "members[1]",
        "members[2]",
        "members[10]",
    ]


def test_group_heading_precedes_its_answers_and_empty_groups_have_none(phieu_b_en):
    rows = labelled_answers(
        phieu_b_en,
        {"b1_land/pigs": "", "housing/floor_area": "48", "housing/wall": "gach_da"},
    )
    assert [(r.kind, r.path, r.label, r.depth) for r in rows] == [
        ("group", "housing", "5. Housing", 0),
        ("answer", "housing/wall", "Main material of the walls", 1),
        ("answer", "housing/floor_area", "Total living floor area (m²)", 1),
        ("group", "b1_land", "9. B1 — Production land, livestock", 0),
        ("answer", "b1_land/pigs", "Pigs (head)", 1),
    ]
    assert _answer(rows, "housing/wall").display == "Brick, stone, cement blocks"
    assert _answer(rows, "b1_land/pigs").value == ""
    # without empty answers the b1_land group has nothing to show, so no heading either
    lean = labelled_answers(
        phieu_b_en,
        {"b1_land/pigs": "", "housing/floor_area": "48"},
        include_empty=False,
    )
    assert [r.path for r in lean] == ["housing", "housing/floor_area"]


def test_unknown_paths_come_last_with_their_raw_path(phieu_b_vi):
    answers = {
        "old_section/old_question": "7",
        "housing/floor_area": "36",
        "meta/instanceID": "uuid:1",
        "meta/instanceName": "Phiếu B – A",
        "housing[2]/floor_area": "40",  # the form has no repeat here
    }
    rows = labelled_answers(phieu_b_vi, answers)
    assert [r.path for r in rows] == [
        "housing",
        "housing/floor_area",
        "old_section/old_question",
        "housing[2]/floor_area",
    ]
    old = rows[2]
    assert (old.label, old.value, old.display, old.known) == (
        "old_section/old_question",
        "7",
        "7",
        False,
    )
    assert old.control is None
    misplaced = rows[3]
    assert (misplaced.label, misplaced.known) == ("Tổng diện tích ở của hộ (m²)", False)
    assert rows[1].known is True


def test_demo_submission_through_the_real_flattening():
    xform = _xform("rasoat_demo")
    repeats = frozenset(inspect_xform(xform).repeats)
    submission = parse_submission(
        demo_instance(members=[("Nguyễn Văn A", 42, "1"), ("Y Bình", 8, "2")]),
        max_bytes=1_000_000,
    )
    answers = extract_fields(submission.root, repeats)
    rows = labelled_answers(form_labels(xform, "en"), answers)
    assert [(r.kind, r.path, r.label, r.display) for r in rows] == [
        ("answer", "village", "Village", "T01"),  # villages.csv: the raw value
        ("answer", "hh_head", "Name of the household head", "Nguyễn Văn A"),
        ("repeat", "members[1]", "Household members", None),
        ("answer", "members[1]/name", "Member's full name", "Nguyễn Văn A"),
        ("answer", "members[1]/age", "Age", "42"),
        ("answer", "members[1]/sex", "Sex", "Male"),
        ("repeat", "members[2]", "Household members", None),
        ("answer", "members[2]/name", "Member's full name", "Y Bình"),
        ("answer", "members[2]/age", "Age", "8"),
        ("answer", "members[2]/sex", "Sex", "Female"),
        ("answer", "member_count", "member_count", "2"),
        ("answer", "house_photo", "Photo of the house", "nha-1.jpg"),
    ]
    assert [r.calculated for r in rows if r.kind == "answer"] == [
        False,
        False,
        False,
        False,
        False,
        False,
        False,
        False,
        True,
        False,
    ]
    # the empty note is shown only on request, after the count it follows in the form
    with_notes = labelled_answers(form_labels(xform, "en"), answers, include_notes=True)
    paths = [r.path for r in with_notes]
    assert paths.index("member_note") == paths.index("member_count") + 1
    assert _answer(with_notes, "member_note").label == "The household has 2 members."


# --- other XForms -----------------------------------------------------------------------------

NESTED_MD = """
| survey   |                     |         |              |
|          | type                | name    | label        |
|          | text                | head    | **Chủ hộ**   |
|          | begin_repeat        | members | Thành viên   |
|          | integer             | age     | Tuổi         |
|          | begin_repeat        | jobs    | Việc làm     |
|          | select_multiple job | job     | Việc         |
|          | end_repeat          | jobs    |              |
|          | end_repeat          | members |              |
| choices  |                     |         |              |
|          | list_name           | name    | label        |
|          | job                 | a       | Làm ruộng    |
|          | job                 | b       | Buôn bán     |
| settings |                     |         |              |
|          | form_id             | version |              |
|          | nested              | 1       |              |
"""


def test_untranslated_form_with_nested_repeats():
    xform = compile_xlsform(NESTED_MD.encode(), file_type=".md").xform
    labels = form_labels(xform, "en")
    assert labels.language is None
    assert labels.fields["head"].label == "Chủ hộ"
    assert dict(labels.fields["members/jobs/job"].choices) == {"a": "Làm ruộng", "b": "Buôn bán"}
    assert labels.groups["members/jobs"].repeat is True
    rows = labelled_answers(
        labels,
        {
            "members[1]/jobs[2]/job": "b",
            "members[1]/jobs[1]/job": "a b",
            "members[1]/age": "30",
            "head": "A",
        },
    )
    assert [(r.kind, r.path, r.label, r.display, r.instance, r.depth) for r in rows] == [
        ("answer", "head", "Chủ hộ", "A", None, 0),
        ("repeat", "members[1]", "Thành viên", None, 1, 0),
        ("answer", "members[1]/age", "Tuổi", "30", 1, 1),
        ("repeat", "members[1]/jobs[1]", "Việc làm", None, 1, 1),
        ("answer", "members[1]/jobs[1]/job", "Việc", "Làm ruộng; Buôn bán", 1, 2),
        ("repeat", "members[1]/jobs[2]", "Việc làm", None, 2, 1),
        ("answer", "members[1]/jobs[2]/job", "Việc", "Buôn bán", 2, 2),
    ]


HANDWRITTEN = """<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"
        xmlns:jr="http://openrosa.org/javarosa">
  <h:head>
    <h:title>Tay</h:title>
    <model>
      <itext>
        <translation lang="Tiếng Việt (vi)" default="true()">
          <text id="q1"><value>Câu một</value></text>
          <text id="g"><value>Nhóm</value></text>
          <text id="img"><value form="image">jr://images/a.png</value></text>
        </translation>
        <translation lang="English (en)">
          <text id="g"><value>Group</value></text>
        </translation>
      </itext>
      <instance>
        <data id="tay" version="1">
          <q1/><g><q2/><q3/><q4/></g><hidden/>
        </data>
      </instance>
      <bind nodeset="/data/q1" type="xsd:string"/>
      <bind nodeset="/data/g/q2" type="select1" id="b_q2"/>
      <bind nodeset="/data/g/q3" type="string"/>
    </model>
  </h:head>
  <h:body>
    <input ref="/data/q1"><label ref="jr:itext('q1')"/></input>
    <group ref="/data/g">
      <label ref="jr:itext('g')"/>
      <select1 bind="b_q2">
        <label>Câu <output value="/data/q1"/> hai</label>
        <item><label>Một</label><value>1</value></item>
        <item><label>Hai</label><value>2</value></item>
      </select1>
      <input ref="q3"><label ref="jr:itext('img')">Câu ba</label></input>
      <trigger ref="q4"><label ref="jr:itext('missing')"/></trigger>
    </group>
  </h:body>
</h:html>
"""


def test_fallbacks_inline_items_and_relative_refs():
    labels = form_labels(HANDWRITTEN.encode(), "en")
    assert labels.language == "English (en)"
    assert labels.fields["q1"].label == "Câu một"  # missing in English: the default translation
    assert labels.groups["g"].label == "Group"
    assert labels.fields["q1"].type == "string"
    q2 = labels.fields["g/q2"]
    assert (q2.label, q2.control) == ("Câu … hai", "select1")
    assert dict(q2.choices) == {"1": "Một", "2": "Hai"}
    assert labels.fields["g/q3"].label == "Câu ba"  # image-only itext: the plain label text
    assert labels.fields["g/q4"].label == "q4"  # nothing at all: the name
    assert labels.fields["g/q4"].control == "trigger"
    assert labels.fields["hidden"].control == "none"
    assert labels.fields["hidden"].calculated is True  # no control: not asked, so computed
    assert labels.fields["q1"].calculated is False
    rows = labelled_answers(labels, {"g/q2": "2", "hidden": "x", "g/q4": "OK"})
    assert [(r.path, r.display) for r in rows] == [
        ("g", None),
        ("g/q2", "Hai"),
        ("g/q4", "OK"),
        ("hidden", "x"),
    ]
    # an absolute output is filled in; empty, it leaves no gap
    assert _answer(rows, "g/q2").label == "Câu hai"
    filled = labelled_answers(labels, {"q1": "một", "g/q2": "1"})
    assert _answer(filled, "g/q2").label == "Câu một hai"


def test_hostile_xml_is_refused():
    doctype = b'<?xml version="1.0"?><!DOCTYPE h [<!ENTITY x "y">]><h:html xmlns:h="x"/>'
    with pytest.raises(XmlRejected) as excinfo:
        form_labels(doctype)
    assert excinfo.value.code == "xml.doctype"
    with pytest.raises(XmlRejected) as excinfo:
        form_labels(_xform("rasoat_demo"), max_bytes=100)
    assert excinfo.value.code == "xml.too_large"
