"""ODK Collect settings and the QR code that carries them.

Collect reads a QR code whose text is ``base64(zlib(JSON settings))``; the settings need a
``general`` and an ``admin`` object, and any setting left out is reset to its default on scan
(``../shared/openrosa/protocol.md`` §1.10).  The server URL carries the device token, so no
username or password is put in the code.
"""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path

import segno


def collect_settings(server_url: str, project_name: str, *, managed: bool = True) -> dict:
    general = {
        "server_url": server_url,
        "app_language": "vi",
        "form_update_mode": "match_exactly" if managed else "manual",
        "periodic_form_updates_check": "every_one_hour",
        "autosend": "wifi_and_cellular",
        "delete_send": False,
    }
    return {
        "general": general,
        "admin": {"change_server": False},
        "project": {"name": project_name},
    }


def encode_settings(settings: dict) -> str:
    return base64.b64encode(zlib.compress(json.dumps(settings).encode("utf-8"))).decode("ascii")


def decode_settings(payload: str) -> dict:
    return json.loads(zlib.decompress(base64.b64decode(payload)).decode("utf-8"))


def settings_qr(settings: dict) -> segno.QRCode:
    return segno.make(encode_settings(settings), error="m", micro=False)


def write_png(qr: segno.QRCode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    qr.save(str(path), scale=6, border=4)
