"""The village-meeting lists as rows (shared by the page, the PDF and the XLSX) and as XLSX.

The official column layout of the 2022–2025 lists is not publicly available
(``regulations.md`` §5.8, MISSING); the columns follow what provincial lists show in practice
(household code, head, members, Phiếu A result, B1 and B2 points, classification), with the
method that decided each result ("Phương pháp") and, first in the notes, a flag when the B1
score and measured income disagree (:mod:`server.meetings.methods`).
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from openpyxl import Workbook

from server.documents.spreadsheets import text_row
from server.documents.stamp import stamp_request
from server.meetings.methods import DISAGREE_VI, method_vi
from server.meetings.models import HouseholdCase, ReviewRound
from server.meetings.services import VillageLists
from server.meetings.settings import HELD_BACK, HELD_BACK_VI
from server.review.services import REVIEW_WORDS_VI
from server.scoring.models import HouseholdScore

LIST_TITLES_VI = {
    "moi_ngheo": "Danh sách hộ nghèo mới (phát sinh, tái nghèo, từ cận nghèo)",
    "moi_can_ngheo": "Danh sách hộ cận nghèo mới (phát sinh, tái cận nghèo)",
    "thoat_ngheo": "Danh sách hộ thoát nghèo",
    "thoat_can_ngheo": "Danh sách hộ thoát cận nghèo",
    "con_ngheo": "Danh sách hộ nghèo tiếp tục (vẫn là hộ nghèo)",
    "con_can_ngheo": "Danh sách hộ cận nghèo tiếp tục (vẫn là hộ cận nghèo)",
    "khong_thuoc_dien": "Hộ không thuộc diện nghèo, cận nghèo (không đưa ra biểu quyết)",
    "chua_du_ket_qua": "Hộ chưa đủ kết quả (cần bổ sung thông tin, không đưa ra biểu quyết)",
}
# The sheets' names (Excel allows 31 characters, none of []:*?/\): the lists in words.
SHEET_NAMES_VI = {
    "moi_ngheo": "Hộ nghèo mới",
    "moi_can_ngheo": "Hộ cận nghèo mới",
    "thoat_ngheo": "Hộ thoát nghèo",
    "thoat_can_ngheo": "Hộ thoát cận nghèo",
    "con_ngheo": "Hộ nghèo tiếp tục",
    "con_can_ngheo": "Hộ cận nghèo tiếp tục",
    "khong_thuoc_dien": "Không thuộc diện",
    "chua_du_ket_qua": "Chưa đủ kết quả",
    HELD_BACK: "Hộ chưa duyệt",
}
STATUS_VI = {
    "ngheo": "Hộ nghèo",
    "can_ngheo": "Hộ cận nghèo",
    "thoat_ngheo": "Đã thoát nghèo",
    "thoat_can_ngheo": "Đã thoát cận nghèo",
    "khong": "Không nghèo, không cận nghèo",
    "moi": "Chưa rà soát trước đây",
}
COLUMNS_VI = (
    "STT",
    "Mã hộ",
    "Họ tên chủ hộ",
    "Số nhân khẩu",
    "Thành viên (năm sinh/tuổi)",
    "Phân loại trước",
    "Điểm B1",
    "Điểm B2",
    "Chỉ số thiếu hụt",
    "Kết quả rà soát",
    "Phương pháp",
    "Diễn biến",
    "Ghi chú",
    "Xét duyệt",
)


@dataclass(frozen=True)
class ListRow:
    number: int
    case: HouseholdCase
    code: str
    head: str
    size: int
    members: str
    previous: str
    score_a: str
    score_b: str
    deprivations: str
    result: str
    transition: str
    note: str
    method: str = ""  # short words: "Điểm B1", "Thu nhập đo được", "—"
    method_code: str | None = None  # "b1" | "income" | None
    flag: str = ""  # the disagreement between B1 and income, for the meeting to look at
    review: str = ""  # the commune's review of the result, in plain words ("Đã duyệt", …)

    def cells(self) -> list:
        return [
            self.number,
            self.code,
            self.head,
            self.size,
            self.members,
            self.previous,
            self.score_a,
            self.score_b,
            self.deprivations,
            self.result,
            self.method,
            self.transition,
            "; ".join(text for text in (self.flag, self.note) if text),
            self.review,
        ]


def list_rows(
    cases: list[HouseholdCase],
    scores: dict[int, HouseholdScore],
    states: dict[int, str] | None = None,
) -> list[ListRow]:
    """The printed rows of ``cases``; ``states``: submission id → review state (the "Xét
    duyệt" column, in plain words)."""
    states = states or {}
    rows = []
    for number, case in enumerate(cases, start=1):
        score = scores[case.score_id]
        result = score.result
        members = (result.get("inputs") or {}).get("members") or []
        deprived = [
            i["name_vi"] for i in result.get("indicators", []) if i["outcome"] == "deprived"
        ]
        notes = []
        if result.get("b1_table_disclaimer"):
            notes.append(f"B1: {result['b1_table_disclaimer']}")
        if case.stage == "resurvey":
            notes.append("đang rà soát lại")
        rows.append(
            ListRow(
                number=number,
                case=case,
                code=case.household_code or "(hộ mới)",
                head=case.head_name,
                size=len(members),
                members="; ".join(
                    f"{m.get('name') or '?'} ({m['age'] if m.get('age') is not None else '?'})"
                    for m in members
                ),
                previous=STATUS_VI.get(case.previous_status, case.previous_status),
                score_a="" if result.get("score_a") is None else f"{result['score_a']:g}",
                score_b=str(result.get("score_b", "")),
                deprivations=", ".join(deprived),
                result=result.get("category_vi", case.proposed_category),
                transition=result.get("transition_vi", "") or "",
                note="; ".join(notes),
                method=method_vi(score.method),
                method_code=score.method,
                flag=DISAGREE_VI if score.methods_disagree else "",
                review=review_words(states.get(case.submission_id)),
            )
        )
    return rows


def review_words(state: str | None) -> str:
    """A result's review state as the lists print it."""
    return REVIEW_WORDS_VI.get(state, "") if state else ""


def lists_xlsx(review: ReviewRound, lists: VillageLists) -> bytes:
    """One sheet per list, in the order the meeting takes them, with a header naming the
    commune, village and round, and the demo/provisional label when it applies; when the
    commune takes only approved results to the meeting, a last sheet names the households kept
    out ("chưa duyệt")."""
    book = Workbook(write_only=True)
    sheets = [(name, title, lists.lists[name]) for name, title in LIST_TITLES_VI.items()]
    if lists.approved_only:
        sheets.append((HELD_BACK, HELD_BACK_VI, lists.held))
    for name, title, cases in sheets:
        sheet = book.create_sheet(SHEET_NAMES_VI[name])
        sheet.append(text_row(sheet, [title]))
        sheet.append(
            text_row(
                sheet,
                [
                    f"{review.commune.name} — {lists.village.name} ({lists.village.code}) — "
                    f"rà soát {'định kỳ' if review.kind == 'dinh_ky' else 'thường xuyên'} "
                    f"năm {review.year}" + (f", tháng {review.month}" if review.month else "")
                ],
            )
        )
        for text in sorted(lists.disclaimers):
            sheet.append(text_row(sheet, [f"Lưu ý: bảng điểm B1 {text}"]))
        sheet.append(text_row(sheet, []))
        sheet.append(text_row(sheet, list(COLUMNS_VI)))
        for row in list_rows(cases, lists.scores, lists.states):
            sheet.append(text_row(sheet, row.cells()))
    buffer = BytesIO()
    stamp_request(book)
    book.save(buffer)
    return buffer.getvalue()
