"""Database schema migrations with Alembic (scripts in ``server/migrations``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import Flask

from server.extensions import db

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(app: Flask) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["flask_app"] = app
    return config


def upgrade(app: Flask, revision: str = "head") -> None:
    """Bring the database up to ``revision`` (all migrations by default)."""
    with app.app_context():
        command.upgrade(alembic_config(app), revision)


def downgrade(app: Flask, revision: str) -> None:
    with app.app_context():
        command.downgrade(alembic_config(app), revision)


def revision(app: Flask, message: str) -> None:
    """Write a new migration script from the difference between models and database."""
    import server.models  # noqa: F401  (every model registered on the metadata)

    with app.app_context():
        command.revision(alembic_config(app), message=message, autogenerate=True)


def metadata():
    import server.models  # noqa: F401

    return db.metadata
