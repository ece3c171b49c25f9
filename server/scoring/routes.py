"""``POST /api/v1/score``: canonical household facts in, classification with explanation out.

Stateless and read-only, so a self-assessment app or another system may call it without an
account.  ``GET /api/v1/openapi.json`` describes it (OpenAPI 3, generated from the schemas).
Facts are canonical codes; with ``form_id`` (a shipped Phiếu B) the reasons name coded answers
by that form's choice labels, without it by their codes.
"""

from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, current_app, g, jsonify, request
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from server.access.services import record_access, submission_households
from server.accounts.httpauth import api_guard
from server.accounts.models import Role
from server.errors import AppError
from server.extensions import db
from server.i18n import vi_number, vietnam_today
from server.ratelimit.service import hit
from server.scoring.engine import CATEGORY_VI, score_household
from server.scoring.models import HouseholdScore, ScoringJob
from server.scoring.rules import NO_WORDS
from server.scoring.schemas import ScoreOut, ScoreRequest
from server.scoring.standards import StandardError, all_standards, standard_for_year
from server.scoring.tables import current_table, region_matches, shipped_tables
from server.scoring.wording import shipped_forms, shipped_words
from server.submissions.models import Submission, SubmissionVersion
from server.submissions.scope import in_scope

bp = Blueprint("scoring_api", __name__, url_prefix="/api/v1")


@bp.post("/score")
def score():
    """Score one household.
    ---
    post:
      summary: Classify a household (poor, near-poor, …) with the reasons
      description: >-
        Facts are canonical codes (those of the shipped Phiếu B choice lists). The reasons and
        the explanation name coded answers by the choice labels of the shipped form given as
        form_id, and by their canonical code when no form_id is given.
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
          description: >-
            Every field error of the request (or a list, string or number too long); an
            unknown form_id (score.no_form, listing the shipped forms)
        413:
          description: The body is larger than the limit
        429:
          description: Too many requests from this address; see Retry-After
    """
    config = current_app.config
    verdict = hit(
        "score",
        request.remote_addr or "",
        limit=int(config["SCORE_RATE_LIMIT"]),
        window_seconds=int(config["SCORE_RATE_WINDOW_SECONDS"]),
    )
    if not verdict.allowed:
        error = AppError(
            "request.rate_limited",
            429,
            f"Quá nhiều yêu cầu chấm điểm từ địa chỉ này (tối đa {verdict.limit} mỗi "
            f"{config['SCORE_RATE_WINDOW_SECONDS']} giây); hãy thử lại sau "
            f"{verdict.retry_after} giây.",
            f"Too many scoring requests from this address (at most {verdict.limit} per "
            f"{config['SCORE_RATE_WINDOW_SECONDS']} s); retry in {verdict.retry_after} s.",
            {"retry_after": verdict.retry_after},
        )
        response = jsonify(error.to_dict())
        response.status_code = 429
        response.headers["Retry-After"] = str(verdict.retry_after)
        return response
    payload = _json_body(int(config["SCORE_MAX_BODY_BYTES"]))
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
            standard = standard_for_year(data.get("year", vietnam_today().year))
    except (KeyError, StandardError):
        raise AppError(
            "score.no_standard",
            400,
            "Không có chuẩn nghèo phù hợp.",
            "No such standard.",
            {"standard": sorted(all_standards())},
        ) from None
    household = data["household"]
    if data["b1_score"] is not None:
        given = [k for k in ("b1_table",) if data[k] is not None]
        given += ["household.b1"] if household.b1 else []
        if given:
            raise AppError(
                "score.b1_conflict",
                400,
                "Gửi điểm B1 (b1_score) hoặc câu trả lời B1 cùng bảng điểm, không gửi cả hai: "
                + ", ".join(given)
                + ".",
                "Send a B1 score (b1_score) or B1 answers with a point table, not both: "
                + ", ".join(given)
                + ".",
                {"conflict": ["b1_score", *given]},
            )
    table = None
    if data["b1_table"] is not None:
        table = current_table(data["b1_table"])  # its newest version, uploaded or shipped
        if table is None:
            raise AppError(
                "score.no_table",
                400,
                "Không có bảng điểm B1 này.",
                "No such B1 table.",
                {"b1_table": sorted(shipped_tables())},
            )
        _check_table_fits(table, standard.code, household)
    result = score_household(
        household, standard, table, b1_score=data["b1_score"], words=_words(data["form_id"])
    )
    if result.b1 is not None and result.b1.invalid:
        _refuse_invalid_b1(table, result.b1.invalid)
    body = ScoreOut().dump(result)
    body["category_vi"] = CATEGORY_VI[result.category]
    return jsonify(body)


