"""``POST /api/v1/score``: canonical household facts in, classification with explanation out.

Stateless and read-only, so a self-assessment app or another system may call it without an
account.  ``GET /api/v1/openapi.json`` describes it (OpenAPI 3, generated from the schemas).
"""

from __future__ import annotations

from datetime import date

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, jsonify, request
from marshmallow import ValidationError

from server.errors import AppError
from server.scoring.engine import CATEGORY_VI, score_household
from server.scoring.schemas import ScoreOut, ScoreRequest
from server.scoring.standards import StandardError, all_standards, standard_for_year
from server.scoring.tables import shipped_tables

bp = Blueprint("scoring_api", __name__, url_prefix="/api/v1")


@bp.post("/score")
def score():
    """Score one household.
    ---
    post:
      summary: Classify a household (poor, near-poor, …) with the reasons
      requestBody:
        required: true
        content:
          application/json:
            schema: ScoreRequest
      responses:
        200:
          description: The classification, scores and explanation
          content:
            application/json:
              schema: ScoreOut
        400:
          description: Every field error of the request
    """
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise AppError("request.invalid", 400, "Cần gửi JSON.", "A JSON object is required.", {})
    try:
        data = ScoreRequest().load(payload)
    except ValidationError as exc:
        raise AppError(
            "request.invalid",
            400,
            "Dữ liệu hộ không hợp lệ.",
            "Invalid household.",
            exc.messages,
        ) from None
    try:
        if "standard" in data:
            standard = all_standards()[data["standard"]]
        else:
            standard = standard_for_year(data.get("year", date.today().year))
    except (KeyError, StandardError):
        raise AppError(
            "score.no_standard",
            400,
            "Không có chuẩn nghèo phù hợp.",
            "No such standard.",
            {"standard": sorted(all_standards())},
        ) from None
    table = None
    if data["b1_table"] is not None:
        table = shipped_tables().get(data["b1_table"])
        if table is None:
            raise AppError(
                "score.no_table",
                400,
                "Không có bảng điểm B1 này.",
                "No such B1 table.",
                {"b1_table": sorted(shipped_tables())},
            )
    result = score_household(data["household"], standard, table)
    body = ScoreOut().dump(result)
    body["category_vi"] = CATEGORY_VI[result.category]
    return jsonify(body)


@bp.get("/openapi.json")
def openapi():
    spec = APISpec(
        title="rasoat scoring API",
        version="1",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "Chấm điểm hộ gia đình theo chuẩn nghèo đa chiều (dữ liệu chuẩn "
            "có phiên bản; các giá trị tạm thời được đánh dấu)."
        },
    )
    spec.components.schema("ScoreRequest", schema=ScoreRequest)
    spec.components.schema("ScoreOut", schema=ScoreOut)
    spec.path(path="/api/v1/score", operations=_operations(score.__doc__))
    return jsonify(spec.to_dict())


def _operations(docstring: str) -> dict:
    import yaml

    return yaml.safe_load(docstring.split("---", 1)[1])
