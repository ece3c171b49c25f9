"""Households and their recorded status per review year."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from server.db import Base, str_enum, utcnow
from server.geography.models import Commune, Village
from server.households.names import fold_name


class HouseholdStatus(enum.StrEnum):
    POOR = "ngheo"
    NEAR_POOR = "can_ngheo"
    ESCAPED_POVERTY = "thoat_ngheo"
    ESCAPED_NEAR_POVERTY = "thoat_can_ngheo"
    NONE = "khong"  # neither poor nor near-poor
    NEW = "moi"  # not reviewed before


class ListSource(enum.StrEnum):
    """Why a household is on the year's review list (QĐ 24/2021 Điều 4, step 1)."""

    ON_LIST = "danh_sach"  # on the poor / near-poor list the commune manages
    APPLICANT = "de_nghi"  # submitted a request (Mẫu số 01)
    OTHER = "khac"  # other resident households the province asks to review


def _folded_default(context) -> str:
    return fold_name(context.get_current_parameters().get("head_name") or "")


class Household(Base):
    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("commune_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"))
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), index=True)
    # The commune's household code; stays the same from year to year.
    code: Mapped[str] = mapped_column(String(50))
    head_name: Mapped[str] = mapped_column(String(200))
    # The head's name without case or accents (server.households.names), for searching "Nguyen
    # Van A" as "Nguyễn Văn A" in SQL; set whenever ``head_name`` is (ORM writes, and bulk
    # inserts through the column default).
    head_name_folded: Mapped[str] = mapped_column(
        String(200), default=_folded_default, server_default=""
    )
    # Whether the household is on the current review list sent to phones.
    on_review_list: Mapped[bool] = mapped_column(Boolean, default=True)
    list_source: Mapped[ListSource] = mapped_column(str_enum(ListSource, 20))
    # Commune staff sent the household back for re-survey (shown to reviewers on their list);
    # cleared when a new questionnaire for the household is scored.
    resurvey_reason: Mapped[str | None] = mapped_column(Text)
    resurvey_requested_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    commune: Mapped[Commune] = relationship()
    village: Mapped[Village] = relationship()
    statuses: Mapped[list[HouseholdYearStatus]] = relationship(
        back_populates="household", order_by="HouseholdYearStatus.year"
    )

    @validates("head_name")
    def _fold_head_name(self, _key: str, value: str) -> str:
        self.head_name_folded = fold_name(value or "")
        return value


class HouseholdYearStatus(Base):
    """The status a household was recognised with at the end of a year's review."""

    __tablename__ = "household_year_statuses"
    __table_args__ = (UniqueConstraint("household_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column()
    status: Mapped[HouseholdStatus] = mapped_column(str_enum(HouseholdStatus, 20))

    household: Mapped[Household] = relationship(back_populates="statuses")


class HouseholdImport(Base):
    """An uploaded household list waiting for its uploader to confirm it (the preview).

    The server parsed and checked the file; ``rows`` holds what it read (never anything the
    browser sends back), ``errors`` what is wrong with it.  Only the account that uploaded it,
    while it may still change the commune's registry, sees or confirms it, through a random
    ``token``; it expires after ``HOUSEHOLD_IMPORT_TTL_MINUTES`` and is deleted then.
    ``committed_at`` is set by the confirmation, in the same transaction as the households, so a
    second confirmation changes nothing."""

    __tablename__ = "household_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column()
    filename: Mapped[str] = mapped_column(String(200))
    file_sha256: Mapped[str] = mapped_column(String(64))
    file_kind: Mapped[str] = mapped_column(String(10))  # "xlsx" / "csv"
    sheet: Mapped[str | None] = mapped_column(String(100))
    # [[row number, code, village code, head name, status, source], …] (valid rows only).
    rows: Mapped[list] = mapped_column(JSON)
    # [[row number, column (Vietnamese header), message vi, message en], …]
    errors: Mapped[list] = mapped_column(JSON)
    ignored_columns: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    committed_at: Mapped[datetime | None] = mapped_column()
    # {"created": n, "updated": n, "unchanged": n} once committed.
    result: Mapped[dict | None] = mapped_column(JSON)

    commune: Mapped[Commune] = relationship()
