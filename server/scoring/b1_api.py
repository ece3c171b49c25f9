"""JSON API over B1 point tables (``/api/v1/b1-tables``) and the table each commune uses
(``/api/v1/communes/<code>/b1-tables``).

Province administrators and commune officers read (an officer only their own commune's
assignments); only administrators upload tables and change assignments.  Every body in or out
goes through the marshmallow schemas below, which ``GET /api/v1/openapi.json`` also describes.
"""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select

from server.accounts.httpauth import api_guard
from server.accounts.models import ADMIN_ROLES, Role
from server.db import write_transaction
from server.errors import AppError
from server.extensions import db
from server.geography.models import Commune
from server.scoring.b1 import template_xlsx
from server.scoring.b1_store import (
    AREA_TYPES,
    STATUS_VI,
    XLSX_MIMETYPE,
    assign_table,
    assignments_of,
    catalog,
    catalog_entry,
    rescore_after_response,
    upload_table,
)

bp = Blueprint("b1_tables_api", __name__, url_prefix="/api/v1")
bp.before_request(
    api_guard(*ADMIN_ROLES, Role.OFFICER, forbidden_vi="Tài khoản không có quyền xem bảng điểm B1.")
)

TEMPLATE_NAME = "bang_diem_b1_mau.xlsx"


# --- schemas -------------------------------------------------------------------------------


class B1BandOut(Schema):
    min = fields.Float()
    max = fields.Float(allow_none=True)
    points = fields.Float()


class B1ItemOut(Schema):
    item = fields.String()
    kind = fields.String(metadata={"description": "choice, multi or band"})
    vi = fields.String()
    options = fields.Dict(keys=fields.String(), values=fields.Float())
    bands = fields.List(fields.Nested(B1BandOut))


class B1TableOut(Schema):
    code = fields.String()
    version = fields.String()
    standard = fields.String(attribute="table.standard")
    region = fields.String(attribute="table.region", metadata={"description": "* = every region"})
    area_type = fields.String(attribute="table.area_type")
    status = fields.String(
        attribute="table.status", metadata={"description": "official, provisional or demo"}
    )
    status_vi = fields.Function(lambda e: STATUS_VI[e.table.status])
    label_vi = fields.String(attribute="table.label_vi")
    source = fields.String(attribute="table.source")
    disclaimer_vi = fields.String(
        allow_none=True,
        metadata={"description": "Shown with every use of a demo or provisional table"},
    )
    origin = fields.String(metadata={"description": "shipped or upload"})
    filename = fields.String(allow_none=True)
    sha256 = fields.String()
    created_at = fields.DateTime(allow_none=True)
    uploaded_by = fields.String(allow_none=True)
    current = fields.Boolean(
        metadata={"description": "The newest version of its code, the one scoring uses"}
    )
    item_count = fields.Function(lambda e: len(e.table.items))


class B1TableDetailOut(B1TableOut):
    items = fields.Function(
        lambda e: B1ItemOut(many=True).dump(
            [{"item": name, **spec} for name, spec in e.table.items.items()]
        )
    )


class B1UploadOut(Schema):
    table = fields.Nested(B1TableDetailOut)
    created = fields.Boolean(metadata={"description": "False: this version was already stored"})
    rescore_queued = fields.Integer()
    communes = fields.List(fields.String(), metadata={"description": "Communes re-scored"})


class B1AssignmentOut(Schema):
    standard = fields.String()
    standard_vi = fields.String()
    area_type = fields.String()
    table_code = fields.String(allow_none=True)
    table_version = fields.String(allow_none=True)
    usable = fields.Boolean(
        metadata={"description": "False: no table, or the table no longer fits (B1 not assessed)"}
    )
    disclaimer_vi = fields.String(allow_none=True)


class CommuneB1TablesOut(Schema):
    commune = fields.String()
    name = fields.String()
    region = fields.String()
    area_type = fields.String()
    assignments = fields.List(fields.Nested(B1AssignmentOut))
    rescore_queued = fields.Integer()


class B1AssignmentIn(Schema):
    standard = fields.String(required=True)
    area_type = fields.String(required=True, validate=validate.OneOf(AREA_TYPES))
    table_code = fields.String(required=True, allow_none=True)


