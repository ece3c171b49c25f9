"""Uploaded workbooks are bounded before anything parses them, and compiling a form cannot
outlive its request (issue 11, finding 9).

A zip bomb, a zip whose header lies about sizes and a 200,000-row form are refused with a clear
4xx (JSON on the API, Vietnamese — or English with ?lang=en — on the admin page), with little
memory; a validator that does not finish is killed with its whole process group and the upload
gets a clear 422; normal uploads are unchanged (tests/integration/test_form_lifecycle.py)."""

from __future__ import annotations

import base64
import io
import os
import re
import stat
import struct
import time
import tracemalloc
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pytest

from tests.xlsforms import workbook

HTTPS = "https://rasoat.test"
MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHEET = "xl/worksheets/sheet1.xml"
MB = 1024 * 1024


def _basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _upload(client, seeded, xlsx: bytes, *, field: str = "xlsform", url: str = "/api/v1/forms"):
    return client.post(
        url,
        data={field: (io.BytesIO(xlsx), "phieu.xlsx")},
        headers=_basic(seeded.admin, seeded.password),
        base_url=HTTPS,
    )


def _base() -> bytes:
    return workbook(
        [["type", "name", "label"], ["text", "a", "A"]],
        settings={"form_id": "gioi_han", "version": "1"},
    )


def _cell(ref: str, text: bytes) -> bytes:
    return b'<c r="' + ref.encode() + b'" t="inlineStr"><is><t>' + text + b"</t></is></c>"


def _with_survey(chunks: Iterable[bytes], base: bytes | None = None) -> bytes:
    """A copy of a small valid workbook whose survey sheet is ``chunks`` (streamed, deflated)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(base or _base())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            if info.filename == SHEET:
                with target.open(SHEET, "w") as sheet:
                    for chunk in chunks:
                        sheet.write(chunk)
            else:
                target.writestr(info, source.read(info.filename))
    return out.getvalue()


def _header_rows() -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="' + MAIN + b'"><sheetData>'
        b'<row r="1">' + _cell("A1", b"type") + _cell("B1", b"name") + _cell("C1", b"label")
    ) + b"</row>"


def zip_bomb(megabytes: int = 300) -> bytes:
    """A form whose one label is ``megabytes`` MB of "A": about 1,000:1 once deflated."""

    def chunks():
        yield _header_rows()
        yield b'<row r="2">' + _cell("A2", b"text") + _cell("B2", b"a")
        yield b'<c r="C2" t="inlineStr"><is><t>'
        block = b"A" * MB
        for _ in range(megabytes):
            yield block
        yield b"</t></is></c></row></sheetData></worksheet>"

    return _with_survey(chunks())


def many_rows(count: int) -> bytes:
    """A valid form of ``count`` text questions (rows without ``r``, as the format allows)."""

    def chunks():
        yield _header_rows()
        # t="str": a string value written inline, the shortest way (~90 bytes a row).
        row = b'<row><c t="str"><v>text</v></c><c t="str"><v>q%d</v></c><c t="str"><v>C%d</v>'
        row += b"</c></row>"
        for start in range(0, count, 10_000):
            yield b"".join(row % (n, n) for n in range(start, min(start + 10_000, count)))
        yield b"</sheetData></worksheet>"

    return _with_survey(chunks())


def lie_about_size(archive: bytes, name: str, declared: int) -> bytes:
    """The archive with ``name``'s uncompressed size declared as ``declared`` in both headers."""
    data = bytearray(archive)
    with zipfile.ZipFile(io.BytesIO(archive)) as parsed:
        info = parsed.getinfo(name)
        start = parsed.start_dir
    assert data[info.header_offset : info.header_offset + 4] == b"PK\x03\x04"
    struct.pack_into("<I", data, info.header_offset + 22, declared)
    offset = start
    while data[offset : offset + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, offset + 28)
        if data[offset + 46 : offset + 46 + name_len] == name.encode():
            struct.pack_into("<I", data, offset + 24, declared)
        offset += 46 + name_len + extra_len + comment_len
    return bytes(data)


