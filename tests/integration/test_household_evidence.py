"""Phiếu A and the income survey complete the household's Phiếu B, whichever arrives first.

Every instance here is filled by the ODK Web Forms engine from the shipped questionnaires and
sent as Collect sends it; the server links them by household code, commune and review year.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.extensions import db
from server.scoring.evidence import HouseholdEvidence
from server.scoring.models import HouseholdScore
from server.submissions.models import Submission, SubmissionVersion
from tests.engines import webforms
from tests.forms import test_income_and_characteristics as income_forms
from tests.forms import test_phieu_b as phieu_b
from tests.forms import test_requests_and_phieu_a as phieu_a_forms
from tests.instances import jpeg_bytes

HOUSEHOLD = "X1-T02-0001"  # Phiếu B case c1 and the income case below
STOP, GO = phieu_a_forms._stop_codes(), phieu_a_forms._go_codes()


def _phieu_a(tmp, code, ticked):
    steps = phieu_a_forms.phieu_a(tmp, code, ticked)
    form = phieu_a_forms._form("phieu_a")
    return webforms.fill_form(
        form, steps, tmp / "out", attachments_dir=phieu_a_forms._media("phieu_a")
    )


# 4 people living from forestry: (100 000 000 − 10 000 000) / 4 / 12 = 1 875 000 đ per person
# per month — inside the rural average-living-standard band (1 500 000; 2 250 000].
IN_BAND = income_forms.IncomeCase(
    id="lam_nghiep_trong_khoang",
    identify=income_forms.household(HOUSEHOLD),
    occupation="lam_nghiep",
    members=4,
    production={"forestry": (100_000_000, 10_000_000)},
    village="T02",
    hh_code=HOUSEHOLD,
    head="Y Hlơn",
)


@pytest.fixture(scope="module")
def instances(tmp_path_factory):
    webforms.ensure_installed()
    tmp = tmp_path_factory.mktemp
    signature = tmp("sig") / "chu ky.jpg"
    signature.write_bytes(jpeg_bytes(5, 3000))
    return {
        "b": phieu_b.fill(phieu_b.CASES["c1_boundaries_not_deprived"], tmp("b")),
        "a_stop": _phieu_a(tmp("a_stop"), HOUSEHOLD, [STOP[0], GO[0]]),
        "a_go": _phieu_a(tmp("a_go"), HOUSEHOLD, [GO[0]]),
        "income": income_forms.fill(income_forms.INCOME, IN_BAND.steps(signature), tmp("income")),
    }


def _send(app, seeded, instance):
    income_forms.post(app, seeded, instance)


def _scores(app, instance_id):
    with app.app_context():
        submission = db.session.scalar(
            select(Submission).where(Submission.instance_id == instance_id)
        )
        rows = db.session.scalars(
            select(HouseholdScore)
            .where(HouseholdScore.submission_id == submission.id)
            .order_by(HouseholdScore.id)
        ).all()
        db.session.expunge_all()
        return rows


def _current(app, instance_id):
    return [s for s in _scores(app, instance_id) if s.current]


@pytest.fixture
def forms(publish_shipped):
    for name in ("phieu_b_2022", "phieu_a", "thu_nhap_mstb"):
        publish_shipped(name)


def test_phieu_a_stop_arriving_after_phieu_b_ends_the_review(app, seeded, forms, instances):
    _send(app, seeded, instances["b"])
    [first] = _scores(app, instances["b"].instance_id)
    assert first.category == "chua_danh_gia"  # commune X1 has no B1 table
    assert first.result["evidence"] == []

    _send(app, seeded, instances["a_stop"])
    # The Phiếu A is scored itself …
    [own] = _current(app, instances["a_stop"].instance_id)
    assert (own.category, own.household_code, own.mapping) == (
        "dung_o_phieu_a",
        HOUSEHOLD,
        "phieu_a",
    )
    # … and the household's Phiếu B is re-scored with it, the earlier result kept.
    history = _scores(app, instances["b"].instance_id)
    assert [s.current for s in history] == [False, True]
    now = history[-1]
    assert now.category == "dung_o_phieu_a"
    assert now.result["indicators"] == [] and now.score_b == 0
    assert now.result["inputs"]["screened_out"] is True
    [used] = now.result["evidence"]
    assert used["kind"] == "screening" and used["review_date"] == "2026-11-21"
    label = next(c["label"] for c in phieu_a_forms._criteria() if c["name"] == STOP[0])
    assert label in now.result["explanation_vi"][0]

    # A later Phiếu A of the same household says "continue": Phiếu B decides again.
    _send(app, seeded, instances["a_go"])
    assert _current(app, instances["a_go"].instance_id) == []
    [now] = _current(app, instances["b"].instance_id)
    assert now.category == "chua_danh_gia"
    assert now.result["inputs"]["screened_out"] is False
    assert len(_scores(app, instances["b"].instance_id)) == 3
    with app.app_context():
        evidence = db.session.scalars(select(HouseholdEvidence)).all()
        assert sorted((e.kind, e.household_code, e.year) for e in evidence) == [
            ("screening", HOUSEHOLD, 2026),
            ("screening", HOUSEHOLD, 2026),
        ]


def test_phieu_a_stop_arriving_first_is_used_when_phieu_b_is_scored(app, seeded, forms, instances):
    _send(app, seeded, instances["a_stop"])
    _send(app, seeded, instances["b"])
    [score] = _scores(app, instances["b"].instance_id)
    assert score.category == "dung_o_phieu_a"


def test_measured_income_classifies_an_average_living_standard_household(
    app, seeded, forms, instances
):
    _send(app, seeded, instances["income"])
    # The income survey gives no result of its own.
    assert _scores(app, instances["income"].instance_id) == []
    _send(app, seeded, instances["b"])
    [score] = _scores(app, instances["b"].instance_id)
    assert score.result["income_per_person_month"] == 1_875_000
    assert score.result["inputs"]["income"] == {
        "agricultural": True,
        "per_person_month": 1_875_000,
    }
    assert score.category == "muc_song_trung_binh"
    assert any("1.875.000" in line for line in score.result["explanation_vi"])
    assert [e["kind"] for e in score.result["evidence"]] == ["income"]


def test_evidence_of_another_commune_or_household_is_not_used(app, seeded, forms, instances):
    _send(app, seeded, instances["b"])
    with app.app_context():
        evidence = db.session.scalars(select(HouseholdEvidence)).all()
        assert evidence == []
    # Phiếu A for another household of the same commune does not touch this one.
    other = instances["a_stop"]
    assert other.xml.count(HOUSEHOLD.encode()) == 2  # <hh> and <hh_code>
    xml = other.xml.replace(HOUSEHOLD.encode(), b"X1-T01-0001")
    _send(app, seeded, webforms.FilledInstance(xml, other.instance_id, other.files))
    [own] = _current(app, other.instance_id)
    assert (own.category, own.household_code) == ("dung_o_phieu_a", "X1-T01-0001")
    [score] = _scores(app, instances["b"].instance_id)
    assert score.category == "chua_danh_gia"


def test_an_income_survey_page_points_to_the_phieu_b_it_completes(app, seeded, forms, instances):
    """The survey has no result of its own: its page says so and links the household's Phiếu B
    with that result (it used to say "no result: not a scored form, or pending")."""
    from tests.integration.procedure import login

    _send(app, seeded, instances["income"])
    with app.app_context():
        survey_id = db.session.scalar(
            select(SubmissionVersion.submission_id).where(
                SubmissionVersion.instance_id == instances["income"].instance_id
            )
        )
    officer = login(app, seeded.officer)
    before = officer.get(f"/xa/phieu/{survey_id}").get_data(as_text=True)
    assert "không có kết quả riêng" in before and "chưa đánh giá" not in before
    assert "Chưa có Phiếu B nào của hộ này" in before
    _send(app, seeded, instances["b"])
    [score] = _scores(app, instances["b"].instance_id)
    page = officer.get(f"/xa/phieu/{survey_id}").get_data(as_text=True)
    assert "Phiếu này chưa có kết quả chấm điểm" not in page
    assert f'href="/xa/phieu/{score.submission_id}"' in page
    assert "Hộ có mức sống trung bình" in page
