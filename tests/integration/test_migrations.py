"""The Alembic migrations build exactly the schema the models describe, on both databases,
and can be rolled back, moving the data they restructure."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from server import schema
from server.extensions import db
from tests.collect_client import CollectClient, FlaskTransport
from tests.instances import demo_instance


def test_migrated_database_matches_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, schema.metadata()) == []


def test_downgrade_to_base_and_upgrade_again(app):
    schema.downgrade(app, "base")
    with app.app_context():
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    schema.upgrade(app)
    with app.app_context():
        assert "submission_versions" in inspect(db.engine).get_table_names()


def test_0004_moves_commune_b1_tables_to_assignments_and_back(app):
    """``communes.b1_table`` becomes a (standard, area type) assignment and comes back on
    downgrade, with villages referencing the communes (SQLite cannot rebuild that table)."""
    schema.downgrade(app, "0003")
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("INSERT INTO provinces (id, code, name) VALUES (1, 'P', 'P')"))
        for commune_id, area, table in [
            (1, "rural", "demo_2022_2025_rural"),
            (2, "urban", None),
            (3, "rural", "khong_con_bang_nay"),
        ]:
            connection.execute(
                text(
                    "INSERT INTO communes (id, province_id, code, name, region, area_type, "
                    "b1_table) VALUES (:id, 1, :code, 'Xã', 'tay_nguyen', :area, :table)"
                ),
                {"id": commune_id, "code": f"X{commune_id}", "area": area, "table": table},
            )
        connection.execute(
            text("INSERT INTO villages (id, commune_id, code, name) VALUES (1, 1, 'T1', 'T')")
        )
    schema.upgrade(app, "0004")
    with app.app_context(), db.engine.begin() as connection:
        assert "b1_table" not in {c["name"] for c in inspect(connection).get_columns("communes")}
        rows = connection.execute(
            text("SELECT commune_id, standard, area_type, table_code FROM commune_b1_tables")
        ).all()
        assert [tuple(r) for r in rows] == [(1, "2022_2025", "rural", "demo_2022_2025_rural")]
        # Several tables per commune now; downgrade keeps the 2022–2025 one of its own area.
        connection.execute(
            text(
                "INSERT INTO commune_b1_tables (commune_id, standard, area_type, table_code) "
                "VALUES (1, '2027_2030', 'rural', 'b'), (1, '2022_2025', 'urban', 'c'), "
                "(2, '2027_2030', 'rural', 'd'), (2, '2022_2025', 'urban', 'e')"
            )
        )
    schema.downgrade(app, "0003")
    with app.app_context(), db.engine.connect() as connection:
        rows = connection.execute(text("SELECT id, b1_table FROM communes ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, "demo_2022_2025_rural"), (2, "e"), (3, None)]
        assert connection.execute(text("SELECT count(*) FROM villages")).scalar() == 1
        assert "commune_b1_tables" not in inspect(connection).get_table_names()
    schema.upgrade(app)


_SCORE_COLUMNS_0016 = (
    "submission_id", "submission_version_id", "household_code", "standard", "year", "mapping",
    "category", "score_b", "deprivations", "undetermined", "provisional", "inputs_sha256",
    "current", "created_at",
)  # fmt: skip


def test_0017_takes_the_deciding_method_and_disagreement_from_stored_results(app, seeded):
    """Stored results keep the method and the disagreement as JSON; 0017 copies them into
    columns, and a result stored before issue 12 (no such keys) gets NULL and false."""
    phone = CollectClient(FlaskTransport(app), f"http://rasoat.test/key/{seeded.reviewer_token}")
    assert [r.status for r in phone.submit(demo_instance(photo=None))] == [201]
    schema.downgrade(app, "0016")
    scores = sa.table(
        "household_scores",
        *(sa.column(name) for name in _SCORE_COLUMNS_0016),
        sa.column("result", sa.JSON),
    )
    results = {
        "X1-T01-0001": {"method": "b1", "methods_disagree": True, "score_a": 120},
        "X1-T01-0002": {"method": "income", "methods_disagree": False},
        "X1-T01-0003": {"method": None, "methods_disagree": False},
        "X1-T01-0004": {"category_vi": "Hộ nghèo", "score_a": 120},  # stored before issue 12
    }
    with app.app_context(), db.engine.begin() as connection:
        submission, version = connection.execute(
            text("SELECT submission_id, id FROM submission_versions")
        ).one()
        connection.execute(
            sa.insert(scores),
            [
                {
                    "submission_id": submission,
                    "submission_version_id": version,
                    "household_code": code,
                    "standard": "2022_2025",
                    "year": 2026,
                    "mapping": "phieu_b_2022",
                    "category": "ngheo",
                    "score_b": 30,
                    "deprivations": 3,
                    "undetermined": 0,
                    "provisional": True,
                    "inputs_sha256": "0" * 64,
                    "current": code.endswith("4"),
                    "created_at": datetime(2026, 11, 21),
                    "result": result,
                }
                for code, result in results.items()
            ],
        )
    schema.upgrade(app)
    with app.app_context(), db.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT household_code, method, methods_disagree FROM household_scores "
                "ORDER BY household_code"
            )
        ).all()
        indexes = {i["name"] for i in inspect(connection).get_indexes("household_scores")}
    assert [(code, method, bool(flag)) for code, method, flag in rows] == [
        ("X1-T01-0001", "b1", True),
        ("X1-T01-0002", "income", False),
        ("X1-T01-0003", None, False),
        ("X1-T01-0004", None, False),
    ]
    assert {
        "ix_household_scores_method_current",
        "ix_household_scores_disagree_current",
    } <= indexes
