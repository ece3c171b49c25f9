"""Review actions on submissions.  Each one writes the submission's activity history and the
audit log in the caller's transaction; services flush, callers commit.

The commune's decision on a result is one of :data:`DECISIONS`: approve it, send the household
back for re-survey (it reaches the reviewer's phone, :func:`request_resurvey`), mark a problem,
or refuse it (it then stays out of the village-meeting lists)."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from server.accounts.models import STAFF_ROLES, User
from server.audit.services import record
from server.db import utcnow
from server.errors import AppError
from server.extensions import db
from server.households.models import Household
from server.review.models import SubmissionEvent
from server.scoring.models import HouseholdScore
from server.submissions.models import Submission
from server.submissions.scope import in_scope

# What commune staff decide, in the order the page offers it ("received" and "edited" are set
# when Collect sends the submission); approving comes first and is the default.
DECISIONS = ("approved", "resurvey", "has_issues", "rejected")
STAFF_STATES = DECISIONS
# Decisions that need a comment saying why (the re-survey's reaches the reviewer's phone).
NEEDS_COMMENT = ("resurvey", "has_issues", "rejected")
STATE_VI = {
    "received": "Đã nhận",
    "has_issues": "Có vấn đề",
    "edited": "Đã sửa",
    "approved": "Đã duyệt",
    "rejected": "Không chấp nhận",
    "resurvey": "Cần rà soát lại",
}
# The same, translated for the pages (msgids are the Vietnamese labels).
STATE_LABELS = {
    "received": _l("Đã nhận"),
    "has_issues": _l("Có vấn đề"),
    "edited": _l("Đã sửa"),
    "approved": _l("Đã duyệt"),
    "rejected": _l("Không chấp nhận"),
    "resurvey": _l("Cần rà soát lại"),
}
# The choices of the decision form, in plain words.
DECISION_LABELS = {
    "approved": _l("Duyệt"),
    "resurvey": _l("Cần rà soát lại (gửi về điện thoại rà soát viên)"),
    "has_issues": _l("Có vấn đề"),
    "rejected": _l("Không chấp nhận (không đưa vào danh sách)"),
}
# A result's review state as the lists and the decision page say it (a result nobody has
# looked at yet is "not reviewed", whatever Collect did with it).
REVIEW_WORDS_VI = {
    "received": "Chưa xét duyệt",
    "edited": "Đã sửa, chưa xét duyệt",
    "has_issues": "Có vấn đề",
    "approved": "Đã duyệt",
    "rejected": "Không chấp nhận",
    "resurvey": "Cần rà soát lại",
}
REVIEW_WORDS = {
    "received": _l("Chưa xét duyệt"),
    "edited": _l("Đã sửa, chưa xét duyệt"),
    "has_issues": _l("Có vấn đề"),
    "approved": _l("Đã duyệt"),
    "rejected": _l("Không chấp nhận"),
    "resurvey": _l("Cần rà soát lại"),
}
MAX_COMMENT = 2000


def require_reviewer(actor: User) -> None:
    """Only commune officers and province administrators decide on results and comment on
    them; a village head looks only.

    :raises AppError: ``review.forbidden`` (403).
    """
    if actor.role not in STAFF_ROLES:
        raise AppError(
            "review.forbidden",
            403,
            "Chỉ cán bộ xã hoặc quản trị viên tỉnh được xét duyệt phiếu.",
            "Only commune officers and province administrators review submissions.",
        )


def submission_for(actor: User, submission_id: int) -> Submission:
    """The submission if ``actor`` may see it; otherwise 404 (never 403: another commune's
    submissions do not exist for this actor)."""
    submission = db.session.scalar(
        select(Submission).where(Submission.id == submission_id, in_scope(actor))
    )
    if submission is None:
        raise AppError(
            "submission.not_found", 404, "Không tìm thấy phiếu.", "Submission not found."
        )
    return submission


def _clean(comment: str | None) -> str | None:
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise AppError(
            "review.comment_too_long",
            400,
            f"Nhận xét dài quá {MAX_COMMENT} ký tự.",
            f"The comment is longer than {MAX_COMMENT} characters.",
        )
    return comment or None


def set_state(submission: Submission, state: str, comment: str | None, actor: User) -> bool:
    """Record the commune's decision on a result (:data:`DECISIONS`); every one but "approved"
    needs a comment saying why.  "resurvey" sends the household back to its reviewer
    (:func:`request_resurvey`); another decision on a result waiting for its re-survey
    withdraws the request from the reviewer's phone.

    :return: False when the submission already had that state and no comment was given.
    :raises AppError: ``review.bad_state`` (400), ``review.comment_required`` (400),
        ``review.comment_too_long`` (400).
    """
    require_reviewer(actor)
    if state not in STAFF_STATES:
        raise AppError(
            "review.bad_state",
            400,
            "Trạng thái không hợp lệ.",
            f"Unknown review state {state!r}.",
        )
    if state == "resurvey":
        request_resurvey(submission, comment, actor)
        return True
    comment = _clean(comment)
    if state in NEEDS_COMMENT and not comment:
        raise AppError(
            "review.comment_required",
            400,
            f"Cần ghi lý do khi chuyển sang “{STATE_VI[state]}”.",
            f"A comment is required to mark a submission {state}.",
        )
    before = submission.review_state
    if before == state and not comment:
        return False
    submission.review_state = state
    submission.updated_at = utcnow()
    db.session.add(
        SubmissionEvent(
            submission_id=submission.id,
            actor_id=actor.id,
            kind="state",
            from_state=before,
            to_state=state,
            comment=comment,
        )
    )
    withdrawn = _withdraw_resurvey(submission) if before == "resurvey" else None
    record(
        "submission.review_state",
        "submission",
        submission.id,
        commune_id=submission.commune_id,
        before={"review_state": before},
        after={"review_state": state} | ({"resurvey_withdrawn": withdrawn} if withdrawn else {}),
        note=comment,
        actor_id=actor.id,
    )
    return True


def _withdraw_resurvey(submission: Submission) -> str | None:
    """Take the re-survey flag off the household's line on the reviewers' phones (another
    decision replaced the re-survey); the household's code when there was one.  A flag set
    since from a newer questionnaire of the household is that questionnaire's: left alone."""
    household = household_of(submission)
    if household is None or household.resurvey_requested_at is None:
        return None
    newer = db.session.scalar(
        select(Submission.id)
        .join(HouseholdScore, HouseholdScore.submission_id == Submission.id)
        .where(
            HouseholdScore.current.is_(True),
            HouseholdScore.household_code == household.code,
            Submission.commune_id == submission.commune_id,
            Submission.created_at > submission.created_at,
        )
        .limit(1)
    )
    if newer is not None:
        return None
    household.resurvey_requested_at = household.resurvey_reason = None
    household.updated_at = utcnow()
    return household.code


