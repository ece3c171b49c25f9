"""The Alembic migrations build exactly the schema the models describe, on both databases,
and can be rolled back."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

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
