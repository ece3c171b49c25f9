"""No raw option code on what people read (issue 13): every code of every choice list of every
shipped form is looked for, as a whole word, on every output of the demo commune after its whole
review — each questionnaire's page (answers and score panel), the review list, the households
page and each household's page, the map (page and data), the report (page and XLSX), the
village-meeting lists of each village (PDF and XLSX) and of the whole commune (PDF and XLSX), the
minutes, the posting notice, the decision (Mẫu số 02), the certificates (Mẫu số 03), and the
words of the score API (``POST /api/v1/score`` with a form, a submission's score JSON).  PDFs
are read back as text (pypdf), spreadsheets cell by cell, every sheet (openpyxl).

Not searched, on purpose: the XLSForm and XForm downloads (the form's source: its codes are
what it defines), the submissions API (``/api/v1/submissions``: the answers as sent, codes by
design, for other systems), the B1 table template (an upload format whose codes are its keys),
and the refusal letter (only in an in-year round; the demo's review is the annual one)."""

from __future__ import annotations

import base64
import io
import re
from functools import cache
from pathlib import Path

import pytest
from lxml import html as lxml_html
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from server.accounts.models import Role
from server.accounts.services import create_user
from server.db import write_transaction
from server.demo import COMMUNE, seed_demo
from server.demo_submissions import seed_demo_review
from server.exports import runner as export_runner
from server.extensions import db
from server.geography.models import Commune, Village
from server.households.models import Household
from server.meetings.models import HouseholdCase, ReviewRound, VillageMeeting
from server.meetings.services import VOTED_LISTS
from server.publication.models import Posting
from server.questionnaires.labels import form_labels
from server.scoring.models import HouseholdScore
from server.submissions.models import Submission
from tests.integration.procedure import exported_pdf, login, post_form
from tests.integration.test_demo_seed import _publish
from tests.integration.test_scoring_api import healthy

FORMS = Path(__file__).resolve().parents[2] / "forms"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _choice_lists() -> dict[str, set[str]]:
    """Every code of every static choice list of the shipped forms, with its labels."""
    codes: dict[str, set[str]] = {}
    for path in sorted(FORMS.glob("*.xml")):
        for field in form_labels(path.read_bytes(), "vi").fields.values():
            for code, label in (field.choices or {}).items():
                codes.setdefault(code, set()).add(label)
    return codes


def _form_words() -> set[str]:
    """Every word of the shipped forms' Vietnamese texts (labels of questions, groups and
    choices): a code that is one of them ("tre", "con") is an ordinary word, not a leak."""
    words: set[str] = set()
    for path in sorted(FORMS.glob("*.xml")):
        labels = form_labels(path.read_bytes(), "vi")
        texts = [f.label for f in labels.fields.values()]
        texts += [g.label for g in labels.groups.values()]
        texts += [c for f in labels.fields.values() for c in (f.choices or {}).values()]
        for text in texts:
            words.update(re.findall(r"\w+", text))
    return words


@cache
def raw_codes(*, strict: bool = False) -> frozenset[str]:
    """The codes that must never be printed: not numbers, not their own label; unless
    ``strict``, not a label in another case ("kinh" / "Kinh") nor an ordinary word the forms
    themselves use ("tre", "con") either — strict is for documents whose every word is known,
    where even those would be a code."""
    if strict:
        return frozenset(
            code
            for code, labels in _choice_lists().items()
            if not code.isdigit() and code not in labels
        )
    ordinary = _form_words()
    return frozenset(
        code
        for code, labels in _choice_lists().items()
        if not code.isdigit()
        and all(code.casefold() != label.casefold() for label in labels)
        and code not in ordinary
    )


def leaks(text: str, codes: frozenset[str]) -> list[str]:
    """The codes found in ``text`` as whole words (case-sensitive: a label that begins a
    sentence with a capital is not its code)."""
    words = set(re.findall(r"\w+", text))
    return sorted(code for code in codes if code in words or ("_" in code and code in text))


