"""Database foundations: the declarative base, SQLite tuning and the request transaction.

Services only ``flush()``; a route that changes data runs inside :func:`write_transaction`,
which commits once before the response is built (so an OpenRosa 201 is never sent for data
that is not yet durable) and rolls back on any exception.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# SQLite in WAL mode lets readers run beside one writer, but a transaction that starts reading
# and later writes fails at once (SQLITE_BUSY_SNAPSHOT, no busy wait) when another writer got
# in between.  Write requests therefore open their transaction with BEGIN IMMEDIATE, which waits
# (busy_timeout) for the write lock up front; reads keep a plain deferred BEGIN.
_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)


def configure_sqlite(engine: Engine) -> None:
    """Apply the pragmas rasoat relies on to every new SQLite connection."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin, so that
        # SAVEPOINTs work and BEGIN IMMEDIATE can be chosen per transaction.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


@contextlib.contextmanager
def write_transaction(session) -> Iterator[None]:
    """Run a block that writes: begin with write intent, commit at the end, roll back on error."""
    token = _write_intent.set(True)
    try:
        # A read earlier in the same request may have opened a deferred transaction already.
        session.rollback()
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        _write_intent.reset(token)


def str_enum(enum_class, length: int = 20):
    """A portable column type storing a StrEnum's *values* ("open"), not its member names."""
    from sqlalchemy import Enum

    return Enum(
        enum_class,
        native_enum=False,
        length=length,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )
