"""The notice each household questionnaire opens with: who collects, for what purpose, what is
collected (Law 91/2025/QH15; ``../shared/domain/privacy.md``).

The words are data: rasoat's default in ``forms/privacy_notice.yaml``, replaced per province by
its administrator (:func:`set_notice`, audited).  The questionnaires read them from
``privacy_notice.csv``, a form attachment the server writes for the phone asking
(:func:`notice_csv`: the notice of the reviewer's province), so a province's change reaches the
phones as a new file (a new MD5 in the manifest) without a new form version.  The text filled
in is kept in each submission (the ``privacy_text`` calculate), so what a household was told
stays on record."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import yaml
from sqlalchemy import select

from server.accounts.models import Role, User
from server.audit.services import record
from server.errors import AppError
from server.extensions import db
from server.geography.models import Province
from server.privacy.models import PrivacyNotice

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "forms" / "privacy_notice.yaml"
# A notice is read aloud on a phone's screen: a paragraph, not a document.
TEXT_MAX = 1500
CSV_HEADER = ("name", "label", "label_en")
CSV_KEY = "notice"


@dataclass(frozen=True)
class Notice:
    text_vi: str
    text_en: str
    # False: rasoat's default wording (the province has not written its own yet).
    custom: bool
    updated_at: datetime | None = None
    updated_by: str | None = None


@cache
def default_notice() -> Notice:
    data = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))
    return Notice(text_vi=data["vi"].strip(), text_en=data["en"].strip(), custom=False)


def notice_for(province_id: int | None) -> Notice:
    """The notice a province's households are read (rasoat's default until it writes one)."""
    row = db.session.get(PrivacyNotice, province_id) if province_id is not None else None
    if row is None:
        return default_notice()
    by = db.session.get(User, row.updated_by_id) if row.updated_by_id else None
    return Notice(
        text_vi=row.text_vi,
        text_en=row.text_en,
        custom=True,
        updated_at=row.updated_at,
        updated_by=by.display_name if by else None,
    )


def province_of(user: User | None) -> int | None:
    if user is None:
        return None
    if user.province_id is not None:
        return user.province_id
    return user.commune.province_id if user.commune is not None else None


def notice_csv(user: User | None) -> bytes:
    """``privacy_notice.csv`` for ``user``'s phone: one row, ``notice``, in both languages."""
    notice = notice_for(province_of(user))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerow((CSV_KEY, notice.text_vi, notice.text_en))
    return buffer.getvalue().encode("utf-8")


def _editable_province(actor: User) -> Province:
    if actor.role != Role.ADMIN or actor.province_id is None:
        raise AppError(
            "privacy_notice.forbidden",
            403,
            "Chỉ quản trị viên tỉnh được sửa thông báo về dữ liệu cá nhân của tỉnh mình.",
            "Only a province administrator edits the province's personal-data notice.",
        )
    return db.session.get(Province, actor.province_id)


def _clean(text: str, language: str) -> str:
    text = "\n".join(line.rstrip() for line in (text or "").replace("\r\n", "\n").split("\n"))
    text = text.strip()
    name_vi = "tiếng Việt" if language == "vi" else "tiếng Anh"
    if not text:
        raise AppError(
            "privacy_notice.empty",
            400,
            f"Thông báo ({name_vi}) không được để trống.",
            f"The notice ({language}) cannot be empty.",
        )
    if len(text) > TEXT_MAX:
        raise AppError(
            "privacy_notice.too_long",
            400,
            f"Thông báo ({name_vi}) dài {len(text)} ký tự; tối đa {TEXT_MAX} ký tự "
            "(một đoạn đọc cho hộ nghe trên màn hình điện thoại).",
            f"The notice ({language}) has {len(text)} characters; at most {TEXT_MAX}.",
        )
    if any(unicodedata.category(c) == "Cc" and c != "\n" for c in text):
        raise AppError(
            "privacy_notice.control",
            400,
            f"Thông báo ({name_vi}) có ký tự điều khiển không in được; hãy gõ lại.",
            f"The notice ({language}) contains control characters.",
        )
    return text


def set_notice(actor: User, text_vi: str, text_en: str) -> bool:
    """Write the province's notice (flushed; the caller commits).  :return: whether it changed.

    :raises AppError: 403 for anyone but a province administrator; 400 for an empty, too long
        or unprintable text."""
    province = _editable_province(actor)
    text_vi, text_en = _clean(text_vi, "vi"), _clean(text_en, "en")
    before = notice_for(province.id)
    if (before.text_vi, before.text_en) == (text_vi, text_en):
        return False
    row = db.session.get(PrivacyNotice, province.id)
    if row is None:
        row = PrivacyNotice(province_id=province.id, text_vi=text_vi, text_en=text_en)
        db.session.add(row)
    row.text_vi, row.text_en, row.updated_by_id = text_vi, text_en, actor.id
    db.session.flush()
    record(
        "privacy_notice.update",
        "province",
        province.code,
        province_id=province.id,
        before={"vi": before.text_vi, "en": before.text_en, "custom": before.custom},
        after={"vi": text_vi, "en": text_en, "custom": True},
        actor_id=actor.id,
    )
    return True


def reset_notice(actor: User) -> bool:
    """Go back to rasoat's default wording.  :return: whether the province had its own."""
    province = _editable_province(actor)
    row = db.session.get(PrivacyNotice, province.id)
    if row is None:
        return False
    default = default_notice()
    record(
        "privacy_notice.reset",
        "province",
        province.code,
        province_id=province.id,
        before={"vi": row.text_vi, "en": row.text_en, "custom": True},
        after={"vi": default.text_vi, "en": default.text_en, "custom": False},
        actor_id=actor.id,
    )
    db.session.delete(row)
    db.session.flush()
    return True


def province_for_page(actor: User) -> Province | None:
    """The province whose notice ``actor`` reads on the page (None: a national administrator,
    who reads the default)."""
    if actor.province_id is None:
        return None
    return db.session.scalar(select(Province).where(Province.id == actor.province_id))
