"""B1 point tables as data administrators upload (XLSX template or YAML), and the table each
commune uses per standard and area type.  Services flush; callers commit.

* A table version never changes once stored: the same (code, version) with other content is
  refused, the identical table again is accepted and changes nothing.
* A new version of a code keeps the code's standard, area type and income region (assignments
  are made per standard and area type, and checked against the commune's region).
* Changing what a commune uses (an assignment, or a new version of a table assigned to it)
  queues every current submission of the commune for scoring again, in the same transaction;
  :func:`rescore_after_response` processes the queue once the response is sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import yaml
from flask import Response, current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from server.accounts.models import Role, User
from server.accounts.ownership import may_see, owner_for_new, require_manage, visible
from server.audit.services import record
from server.documents.spreadsheets import XlsxLimits, check_xlsx
from server.errors import AppError
from server.extensions import db
from server.geography.models import Commune
from server.scoring.b1 import PointTable, load_table_xlsx, table_from_dict
from server.scoring.models import B1Table, CommuneB1Table, ScoringJob
from server.scoring.services import enqueue_rescore, process_jobs
from server.scoring.standards import StandardError, all_standards
from server.scoring.tables import (
    ANY_REGION,
    content_sha256,
    current_table,
    newest_row,
    region_matches,
    shipped_catalog,
    table_content,
    table_from_row,
)

AREA_TYPES = ("rural", "urban")
AREA_VI = {"rural": "nông thôn", "urban": "thành thị"}
ORIGIN_VI = {"shipped": "kèm theo phần mềm", "upload": "tải lên"}
STATUS_VI = {"official": "chính thức", "provisional": "tạm thời", "demo": "minh họa"}
MAX_TABLE_BYTES = 2_000_000
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_REGION = re.compile(r"^(\*|[a-z0-9_]+)$")
_LIMITS = {"code": 100, "version": 50, "region": 50}


# --- reading a file ------------------------------------------------------------------------


def _invalid(message: str, filename: str) -> AppError:
    return AppError(
        "b1_table.invalid",
        400,
        message,
        f"Invalid B1 point table: {message}",
        {"file": filename},
    )


def parse_table_file(content: bytes, filename: str) -> PointTable:
    """Read and validate an uploaded table: the XLSX template (recognised by its ZIP header)
    or YAML.

    :raises AppError: 400, the message naming the file and each offending key.
    """
    name = filename or "bảng điểm"
    if not content:
        raise _invalid(f"{name}: tệp rỗng.", name)
    if len(content) > MAX_TABLE_BYTES:
        raise _invalid(f"{name}: tệp quá lớn (tối đa {MAX_TABLE_BYTES // 1000} kB).", name)
    try:
        if content.startswith(b"PK\x03\x04"):
            _check_workbook(content, name)
            table = load_table_xlsx(content, name)
        else:
            table = table_from_dict(_read_yaml(content, name), name)
    except StandardError as exc:
        raise _invalid(str(exc), name) from None
    problems = _extra_problems(table)
    if problems:
        raise _invalid(f"{name}: " + "; ".join(problems), name)
    return table


def _check_workbook(content: bytes, name: str) -> None:
    """Refuse a workbook too large once unzipped before openpyxl reads it (a corrupt one is
    left to :func:`load_table_xlsx`, which names the file)."""
    try:
        check_xlsx(
            content,
            XlsxLimits.from_config(current_app.config),
            what_vi=f"Bảng điểm {name}",
            what_en=f"B1 table {name}",
        )
    except AppError as error:
        if error.code != "spreadsheet.unreadable":
            raise


def _read_yaml(content: bytes, name: str) -> object:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise StandardError(
            f"{name}: không phải tệp XLSX theo mẫu, cũng không phải YAML UTF-8."
        ) from None
    try:
        # Aliases could expand a small file into a huge table: refuse them.
        if any(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, Loader=yaml.SafeLoader)):
            raise StandardError(f"{name}: YAML không được dùng alias (*tên).")
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" dòng {mark.line + 1}" if mark is not None else ""
        raise StandardError(f"{name}: YAML không hợp lệ{where}.") from None


def _extra_problems(table: PointTable) -> list[str]:
    """What the table schema lets through but rasoat needs."""
    problems = []
    standards = all_standards()
    if table.standard not in standards:
        problems.append(
            f"standard: không có chuẩn nghèo '{table.standard}' (có: {', '.join(standards)})"
        )
    problems.extend(
        f"{key}: không được để trống"
        for key in ("version", "label_vi", "source")
        if not getattr(table, key).strip()
    )
    if not _REGION.match(table.region):
        problems.append(
            f"region: '{table.region}' không hợp lệ (mã vùng thu nhập, chữ thường và _, "
            "hoặc * cho mọi vùng)"
        )
    problems.extend(
        f"{key}: dài quá {limit} ký tự"
        for key, limit in _LIMITS.items()
        if len(getattr(table, key)) > limit
    )
    return problems


# --- the catalogue -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One table version as shown to staff."""

    table: PointTable
    origin: str  # shipped, upload
    sha256: str
    filename: str | None = None
    created_at: datetime | None = None  # None: shipped, not yet recorded in the database
    uploaded_by: str | None = None
    current: bool = False  # the newest version of its code, the one scoring uses
    province_id: int | None = None  # the owner (None: national)

    @property
    def code(self) -> str:
        return self.table.code

    @property
    def version(self) -> str:
        return self.table.version

    @property
    def disclaimer_vi(self) -> str | None:
        return self.table.disclaimer_vi


