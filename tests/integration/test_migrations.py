"""The Alembic migrations build exactly the schema the models describe, on both databases,
and can be rolled back, moving the data they restructure."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from server import schema
from server.extensions import db


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
