"""One row per change a person (or the system) made."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.accounts.models import User
from server.db import Base, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_target", "target_type", "target_id"),
        Index("ix_audit_events_commune_at", "commune_id", "at"),
        Index("ix_audit_events_province_at", "province_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # None: the system (a command, the scoring queue).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Dotted verb, e.g. "submission.review_state", "meeting.vote", "b1_table.assign".
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(100))
    # For scoping what an officer may see (None: province-wide or system objects).
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("communes.id"))
    # The province the event belongs to (the commune's, or the owner of a form, table or
    # account); None: national or system-wide, seen only by national administrators.
    province_id: Mapped[int | None] = mapped_column(ForeignKey("provinces.id"))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)

    actor: Mapped[User | None] = relationship()
