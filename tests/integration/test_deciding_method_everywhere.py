"""The method that decided each household's result, and a disagreement between the B1 score and
measured income, are shown wherever results are read: the village-meeting lists (page, PDF,
XLSX), the minutes, the commune-wide exports, the posting and decision pages for officers, the
submissions list and the reports — and never on the public posting.

Commune X1 uses the demo B1 table for its rural villages; its village T02 is made urban, where
it has no table.  Every questionnaire is filled by the ODK Web Forms engine and sent as Collect
sends it.  What each household's method must be follows from the law's figures
(``regulations.md`` §2.1, §3, §5.1 — lines 1,500,000 đ rural / 2,000,000 đ urban per person and
month; 2022–2025: the B1 method of TT 07/2021 decides when both are present):

==============  ======================================================  ==========  =========
household       what the commune has                                    method      disagree
==============  ======================================================  ==========  =========
X1-T01-0101     Phiếu B (A ≤ 140 with the demo table), no income         B1          no
X1-T01-0102     the same, income 2,000,000 > 1,500,000 (above the line)  B1          yes
X1-T01-0103     the same, income 1,250,000 ≤ 1,500,000 (under it too)    B1          no
X1-T01-0104     Phiếu B (case c1), no income                             B1          no
X1-T02-0201     urban, no B1 table; income 1,250,000 ≤ 2,000,000, B = 30 income      no
X1-T02-0202     urban, no B1 table, no income                            none        no
==============  ======================================================  ==========  =========
"""

from __future__ import annotations

import dataclasses
import html
import io
import re

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from server.db import write_transaction
from server.exports import runner
from server.extensions import db
from server.geography.models import AreaType, Commune
from server.households.models import Household, ListSource
from server.scoring.models import HouseholdScore
from tests.engines import webforms
from tests.forms import test_income_and_characteristics as income_forms
from tests.forms import test_phieu_b as phieu_b
from tests.instances import jpeg_bytes
from tests.integration.procedure import (
    case_rows,
    exported_pdf,
    login,
    meeting_form,
    post_form,
    send,
)

FLAG = "B1 và thu nhập không thống nhất — cần xem xét"
WORDS = {"b1": "Điểm B1", "income": "Thu nhập đo được", None: "—"}
# household → (method, disagreement), as the module docstring works out.
EXPECTED = {
    "X1-T01-0101": ("b1", False),
    "X1-T01-0102": ("b1", True),
    "X1-T01-0103": ("b1", False),
    "X1-T01-0104": ("b1", False),
    "X1-T02-0201": ("income", False),
    "X1-T02-0202": (None, False),
}
T02 = {"X1-T02-0201": "Ksor Thuân", "X1-T02-0202": "Hoàng Thị Mai"}


def _forestry(code: str, revenue: int, cost: int) -> income_forms.IncomeCase:
    """A forestry household of four people: (revenue − cost) / 4 / 12 đ per person and month."""
    return income_forms.IncomeCase(
        id=f"lam_nghiep_{revenue - cost}",
        identify=income_forms.household(code),
        occupation="lam_nghiep",
        members=4,
        production={"forestry": (revenue, cost)},
    )


ABOVE_RURAL_LINE = _forestry("X1-T01-0001", 100_000_000, 4_000_000)  # 2,000,000 đ
UNDER_BOTH_LINES = _forestry("X1-T01-0001", 62_400_000, 2_400_000)  # 1,250,000 đ


@pytest.fixture(scope="module")
def method_instances(tmp_path_factory):
    webforms.ensure_installed()
    tmp = tmp_path_factory.mktemp
    signature = tmp("signature") / "chu ky.jpg"
    signature.write_bytes(jpeg_bytes(5, 3000))
    base = phieu_b.CASES["a_three_deprivations"]
    in_t02 = dataclasses.replace(
        base, household=dataclasses.replace(base.household, hh="X1-T02-0001", village="T02")
    )
    return {
        "phieu_b_t02": phieu_b.fill(in_t02, tmp("phieu_b_t02")),
        "above": income_forms.fill(
            income_forms.INCOME, ABOVE_RURAL_LINE.steps(signature), tmp("above")
        ),
        "under": income_forms.fill(
            income_forms.INCOME, UNDER_BOTH_LINES.steps(signature), tmp("under")
        ),
    }


