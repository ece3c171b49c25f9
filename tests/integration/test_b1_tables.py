"""B1 point tables as uploaded, versioned data, and the table each commune uses.

Through the JSON API (HTTP authentication), the administrators' web pages (login session and
CSRF) and the command line, on SQLite and PostgreSQL.  Every table uploaded here is a test
table, labelled demo: no official-looking values.
"""

from __future__ import annotations

import base64
import io
import re

import pytest
import yaml
from openpyxl import load_workbook
from sqlalchemy import func, select

from server.db import write_transaction
from server.extensions import db
from server.geography.models import AreaType, Commune, Province
from server.scoring.b1 import DEMO_LABEL_VI, table_from_dict, template_xlsx
from server.scoring.models import B1Table, CommuneB1Table, HouseholdScore, ScoringJob
from server.scoring.tables import TABLES_DIR, content_sha256, resolve_table, table_content
from server.submissions.models import Submission
from tests.collect_client import CollectClient, FlaskTransport
from tests.engines import webforms
from tests.forms.test_phieu_b import CASES, fill
from tests.integration.procedure import add_national_admin

HTTPS = "https://r.test"
TEST_LABEL = "Bảng điểm B1 thử nghiệm — không phải số liệu chính thức"
TEST_SOURCE = "bảng thử cho kiểm thử tự động; không phải số liệu chính thức"
DEMO_CODE = "demo_2022_2025_rural"


# --- building test tables --------------------------------------------------------------------


def table_dict(**overrides) -> dict:
    """A small test table (status demo) as a YAML/dict document."""
    base = {
        "code": "thu_2022_nong_thon",
        "version": "t1",
        "standard": "2022_2025",
        "region": "*",
        "area_type": "rural",
        "status": "demo",
        "source": TEST_SOURCE,
        "label_vi": TEST_LABEL,
        "items": {
            "b1_pension": {
                "kind": "choice",
                "vi": "Lương hưu",
                "options": {"khong": 0, "mot_nguoi": 7},
            },
            "b1_assets": {
                "kind": "multi",
                "vi": "Tài sản lâu bền",
                "options": {"xe_may": 3, "tivi": 1},
            },
            "b1_hh_size": {
                "kind": "band",
                "vi": "Số nhân khẩu",
                "bands": [
                    {"min": 1, "max": 3, "points": 9},
                    {"min": 3, "max": None, "points": 2},
                ],
            },
        },
    }
    return base | overrides


def yaml_bytes(**overrides) -> bytes:
    return yaml.safe_dump(table_dict(**overrides), allow_unicode=True).encode()


def xlsx_bytes(**overrides) -> bytes:
    """The same table written into the template from ``template_xlsx()`` with openpyxl."""
    data = table_dict(**overrides)
    book = load_workbook(io.BytesIO(template_xlsx()))
    meta = book["meta"]
    for row in meta.iter_rows(min_row=2):
        key = row[0].value
        if key in data:
            row[1].value = data[key]
    points = book["points"]
    points.delete_rows(2, points.max_row)
    for item, spec in data["items"].items():
        if spec["kind"] == "band":
            for band in spec["bands"]:
                points.append(
                    [item, "band", spec["vi"], None, band["min"], band["max"], band["points"]]
                )
        else:
            for option, value in spec["options"].items():
                points.append([item, spec["kind"], spec["vi"], option, None, None, value])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- HTTP helpers ----------------------------------------------------------------------------


def auth(username: str, password: str) -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def upload(client, seeded, content: bytes, filename: str, username: str | None = None):
    return client.post(
        "/api/v1/b1-tables",
        data={"file": (io.BytesIO(content), filename)},
        headers=auth(username or seeded.admin, seeded.password),
        base_url=HTTPS,
        content_type="multipart/form-data",
    )


def assign(client, seeded, commune: str, table_code, area="rural", standard="2022_2025"):
    return client.put(
        f"/api/v1/communes/{commune}/b1-tables",
        json={"standard": standard, "area_type": area, "table_code": table_code},
        headers=auth(seeded.admin, seeded.password),
        base_url=HTTPS,
    )


def get(client, seeded, path: str, username: str | None = None):
    return client.get(path, headers=auth(username or seeded.admin, seeded.password), base_url=HTTPS)


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# --- upload ----------------------------------------------------------------------------------


