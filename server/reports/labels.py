"""The report's words (Vietnamese msgids, English in the catalog), shared by the page and the
XLSX, and the columns of the transitions table."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from server.reports.services import Figures

# (key, label, figure): "thoát nghèo" counts every poor household that left poverty, of which
# those that became near-poor are shown again on their own.
TRANSITION_COLUMNS: list[tuple[str, object, Callable[[Figures], int]]] = [
    ("thoat_ngheo", _l("Thoát nghèo"), lambda f: f.escaped_poverty),
    (
        "ngheo_sang_can_ngheo",
        _l("trong đó thành hộ cận nghèo"),
        lambda f: f.transitions["ngheo_sang_can_ngheo"],
    ),
    ("thoat_can_ngheo", _l("Thoát cận nghèo"), lambda f: f.transitions["thoat_can_ngheo"]),
    ("ngheo_phat_sinh", _l("Hộ nghèo phát sinh mới"), lambda f: f.transitions["ngheo_phat_sinh"]),
    (
        "can_ngheo_phat_sinh",
        _l("Hộ cận nghèo phát sinh mới"),
        lambda f: f.transitions["can_ngheo_phat_sinh"],
    ),
    ("tai_ngheo", _l("Tái nghèo"), lambda f: f.transitions["tai_ngheo"]),
    ("tai_can_ngheo", _l("Tái cận nghèo"), lambda f: f.transitions["tai_can_ngheo"]),
    (
        "can_ngheo_sang_ngheo",
        _l("Từ cận nghèo thành nghèo"),
        lambda f: f.transitions["can_ngheo_sang_ngheo"],
    ),
]

# The year's review results by the method that decided them (key, label, figure).
METHOD_COLUMNS: list[tuple[str, object, Callable[[Figures], int]]] = [
    ("with_review_result", _l("Hộ có kết quả rà soát"), lambda f: f.with_review_result),
    ("b1", _l("Quyết định theo điểm B1"), lambda f: f.method_b1),
    ("income", _l("Quyết định theo thu nhập đo được"), lambda f: f.method_income),
    ("none", _l("Chưa có phương pháp quyết định"), lambda f: f.method_none),
    (
        "disagree",
        _l("B1 và thu nhập không thống nhất"),
        lambda f: f.methods_disagree,
    ),
]

# The year's missing households (last year's poor / near-poor, no result) by reason.
MISSING_COLUMNS: list[tuple[str, object, Callable[[Figures], int]]] = [
    ("total", _l("Hộ nghèo/cận nghèo năm trước chưa có kết quả"), lambda f: f.missing.total()),
    ("moved", _l("Chuyển đi nơi khác"), lambda f: f.missing["moved"]),
    ("merged_split", _l("Nhập hộ hoặc tách hộ"), lambda f: f.missing["merged_split"]),
    ("died_out", _l("Hộ không còn người"), lambda f: f.missing["died_out"]),
    ("not_reviewed", _l("Chưa rà soát được"), lambda f: f.missing["not_reviewed"]),
    ("other", _l("Lý do khác"), lambda f: f.missing["other"]),
    ("none", _l("Chưa ghi lý do"), lambda f: f.missing["none"]),
]

UNCONFIRMED = _l("kết quả rà soát, chưa quyết định")
OFFICIAL = _l("trạng thái đã công nhận")
NO_DATA = _l("chưa có số liệu")
TOTAL = _l("Tổng cộng")


def source_label(figures: Figures) -> str:
    """Where a row's figures come from, in words."""
    if figures.review and figures.official:
        return _(
            "%(official)d hộ theo trạng thái đã công nhận; %(review)d hộ theo kết quả rà soát, "
            "chưa quyết định",
            official=figures.official,
            review=figures.review,
        )
    if figures.review:
        return str(UNCONFIRMED)
    if figures.official:
        return str(OFFICIAL)
    return str(NO_DATA)


def previous_source_label(figures: Figures) -> str:
    return str(OFFICIAL) if figures.official else str(NO_DATA)