@pytest.fixture
def world(app, seeded, village, publish_shipped, method_instances):
    """The ``village`` round (T01: 0101–0104 scored by B1), measured income for 0102 and 0103,
    two households of the urban village T02, and the lists compiled again."""
    publish_shipped("thu_nhap_mstb")
    with app.app_context(), write_transaction(db.session):
        x1 = db.session.scalar(select(Commune).where(Commune.code == "X1"))
        t02 = next(v for v in x1.villages if v.code == "T02")
        t02.area_type = AreaType.URBAN
        for code, head in T02.items():
            db.session.add(
                Household(
                    commune=x1,
                    village=t02,
                    code=code,
                    head_name=head,
                    list_source=ListSource.ON_LIST,
                )
            )
    send(app, seeded, method_instances["above"], "X1-T01-0102")
    send(app, seeded, method_instances["under"], "X1-T01-0103")
    for code in T02:
        send(app, seeded, method_instances["phieu_b_t02"], code)
    send(app, seeded, method_instances["under"], "X1-T02-0201")
    officer = village["officer"]
    assert post_form(officer, f"/xa/ra-soat/{village['round']}/lap-danh-sach", {}).status_code
    return village | {"base": f"/xa/ra-soat/{village['round']}"}


def _current_scores(app) -> dict[str, HouseholdScore]:
    with app.app_context():
        scores = db.session.scalars(
            select(HouseholdScore).where(
                HouseholdScore.current.is_(True), HouseholdScore.mapping == "phieu_b_2022"
            )
        ).all()
        db.session.expunge_all()
    return {s.household_code: s for s in scores}


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


LIST_HEADER = _squash(
    "STT Mã hộ Họ tên chủ hộ Số NK Thành viên (tuổi) Phân loại trước Điểm B1 Điểm B2 "
    "Chỉ số thiếu hụt Kết quả rà soát Phương pháp Ghi chú"
)


def _pdf_rows(text: str, codes) -> dict[str, str]:
    """code → the squashed text of its row in a printed list (from its last mention — the
    flagged households are named once before the lists — to the next household, table header
    or list heading)."""
    squashed = _squash(text)
    assert LIST_HEADER in squashed  # the lists are printed with the "Phương pháp" column
    rows = {}
    for code in codes:
        start = squashed.rindex(code)
        ends = [squashed.find(marker, start + len(code)) for marker in ("X1-T0", LIST_HEADER)]
        heading = re.search(r"\d\.(Danhsách|Hộ)", squashed[start:])
        ends.append(start + heading.start() if heading else -1)
        rows[code] = squashed[start : min([e for e in ends if e > 0], default=len(squashed))]
    return rows


def _assert_pdf_rows(text: str, codes) -> None:
    for code, row in _pdf_rows(text, codes).items():
        method, disagree = EXPECTED[code]
        for other, words in WORDS.items():
            if other is not None:
                assert (_squash(words) in row) == (other == method), (code, row)
        assert (_squash(FLAG) in row) == disagree, (code, row)


def test_stored_scores_carry_the_method_and_the_disagreement(app, world):
    scores = _current_scores(app)
    assert {code: (s.method, s.methods_disagree) for code, s in scores.items()} == EXPECTED
    for score in scores.values():  # the columns say what the stored result says
        assert (score.method, score.methods_disagree) == (
            score.result["method"],
            score.result["methods_disagree"],
        )
    assert scores["X1-T01-0102"].category == "ngheo"  # B1 decides: A ≤ 140 and B = 30
    assert scores["X1-T01-0102"].result["income_category"] == "muc_song_trung_binh"
    assert scores["X1-T02-0201"].category == "ngheo"  # 1,250,000 ≤ 2,000,000 and B = 30
    assert scores["X1-T02-0202"].category == "chua_danh_gia"


