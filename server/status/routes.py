"""``/`` tells a person who opens the server URL in a browser what it is, lets staff log in and
explains how to connect ODK Collect; ``/favicon.ico``; ``/healthz`` lets a reverse proxy or
monitor check that the database answers."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request, send_from_directory
from marshmallow import Schema, fields
from sqlalchemy import text

from server.extensions import db

bp = Blueprint("status", __name__)


class HealthOut(Schema):
    status = fields.String()
    database = fields.String()


@bp.get("/")
def index():
    base = current_app.config["EXTERNAL_URL"].rstrip("/") or (
        request.host_url.rstrip("/") + request.script_root
    )
    return render_template("status/index.html", base=base)


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for it on every site; answering 404 fills logs and shows a blank tab."""
    reply = send_from_directory(
        current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=86400
    )
    return reply


@bp.get("/healthz")
def health():
    db.session.execute(text("SELECT 1"))
    return jsonify(HealthOut().dump({"status": "ok", "database": db.engine.dialect.name}))