def _words(form_id: str | None):
    """The choice labels of a shipped form for the reasons; codes without a form."""
    if form_id is None:
        return NO_WORDS
    try:
        return shipped_words(form_id)
    except KeyError:
        raise AppError(
            "score.no_form",
            400,
            "Không có biểu mẫu Phiếu B này để lấy nhãn câu trả lời.",
            "No such shipped Phiếu B form to word the answers with.",
            {"form_id": shipped_forms()},
        ) from None


def _refuse_invalid_b1(table, items: tuple[str, ...]) -> None:
    """B1 answers the table cannot score are the caller's mistake, not missing facts: 400
    naming each item and what the table accepts."""
    accepted = {}
    for item in items:
        spec = table.items[item]
        if spec["kind"] == "band":
            accepted[item] = "number"
        else:
            accepted[item] = sorted(spec["options"])
    raise AppError(
        "score.b1_invalid",
        400,
        f"Câu trả lời B1 không hợp lệ với bảng điểm {table.code}: " + ", ".join(items) + ".",
        f"B1 answers the table {table.code} cannot score: " + ", ".join(items) + ".",
        details={"b1_invalid": accepted},
    )


def _check_table_fits(table, standard_code: str, household) -> None:
    """A B1 table of another standard, area type or income region is refused, naming each
    mismatch (scoring with it would silently give no B1 verdict)."""
    mismatches = {}
    if table.standard != standard_code:
        mismatches["standard"] = {"table": table.standard, "household": standard_code}
    if household.area_type is not None and table.area_type != household.area_type:
        mismatches["area_type"] = {"table": table.area_type, "household": household.area_type}
    if household.region is not None and not region_matches(table, household.region):
        mismatches["region"] = {"table": table.region, "household": household.region}
    if not mismatches:
        return
    vi = {"standard": "chuẩn", "area_type": "khu vực", "region": "vùng"}
    raise AppError(
        "score.table_mismatch",
        400,
        f"Bảng điểm B1 {table.code} không dùng được cho hộ này: "
        + "; ".join(
            f"{vi[k]} của bảng là {v['table']}, của hộ là {v['household']}"
            for k, v in mismatches.items()
        )
        + ".",
        f"B1 table {table.code} does not fit this household: "
        + "; ".join(
            f"{k} is {v['table']} in the table, {v['household']} for the household"
            for k, v in mismatches.items()
        )
        + ".",
        {"b1_table": table.code, "mismatch": mismatches},
    )


def _json_body(max_bytes: int):
    """The request's JSON object, read only up to ``max_bytes`` (also without Content-Length)."""
    too_large = AppError(
        "request.too_large",
        413,
        f"Yêu cầu quá lớn (tối đa {vi_number(max_bytes)} byte).",
        f"The request is too large (at most {max_bytes:,} bytes).",
        {"max_bytes": max_bytes},
    )
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large
    request.max_content_length = max_bytes
    try:
        request.get_data(cache=True)
        payload = request.get_json(silent=True)
    except RequestEntityTooLarge:
        raise too_large from None
    except RecursionError:  # JSON nested thousands deep
        payload = None
    if not isinstance(payload, dict):
        raise AppError("request.invalid", 400, "Cần gửi JSON.", "A JSON object is required.", {})
    return payload


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
    from server.scoring.b1_api import register_openapi

    register_openapi(spec, _operations)
    return jsonify(spec.to_dict())


def _operations(docstring: str) -> dict:
    import yaml

    return yaml.safe_load(docstring.split("---", 1)[1])


staff_bp = Blueprint("scoring_staff_api", __name__, url_prefix="/api/v1/submissions")
staff_bp.before_request(
    api_guard(Role.ADMIN, Role.OFFICER, forbidden_vi="Tài khoản không có quyền xem phiếu.")
)


@staff_bp.get("/<int:submission_id>/score")
def submission_score(submission_id: int):
    """The submission's current result with its explanation, its history and scoring state."""
    submission = db.session.scalar(
        select(Submission).where(Submission.id == submission_id, in_scope(g.actor))
    )
    if submission is None:
        raise AppError(
            "submission.not_found", 404, "Không tìm thấy phiếu.", "Submission not found."
        )
    scores = db.session.scalars(
        select(HouseholdScore)
        .where(HouseholdScore.submission_id == submission.id)
        .order_by(HouseholdScore.id)
    ).all()
    job = db.session.scalar(
        select(ScoringJob)
        .join(SubmissionVersion)
        .where(SubmissionVersion.submission_id == submission.id)
        .order_by(ScoringJob.id.desc())
    )
    current = next((s for s in scores if s.current), None)
    record_access(
        "score", submission_households([submission.id]), ref=f"submission:{submission.id}"
    )
    return jsonify(
        {
            "current": current.result if current else None,
            "history": [
                {
                    "category": s.category,
                    "standard": s.standard,
                    "table": s.table_code,
                    "score_a": s.score_a,
                    "score_b": s.score_b,
                    "created_at": s.created_at.isoformat(),
                }
                for s in scores
            ],
            "scoring": {"state": job.state, "error": job.last_error} if job else None,
        }
    )