def _page_rows(page: str) -> dict[str, list[str]]:
    """code → the cells of its row in the village page's lists."""
    rows = {}
    for row in re.findall(r"<tr><td>\d+</td>.*?</tr>", page, re.DOTALL):
        cells = re.findall(r"<td>(.*?)</td>", row, re.DOTALL)
        code = re.sub(r"<[^>]+>", "", cells[1]).strip()
        rows[code] = cells
    return rows


def test_village_pages_name_the_method_and_flag_the_disagreement(app, world):
    officer = world["officer"]
    rows = {}
    for village in ("T01", "T02"):
        page = officer.get(f"{world['base']}/thon/{village}").get_data(as_text=True)
        assert "<th>Phương pháp</th>" in page
        rows |= _page_rows(page)
        if village == "T01":  # the flagged household is named before the lists …
            note = re.search(
                r'<p class="flash warn"[^>]*data-flag="methods-disagree">(.*?)</p>', page, re.DOTALL
            )
            assert note and FLAG in note.group(1) and "X1-T01-0102" in note.group(1)
            # … and flagged in the meeting's vote form too.
            vote = page[page.index('id="meeting-h"') :]
            assert vote.count('data-flag="methods-disagree"') == 1
        else:
            assert 'class="flash warn" role="note" data-flag' not in page
    assert set(rows) == set(EXPECTED)
    for code, (method, disagree) in EXPECTED.items():
        cell = rows[code][-2]  # "Phương pháp", before the stage
        assert html.unescape(re.sub(r"<[^>]+>", "", cell)).split(FLAG)[0].strip() == WORDS[method]
        assert ('data-flag="methods-disagree"' in cell) == disagree, code
    english = officer.get(f"{world['base']}/thon/T01?lang=en").get_data(as_text=True)
    assert "<th>Method</th>" in english and "B1 and income disagree" in english
    # The round page counts the disagreements per village.
    round_page = officer.get(world["base"]).get_data(as_text=True)
    assert round_page.count('data-flag="methods-disagree">1<') == 1


def _xlsx_methods(data: bytes, first=("STT", "Mã hộ")) -> dict[str, tuple[str, bool]]:
    """code → (its "Phương pháp" cell, whether its note starts with the flag), every sheet."""
    seen = {}
    for sheet in load_workbook(io.BytesIO(data)).worksheets:
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        header = next(r for r in rows if r and r[0] == "STT")
        assert header[: len(first)] == list(first)
        code, method, note = (header.index(n) for n in ("Mã hộ", "Phương pháp", "Ghi chú"))
        for row in rows[rows.index(header) + 1 :]:
            seen[row[code]] = (row[method], (row[note] or "").startswith(FLAG))
    return seen


def test_village_pdf_and_xlsx_carry_the_method_and_the_flag(app, world):
    officer = world["officer"]
    for village, codes in (("T01", [c for c in EXPECTED if "T01" in c]), ("T02", list(T02))):
        pdf = exported_pdf(
            officer, "village_lists_pdf", round_id=world["round"], village_code=village
        )
        text = _pdf_text(pdf)
        _assert_pdf_rows(text, codes)
        named = re.search(r"B1 và thu nhập không thống nhất — cần xem xét tại cuộc họp.*", text)
        assert bool(named) == (village == "T01")
        if named:
            assert "(1 hộ): X1-T01-0102" in named.group(0)

        xlsx = officer.get(f"{world['base']}/thon/{village}/danh-sach.xlsx").data
        assert _xlsx_methods(xlsx) == {c: (WORDS[EXPECTED[c][0]], EXPECTED[c][1]) for c in codes}


