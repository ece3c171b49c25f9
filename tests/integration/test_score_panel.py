"""The score panel (household and submission pages) names the method that decided and flags a
disagreement between the B1 score and measured income, so the village meeting sees it."""

from __future__ import annotations

from types import SimpleNamespace

from flask import render_template_string

from server.scoring.engine import METHOD_VI
from server.scoring.labels import CATEGORY_LABELS

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
    with app.test_request_context("/"):
        html = render_template_string(
            PANEL,
            score=_score(method="b1", method_vi=METHOD_VI["b1"], methods_disagree=True),
            categories=CATEGORY_LABELS,
        )
    assert "Phương pháp quyết định" in html and METHOD_VI["b1"] in html
    assert 'data-flag="methods-disagree"' in html


def test_no_flag_when_the_methods_agree_or_a_result_predates_them(app):
    with app.test_request_context("/"):
        agreeing = render_template_string(
            PANEL,
            score=_score(method="income", method_vi=METHOD_VI["income"], methods_disagree=False),
            categories=CATEGORY_LABELS,
        )
        older = render_template_string(PANEL, score=_score(), categories=CATEGORY_LABELS)
    assert METHOD_VI["income"] in agreeing and "methods-disagree" not in agreeing
    assert "Phương pháp quyết định" not in older and "methods-disagree" not in older
