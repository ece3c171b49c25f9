"""``scripts/upload_form.py`` against a live server: Digest over http, problems by sheet/row,
draft, publish."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO
from tests.xlsforms import household_form, workbook


def _run(server, seeded, *args):
    return subprocess.run(
        [
            sys.executable,
            "scripts/upload_form.py",
            "--server",
            server.url,
            "--user",
            seeded.admin,
            *args,
        ],
        cwd=REPO,
        env={**os.environ, "RASOAT_PASSWORD": seeded.password},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_upload_script_reports_problems_then_uploads_and_publishes(live_server, seeded, tmp_path):
    broken = tmp_path / "hong.xlsx"
    broken.write_bytes(
        workbook(
            [["type", "name", "label"], ["text", "a", "A"], ["integr", "b", "B"]],
            settings={"form_id": "hong", "version": "1"},
        )
    )
    result = _run(live_server, seeded, str(broken))
    assert result.returncode == 1
    assert "Sheet 'survey', dòng 3: Loại câu hỏi 'integr' không hợp lệ." in result.stderr

    good = tmp_path / "phieu.xlsx"
    good.write_bytes(household_form())
    csv = tmp_path / "households.csv"
    csv.write_text("name,label,village\nS-1,Hộ mẫu,T01\n", encoding="utf-8")
    result = _run(live_server, seeded, str(good), "--media", str(csv), "--publish")
    assert result.returncode == 0, result.stderr
    assert "Đã nạp bản nháp phieu_thu phiên bản 2026120101." in result.stdout
    assert f"{live_server.url}/test/" in result.stdout
    assert "Đã xuất bản phieu_thu phiên bản 2026120101." in result.stdout

    again = _run(live_server, seeded, str(good))
    assert again.returncode == 1
    assert "đã được xuất bản" in again.stderr


def test_hostile_workbooks_get_a_clear_refusal_from_gunicorn(live_server, seeded, tmp_path):
    """Under gunicorn (sync workers, --timeout 120): a zip bomb and a 200,000-row form are
    refused with their reason, and the workers are still there for the next upload."""
    from tests.integration.test_upload_limits import many_rows, zip_bomb

    bomb = tmp_path / "bom.xlsx"
    bomb.write_bytes(zip_bomb(300))
    result = _run(live_server, seeded, str(bomb))
    assert result.returncode == 1
    assert "Lỗi (413): Tệp XLSForm quá lớn hoặc quá phức tạp: khi giải nén hơn" in result.stderr

    rows = tmp_path / "nhieu_dong.xlsx"
    rows.write_bytes(many_rows(200_000))
    result = _run(live_server, seeded, str(rows))
    assert result.returncode == 1
    assert "Lỗi (413): Tệp XLSForm quá lớn hoặc quá phức tạp: một trang tính có hơn" in (
        result.stderr
    )

    good = tmp_path / "phieu.xlsx"
    good.write_bytes(household_form())
    csv = tmp_path / "households.csv"
    csv.write_text("name,label,village\nS-1,Hộ mẫu,T01\n", encoding="utf-8")
    result = _run(live_server, seeded, str(good), "--media", str(csv))
    assert result.returncode == 0, result.stderr
    assert "Đã nạp bản nháp phieu_thu" in result.stdout
