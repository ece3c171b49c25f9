"""Fixed-window rate limiting: ``hit()`` counts one request and says whether it is allowed.

Every request of a scope from one address increments one row with a single atomic
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (SQLite ≥ 3.35 and PostgreSQL alike), in its own
short write transaction: concurrent workers never lose a count and no lock is held while the
request itself runs.  A fixed window lets a client send up to twice the limit across a window
boundary; that is enough to keep one address from holding the workers.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from server.db import write_transaction
from server.extensions import db
from server.ratelimit.models import RateLimitCounter

# The clock, replaceable in tests.
clock = time.time


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    count: int
    limit: int
    retry_after: int  # seconds until the window ends (at least 1)


def _insert():
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(RateLimitCounter)


def hit(scope: str, address: str, *, limit: int, window_seconds: int) -> Verdict:
    """Count one request of ``scope`` from ``address`` and judge it against ``limit`` requests
    per ``window_seconds``; commits its own transaction (call it before the request's own work).
    """
    window = max(1, int(window_seconds))
    now = clock()
    start = int(now // window) * window
    address = (address or "unknown")[:45]
    statement = _insert().values(scope=scope, address=address, window_start=start, count=1)
    statement = statement.on_conflict_do_update(
        index_elements=["scope", "address", "window_start"],
        set_={"count": RateLimitCounter.count + 1},
    ).returning(RateLimitCounter.count)
    with write_transaction(db.session):
        count = db.session.execute(statement).scalar_one()
        if count == 1:
            # The first request of a new window for this address: drop every finished window
            # of the scope (an indexed range delete; the table keeps about one row per active
            # address).
            db.session.execute(
                delete(RateLimitCounter).where(
                    RateLimitCounter.scope == scope, RateLimitCounter.window_start < start
                )
            )
    retry_after = max(1, math.ceil(start + window - now))
    return Verdict(allowed=count <= limit, count=count, limit=limit, retry_after=retry_after)