def test_admin_uploads_a_table_filled_in_the_xlsx_template(app, client, seeded):
    reply = upload(client, seeded, xlsx_bytes(), "bang thu.xlsx")
    assert reply.status_code == 201, reply.json
    body = reply.json
    assert body["created"] is True
    table = body["table"]
    assert (table["code"], table["version"], table["origin"]) == (
        "thu_2022_nong_thon",
        "t1",
        "upload",
    )
    assert (table["status"], table["disclaimer_vi"]) == ("demo", DEMO_LABEL_VI)
    assert (table["filename"], table["uploaded_by"], table["current"]) == (
        "bang thu.xlsx",
        "admin1",
        True,
    )
    items = {i["item"]: i for i in table["items"]}
    assert items["b1_pension"]["options"] == {"khong": 0.0, "mot_nguoi": 7.0}
    assert items["b1_assets"]["kind"] == "multi"
    assert items["b1_hh_size"]["bands"] == [
        {"min": 1.0, "max": 3.0, "points": 9.0},
        {"min": 3.0, "max": None, "points": 2.0},
    ]

    listed = get(client, seeded, "/api/v1/b1-tables").json
    by_key = {(t["code"], t["version"]): t for t in listed}
    assert by_key[("thu_2022_nong_thon", "t1")]["item_count"] == 3
    shipped = by_key[(DEMO_CODE, "demo-1")]  # the shipped demo table is in the catalogue too
    assert (shipped["origin"], shipped["disclaimer_vi"]) == ("shipped", DEMO_LABEL_VI)
    assert all("items" not in t for t in listed)

    detail = get(client, seeded, "/api/v1/b1-tables/thu_2022_nong_thon/t1").json
    assert detail["items"] == table["items"]
    assert get(client, seeded, "/api/v1/b1-tables/thu_2022_nong_thon/t9").status_code == 404

    # The stateless scoring API can use it by code too (its newest version).
    scored = client.post(
        "/api/v1/score",
        json={
            "household": {
                "area_type": "rural",
                "b1": {"b1_pension": "mot_nguoi", "b1_assets": ["xe_may"], "b1_hh_size": 2},
            },
            "year": 2026,
            "b1_table": "thu_2022_nong_thon",
        },
    )
    assert scored.status_code == 200, scored.json
    assert scored.json["score_a"] == 7 + 3 + 9
    assert (scored.json["b1_table_version"], scored.json["b1_table_disclaimer"]) == (
        "t1",
        DEMO_LABEL_VI,
    )


def test_yaml_upload_identical_reupload_and_version_conflict(app, client, seeded):
    assert upload(client, seeded, yaml_bytes(), "thu.yaml").status_code == 201
    again = upload(client, seeded, yaml_bytes(), "thu-lan-2.yaml")
    assert again.status_code == 200 and again.json["created"] is False
    # The same table from the XLSX template is the same content: nothing changes either.
    as_xlsx = upload(client, seeded, xlsx_bytes(), "thu.xlsx")
    assert as_xlsx.status_code == 200 and as_xlsx.json["table"]["filename"] == "thu.yaml"

    changed = table_dict()
    changed["items"]["b1_pension"]["options"]["mot_nguoi"] = 8
    conflict = upload(client, seeded, yaml.safe_dump(changed).encode(), "sua.yaml")
    assert conflict.status_code == 409
    assert conflict.json["code"] == "b1_table.version_conflict"
    assert "'thu_2022_nong_thon' phiên bản 't1' đã có" in conflict.json["message"]
    assert "phiên bản mới" in conflict.json["message"]
    with app.app_context():
        rows = db.session.scalars(select(B1Table).where(B1Table.origin == "upload")).all()
        assert [(r.code, r.version, r.filename) for r in rows] == [
            ("thu_2022_nong_thon", "t1", "thu.yaml")
        ]
        assert rows[0].content["items"]["b1_pension"]["options"]["mot_nguoi"] == 7

    # A correction is a new version; it becomes the current one.
    assert (
        upload(
            client, seeded, yaml.safe_dump(changed | {"version": "t2"}).encode(), "t2.yaml"
        ).status_code
        == 201
    )
    listed = {(t["code"], t["version"]): t for t in get(client, seeded, "/api/v1/b1-tables").json}
    assert listed[("thu_2022_nong_thon", "t2")]["current"] is True
    assert listed[("thu_2022_nong_thon", "t1")]["current"] is False


