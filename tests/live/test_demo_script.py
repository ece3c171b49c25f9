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

DEMO_LABEL = "minh họa — không phải số liệu chính thức"


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


def _officer_reviews(base: str, username: str, password: str) -> dict[str, str]:
    """Log in as the commune officer; the received-questionnaires page, whole and filtered."""
    import requests

    browser = requests.Session()
    login = browser.get(base + "/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    reply = browser.post(
        base + "/login",
        data={"username": username, "password": password, "csrf_token": token},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    pages = {}
    queries = ("", "?form=phieu_b_2022", "?category=ngheo", "?category=can_ngheo")
    for query in (*queries, "?category=chua_xac_dinh"):
        page = browser.get(f"{base}/xa/phieu{query}", timeout=60)
        assert page.status_code == 200 and "Phiếu đã nhận" in page.text
        pages[query] = page.text
    return pages


def _total(page: str) -> int:
    return int(re.search(r'<span class="muted">\((\d+)\)</span>', page).group(1))


def _stopped_at_phieu_a(printed: dict[str, str]) -> int:
    """Households the demo stopped at Phiếu A (results without a Phiếu B)."""
    return int(re.search(r"(\d+) dừng ở Phiếu A", printed["demo submissions"]).group(1))


def _categories(page: str) -> list[tuple[str, str]]:
    """(category, B1 table note) of each listed questionnaire that has a result."""
    return re.findall(r'<td>([^<>]+?) <span class="badge warn" title="([^"]+)">', page)


def test_demo_script_prints_credentials_and_serves_collect(tmp_path):
    port = free_port()
    process, printed = _run_demo(tmp_path, port)
    try:
        base = f"http://127.0.0.1:{port}"
        assert printed["server url"] == base + "/"
        assert printed["username"] == "rsv.demo"
        assert len(printed["password"]) >= 8
        assert printed["officer username"] == "canbo.demo"
        assert printed["admin username"] == "admin.demo"
        assert len(printed["officer password"]) >= 8 and len(printed["admin password"]) >= 8
        assert printed["village head username"] == "truongthon.demo"
        # The realistic commune: a few hundred households, most with a scored questionnaire.
        households = int(re.search(r"(\d+) households$", printed["demo commune"]).group(1))
        assert 300 <= households <= 400
        received = int(re.match(r"(\d+) received", printed["demo submissions"]).group(1))
        scored = int(re.search(r", (\d+) results \(", printed["demo submissions"]).group(1))
        assert 0.8 * households <= scored <= received
        # A few farming households answered the income survey: average living standard for
        # some, and B1 and measured income disagreeing across the line for others (flagged).
        surveys, average, flagged = map(
            int,
            re.match(
                r"(\d+) farming households, (\d+) of average living standard, (\d+) flagged",
                printed["demo income surveys"],
            ).groups(),
        )
        assert f"{surveys} phiếu khảo sát thu nhập)" in printed["demo submissions"]
        assert 5 <= surveys <= 12 and average >= 2 and flagged >= 3
        assert printed["demo submissions"].endswith(DEMO_LABEL)
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
                        assert content.decode().count("\nDEMO01-T0") == households
        replies = by_password.submit(demo_instance(photo="p.jpg"), {"p.jpg": jpeg_bytes()})
        assert [r.status for r in replies] == [201]

        # The officer reviews them on the staff pages, each result labelled "minh họa".
        pages = _officer_reviews(base, printed["officer username"], printed["officer password"])
        assert _total(pages[""]) == received + 1  # and the one just sent from the phone
        for query, label, least, most in (
            ("?category=ngheo", "Hộ nghèo", 20, scored / 4),
            ("?category=can_ngheo", "Hộ cận nghèo", 20, scored / 4),
            ("?category=chua_xac_dinh", "Chưa xác định được", 3, 10),
        ):
            assert least <= _total(pages[query]) <= most, query
            listed = _categories(pages[query])
            assert listed and set(listed) == {(label, DEMO_LABEL)}, query
        # Every Phiếu B has its result (a full first page of 50), each labelled.
        assert _total(pages["?form=phieu_b_2022"]) == scored - _stopped_at_phieu_a(printed)
        assert len(_categories(pages["?form=phieu_b_2022"])) == 50
        # The village head sees their village's questionnaires only, without any action.
        head = _officer_reviews(
            base, printed["village head username"], printed["village head password"]
        )
        village = printed["village head village"].split()[0]
        assert 0 < _total(head[""]) < received
        # Household codes, each a link to the household's page.
        codes = re.findall(r"<td><a href=\"[^\"]*\">DEMO01-(T\d+)-\d{4}</a></td>", head[""])
        assert set(codes) == {village}
        assert "Xét duyệt hàng loạt" not in head[""] and 'name="ids"' not in head[""]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)

    # A second run keeps the data and prints the same credentials.
    port2 = free_port()
    process2, printed2 = _run_demo(tmp_path, port2)
    try:
        assert printed2["password"] == printed["password"]
        assert printed2["officer password"] == printed["officer password"]
        assert printed2["demo commune"] == printed["demo commune"]  # nothing seeded twice
        assert printed2["demo submissions"] == printed["demo submissions"]
        assert printed2["demo income surveys"] == printed["demo income surveys"]
    finally:
        os.killpg(process2.pid, signal.SIGTERM)
        process2.wait(30)
