"""Export jobs: a file too large to produce inside a request (a whole commune's lists) is made
by a background thread; the job row is what the user's page shows while it runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.accounts.models import User
from server.db import Base, utcnow
from server.geography.models import Commune

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATES = (QUEUED, RUNNING, DONE, FAILED)


class ExportJob(Base):
    """One requested export.  ``queued`` → ``running`` (a thread claimed it: ``run_token``,
    ``heartbeat_at`` refreshed with every progress commit) → ``done`` (the file is the blob
    ``blob_sha256``) or ``failed`` (``message`` says why).  A ``running`` job whose heartbeat
    is stale lost its thread (the process died) and is claimed again.  A ``done`` job's file is
    deleted by retention after its period (``purged_at`` set, ``blob_sha256`` emptied)."""

    __tablename__ = "export_jobs"
    __table_args__ = (Index("ix_export_jobs_state_heartbeat_at", "state", "heartbeat_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(20), default=QUEUED)
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int] = mapped_column(default=0)
    message: Mapped[str | None] = mapped_column(Text)
    # The finished file (a blob of server.blobs).
    blob_sha256: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str | None] = mapped_column(String(255))
    mimetype: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(BigInteger)
    # Who runs it: a fresh token per claim, so a thread that lost its claim stops writing.
    run_token: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    # When retention deleted the finished file (the row stays: its page says so).
    purged_at: Mapped[datetime | None] = mapped_column()

    commune: Mapped[Commune] = relationship()
    requested_by: Mapped[User | None] = relationship()

    @property
    def percent(self) -> int:
        if self.state == DONE:
            return 100
        if self.progress_total <= 0:
            return 0
        # 100 % only once the file is there (the last step, writing it, comes after the count).
        return min(99, self.progress_done * 100 // self.progress_total)

    @property
    def active(self) -> bool:
        return self.state in (QUEUED, RUNNING)
