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
# Not a submission's data: counted from the file's creation / the record's day, not a decision.
EXPORT_FILES = "export_files"
ACCESS_RECORDS = "access_records"

# A submission's data, counted from its round's decision, in the order purged.
SUBMISSION_KINDS = (ATTACHMENTS, GPS, FREE_TEXT, XML, ANSWERS, SCORES, AUDIT)
# Rows of their own, each counted from its own date.
RECORD_KINDS = (EXPORT_FILES, ACCESS_RECORDS)
# Every kind a rule governs, in the order shown.
KINDS = SUBMISSION_KINDS + RECORD_KINDS

KIND_LABELS = {
    ATTACHMENTS: _l("Ảnh và tệp đính kèm của phiếu"),
    GPS: _l("Toạ độ GPS"),
    FREE_TEXT: _l("Câu trả lời tự ghi (chữ)"),
    XML: _l("Phiếu gốc (tệp XML nhận từ điện thoại)"),
    ANSWERS: _l("Toàn bộ câu trả lời của phiếu"),
    SCORES: _l("Chi tiết chấm điểm (giữ kết quả phân loại)"),
    AUDIT: _l("Nhật ký thao tác trên phiếu"),
    EXPORT_FILES: _l("Tệp đã xuất (danh sách, biên bản, quyết định, giấy chứng nhận: PDF, XLSX)"),
    ACCESS_RECORDS: _l("Nhật ký truy cập (ai đã xem dữ liệu của hộ)"),
}

# What each kind's period counts from.
KIND_BASIS = {
    **{kind: _l("ngày ký quyết định công nhận của đợt") for kind in SUBMISSION_KINDS},
    EXPORT_FILES: _l("ngày tạo tệp"),
    ACCESS_RECORDS: _l("ngày truy cập"),
}

# Months after the round's decision (a generated file: after it was made; an access record: after
# the look).  rasoat's provisional defaults, not from any regulation: a generated file can be made
# again from the stored data; the access records are kept long enough to answer a household's or
# an inspector's question about who saw what.
DEFAULT_MONTHS = {
    ATTACHMENTS: 24,
    GPS: 24,
    FREE_TEXT: 24,
    XML: 24,
    ANSWERS: 60,
    SCORES: 60,
    AUDIT: 120,
    EXPORT_FILES: 6,
    ACCESS_RECORDS: 60,
}
DEFAULT_NOTE = "mặc định của rasoat — chưa có quy định cụ thể"

# Purging one of these kinds also drops the full XML (it holds the same answers), so that a
# shorter period for GPS or free text is never defeated by the XML kept longer.
IMPLIES_XML = (GPS, FREE_TEXT, ANSWERS)

MAX_MONTHS = 1200  # a hundred years: the longest period a rule may say
