"""One fixed-window counter per (scope, address, window start)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base


class RateLimitCounter(Base):
    """Requests counted for one client address in one window of one scope (e.g. ``score``).

    Rows of past windows are useless once the window is over and are pruned as new windows
    begin (:func:`server.ratelimit.service.hit`).
    """

    __tablename__ = "rate_limit_counters"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    # An IPv6 address in text is at most 45 characters.
    address: Mapped[str] = mapped_column(String(45), primary_key=True)
    # Seconds since the epoch (UTC) at which the window began: a multiple of the window length.
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False)
