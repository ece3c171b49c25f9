"""rasoat — an ODK-compatible server for the annual review of poor and near-poor households."""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext

from server import i18n, security_headers, web_forms
from server.access import recorder as access_recorder
from server.blobs import BlobStore
from server.config import Defaults, flag, load_secret_key
from server.db import configure_sqlite
from server.errors import register_error_writers
from server.extensions import csrf, db, login_manager
from server.maps.tiles import check_tile_settings
from server.proxies import TrustedProxies, parse_networks


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
    _configure_cookies(app)
    check_tile_settings(app.config)  # a map background that cannot work: say so now
    _configure_logging()
    # Non-file multipart fields (a client may send the submission XML as one) may be this big.
    app.config["MAX_FORM_MEMORY_SIZE"] = app.config["MAX_SUBMISSION_XML_BYTES"]

    security_headers.init_app(app)  # before the proxy middleware: it must see the final scheme
    _configure_proxies(app)

    db.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("Hãy đăng nhập để tiếp tục.")
    login_manager.localize_callback = str  # the message in the request's language
    i18n.init_app(app)
    web_forms.init_app(app)
    csrf.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
    app.extensions["rasoat.blobs"] = BlobStore(
        Path(app.config["BLOB_DIR"]) if app.config["BLOB_DIR"] else instance / "blobs"
    )

    app.json.ensure_ascii = False  # Vietnamese stays readable in JSON
    register_error_writers(app)
    access_recorder.init_app(app)
    _register_blueprints(app)
    _register_commands(app)
    return app


def _configure_logging() -> None:
    """Make the ``rasoat.*`` loggers (logins, failures, lockouts: ``rasoat.auth``) visible at
    INFO on stderr (gunicorn's log) unless the process configured logging itself."""
    logger = logging.getLogger("rasoat")
    if logger.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def _configure_proxies(app: Flask) -> None:
    """``X-Forwarded-*`` from the ``TRUSTED_PROXIES`` only (:mod:`server.proxies`)."""
    if str(app.config.get("TRUST_PROXY_HEADERS") or "0").strip() not in ("", "0"):
        # The old setting trusted these headers from any peer; refuse to start rather than
        # silently stop (or go on) believing them.
        raise RuntimeError(
            "RASOAT_TRUST_PROXY_HEADERS is no longer supported: set RASOAT_TRUSTED_PROXIES to "
            "the addresses of the reverse proxies (e.g. 127.0.0.1)."
        )
    networks = parse_networks(app.config["TRUSTED_PROXIES"])
    app.config["TRUSTED_PROXIES"] = networks
    app.wsgi_app = TrustedProxies(app.wsgi_app, networks)


def _configure_cookies(app: Flask) -> None:
    """Staff session cookie: not readable by scripts, not sent cross-site, expiring after
    ``SESSION_LIFETIME_HOURS`` without use.  Marked https-only on every response when
    ``SECURE_COOKIES`` or an https ``EXTERNAL_URL`` says so, and in any case on every response to
    an https request (``server.security_headers``)."""
    secure = flag(app.config["SECURE_COOKIES"])
    if secure is None:
        secure = app.config["EXTERNAL_URL"].startswith("https://")
    app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = secure
    lifetime = timedelta(hours=float(app.config["SESSION_LIFETIME_HOURS"]))
    app.config["PERMANENT_SESSION_LIFETIME"] = lifetime
    app.config["REMEMBER_COOKIE_DURATION"] = lifetime


def _register_blueprints(app: Flask) -> None:
    from server.access.pages import bp as access_bp
    from server.accounts.admin_pages import bp as user_admin_bp
    from server.accounts.web import bp as auth_bp
    from server.approvals.pages import bp as approvals_bp
    from server.audit.pages import bp as audit_bp
    from server.decisions.pages import bp as decisions_bp
    from server.exports.pages import bp as exports_bp
    from server.households.pages import bp as household_import_bp
    from server.maps.pages import bp as maps_bp
    from server.meetings.pages import bp as meetings_bp
    from server.openrosa.routes import bp as openrosa_bp
    from server.privacy.pages import bp as privacy_admin_bp
    from server.privacy.pages import household_bp as household_data_bp
    from server.publication.pages import bp as publication_bp
    from server.questionnaires.pages import bp as forms_admin_bp
    from server.questionnaires.routes import bp as forms_bp
    from server.reports.pages import bp as reports_bp
    from server.retention.pages import bp as retention_bp
    from server.review.pages import bp as review_bp
    from server.scoring.b1_api import bp as b1_tables_api_bp
    from server.scoring.b1_pages import bp as b1_admin_bp
    from server.scoring.routes import bp as scoring_bp
    from server.scoring.routes import staff_bp as scoring_staff_bp
    from server.status.routes import bp as status_bp
    from server.submissions.routes import bp as submissions_bp
    from server.workspace.pages import bp as workspace_bp

    app.register_blueprint(openrosa_bp)
    app.register_blueprint(openrosa_bp, url_prefix="/key/<token>", name="openrosa_key")
    app.register_blueprint(openrosa_bp, url_prefix="/test/<test_token>", name="openrosa_test")
    for blueprint in (
        submissions_bp,
        forms_bp,
        status_bp,
        auth_bp,
        user_admin_bp,
        approvals_bp,
        forms_admin_bp,
        scoring_bp,
        scoring_staff_bp,
        b1_tables_api_bp,
        b1_admin_bp,
        review_bp,
        workspace_bp,
        household_import_bp,
        meetings_bp,
        publication_bp,
        decisions_bp,
        audit_bp,
        reports_bp,
        exports_bp,
        maps_bp,
        privacy_admin_bp,
        household_data_bp,
        retention_bp,
        access_bp,
    ):
        app.register_blueprint(blueprint)
    # Phones and API clients authenticate every request (no cookies), so CSRF cannot apply.
    for blueprint in (
        openrosa_bp,
        submissions_bp,
        forms_bp,
        scoring_bp,
        scoring_staff_bp,
        b1_tables_api_bp,
    ):
        csrf.exempt(blueprint)


def _register_commands(app: Flask) -> None:
    from server.commands import register

    register(app)
