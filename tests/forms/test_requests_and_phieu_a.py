"""The household request forms (Mẫu số 01, Mẫu số 04 of QĐ 24/2021/QĐ-TTg) and the provisional
Phiếu A, filled end to end.

Each questionnaire is filled by the real ODK Web Forms engine with realistic households; the
values the phone computes (village, head of household, the request/status consistency of
Mẫu 04, the Phiếu A stop count and result) are read back from the instance it serialises.
JavaRosa, the engine inside ODK Collect, must accept every instance, and must compute the same
values when it recomputes them itself (the calculated nodes are blanked before it sees them).
Finally each instance goes to the server through the Collect-like client.

Phiếu A's screening criteria are data (``phieu_a-media/phieu_a_tieu_chi.csv``, illustrative
rows only); the tests read that file, so they keep holding when an administrator replaces it.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from server.extensions import db
from server.questionnaires.sources import XLSFORMS_DIR, load_sources
from server.submissions.models import SubmissionVersion
from tests.collect_client import CollectClient, FlaskTransport
from tests.engines import javarosa, webforms
from tests.instances import jpeg_bytes

SOURCES = {s.name: s for s in load_sources()}
MAU_01, MAU_04, PHIEU_A = "mau_01_de_nghi", "mau_04_de_nghi_thoat_ngheo", "phieu_a"


def _form(name: str) -> Path:
    return SOURCES[name].compiled_path


def _media(name: str) -> Path:
    return XLSFORMS_DIR / f"{name}-media"


def _criteria() -> list[dict[str, str]]:
    with (_media(PHIEU_A) / "phieu_a_tieu_chi.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _value(xml: bytes, path: str) -> str | None:
    """Text of the node at ``path`` (relative to the root), None when the node is absent."""
    nodes = etree.fromstring(xml).xpath(path)
    if not nodes:
        return None
    return nodes[0].text or ""


# --- the households filled in the tests ----------------------------------------------------


def _signature(tmp: Path, seed: int) -> Path:
    path = tmp / f"chu ky {seed}.jpg"
    path.write_bytes(jpeg_bytes(seed, 1500))
    return path


def _applicant(name, sex, dob, ethnicity, id_number=None, id_date=None, id_issuer=None):
    steps = [
        {"op": "set", "ref": "/data/nguoi_de_nghi/applicant_name", "value": name},
        {"op": "select", "ref": "/data/nguoi_de_nghi/applicant_sex", "value": sex},
        {"op": "set", "ref": "/data/nguoi_de_nghi/applicant_dob", "value": dob},
        {"op": "set", "ref": "/data/nguoi_de_nghi/applicant_ethnicity", "value": ethnicity},
    ]
    if id_number is not None:
        steps += [
            {"op": "set", "ref": "/data/nguoi_de_nghi/id_number", "value": id_number},
            {"op": "set", "ref": "/data/nguoi_de_nghi/id_date", "value": id_date},
            {"op": "set", "ref": "/data/nguoi_de_nghi/id_issuer", "value": id_issuer},
        ]
    return steps


def _signed(tmp: Path, seed: int, date: str = "2026-11-20"):
    return [
        {"op": "set", "ref": "/data/ky/req_date", "value": date},
        {"op": "attach", "ref": "/data/ky/signature", "file": str(_signature(tmp, seed))},
    ]


def _members(rows):
    steps = [{"op": "repeat_count", "ref": "/data/members", "count": len(rows)}]
    for i, (name, sex, year, rel, status, id_number) in enumerate(rows, start=1):
        base = f"/data/members[{i}]"
        steps += [
            {"op": "set", "ref": f"{base}/m_name", "value": name},
            {"op": "select", "ref": f"{base}/m_sex", "value": sex},
            {"op": "set", "ref": f"{base}/m_birth_year", "value": str(year)},
            {"op": "select", "ref": f"{base}/m_rel", "value": rel},
            {"op": "select", "ref": f"{base}/m_status", "value": status},
        ]
        if id_number:
            steps.append({"op": "set", "ref": f"{base}/m_id", "value": id_number})
    return steps


# Mẫu 01, case 1: a Xơ Đăng household of thôn T02; the wife asks for a poor/near-poor review.
MAU01_XO_DANG_MEMBERS = [
    ("A Blưn", "1", 1985, "chu_ho", "khong_viec_lam", "062085001122"),
    ("Y Hơn", "2", 1988, "vo_chong", "co_viec_lam", "062188001234"),
    ("A Tú", "1", 2012, "con", "dang_di_hoc", None),
    ("Y Nhung", "2", 2021, "con", "khac", None),
]


def mau01_xo_dang(tmp: Path):
    return [
        {"op": "select", "ref": "/data/kenh", "value": "rsv_tai_ho"},
        *_applicant(
            "Y Hơn",
            "2",
            "1988-04-12",
            "Xơ Đăng",
            "062188001234",
            "2021-06-10",
            "Cục Cảnh sát QLHC về TTXH",
        ),
        {"op": "select", "ref": "/data/cu_tru/new_village", "value": "T02"},
        {"op": "set", "ref": "/data/cu_tru/dia_chi", "value": "Nhóm 3, thôn Đăk Lung"},
        {"op": "select", "ref": "/data/cu_tru/applicant_is_head", "value": "no"},
        {"op": "set", "ref": "/data/cu_tru/new_head_name", "value": "A Blưn"},
        {"op": "select", "ref": "/data/noi_dung/loai_de_nghi", "value": "ngheo_can_ngheo"},
        {
            "op": "set",
            "ref": "/data/noi_dung/ly_do",
            "value": "Chồng bị tai nạn lao động từ tháng 5, không còn làm rẫy được",
        },
        *_members(MAU01_XO_DANG_MEMBERS),
        *_signed(tmp, 11),
    ]


# Mẫu 01, case 2: a Kinh farming household of T01 asks to be assessed as average living standard;
# the applicant is the head and has no ID card number to give.
def mau01_kinh_muc_song_tb(tmp: Path):
    members = [
        ("Nguyễn Thị Lan", "2", 1972, "chu_ho", "co_viec_lam", None),
        ("Lê Văn Khoa", "1", 2004, "con", "dang_di_hoc", None),
    ]
    return [
        {"op": "select", "ref": "/data/kenh", "value": "nop_tai_xa"},
        *_applicant("Nguyễn Thị Lan", "2", "1972-09-30", "Kinh"),
        {"op": "select", "ref": "/data/cu_tru/new_village", "value": "T01"},
        {"op": "set", "ref": "/data/cu_tru/dia_chi", "value": "Số 12, xóm Bến, thôn Kon Rá"},
        {"op": "set", "ref": "/data/cu_tru/thuong_tru", "value": "Xã Ngọc Lâm, tỉnh Hà Tĩnh"},
        {"op": "select", "ref": "/data/cu_tru/applicant_is_head", "value": "yes"},
        {"op": "select", "ref": "/data/noi_dung/loai_de_nghi", "value": "muc_song_tb"},
        {"op": "select", "ref": "/data/noi_dung/nganh", "values": ["nong_nghiep", "lam_nghiep"]},
        {
            "op": "set",
            "ref": "/data/noi_dung/ly_do",
            "value": "Hộ trồng cà phê và keo, cần xác nhận để vay vốn",
        },
        *_members(members),
        *_signed(tmp, 12, "2026-11-23"),
    ]


def _household(code: str | None, village: str | None = None, head: str | None = None):
    if code is not None:
        return [
            {"op": "select", "ref": "/data/ident/in_list", "value": "yes"},
            {"op": "select", "ref": "/data/ident/hh", "value": code},
        ]
    return [
        {"op": "select", "ref": "/data/ident/in_list", "value": "no"},
        {"op": "select", "ref": "/data/ident/new_village", "value": village},
        {"op": "set", "ref": "/data/ident/new_head_name", "value": head},
    ]


# Mẫu 04, case 1: the poor household X1-T02-0001 (Đinh Thị Hờ) asks to leave poverty: consistent.
def mau04_thoat_ngheo(tmp: Path):
    return [
        {"op": "select", "ref": "/data/kenh", "value": "rsv_tai_ho"},
        *_household("X1-T02-0001"),
        *_applicant(
            "Đinh Thị Hờ",
            "2",
            "1989-02-03",
            "Ba Na",
            "064189004455",
            "2022-03-15",
            "Cục Cảnh sát QLHC về TTXH",
        ),
        {"op": "select", "ref": "/data/quan_he_grp/applicant_rel", "value": "chu_ho"},
        {"op": "select", "ref": "/data/noi_dung/loai_de_nghi", "value": "thoat_ngheo"},
        {
            "op": "set",
            "ref": "/data/noi_dung/ly_do",
            "value": "Con trai đi làm công nhân, gửi tiền về hằng tháng; đã làm lại nhà",
        },
        *_signed(tmp, 21),
    ]


# Mẫu 04, case 2: the near-poor household X1-T01-0002 (A Thút) asks to leave *poverty*: the list
# says near-poor, so the phone warns and the reviewer must confirm the current status.
def mau04_mismatch(tmp: Path, confirm: bool = True):
    confirmation = [{"op": "select", "ref": "/data/noi_dung/confirm_status", "value": "yes"}]
    return [
        {"op": "select", "ref": "/data/kenh", "value": "nop_tai_xa"},
        *_household("X1-T01-0002"),
        *_applicant("Y Gư", "2", "1990-07-21", "Xơ Đăng"),
        {"op": "select", "ref": "/data/quan_he_grp/applicant_rel", "value": "vo_chong"},
        {"op": "select", "ref": "/data/noi_dung/loai_de_nghi", "value": "thoat_ngheo"},
        *(confirmation if confirm else []),
        {
            "op": "set",
            "ref": "/data/noi_dung/ly_do",
            "value": "Hộ được giao 2 ha rừng, có thu nhập ổn định",
        },
        *_signed(tmp, 22),
    ]


def phieu_a(tmp: Path, code: str | None, ticked: list[str], **new):
    tick = [{"op": "select", "ref": "/data/nhan_dang/criteria", "values": ticked}]
    return [
        *_household(code, **new),
        *(tick if ticked else []),
        {"op": "select", "ref": "/data/nhan_dang/checked_all", "value": "yes"},
        {"op": "set", "ref": "/data/rsv/reviewer_name", "value": "Rơ Mah Hiền"},
        {"op": "set", "ref": "/data/rsv/review_date", "value": "2026-11-21"},
    ]


def _stop_codes() -> list[str]:
    return [c["name"] for c in _criteria() if c["stop"].strip() == "1"]


def _go_codes() -> list[str]:
    return [c["name"] for c in _criteria() if c["stop"].strip() != "1"]


def phieu_a_cases():
    """name -> (steps factory, expected values computed on the phone)."""
    stop, go = _stop_codes(), _go_codes()
    return {
        # Only "continue" characteristics ticked: the household goes on to Phiếu B.
        "only_go": (
            lambda tmp: phieu_a(tmp, "X1-T01-0001", go),
            {
                "village": "T01",
                "head_name": "Nguyễn Văn Bình",
                "last_status": "ngheo",
                "n_ticked": str(len(go)),
                "stop_count": "0",
                "stop_codes": "",
                "result": "tiep_tuc_phieu_b",
            },
        ),
        # One stop characteristic among others: the household stops at Phiếu A.
        "one_stop": (
            lambda tmp: phieu_a(tmp, "X1-T03-0001", [stop[-1], go[0]]),
            {
                "village": "T03",
                "head_name": "Siu H'Nga",
                "last_status": "ngheo",
                "n_ticked": "2",
                "stop_count": "1",
                "stop_codes": stop[-1],
                "result": "dung",
            },
        ),
        # Every stop characteristic: all counted and listed.
        "all_stop": (
            lambda tmp: phieu_a(tmp, "X1-T02-0002", stop),
            {
                "village": "T02",
                "head_name": "Rơ Châm Thuyên",
                "last_status": "can_ngheo",
                "n_ticked": str(len(stop)),
                "stop_count": str(len(stop)),
                "stop_codes": " ".join(stop),
                "result": "dung",
            },
        ),
        # Nothing ticked, household not on the list: continues to Phiếu B.
        "none_new_household": (
            lambda tmp: phieu_a(tmp, None, [], village="T02", head="A Khiêm"),
            {
                "village": "T02",
                "head_name": "A Khiêm",
                "last_status": "moi",
                "hh_code": "",
                "n_ticked": "0",
                "stop_count": "0",
                "stop_codes": "",
                "result": "tiep_tuc_phieu_b",
            },
        ),
    }


CASES = {
    (MAU_01, "xo_dang"): (
        mau01_xo_dang,
        {"village": "T02", "head_name": "A Blưn", "n_members": "4", "n_heads": "1"},
    ),
    (MAU_01, "kinh_muc_song_tb"): (
        mau01_kinh_muc_song_tb,
        {"village": "T01", "head_name": "Nguyễn Thị Lan", "n_members": "2", "n_heads": "1"},
    ),
    (MAU_04, "thoat_ngheo"): (
        mau04_thoat_ngheo,
        {
            "village": "T02",
            "hh_code": "X1-T02-0001",
            "head_name": "Đinh Thị Hờ",
            "last_status": "ngheo",
            "expected_loai": "thoat_ngheo",
            "status_mismatch": "0",
        },
    ),
    (MAU_04, "mismatch_confirmed"): (
        mau04_mismatch,
        {
            "village": "T01",
            "hh_code": "X1-T01-0002",
            "head_name": "A Thút",
            "last_status": "can_ngheo",
            "expected_loai": "thoat_can_ngheo",
            "status_mismatch": "1",
        },
    ),
} | {(PHIEU_A, name): case for name, case in phieu_a_cases().items()}

IDS = [f"{form}-{case}" for form, case in CASES]


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> dict[tuple[str, str], webforms.FilledInstance]:
    """Every case filled once by the Web Forms engine (the database plays no part in it)."""
    webforms.ensure_installed()
    out = {}
    for (form, case), (steps, _expected) in CASES.items():
        tmp = tmp_path_factory.mktemp(f"{form}-{case}")
        out[form, case] = webforms.fill_form(
            _form(form), steps(tmp), tmp / "out", attachments_dir=_media(form)
        )
    return out


# --- JavaRosa recomputing the calculations ---------------------------------------------------


def _recomputed(
    form: str, xml: bytes, names: list[str], media: Path | None = None
) -> dict[str, str | None]:
    """``{name: value}`` of the top-level calculates ``names`` as JavaRosa computes them itself
    (every calculated node is emptied first); None for a node it does not submit."""
    values = javarosa.recompute(_form(form), xml, media or _media(form))
    return {name: values.get(f"/data/{name}") for name in names}


# --- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", list(CASES), ids=IDS)
def test_phone_computes_the_expected_values_in_both_engines(key, filled):
    form, _case = key
    xml = filled[key].xml
    expected = CASES[key][1]
    # Web Forms engine: the instance it serialises.
    assert {name: _value(xml, name) for name in expected} == expected
    # JavaRosa (Collect) accepts the instance with its media ...
    assert javarosa.check_instance(_form(form), xml, _media(form)) == filled[key].instance_id
    # ... and computes the same values itself.
    assert _recomputed(form, xml, list(expected)) == expected


def test_mau_01_keeps_only_relevant_answers(filled):
    xo_dang = filled[MAU_01, "xo_dang"].xml
    assert _value(xo_dang, "noi_dung/nganh") is None  # only for average-living-standard requests
    assert _value(xo_dang, "cu_tru/new_head_name") == "A Blưn"
    assert _value(xo_dang, "nguoi_de_nghi/id_number") == "062188001234"  # leading zero kept
    assert _value(xo_dang, "members[3]/m_birth_year") == "2012"
    kinh = filled[MAU_01, "kinh_muc_song_tb"].xml
    assert _value(kinh, "noi_dung/nganh") == "nong_nghiep lam_nghiep"
    assert _value(kinh, "cu_tru/new_head_name") is None  # the applicant is the head
    assert _value(kinh, "nguoi_de_nghi/id_date") is None  # no ID number given
    assert _value(kinh, "meta/instanceName") == "Mẫu 01 – Nguyễn Thị Lan (T01)"


def test_mau_04_consistent_request_needs_no_confirmation(filled):
    assert _value(filled[MAU_04, "thoat_ngheo"].xml, "noi_dung/confirm_status") is None
    assert _value(filled[MAU_04, "mismatch_confirmed"].xml, "noi_dung/confirm_status") == "yes"


def test_phieu_a_sample_criteria_are_illustrative_only():
    rows = _criteria()
    assert list(rows[0]) == ["name", "label", "stop", "group", "provisional"]
    assert 3 <= len(rows) <= 5
    assert {r["stop"] for r in rows} == {"0", "1"}
    for r in rows:
        assert "minh họa" in r["label"] and "thay bằng tiêu chí chính thức" in r["label"]
        assert r["provisional"] == "1"
        assert " " not in r["name"]  # select_multiple values are space-separated


def test_phieu_a_criteria_replaced_by_the_administrator_change_the_result(tmp_path):
    """The stop rule reads the CSV: an administrator's new file changes the result, not the form."""
    media = tmp_path / "media"
    shutil.copytree(_media(PHIEU_A), media)
    rows = [
        ("chinh_thuc_a", "Tiêu chí thay thế A (thử nghiệm)", "0", "", "0"),
        ("chinh_thuc_b", "Tiêu chí thay thế B (thử nghiệm)", "1", "nhom_2", "0"),
        ("chinh_thuc_c", "Tiêu chí thay thế C (thử nghiệm)", " 1 ", "nhom_2", "1"),
    ]
    with (media / "phieu_a_tieu_chi.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([("name", "label", "stop", "group", "provisional"), *rows])

    def fill(ticked, out):
        steps = phieu_a(tmp_path, "X1-T02-0001", ticked)
        return webforms.fill_form(_form(PHIEU_A), steps, tmp_path / out, attachments_dir=media)

    names = ["n_criteria", "n_provisional", "n_ticked", "stop_count", "stop_codes", "result"]
    go = fill(["chinh_thuc_a"], "go")
    stop = fill(["chinh_thuc_a", "chinh_thuc_b", "chinh_thuc_c"], "stop")
    expected_go = ["3", "1", "1", "0", "", "tiep_tuc_phieu_b"]
    expected_stop = ["3", "1", "3", "2", "chinh_thuc_b chinh_thuc_c", "dung"]
    for filled_instance, expected in [(go, expected_go), (stop, expected_stop)]:
        assert [_value(filled_instance.xml, n) for n in names] == expected
        assert javarosa.check_instance(_form(PHIEU_A), filled_instance.xml, media)
        assert _recomputed(PHIEU_A, filled_instance.xml, names, media) == dict(
            zip(names, expected, strict=True)
        )
    # A code that is not in the new file is refused by both engines.
    with pytest.raises(RuntimeError):
        fill(["minh_hoa_1"], "old")
    with pytest.raises(javarosa.InstanceInvalid):
        javarosa.check_instance(
            _form(PHIEU_A), go.xml.replace(b"chinh_thuc_a", b"minh_hoa_1"), media
        )


def _fill_fails(form: str, steps, tmp_path) -> str:
    with pytest.raises(RuntimeError) as err:
        webforms.fill_form(_form(form), steps, tmp_path / "out", attachments_dir=_media(form))
    return str(err.value)


def _replace(steps, ref, value):
    out = [dict(s) for s in steps]
    step = next(s for s in out if s["ref"] == ref)
    step["value"] = value
    return out


@pytest.mark.parametrize(
    ("ref", "value"),
    [
        ("/data/nguoi_de_nghi/applicant_dob", "2030-01-01"),  # born in the future
        ("/data/nguoi_de_nghi/applicant_dob", "1890-01-01"),  # older than 120
        ("/data/nguoi_de_nghi/id_number", "06218800123"),  # 11 digits
        ("/data/nguoi_de_nghi/id_date", "1980-01-01"),  # issued before the birth
        ("/data/members[3]/m_birth_year", "2031"),
        ("/data/members[2]/m_rel", "chu_ho"),  # a second household head
        ("/data/ky/req_date", "2099-12-31"),
    ],
)
def test_mau_01_constraints_are_enforced(ref, value, tmp_path):
    message = _fill_fails(MAU_01, _replace(mau01_xo_dang(tmp_path), ref, value), tmp_path)
    assert f"{ref}: constraint" in message, message


def test_mau_01_signature_is_required(tmp_path):
    steps = [s for s in mau01_xo_dang(tmp_path) if s["op"] != "attach"]
    message = _fill_fails(MAU_01, steps, tmp_path)
    assert "/data/ky/signature" in message and "required" in message.lower(), message


def test_mau_04_mismatch_must_be_confirmed(tmp_path):
    message = _fill_fails(MAU_04, mau04_mismatch(tmp_path, confirm=False), tmp_path)
    assert "/data/noi_dung/confirm_status" in message and "required" in message.lower(), message


def test_javarosa_rejects_a_future_date_too(filled):
    root = etree.fromstring(filled[PHIEU_A, "only_go"].xml)
    root.find("rsv/review_date").text = "2099-01-01"
    with pytest.raises(javarosa.InstanceInvalid) as err:
        javarosa.check_instance(_form(PHIEU_A), etree.tostring(root), _media(PHIEU_A))
    assert err.value.ref == "/data/rsv/review_date"


# Per form: the case posted, and stored answers checked besides the computed values.
POSTED = {
    MAU_01: (
        "xo_dang",
        {
            "members[2]/m_name": "Y Hơn",
            "members[1]/m_birth_year": "1985",
            "nguoi_de_nghi/applicant_ethnicity": "Xơ Đăng",
            "noi_dung/loai_de_nghi": "ngheo_can_ngheo",
        },
    ),
    MAU_04: (
        "mismatch_confirmed",
        {
            "noi_dung/loai_de_nghi": "thoat_ngheo",
            "noi_dung/confirm_status": "yes",
            "ident/hh": "X1-T01-0002",
        },
    ),
    PHIEU_A: ("one_stop", {"ident/hh": "X1-T03-0001", "rsv/reviewer_name": "Rơ Mah Hiền"}),
}


@pytest.mark.parametrize("form", list(POSTED))
def test_collect_submissions_are_stored_with_their_village(
    form, filled, app, seeded, publish_shipped
):
    """Every filled case of the form is sent as Collect sends it and stored as filled."""
    assert publish_shipped(form) == form
    collect = CollectClient(FlaskTransport(app), f"http://rasoat.test/key/{seeded.reviewer_token}")
    for case in [c for f, c in CASES if f == form]:
        instance = filled[form, case]
        files = {n: p.read_bytes() for n, p in instance.files.items()}
        replies = collect.submit(instance.xml, files)
        assert [r.status for r in replies] == [201], replies[0].body

        expected = CASES[form, case][1]
        if POSTED[form][0] == case:
            expected = expected | POSTED[form][1]
        with app.app_context():
            version = db.session.scalar(
                select(SubmissionVersion).where(
                    SubmissionVersion.instance_id == instance.instance_id
                )
            )
            assert {n: version.fields[n] for n in expected} == expected, case
            assert version.submission.village.code == expected["village"], case
            assert version.missing_attachments == []
            if form == PHIEU_A:
                assert version.attachments == []
            else:
                assert [a.name for a in version.attachments] == [version.fields["ky/signature"]]