def _traced(call):
    """``call()``'s result, the Python memory it peaked at and the seconds it took."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1], time.monotonic() - started
    finally:
        tracemalloc.stop()


def test_zip_bomb_is_refused_before_anything_unzips_it(client, seeded):
    bomb = zip_bomb(300)
    assert len(bomb) < 2 * MB
    reply, peak, seconds = _traced(lambda: _upload(client, seeded, bomb))
    assert reply.status_code == 413
    assert reply.json["code"] == "spreadsheet.too_large"
    assert "Tệp XLSForm quá lớn hoặc quá phức tạp" in reply.json["message"]
    assert "20.000.000" in reply.json["message"]
    assert peak < 32 * MB, peak  # the 300 MB label was never held
    print(f"zip bomb ({len(bomb):,} bytes → 300 MB): {reply.status_code} in {seconds:.2f} s")


def test_a_zip_whose_header_lies_about_sizes_is_refused(client, seeded):
    """15 MB declared for the 300 MB sheet: within every declared bound, so only reading
    finds out — zipfile stops at the declared size and the CRC does not match."""
    liar = lie_about_size(zip_bomb(300), SHEET, 15_000_000)
    with zipfile.ZipFile(io.BytesIO(liar)) as parsed:
        assert parsed.getinfo(SHEET).file_size == 15_000_000
    reply, peak, _seconds = _traced(lambda: _upload(client, seeded, liar))
    assert reply.status_code in (400, 413)
    assert reply.json["code"] in ("form.compile_error", "spreadsheet.too_large")
    assert "tệp xlsform" in reply.json["message"].lower()
    assert peak < 48 * MB, peak


def test_a_form_of_200000_rows_is_refused_with_a_clear_4xx(client, seeded):
    source = many_rows(200_000)
    with zipfile.ZipFile(io.BytesIO(source)) as parsed:
        assert parsed.getinfo(SHEET).file_size < 20_000_000  # not caught by the size bound
    reply, _peak, seconds = _traced(lambda: _upload(client, seeded, source))
    assert reply.status_code == 413
    assert reply.json["code"] == "spreadsheet.too_large"
    assert "một trang tính có hơn 20.000 dòng" in reply.json["message"]
    assert "a worksheet has more than 20,000 rows" in reply.json["message_en"]
    print(f"200,000 rows ({len(source):,} bytes): {reply.status_code} in {seconds:.2f} s")


def test_cells_and_entries_are_bounded_too(app, client, seeded):
    app.config["MAX_XLSFORM_CELLS"] = 100
    reply = _upload(client, seeded, many_rows(50))
    assert reply.status_code == 413 and "có hơn 100 ô" in reply.json["message"]
    app.config["MAX_XLSFORM_CELLS"] = 200_000
    app.config["MAX_XLSFORM_ZIP_ENTRIES"] = 5
    reply = _upload(client, seeded, _base())
    assert reply.status_code == 413 and "thành phần (tối đa 5)" in reply.json["message"]


def test_a_form_within_the_bounds_still_compiles(client, seeded):
    reply = _upload(client, seeded, many_rows(300))
    assert reply.status_code == 201, reply.json
    assert reply.json["form_id"] == "gioi_han"


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_admin_page_says_so_in_vietnamese_and_english(app, seeded):
    browser = app.test_client()
    token = _csrf(browser.get("/login").get_data(as_text=True))
    browser.post(
        "/login", data={"username": seeded.admin, "password": seeded.password, "csrf_token": token}
    )
    bomb = zip_bomb(100)
    for lang, expected in (
        ("", "Tệp XLSForm quá lớn hoặc quá phức tạp: khi giải nén hơn 20.000.000 byte"),
        ("?lang=en", "The XLSForm is too large or too complex: more than 20,000,000 bytes"),
    ):
        page = browser.get(f"/admin/forms{lang}").get_data(as_text=True)
        reply = browser.post(
            f"/admin/forms/upload{lang}",
            data={"xlsform": (io.BytesIO(bomb), "bom.xlsx"), "csrf_token": _csrf(page)},
        )
        assert reply.status_code == 413
        html = reply.get_data(as_text=True)
        assert expected in html
        assert "bom.xlsx" in html and "Traceback" not in html


def test_b1_table_workbooks_are_bounded_the_same_way(client, seeded):
    reply = _upload(client, seeded, zip_bomb(100), field="file", url="/api/v1/b1-tables")
    assert reply.status_code == 413
    assert reply.json["code"] == "spreadsheet.too_large"
    assert "Bảng điểm phieu.xlsx quá lớn" in reply.json["message"]


# --- the compiler's child process group --------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


@pytest.fixture
def stuck_java(tmp_path, monkeypatch):
    """A ``java`` first on PATH that records its arguments, limits and process group, starts a
    process of its own, and never finishes — a validator stuck on a form."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "java"
    script = bin_dir / "java"
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > {record}.args\n'
        f"cat /proc/self/limits > {record}.limits\n"
        f"cut -d' ' -f5 /proc/$$/stat > {record}.pgid\n"
        "sleep 600 &\n"
        f"echo $$ $! > {record}.pids\n"
        "wait\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return record


def test_a_validator_that_does_not_finish_is_killed_with_its_group(app, client, seeded, stuck_java):
    app.config["XLSFORM_COMPILE_SECONDS"] = 4
    started = time.monotonic()
    reply = _upload(client, seeded, _base())
    seconds = time.monotonic() - started
    assert reply.status_code == 422, reply.json
    assert reply.json["code"] == "form.too_complex"
    assert "Biểu mẫu quá lớn hoặc quá phức tạp" in reply.json["message"]
    assert "4 giây" in reply.json["message"]
    # The stuck validator really ran, bounded: a heap, a CPU limit, no address-space limit
    # (a JVM cannot start under one), in a process group of its own.
    args = Path(f"{stuck_java}.args").read_text().split()
    assert "-Xmx512m" in args and args[-2].endswith("ODK_Validate.jar")
    limits = Path(f"{stuck_java}.limits").read_text()
    assert re.search(r"Max cpu time\s+5\s+10\s+seconds", limits), limits
    assert re.search(r"Max address space\s+unlimited", limits), limits
    assert re.search(r"Max core file size\s+0\s+0", limits), limits
    pgid = int(Path(f"{stuck_java}.pgid").read_text())
    assert pgid != os.getpgid(0)
    # ... and nothing of it is left: neither the "JVM" nor what it started nor the child.
    pids = [int(p) for p in Path(f"{stuck_java}.pids").read_text().split()]
    deadline = time.monotonic() + 5
    while (any(_alive(p) for p in pids) or _group_members(pgid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in pids if _alive(p)]
    assert _group_members(pgid) == []
    print(f"stuck validator: {reply.status_code} after {seconds:.2f} s, group {pgid} gone")


def test_compiling_out_of_memory_is_a_clear_422(app, client, seeded):
    source = many_rows(3000)  # compiles within 80 MB of address space, not within 40 MB
    app.config["XLSFORM_COMPILE_MEMORY_MB"] = 40
    reply = _upload(client, seeded, source)
    assert reply.status_code == 422
    assert reply.json["code"] == "form.too_complex"
    assert "The form is too large or too complex" in reply.json["message_en"]
