"""Every printed document is laid out as a Vietnamese administrative document (ND 30/2020,
/work/shared/domain/documents.md): A4, the left margin wider than the right, the two-column
national header with the number and the italic place-and-date line in the official date format,
the title, the signature block on the right with "Nơi nhận:" on the left at the same height,
page numbers from page 2 only — and still marked provisional."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from sqlalchemy import select

from server.decisions.documents import (
    certificates_document,
    decision_document,
)
from server.decisions.models import Refusal
from server.extensions import db
from server.meetings.documents import minutes_document, village_lists_document
from server.meetings.models import ReviewRound, VillageMeeting
from server.publication.documents import posting_document
from server.publication.models import Posting
from tests.integration.procedure import decide, open_monthly_round, post_form

MM = 72 / 25.4  # PDF points per millimetre
A4 = (210 * MM, 297 * MM)
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
PROVISIONAL = "bố cục theo NĐ 30/2020/NĐ-CP, mẫu chính thức chưa đối chiếu"


def _fragments(page) -> list[tuple[float, float, float, str]]:
    """The page's text runs as (x, y, estimated end x, text) in PDF points from the bottom
    left (the end from the font size: half an em a character)."""
    pieces = []

    def visit(text, cm, tm, _font, size):
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            pieces.append((x, y, x + 0.5 * size * abs(cm[0]) * len(text.strip()), text))

    page.extract_text(visitor_text=visit)
    return pieces


def _lines(page) -> list[tuple[float, float, str]]:
    """The page's lines, top to bottom, as (leftmost x, baseline y, text): runs on the same
    baseline (±2 pt) that follow each other closely are one line; the header's two columns,
    side by side, stay two lines."""
    rows: list[list] = []
    for piece in sorted(_fragments(page), key=lambda p: -p[1]):
        if rows and abs(rows[-1][0][1] - piece[1]) <= 2:
            rows[-1].append(piece)
        else:
            rows.append([piece])
    lines = []
    for row in rows:
        current = None
        for x, y, end, text in sorted(row):
            if current and x - current[2] < 20:
                current[2], current[3] = end, current[3] + text
            else:
                current = [x, y, end, text]
                lines.append(current)
    return [(x, y, re.sub(r"\s+", " ", text).strip()) for x, y, _end, text in lines]


def _line(lines, pattern: str) -> tuple[float, float, str]:
    found = [line for line in lines if re.search(pattern, line[2])]
    assert found, (pattern, [line[2] for line in lines])
    return found[0]


def _check_layout(
    pdf: bytes, *, number: str, date: str, place: str, signer: list[str], numbered: bool = True
):
    """The official layout of the document ``pdf``: A4, its first page's header, margins and
    signature, and page numbers from page 2 (``numbered``: a page of its own each, none)."""
    reader = PdfReader(io.BytesIO(pdf))
    pages = reader.pages
    for page in pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert sorted((round(width), round(height))) == sorted(round(v) for v in A4)
    first = pages[0]
    width = float(first.mediabox.width)
    lines = _lines(first)
    text = "\n".join(line[2] for line in lines)
    assert PROVISIONAL in text
    # The header: the issuing body on the left, the nation on the right, side by side.
    body = _line(lines, r"^ỦY BAN NHÂN DÂN")
    nation = _line(lines, re.escape(NATION))
    motto = _line(lines, re.escape(MOTTO))
    assert body[0] < width / 3 < nation[0], (body, nation)
    assert abs(body[1] - nation[1]) < 3  # the same height
    assert motto[1] < nation[1] and motto[0] > width / 3
    no = _line(lines, r"^Số: ")
    assert no[2] == f"Số: {number}", no
    dated = _line(lines, r"ngày .* tháng .* năm")
    assert dated[2] == f"{place}, {date}", dated
    assert no[0] < width / 3 < dated[0] and abs(no[1] - dated[1]) < 3  # one row, two columns
    # The left margin: 30 mm (the body's lines start there, none further left).
    assert abs(min(x for x, _y, _t in lines) - 30 * MM) < 0.5 * MM
    # The signer on the right, the recipients on the left at the same height.
    signed = [_line(lines, "^" + re.escape(s) + "$") for s in signer]
    assert all(x > width / 2 for x, _y, _t in signed), signed
    assert [y for _x, y, _t in signed] == sorted((y for _x, y, _t in signed), reverse=True)
    # Page numbers from page 2, none on page 1 (nor on any page of one-page documents).
    assert not _numbers_on_top(first), text
    for n, page in enumerate(pages[1:], start=2):
        _page_number(page, n if numbered else None)
    return lines, [_lines(p) for p in pages]


def _numbers_on_top(page) -> list[str]:
    """Numbers alone on a line in the top margin (page numbers)."""
    top = float(page.mediabox.height) - 20 * MM
    return [t for _x, y, t in _lines(page) if y > top and re.fullmatch(r"\d+", t)]


def _page_number(page, n: int | None) -> None:
    """Page ``n`` carries its number alone, above everything, in the top margin, centred over
    the text area — whose middle, 112.5 mm from the left edge with margins of 30 mm left and
    15 mm right, is right of the page's middle (105 mm): the left margin is the wider."""
    lines = _lines(page)
    top = max(lines, key=lambda line: line[1])
    if n is None:
        assert not _numbers_on_top(page)
        return
    assert top[2] == str(n), (n, top)
    assert top[1] > float(page.mediabox.height) - 20 * MM  # in the top margin
    middle = (30 * MM + float(page.mediabox.width) - 15 * MM) / 2
    assert abs(top[0] - middle) < 2 * MM, (top[0] / MM, middle / MM)


