"""Transitions between a household's recorded status and its new result."""

import pytest

from server.scoring.engine import Category
from server.scoring.transitions import transition


@pytest.mark.parametrize(
    ("history", "category", "expected"),
    [
        ([(2025, "ngheo")], Category.POOR, "van_ngheo"),
        ([(2025, "ngheo")], Category.NEAR_POOR, "ngheo_sang_can_ngheo"),
        ([(2025, "ngheo")], Category.NEITHER, "thoat_ngheo"),
        ([(2025, "ngheo")], Category.AVERAGE, "thoat_ngheo"),
        ([(2025, "can_ngheo")], Category.POOR, "can_ngheo_sang_ngheo"),
        ([(2025, "can_ngheo")], Category.NEAR_POOR, "van_can_ngheo"),
        ([(2025, "can_ngheo")], Category.NEITHER, "thoat_can_ngheo"),
        ([], Category.POOR, "ngheo_phat_sinh"),
        ([(2025, "moi")], Category.NEAR_POOR, "can_ngheo_phat_sinh"),
        ([(2023, "ngheo"), (2024, "thoat_ngheo"), (2025, "khong")], Category.POOR, "tai_ngheo"),
        ([(2024, "can_ngheo"), (2025, "thoat_can_ngheo")], Category.NEAR_POOR, "tai_can_ngheo"),
        ([(2025, "khong")], Category.NEITHER, "khong_thay_doi"),
        ([(2025, "ngheo")], Category.UNDETERMINED, "chua_xac_dinh"),
        ([(2025, "ngheo")], Category.NOT_ASSESSED, "chua_xac_dinh"),
        # A status recorded for the review year itself is not history.
        ([(2025, "can_ngheo"), (2026, "ngheo")], Category.POOR, "can_ngheo_sang_ngheo"),
    ],
)
def test_transition(history, category, expected):
    assert transition(history, 2026, category) == expected
