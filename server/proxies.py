"""Reverse proxies: ``X-Forwarded-*`` headers are believed only from configured addresses.

Anyone can send ``X-Forwarded-Proto: https`` or ``X-Forwarded-For: 1.2.3.4``.  Believed from
anyone, the first would let a client on plain http pass for https (and so send a Basic password
in clear text), the second would let it choose the address the login throttle counts.  So
:class:`TrustedProxies` looks at the direct peer (``REMOTE_ADDR``):

* a peer in ``TRUSTED_PROXIES`` (addresses or networks) is a proxy of ours: the client's address
  is the nearest ``X-Forwarded-For`` entry that is not itself a trusted proxy, and the scheme,
  host, port and prefix are the values the nearest proxy added (the last of each list), applied
  by Werkzeug's ``ProxyFix``;
* any other peer: the ``X-Forwarded-*`` headers (and ``Forwarded``) are removed from the request,
  so nothing later can read them.

In both cases the scheme starts from the real connection.  gunicorn itself believes
``X-Forwarded-Proto: https`` (and ``X-Forwarded-Ssl``) from its ``forwarded_allow_ips``, by
default ``127.0.0.1,::1``, and says https in ``wsgi.url_scheme`` before the application sees
the request; so under gunicorn the scheme is taken again from its socket (TLS or not).
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterable

from werkzeug.middleware.proxy_fix import ProxyFix

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# From a trusted proxy: the client's address, then the nearest proxy's value of each of these.
_NEAREST = (
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
)
# Never used (gunicorn's other scheme headers, RFC 7239's Forwarded).
_IGNORED = ("HTTP_FORWARDED", "HTTP_X_FORWARDED_SSL", "HTTP_X_FORWARDED_PROTOCOL")
_FORWARDED = ("HTTP_X_FORWARDED_FOR", *_NEAREST, *_IGNORED)


def parse_networks(value: str | Iterable[str] | None) -> tuple[Network, ...]:
    """``TRUSTED_PROXIES`` as networks: a list, or a string separated by commas or spaces.

    A wrong entry stops the server at start rather than trusting something unintended.
    """
    if value is None:
        return ()
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        value = value.decode() if isinstance(value, bytes) else str(value)
        items = value.replace(",", " ").split()
    else:
        items = list(value)
    networks = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(str(item).strip(), strict=False))
        except ValueError as error:
            raise ValueError(
                f"TRUSTED_PROXIES: {item!r} is not an IP address or network ({error})"
            ) from None
    return tuple(networks)


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # "::ffff:10.0.0.1" from a dual-stack socket
    return address


class TrustedProxies:
    """WSGI middleware honouring ``X-Forwarded-*`` only from ``networks``."""

    def __init__(self, app, networks: Iterable[Network]) -> None:
        self.app = app
        self.networks = tuple(networks)
        self.proxy_fix = ProxyFix(app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)

    def trusted(self, text: str | None) -> bool:
        address = _address(text or "")
        return address is not None and any(address in network for network in self.networks)

    def __call__(self, environ, start_response):
        sock = environ.get("gunicorn.socket")
        if sock is not None:
            environ["wsgi.url_scheme"] = "https" if isinstance(sock, ssl.SSLSocket) else "http"
        if not self.trusted(environ.get("REMOTE_ADDR")):
            for key in _FORWARDED:
                environ.pop(key, None)
            return self.app(environ, start_response)
        hops = [h.strip() for h in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        client = None
        for hop in reversed(hops):  # nearest first: skip our own proxies
            client = hop
            if not self.trusted(hop):
                break
        if client is not None and _address(client) is not None:
            environ["HTTP_X_FORWARDED_FOR"] = client
        else:
            environ.pop("HTTP_X_FORWARDED_FOR", None)
        for key in _NEAREST:
            if key in environ:
                environ[key] = environ[key].rsplit(",", 1)[-1].strip()
        for key in _IGNORED:
            environ.pop(key, None)
        return self.proxy_fix(environ, start_response)