def test_a_new_version_cannot_change_the_standard_area_or_region_of_its_code(client, seeded):
    assert upload(client, seeded, yaml_bytes(), "thu.yaml").status_code == 201
    reply = upload(client, seeded, yaml_bytes(version="t2", area_type="urban"), "t2.yaml")
    assert reply.status_code == 409
    assert reply.json["code"] == "b1_table.code_conflict"
    assert "Hãy dùng mã bảng khác" in reply.json["message"]


@pytest.mark.parametrize(
    ("content", "filename", "expected"),
    [
        (
            lambda: xlsx_bytes(
                items={"b1_pension": {"kind": "choise", "vi": "x", "options": {"a": 1}}}
            ),
            "hong.xlsx",
            "hong.xlsx: items.b1_pension.value.kind: Must be one of: choice, multi, band.",
        ),
        (
            lambda: yaml_bytes(standard="2099_2100"),
            "chuan.yaml",
            "chuan.yaml: standard: không có chuẩn nghèo '2099_2100'",
        ),
        (lambda: yaml_bytes(version=""), "rong.yaml", "rong.yaml: version: không được để trống"),
        (
            lambda: yaml_bytes(region="Tây Nguyên"),
            "vung.yaml",
            "vung.yaml: region: 'Tây Nguyên' không hợp lệ",
        ),
        (
            lambda: yaml_bytes(area_type="mountain"),
            "kv.yaml",
            "kv.yaml: area_type: Must be one of: rural, urban.",
        ),
        (lambda: b"code: [unclosed", "vo.yaml", "vo.yaml: YAML không hợp lệ dòng 1"),
        (lambda: b"a: &x [1]\nb: *x\n", "alias.yaml", "alias.yaml: YAML không được dùng alias"),
        (
            lambda: b"PK\x03\x04 not really a workbook",
            "gia.xlsx",
            "gia.xlsx: không đọc được tệp XLSX",
        ),
        (
            lambda: b"\xff\xfe\x00binary",
            "nhi_phan.bin",
            "nhi_phan.bin: không phải tệp XLSX theo mẫu",
        ),
    ],
)
def test_a_bad_file_is_refused_naming_the_file_and_key(
    app, client, seeded, content, filename, expected
):
    reply = upload(client, seeded, content(), filename)
    assert reply.status_code == 400, reply.json
    assert reply.json["code"] == "b1_table.invalid"
    assert expected in reply.json["message"]
    assert reply.json["details"] == {"file": filename}
    assert count(app, B1Table) == 0  # nothing stored, not even the shipped tables' record


def test_upload_without_a_file_is_refused(client, seeded):
    reply = client.post(
        "/api/v1/b1-tables",
        data={},
        headers=auth(seeded.admin, seeded.password),
        base_url=HTTPS,
        content_type="multipart/form-data",
    )
    assert reply.status_code == 400 and reply.json["code"] == "b1_table.no_file"


def test_roles_officers_read_only_reviewers_and_anonymous_refused(app, client, seeded):
    refused = upload(client, seeded, yaml_bytes(), "thu.yaml", username=seeded.officer)
    assert refused.status_code == 403
    assert refused.json["message"].startswith("Chỉ quản trị viên cấp tỉnh")
    assert count(app, B1Table) == 0
    assert get(client, seeded, "/api/v1/b1-tables", seeded.officer).status_code == 200
    assert get(client, seeded, "/api/v1/communes/X1/b1-tables", seeded.officer).status_code == 200
    assert get(client, seeded, "/api/v1/communes/X2/b1-tables", seeded.officer).status_code == 404
    put = client.put(
        "/api/v1/communes/X1/b1-tables",
        json={"standard": "2022_2025", "area_type": "rural", "table_code": DEMO_CODE},
        headers=auth(seeded.officer, seeded.password),
        base_url=HTTPS,
    )
    assert put.status_code == 403
    assert count(app, CommuneB1Table) == 0

    reviewer = client.get(
        "/api/v1/b1-tables", headers=auth(seeded.other_reviewer, seeded.password), base_url=HTTPS
    )
    assert reviewer.status_code == 403
    anonymous = client.get("/api/v1/b1-tables", base_url=HTTPS)
    assert anonymous.status_code == 401 and "Digest" in anonymous.headers["WWW-Authenticate"]
    anonymous_upload = client.post(
        "/api/v1/b1-tables",
        data={"file": (io.BytesIO(yaml_bytes()), "thu.yaml")},
        base_url=HTTPS,
        content_type="multipart/form-data",
    )
    assert anonymous_upload.status_code == 401
    assert count(app, B1Table) == 0


