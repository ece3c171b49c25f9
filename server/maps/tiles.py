"""The map's background tiles: a URL template from the configuration, or none.

``MAP_TILE_URL`` is a Leaflet tile URL template (``https://{s}.tile.example.org/{z}/{x}/{y}.png``):
``{z}``, ``{x}`` and ``{y}`` are required, ``{s}`` may stand for the whole first label of the host
(one of ``MAP_TILE_SUBDOMAINS``), ``{r}`` for the retina suffix.  Nothing is configured by default:
the page then draws the households on a plain coordinate grid and the browser asks no other site
for anything.  When a URL is configured, the map page (and only it) allows images from that host
in its Content-Security-Policy (``img-src``); the provider's terms of use apply.

A setting that cannot work is refused when the application starts, with the reason, rather than
leaving officers with a map that silently never loads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PLACEHOLDER = re.compile(r"\{([a-z]+)\}")
_ALLOWED = {"s", "z", "x", "y", "r"}
_HOST = re.compile(r"^(\{s\}\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")


@dataclass(frozen=True)
class TileSettings:
    url: str
    attribution: str
    subdomains: str
    max_zoom: int
    # The Content-Security-Policy source allowing the tiles: scheme, host (``*.`` for ``{s}``)
    # and port.
    image_source: str


def tile_settings(config) -> TileSettings | None:
    """The configured tiles, or None; ``ValueError`` saying why a setting cannot work."""
    url = str(config.get("MAP_TILE_URL") or "").strip()
    if not url:
        return None
    found = set(_PLACEHOLDER.findall(url))
    if not {"z", "x", "y"} <= found:
        raise ValueError(f"MAP_TILE_URL must contain {{z}}, {{x}} and {{y}}: {url!r}")
    if found - _ALLOWED:
        raise ValueError(f"MAP_TILE_URL has unknown placeholders {sorted(found - _ALLOWED)}")
    scheme, _, rest = url.partition("://")
    authority = rest.split("/", 1)[0]
    name, _, port = authority.partition(":")
    if scheme not in ("http", "https") or not authority:
        raise ValueError(f"MAP_TILE_URL must be an http or https URL: {url!r}")
    if not _HOST.match(name) or (port and not port.isdigit()):
        raise ValueError(
            "MAP_TILE_URL: the host must be a plain name or address (no user, no brackets), "
            f"with {{s}} only as its whole first label: {url!r}"
        )
    subdomains = str(config.get("MAP_TILE_SUBDOMAINS") or "abc").strip()
    if "{s}" in url and not re.fullmatch(r"[A-Za-z0-9]+", subdomains):
        raise ValueError("MAP_TILE_SUBDOMAINS must be letters or digits, one per subdomain")
    try:
        max_zoom = int(config.get("MAP_TILE_MAX_ZOOM") or 19)
    except (TypeError, ValueError):
        raise ValueError("MAP_TILE_MAX_ZOOM must be a whole number") from None
    if not 1 <= max_zoom <= 22:
        raise ValueError("MAP_TILE_MAX_ZOOM must be between 1 and 22")
    source = f"{scheme}://{name.replace('{s}', '*').lower()}" + (f":{port}" if port else "")
    return TileSettings(
        url=url,
        attribution=str(config.get("MAP_TILE_ATTRIBUTION") or "").strip(),
        subdomains=subdomains,
        max_zoom=max_zoom,
        image_source=source,
    )


def check_tile_settings(config) -> None:
    """Refuse to start with a tile setting that cannot work (``RuntimeError``)."""
    try:
        tile_settings(config)
    except ValueError as error:
        raise RuntimeError(f"RASOAT_{error}") from None
