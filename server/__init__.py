"""rasoat — an ODK-compatible server for the annual review of poor and near-poor households."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from server.blobs import BlobStore
from server.config import Defaults, load_secret_key
from server.db import configure_sqlite
from server.errors import register_error_writers
from server.extensions import csrf, db, login_manager


def create_app(config_overrides: dict[str, Any] | None = None) -> Flask:
    """Create and configure the application.

    Configuration comes from :class:`server.config.Defaults`, then ``RASOAT_*`` environment
    variables, then ``config_overrides`` (tests).
    """
    instance_path = (config_overrides or {}).get("INSTANCE_PATH") or os.environ.get(
        "RASOAT_INSTANCE_PATH"
    )
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.from_object(Defaults)
    app.config.from_prefixed_env("RASOAT")
    if config_overrides:
        app.config.update(config_overrides)

    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_secret_key(instance)
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"] or (
        f"sqlite:///{instance / 'rasoat.sqlite3'}"
    )
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("pool_pre_ping", True)
    # Staff session cookie: not readable by scripts, not sent cross-site, https-only when the
    # server is reached over https.
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault(
        "SESSION_COOKIE_SECURE", app.config["EXTERNAL_URL"].startswith("https://")
    )
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", 8 * 3600)
    # Non-file multipart fields (a client may send the submission XML as one) may be this big.
    app.config["MAX_FORM_MEMORY_SIZE"] = app.config["MAX_SUBMISSION_XML_BYTES"]

    if int(app.config["TRUST_PROXY_HEADERS"]):
        hops = int(app.config["TRUST_PROXY_HEADERS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops)

    db.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Hãy đăng nhập để tiếp tục."
    csrf.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
    app.extensions["rasoat.blobs"] = BlobStore(
        Path(app.config["BLOB_DIR"]) if app.config["BLOB_DIR"] else instance / "blobs"
    )

    app.json.ensure_ascii = False  # Vietnamese stays readable in JSON
    register_error_writers(app)
    _register_blueprints(app)
    _register_commands(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from server.accounts.web import bp as auth_bp
    from server.openrosa.routes import bp as openrosa_bp
    from server.questionnaires.pages import bp as forms_admin_bp
    from server.questionnaires.routes import bp as forms_bp
    from server.scoring.routes import bp as scoring_bp
    from server.scoring.routes import staff_bp as scoring_staff_bp
    from server.status.routes import bp as status_bp
    from server.submissions.routes import bp as submissions_bp

    app.register_blueprint(openrosa_bp)
    app.register_blueprint(openrosa_bp, url_prefix="/key/<token>", name="openrosa_key")
    app.register_blueprint(openrosa_bp, url_prefix="/test/<test_token>", name="openrosa_test")
    app.register_blueprint(submissions_bp)
    app.register_blueprint(forms_bp)
    app.register_blueprint(status_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(forms_admin_bp)
    app.register_blueprint(scoring_bp)
    app.register_blueprint(scoring_staff_bp)
    # Phones and API clients authenticate every request (no cookies), so CSRF cannot apply.
    for blueprint in (openrosa_bp, submissions_bp, forms_bp, scoring_bp, scoring_staff_bp):
        csrf.exempt(blueprint)


def _register_commands(app: Flask) -> None:
    from server.commands import register

    register(app)