def test_template_download(client, seeded):
    reply = get(client, seeded, "/api/v1/b1-tables/template.xlsx", seeded.officer)
    assert reply.status_code == 200
    assert _cells(reply.data) == _cells(template_xlsx())  # the file carries its write time
    assert "attachment" in reply.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(reply.data))
    assert book.sheetnames == ["meta", "points"]


# --- assignment and resolution ---------------------------------------------------------------


def _resolve(app, commune_code: str, standard: str, area: str):
    with app.app_context():
        commune = db.session.scalar(select(Commune).where(Commune.code == commune_code))
        return resolve_table(commune, standard, area)


def test_assignment_resolution_and_mismatches_refused(app, client, seeded):
    assert _resolve(app, "X1", "2022_2025", "rural") is None
    reply = assign(client, seeded, "X1", DEMO_CODE)
    assert reply.status_code == 200, reply.json
    entry = next(
        a
        for a in reply.json["assignments"]
        if (a["standard"], a["area_type"]) == ("2022_2025", "rural")
    )
    assert (entry["table_code"], entry["table_version"], entry["usable"]) == (
        DEMO_CODE,
        "demo-1",
        True,
    )
    assert entry["disclaimer_vi"] == DEMO_LABEL_VI
    others = [a for a in reply.json["assignments"] if a is not entry and a["table_code"] is None]
    assert len(others) == len(reply.json["assignments"]) - 1  # every standard × area listed
    table = _resolve(app, "X1", "2022_2025", "rural")
    assert (table.code, table.version) == (DEMO_CODE, "demo-1")
    assert _resolve(app, "X1", "2022_2025", "urban") is None
    assert _resolve(app, "X1", "2027_2030", "rural") is None
    assert _resolve(app, "X2", "2022_2025", "rural") is None

    # An uploaded version of the same code is newer than the shipped one: it applies now.  The
    # shipped table is national: its new version comes from a national administrator.
    newer = yaml.safe_load((TABLES_DIR / f"{DEMO_CODE}.yaml").read_text(encoding="utf-8"))
    newer |= {"version": "demo-1-thu", "label_vi": TEST_LABEL}
    content = yaml.safe_dump(newer, allow_unicode=True).encode()
    assert upload(client, seeded, content, "moi.yaml").status_code == 403  # a province: no
    add_national_admin(app)
    assert upload(client, seeded, content, "moi.yaml", username="quocgia").status_code == 201
    assert _resolve(app, "X1", "2022_2025", "rural").version == "demo-1-thu"

    # A table for another income region, area type or standard is refused.
    upload(client, seeded, yaml_bytes(code="thu_dbsh", region="dong_bang_song_hong"), "dbsh.yaml")
    region = assign(client, seeded, "X1", "thu_dbsh")
    assert region.status_code == 400
    assert region.json["code"] == "b1_assignment.invalid"
    assert (
        "dành cho vùng dong_bang_song_hong; xã Xã Một thuộc vùng tay_nguyen"
        in region.json["message"]
    )
    assert set(region.json["details"]) == {"region"}
    area = assign(client, seeded, "X1", DEMO_CODE, area="urban")
    assert area.status_code == 400 and set(area.json["details"]) == {"area_type"}
    standard = assign(client, seeded, "X1", DEMO_CODE, standard="2027_2030")
    assert standard.status_code == 400 and set(standard.json["details"]) == {"standard"}
    unknown = assign(client, seeded, "X1", "khong_co")
    assert unknown.status_code == 400 and set(unknown.json["details"]) == {"table_code"}
    bad = assign(client, seeded, "X1", DEMO_CODE, standard="1999")
    assert bad.status_code == 400 and "standard" in bad.json["details"]
    malformed = client.put(
        "/api/v1/communes/X1/b1-tables",
        json={"standard": "2022_2025", "area_type": "nui"},
        headers=auth(seeded.admin, seeded.password),
        base_url=HTTPS,
    )
    assert malformed.status_code == 400
    assert set(malformed.json["details"]) == {"area_type", "table_code"}
    assert assign(client, seeded, "X9", DEMO_CODE).status_code == 404
    assert _resolve(app, "X1", "2022_2025", "rural").code == DEMO_CODE  # unchanged

    # The region-specific table works for a commune of that region.
    with app.app_context(), write_transaction(db.session):
        province = db.session.scalar(select(Province).where(Province.code == "P1"))
        db.session.add(
            Commune(
                province=province,
                code="X3",
                name="Xã Ba",
                region="dong_bang_song_hong",
                area_type=AreaType.RURAL,
            )
        )
    assert assign(client, seeded, "X3", "thu_dbsh").status_code == 200
    assert _resolve(app, "X3", "2022_2025", "rural").code == "thu_dbsh"

    removed = assign(client, seeded, "X1", None)
    assert removed.status_code == 200
    assert _resolve(app, "X1", "2022_2025", "rural") is None
    listed = get(client, seeded, "/api/v1/communes/X1/b1-tables", seeded.officer).json
    assert all(a["table_code"] is None for a in listed["assignments"])
    assert (listed["commune"], listed["region"], listed["area_type"]) == (
        "X1",
        "tay_nguyen",
        "rural",
    )


