"""``/`` tells a person who opens the server URL in a browser what it is and how to connect
ODK Collect; ``/healthz`` lets a reverse proxy or monitor check that the database answers."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template_string, request
from marshmallow import Schema, fields
from sqlalchemy import text

from server.extensions import db

bp = Blueprint("status", __name__)

_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rasoat — máy chủ rà soát hộ nghèo, hộ cận nghèo</title>
<link rel="stylesheet" href="{{ url_for('static', filename='status.css') }}"></head>
<body>
<h1>rasoat</h1>
<p>Máy chủ thu thập phiếu rà soát hộ nghèo, hộ cận nghèo, tương thích ODK Collect.</p>
<h2>Kết nối ODK Collect</h2>
<ol>
<li>Cách nhanh nhất: trong ODK Collect chọn <em>Cấu hình bằng mã QR</em> và quét mã QR
do cán bộ xã cấp cho tài khoản rà soát viên của anh/chị.</li>
<li>Hoặc nhập thủ công: địa chỉ máy chủ <code>{{ base }}</code>, tên đăng nhập và mật khẩu
rà soát viên.</li>
</ol>
<p lang="en"><small>rasoat — an ODK-compatible server for the annual review of poor and
near-poor households. Configure ODK Collect with the QR code you were given, or with the
server URL <code>{{ base }}</code> and your username and password.</small></p>
</body></html>"""


class HealthOut(Schema):
    status = fields.String()
    database = fields.String()


@bp.get("/")
def index():
    base = current_app.config["EXTERNAL_URL"].rstrip("/") or (
        request.host_url.rstrip("/") + request.script_root
    )
    return render_template_string(_PAGE, base=base)


@bp.get("/healthz")
def health():
    db.session.execute(text("SELECT 1"))
    return jsonify(HealthOut().dump({"status": "ok", "database": db.engine.dialect.name}))