def page_text(page: str) -> str:
    """What a reader sees of a page: its text, tooltips and alternative texts."""
    tree = lxml_html.fromstring(page)
    for hidden in tree.xpath("//script | //style | //template"):
        hidden.drop_tree()
    seen = [tree.text_content()]
    seen += tree.xpath("//@title | //@alt | //@aria-label | //@placeholder")
    return "\n".join(seen)


def pdf_text(pdf: bytes) -> list[str]:
    """The text of each page of a PDF."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def xlsx_text(data: bytes, skip: tuple[str, ...] = ()) -> str:
    """Every cell of every sheet of a workbook, one line per row; below a header cell named in
    ``skip``, that column is left out."""
    book = load_workbook(io.BytesIO(data), read_only=True)
    rows = []
    for sheet in book.worksheets:
        skipped: set[int] = set()
        for row in sheet.iter_rows(values_only=True):
            cells = ["" if value is None else str(value) for value in row]
            rows.append("\t".join(c for i, c in enumerate(cells) if i not in skipped))
            skipped |= {i for i, c in enumerate(cells) if c in skip}
    book.close()
    return "\n".join(rows)


# Not a choice code there: the report's indicator code column ("bhyt", "viec_lam" are the
# standard's indicator keys, printed beside the indicator's name for pivot tables).
REPORT_CODE_COLUMNS = ("Mã chỉ số",)


def exported_file(browser, kind: str, mimetype: str, **params) -> bytes:
    """A file made in the background (as :func:`exported_pdf`, any type)."""
    reply = post_form(browser, "/xuat", {"kind": kind} | {k: str(v) for k, v in params.items()})
    assert reply.status_code == 302, reply.status_code
    job = reply.headers["Location"]
    assert export_runner.join_threads(120)
    download = browser.get(f"{job}/tep")
    assert download.status_code == 200 and download.mimetype == mimetype, download.status_code
    data = download.data
    download.close()
    return data


# The texts of the score API's answer that people read (the rest are codes for programs, each
# beside its words: the category, the indicators' and figures' keys, the outcome, the method, a
# B1 line's coded ``answer`` beside its ``answer_vi``).
SCORE_TEXTS = {
    "category_vi",
    "name_vi",
    "reasons",
    "provisional_vi",
    "vi",
    "answer_vi",
    "explanation_vi",
    "method_vi",
    "b1_table_disclaimer",
}


def score_texts(body) -> list[str]:
    """The human texts of a score JSON (anywhere in it: lists, nested objects)."""
    found: list[str] = []
    if isinstance(body, dict):
        for key, value in body.items():
            if key in SCORE_TEXTS:
                found += [value] if isinstance(value, str) else []
                found += [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
            found += score_texts(value) if isinstance(value, dict | list) else []
    elif isinstance(body, list):
        for value in body:
            found += score_texts(value)
    return found


def all_pages(browser, url: str) -> list[str]:
    """Every page of a paged list (following its "Sau »" link)."""
    pages = []
    for number in range(1, 200):
        reply = browser.get(f"{url}{'&' if '?' in url else '?'}page={number}")
        assert reply.status_code == 200, (url, number)
        pages.append(reply.get_data(as_text=True))
        if f"page={number + 1}" not in pages[-1]:
            break
    return pages


def test_the_codes_looked_for_include_those_the_issue_found():
    loose, strict = raw_codes(), raw_codes(strict=True)
    found_by_issue = {"ba_na", "chu_ho", "gieng_khoan", "dien_thoai_thong_minh", "nuoc_may"}
    assert found_by_issue <= loose
    assert "ban_tu_hoai" in loose and "con" in strict
    # Ordinary words the forms use, numbers and codes spelled as their label are not codes.
    assert not {"tre", "con", "1", "2", "kinh"} & loose
    assert leaks("Quan hệ: chu_ho; nguồn nước: nuoc_may.", loose) == ["chu_ho", "nuoc_may"]
    assert leaks("Con (đẻ, nuôi, dâu, rể); Tre, nứa, luồng", strict) == []


@pytest.fixture
def reviewed_demo(app):
    """The demo commune, scored, through its whole review: lists compiled, every village's
    meeting agreeing to every household, the results posted and the decision signed."""
    _publish(app, "phieu_b_2022", "phieu_a")
    with app.app_context():
        seed_demo()
        seed_demo_review(COMMUNE[0], "rsv.demo")
        with write_transaction(db.session):
            commune = db.session.scalar(select(Commune).where(Commune.code == COMMUNE[0]))
            create_user(
                username="canbo.test",
                display_name="Cán bộ xã (thử)",
                role=Role.OFFICER,
                password="matkhau-123",
                commune=commune,
            )
    officer = login(app, "canbo.test")
    reply = post_form(
        officer, "/xa/ra-soat", {"commune": COMMUNE[0], "year": "2026", "kind": "dinh_ky"}
    )
    assert reply.status_code == 302
    base = reply.headers["Location"].removeprefix("http://localhost")
    assert post_form(officer, f"{base}/lap-danh-sach", {}).status_code == 302
    with app.app_context():
        round_id = int(base.rsplit("/", 1)[-1])
        to_vote: dict[str, list[int]] = {}
        for case in db.session.scalars(
            select(HouseholdCase).where(
                HouseholdCase.round_id == round_id,
                HouseholdCase.stage == "listed",
                HouseholdCase.list_type.in_(VOTED_LISTS),
            )
        ):
            to_vote.setdefault(case.village.code, []).append(case.id)
    assert len(to_vote) >= 4  # most villages have households to vote on
    for village, ids in to_vote.items():
        form = {
            "held_on": "2026-11-20",
            "place": "Nhà văn hóa thôn",
            "chair": "Rơ Mah Hiền",
            "secretary": "Lê Thị Hoa",
            "attendees": "40",
            "fatherland_front_present": "yes",
            "fatherland_front_representative": "Đinh Văn Tư",
        } | {f"agree_{i}": "40" for i in ids}
        assert post_form(officer, f"{base}/thon/{village}/hop-dan", form).status_code == 302
    posted = post_form(
        officer, f"{base}/niem-yet", {"places": "Trụ sở UBND xã", "starts_on": "2026-11-24"}
    )
    assert posted.status_code == 302
    # Last year's poor / near-poor households nobody visited: each needs a reason first.
    unvisited = re.findall(
        r'name="household" value="(\d+)"', officer.get(base).get_data(as_text=True)
    )
    assert unvisited
    for household in unvisited:
        reason = {"household": household, "reason": "other", "note": "Hộ đi làm ăn xa"}
        assert post_form(officer, f"{base}/ho-chua-co-ket-qua", reason).status_code == 302
    signed = post_form(
        officer,
        f"{base}/quyet-dinh",
        {"number": "125/QĐ-UBND", "signed_on": "2026-12-02", "signer_name": "Hồ Văn Nam"},
    )
    assert signed.status_code == 302
    with app.app_context():
        assert db.session.get(ReviewRound, round_id).state == "decided"
    return {"officer": officer, "base": base, "round": round_id}


def _look_at_the_score_api(app, scored: list[int], look) -> None:
    """The score API: the reasons in the words of the form given (a household with nothing
    wanting, one deprived in every way the codes can say), and each scored submission's score
    JSON."""
    deprived = healthy(
        wall="dat",
        frame="tre",
        roof="la_tranh",
        water_source="nuoc_mat",
        latrine="khong_co",
        info_devices=[],
    )
    owning = healthy()  # with the demo B1 table: every B1 answer worded, the assets' too
    owning["b1"] |= {"b1_assets": ["xe_may", "tivi", "tu_lanh"], "b1_top_qual": "trung_cap"}
    # Phiếu B 2027 asks no longer about information devices (no "tivi" among its codes).
    households = {
        "phieu_b_2022": (healthy(), deprived, owning),
        "phieu_b_2027": (healthy(info_devices=[]), deprived),
    }
    for form_id, cases in households.items():
        for household in cases:
            body = {"household": household, "year": 2026, "form_id": form_id}
            body |= {"b1_table": "demo_2022_2025_rural" if household is owning else None}
            reply = app.test_client().post("/api/v1/score", json=body)
            assert reply.status_code == 200, reply.json
            texts = score_texts(reply.json)
            assert texts
            look(f"POST /api/v1/score ({form_id})", "\n".join(texts))
            if household is owning:
                worded = {line["item"]: line["answer_vi"] for line in reply.json["b1_lines"]}
                assert "Xe máy, xe máy điện" in worded["b1_assets"], worded
                assert worded["b1_top_qual"] == "Trung cấp", worded
    basic = base64.b64encode(b"canbo.test:matkhau-123").decode()
    api = app.test_client()
    for submission_id in scored:
        reply = api.get(
            f"/api/v1/submissions/{submission_id}/score",
            headers={"Authorization": f"Basic {basic}"},
            base_url="https://rasoat.test",
        )
        assert reply.status_code == 200, reply.status_code
        look(
            f"/api/v1/submissions/{submission_id}/score",
            "\n".join(score_texts(reply.json["current"])),
        )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_raw_code_on_any_output(app, reviewed_demo):
    officer = reviewed_demo["officer"]
    found: dict[str, list[str]] = {}

    def look(name: str, text: str, strict: bool = False) -> None:
        if wrong := leaks(text, raw_codes(strict=strict)):
            found[name] = wrong

    # Every questionnaire's page: its answers and its score panel (reasons, explanation).
    with app.app_context():
        submissions = db.session.scalars(
            select(Submission.id)
            .join(Commune, Commune.id == Submission.commune_id)
            .where(Commune.code == COMMUNE[0])
            .order_by(Submission.id)
        ).all()
        scored = set(db.session.scalars(select(HouseholdScore.submission_id)))
    assert len(submissions) > 300
    for submission_id in submissions:
        reply = officer.get(f"/xa/phieu/{submission_id}")
        assert reply.status_code == 200
        text = page_text(reply.get_data(as_text=True))
        assert "Câu trả lời" in text
        if submission_id in scored:
            assert "Kết quả chấm điểm" in text
        look(f"/xa/phieu/{submission_id}", text)

    # The certificates: one page each, the members' ethnicity and relationship in words.
    round_id = reviewed_demo["round"]
    certificates = pdf_text(exported_pdf(officer, "certificates_pdf", round_id=round_id))
    assert len(certificates) >= 60  # the demo's poor and near-poor households
    for number, text in enumerate(certificates, start=1):
        assert "GIẤY CHỨNG NHẬN" in text
        look(f"giấy chứng nhận {number}", text, strict=True)

    # The decision and each village meeting's minutes list households.
    decision = "\n".join(pdf_text(exported_pdf(officer, "decision_pdf", round_id=round_id)))
    assert "DANH SÁCH HỘ NGHÈO" in decision
    look("quyết định", decision)
    with app.app_context():
        meetings = db.session.scalars(
            select(VillageMeeting.id).where(VillageMeeting.round_id == reviewed_demo["round"])
        ).all()
    assert meetings
    for meeting_id in meetings:
        pdf = exported_pdf(officer, "minutes_pdf", round_id=round_id, meeting_id=meeting_id)
        minutes = "\n".join(pdf_text(pdf))
        assert "BIÊN BẢN HỌP DÂN" in minutes
        look(f"biên bản họp {meeting_id}", minutes)

    # Each village's meeting lists, as PDF and as XLSX; the whole commune's, both ways.
    with app.app_context():
        village_codes = db.session.scalars(
            select(Village.code)
            .join(HouseholdCase, HouseholdCase.village_id == Village.id)
            .where(HouseholdCase.round_id == round_id)
            .distinct()
            .order_by(Village.code)
        ).all()
    assert len(village_codes) >= 4
    for code in village_codes:
        pdf = "\n".join(
            pdf_text(
                exported_pdf(officer, "village_lists_pdf", round_id=round_id, village_code=code)
            )
        )
        assert "DANH SÁCH" in pdf
        look(f"danh sách họp dân {code} (PDF)", pdf)
        reply = officer.get(f"/xa/ra-soat/{round_id}/thon/{code}/danh-sach.xlsx")
        assert reply.status_code == 200
        look(f"danh sách họp dân {code} (XLSX)", xlsx_text(reply.data))
    whole = exported_file(officer, "commune_lists_xlsx", XLSX, round_id=round_id)
    assert "toàn xã" in xlsx_text(whole)
    look("danh sách toàn xã (XLSX)", xlsx_text(whole))
    whole = "\n".join(pdf_text(exported_pdf(officer, "commune_lists_pdf", round_id=round_id)))
    look("danh sách toàn xã (PDF)", whole)

    # The posting notice (every posting of the round).
    with app.app_context():
        postings = db.session.scalars(
            select(Posting.number).where(Posting.round_id == round_id)
        ).all()
    assert postings
    for number in postings:
        notice = "\n".join(
            pdf_text(exported_pdf(officer, "posting_pdf", round_id=round_id, number=number))
        )
        assert "THÔNG BÁO" in notice
        look(f"thông báo niêm yết {number}", notice)

    # The report, page and XLSX.
    report = officer.get("/bao-cao")
    assert report.status_code == 200
    look("/bao-cao", page_text(report.get_data(as_text=True)))
    report = officer.get("/bao-cao.xlsx")
    assert report.status_code == 200 and report.mimetype == XLSX
    look("/bao-cao.xlsx", xlsx_text(report.data, skip=REPORT_CODE_COLUMNS))

    # The review list and the households page, every page of each; each household's page.
    for url in ("/xa/phieu", "/xa/ho"):
        for number, page in enumerate(all_pages(officer, url), start=1):
            look(f"{url} trang {number}", page_text(page))
    with app.app_context():
        households = db.session.scalars(
            select(Household.code)
            .join(Commune, Commune.id == Household.commune_id)
            .where(Commune.code == COMMUNE[0])
            .order_by(Household.code)
        ).all()
    assert len(households) > 300
    for code in households:
        reply = officer.get(f"/xa/ho/{code}")
        assert reply.status_code == 200, code
        look(f"/xa/ho/{code}", page_text(reply.get_data(as_text=True)))

    # The map: its page (with the list of households) and its data.
    reply = officer.get("/xa/ban-do")
    assert reply.status_code == 200
    look("/xa/ban-do", page_text(reply.get_data(as_text=True)))
    data = officer.get("/xa/ban-do.json").get_json()
    labels = [h.get("verdict_label", "") for h in data["households"] + data["without_point"]]
    labels += [h.get("reason_label", "") for h in data["without_point"]]
    labels += [v["label"] for v in data["verdicts"]]
    look("/xa/ban-do.json", "\n".join(labels))

    _look_at_the_score_api(app, sorted(scored), look)

    assert found == {}, "\n".join(f"{where}: {codes}" for where, codes in found.items())
    # … and what the certificates print instead are the form's words.
    assert all("Chủ hộ" in text for text in certificates)
    everything = re.sub(r"\s+", " ", "\n".join(certificates))
    for words in ("Con (đẻ, nuôi, dâu, rể)", "Vợ / chồng", "Ba Na", "Xơ Đăng", "Kinh"):
        assert words in everything, words
