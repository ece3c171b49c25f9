"""Upload an XLSForm to a rasoat server as a draft, and optionally publish it.

    .venv/bin/python scripts/upload_form.py --server https://rasoat.example.vn \
        --user admin.tinh xlsforms/phieu_b_2022.xlsx [--media FILE ...] [--publish]

The password is asked for (or read from RASOAT_PASSWORD).  Problems in the workbook are printed
with their sheet and row; the draft's test URL (for ODK Collect) is printed on success.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

import requests
from requests.auth import HTTPBasicAuth, HTTPDigestAuth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("xlsform", type=Path)
    parser.add_argument("--server", required=True, help="e.g. https://rasoat.example.vn")
    parser.add_argument("--user", required=True)
    parser.add_argument("--media", type=Path, action="append", default=[])
    parser.add_argument("--publish", action="store_true", help="publish the draft at once")
    args = parser.parse_args(argv)

    password = os.environ.get("RASOAT_PASSWORD") or getpass.getpass(f"Mật khẩu {args.user}: ")
    server = args.server.rstrip("/")
    # Basic only over https; Digest otherwise (the server refuses Basic over http).
    auth = (HTTPBasicAuth if server.startswith("https://") else HTTPDigestAuth)(args.user, password)
    files = [("xlsform", (args.xlsform.name, args.xlsform.read_bytes()))]
    files += [("media", (m.name, m.read_bytes())) for m in args.media]
    reply = requests.post(f"{server}/api/v1/forms", files=files, auth=auth, timeout=300)
    body = (
        reply.json() if reply.headers.get("Content-Type", "").startswith("application/json") else {}
    )
    if reply.status_code != 201:
        print(f"Lỗi ({reply.status_code}): {body.get('message', reply.text)}", file=sys.stderr)
        for problem in body.get("details", {}).get("problems", []):
            print(f"  - {problem['message']}", file=sys.stderr)
        return 1
    print(f"Đã nạp bản nháp {body['form_id']} phiên bản {body['version']}.")
    for warning in body["warnings"]:
        print(f"  cảnh báo: {warning['message']}")
    print(f"Đường dẫn thử trên ODK Collect (bản nháp): {body['test_url']}")
    if args.publish:
        reply = requests.post(
            f"{server}/api/v1/forms/{body['form_id']}/draft/publish", auth=auth, timeout=60
        )
        if reply.status_code != 200:
            print(f"Không xuất bản được: {reply.json().get('message')}", file=sys.stderr)
            return 1
        print(f"Đã xuất bản {body['form_id']} phiên bản {body['version']}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
