"""Fixtures shared by the integration tests of the review procedure."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.accounts.models import Role
from server.accounts.services import create_user
from server.db import write_transaction
from server.extensions import db
from server.geography.models import Commune
from server.households.models import Household, HouseholdYearStatus, ListSource
from server.scoring.b1_store import assign_table
from tests.engines import webforms
from tests.forms import test_phieu_b as phieu_b
from tests.integration.procedure import HOUSEHOLDS, login, post_form, send


@pytest.fixture(scope="module")
def procedure_instances(tmp_path_factory):
    webforms.ensure_installed()
    return {
        key: phieu_b.fill(phieu_b.CASES[key], tmp_path_factory.mktemp(key))
        for key in ("a_three_deprivations", "c1_boundaries_not_deprived")
    }


@pytest.fixture
def village(app, seeded, publish_shipped, procedure_instances):
    publish_shipped("phieu_b_2022")
    with app.app_context(), write_transaction(db.session):
        x1 = db.session.scalar(select(Commune).where(Commune.code == "X1"))
        assign_table(x1, "2022_2025", "rural", "demo_2022_2025_rural")
        t01 = next(v for v in x1.villages if v.code == "T01")
        for code, (head, status) in HOUSEHOLDS.items():
            household = Household(
                commune=x1, village=t01, code=code, head_name=head, list_source=ListSource.ON_LIST
            )
            db.session.add(household)
            if status is not None:
                db.session.add(HouseholdYearStatus(household=household, year=2025, status=status))
        x2 = db.session.scalar(select(Commune).where(Commune.code == "X2"))
        create_user(
            username="canbo2",
            display_name="Cán bộ xã Hai",
            role=Role.OFFICER,
            password="matkhau-123",
            commune=x2,
        )
    for code in ("X1-T01-0101", "X1-T01-0102", "X1-T01-0103"):
        send(app, seeded, procedure_instances["a_three_deprivations"], code)  # 3 deprivations
    send(app, seeded, procedure_instances["c1_boundaries_not_deprived"], "X1-T01-0104")
    officer = login(app, "canbo1")
    reply = post_form(officer, "/xa/ra-soat", {"commune": "X1", "year": "2026", "kind": "dinh_ky"})
    assert reply.status_code == 302
    round_id = int(reply.headers["Location"].rsplit("/", 1)[-1])
    assert post_form(officer, f"/xa/ra-soat/{round_id}/lap-danh-sach", {}).status_code == 302
    return {"officer": officer, "round": round_id, "url": f"/xa/ra-soat/{round_id}/thon/T01"}
