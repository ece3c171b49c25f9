"""The kinds of personal data a retention rule governs, and rasoat's provisional defaults.

Law 91/2025/QH15 only says data is kept "as long as the purpose requires" (no figure in it or in
the review procedure): every default below is rasoat's own, provisional, and shown as such.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ATTACHMENTS = "attachments"
GPS = "gps"
FREE_TEXT = "free_text"
XML = "xml"
ANSWERS = "answers"
SCORES = "scores"
AUDIT = "audit"

# In the order they are shown and purged.
KINDS = (ATTACHMENTS, GPS, FREE_TEXT, XML, ANSWERS, SCORES, AUDIT)

KIND_LABELS = {
    ATTACHMENTS: _l("Ảnh và tệp đính kèm của phiếu"),
    GPS: _l("Toạ độ GPS"),
    FREE_TEXT: _l("Câu trả lời tự ghi (chữ)"),
    XML: _l("Phiếu gốc (tệp XML nhận từ điện thoại)"),
    ANSWERS: _l("Toàn bộ câu trả lời của phiếu"),
    SCORES: _l("Chi tiết chấm điểm (giữ kết quả phân loại)"),
    AUDIT: _l("Nhật ký thao tác trên phiếu"),
}

# Months after the round's decision.  rasoat's provisional defaults, not from any regulation.
DEFAULT_MONTHS = {
    ATTACHMENTS: 24,
    GPS: 24,
    FREE_TEXT: 24,
    XML: 24,
    ANSWERS: 60,
    SCORES: 60,
    AUDIT: 120,
}
DEFAULT_NOTE = "mặc định của rasoat — chưa có quy định cụ thể"

# Purging one of these kinds also drops the full XML (it holds the same answers), so that a
# shorter period for GPS or free text is never defeated by the XML kept longer.
IMPLIES_XML = (GPS, FREE_TEXT, ANSWERS)

MAX_MONTHS = 1200  # a hundred years: the longest period a rule may say