def test_commune_wide_exports_carry_the_method_and_the_flag(app, world, tmp_path):
    app.config["EXPORTS_TMP_DIR"] = str(tmp_path / "export-tmp")
    app.config["EXPORTS_RUNNER"] = "inline"
    officer = world["officer"]
    files = {}
    for fmt in ("xlsx", "pdf"):
        reply = post_form(officer, "/xuat", {"round_id": str(world["round"]), "format": fmt})
        job = re.fullmatch(r".*/xuat/(\d+)", reply.headers["Location"]).group(1)
        files[fmt] = officer.get(f"/xuat/{job}/tep").data
    assert runner.join_threads(60)

    assert _xlsx_methods(files["xlsx"], first=["STT", "Thôn", "Mã hộ"]) == {
        c: (WORDS[m], d) for c, (m, d) in EXPECTED.items()
    }

    pages = [p.extract_text() for p in PdfReader(io.BytesIO(files["pdf"])).pages]
    # The cover counts the disagreements per village and for the commune …
    cover = _squash(pages[0])
    assert _squash("Cộng B1 và thu nhập không thống nhất") in cover
    assert _squash("1 hộ có điểm B1 và thu nhập đo được không thống nhất") in cover
    # … and every row names its method.
    _assert_pdf_rows("\n".join(pages[1:]), list(EXPECTED))


def _vote(app, world, village: str) -> None:
    codes = [
        c
        for c, case in case_rows(app, world["round"]).items()
        if village in c and case.list_type not in ("khong_thuoc_dien", "chua_du_ket_qua")
    ]
    form = meeting_form(30, dict.fromkeys(codes, 30), app)
    assert post_form(world["officer"], f"{world['base']}/thon/{village}/hop-dan", form).status_code


def test_minutes_posting_and_decision_pages_show_the_method_not_the_public_notice(app, world):
    officer, base = world["officer"], world["base"]
    _vote(app, world, "T01")
    _vote(app, world, "T02")
    minutes = officer.get(f"{base}/thon/T01").get_data(as_text=True)
    meeting = re.search(r'name="meeting_id" value="(\d+)"', minutes).group(1)
    pdf = exported_pdf(officer, "minutes_pdf", round_id=world["round"], meeting_id=meeting)
    text = _squash(_pdf_text(pdf))
    assert "Phươngpháp" in text and text.count(_squash(FLAG)) == 2  # one per copy
    assert re.search(r"X1-T01-0102.*?ĐiểmB1" + re.escape(_squash(FLAG)), text)

    # Posted: the public notice names village, code, head and result — nothing else.
    post_form(officer, f"{base}/niem-yet", {"places": "Trụ sở UBND xã", "starts_on": "2026-11-24"})
    notice = _pdf_text(exported_pdf(officer, "posting_pdf", round_id=world["round"], number=1))
    notice = _squash(notice)
    assert "X1-T01-0102" in notice and "X1-T02-0201" in notice
    for hidden in ("Phươngpháp", "ĐiểmB1", "Thunhậpđođược", _squash(FLAG)):
        assert hidden not in notice

    # Officers' posting page: the household to complain about, with its method and flag.
    page = officer.get(f"{base}/niem-yet").get_data(as_text=True)
    option = re.search(r"<option value=\"\d+\">X1-T01-0102 [^<]*</option>", page).group(0)
    assert "(Điểm B1) — " + FLAG in option
    assert "(Thu nhập đo được)</option>" in page  # X1-T02-0201
    flagged = case_rows(app, world["round"])["X1-T01-0102"]
    post_form(
        officer,
        f"{base}/khieu-nai",
        {
            "case_id": flagged.id,
            "received_on": "2026-11-25",
            "complainant": "Trần Văn Bảy",
            "content": "Thu nhập của hộ đã trên chuẩn nghèo",
        },
    )
    page = officer.get(f"{base}/niem-yet").get_data(as_text=True)
    complaint = re.search(r"<tr><td>X1-T01-0102 .*?</tr>", page, re.DOTALL).group(0)
    assert "Điểm B1" in complaint and 'data-flag="methods-disagree"' in complaint

    # The decision page names the flagged household before the chair signs …
    page = officer.get(f"{base}/quyet-dinh").get_data(as_text=True)
    before = re.search(
        r'<div class="flash warn" role="note" data-flag="methods-disagree">.*?</div>',
        page,
        re.DOTALL,
    ).group(0)
    assert FLAG in before and "X1-T01-0102" in before and "X1-T01-0101" not in before
    complaint_id = re.search(
        rf"{base}/khieu-nai/(\d+)/phuc-tra", officer.get(f"{base}/niem-yet").get_data(as_text=True)
    ).group(1)
    post_form(
        officer,
        f"{base}/khieu-nai/{complaint_id}/phuc-tra",
        {
            "rechecked_on": "2026-11-27",
            "rechecked_by": "Ban Chỉ đạo xã",
            "result": "Đã đối chiếu điểm B1 và thu nhập tại hộ",
            "outcome": "giu_nguyen",
        },
    )
    post_form(
        officer,
        f"{base}/quyet-dinh",
        {"number": "7/QĐ-UBND", "signed_on": "2026-12-05", "signer_name": "Hồ Văn Nam"},
    )
    # … and, once signed, beside each certificate.
    page = officer.get(f"{base}/quyet-dinh").get_data(as_text=True)
    assert "7/QĐ-UBND" in page
    certificates = {
        re.search(r"X1-T0\d-\d{4}", row).group(0): row
        for row in re.findall(r"<tr><td>\d+/GCN.*?</tr>", page, re.DOTALL)
    }
    assert certificates and set(certificates) <= set(EXPECTED)
    for code, row in certificates.items():
        method, disagree = EXPECTED[code]
        assert WORDS[method] in row and ('data-flag="methods-disagree"' in row) == disagree