def test_a_table_whose_region_no_longer_fits_is_not_used(app, seeded):
    """Resolution checks the region itself: an assignment made before the commune moved to
    another income region gives "B1 not assessed", not a table for the wrong region."""
    content = table_content(table_from_dict(table_dict(code="thu_tn", region="tay_nguyen"), "t"))
    with app.app_context(), write_transaction(db.session):
        commune = db.session.scalar(select(Commune).where(Commune.code == "X1"))
        db.session.add(
            B1Table(
                code="thu_tn",
                version="t1",
                standard="2022_2025",
                region="tay_nguyen",
                area_type="rural",
                status="demo",
                label_vi=TEST_LABEL,
                source=TEST_SOURCE,
                content=content,
                origin="upload",
                sha256=content_sha256(content),
            )
        )
        db.session.add(
            CommuneB1Table(
                commune_id=commune.id, standard="2022_2025", area_type="rural", table_code="thu_tn"
            )
        )
    assert _resolve(app, "X1", "2022_2025", "rural").code == "thu_tn"
    with app.app_context(), write_transaction(db.session):
        db.session.scalar(select(Commune).where(Commune.code == "X1")).region = "bac_trung_bo"
    assert _resolve(app, "X1", "2022_2025", "rural") is None


# --- re-scoring after a change ---------------------------------------------------------------


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    webforms.ensure_installed()
    return fill(CASES["a_three_deprivations"], tmp_path_factory.mktemp("phieu_b"))


def _send(app, seeded, instance):
    phone = CollectClient(FlaskTransport(app), f"http://rasoat.test/key/{seeded.reviewer_token}")
    files = {name: path.read_bytes() for name, path in instance.files.items()}
    return [r.status for r in phone.submit(instance.xml, files)]


def _scores(app, instance_id):
    with app.app_context():
        scores = db.session.scalars(
            select(HouseholdScore)
            .join(Submission)
            .where(Submission.instance_id == instance_id)
            .order_by(HouseholdScore.id)
        ).all()
        db.session.expunge_all()
        return scores


def _job_states(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(ScoringJob.state).order_by(ScoringJob.id)))


