"""The household list each reviewer's phone gets: own commune or own villages only, served as
households.csv / villages.csv, with a manifest hash that changes when the list changes."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from server.db import write_transaction
from server.extensions import db
from server.geography.models import Commune
from server.households.services import import_households
from tests.collect_client import CollectClient, FlaskTransport
from tests.xlsforms import household_form

ROWS = [
    {
        "code": "X1-T01-0001",
        "village": "T01",
        "head_name": "Nguyễn Văn A",
        "last_status": "ngheo",
        "source": "danh_sach",
    },
    {
        "code": "X1-T02-0001",
        "village": "T02",
        "head_name": "Y Hlơn",
        "last_status": "can_ngheo",
        "source": "danh_sach",
        "resurvey_reason": "",
    },
    {
        "code": "X1-T02-0002",
        "village": "T02",
        "head_name": "A Thút",
        "last_status": "moi",
        "source": "de_nghi",
    },
]


def _import(app, rows, commune="X1", year=2025):
    with app.app_context(), write_transaction(db.session):
        target = db.session.scalar(select(Commune).where(Commune.code == commune))
        return import_households(target, rows, year)


def _publish_household_form(app, publish):
    from server.blobs import blob_store
    from server.questionnaires.services import assign_form, publish_draft, upload_xlsform

    with app.app_context(), write_transaction(db.session):
        upload = upload_xlsform(
            household_form(), blobs=blob_store(), uploaded_by=None, validate=False
        )
        publish_draft(upload.version.form, actor=None)
        assign_form(
            upload.version.form,
            db.session.scalar(select(Commune).where(Commune.code == "X1")),
            actor=None,
        )


def _csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


def test_reviewer_gets_own_commune_and_village_reviewer_only_own_village(app, seeded):
    _import(app, ROWS)
    _publish_household_form(app, None)
    commune_phone = CollectClient(
        FlaskTransport(app), "http://rasoat.test", "rsv1", seeded.reviewer_password
    )
    entry = next(e for e in commune_phone.form_list() if e.form_id == "phieu_thu")
    media = {m.filename: m for m in commune_phone.manifest(entry)}
    rows = _csv_rows(commune_phone.download_media(media["households.csv"]))
    assert [r["name"] for r in rows] == ["X1-T01-0001", "X1-T02-0001", "X1-T02-0002"]
    assert rows[1] == {
        "name": "X1-T02-0001",
        "label": "X1-T02-0001 – Y Hlơn (Thôn Hai)",
        "village": "T02",
        "village_name": "Thôn Hai",
        "head_name": "Y Hlơn",
        "last_status": "can_ngheo",
        "source": "danh_sach",
        "resurvey_reason": "",
    }

    village_phone = CollectClient(
        FlaskTransport(app), "http://rasoat.test", seeded.village_reviewer, seeded.password
    )
    entry = next(e for e in village_phone.form_list() if e.form_id == "phieu_thu")
    media = {m.filename: m for m in village_phone.manifest(entry)}
    rows = _csv_rows(village_phone.download_media(media["households.csv"]))
    assert {r["village"] for r in rows} == {"T02"}
    assert (
        media["households.csv"].hash
        != next(m for m in commune_phone.manifest(entry) if m.filename == "households.csv").hash
    )


def test_manifest_hash_changes_when_the_list_changes(app, seeded):
    _import(app, ROWS[:1])
    _publish_household_form(app, None)
    phone = CollectClient(FlaskTransport(app), f"http://rasoat.test/key/{seeded.reviewer_token}")
    entry = next(e for e in phone.form_list() if e.form_id == "phieu_thu")
    before = {m.filename: m.hash for m in phone.manifest(entry)}
    assert {m.filename: m.hash for m in phone.manifest(entry)} == before  # stable
    _import(app, ROWS[1:2])
    after = {m.filename: m.hash for m in phone.manifest(entry)}
    assert after["households.csv"] != before["households.csv"]
    assert list(after) == ["households.csv"]


def test_import_checks_every_row_before_writing(app, seeded):
    import pytest

    from server.errors import AppError

    bad = [
        *ROWS,
        {"code": "X1-T09-0001", "village": "T09", "head_name": "Không có thôn"},
        {"code": "X1-T01-0009", "village": "T01", "head_name": "B", "last_status": "giau"},
    ]
    with pytest.raises(AppError) as error:
        _import(app, bad)
    assert error.value.details["errors"] == [
        "dòng 5: thiếu mã hộ, mã thôn đúng hoặc tên chủ hộ",
        "dòng 6: trạng thái hoặc nguồn không hợp lệ",
    ]
    result = _import(app, ROWS)
    assert (result.created, result.updated) == (3, 0)
    again = _import(app, ROWS, year=2026)
    assert (again.created, again.updated) == (0, 3)


def test_villages_csv_carries_each_villages_area_type(app, seeded):
    from server.accounts.models import User
    from server.households.services import villages_csv

    with app.app_context():
        reviewer = db.session.scalar(select(User).where(User.username == "rsv1"))
        rows = _csv_rows(villages_csv(reviewer))
        other = db.session.scalar(select(User).where(User.username == "rsv2"))
        urban = _csv_rows(villages_csv(other))
    assert [(r["name"], r["area_type"]) for r in rows] == [
        ("T01", "rural"),
        ("T02", "rural"),
        ("T03", "rural"),
    ]
    assert [r["area_type"] for r in urban] == ["urban"]  # commune X2 is urban
