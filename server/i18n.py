"""Languages of the staff web pages (Flask-Babel).

Vietnamese is the default and the language of every msgid, so the pages read exactly the same
without any compiled catalog; English comes from ``server/translations/en``.  The language is
chosen with ``?lang=en|vi`` on any page, which is remembered in the session and in a long-lived
cookie; otherwise the remembered choice; otherwise Vietnamese.  The browser's
``Accept-Language`` is deliberately ignored: commune computers are often set to English while
their users read Vietnamese.

OpenRosa responses and JSON API errors do not depend on this: they always carry Vietnamese and
English (``server.errors.AppError``).

Catalogs: ``scripts/i18n`` extracts the messages, updates ``messages.po`` and compiles the
``.mo`` (which is not committed; ``scripts/setup-env`` compiles it).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale

from server.extensions import babel

log = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "vi"
# Code → the language's own name (the switch shows the code; the name is its tooltip).
LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}
LANG_PARAM = "lang"
SESSION_KEY = "lang"
COOKIE_NAME = "rasoat_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def available_languages() -> dict[str, str]:
    """The languages this installation can show: Vietnamese, and those with a compiled
    catalog."""
    return current_app.extensions["rasoat.languages"]


def _requested() -> str | None:
    code = request.args.get(LANG_PARAM, "").strip().lower()
    return code if code in available_languages() else None


def select_language() -> str:
    """``?lang=``, else the session's choice, else the cookie's, else Vietnamese."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    for candidate in (_requested(), session.get(SESSION_KEY), request.cookies.get(COOKIE_NAME)):
        if candidate in available_languages():
            return candidate
    return DEFAULT_LANGUAGE


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def localized(vietnamese: str, english: str) -> str:
    """Pick one of a message's two texts (``AppError`` carries both) for the page's language."""
    return english if current_language() == "en" else vietnamese


def switch_url(code: str) -> str:
    """This page in language ``code``: same path and query, ``lang`` replaced.

    A page shown in answer to a POST whose address has no GET (an upload's problems) switches
    on the page the form was on (the same-site referrer), or else on the home page.
    """
    path, query = request.script_root + request.path, request.query_string.decode()
    rule = request.url_rule
    if request.method not in ("GET", "HEAD") and (rule is None or "GET" not in rule.methods):
        referrer = urlsplit(request.referrer or "")
        if referrer.netloc == request.host and referrer.path.startswith("/"):
            path, query = unquote(referrer.path), referrer.query
        else:
            path, query = request.script_root + "/", ""
    args = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != LANG_PARAM]
    args.append((LANG_PARAM, code))
    return f"{quote(path)}?{urlencode(args)}"


def _remember_choice(response):
    code = _requested()
    if code is not None:
        response.set_cookie(
            COOKIE_NAME,
            code,
            max_age=COOKIE_MAX_AGE,
            secure=current_app.config["SESSION_COOKIE_SECURE"] or request.is_secure,
            httponly=True,
            samesite="Lax",
        )
    return response


def _store_in_session() -> None:
    code = _requested()
    if code is not None and session.get(SESSION_KEY) != code:
        session[SESSION_KEY] = code


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    babel.init_app(app, locale_selector=select_language)
    app.before_request(_store_in_session)
    app.after_request(_remember_choice)

    app.add_template_filter(local_time)
    app.add_template_filter(vi_number)
    app.add_template_filter(official_date)
    app.add_template_filter(vi_percent)

    @app.context_processor
    def _language_helpers():
        return {
            "current_language": current_language,
            "languages": available_languages(),
            "language_switch_url": switch_url,
            "localized": localized,
        }

    directories = app.extensions["babel"].translation_directories
    available = {}
    for code, name in LANGUAGES.items():
        catalogs = [Path(d) / code / "LC_MESSAGES" / "messages.mo" for d in directories]
        if code == DEFAULT_LANGUAGE or any(c.exists() for c in catalogs):
            available[code] = name
        else:
            log.warning(
                "no compiled %r catalog in %s (run scripts/i18n compile): "
                "the pages stay in Vietnamese",
                code,
                ", ".join(directories),
            )
    app.extensions["rasoat.languages"] = available


# The server stores naive UTC (server.db.utcnow); people read Vietnam time (UTC+7, no DST).
VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")


def clock() -> datetime:
    """This moment (aware, UTC) — the one clock :func:`vietnam_today` reads (tests freeze it
    here).  Storage does not use it: it keeps naive UTC through ``server.db.utcnow``."""
    return datetime.now(UTC)


def vietnam_now() -> datetime:
    """This moment in Vietnam time (aware, UTC+7)."""
    return clock().astimezone(VIETNAM_TIME)


def vietnam_today() -> date:
    """What day it is for the people using the server: Vietnam's date, whatever the server's
    clock zone — from 17:00 UTC on it is already tomorrow in Vietnam (and, on 31 December,
    next year).  Every "today" a user sees or types against (a date pre-filled in a form, the
    days left, the current year, "not after today") is this one."""
    return vietnam_now().date()


def vietnam_date(value: datetime) -> date:
    """The day ``value`` (naive UTC as stored, or aware) falls on in Vietnam."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(VIETNAM_TIME).date()


def local_time(value: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """``value`` (naive UTC, or aware) as Vietnam time; '' for none (template filter)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(VIETNAM_TIME).strftime(fmt)


def official_date(value: date | datetime | None) -> str:
    """The date as a Vietnamese administrative document writes it (ND 30/2020): "ngày 07 tháng
    12 năm 2026" — a day below 10 and the months 1 and 2 with a leading zero.  A datetime (naive
    UTC, or aware) is taken in Vietnam time first; none gives the blanks to fill in by hand
    (template filter)."""
    if value is None:
        return "ngày …… tháng …… năm ……"
    if isinstance(value, datetime):
        value = vietnam_date(value)
    month = f"{value.month:02d}" if value.month < 3 else str(value.month)
    return f"ngày {value.day:02d} tháng {month} năm {value.year}"


def utc_start_of(day: date) -> datetime:
    """The naive-UTC moment (how times are stored) a day begins in Vietnam: 07/12/2026 begins
    at 2026-12-06 17:00 UTC — what a filter "from 07/12" must compare with."""
    return datetime.combine(day, time.min, tzinfo=VIETNAM_TIME).astimezone(UTC).replace(tzinfo=None)


def vi_percent(value: float, digits: int = 1) -> str:
    """A share as Vietnamese writes it on paper: 93,8 % (a comma is the decimal mark; a
    non-breaking space before the sign) (template filter)."""
    return f"{value:.{digits}f}".replace(".", ",") + "\u00a0%"


def vi_number(value: int) -> str:
    """An integer as Vietnamese writes it: 20.000.000 (a comma there is the decimal mark)."""
    return f"{value:,}".replace(",", ".")