def add_comment(submission: Submission, comment: str | None, actor: User) -> SubmissionEvent:
    require_reviewer(actor)
    text = _clean(comment)
    if not text:
        raise AppError("review.comment_required", 400, "Nhận xét trống.", "The comment is empty.")
    event = SubmissionEvent(
        submission_id=submission.id, actor_id=actor.id, kind="comment", comment=text
    )
    db.session.add(event)
    record(
        "submission.comment",
        "submission",
        submission.id,
        commune_id=submission.commune_id,
        note=text,
        actor_id=actor.id,
    )
    db.session.flush()
    return event


def household_of(submission: Submission) -> Household | None:
    """The registry household the submission's current score names, if any."""
    code = db.session.scalar(
        select(HouseholdScore.household_code).where(
            HouseholdScore.submission_id == submission.id, HouseholdScore.current.is_(True)
        )
    )
    if not code:
        return None
    return db.session.scalar(
        select(Household).where(
            Household.commune_id == submission.commune_id, Household.code == code
        )
    )


def request_resurvey(submission: Submission, reason: str | None, actor: User) -> None:
    """Send the household back to its reviewer: the submission is marked "needs re-survey" and
    the household is flagged, with ``reason``, at the top of the reviewers' household list
    (``households.csv``) until a new questionnaire for it arrives."""
    require_reviewer(actor)
    reason = _clean(reason)
    if not reason:
        raise AppError(
            "review.comment_required",
            400,
            "Cần ghi lý do rà soát lại.",
            "A reason is required to send a household back for re-survey.",
        )
    before = submission.review_state
    submission.review_state = "resurvey"
    submission.updated_at = utcnow()
    db.session.add(
        SubmissionEvent(
            submission_id=submission.id,
            actor_id=actor.id,
            kind="resurvey",
            from_state=before,
            to_state="resurvey",
            comment=reason,
        )
    )
    household = household_of(submission)
    if household is not None:
        household.resurvey_reason = reason
        household.resurvey_requested_at = utcnow()
        household.updated_at = utcnow()
    record(
        "submission.resurvey",
        "submission",
        submission.id,
        commune_id=submission.commune_id,
        before={"review_state": before},
        after={"review_state": "resurvey", "household": household.code if household else None},
        note=reason,
        actor_id=actor.id,
    )
    db.session.flush()


def bulk_set_state(
    actor: User, submission_ids: Iterable[int], state: str, comment: str | None
) -> int:
    """Set one state on many submissions (only those the actor may see); returns how many
    changed."""
    require_reviewer(actor)
    ids = sorted({int(i) for i in submission_ids})
    if not ids:
        raise AppError(
            "review.nothing_selected", 400, "Chưa chọn phiếu nào.", "No submission selected."
        )
    submissions = db.session.scalars(
        select(Submission).where(Submission.id.in_(ids), in_scope(actor))
    ).all()
    if len(submissions) != len(ids):
        raise AppError(
            "submission.not_found", 404, "Không tìm thấy phiếu.", "Submission not found."
        )
    return sum(set_state(s, state, comment, actor) for s in submissions)


def events_of(submission: Submission) -> list[SubmissionEvent]:
    return list(
        db.session.scalars(
            select(SubmissionEvent)
            .where(SubmissionEvent.submission_id == submission.id)
            .order_by(SubmissionEvent.id)
        )
    )
