"""Household categories as the staff pages show them (the engine's ``CATEGORY_VI``, made
translatable for the English pages)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from server.scoring.engine import Category

CATEGORY_LABELS = {
    Category.POOR.value: _l("Hộ nghèo"),
    Category.NEAR_POOR.value: _l("Hộ cận nghèo"),
    Category.AVERAGE.value: _l("Hộ có mức sống trung bình"),
    Category.NEITHER.value: _l("Không nghèo, không cận nghèo"),
    Category.SCREENED_OUT.value: _l("Dừng ở Phiếu A"),
    Category.NOT_ASSESSED.value: _l("Chưa đánh giá được"),
    Category.UNDETERMINED.value: _l("Chưa xác định được"),
}