def _recipients_beside(lines, signer_title: str, last: str) -> None:
    label = _line(lines, r"^Nơi nhận:")
    title = _line(lines, "^" + re.escape(signer_title) + "$")
    assert label[0] < _centre_x(lines) < title[0]
    assert abs(label[1] - title[1]) < 3, (label, title)  # at the same height
    end = _line(lines, "^" + re.escape(last))
    assert end[1] < label[1] and abs(end[0] - label[0]) < 2


def _centre_x(lines) -> float:
    return (30 * MM + 210 * MM - 15 * MM) / 2


def test_every_document_of_a_decided_round(app, village, tmp_path):
    """The round carried to the decision, every one of its documents rendered (and kept in
    ``tmp_path`` to look at) and checked."""
    decide(app, village)
    out = {}
    with app.test_request_context(), app.app_context():
        review = db.session.get(ReviewRound, village["round"])
        meeting = db.session.scalar(select(VillageMeeting))
        posting = db.session.scalar(select(Posting))
        built = {
            "decision": decision_document(review),
            "certificates": certificates_document(review),
            "notice": posting_document(review, 1),
            "minutes": minutes_document(review, meeting),
            "lists": village_lists_document(review, meeting.village),
        }
        for name, document in built.items():
            out[name] = document.pdf()
            (tmp_path / f"{name}.pdf").write_bytes(out[name])
        out["posted_at"] = posting.created_at
    _the_decision_is_laid_out_as_an_administrative_document(out)
    _certificates_each_a_page_with_header_and_signature(out)
    _the_posting_notice_is_dated_in_vietnam_time(out)
    _the_minutes_two_copies_each_numbered_from_its_own_first_page(out)
    _the_village_lists_landscape_with_the_header(out)


def _the_decision_is_laid_out_as_an_administrative_document(documents):
    lines, pages = _check_layout(
        documents["decision"],
        number="125/QĐ-UBND",
        date="ngày 02 tháng 12 năm 2026",
        place="Xã Một",
        signer=["CHỦ TỊCH", "Hồ Văn Nam"],
    )
    text = "\n".join(t for _x, _y, t in lines)
    assert _line(lines, r"^XÃ MỘT$")[0] < _centre_x(lines)  # the issuing body, under its parent
    assert "QUYẾT ĐỊNH" in text and "Về việc công nhận danh sách hộ nghèo" in text
    assert "CHỦ TỊCH ỦY BAN NHÂN DÂN XÃ MỘT" in text and "QUYẾT ĐỊNH:" in text
    assert [t.startswith("Căn cứ") and t.endswith(";") for t in text.split("\n") if "Căn cứ" in t]
    _recipients_beside(lines, "CHỦ TỊCH", "- Lưu: VT.")
    assert "- Như Điều 3;" in text
    annex = "\n".join(t for page in pages[1:] for _x, _y, t in page)
    assert "DANH SÁCH HỘ NGHÈO" in annex
    assert "(Kèm theo Quyết định số 125/QĐ-UBND ngày 02 tháng 12 năm 2026" in annex
    assert "STT Thôn Mã hộ Họ và tên chủ hộ" in annex


def _certificates_each_a_page_with_header_and_signature(documents):
    reader = PdfReader(io.BytesIO(documents["certificates"]))
    assert len(reader.pages) >= 2
    for page in reader.pages:
        lines = _lines(page)
        text = "\n".join(t for _x, _y, t in lines)
        assert NATION in text and MOTTO in text and "GIẤY CHỨNG NHẬN HỘ" in text
        assert re.search(r"^Số: \d+/GCN-HN\.HCN$", text, re.M), text
        assert "Xã Một, ngày 02 tháng 12 năm 2026" in text
        for signer in ("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Hồ Văn Nam"):
            assert _line(lines, "^" + re.escape(signer) + "$")[0] > _centre_x(lines)
        # One certificate a page: no page numbers on any.
        assert not _numbers_on_top(page), text
    _check_layout(
        documents["certificates"],
        number="1/GCN-HN.HCN",
        date="ngày 02 tháng 12 năm 2026",
        place="Xã Một",
        signer=["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Hồ Văn Nam"],
        numbered=False,
    )


