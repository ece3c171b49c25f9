"""The JavaRosa harness really runs ODK Collect's form engine.

A small XLSForm is compiled with pyxform 4.5.0 and hand-written instances are
checked by JavaRosa 5.1.0 (from the ODK Validate jar pyxform bundles). Every
rejection test asserts the exact node JavaRosa names, and every acceptance test
asserts the exact instanceID it read back, so the tests fail if the engine stops
checking or the harness stops asking it. ``recompute`` is tested the same way on a
second form whose calculations read a repeat count and a CSV file: exact values,
computed over stale ones the instance carries.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
from pyxform.xls2xform import convert

try:  # run from the repo root with `python -m pytest`, or as a package
    from tests.engines.javarosa import (
        FormInvalid,
        InstanceInvalid,
        _classes_dir,
        check_instance,
        recompute,
        validate_form,
        validator_jar,
    )
except ImportError:  # pytest's default rootdir-less import puts this folder on sys.path
    from javarosa import (  # type: ignore[no-redef]
        FormInvalid,
        InstanceInvalid,
        _classes_dir,
        check_instance,
        recompute,
        validate_form,
        validator_jar,
    )

FORM_ID = "khao_sat_ho"
FORM_VERSION = "2024061501"

XLSFORM_MD = f"""
| survey |
| | type                                | name       | label::Tiếng Việt (vi) | required | constraint         | parameters      |
| | text                                | ho_ten     | Họ và tên chủ hộ       | yes      |                    |                 |
| | integer                             | tuoi       | Tuổi                   |          | . >= 0 and . < 120 |                 |
| | select_one gioi                     | gioi_tinh  | Giới tính              |          |                    |                 |
| | select_one_from_file households.csv | ho         | Hộ gia đình            |          |                    |                 |
| | begin_repeat                        | thanh_vien | Thành viên hộ          |          |                    |                 |
| | text                                | ten_tv     | Tên thành viên         | yes      |                    |                 |
| | end_repeat                          |            |                        |          |                    |                 |
| | image                               | anh        | Ảnh nhà                |          |                    | max-pixels=1024 |
| choices |
| | list_name | name | label::Tiếng Việt (vi) |
| | gioi      | nam  | Nam                    |
| | gioi      | nu   | Nữ                     |
| settings |
| | form_id   | version        |
| | {FORM_ID} | {FORM_VERSION} |
"""

HOUSEHOLDS_CSV = "name,label\nHH001,Hộ ông Ba\nHH002,Hộ bà Tư\n"

INSTANCE_ID = "uuid:6f1c2b9e-0d5a-4c1e-9a43-2f7b1e8d9c10"
COLLECT_DECLARATION = "<?xml version='1.0' encoding='UTF-8' ?>"


def make_instance(
    *,
    declaration: bool = True,
    form_id: str = FORM_ID,
    root: str = "data",
    ho_ten: str = "Nguyễn Thị Hoa",
    tuoi: str = "42",
    gioi_tinh: str = "nu",
    ho: str = "HH002",
    members: tuple[str, ...] = ("Trần Văn Bình", "Lê Thị Châu"),
    extra: str = "",
    instance_id: str = INSTANCE_ID,
) -> bytes:
    """An instance as Collect would write it (one line, no pretty-printing)."""
    repeats = "".join(f"<thanh_vien><ten_tv>{m}</ten_tv></thanh_vien>" for m in members)
    xml = (
        f'<{root} xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms"'
        f' id="{form_id}" version="{FORM_VERSION}">'
        f"<ho_ten>{ho_ten}</ho_ten><tuoi>{tuoi}</tuoi><gioi_tinh>{gioi_tinh}</gioi_tinh>"
        f"<ho>{ho}</ho>{repeats}<anh>1718000000000.jpg</anh>{extra}"
        f"<meta><instanceID>{instance_id}</instanceID></meta></{root}>"
    )
    return ((COLLECT_DECLARATION if declaration else "") + xml).encode("utf-8")


@pytest.fixture(scope="module")
def form(tmp_path_factory) -> tuple[Path, Path]:
    """Compiled XForm and its media folder (households.csv)."""
    base = tmp_path_factory.mktemp("javarosa")
    result = convert(xlsform=XLSFORM_MD, file_type=".md")
    form_xml = base / "form.xml"
    form_xml.write_text(result.xform, encoding="utf-8")
    media = base / "form-media"
    media.mkdir()
    (media / "households.csv").write_text(HOUSEHOLDS_CSV, encoding="utf-8")
    return form_xml, media


def rejection(form: tuple[Path, Path], xml: bytes) -> InstanceInvalid:
    form_xml, media = form
    with pytest.raises(InstanceInvalid) as info:
        check_instance(form_xml, xml, media)
    return info.value


# --- the form itself ------------------------------------------------------------


def test_compiled_form_has_what_the_instances_rely_on(form):
    xform = form[0].read_text(encoding="utf-8")
    assert f'<data id="{FORM_ID}" version="{FORM_VERSION}">' in xform
    assert 'src="jr://file-csv/households.csv"' in xform
    assert 'orx:max-pixels="1024"' in xform
    assert "Họ và tên chủ hộ" in xform
    assert validator_jar().name == "ODK_Validate.jar"


def test_validate_form_accepts_the_good_form(form):
    validate_form(form[0])


def test_validate_form_rejects_a_question_bound_to_a_missing_node(form, tmp_path):
    # A body control whose node is not in the instance: JavaRosa's parser refuses it.
    # (A bare <bind> to a missing node is *not* an error for ODK Validate 1.20.0.)
    xform = form[0].read_text(encoding="utf-8")
    broken_xml = xform.replace('<input ref="/data/ho_ten">', '<input ref="/data/khong_co">')
    assert broken_xml != xform
    broken = tmp_path / "broken.xml"
    broken.write_text(broken_xml, encoding="utf-8")
    # pyxform's ErrorCleaner rewrites /data/khong_co to ${khong_co} in Validate's output.
    with pytest.raises(FormInvalid, match=r"Question bound to non-existent node.*khong_co"):
        validate_form(broken)


def test_validate_form_rejects_a_calculation_cycle(form, tmp_path):
    xform = form[0].read_text(encoding="utf-8")
    broken_xml = xform.replace(
        '<bind nodeset="/data/gioi_tinh" type="string"/>',
        '<bind nodeset="/data/gioi_tinh" type="string" calculate="/data/ho"/>',
    ).replace(
        '<bind nodeset="/data/ho" type="string"/>',
        '<bind nodeset="/data/ho" type="string" calculate="/data/gioi_tinh"/>',
    )
    assert broken_xml.count("calculate=") == 2
    broken = tmp_path / "cycle.xml"
    broken.write_text(broken_xml, encoding="utf-8")
    with pytest.raises(FormInvalid, match="Cycle detected"):
        validate_form(broken)


# --- instances ------------------------------------------------------------------


@pytest.mark.parametrize("declaration", [True, False], ids=["xml-declaration", "no-declaration"])
def test_valid_instance_returns_its_instance_id(form, declaration):
    xml = make_instance(declaration=declaration)
    assert xml.startswith(b"<?xml") is declaration
    assert check_instance(form[0], xml, form[1]) == INSTANCE_ID


def test_instance_id_is_read_from_the_instance(form):
    other_id = "uuid:00000000-1111-4222-8333-444444444444"
    assert check_instance(form[0], make_instance(instance_id=other_id), form[1]) == other_id


def test_constraint_violation_names_the_field(form):
    err = rejection(form, make_instance(tuoi="150"))
    assert err.ref == "/data/tuoi"
    assert err.reason.startswith("constraint violated")
    assert "value=150" in err.reason


def test_constraint_boundary_is_javarosas(form):
    assert check_instance(form[0], make_instance(tuoi="119"), form[1]) == INSTANCE_ID
    assert rejection(form, make_instance(tuoi="120")).ref == "/data/tuoi"
    assert rejection(form, make_instance(tuoi="-1")).ref == "/data/tuoi"


def test_missing_required_field_is_rejected(form):
    err = rejection(form, make_instance(ho_ten=""))
    assert err.ref == "/data/ho_ten"
    assert err.reason == "required but empty"


def test_missing_required_field_inside_a_repeat_names_the_instance(form):
    err = rejection(form, make_instance(members=("Trần Văn Bình", "")))
    assert err.ref == "/data/thanh_vien[2]/ten_tv"
    assert err.reason == "required but empty"


def test_instance_of_another_form_is_rejected(form):
    err = rejection(form, make_instance(form_id="mot_form_khac"))
    assert err.ref == "/data/@id"
    assert "mot_form_khac" in err.reason


def test_instance_with_another_root_is_rejected(form):
    err = rejection(form, make_instance(root="khao_sat"))
    assert "form expects <data>" in err.reason


def test_value_that_does_not_fit_its_type_is_rejected(form):
    err = rejection(form, make_instance(tuoi="bốn mươi"))
    assert err.ref == "/data/tuoi"
    assert "not a valid int" in err.reason


def test_unknown_element_is_rejected(form):
    err = rejection(form, make_instance(extra="<ghi_chu>x</ghi_chu>"))
    assert err.ref == "/data/ghi_chu"


def test_unknown_choice_is_rejected(form):
    err = rejection(form, make_instance(gioi_tinh="khac"))
    assert err.ref == "/data/gioi_tinh"
    assert "'khac' is not one of the 2 choices" in err.reason


def test_csv_external_instance_is_loaded_from_media_dir(form):
    # HH002 is valid only because households.csv was read through jr://file-csv/.
    assert check_instance(form[0], make_instance(ho="HH002"), form[1]) == INSTANCE_ID
    err = rejection(form, make_instance(ho="HH999"))
    assert err.ref == "/data/ho"
    assert "is not one of the 2 choices" in err.reason


def test_without_media_dir_the_csv_choices_are_missing(form):
    with pytest.raises(InstanceInvalid, match=r"^/data/ho: 'HH002' is not one of the 0 choices"):
        check_instance(form[0], make_instance(), None)


def test_unparseable_instance_is_a_runtime_error(form):
    with pytest.raises(RuntimeError, match="instance does not parse"):
        check_instance(form[0], b"<data id='khao_sat_ho'><ho_ten>", form[1])


# --- recompute -----------------------------------------------------------------

CALC_FORM_ID = "tinh_lai"

CALC_XLSFORM_MD = f"""
| survey |
| | type                                | name       | label       | calculation                                          | relevant       |
| | select_one_from_file households.csv | ho         | Hộ gia đình |                                                      |                |
| | begin_repeat                        | thanh_vien | Thành viên  |                                                      |                |
| | text                                | ten_tv     | Tên         |                                                      |                |
| | calculate                           | nhan       |             | concat(position(..), '. ', ${{ten_tv}})              |                |
| | end_repeat                          |            |             |                                                      |                |
| | calculate                           | so_tv      |             | count(${{thanh_vien}})                               |                |
| | calculate                           | so_tv_dau  |             | once(${{so_tv}})                                     |                |
| | decimal                             | ti_le      | Tỉ lệ       | ${{so_tv}} div 4                                     |                |
| | calculate                           | ten_ho     |             | instance('households')/root/item[name=${{ho}}]/label |                |
| | calculate                           | dong_nguoi |             | 'co'                                                 | ${{so_tv}} > 2 |
| settings |
| | form_id        | instance_name                          |
| | {CALC_FORM_ID} | concat(${{ten_ho}}, ' – ', ${{so_tv}}) |
"""


def calc_instance(
    members: tuple[str, ...] = ("Trần Văn Bình", "Lê Thị Châu"),
    *,
    form_id: str = CALC_FORM_ID,
    ho: str = "HH002",
) -> bytes:
    """Every calculated node carries a wrong value, as if computed by a broken engine."""
    repeats = "".join(
        f"<thanh_vien><ten_tv>{m}</ten_tv><nhan>sai</nhan></thanh_vien>" for m in members
    )
    return (
        f'{COLLECT_DECLARATION}<data xmlns:jr="http://openrosa.org/javarosa" id="{form_id}">'
        f"<ho>{ho}</ho>{repeats}<so_tv>99</so_tv><so_tv_dau>99</so_tv_dau><ti_le>7.5</ti_le><ten_ho>sai</ten_ho>"
        "<dong_nguoi>sai</dong_nguoi>"
        f"<meta><instanceID>{INSTANCE_ID}</instanceID><instanceName>sai</instanceName></meta>"
        "</data>"
    ).encode()


@pytest.fixture(scope="module")
def calc_form(tmp_path_factory) -> Path:
    """The compiled recompute form; its media folder is the first form's (households.csv)."""
    form_xml = tmp_path_factory.mktemp("javarosa-calc") / "calc.xml"
    form_xml.write_text(convert(xlsform=CALC_XLSFORM_MD, file_type=".md").xform, encoding="utf-8")
    return form_xml