def catalog(actor: User | None = None) -> list[CatalogEntry]:
    """Every table version ``actor`` may see (national ones and their province's; None: all),
    by code, newest first; shipped tables not yet recorded last."""
    rows = db.session.execute(
        select(B1Table, User.username)
        .outerjoin(User, User.id == B1Table.uploaded_by_id)
        .where(visible(B1Table.province_id, actor))
        .order_by(B1Table.code, B1Table.created_at.desc(), B1Table.id.desc())
    ).all()
    entries = []
    seen: set[tuple[str, str]] = set()
    recorded_codes: set[str] = set()
    for row, username in rows:
        entries.append(
            CatalogEntry(
                table=table_from_row(row),
                origin=row.origin,
                sha256=row.sha256,
                filename=row.filename,
                created_at=row.created_at,
                uploaded_by=username,
                current=row.code not in recorded_codes,  # rows come newest first
                province_id=row.province_id,
            )
        )
        seen.add((row.code, row.version))
        recorded_codes.add(row.code)
    # A shipped code another province took before it shipped stays theirs (and unseen).
    hidden = set(
        db.session.scalars(
            select(B1Table.code).where(~visible(B1Table.province_id, actor)).distinct()
        )
    )
    shipped = [
        t for t in shipped_catalog() if (t.code, t.version) not in seen and t.code not in hidden
    ]
    last_of_code = {t.code: t for t in shipped}
    entries.extend(
        CatalogEntry(
            table=t,
            origin="shipped",
            sha256=content_sha256(table_content(t)),
            current=t.code not in recorded_codes and last_of_code[t.code] is t,
        )
        for t in shipped
    )
    return sorted(entries, key=lambda e: (e.code, e.created_at is None))


def catalog_entry(code: str, version: str, actor: User | None = None) -> CatalogEntry | None:
    """One version ``actor`` may see (None: not found, or another province's)."""
    return next((e for e in catalog(actor) if (e.code, e.version) == (code, version)), None)


def owner_of_code(code: str) -> tuple[bool, int | None]:
    """(whether the code is known, its owning province: None = national)."""
    row = newest_row(code)
    if row is not None:
        return True, row.province_id
    return code in {t.code for t in shipped_catalog()}, None


def sync_shipped_tables() -> list[str]:
    """Record the shipped tables not yet in ``b1_tables`` (origin ``shipped``), so they take
    their place by date among uploads.  Returns the codes whose current version this changed
    (a shipped version of a code that already had recorded versions)."""
    changed = []
    for table in shipped_catalog():
        exists = db.session.scalar(
            select(B1Table.id).where(B1Table.code == table.code, B1Table.version == table.version)
        )
        if exists is not None:
            continue
        had_versions = newest_row(table.code) is not None
        if _insert(table, origin="shipped", filename=None, uploaded_by=None) and had_versions:
            changed.append(table.code)
    return changed


