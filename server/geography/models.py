"""Provinces, communes and villages."""

from __future__ import annotations

import enum

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, str_enum


class AreaType(enum.StrEnum):
    RURAL = "rural"  # khu vực nông thôn
    URBAN = "urban"  # khu vực thành thị / đô thị


class Province(Base):
    __tablename__ = "provinces"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))

    communes: Mapped[list[Commune]] = relationship(back_populates="province")


class Commune(Base):
    __tablename__ = "communes"

    id: Mapped[int] = mapped_column(primary_key=True)
    province_id: Mapped[int] = mapped_column(ForeignKey("provinces.id"), index=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Code of the income region whose B1 point column applies (e.g. "tay_nguyen").
    region: Mapped[str] = mapped_column(String(50))
    area_type: Mapped[AreaType] = mapped_column(str_enum(AreaType, 10))

    # The commune's rule for the village-meeting lists: only results commune staff approved
    # go to the meeting (the others are shown apart, "chưa duyệt"); off: every result goes.
    # Changed with :func:`server.meetings.settings.set_approved_only` (audited).
    meeting_lists_approved_only: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default="0"
    )

    # The B1 point table a commune uses is chosen per standard and area type
    # (``server.scoring.models.CommuneB1Table``).

    province: Mapped[Province] = relationship(back_populates="communes")
    villages: Mapped[list[Village]] = relationship(
        back_populates="commune", order_by="Village.code"
    )


class Village(Base):
    __tablename__ = "villages"
    __table_args__ = (UniqueConstraint("commune_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    # None: inherit the commune's.
    area_type: Mapped[AreaType | None] = mapped_column(str_enum(AreaType, 10))

    commune: Mapped[Commune] = relationship(back_populates="villages")

    @property
    def effective_area_type(self) -> AreaType:
        return self.area_type or self.commune.area_type