def test_assignment_and_new_version_rescore_keeping_history(
    app, client, seeded, publish_shipped, filled
):
    publish_shipped("phieu_b_2022")
    assert _send(app, seeded, filled) == [201]
    [first] = _scores(app, filled.instance_id)
    assert (first.category, first.table_code) == ("chua_danh_gia", None)

    # Choosing the demo table re-scores the commune's submissions once the response is sent.
    reply = assign(client, seeded, "X1", DEMO_CODE)
    assert reply.json["rescore_queued"] == 1
    assert _job_states(app) == ["done", "pending"]  # queued in the same transaction
    reply.close()  # as a real server does once the body is sent (runs call_on_close)
    assert _job_states(app) == ["done", "done"]
    first, second = _scores(app, filled.instance_id)
    assert (first.current, second.current) == (False, True)
    assert (second.table_code, second.table_version) == (DEMO_CODE, "demo-1")
    assert second.result["b1_table_disclaimer"] == DEMO_LABEL_VI
    assert second.score_a is not None

    # The same assignment again changes nothing and queues nothing.
    again = assign(client, seeded, "X1", DEMO_CODE)
    again.close()
    assert again.json["rescore_queued"] == 0
    assert len(_scores(app, filled.instance_id)) == 2

    # A new version of the assigned table re-scores with that version; history is kept.
    newer = yaml.safe_load((TABLES_DIR / f"{DEMO_CODE}.yaml").read_text(encoding="utf-8"))
    newer |= {"version": "demo-2-thu", "label_vi": TEST_LABEL}
    newer["items"]["b1_pension"]["options"]["khong"] = 1
    add_national_admin(app)
    national = {"username": "quocgia"}
    reply = upload(
        client, seeded, yaml.safe_dump(newer, allow_unicode=True).encode(), "demo2.yaml", **national
    )
    assert reply.status_code == 201
    assert (reply.json["rescore_queued"], reply.json["communes"]) == (1, ["X1"])
    reply.close()
    scores = _scores(app, filled.instance_id)
    assert [s.current for s in scores] == [False, False, True]
    assert [s.table_version for s in scores] == [None, "demo-1", "demo-2-thu"]
    assert scores[-1].result["b1_table_version"] == "demo-2-thu"
    assert scores[-1].result["b1_table_disclaimer"] == DEMO_LABEL_VI
    assert scores[-1].inputs_sha256 == scores[1].inputs_sha256

    # Re-uploading the identical version re-scores nothing; neither does a table nobody uses.
    same = upload(
        client, seeded, yaml.safe_dump(newer, allow_unicode=True).encode(), "demo2.yaml", **national
    )
    same.close()
    assert (same.status_code, same.json["rescore_queued"]) == (200, 0)
    unused = upload(client, seeded, yaml_bytes(), "thu.yaml")
    unused.close()
    assert (unused.status_code, unused.json["rescore_queued"]) == (201, 0)
    assert len(_scores(app, filled.instance_id)) == 3


# --- command line ----------------------------------------------------------------------------


def test_cli_upload_table_and_use_table(app, seeded, tmp_path):
    runner = app.test_cli_runner()
    path = tmp_path / "thu.xlsx"
    path.write_bytes(xlsx_bytes())
    result = runner.invoke(args=["scoring", "upload-table", str(path)])
    assert result.exit_code == 0, result.output
    assert "b1 table thu_2022_nong_thon version t1: stored" in result.output
    assert DEMO_LABEL_VI in result.output
    again = runner.invoke(args=["scoring", "upload-table", str(path)])
    assert "already stored (identical)" in again.output

    bad = tmp_path / "hong.yaml"
    bad.write_bytes(yaml_bytes(area_type="mountain"))
    result = runner.invoke(args=["scoring", "upload-table", str(bad)])
    assert result.exit_code != 0 and "hong.yaml: area_type" in result.output

    result = runner.invoke(args=["scoring", "use-table", "X1", "thu_2022_nong_thon"])
    assert result.exit_code == 0, result.output
    assert _resolve(app, "X1", "2022_2025", "rural").code == "thu_2022_nong_thon"
    # The table says which standard and area type it is for: X2 (urban) uses it for its rural
    # villages, if any.
    result = runner.invoke(args=["scoring", "use-table", "X2", DEMO_CODE])
    assert result.exit_code == 0, result.output
    assert (
        "note: Bảng điểm B1 minh họa (nông thôn) — không phải số liệu chính thức" in result.output
    )
    assert _resolve(app, "X2", "2022_2025", "rural").code == DEMO_CODE
    assert _resolve(app, "X2", "2022_2025", "urban") is None
    other_region = tmp_path / "dbsh.yaml"
    other_region.write_bytes(yaml_bytes(code="thu_dbsh", region="dong_bang_song_hong"))
    assert runner.invoke(args=["scoring", "upload-table", str(other_region)]).exit_code == 0
    result = runner.invoke(args=["scoring", "use-table", "X1", "thu_dbsh"])
    assert result.exit_code != 0 and "dành cho vùng dong_bang_song_hong" in result.output
    result = runner.invoke(args=["scoring", "use-table", "X1", "khong_co"])
    assert result.exit_code != 0 and "Unknown table khong_co" in result.output
    result = runner.invoke(args=["scoring", "use-table", "X1"])
    assert result.exit_code == 0, result.output
    assert _resolve(app, "X1", "2022_2025", "rural") is None


