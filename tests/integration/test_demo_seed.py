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
from decimal import Decimal

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
            "methods": Counter((s.method, s.methods_disagree) for s in scores),
            "phone_list_rows": households_csv(
                db.session.scalar(select(User).where(User.username == "rsv.demo"))
            ).count(b"\n")
            - 1,
        }


def test_demo_seeds_a_reviewed_commune_once(app):
    _publish(app, "phieu_b_2022", "phieu_a", "thu_nhap_mstb")
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
    assert first.submissions.income == state["forms"]["thu_nhap_mstb"]
    assert 0.8 * state["households"] <= state["forms"]["phieu_b_2022"] < state["households"]
    assert 5 <= state["forms"]["phieu_a"] <= 40
    assert set(state["jobs"]) == {"done"}
    categories = state["categories"]
    # The income surveys complete a Phiếu B: they have no result of their own.
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
    _check_income(app, state)

    # Running it again sends nothing and changes nothing.
    with app.app_context():
        again = seed_demo_review(COMMUNE[0], "rsv.demo")
    assert again.households_written == 0
    assert again.submissions == SeedResult(0, 0, 0, 0)
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
            fields = version.fields
            reviewed = date.fromisoformat(
                fields.get("general/review_date")
                or fields.get("rsv/review_date")
                or fields["confirm/review_date"]
            )
            assert date(2026, 9, 1) <= reviewed <= date(2026, 11, 30)
            sent_local = submission.created_at + timedelta(hours=7)
            assert sent_local.date() == reviewed and sent_local.time() >= time(16, 59)
            assert version.created_at == submission.created_at
            assert submission.village is not None
            assert submission.review_state == "received"
            assert version.attachments_present == version.attachments_expected  # signatures
        # The Phiếu A of a household arrives before its Phiếu B, the income survey after it.
        order = {(s.form.xml_form_id, v.fields["hh_code"]): s.id for s, v in rows}
        for (form, code), submission_id in order.items():
            if form == "phieu_a" and ("phieu_b_2022", code) in order:
                assert submission_id < order[("phieu_b_2022", code)]
            if form == "thu_nhap_mstb":
                assert submission_id > order[("phieu_b_2022", code)]


# The law's figures for 2022–2025, rural (regulations.md §2–§3): the income line, the band of
# the average living standard, the B1 cut-off, and 3 deprivations (score B 30) for "poor".
LINE, BAND_TOP, CUTOFF, POOR_FROM = 1_500_000, 2_250_000, 140, 3
_PRODUCTION = (
    "crops_annual",
    "crops_perennial",
    "livestock",
    "aquaculture",
    "forestry",
    "salt",
    "agri_services",
    "nonfarm_business",
)
_RECEIVED = ("wages", "pension", "remittances", "other_income")


def _measured(fields: dict) -> int:
    """Income per person per month from the survey's answers, source by source, as the form
    defines it (net of costs, social allowances left out, 12 months)."""
    sources = fields["income/sources"].split()
    assert sources and set(sources) <= {*_PRODUCTION, *_RECEIVED}
    total = 0
    for source in sources:
        if source in _PRODUCTION:
            revenue = int(fields[f"income/{source}/{source}_rev"])
            cost = int(fields[f"income/{source}/{source}_cost"])
            assert 0 <= revenue <= 999_999_999 and 0 <= cost <= 999_999_999
            assert fields[f"income/{source}/{source}_net"] == str(revenue - cost)
            # A loss is accepted only once the reviewer acknowledged it.
            assert (fields.get(f"income/{source}/{source}_loss_ok") == "OK") == (cost > revenue)
            total += revenue - cost
        else:
            amount = int(fields[f"income/{source}_amount"])
            assert 0 < amount <= 999_999_999
            total += amount
    for source in {*_PRODUCTION, *_RECEIVED} - set(sources):  # not asked
        assert not fields.get(f"income/{source}_amount")
        assert not fields.get(f"income/{source}/{source}_rev")
    assert fields["income/total_net_income_12m"] == str(total)
    allowance = int(fields.get("income/allowance/social_allowance_amount") or 0)
    assert fields["income/social_allowance_excluded"] == str(allowance)  # recorded, not counted
    members = int(fields["members"])
    per_person = int(Decimal(total) / members / 12 + Decimal("0.5"))  # XPath round(), half up
    assert fields["income/income_per_person_month"] == str(per_person)
    return per_person


def _check_income(app, state) -> None:
    """A handful of farming households answered the income survey after their Phiếu B; B1
    decides (2022–2025), measured income is shown and a disagreement across the line flagged."""
    with app.app_context():
        surveys = db.session.scalars(
            select(SubmissionVersion)
            .join(Submission, Submission.id == SubmissionVersion.submission_id)
            .join(Form, Form.id == Submission.form_id)
            .where(Form.xml_form_id == "thu_nhap_mstb", SubmissionVersion.current.is_(True))
        ).all()
        assert 5 <= len(surveys) <= 12
        seen = Counter()
        for survey in surveys:
            fields = survey.fields
            assert fields["main_occupation"] == "nong_nghiep"  # farming households only
            income = _measured(fields)
            score = db.session.scalar(
                select(HouseholdScore).where(
                    HouseholdScore.household_code == fields["hh_code"],
                    HouseholdScore.mapping == "phieu_b_2022",
                    HouseholdScore.current.is_(True),
                )
            )
            phieu_b = db.session.get(Submission, score.submission_id).current_version
            assert fields["members"] == phieu_b.fields["hh_size"]
            assert fields["village"] == phieu_b.fields["village"] == survey.submission.village.code
            # What the law says of this household, from score A, score B and the income.
            b1_under, income_under = score.score_a <= CUTOFF, income <= LINE
            poor = int(phieu_b.fields["b2_count"]) >= POOR_FROM  # counted on the phone
            expected = (
                ("ngheo" if poor else "can_ngheo")
                if b1_under
                else "muc_song_trung_binh"
                if LINE < income <= BAND_TOP
                else "khong_ngheo_khong_can_ngheo"
            )
            assert score.category == expected, fields["hh_code"]
            assert score.method == "b1"  # both present: B1 decides under 2022–2025
            assert score.methods_disagree == (b1_under != income_under)
            assert score.result["income_per_person_month"] == income
            assert score.result["income_source"] == "khao_sat"
            assert [e["kind"] for e in score.result["evidence"]] == ["income"]
            seen[(b1_under, income_under)] += 1
            if score.category == "muc_song_trung_binh":
                seen["average"] += 1
    # Agreeing on both sides of the line, average living standard, and flagged both ways.
    assert seen[(True, True)] >= 1 and seen[(False, False)] >= 3
    assert seen["average"] >= 2
    assert seen[(True, False)] >= 2 and seen[(False, True)] >= 1
    flagged = seen[(True, False)] + seen[(False, True)]
    assert state["methods"][("b1", True)] == flagged  # only the surveyed households
    assert sum(n for (method, _), n in state["methods"].items() if method == "income") == 0
    assert state["categories"]["muc_song_trung_binh"] == seen["average"]


_DIGEST = """
import hashlib, json, sys
from types import SimpleNamespace
from datetime import datetime
from server.demo_households import plan_households
from server.demo_income import income_fields
from server.demo_submissions import _Scorer, _answers_for, phieu_a_fields, plan_income_surveys
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
surveys = plan_income_surveys(plan_households("DEMO01"), scorer, reviewer)
assert len(surveys) >= 5
for survey in surveys:
    fields = income_fields(survey, reviewer, survey.household.review_date, "1.png")
    digest.update(json.dumps(fields, sort_keys=True).encode())
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
