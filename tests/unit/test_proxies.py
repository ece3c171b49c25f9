"""TRUSTED_PROXIES: which peer's X-Forwarded-* headers are believed, and what they give."""

from __future__ import annotations

import ipaddress

import pytest

from server.proxies import TrustedProxies, parse_networks


def _seen(networks: str, environ: dict) -> dict:
    captured = {}

    def app(environ, start_response):
        captured.update(environ)
        return []

    base = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_NAME": "srv", "SERVER_PORT": "80"}
    base |= {"wsgi.url_scheme": "http", "HTTP_HOST": "srv"}
    TrustedProxies(app, parse_networks(networks))(base | environ, lambda *a: None)
    return captured


FORWARDED = {
    "HTTP_X_FORWARDED_FOR": "203.0.113.5, 198.51.100.7",
    "HTTP_X_FORWARDED_PROTO": "https",
    "HTTP_X_FORWARDED_HOST": "rasoat.example.vn",
    "HTTP_X_FORWARDED_PREFIX": "/ra-soat",
    "HTTP_FORWARDED": "for=1.1.1.1;proto=https",
}


@pytest.mark.parametrize("networks", ["", "10.0.0.0/8", "::1"])
def test_headers_from_a_peer_not_listed_are_removed(networks):
    seen = _seen(networks, {"REMOTE_ADDR": "127.0.0.1"} | FORWARDED)
    assert seen["REMOTE_ADDR"] == "127.0.0.1"
    assert seen["wsgi.url_scheme"] == "http"
    assert seen["HTTP_HOST"] == "srv"
    assert seen.get("SCRIPT_NAME", "") == ""
    assert not [key for key in seen if "FORWARDED" in key]


@pytest.mark.parametrize("peer", ["127.0.0.1", "::ffff:127.0.0.1"])
def test_headers_from_a_listed_proxy_are_applied(peer):
    seen = _seen("127.0.0.1", {"REMOTE_ADDR": peer} | FORWARDED)
    # The nearest untrusted hop, not the first entry (which the client itself may have written).
    assert seen["REMOTE_ADDR"] == "198.51.100.7"
    assert seen["wsgi.url_scheme"] == "https"
    assert seen["HTTP_HOST"] == "rasoat.example.vn"
    assert seen["SCRIPT_NAME"] == "/ra-soat"


def test_a_chain_of_trusted_proxies_is_skipped_and_the_nearest_values_win():
    seen = _seen(
        "127.0.0.1, 10.0.0.0/8",
        {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_X_FORWARDED_FOR": "203.0.113.5, 198.51.100.7, 10.1.2.3",
            "HTTP_X_FORWARDED_PROTO": "http, https",
            "HTTP_X_FORWARDED_HOST": "evil.example, rasoat.example.vn",
        },
    )
    assert seen["REMOTE_ADDR"] == "198.51.100.7"
    assert seen["wsgi.url_scheme"] == "https"
    assert seen["HTTP_HOST"] == "rasoat.example.vn"


def test_a_garbage_client_address_keeps_the_peer():
    seen = _seen("127.0.0.1", {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "a'b"})
    assert seen["REMOTE_ADDR"] == "127.0.0.1"


def test_parse_networks_from_the_environment_or_a_list():
    assert parse_networks("") == ()
    assert parse_networks(" 127.0.0.1, 10.0.0.0/8 ::1") == (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    assert parse_networks(["192.168.1.0/24"]) == (ipaddress.ip_network("192.168.1.0/24"),)
    with pytest.raises(ValueError, match=r"TRUSTED_PROXIES: 'proxy\.local'"):
        parse_networks("127.0.0.1, proxy.local")
