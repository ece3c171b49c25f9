"""The map's data as JSON (explicit fields only): for the page's script, in a non-executable
``<script type="application/json">`` block, and at ``/xa/ban-do.json``."""

from __future__ import annotations

from flask import url_for
from marshmallow import Schema, fields

from server.maps.services import REASON_LABELS, VERDICT_LABELS


def _submission_url(household) -> str | None:
    if household.submission_id is None:
        return None
    return url_for("review.detail", submission_id=household.submission_id)


class HouseholdOut(Schema):
    code = fields.String(allow_none=True)
    head_name = fields.String()
    village = fields.String(attribute="village_code", allow_none=True)
    village_name = fields.String(allow_none=True)
    verdict = fields.String()
    verdict_label = fields.Function(lambda h: str(VERDICT_LABELS[h.verdict]))
    decided = fields.Boolean()
    registered = fields.Boolean()
    submission_url = fields.Function(_submission_url)


class PlacedOut(HouseholdOut):
    lat = fields.Function(lambda h: h.point.lat)
    lon = fields.Function(lambda h: h.point.lon)
    accuracy = fields.Function(lambda h: h.point.accuracy)


class UnplacedOut(HouseholdOut):
    reason = fields.String()
    reason_label = fields.Function(lambda h: str(REASON_LABELS[h.reason]))


class MapOut(Schema):
    year = fields.Integer()
    commune = fields.Function(
        lambda m: {"code": m.commune.code, "name": m.commune.name} if m.commune else None
    )
    village = fields.Function(
        lambda m: {"code": m.village.code, "name": m.village.name} if m.village else None
    )
    verdicts = fields.Function(
        lambda m: [
            {"key": key, "label": str(VERDICT_LABELS[key]), "count": count}
            for key, count in m.counts().items()
        ]
    )
    households = fields.List(fields.Nested(PlacedOut), attribute="placed")
    without_point = fields.List(fields.Nested(UnplacedOut), attribute="unplaced")
    without_point_count = fields.Function(lambda m: len(m.unplaced))
