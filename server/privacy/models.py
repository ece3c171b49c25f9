"""A province's own wording of the notice read to each household before the questionnaire
(:mod:`server.privacy.notice`); a province without one uses rasoat's default."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, utcnow


class PrivacyNotice(Base):
    __tablename__ = "privacy_notices"

    province_id: Mapped[int] = mapped_column(ForeignKey("provinces.id"), primary_key=True)
    text_vi: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