def test_submissions_list_flags_the_disagreement(app, world):
    page = world["officer"].get("/xa/phieu").get_data(as_text=True)
    rows = re.findall(r"<tr>.*?</tr>", page, re.DOTALL)
    flagged = [r for r in rows if 'data-flag="methods-disagree"' in r]
    assert len(flagged) == 1 and "X1-T01-0102" in flagged[0]


def _method_cells(page: str, commune: str) -> dict[str, str]:
    section = page[page.index('id="methods"') : page.index('id="deprivations"')]
    row = re.search(rf'<th scope="row">{commune}</th>(.*?)</tr>', section, re.DOTALL).group(1)
    return {
        key: re.sub(r"<[^>]+>", "", value)
        for key, value in re.findall(r'<td data-method="(\w+)">(.*?)</td>', row)
    }


def test_reports_count_households_per_method_and_the_disagreements(app, world):
    # By the table above: 4 by B1, 1 by income, 1 by neither; 1 disagreement.
    expected = {"with_review_result": "6", "b1": "4", "income": "1", "none": "1", "disagree": "1"}
    officer = world["officer"].get("/bao-cao?year=2026").get_data(as_text=True)
    assert _method_cells(officer, "Xã Một") == expected
    admin = login(app, "admin1")
    province = admin.get("/bao-cao?year=2026").get_data(as_text=True)
    assert _method_cells(province, "Xã Một") == expected
    assert set(_method_cells(province, "Xã Hai").values()) == {"0"}
    assert _method_cells(province, "Tổng cộng") == expected  # the province's roll-up

    book = load_workbook(io.BytesIO(admin.get("/bao-cao.xlsx?year=2026").data), read_only=True)
    rows = [list(r) for r in book["Phương pháp"].iter_rows(values_only=True)]
    header = next(r for r in rows if r and r[0] == "Mã xã")
    assert header == [
        "Mã xã",
        "Xã",
        "Hộ có kết quả rà soát",
        "Quyết định theo điểm B1",
        "Quyết định theo thu nhập đo được",
        "Chưa có phương pháp quyết định",
        "B1 và thu nhập không thống nhất",
    ]
    by_commune = {
        r[0] or r[1]: r[2:] for r in rows[rows.index(header) + 1 :] if len(r) > 1 and r[1]
    }
    assert by_commune["X1"] == [6, 4, 1, 1, 1]
    assert by_commune["X2"] == [0, 0, 0, 0, 0]
    assert by_commune["Tổng cộng"] == [6, 4, 1, 1, 1]
