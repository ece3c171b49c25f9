"""Alembic environment: runs migrations on the Flask app's database connection."""

from alembic import context
from flask import current_app

from server.schema import metadata

config = context.config


def run_migrations() -> None:
    engine = current_app.extensions["sqlalchemy"].engine
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata(),
            # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("rasoat runs migrations online only (flask --app wsgi db upgrade).")
run_migrations()