def test_recompute_computes_every_calculation_from_the_answers(calc_form, form):
    # Document order, a position on every repeat instance, the CSV label read through
    # jr://file-csv/, a decimal as Collect serializes it; dong_nguoi is not relevant.
    assert list(recompute(calc_form, calc_instance(), form[1]).items()) == [
        ("/data/thanh_vien[1]/nhan", "1. Trần Văn Bình"),
        ("/data/thanh_vien[2]/nhan", "2. Lê Thị Châu"),
        ("/data/so_tv", "2"),
        ("/data/so_tv_dau", "2"),  # once() would keep 99 had the node not been emptied
        ("/data/ti_le", "0.5"),
        ("/data/ten_ho", "Hộ bà Tư"),
        ("/data/meta/instanceName", "Hộ bà Tư – 2"),
    ]


def test_recompute_follows_the_repeat_count_and_relevance(calc_form, form):
    members = ("An", "Bảo", 'Chi "Út"\\Bé')  # quotes and backslash survive the JSON
    values = recompute(calc_form, calc_instance(members, ho="HH001"), form[1])
    assert values == {
        "/data/thanh_vien[1]/nhan": "1. An",
        "/data/thanh_vien[2]/nhan": "2. Bảo",
        "/data/thanh_vien[3]/nhan": '3. Chi "Út"\\Bé',
        "/data/so_tv": "3",
        "/data/so_tv_dau": "3",
        "/data/ti_le": "0.75",
        "/data/ten_ho": "Hộ ông Ba",
        "/data/dong_nguoi": "co",
        "/data/meta/instanceName": "Hộ ông Ba – 3",
    }
    single = recompute(calc_form, calc_instance(("An",)), form[1])
    assert single["/data/thanh_vien[1]/nhan"] == "1. An"  # position even for a lone instance
    assert single["/data/so_tv"] == "1"


