"""README command 1: ``scripts/demo`` seeds a demo commune, prints how to connect ODK Collect
and serves it with gunicorn; a phone configured from its output can list, download and send."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time

from scripts.pgcluster import free_port
from server.questionnaires.sources import load_sources
from server.questionnaires.xform import inspect_xform
from tests.collect_client import CollectClient, HttpTransport
from tests.conftest import REPO
from tests.instances import demo_instance, jpeg_bytes


def _run_demo(tmp_path, port: int) -> tuple[subprocess.Popen, dict[str, str]]:
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "RASOAT_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    process = subprocess.Popen(
        ["bash", "scripts/demo"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    printed: dict[str, str] = {}
    deadline = time.monotonic() + 300
    for line in process.stdout:
        match = re.match(r"^([a-z ()/,]+?): (.+)$", line.rstrip("\n"))
        if match:
            printed[match.group(1)] = match.group(2)
        if line.startswith("starting gunicorn") or time.monotonic() > deadline:
            break
    # Keep reading gunicorn's access log so a full pipe never blocks the server.
    threading.Thread(target=lambda: all(True for _ in process.stdout), daemon=True).start()
    return process, printed


def _wait_for(url: str) -> None:
    import requests

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=10)
            return
        except requests.RequestException:  # refused while binding, slow while workers boot
            time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")


def test_demo_script_prints_credentials_and_serves_collect(tmp_path):
    port = free_port()
    process, printed = _run_demo(tmp_path, port)
    try:
        base = f"http://127.0.0.1:{port}"
        assert printed["server url"] == base + "/"
        assert printed["username"] == "rsv.demo"
        assert len(printed["password"]) >= 8
        for role in ("officer", "admin"):
            assert printed[f"{role} username"] and printed[f"{role} password"]
        qr_png = printed["collect settings qr png"]
        with open(qr_png, "rb") as handle:
            assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
        token_url = printed["collect server url (demo reviewer, no password needed)"]
        assert token_url.startswith(base + "/key/")
        _wait_for(base + "/formList")

        by_token = CollectClient(HttpTransport(), token_url)
        by_password = CollectClient(HttpTransport(), base, printed["username"], printed["password"])
        shipped = sorted(
            inspect_xform(s.compiled_path.read_bytes()).xml_form_id for s in load_sources()
        )
        for phone in (by_token, by_password):
            entries = phone.form_list()
            assert sorted(e.form_id for e in entries) == shipped
            for entry in entries:
                phone.download_form(entry)
                for media in phone.manifest(entry) if entry.manifest_url else []:
                    content = phone.download_media(media)
                    if media.filename == "households.csv":  # the demo commune's list
                        assert content.decode().count("\nDEMO01-T0") == 120
        replies = by_password.submit(demo_instance(photo="p.jpg"), {"p.jpg": jpeg_bytes()})
        assert [r.status for r in replies] == [201]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)

    # A second run keeps the data and prints the same credentials.
    port2 = free_port()
    process2, printed2 = _run_demo(tmp_path, port2)
    try:
        assert printed2["password"] == printed["password"]
    finally:
        os.killpg(process2.pid, signal.SIGTERM)
        process2.wait(30)
