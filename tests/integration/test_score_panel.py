"""The score panel (household and submission pages) names the method that decided and flags a
disagreement between the B1 score and measured income, so the village meeting sees it."""

from __future__ import annotations

from contextlib import contextmanager
from types import SimpleNamespace

from flask import g, render_template_string

from server.accounts.models import Role, User
from server.scoring.engine import METHOD_VI
from server.scoring.labels import CATEGORY_LABELS


@contextmanager
def _as_officer(app):
    """A request of a commune officer (the panel shows a village head less: issue 14)."""
    with app.test_request_context("/"):
        g._login_user = User(
            username="canbo", display_name="Cán bộ", role=Role.OFFICER, active=True
        )
        yield


PANEL = '{% from "review/_score.html" import score_panel %}{{ score_panel(score, categories) }}'


def _score(**result):
    base = {
        "score_a": 120,
        "cutoff": 140,
        "score_b": 20,
        "score_b_max": 20,
        "deprivations": 2,
        "income_per_person_month": 1_600_000,
        "explanation_vi": [],
        "indicators": [],
    }
    return SimpleNamespace(
        result=base | result, category="can_ngheo", provisional=False, standard="2022_2025"
    )


def test_the_deciding_method_and_a_disagreement_are_shown(app):
    with _as_officer(app):
        html = render_template_string(
            PANEL,
            score=_score(method="b1", method_vi=METHOD_VI["b1"], methods_disagree=True),
            categories=CATEGORY_LABELS,
        )
    assert "Phương pháp quyết định" in html and METHOD_VI["b1"] in html
    assert 'data-flag="methods-disagree"' in html


def test_no_flag_when_the_methods_agree_or_a_result_predates_them(app):
    with _as_officer(app):
        agreeing = render_template_string(
            PANEL,
            score=_score(method="income", method_vi=METHOD_VI["income"], methods_disagree=False),
            categories=CATEGORY_LABELS,
        )
        older = render_template_string(PANEL, score=_score(), categories=CATEGORY_LABELS)
    assert METHOD_VI["income"] in agreeing and "methods-disagree" not in agreeing
    assert "Phương pháp quyết định" not in older and "methods-disagree" not in older


def _real(facts, standard_year=2026, **kw):
    """A panel score exactly as scoring stores it: the engine's result dumped by its schema."""
    from server.scoring.engine import CATEGORY_VI, score_household
    from server.scoring.schemas import ScoreOut
    from server.scoring.standards import standard_for_year

    result = score_household(facts, standard_for_year(standard_year), **kw)
    body = ScoreOut().dump(result) | {"category_vi": CATEGORY_VI[result.category]}
    return SimpleNamespace(
        result=body,
        category=result.category.value,
        provisional=result.provisional,
        standard=result.standard,
    )


def test_unknown_indicators_provisional_parts_and_amounts_are_shown_as_the_engine_says(app):
    import dataclasses

    from tests.unit.test_scoring import household, three_deprivations

    # Telecom (inferred) is one of the three: poor, provisional because of it; the insurance
    # of a member is unknown (does not matter: B is already 30); income in Vietnamese digits.
    facts = three_deprivations()
    members = (dataclasses.replace(facts.members[0], health_insurance=None), facts.members[1])
    facts = dataclasses.replace(facts, members=members)
    with _as_officer(app):
        html = render_template_string(
            PANEL, score=_real(facts, b1_score=100), categories=CATEGORY_LABELS
        )
        plain = render_template_string(
            PANEL,
            score=_real(household(), b1_score=150),
            categories=CATEGORY_LABELS,
        )
    row = html.split('data-indicator="bhyt"')[1].split("</tr>")[0]
    assert "Chưa xác định" in row and "Không thiếu hụt" not in row
    assert 'data-flag="provisional"' in html
    assert "Kết quả tạm thời vì dựa trên: chỉ số Sử dụng dịch vụ viễn thông" in html
    assert "(không ảnh hưởng kết quả)" in html
    # Above the cut-off: no provisional badge for the result, only per unsettled indicator.
    assert 'data-flag="provisional"' not in plain and "Kết quả tạm thời" not in plain
    vien_thong = plain.split('data-indicator="vien_thong"')[1].split("</tr>")[0]
    assert "tạm thời" in vien_thong


def test_measured_income_is_written_with_vietnamese_digits(app):
    from server.scoring.facts import MeasuredIncome
    from tests.unit.test_scoring import household

    facts = household(income=MeasuredIncome(per_person_month=1_600_000, agricultural=False))
    with _as_officer(app):
        html = render_template_string(PANEL, score=_real(facts), categories=CATEGORY_LABELS)
    assert "1.600.000 đ/người/tháng / chuẩn 1.500.000 đ" in html
