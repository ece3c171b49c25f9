"""Security headers on every response, and https-only cookies whenever the request is https.

Pages run no inline script and no inline style: every script is ``server/static/app.js`` and every
style is ``server/static/*.css``, so the Content-Security-Policy allows only this site's own files.
A view that sets its own policy keeps it (attachments are served with ``sandbox``, see
``server/filetypes.py``).  JSON, OpenRosa and file responses carry the same headers: a document
opened directly in a browser is no more powerful than a page.

Cookies: whatever the settings say, a response to an https request marks every ``Set-Cookie``
``Secure`` (the Flask session, Flask-Login's remember cookie, the language cookie, anything added
later).  This is done at the WSGI level because the session cookie is written after every
``after_request`` function has run.  ``request.is_secure`` is the request's own scheme (or the
forwarded one, only from proxies the configuration trusts).
"""

from __future__ import annotations

from flask import Flask, current_app, request

# No inline script or style, no plugins, no <base> rewriting, forms only to this site, never in
# a frame.  Images are the site's own (attachments on the review page); the QR codes and charts
# are inline SVG markup, which needs nothing more.


def content_security_policy(image_sources: tuple[str, ...] = ()) -> str:
    """The policy; ``image_sources`` are other origins a page may show images from (the map
    page's configured tile server, :mod:`server.maps.tiles`), nothing else is widened."""
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            " ".join(("img-src 'self'", *image_sources)),
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


CONTENT_SECURITY_POLICY = content_security_policy()

# same-origin (not no-referrer): over https Flask-WTF refuses a form posted without a same-site
# Referer, and the language switch on a page answering a POST goes back to the page the form was
# on, which it learns from the Referer (server/i18n.py).  Other sites learn nothing.
REFERRER_POLICY = "same-origin"


def _add_headers(response):
    headers = response.headers
    # A PDF gets no policy: Chromium's PDF viewer does not load under one (object-src 'none'
    # blocks the viewer's plugin), and it shows the file outside the site's origin anyway (see
    # server/filetypes.py: inert).  The PDFs the server renders itself contain no script.
    if response.mimetype != "application/pdf":
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    if request.is_secure:
        seconds = int(current_app.config["HSTS_MAX_AGE_SECONDS"])
        headers.setdefault("Strict-Transport-Security", f"max-age={seconds}")
    return response


class SecureCookiesOverHttps:
    """WSGI middleware: over https, every ``Set-Cookie`` of the response gets ``Secure``."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return self.wsgi_app(environ, start_response)

        def secure_start_response(status, headers, exc_info=None):
            headers = [
                (name, _with_secure(value) if name.lower() == "set-cookie" else value)
                for name, value in headers
            ]
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, secure_start_response)


def _with_secure(cookie: str) -> str:
    attributes = {part.strip().split("=", 1)[0].lower() for part in cookie.split(";")[1:]}
    return cookie if "secure" in attributes else f"{cookie}; Secure"


def init_app(app: Flask) -> None:
    """Register the headers; must run before any proxy middleware wraps ``app.wsgi_app``, so the
    cookie middleware sees the scheme the proxy middleware decided."""
    app.after_request(_add_headers)
    app.wsgi_app = SecureCookiesOverHttps(app.wsgi_app)
