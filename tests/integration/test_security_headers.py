"""Security headers on every GET route of the application (taken from its URL map, so a route
added later is covered, or this test fails on its unknown parameter), for a commune officer and a
province administrator, over http and over https: a strict Content-Security-Policy (a view's own
policy, the attachments' ``sandbox``, is kept), X-Frame-Options, nosniff, Referrer-Policy, HSTS
over https only, and ``Secure`` on every cookie set over https — whatever the settings say."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from flask import url_for
from sqlalchemy import select

import server
from server.extensions import db
from server.filetypes import INERT_POLICY
from server.questionnaires.models import Form, FormAttachment, FormVersion
from server.scoring.b1_store import catalog
from server.security_headers import CONTENT_SECURITY_POLICY
from tests.integration.procedure import csrf
from tests.integration.test_every_route_scope import ADMIN_VALUES, _walk_the_procedure

# Headers do not depend on the database: SQLite only.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

HTTP, HTTPS = "http://rasoat.test", "https://rasoat.test"

# Parameters whose meaning depends on the blueprint (the B1 table values are filled in).
ENDPOINT_VALUES = {
    "b1_tables_api": {"code": "demo_2022_2025_rural"},
    "b1_admin": {"code": "demo_2022_2025_rural"},
    "forms_api": {"form_id": "phieu_b_2022"},
    "forms_admin": {"form_id": "phieu_b_2022"},
}


def _get_routes(app, ids, seeded) -> list[str]:
    """The URL of every GET route, its parameters filled with real ids of the walk."""
    with app.app_context():
        form, media = db.session.execute(
            select(FormVersion.version, FormAttachment.name)
            .join(Form, FormVersion.form_id == Form.id)
            .join(FormAttachment, FormAttachment.form_version_id == FormVersion.id)
            .where(Form.xml_form_id == "phieu_b_2022")
        ).first()
        table = catalog_entry_version("demo_2022_2025_rural")
    common = ids | {
        "token": seeded.reviewer_token,
        "test_token": "no-such-draft",
        "xml_form_id": "phieu_b_2022",
        "filename": "app.css",
    }
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        blueprint = rule.endpoint.split(".", 1)[0]
        values = common | {"version": form}
        if blueprint in ENDPOINT_VALUES:
            values |= ENDPOINT_VALUES[blueprint]
        if blueprint.startswith("b1_"):
            values |= {"version": table}
        if rule.endpoint == "b1_tables_api.commune_tables":
            values |= {"code": "X1"}
        if blueprint.startswith("openrosa"):
            values |= {"name": media}
        if "refusal_id" in rule.arguments:
            values |= {"round_id": ids["monthly_round_id"]}
        if blueprint in ("user_admin",):
            values |= {"user_id": ADMIN_VALUES["user_id"]}
        unknown = set(rule.arguments) - set(values)
        assert not unknown, f"{rule.rule}: give this test a value for {unknown}"
        with app.test_request_context():
            urls.append(url_for(rule.endpoint, **{k: values[k] for k in rule.arguments}))
    return urls


def catalog_entry_version(code: str) -> str:
    return next(e.version for e in catalog(None) if e.code == code and e.current)


def _browser(app, base_url: str, username: str, password: str = "matkhau-123"):
    browser = app.test_client()
    page = browser.get("/login", base_url=base_url)
    reply = browser.post(
        "/login",
        base_url=base_url,
        headers={"Referer": f"{base_url}/login"},  # as a browser sends it (Referrer-Policy)
        data={"username": username, "password": password, "csrf_token": csrf(page.text)},
    )
    assert reply.status_code == 302, reply.status_code
    return browser, [page, reply]


def _check(reply, url: str, https: bool) -> None:
    headers = reply.headers
    policy = headers.get("Content-Security-Policy")
    if reply.mimetype == "text/html":
        assert policy == CONTENT_SECURITY_POLICY, (url, policy)
    elif reply.mimetype == "application/pdf":
        assert policy is None, url  # Chromium's PDF viewer loads under no policy
    else:
        assert policy in (CONTENT_SECURITY_POLICY, INERT_POLICY), (url, policy)
    assert headers.get("X-Frame-Options") == "DENY", url
    assert headers.get("X-Content-Type-Options") == "nosniff", url
    assert headers.get("Referrer-Policy") == "same-origin", url
    hsts = headers.get("Strict-Transport-Security")
    assert hsts == ("max-age=31536000" if https else None), (url, hsts)
    for cookie in headers.getlist("Set-Cookie"):
        attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
        assert ("secure" in attributes) is https, (url, cookie)
        if not cookie.startswith("session=;"):  # a deleted session cookie needs nothing
            assert "httponly" in attributes, (url, cookie)
        assert "samesite" in attributes, (url, cookie)


@pytest.fixture
def walked(app, village, seeded):
    ids = _walk_the_procedure(app, village)
    return {"urls": _get_routes(app, ids, seeded), "seeded": seeded}


@SQLITE_ONLY
@pytest.mark.parametrize("base_url", [HTTP, HTTPS], ids=["http", "https"])
def test_every_get_route_carries_the_security_headers(app, walked, base_url):
    https = base_url == HTTPS
    statuses: dict[str, list[int]] = {}
    cookies = 0
    for username in ("canbo1", "admin1"):
        browser, replies = _browser(app, base_url, username)
        replies.append(browser.get("/xa/phieu?lang=en", base_url=base_url))  # language cookie
        requests = [(url, None) for url in walked["urls"]]
        if https:  # the API and OpenRosa take HTTP authentication (Basic only over https)
            requests += [(url, (username, "matkhau-123")) for url in walked["urls"]]
        for url, auth in requests:
            replies.append(browser.get(url, base_url=base_url, auth=auth))
            replies[-1].get_data()  # a streamed answer ends within its request
        for reply in replies:
            url = reply.request.path
            _check(reply, url, https)
            statuses.setdefault(url, []).append(reply.status_code)
            cookies += len(reply.headers.getlist("Set-Cookie"))
            reply.close()
    pages = [url for url, codes in statuses.items() if 200 in codes]
    # Real pages, files and API answers were checked, not only refusals.
    assert len(pages) >= (50 if https else 40), sorted(statuses.items())
    for wanted in ("/xa/phieu", "/admin/forms", "/bao-cao", "/static/app.css", "/healthz"):
        assert wanted in pages, wanted
    if https:  # the API and OpenRosa answered (Basic authentication is https-only)
        assert {"/api/v1/submissions", "/api/v1/forms", "/formList"} <= set(pages)
    assert cookies >= 4  # sessions and the language cookie were set and checked


def _set_cookies(reply) -> dict[str, SimpleCookie]:
    found = {}
    for header in reply.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie()
        cookie.load(header)
        found.update(cookie)
    return found


@SQLITE_ONLY
@pytest.mark.parametrize(
    "settings",
    [{}, {"SECURE_COOKIES": False}, {"EXTERNAL_URL": "http://192.168.1.20:8000"}],
    ids=["default", "secure-cookies-off", "http-external-url"],
)
def test_cookies_are_secure_over_https_whatever_the_settings(make_app, database_url, settings):
    from tests.conftest import seed

    app = make_app(database_url, **settings)
    seed(app)
    browser, (_page, reply) = _browser(app, HTTPS, "admin1")
    session = _set_cookies(reply)["session"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    language = _set_cookies(browser.get("/xa/phieu?lang=en", base_url=HTTPS))["rasoat_lang"]
    assert language["secure"] and language["httponly"] and language["samesite"] == "Lax"
    # Over plain http the same settings leave them without Secure (they would never be sent).
    _browser_http, (_page, reply) = _browser(app, HTTP, "admin1")
    assert not _set_cookies(reply)["session"]["secure"]


def test_the_policy_allows_no_inline_script_or_style():
    directives = {part.split()[0]: part.split()[1:] for part in CONTENT_SECURITY_POLICY.split("; ")}
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "unsafe" not in CONTENT_SECURITY_POLICY


# A JSON data block (<script type="application/json">) is data, never run: the policy allows it.
INLINE = re.compile(
    r"<script(?![^>]*\b(?:src=|type=\"application/json\"))|\son[a-z]+\s*=|javascript:|<style"
    r"|\sstyle\s*=",
    re.IGNORECASE,
)


# Templates only WeasyPrint renders, whose names do not say "_print": the commune-wide PDF's
# chunks and cover, and the official layout's macros (NĐ 30/2020) every print template imports.
PRINT_ONLY = ("commune_lists_chunk.html", "commune_lists_cover.html", "_official.html")


def test_no_page_template_has_inline_script_or_style():
    """Pages: not the print templates, which only WeasyPrint renders (to PDF), never a browser."""
    templates = Path(server.__file__).parent / "templates"
    pages = [
        path
        for path in templates.rglob("*.html")
        if "_print" not in path.name and path.name not in PRINT_ONLY
    ]
    assert len(pages) > 20
    offenders = [
        (path.name, found.group(0)) for path in pages for found in INLINE.finditer(path.read_text())
    ]
    assert not offenders


@SQLITE_ONLY
def test_behind_a_trusted_https_proxy_cookies_are_secure_and_hsts_is_sent(make_app, database_url):
    """TLS ends at the reverse proxy: the scheme it forwards (trusted by configuration) is the
    one that counts, so the cookie middleware must sit inside the proxy middleware."""
    from tests.conftest import seed

    app = make_app(database_url, TRUSTED_PROXIES="127.0.0.1")
    seed(app)
    browser = app.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "rasoat.test"}
    page = browser.get("/login", headers=forwarded)
    reply = browser.post(
        "/login",
        headers=forwarded | {"Referer": "https://rasoat.test/login"},
        data={"username": "admin1", "password": "matkhau-123", "csrf_token": csrf(page.text)},
    )
    assert reply.status_code == 302
    assert _set_cookies(reply)["session"]["secure"]
    assert reply.headers["Strict-Transport-Security"] == "max-age=31536000"
    # Without the forwarded scheme the same server answers plain http as plain http.
    plain = app.test_client().get("/login")
    assert "Strict-Transport-Security" not in plain.headers
    assert not _set_cookies(plain)["session"]["secure"]
