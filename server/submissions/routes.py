"""Staff JSON API over submissions (``/api/v1/submissions``).

Authenticated with the same HTTP schemes as devices (Digest, or Basic over https) until the
staff web login exists.  A commune officer sees only their commune; a province administrator
their province.  Pagination is by id (keyset), so deep pages cost the same as the first.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from marshmallow import ValidationError
from sqlalchemy import select

from server.access.services import record_access, submission_households
from server.accounts.httpauth import api_guard
from server.accounts.models import Role
from server.errors import AppError
from server.extensions import db
from server.geography.models import Village
from server.questionnaires.models import Form
from server.submissions.models import Submission, SubmissionVersion
from server.submissions.schemas import SubmissionDetailOut, SubmissionOut, SubmissionQuery
from server.submissions.scope import in_scope

bp = Blueprint("submissions_api", __name__, url_prefix="/api/v1/submissions")


bp.before_request(
    api_guard(Role.ADMIN, Role.OFFICER, forbidden_vi="Tài khoản không có quyền xem phiếu.")
)


@bp.get("")
def list_submissions():
    try:
        args = SubmissionQuery().load(request.args)
    except ValidationError as exc:
        raise AppError(
            "request.invalid", 400, "Tham số không hợp lệ.", "Invalid parameters.", exc.messages
        ) from None
    query = (
        select(Submission)
        .where(in_scope(g.actor), Submission.id > args["after_id"])
        .order_by(Submission.id)
        .limit(args["limit"])
    )
    if "form_id" in args:
        query = query.join(Form).where(Form.xml_form_id == args["form_id"])
    if "village" in args:
        query = query.join(Village, Submission.village_id == Village.id).where(
            Village.code == args["village"]
        )
    if "review_state" in args:
        query = query.where(Submission.review_state == args["review_state"])
    if "missing_attachments" in args:
        current = select(SubmissionVersion.submission_id).where(
            SubmissionVersion.current.is_(True),
            SubmissionVersion.attachments_present < SubmissionVersion.attachments_expected,
        )
        condition = Submission.id.in_(current)
        query = query.where(condition if args["missing_attachments"] else ~condition)
    items = list(db.session.scalars(query))
    record_access("api", submission_households(i.id for i in items), ref="api:submissions")
    return jsonify(
        {
            "items": SubmissionOut(many=True).dump(items),
            "next_after_id": items[-1].id if len(items) == args["limit"] else None,
        }
    )


@bp.get("/<int:submission_id>")
def get_submission(submission_id: int):
    submission = db.session.scalar(
        select(Submission).where(Submission.id == submission_id, in_scope(g.actor))
    )
    if submission is None:
        raise AppError(
            "submission.not_found", 404, "Không tìm thấy phiếu.", "Submission not found."
        )
    record_access("api", submission_households([submission.id]), ref=f"submission:{submission.id}")
    return jsonify(SubmissionDetailOut().dump(submission))