# --- administrators' web pages ---------------------------------------------------------------


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.fixture
def browser(app):
    return app.test_client()  # keeps the session cookie, like a browser


def _login(browser, username: str, password: str):
    token = _csrf(browser.get("/login").get_data(as_text=True))
    return browser.post(
        "/login?next=/admin/b1-tables",
        data={"username": username, "password": password, "csrf_token": token},
    )


def test_page_requires_login_and_the_admin_role(browser, seeded):
    reply = browser.get("/admin/b1-tables")
    assert reply.status_code == 302
    assert reply.headers["Location"].startswith("/login?next=/admin/b1-tables")
    _login(browser, seeded.officer, seeded.password)
    assert browser.get("/admin/b1-tables").status_code == 403
    assert browser.get(f"/admin/b1-tables/{DEMO_CODE}/demo-1").status_code == 403


def _cells(xlsx: bytes) -> dict[str, list[tuple]]:
    book = load_workbook(io.BytesIO(xlsx))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def test_page_lists_tables_with_the_demo_badge_and_uploads(app, browser, seeded):
    assert _login(browser, seeded.admin, seeded.password).status_code == 302
    page = browser.get("/admin/b1-tables").get_data(as_text=True)
    assert 'href="/admin/b1-tables">Bảng điểm B1</a>' in page  # in the admin navigation
    assert re.search(rf'<span class="badge warn" data-status="demo">{DEMO_LABEL_VI}</span>', page)
    assert 'href="/admin/b1-tables/template.xlsx"' in page
    # The same workbook as the template function writes (cell by cell: the file itself carries
    # the time it was written).
    assert _cells(browser.get("/admin/b1-tables/template.xlsx").data) == _cells(template_xlsx())

    reply = browser.post(
        "/admin/b1-tables/upload",
        data={
            "file": (io.BytesIO(yaml_bytes(area_type="nui")), "hong.yaml"),
            "csrf_token": _csrf(page),
        },
    )
    assert reply.status_code == 400
    html = reply.get_data(as_text=True)
    assert 'role="alert"' in html
    assert "Không tải lên được hong.yaml:</strong> hong.yaml: area_type: Must be one of" in html
    assert count(app, B1Table) == 0

    reply = browser.post(
        "/admin/b1-tables/upload",
        data={"file": (io.BytesIO(xlsx_bytes()), "thu.xlsx"), "csrf_token": _csrf(page)},
    )
    assert reply.status_code == 302
    assert reply.headers["Location"] == "/admin/b1-tables/thu_2022_nong_thon/t1"
    detail = browser.get(reply.headers["Location"]).get_data(as_text=True)
    assert "Đã lưu bảng điểm thu_2022_nong_thon phiên bản t1." in detail
    assert re.search(
        rf'role="note" aria-label="Lưu ý về số liệu"><strong>Lưu ý:</strong> '
        rf'<span class="badge warn" data-status="demo">{DEMO_LABEL_VI}</span>',
        detail,
    )
    assert re.search(r"<td>từ 1 đến dưới 3</td>\s*<td>9</td>", detail)
    assert re.search(r"<td>từ 3 trở lên</td>\s*<td>2</td>", detail)
    assert re.search(r"<td><code>mot_nguoi</code></td>\s*<td>7</td>", detail)

    reply = browser.post(
        "/admin/b1-tables/upload",
        data={"file": (io.BytesIO(xlsx_bytes()), "thu.xlsx"), "csrf_token": _csrf(page)},
    )
    assert "đã có với nội dung giống hệt" in browser.get(reply.headers["Location"]).get_data(
        as_text=True
    )
    changed = table_dict()
    changed["items"]["b1_assets"]["options"]["tivi"] = 2
    reply = browser.post(
        "/admin/b1-tables/upload",
        data={
            "file": (io.BytesIO(yaml.safe_dump(changed).encode()), "sua.yaml"),
            "csrf_token": _csrf(page),
        },
    )
    assert reply.status_code == 409
    assert "phiên bản &#39;t1&#39; đã có" in reply.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(app, browser, seeded):
    _login(browser, seeded.admin, seeded.password)
    reply = browser.post(
        "/admin/b1-tables/upload", data={"file": (io.BytesIO(yaml_bytes()), "thu.yaml")}
    )
    assert reply.status_code == 400
    reply = browser.post("/admin/b1-tables/communes/X1", data={"2022_2025:rural": DEMO_CODE})
    assert reply.status_code == 400
    assert count(app, B1Table) == 0 and count(app, CommuneB1Table) == 0


