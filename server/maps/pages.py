"""The household map page ``/xa/ban-do`` and its data ``/xa/ban-do.json``, for commune officers,
province administrators and (read-only, their villages) village heads — the review list's
scope, decided in :func:`server.maps.services.household_map`."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, make_response, render_template, request
from flask_login import current_user

from server.access.services import Seen, record_access, submission_households
from server.accounts.models import VIEWER_ROLES
from server.accounts.web import staff_page
from server.maps.schemas import MapOut
from server.maps.services import REASON_LABELS, VERDICT_LABELS, HouseholdMap, household_map
from server.maps.tiles import tile_settings
from server.security_headers import content_security_policy

bp = Blueprint("maps", __name__)
# What the page's script needs: the list without points is on the page itself, and the verdicts'
# labels are given once (a commune's thousands of households on a weak connection).
PAGE_DATA = MapOut(exclude=("without_point", "households.verdict_label", "households.village"))


def _recorded(found: HouseholdMap, ref: str) -> HouseholdMap:
    """Record the look at every household the map shows (with or without a point)."""
    shown = [*found.placed, *found.unplaced]
    with_questionnaire = [h.submission_id for h in shown if h.submission_id is not None]
    record_access(
        "list",
        submission_households(with_questionnaire)
        + [
            Seen(None, h.code, found.commune.id if found.commune else None)
            for h in shown
            if h.submission_id is None
        ],
        ref=ref,
    )
    return found


def _map() -> HouseholdMap:
    args = request.args
    try:
        year = int(args.get("year", ""))
    except ValueError:
        year = None
    return household_map(
        current_user,
        commune_code=args.get("commune", "").strip() or None,
        village_code=args.get("village", "").strip() or None,
        year=year if year is not None and 2000 <= year <= 2100 else None,
    )


@bp.get("/xa/ban-do")
@staff_page(*VIEWER_ROLES)
def index():
    found = _recorded(_map(), "map")
    tiles = tile_settings(current_app.config)
    response = make_response(
        render_template(
            "maps/households.html",
            found=found,
            data=PAGE_DATA.dump(found),
            counts=found.counts(),
            verdicts=VERDICT_LABELS,
            reasons=REASON_LABELS,
            tiles=tiles,
        )
    )
    if tiles is not None:
        # This page alone may show images from the tile server.  And data: images: Leaflet
        # cancels a tile it no longer needs (panned away, zoomed, the layer removed) by setting
        # its src to an inline empty GIF, which the policy would otherwise block and report.
        response.headers["Content-Security-Policy"] = content_security_policy(
            ("data:", tiles.image_source)
        )
    return response


@bp.get("/xa/ban-do.json")
@staff_page(*VIEWER_ROLES)
def data():
    return jsonify(MapOut().dump(_recorded(_map(), "map:json")))