def _the_posting_notice_is_dated_in_vietnam_time(documents):
    from server.i18n import official_date

    lines, _pages = _check_layout(
        documents["notice"],
        number="……/TB-UBND",  # no number stored: a blank to fill in, never an invented one
        date=official_date(documents["posted_at"]),
        place="Xã Một",
        signer=["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"],
    )
    text = "\n".join(t for _x, _y, t in lines)
    assert "THÔNG BÁO" in text and "Niêm yết công khai kết quả rà soát" in text
    assert "STT Thôn Mã hộ Họ và tên chủ hộ Kết quả rà soát" in text
    _recipients_beside(lines, "TM. ỦY BAN NHÂN DÂN", "- Lưu: VT.")


def _the_minutes_two_copies_each_numbered_from_its_own_first_page(documents):
    reader = PdfReader(io.BytesIO(documents["minutes"]))
    starts = [i for i, p in enumerate(reader.pages) if NATION in p.extract_text()]
    assert len(starts) == 2 and starts[0] == 0
    for start in starts:
        lines = _lines(reader.pages[start])
        text = "\n".join(t for _x, _y, t in lines)
        assert "ỦY BAN NHÂN DÂN XÃ MỘT" in text and _line(lines, "^THÔN MỘT$")
        assert "Xã Một, ngày 20 tháng 11 năm 2026" in text and "Số: ……/BB" in text
        assert "BIÊN BẢN HỌP DÂN" in text
        # A copy's first page carries no number.
        assert not _numbers_on_top(reader.pages[start])
    # The signers the record names, and the recipients.
    everything = [line for page in reader.pages for line in _lines(page)]
    text = "\n".join(t for _x, _y, t in everything)
    for signer in ("THƯ KÝ", "CHỦ TRÌ", "ĐẠI DIỆN ỦY BAN MTTQ VIỆT NAM XÃ"):
        assert re.sub(r"\s", "", text).count(re.sub(r"\s", "", signer)) == 2, signer
    for name in ("Lê Thị Hoa", "Rơ Mah Hiền", "Đinh Văn Tư"):
        assert text.count(name) >= 2, name
    assert text.count("Nơi nhận:") == 2
    # Pages after a copy's first are numbered from 2 within the copy.
    for start, end in zip(starts, [*starts[1:], len(reader.pages)], strict=True):
        for n, index in enumerate(range(start + 1, end), start=2):
            _page_number(reader.pages[index], n)


def _the_village_lists_landscape_with_the_header(documents):
    reader = PdfReader(io.BytesIO(documents["lists"]))
    first = reader.pages[0]
    assert round(float(first.mediabox.width)) == round(A4[1])  # landscape
    lines = _lines(first)
    text = "\n".join(t for _x, _y, t in lines)
    assert NATION in text and MOTTO in text and "THÔN MỘT" in text
    assert "Xã Một, ngày …… tháng …… năm ……" in text  # no date stored: blanks
    assert "DANH SÁCH HỘ GIA ĐÌNH ĐƯA RA HỌP DÂN THỐNG NHẤT KẾT QUẢ RÀ SOÁT" in text
    assert PROVISIONAL in text
    assert min(x for x, _y, _t in lines) >= 29 * MM


def test_the_refusal_letter(app, village, tmp_path):
    officer = village["officer"]
    monthly = open_monthly_round(officer)
    post_form(officer, f"{monthly}/lap-danh-sach", {})
    page = officer.get(f"{monthly}/quyet-dinh").get_data(as_text=True)
    case_id = re.search(r'name="case_id"><option value="(\d+)"', page).group(1)
    post_form(
        officer,
        f"{monthly}/tu-choi",
        {
            "case_id": case_id,
            "reason": "Điểm B1 trên chuẩn",
            "answered_on": "2026-02-05",
            "signer_name": "Hồ Văn Nam",
        },
    )
    with app.app_context():
        refusal = db.session.scalar(select(Refusal))
    pdf = officer.get(f"{monthly}/tu-choi/{refusal.id}.pdf").data
    (tmp_path / "refusal.pdf").write_bytes(pdf)
    lines, _pages = _check_layout(
        pdf,
        number="……/UBND",
        date="ngày 05 tháng 02 năm 2026",  # leading zeros for day < 10 and month < 3
        place="Xã Một",
        signer=["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Hồ Văn Nam"],
    )
    text = "\n".join(t for _x, _y, t in lines)
    assert "V/v trả lời kết quả rà soát" in text and "VĂN BẢN TRẢ LỜI KẾT QUẢ RÀ SOÁT" in text
    _recipients_beside(lines, "TM. ỦY BAN NHÂN DÂN", "- Lưu: VT.")