def test_page_assigns_tables_per_commune(app, browser, seeded):
    _login(browser, seeded.admin, seeded.password)
    page = browser.get("/admin/b1-tables").get_data(as_text=True)
    assert '<section id="xa-X1">' in page and '<section id="xa-X2">' in page
    select_html = re.search(
        r'<select id="t-X1-2022_2025-rural" name="2022_2025:rural">(.*?)</select>', page, re.S
    ).group(1)
    assert '<option value="">— không dùng (B1 chưa đánh giá) —</option>' in select_html
    assert f'<option value="{DEMO_CODE}" >' in select_html
    urban = re.search(r'<select id="t-X1-2022_2025-urban" [^>]*>(.*?)</select>', page, re.S).group(
        1
    )
    assert DEMO_CODE not in urban  # a rural table is not offered for urban areas

    reply = browser.post(
        "/admin/b1-tables/communes/X1",
        data={"2022_2025:rural": DEMO_CODE, "2022_2025:urban": "", "csrf_token": _csrf(page)},
    )
    assert reply.status_code == 302 and reply.headers["Location"].endswith("#xa-X1")
    page = browser.get("/admin/b1-tables").get_data(as_text=True)
    assert "Đã lưu bảng điểm B1 cho Xã Một (2022_2025 nông thôn)" in page
    assert f'<option value="{DEMO_CODE}" selected>' in page
    assert _resolve(app, "X1", "2022_2025", "rural").code == DEMO_CODE

    # A crafted form naming a table of another area is refused with the reason.
    reply = browser.post(
        "/admin/b1-tables/communes/X1",
        data={"2022_2025:urban": DEMO_CODE, "csrf_token": _csrf(page)},
    )
    # Refused at once: the page again (4xx) with the reason and the tables as chosen.
    assert 400 <= reply.status_code < 500
    page = reply.get_data(as_text=True)
    assert "Không lưu được bảng điểm cho xã X1" in page
    assert "dùng cho khu vực nông thôn, không phải thành thị" in page
    assert _resolve(app, "X1", "2022_2025", "urban") is None

    reply = browser.post(
        "/admin/b1-tables/communes/X1", data={"2022_2025:rural": "", "csrf_token": _csrf(page)}
    )
    assert reply.status_code == 302
    assert _resolve(app, "X1", "2022_2025", "rural") is None
    assert (
        browser.post("/admin/b1-tables/communes/X9", data={"csrf_token": _csrf(page)}).status_code
        == 404
    )


# --- OpenAPI ---------------------------------------------------------------------------------


def test_openapi_describes_the_b1_table_endpoints(client):
    spec = client.get("/api/v1/openapi.json").json
    paths = spec["paths"]
    assert set(paths["/api/v1/b1-tables"]) == {"get", "post"}
    assert set(paths["/api/v1/communes/{code}/b1-tables"]) == {"get", "put"}
    put = paths["/api/v1/communes/{code}/b1-tables"]["put"]
    ref = put["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/B1AssignmentIn"
    assert "disclaimer_vi" in spec["components"]["schemas"]["B1TableOut"]["properties"]
    assert "multipart/form-data" in paths["/api/v1/b1-tables"]["post"]["requestBody"]["content"]
