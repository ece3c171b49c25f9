"""How a household's new result relates to its recorded history (pure).

The official reports count households escaping poverty (thoát nghèo), newly arising (phát sinh),
relapsing (tái nghèo) and moving from near-poor to poor (``regulations.md`` §5.8).
"""

from __future__ import annotations

from server.scoring.engine import Category

# (status last year, new category) → transition; "relapsed" needs the longer history.
TRANSITION_VI = {
    "van_ngheo": "Vẫn là hộ nghèo",
    "van_can_ngheo": "Vẫn là hộ cận nghèo",
    "ngheo_sang_can_ngheo": "Thoát nghèo, trở thành hộ cận nghèo",
    "thoat_ngheo": "Thoát nghèo",
    "thoat_can_ngheo": "Thoát cận nghèo",
    "can_ngheo_sang_ngheo": "Từ hộ cận nghèo thành hộ nghèo",
    "ngheo_phat_sinh": "Hộ nghèo phát sinh mới",
    "can_ngheo_phat_sinh": "Hộ cận nghèo phát sinh mới",
    "tai_ngheo": "Tái nghèo",
    "tai_can_ngheo": "Tái cận nghèo",
    "khong_thay_doi": "Không nghèo, không cận nghèo (như năm trước)",
    "chua_xac_dinh": "Chưa xác định (kết quả chưa đủ để so sánh)",
}

_POOR, _NEAR = "ngheo", "can_ngheo"


def transition(history: list[tuple[int, str]], review_year: int, category: Category) -> str:
    """:param history: (year, status) recorded for the household, any order."""
    earlier = sorted((y, s) for y, s in history if y < review_year)
    last = earlier[-1][1] if earlier else "moi"
    ever = {s for _, s in earlier}
    if category not in (
        Category.POOR,
        Category.NEAR_POOR,
        Category.NEITHER,
        Category.AVERAGE,
        Category.SCREENED_OUT,
    ):
        return "chua_xac_dinh"
    new = {Category.POOR: _POOR, Category.NEAR_POOR: _NEAR}.get(category, "khong")
    if last == _POOR:
        return {_POOR: "van_ngheo", _NEAR: "ngheo_sang_can_ngheo"}.get(new, "thoat_ngheo")
    if last == _NEAR:
        return {_POOR: "can_ngheo_sang_ngheo", _NEAR: "van_can_ngheo"}.get(new, "thoat_can_ngheo")
    if new == _POOR:
        return "tai_ngheo" if _POOR in ever else "ngheo_phat_sinh"
    if new == _NEAR:
        return "tai_can_ngheo" if _NEAR in ever else "can_ngheo_phat_sinh"
    return "khong_thay_doi"