class ErrorOut(Schema):
    code = fields.String()
    message = fields.String()
    message_en = fields.String()
    details = fields.Dict()


SCHEMAS = (
    B1TableOut,
    B1TableDetailOut,
    B1UploadOut,
    B1AssignmentIn,
    CommuneB1TablesOut,
    ErrorOut,
)


# --- helpers -------------------------------------------------------------------------------


def _require_admin(*roles: Role) -> None:
    if g.actor.role not in (roles or (Role.ADMIN,)):
        raise AppError(
            "auth.forbidden",
            403,
            "Chỉ quản trị viên cấp tỉnh được tải lên hoặc gán bảng điểm B1.",
            "Only province administrators change B1 tables.",
        )


def _commune_or_404(code: str) -> Commune:
    actor = g.actor
    query = select(Commune).where(Commune.code == code)
    if actor.role == Role.ADMIN:
        query = query.where(Commune.province_id == actor.province_id)
    elif actor.role != Role.NATIONAL:  # national administrators read every commune
        query = query.where(Commune.id == actor.commune_id)
    commune = db.session.scalar(query)
    if commune is None:
        raise AppError(
            "commune.not_found",
            404,
            f"Không có xã '{code}' trong phạm vi của tài khoản.",
            "No such commune in your scope.",
        )
    return commune


def _commune_body(commune: Commune, queued: int | None = None) -> dict:
    body = {
        "commune": commune.code,
        "name": commune.name,
        "region": commune.region,
        "area_type": commune.area_type.value,
        "assignments": assignments_of(commune),
    }
    if queued is not None:
        body["rescore_queued"] = queued
    return CommuneB1TablesOut().dump(body)


# --- routes --------------------------------------------------------------------------------


@bp.get("/b1-tables")
def list_tables():
    """Every B1 point table version.
    ---
    get:
      summary: B1 point tables (every version; demo and provisional ones carry a disclaimer)
      security: [{basicAuth: []}, {digestAuth: []}]
      responses:
        200:
          description: The catalogue, by code, newest version first
          content:
            application/json:
              schema:
                type: array
                items: B1TableOut
    """
    return jsonify(B1TableOut(many=True).dump(catalog(g.actor)))


