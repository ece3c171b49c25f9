"""The JavaRosa harness really runs ODK Collect's form engine.

A small XLSForm is compiled with pyxform 4.5.0 and hand-written instances are
checked by JavaRosa 5.1.0 (from the ODK Validate jar pyxform bundles). Every
rejection test asserts the exact node JavaRosa names, and every acceptance test
asserts the exact instanceID it read back, so the tests fail if the engine stops
checking or the harness stops asking it.
"""

from __future__ import annotations

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
        validate_form,
        validator_jar,
    )
except ImportError:  # pytest's default rootdir-less import puts this folder on sys.path
    from javarosa import (  # type: ignore[no-redef]
        FormInvalid,
        InstanceInvalid,
        _classes_dir,
        check_instance,
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
    # No half-written temp directories left behind.
    assert [p.name for p in tmp_path.iterdir()] == [classes.name]
