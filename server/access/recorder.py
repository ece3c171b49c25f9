"""The per-process buffer of access records and its flushing.

A page that shows a household's data must not pay a write transaction for recording the look,
nor fail because the recording did.  So :func:`record_access` only appends plain dicts to an
in-memory buffer (a lock and a list append); the rows are written later, in batches, with one
``INSERT … executemany`` in a short transaction of their own on a fresh connection — never
inside the page's transaction:

* ``background`` (the default): a daemon thread of the process writes the buffer every
  ``ACCESS_RECORDS_SECONDS`` or as soon as ``ACCESS_RECORDS_BATCH`` rows are waiting, and
  once more when the process exits (``atexit``: gunicorn's graceful worker exit runs it).
* ``request`` (the default when ``TESTING``): the buffer is written at the end of each request
  (teardown, after the response is built), so a test reads its records right after the call.
* ``off``: nothing is recorded (the benchmark's baseline).

Each process (every gunicorn worker of every app server) owns its buffer and writes it itself;
nothing is shared in memory, and the database is the only meeting point.  The thread is
started lazily by the first record in a process, and again in a forked child (its parent's
thread does not survive a fork).  A failed write is logged (``rasoat.access``) and its rows
are kept for the next attempt while the buffer stays under ``ACCESS_RECORDS_MAX_BUFFER``
rows; beyond that the oldest are dropped, with their number logged, rather than let a broken
database fill the worker's memory.  What a killed process (SIGKILL, power loss) had not yet
written is lost: at most a few seconds of looks.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import cast, func, insert, literal, select
from sqlalchemy.engine import Engine

from server.access.models import AccessRecord
from server.db import _write_intent
from server.geography.models import Commune

log = logging.getLogger("rasoat.access")

MODES = ("background", "request", "off")


class AccessRecorder:
    """The buffer of one application in one process."""

    def __init__(self, app: Flask) -> None:
        config = app.config
        mode = (config.get("ACCESS_RECORDS") or "").strip().lower()
        if not mode:
            mode = "request" if app.testing else "background"
        if mode not in MODES:
            raise RuntimeError(f"RASOAT_ACCESS_RECORDS must be one of {', '.join(MODES)}")
        self.mode = mode
        self.batch = int(config["ACCESS_RECORDS_BATCH"])
        self.seconds = float(config["ACCESS_RECORDS_SECONDS"])
        self.max_buffer = int(config["ACCESS_RECORDS_MAX_BUFFER"])
        self._app = weakref.ref(app)
        self._engine: Engine | None = None
        self._rows: list[dict] = []
        self._lock = threading.Lock()  # guards _rows
        self._flushing = threading.Lock()  # one write at a time per process
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._provinces: dict[int, int | None] = {}  # commune id → province id (never change)

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    def pending(self) -> int:
        with self._lock:
            return len(self._rows)

    def add(self, rows: list[dict]) -> None:
        """Queue ``rows`` (no database work here)."""
        if not rows or not self.enabled:
            return
        with self._lock:
            self._rows.extend(rows)
            waiting = len(self._rows)
        if self.mode == "background":
            self._ensure_thread()
            if waiting >= self.batch:
                self._wake.set()

    def flush(self) -> int:
        """Write every queued row now, in one short transaction of its own; returns how many
        were written (0 on failure, which is logged, never raised)."""
        with self._flushing:
            with self._lock:
                rows, self._rows = self._rows, []
            if not rows:
                return 0
            try:
                self._write(rows)
            except Exception:
                log.exception("could not write %d access records; kept for the next try", len(rows))
                self._keep(rows)
                return 0
            return len(rows)

    def _keep(self, rows: list[dict]) -> None:
        with self._lock:
            self._rows[:0] = rows
            excess = len(self._rows) - self.max_buffer
            if excess > 0:
                del self._rows[:excess]
        if excess > 0:
            log.error("access record buffer full: %d oldest records dropped", excess)

    def _write(self, rows: list[dict]) -> None:
        engine = self._get_engine()
        token = _write_intent.set(True)  # SQLite: BEGIN IMMEDIATE (wait for the write lock)
        try:
            with engine.begin() as connection:
                unknown = {r["commune_id"] for r in rows if r["commune_id"] is not None}
                unknown -= self._provinces.keys()
                if unknown:
                    self._provinces.update(
                        connection.execute(
                            select(Commune.id, Commune.province_id).where(Commune.id.in_(unknown))
                        ).all()
                    )
                for row in rows:
                    if row["province_id"] is None and row["commune_id"] is not None:
                        row["province_id"] = self._provinces.get(row["commune_id"])
                plain = [r for r in rows if r.get("cases") is None]
                for row in rows:
                    if row.get("cases") is not None:
                        plain.extend(_expand(connection, row))
                for row in plain:
                    row.pop("cases", None)
                if plain:
                    connection.execute(insert(AccessRecord), plain)
        finally:
            _write_intent.reset(token)

    def _get_engine(self) -> Engine:
        if self._engine is None:
            from server.extensions import db

            app = self._app()
            if app is None:
                raise RuntimeError("the application is gone")
            with app.app_context():
                self._engine = db.engine
        return self._engine

    def _ensure_thread(self) -> None:
        pid = os.getpid()
        if self._thread is not None and self._pid == pid and self._thread.is_alive():
            return
        with self._flushing:
            if self._thread is not None and self._pid == pid and self._thread.is_alive():
                return
            if self._pid is not None and self._pid != pid:
                # A forked child: the parent's lock state and thread are not ours.
                self._wake = threading.Event()
            self._pid = pid
            self._thread = threading.Thread(
                target=self._run, name="rasoat-access-records", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.seconds)
            self._wake.clear()
            self.flush()


@dataclass(frozen=True, slots=True)
class RoundCases:
    """The households of a review round (of one village, or of one meeting's village): what a
    file made from the round carries.  Queued as is and expanded into one record per household
    when the buffer is written (``INSERT … SELECT``), so that a 5,000-household download costs
    the request one queued row, not 5,000."""

    round_id: int
    village_code: str | None = None
    meeting_id: int | None = None


def _cases_query(cases: RoundCases):
    from server.geography.models import Village
    from server.meetings.models import HouseholdCase, VillageMeeting

    query = select(
        HouseholdCase.household_id, HouseholdCase.household_code, HouseholdCase.submission_id
    ).where(HouseholdCase.round_id == cases.round_id)
    if cases.village_code is not None:
        query = query.join(Village, Village.id == HouseholdCase.village_id).where(
            Village.code == cases.village_code
        )
    if cases.meeting_id is not None:
        query = query.where(
            HouseholdCase.village_id
            == select(VillageMeeting.village_id)
            .where(VillageMeeting.id == cases.meeting_id)
            .scalar_subquery()
        )
    return query


def _expand(connection, row: dict) -> list[dict]:
    """Write the records of a queued :class:`RoundCases` row with one ``INSERT … SELECT``;
    returns the row itself (with ``count`` 0) when the round has no household, so that the
    look is recorded all the same."""
    cases = _cases_query(row["cases"]).subquery()
    count = connection.execute(select(func.count()).select_from(cases)).scalar_one()
    if count == 0:
        return [row | {"count": 0}]
    fixed = {
        name: value
        for name, value in row.items()
        if name not in ("cases", "household_id", "household_code", "submission_id", "count")
    }
    table = AccessRecord.__table__
    # PostgreSQL cannot tell a bare parameter's type in a SELECT list (a NULL province): cast
    # it.  Not on SQLite, where CAST(… AS DATETIME) would turn the text into a number.
    typed = _cast if connection.dialect.name == "postgresql" else literal
    columns = [
        *(typed(value, table.c[name].type).label(name) for name, value in fixed.items()),
        typed(count, table.c["count"].type).label("count"),
        cases.c.household_id,
        cases.c.household_code,
        cases.c.submission_id,
    ]
    names = [*fixed, "count", "household_id", "household_code", "submission_id"]
    connection.execute(insert(AccessRecord).from_select(names, select(*columns)))
    return []


def _cast(value, type_):
    return cast(literal(value, type_), type_)


def init_app(app: Flask) -> AccessRecorder:
    recorder = AccessRecorder(app)
    app.extensions["rasoat.access"] = recorder
    if recorder.mode == "request":

        @app.teardown_request
        def _flush_access_records(_error=None) -> None:
            recorder.flush()

    if recorder.mode == "background":
        atexit.register(_flush_at_exit, weakref.ref(recorder))
    return recorder


def _flush_at_exit(ref) -> None:
    recorder = ref()
    if recorder is not None:
        recorder.flush()