def test_recompute_without_media_dir_reads_an_empty_csv(calc_form):
    values = recompute(calc_form, calc_instance(), None)
    assert values["/data/ten_ho"] == ""
    assert values["/data/meta/instanceName"] == " – 2"


def test_recompute_refuses_a_broken_instance(calc_form, form):
    with pytest.raises(RuntimeError, match="instance does not parse"):
        recompute(calc_form, b"<data id='tinh_lai'><so_tv>", form[1])
    with pytest.raises(InstanceInvalid) as other_form:
        recompute(calc_form, calc_instance(form_id=FORM_ID), form[1])
    assert other_form.value.ref == "/data/@id"
    assert "form id is 'tinh_lai'" in other_form.value.reason
    with pytest.raises(InstanceInvalid) as unknown:
        recompute(calc_form, calc_instance().replace(b"<so_tv>", b"<ghi_chu>x</ghi_chu><so_tv>"))
    assert unknown.value.ref == "/data/ghi_chu"
    with pytest.raises(InstanceInvalid) as bad_value:
        recompute(
            calc_form, calc_instance().replace(b"<ti_le>7.5<", "<ti_le>bảy<".encode()), form[1]
        )
    assert bad_value.value.ref == "/data/ti_le"
    assert "not a valid decimal" in bad_value.value.reason


