"""A Phiếu B instance filled by the ODK Web Forms engine and sent like Collect sends it is
scored by the server after the phone has its answer; the server's B2 agrees with the phone's;
failures never touch the stored submission; re-scoring keeps the history."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import server.scoring.services as scoring_services
from server.db import write_transaction
from server.extensions import db
from server.geography.models import Commune
from server.scoring.models import CommuneB1Table, HouseholdScore, ScoringJob
from server.submissions.models import Submission
from tests.collect_client import CollectClient, FlaskTransport
from tests.engines import webforms
from tests.forms.test_phieu_b import CASES, fill


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    webforms.ensure_installed()
    return {
        key: fill(CASES[key], tmp_path_factory.mktemp(key))
        for key in ("a_three_deprivations", "b_two_deprivations_new_household")
    }


def _use_demo_table(app):
    with app.app_context(), write_transaction(db.session):
        commune = db.session.scalar(select(Commune).where(Commune.code == "X1"))
        db.session.add(
            CommuneB1Table(
                commune_id=commune.id,
                standard="2022_2025",
                area_type="rural",
                table_code="demo_2022_2025_rural",
            )
        )


def _send(app, seeded, instance):
    phone = CollectClient(FlaskTransport(app), f"http://rasoat.test/key/{seeded.reviewer_token}")
    files = {name: path.read_bytes() for name, path in instance.files.items()}
    return phone.submit(instance.xml, files)


def _score(app, instance_id):
    with app.app_context():
        submission = db.session.scalar(
            select(Submission).where(Submission.instance_id == instance_id)
        )
        scores = db.session.scalars(
            select(HouseholdScore)
            .where(HouseholdScore.submission_id == submission.id)
            .order_by(HouseholdScore.id)
        ).all()
        db.session.expunge_all()
        return scores


@pytest.mark.parametrize("key", ["a_three_deprivations", "b_two_deprivations_new_household"])
def test_server_scores_what_the_phone_computed(app, seeded, publish_shipped, filled, key):
    publish_shipped("phieu_b_2022")
    _use_demo_table(app)
    replies = _send(app, seeded, filled[key])
    assert [r.status for r in replies] == [201]
    [score] = _score(app, filled[key].instance_id)
    deprived = {i["code"] for i in score.result["indicators"] if i["outcome"] == "deprived"}
    assert deprived == CASES[key].deprived  # the server's B2 is the phone's B2
    assert score.score_b == 10 * len(deprived)
    assert score.standard == "2022_2025"  # reviewed in 2026
    assert score.result["area_type"] == "rural"  # the commune's, not the phone's
    assert score.table_code == "demo_2022_2025_rural"
    assert score.result["b1_table_disclaimer"] == "minh họa — không phải số liệu chính thức"
    assert score.score_a is not None and score.result["b1_missing"] == []
    expected = (
        "ngheo"
        if score.score_a <= 140 and score.score_b >= 30
        else "can_ngheo"
        if score.score_a <= 140
        else "khong_ngheo_khong_can_ngheo"
    )
    assert score.category == expected
    assert score.household_code == (CASES[key].household.hh or None)


def test_without_a_b1_table_the_household_is_not_assessed(app, seeded, publish_shipped, filled):
    publish_shipped("phieu_b_2022")
    _send(app, seeded, filled["a_three_deprivations"])
    [score] = _score(app, filled["a_three_deprivations"].instance_id)
    assert score.category == "chua_danh_gia"
    assert score.deprivations == 3


def test_a_scoring_failure_keeps_the_submission_and_is_retried(
    app, seeded, publish_shipped, filled, monkeypatch
):
    publish_shipped("phieu_b_2022")

    def broken(*_args, **_kwargs):
        raise RuntimeError("bảng điểm hỏng")

    monkeypatch.setattr(scoring_services, "score_household", broken)
    replies = _send(app, seeded, filled["a_three_deprivations"])
    assert [r.status for r in replies] == [201]  # the phone never sees scoring trouble
    with app.app_context():
        job = db.session.scalar(select(ScoringJob))
        assert (job.state, job.last_error) == ("failed", "RuntimeError: bảng điểm hỏng")
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 1
    monkeypatch.undo()
    result = app.test_cli_runner().invoke(args=["scoring", "run"])
    assert "scored 1" in result.output
    assert len(_score(app, filled["a_three_deprivations"].instance_id)) == 1


def test_rescoring_keeps_history_and_marks_the_latest_current(app, seeded, publish_shipped, filled):
    publish_shipped("phieu_b_2022")
    _send(app, seeded, filled["a_three_deprivations"])
    _use_demo_table(app)
    result = app.test_cli_runner().invoke(args=["scoring", "rescore", "--commune", "X1"])
    assert "queued 1" in result.output and "scored 1" in result.output
    first, second = _score(app, filled["a_three_deprivations"].instance_id)
    assert (first.current, second.current) == (False, True)
    assert (first.category, first.table_code) == ("chua_danh_gia", None)
    assert second.table_code == "demo_2022_2025_rural"
    assert first.inputs_sha256 == second.inputs_sha256


def test_forms_without_a_mapping_are_not_queued(app, seeded):
    from tests.instances import demo_instance

    phone = CollectClient(FlaskTransport(app), f"http://rasoat.test/key/{seeded.reviewer_token}")
    assert [r.status for r in phone.submit(demo_instance(photo=None))] == [201]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ScoringJob)) == 0
        assert db.session.scalar(select(func.count()).select_from(HouseholdScore)) == 0


def test_result_carries_the_transition_from_the_household_registry(
    app, seeded, publish_shipped, filled
):
    from server.households.services import import_households

    publish_shipped("phieu_b_2022")
    _use_demo_table(app)
    with app.app_context(), write_transaction(db.session):
        commune = db.session.scalar(select(Commune).where(Commune.code == "X1"))
        import_households(
            commune,
            [
                {
                    "code": "X1-T01-0001",
                    "village": "T01",
                    "head_name": "A Thút",
                    "last_status": "can_ngheo",
                }
            ],
            2025,
        )
    _send(app, seeded, filled["a_three_deprivations"])
    [score] = _score(app, filled["a_three_deprivations"].instance_id)
    expected = {"ngheo": "can_ngheo_sang_ngheo", "can_ngheo": "van_can_ngheo"}.get(
        score.category, "thoat_can_ngheo"
    )
    assert score.transition == expected
    assert score.result["transition"] == expected


def test_staff_see_the_explained_score_of_their_communes_only(
    app, client, seeded, publish_shipped, filled
):
    import base64

    publish_shipped("phieu_b_2022")
    _send(app, seeded, filled["a_three_deprivations"])
    with app.app_context():
        submission_id = db.session.scalar(select(Submission.id))

    def get(username):
        token = base64.b64encode(f"{username}:{seeded.password}".encode()).decode()
        return client.get(
            f"/api/v1/submissions/{submission_id}/score",
            headers={"Authorization": f"Basic {token}"},
            base_url="https://r.test",
        )

    body = get(seeded.officer).json
    assert body["scoring"] == {"state": "done", "error": None}
    assert body["current"]["deprivations"] == 3
    assert any(
        line.startswith("Thiếu hụt Chất lượng nhà ở") for line in body["current"]["explanation_vi"]
    )
    assert [h["category"] for h in body["history"]] == ["chua_danh_gia"]
    assert get(seeded.admin).status_code == 200
    from server.accounts.models import Role
    from server.accounts.services import create_user

    with app.app_context(), write_transaction(db.session):
        create_user(
            username="canbo2",
            display_name="X2",
            role=Role.OFFICER,
            password=seeded.password,
            commune=db.session.scalar(select(Commune).where(Commune.code == "X2")),
        )
    assert get("canbo2").status_code == 404
