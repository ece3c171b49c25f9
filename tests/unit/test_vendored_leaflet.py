"""The vendored Leaflet (server/static/vendor/leaflet) is the release its README names, unmodified:
the checksums there are those of the files, and the files' own header gives the same version."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from tests.conftest import REPO

VENDOR = REPO / "server" / "static" / "vendor" / "leaflet"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_files_are_the_release_the_readme_names():
    readme = (VENDOR / "README.md").read_text()
    version = re.match(r"# Leaflet (\d+\.\d+\.\d+) \(vendored\)", readme).group(1)
    assert version.startswith("1.9.")
    recorded = dict(re.findall(r"\| `([\w.]+)` \| `([0-9a-f]{64})` \|", readme))
    assert set(recorded) == {"leaflet.js", "leaflet.css"}
    for name, digest in recorded.items():
        assert _sha256(VENDOR / name) == digest, name
    header = (VENDOR / "leaflet.js").read_text()[:200]
    assert f"Leaflet {version}, a JS library for interactive maps" in header
    assert "BSD 2-Clause License" in (VENDOR / "LICENSE").read_text()
    # The images its stylesheet names are here (served from this site, nothing from elsewhere).
    css = (VENDOR / "leaflet.css").read_text()
    for image in set(re.findall(r"url\((images/[\w.-]+)\)", css)):
        assert (VENDOR / image).is_file(), image
    assert "http" not in "".join(re.findall(r"url\(([^)]*)\)", css))