@bp.get("/b1-tables/template.xlsx")
def template():
    """The XLSX template.
    ---
    get:
      summary: The empty B1 table template to fill (sheets meta and points)
      security: [{basicAuth: []}, {digestAuth: []}]
      responses:
        200:
          description: An XLSX workbook
          content:
            application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: {}
    """
    response = Response(template_xlsx(), mimetype=XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{TEMPLATE_NAME}"'
    return response


@bp.get("/b1-tables/<code>/<version>")
def get_table(code: str, version: str):
    """One table version with its items.
    ---
    get:
      summary: One B1 table version with every item and its points
      security: [{basicAuth: []}, {digestAuth: []}]
      parameters:
        - {in: path, name: code, required: true, schema: {type: string}}
        - {in: path, name: version, required: true, schema: {type: string}}
      responses:
        200:
          description: The table
          content:
            application/json:
              schema: B1TableDetailOut
        404:
          description: No such table version
          content:
            application/json:
              schema: ErrorOut
    """
    entry = catalog_entry(code, version, g.actor)
    if entry is None:
        raise AppError(
            "b1_table.not_found",
            404,
            f"Không có bảng điểm '{code}' phiên bản '{version}'.",
            "No such B1 table version.",
        )
    return jsonify(B1TableDetailOut().dump(entry))


@bp.post("/b1-tables")
def upload():
    """Upload a table.
    ---
    post:
      summary: Upload a B1 table (XLSX from the template, or YAML) as a new version
      description: The same code and version with other content is refused (409); the
        identical table again changes nothing (200).  Communes using the code are re-scored.
      security: [{basicAuth: []}, {digestAuth: []}]
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              properties:
                file: {type: string, format: binary}
      responses:
        201:
          description: Stored
          content:
            application/json:
              schema: B1UploadOut
        200:
          description: This exact version was already stored
          content:
            application/json:
              schema: B1UploadOut
        400:
          description: Not a valid table; the message names the file and key
          content:
            application/json:
              schema: ErrorOut
        403:
          description: Not an administrator
        413:
          description: The workbook is too large once unzipped (zip entries, unzipped bytes,
            compression ratio, rows or cells; see MAX_XLSFORM_* settings)
          content:
            application/json:
              schema: ErrorOut
        409:
          description: This code and version exist with other content, or the code is used
            for another standard, area type or region
          content:
            application/json:
              schema: ErrorOut
    """
    _require_admin(*ADMIN_ROLES)
    upload_file = request.files.get("file")
    if upload_file is None or not upload_file.filename:
        raise AppError(
            "b1_table.no_file",
            400,
            "Hãy chọn tệp bảng điểm (.xlsx theo mẫu hoặc .yaml) ở trường 'file'.",
            "Send the table as the multipart field 'file'.",
        )
    content = upload_file.read()
    with write_transaction(db.session):
        result = upload_table(content, upload_file.filename, g.actor)
    body = B1UploadOut().dump(
        {
            "table": result.entry,
            "created": result.created,
            "rescore_queued": len(result.rescore_job_ids),
            "communes": result.communes,
        }
    )
    response = jsonify(body)
    response.status_code = 201 if result.created else 200
    return rescore_after_response(response, result.rescore_job_ids)


@bp.get("/communes/<code>/b1-tables")
def commune_tables(code: str):
    """A commune's tables.
    ---
    get:
      summary: The B1 table a commune uses for each standard and area type
      security: [{basicAuth: []}, {digestAuth: []}]
      parameters:
        - {in: path, name: code, required: true, schema: {type: string}}
      responses:
        200:
          description: One entry per standard × area type (table_code null, not assessed)
          content:
            application/json:
              schema: CommuneB1TablesOut
        404:
          description: No such commune in the account's scope
    """
    return jsonify(_commune_body(_commune_or_404(code)))


@bp.put("/communes/<code>/b1-tables")
def assign(code: str):
    """Choose a commune's table.
    ---
    put:
      summary: Use a B1 table (its newest version) for a commune, standard and area type
      description: table_code null removes the table (B1 not assessed).  The table must be
        for that standard and area type and for the commune's income region (or *).  A change
        re-scores the commune's current submissions after the response.
      security: [{basicAuth: []}, {digestAuth: []}]
      parameters:
        - {in: path, name: code, required: true, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/json:
            schema: B1AssignmentIn
      responses:
        200:
          description: The commune's tables after the change
          content:
            application/json:
              schema: CommuneB1TablesOut
        400:
          description: Invalid body, or a table that does not fit
          content:
            application/json:
              schema: ErrorOut
        403:
          description: Not an administrator
        404:
          description: No such commune in the account's province
    """
    _require_admin()
    try:
        data = B1AssignmentIn().load(request.get_json(silent=True) or {})
    except ValidationError as exc:
        raise AppError(
            "request.invalid", 400, "Dữ liệu gửi lên không hợp lệ.", "Invalid body.", exc.messages
        ) from None
    with write_transaction(db.session):
        commune = _commune_or_404(code)
        result = assign_table(commune, data["standard"], data["area_type"], data["table_code"])
        body = _commune_body(commune, len(result.rescore_job_ids))
    return rescore_after_response(jsonify(body), result.rescore_job_ids)


def register_openapi(spec, operations) -> None:
    """Add these endpoints to the OpenAPI description (``server.scoring.routes.openapi``)."""
    spec.components.security_scheme("basicAuth", {"type": "http", "scheme": "basic"})
    spec.components.security_scheme("digestAuth", {"type": "http", "scheme": "digest"})
    for schema in SCHEMAS:
        spec.components.schema(schema.__name__, schema=schema)
    for path, views in (
        ("/api/v1/b1-tables", (list_tables, upload)),
        ("/api/v1/b1-tables/template.xlsx", (template,)),
        ("/api/v1/b1-tables/{code}/{version}", (get_table,)),
        ("/api/v1/communes/{code}/b1-tables", (commune_tables, assign)),
    ):
        merged: dict = {}
        for view in views:
            merged.update(operations(view.__doc__))
        spec.path(path=path, operations=merged)
