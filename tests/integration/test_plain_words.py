"""No raw option code on what people read (issue 13): every code of every choice list of every
shipped form is looked for, as a whole word, on the outputs of the demo commune after its whole
review — each questionnaire's page (answers and score panel), the certificates (Mẫu số 03), the
decision (Mẫu số 02) and the village meetings' minutes, their PDFs read back as text."""

from __future__ import annotations

import io
import re
from functools import cache
from pathlib import Path

import pytest
from lxml import html as lxml_html
from pypdf import PdfReader
from sqlalchemy import select

from server.accounts.models import Role
from server.accounts.services import create_user
from server.db import write_transaction
from server.demo import COMMUNE, seed_demo
from server.demo_submissions import seed_demo_review
from server.extensions import db
from server.geography.models import Commune
from server.meetings.models import HouseholdCase, ReviewRound, VillageMeeting
from server.meetings.services import VOTED_LISTS
from server.questionnaires.labels import form_labels
from server.scoring.models import HouseholdScore
from server.submissions.models import Submission
from tests.integration.procedure import exported_pdf, login, post_form
from tests.integration.test_demo_seed import _publish

FORMS = Path(__file__).resolve().parents[2] / "forms"


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


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_raw_code_on_pages_certificates_decision_or_minutes(app, reviewed_demo):
    officer = reviewed_demo["officer"]
    codes = raw_codes()
    found: dict[str, list[str]] = {}

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
        if wrong := leaks(text, codes):
            found[f"/xa/phieu/{submission_id}"] = wrong

    # The certificates: one page each, the members' ethnicity and relationship in words.
    round_id = reviewed_demo["round"]
    certificates = pdf_text(exported_pdf(officer, "certificates_pdf", round_id=round_id))
    assert len(certificates) >= 60  # the demo's poor and near-poor households
    for number, text in enumerate(certificates, start=1):
        assert "GIẤY CHỨNG NHẬN" in text
        if wrong := leaks(text, raw_codes(strict=True)):
            found[f"giấy chứng nhận {number}"] = wrong

    # The decision and each village meeting's minutes list households.
    decision = "\n".join(pdf_text(exported_pdf(officer, "decision_pdf", round_id=round_id)))
    assert "DANH SÁCH HỘ NGHÈO" in decision
    if wrong := leaks(decision, codes):
        found["quyết định"] = wrong
    with app.app_context():
        meetings = db.session.scalars(
            select(VillageMeeting.id).where(VillageMeeting.round_id == reviewed_demo["round"])
        ).all()
    assert meetings
    for meeting_id in meetings:
        pdf = exported_pdf(officer, "minutes_pdf", round_id=round_id, meeting_id=meeting_id)
        minutes = "\n".join(pdf_text(pdf))
        assert "BIÊN BẢN HỌP DÂN" in minutes
        if wrong := leaks(minutes, codes):
            found[f"biên bản họp {meeting_id}"] = wrong

    assert found == {}
    # … and what the certificates print instead are the form's words.
    assert all("Chủ hộ" in text for text in certificates)
    everything = re.sub(r"\s+", " ", "\n".join(certificates))
    for words in ("Con (đẻ, nuôi, dâu, rể)", "Vợ / chồng", "Ba Na", "Xơ Đăng", "Kinh"):
        assert words in everything, words
