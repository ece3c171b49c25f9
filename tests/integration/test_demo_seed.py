"""The demo commune ``flask demo setup`` seeds: a few hundred households with their recorded
history and the 2026 questionnaires they answered, stored by the real ingest service and scored
by the real scoring queue — a spread of categories and transitions, deterministic, and seeded
once however often the command runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import date, time, timedelta

from sqlalchemy import func, select

from server.accounts.models import User
from server.blobs import blob_store
from server.db import write_transaction
from server.demo import COMMUNE, seed_demo
from server.demo_households import LIST_YEAR, VILLAGES
from server.demo_submissions import SeedResult, seed_demo_review
from server.extensions import db
from server.geography.models import Commune
from server.households.models import Household, HouseholdYearStatus
from server.households.services import households_csv
from server.questionnaires.models import Form
from server.questionnaires.services import publish_form_version
from server.questionnaires.sources import load_sources
from server.scoring.b1 import DEMO_LABEL_VI
from server.scoring.models import HouseholdScore, ScoringJob
from server.submissions.models import Submission, SubmissionVersion
from tests.conftest import REPO


def _publish(app, *names: str) -> None:
    with app.app_context(), write_transaction(db.session):
        for source in load_sources():
            if source.name in names:
                publish_form_version(
                    source.compiled_path.read_bytes(),
                    blobs=blob_store(),
                    media=source.media,
                    xlsx=source.xlsx,
                )


def _state(app) -> dict:
    """Everything the seeding writes, counted."""
    with app.app_context():
        commune = db.session.scalar(select(Commune).where(Commune.code == COMMUNE[0]))
        households = db.session.scalars(
            select(Household).where(Household.commune_id == commune.id)
        ).all()
        statuses = Counter(
            (s.year, s.status.value)
            for s in db.session.scalars(
                select(HouseholdYearStatus)
                .join(Household)
                .where(Household.commune_id == commune.id)
            )
        )
        forms = Counter(
            db.session.scalars(
                select(Form.xml_form_id)
                .join(Submission, Submission.form_id == Form.id)
                .where(Submission.commune_id == commune.id)
            )
        )
        scores = db.session.scalars(
            select(HouseholdScore)
            .join(Submission, Submission.id == HouseholdScore.submission_id)
            .where(Submission.commune_id == commune.id, HouseholdScore.current.is_(True))
        ).all()
        return {
            "households": len(households),
            "villages": sorted(v.code for v in commune.villages),
            "statuses": statuses,
            "forms": forms,
            "versions": db.session.scalar(select(func.count()).select_from(SubmissionVersion)),
            "jobs": Counter(db.session.scalars(select(ScoringJob.state))),
            "categories": Counter(s.category for s in scores),
            "transitions": Counter(s.transition for s in scores),
            "scores": db.session.scalar(select(func.count()).select_from(HouseholdScore)),
            "disclaimers": Counter(s.result.get("b1_table_disclaimer") for s in scores),
            "phone_list_rows": households_csv(
                db.session.scalar(select(User).where(User.username == "rsv.demo"))
            ).count(b"\n")
            - 1,
        }


def test_demo_seeds_a_reviewed_commune_once(app):
    _publish(app, "phieu_b_2022", "phieu_a")
    with app.app_context():
        seed_demo()
        first = seed_demo_review(COMMUNE[0], "rsv.demo")
    state = _state(app)

    # Six villages, a few hundred households on the reviewers' list.
    assert state["villages"] == [v.code for v in VILLAGES]
    assert first.households == state["households"] == state["phone_list_rows"]
    assert 300 <= state["households"] <= 400
    last_year = {s: n for (y, s), n in state["statuses"].items() if y == LIST_YEAR}
    assert sum(last_year.values()) == state["households"]
    assert 0.10 <= last_year["ngheo"] / state["households"] <= 0.15
    assert 0.08 <= last_year["can_ngheo"] / state["households"] <= 0.12
    assert last_year["khong"] > state["households"] / 2
    assert {"moi", "thoat_ngheo", "thoat_can_ngheo"} <= set(last_year)
    assert sum(n for (y, _), n in state["statuses"].items() if y < LIST_YEAR) >= 50  # history

    # Most households answered Phiếu B; a few stopped at Phiếu A; everything was scored.
    assert first.submissions.phieu_b == state["forms"]["phieu_b_2022"]
    assert first.submissions.phieu_a == state["forms"]["phieu_a"]
    assert 0.8 * state["households"] <= state["forms"]["phieu_b_2022"] < state["households"]
    assert 5 <= state["forms"]["phieu_a"] <= 40
    assert set(state["jobs"]) == {"done"}
    categories = state["categories"]
    assert sum(categories.values()) == state["forms"]["phieu_b_2022"] + categories["dung_o_phieu_a"]
    assert 25 <= categories["ngheo"] <= 60
    assert 25 <= categories["can_ngheo"] <= 60
    assert categories["khong_ngheo_khong_can_ngheo"] >= 150
    assert 3 <= categories["chua_xac_dinh"] <= 10  # a fact is missing
    assert 3 <= categories["dung_o_phieu_a"] <= 15
    assert "chua_danh_gia" not in categories  # every household is assessed with the table
    transitions = state["transitions"]
    for moved in (
        "van_ngheo",
        "thoat_ngheo",
        "ngheo_phat_sinh",
        "tai_ngheo",
        "van_can_ngheo",
        "thoat_can_ngheo",
        "can_ngheo_phat_sinh",
        "ngheo_sang_can_ngheo",
        "can_ngheo_sang_ngheo",
        "khong_thay_doi",
        "chua_xac_dinh",
    ):
        assert transitions[moved] >= 1, moved
    # Scored with the demo B1 table, and every such result says so.
    assert state["disclaimers"] == {
        DEMO_LABEL_VI: state["forms"]["phieu_b_2022"],
        None: categories["dung_o_phieu_a"],
    }

    _check_times(app)

    # Running it again sends nothing and changes nothing.
    with app.app_context():
        again = seed_demo_review(COMMUNE[0], "rsv.demo")
    assert again.households_written == 0
    assert again.submissions == SeedResult(0, 0, 0)
    assert _state(app) == state


def _check_times(app) -> None:
    """Reviewed in the autumn of 2026, sent from the phone that evening; Phiếu A first."""
    with app.app_context():
        rows = db.session.execute(
            select(Submission, SubmissionVersion)
            .join(SubmissionVersion, SubmissionVersion.submission_id == Submission.id)
            .where(SubmissionVersion.current.is_(True))
        ).all()
        assert rows
        for submission, version in rows:
            reviewed = date.fromisoformat(
                version.fields.get("general/review_date") or version.fields["rsv/review_date"]
            )
            assert date(2026, 9, 1) <= reviewed <= date(2026, 11, 30)
            sent_local = submission.created_at + timedelta(hours=7)
            assert sent_local.date() == reviewed and sent_local.time() >= time(16, 59)
            assert version.created_at == submission.created_at
            assert submission.village is not None
            assert submission.review_state == "received"
            assert version.attachments_present == version.attachments_expected  # signatures
        # The Phiếu A of a household arrives before its Phiếu B.
        order = {(s.form.xml_form_id, v.fields["hh_code"]): s.id for s, v in rows}
        for (form, code), submission_id in order.items():
            if form == "phieu_a" and ("phieu_b_2022", code) in order:
                assert submission_id < order[("phieu_b_2022", code)]


_DIGEST = """
import hashlib, json, sys
from types import SimpleNamespace
from datetime import datetime
from server.demo_households import plan_households
from server.demo_submissions import _Scorer, _answers_for, phieu_a_fields
from server.scoring.mapping import all_mappings
from server.scoring.standards import standard_for_year
from server.scoring.tables import shipped_tables
scorer = _Scorer(all_mappings()["phieu_b_2022"], standard_for_year(2026),
                 shipped_tables()["demo_2022_2025_rural"], "tay_nguyen")
reviewer = SimpleNamespace(username="rsv.demo", display_name="Rà soát viên Demo")
digest = hashlib.sha256()
for h in plan_households("DEMO01"):
    digest.update(repr(h).encode())
    started = datetime(2026, 10, 1, 8, 0)
    if h.outcome in ("poor", "near", "neither", "undetermined"):
        values = _answers_for(h, scorer, reviewer, started, "1.png")
        digest.update(json.dumps(values, sort_keys=True).encode())
    if h.phieu_a:
        crit = [{"name": "a", "label": "A", "stop": "1"}, {"name": "b", "label": "B", "stop": "0"}]
        digest.update(json.dumps(phieu_a_fields(h, reviewer, started, crit), sort_keys=True).encode())
print(digest.hexdigest())
"""


def test_demo_answers_are_the_same_in_every_process():
    """Seeded pseudo-random draws only: string hashing (PYTHONHASHSEED) changes nothing."""
    digests = {
        subprocess.run(
            [sys.executable, "-c", _DIGEST],
            cwd=REPO,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    [digest] = digests
    assert len(digest) == 64