# --- the harness itself ---------------------------------------------------------


def test_concurrent_first_compiles_agree(tmp_path):
    results: list[Path] = []
    errors: list[BaseException] = []

    def compile_once() -> None:
        try:
            results.append(_classes_dir(tmp_path))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=compile_once) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(set(results)) == 1
    (classes,) = set(results)
    assert (classes / "InstanceCheck.class").is_file()
    assert (classes / "Recompute.class").is_file()
    # No half-written temp directories left behind.
    assert [p.name for p in tmp_path.iterdir()] == [classes.name]


def test_editing_either_source_recompiles_both(tmp_path, monkeypatch):
    # Recompute.java uses InstanceCheck's helpers: both are hashed and compiled together.
    harness = sys.modules[_classes_dir.__module__]
    src = tmp_path / "src"
    src.mkdir()
    copies = tuple(src / path.name for path in harness.SOURCES)
    for original, copy in zip(harness.SOURCES, copies, strict=True):
        copy.write_bytes(original.read_bytes())
    assert [c.name for c in copies] == ["InstanceCheck.java", "Recompute.java"]
    monkeypatch.setattr(harness, "SOURCES", copies)
    build = tmp_path / "build"
    first = _classes_dir(build)
    for copy in copies:
        copy.write_bytes(copy.read_bytes() + b"// edited\n")
        rebuilt = _classes_dir(build)
        assert rebuilt != first
        assert {p.name for p in rebuilt.iterdir()} >= {"InstanceCheck.class", "Recompute.class"}
        assert [p.name for p in build.iterdir()] == [rebuilt.name]  # stale build removed
        first = rebuilt