def _insert(
    table: PointTable,
    *,
    origin: str,
    filename: str | None,
    uploaded_by: User | None,
    province_id: int | None = None,
) -> B1Table | None:
    """Insert a version; None when another transaction stored the same (code, version)."""
    content = table_content(table)
    row = B1Table(
        code=table.code,
        version=table.version,
        standard=table.standard,
        region=table.region,
        area_type=table.area_type,
        status=table.status,
        label_vi=table.label_vi,
        source=table.source,
        content=content,
        origin=origin,
        filename=filename,
        sha256=content_sha256(content),
        uploaded_by_id=uploaded_by.id if uploaded_by is not None else None,
        province_id=province_id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        return None
    return row


# --- upload --------------------------------------------------------------------------------


@dataclass(slots=True)
class UploadResult:
    entry: CatalogEntry
    created: bool  # False: this exact version was already stored
    rescore_job_ids: list[int] = field(default_factory=list)
    communes: list[str] = field(default_factory=list)  # codes of the communes re-scored


def upload_table(content: bytes, filename: str, uploaded_by: User | None) -> UploadResult:
    """Validate and store an uploaded table version (see the module's rules).

    :raises AppError: 400 invalid file, 409 a stored version or code it contradicts.
    """
    table = parse_table_file(content, filename)
    sha = content_sha256(table_content(table))
    changed_codes = sync_shipped_tables()
    province_id = _check_owner(table.code, uploaded_by)
    existing = _stored(table.code, table.version)
    if existing is None:
        _check_same_kind(table)
        row = _insert(
            table,
            origin="upload",
            filename=filename,
            uploaded_by=uploaded_by,
            province_id=province_id,
        )
        existing = row if row is not None else _stored(table.code, table.version)
        created = row is not None
    else:
        created = False
    if existing.sha256 != sha:
        raise AppError(
            "b1_table.version_conflict",
            409,
            f"Bảng điểm '{table.code}' phiên bản '{table.version}' đã có "
            f"(lưu lúc {existing.created_at:%d/%m/%Y %H:%M}) với nội dung khác. Một phiên bản "
            "đã lưu không được sửa: hãy ghi phiên bản mới (version) trong tệp rồi tải lên lại.",
            f"Table {table.code} version {table.version} already exists with other content; "
            "give the corrected table a new version.",
            {"code": table.code, "version": table.version},
        )
    if created:
        changed_codes.append(table.code)
    job_ids, communes = queue_rescore_for_codes(changed_codes)
    if created:
        record(
            "b1_table.upload",
            "b1_table",
            f"{table.code}/{table.version}",
            after={
                "code": table.code,
                "version": table.version,
                "standard": table.standard,
                "region": table.region,
                "area_type": table.area_type,
                "status": table.status,
                "filename": filename,
                "sha256": sha,
            }
            | ({"rescored_communes": communes} if communes else {}),
            actor_id=uploaded_by.id if uploaded_by is not None else None,
            province_id=province_id,
        )
    entry = catalog_entry(table.code, table.version)
    return UploadResult(entry, created, job_ids, communes)


def _check_owner(code: str, actor: User | None) -> int | None:
    """The province that will own this upload: a new code is the uploader's; a new version of
    a known code only from the code's owner (a province never re-versions, and so re-scores,
    another's or a national table).

    :raises AppError: ``b1_table.code_taken`` (409) a code another province owns,
        ``ownership.forbidden`` (403) a national code uploaded by a province.
    """
    known, owner = owner_of_code(code)
    if not known:
        return owner_for_new(actor)
    if not may_see(actor, owner):
        raise AppError(
            "b1_table.code_taken",
            409,
            f"Mã bảng '{code}' đã được dùng trên máy chủ này. Hãy đặt mã (code) khác trong tệp.",
            f"The table code '{code}' is already used on this server; choose another code.",
            {"code": code},
        )
    require_manage(actor, owner, f"bảng điểm B1 '{code}'", f"B1 table '{code}'")
    return owner


def _stored(code: str, version: str) -> B1Table | None:
    return db.session.scalar(
        select(B1Table).where(B1Table.code == code, B1Table.version == version)
    )


def _check_same_kind(table: PointTable) -> None:
    previous = newest_row(table.code)
    if previous is None:
        return
    before = (previous.standard, previous.area_type, previous.region)
    if before != (table.standard, table.area_type, table.region):
        raise AppError(
            "b1_table.code_conflict",
            409,
            f"Mã bảng '{table.code}' đang dùng cho chuẩn {previous.standard}, khu vực "
            f"{AREA_VI.get(previous.area_type, previous.area_type)}, vùng {previous.region}; "
            "phiên bản mới phải cùng chuẩn, khu vực và vùng. Hãy dùng mã bảng khác.",
            f"Table code {table.code} is for standard {previous.standard}, area "
            f"{previous.area_type}, region {previous.region}; use another code.",
            {"code": table.code},
        )


# --- assignments ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assignment:
    standard: str
    standard_vi: str
    area_type: str
    table_code: str | None
    table: PointTable | None  # the version scoring uses now (None: not assessed)
    usable: bool  # False: assigned, but the table is missing or no longer fits

    @property
    def area_vi(self) -> str:
        return AREA_VI[self.area_type]

    @property
    def table_version(self) -> str | None:
        return self.table.version if self.table else None

    @property
    def disclaimer_vi(self) -> str | None:
        return self.table.disclaimer_vi if self.table else None


def assignments_of(commune: Commune) -> list[Assignment]:
    """Every standard × area type with the table the commune uses (or none)."""
    assigned = {
        (a.standard, a.area_type): a.table_code
        for a in db.session.scalars(
            select(CommuneB1Table).where(CommuneB1Table.commune_id == commune.id)
        )
    }
    result = []
    for code, standard in sorted(all_standards().items()):
        for area in AREA_TYPES:
            table_code = assigned.get((code, area))
            table = current_table(table_code) if table_code else None
            usable = table is not None and _fits(table, commune, code, area)
            result.append(Assignment(code, standard.name_vi, area, table_code, table, usable))
    return result


def _fits(table: PointTable, commune: Commune, standard: str, area: str) -> bool:
    return (table.standard, table.area_type) == (standard, area) and region_matches(
        table, commune.region
    )


def choices_for(commune: Commune, tables: Iterable[CatalogEntry]) -> dict[tuple[str, str], list]:
    """The current tables a commune may use, per (standard, area type)."""
    options: dict[tuple[str, str], list] = {}
    for entry in tables:
        if entry.current and region_matches(entry.table, commune.region):
            key = (entry.table.standard, entry.table.area_type)
            options.setdefault(key, []).append(entry)
    return options


@dataclass(slots=True)
class AssignResult:
    changed: bool
    rescore_job_ids: list[int]


def assign_table(
    commune: Commune, standard: str, area_type: str, table_code: str | None
) -> AssignResult:
    """Use table ``table_code`` (its newest version) for ``commune`` under ``standard`` in
    ``area_type`` areas; None: no table (B1 not assessed).

    :raises AppError: 400 an unknown standard, area type or table, or a table made for another
        standard, area type or income region.
    """
    errors: dict[str, list[str]] = {}
    if standard not in all_standards():
        errors["standard"] = [
            f"Không có chuẩn nghèo '{standard}' (có: {', '.join(all_standards())})."
        ]
    if area_type not in AREA_TYPES:
        errors["area_type"] = ["Khu vực phải là rural (nông thôn) hoặc urban (thành thị)."]
    table = None
    if table_code:
        table = current_table(table_code)
        _known, owner = owner_of_code(table_code)
        if table is None or owner not in (None, commune.province_id):
            table = None
            errors["table_code"] = [f"Không có bảng điểm B1 '{table_code}'."]
        elif not errors:
            errors.update(_mismatch(table, commune, standard, area_type))
    if errors:
        message = " ".join(m for messages in errors.values() for m in messages)
        raise AppError(
            "b1_assignment.invalid",
            400,
            message,
            "This table cannot be used for this commune, standard and area type.",
            errors,
        )
    changed_codes = sync_shipped_tables()
    row = db.session.scalar(
        select(CommuneB1Table).where(
            CommuneB1Table.commune_id == commune.id,
            CommuneB1Table.standard == standard,
            CommuneB1Table.area_type == area_type,
        )
    )
    before = row.table_code if row else None
    changed = before != (table_code or None)
    if row is not None and not table_code:
        db.session.delete(row)
    elif row is not None:
        row.table_code = table_code
    elif table_code:
        db.session.add(
            CommuneB1Table(
                commune_id=commune.id,
                standard=standard,
                area_type=area_type,
                table_code=table_code,
            )
        )
    db.session.flush()
    job_ids, _communes = queue_rescore_for_codes(changed_codes)
    if changed:
        job_ids += queue_rescore([commune.id])
        key = f"{standard}/{area_type}"
        record(
            "b1_table.assign",
            "commune",
            commune.code,
            commune_id=commune.id,
            before={key: before},
            after={key: table_code or None},
        )
    return AssignResult(changed, job_ids)


def _mismatch(table: PointTable, commune: Commune, standard: str, area: str) -> dict:
    errors = {}
    if table.standard != standard:
        errors["standard"] = [
            f"Bảng '{table.code}' dùng cho chuẩn {table.standard}, không phải {standard}."
        ]
    if table.area_type != area:
        errors["area_type"] = [
            f"Bảng '{table.code}' dùng cho khu vực {AREA_VI[table.area_type]}, "
            f"không phải {AREA_VI.get(area, area)}."
        ]
    if not region_matches(table, commune.region):
        errors["region"] = [
            f"Bảng '{table.code}' dành cho vùng {table.region}; xã {commune.name} "
            f"thuộc vùng {commune.region}."
        ]
    return errors


def communes_in_scope(actor: User) -> list[Commune]:
    """The communes whose tables a staff member may see (an administrator: the province's;
    an officer: their own; a national administrator: none — each province chooses)."""
    query = select(Commune).order_by(Commune.code)
    if actor.role == Role.NATIONAL:
        return []
    if actor.role == Role.ADMIN:
        query = query.where(Commune.province_id == actor.province_id)
    else:
        query = query.where(Commune.id == actor.commune_id)
    return list(db.session.scalars(query))


# --- re-scoring ----------------------------------------------------------------------------


def queue_rescore(commune_ids: Iterable[int]) -> list[int]:
    """Queue the communes' current submissions for scoring again; returns the new job ids."""
    ids = sorted(set(commune_ids))
    if not ids:
        return []
    start = db.session.scalar(select(func.max(ScoringJob.id))) or 0
    for commune_id in ids:
        enqueue_rescore(commune_id)
    return list(
        db.session.scalars(
            select(ScoringJob.id)
            .where(ScoringJob.id > start, ScoringJob.reason == "rescore")
            .order_by(ScoringJob.id)
        )
    )


def queue_rescore_for_codes(codes: Iterable[str]) -> tuple[list[int], list[str]]:
    """Queue the communes using any of the table ``codes`` (their current version changed)."""
    codes = sorted(set(codes))
    if not codes:
        return [], []
    communes = db.session.execute(
        select(Commune.id, Commune.code)
        .join(CommuneB1Table, CommuneB1Table.commune_id == Commune.id)
        .where(CommuneB1Table.table_code.in_(codes))
        .distinct()
        .order_by(Commune.code)
    ).all()
    return queue_rescore(c.id for c in communes), [c.code for c in communes]


def rescore_after_response(response: Response, job_ids: list[int]) -> Response:
    """Score the queued jobs once the response has been sent (as after ingest); a failure
    leaves them for ``flask scoring run``."""
    if job_ids:
        app = current_app._get_current_object()
        response.call_on_close(lambda: _process(app, list(job_ids)))
    return response


def _process(app, job_ids: list[int]) -> None:
    with app.app_context():
        try:
            process_jobs(job_ids)
        except Exception:
            app.logger.exception("re-scoring after a B1 table change failed")
        finally:
            db.session.remove()


def region_label(region: str) -> str:
    return "mọi vùng" if region == ANY_REGION else region
