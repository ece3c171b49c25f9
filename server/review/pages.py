"""Staff pages over submissions (``/xa/phieu``): the list with filters and bulk actions, the
detail page, and the review actions.  An officer sees only their commune, an administrator their
province — in every query (:func:`server.submissions.scope.in_scope`)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from server.access.services import record_access, submission_households
from server.accounts.models import STAFF_ROLES, VIEWER_ROLES
from server.accounts.web import staff_page
from server.audit.services import record
from server.blobs import blob_store
from server.db import write_transaction
from server.errors import AppError
from server.extensions import db
from server.filetypes import inert, is_inline, media_kind, read_head, served_type
from server.geography.models import Commune, Village
from server.i18n import current_language, localized
from server.privacy.fields import may_reveal, revealable, shown_answers, shown_result, shown_rows
from server.questionnaires.labels import form_labels, labelled_answers, strip_indexes
from server.questionnaires.models import Form
from server.redirects import local_target
from server.retention.kinds import ATTACHMENTS, KIND_LABELS
from server.retention.services import file_purged, purged_kinds
from server.review.listing import (
    ORDER,
    PAGE_SIZE,
    carried,
    filtered,
    filters_from,
    next_after,
    place_in_list,
)
from server.review.services import (
    DECISION_LABELS,
    DECISIONS,
    STAFF_STATES,
    STATE_LABELS,
    add_comment,
    bulk_set_state,
    events_of,
    household_of,
    request_resurvey,
    set_state,
    submission_for,
)
from server.scoring.labels import CATEGORY_LABELS
from server.scoring.models import HouseholdScore
from server.scoring.services import completed_by
from server.scoring.standards import all_standards
from server.submissions.models import Submission, SubmissionAttachment, SubmissionVersion
from server.submissions.scope import commune_scope, village_scope
from server.web_forms import list_page, submit

bp = Blueprint("review", __name__, url_prefix="/xa/phieu")

# Village heads see their villages' submissions; only officers and administrators act on them.
STAFF = STAFF_ROLES
VIEWERS = VIEWER_ROLES


def _filters() -> dict:
    return filters_from(request.args)


@bp.get("")
@staff_page(*VIEWERS)
def index():
    filters = _filters()
    listed = list_page(
        filtered(current_user, filters)
        .options(
            selectinload(Submission.form),
            selectinload(Submission.village),
            selectinload(Submission.submitter),
            selectinload(Submission.commune),
        )
        .order_by(*ORDER),
        PAGE_SIZE,
    )
    communes = db.session.scalars(
        select(Commune).where(commune_scope(current_user)).order_by(Commune.code)
    ).all()
    villages = db.session.scalars(
        select(Village).where(village_scope(current_user)).order_by(Village.code)
    ).all()
    forms = db.session.scalars(select(Form).order_by(Form.xml_form_id)).all()
    record_access(
        "list", submission_households(s.id for s, _score in listed.rows), ref="list:submissions"
    )
    return render_template(
        "review/submissions.html",
        listed=listed,
        filters=filters,
        communes=communes,
        villages=villages,
        forms=forms,
        states=STATE_LABELS,
        staff_states=STAFF_STATES,
        decisions=DECISION_LABELS,
        categories=CATEGORY_LABELS,
        keep=carried(filters),
    )


@bp.post("/hang-loat")
@staff_page(*STAFF)
def bulk():
    """The chosen decision on the ticked submissions — or, with the "all on this page" button
    (which works without JavaScript), on every submission the page listed."""
    form = request.form
    ids = form.getlist("page_ids") if form.get("scope") == "page" else form.getlist("ids")
    changed = []

    def apply():
        try:
            changed.append(
                bulk_set_state(current_user, ids, form.get("state", ""), form.get("comment"))
            )
        except ValueError:
            raise AppError(
                "review.bulk_invalid", 400, "Lựa chọn không hợp lệ.", "Invalid choice."
            ) from None

    # Refused: the list again with the reason, the ticks, the decision and the comment (a
    # submission outside the user's scope: the 404 page, as if it did not exist).
    again = submit(apply, "bulk", index)
    if again is not None:
        return again
    flash(_("Đã cập nhật %(n)d phiếu.", n=changed[0]), "info")
    return redirect(local_target(request.form.get("back"), url_for(".index")))


def _score_of(submission: Submission) -> HouseholdScore | None:
    return db.session.scalar(
        select(HouseholdScore).where(
            HouseholdScore.submission_id == submission.id, HouseholdScore.current.is_(True)
        )
    )


def _geopoints(version: SubmissionVersion) -> list[dict]:
    """Every geopoint answer as numbers (shown as text and a geo: link; no map tiles needed)."""
    # Form field paths start with the root ("/data/general/gps"); answers' do not.
    types = {f["path"].split("/", 2)[-1]: f["type"] for f in version.form_version.fields}
    points = []
    for path, value in version.fields.items():
        base = "/".join(part.split("[")[0] for part in path.split("/"))
        if types.get(base) != "geopoint" or not value:
            continue
        parts = str(value).split()
        try:
            lat, lon = float(parts[0]), float(parts[1])
        except (IndexError, ValueError):
            continue
        alt = parts[2] if len(parts) > 2 else None
        accuracy = parts[3] if len(parts) > 3 else None
        points.append({"path": path, "lat": lat, "lon": lon, "alt": alt, "accuracy": accuracy})
    return points


@bp.app_template_filter("least_shown")
def least_shown(result):
    """A score's result as the logged-in viewer may see it (:func:`shown_result`)."""
    return shown_result(result, getattr(current_user, "role", None))


@bp.get("/<int:submission_id>")
@staff_page(*VIEWERS)
def detail(submission_id: int):
    submission = submission_for(current_user, submission_id)
    record_access(
        "answers", submission_households([submission.id]), ref=f"submission:{submission.id}"
    )
    return _detail_page(submission)


@bp.post("/<int:submission_id>/hien-so")
@staff_page(*STAFF)
def reveal(submission_id: int):
    """ "Hiện số": one ID number of the submission in full, for this page view only; the
    reveal is recorded in the audit log and the access records (who, when, which submission
    and field)."""
    path = (request.form.get("field") or "")[:200]
    with write_transaction(db.session):
        submission = submission_for(current_user, submission_id)
        version = submission.current_version
        if not may_reveal(current_user.role):
            abort(403)
        if not revealable(submission.form.xml_form_id, version.fields, path):
            raise AppError(
                "personal.reveal_invalid",
                400,
                "Không có số giấy tờ này trong phiếu.",
                "The submission has no such ID number.",
            )
        record(
            "personal.reveal_id",
            "submission",
            submission.id,
            commune_id=submission.commune_id,
            note=path,
        )
    record_access(
        "id_number_reveal", submission_households([submission_id]), ref=f"field:{path}"[:200]
    )
    return _detail_page(submission_for(current_user, submission_id), revealed={path})


def _detail_page(
    submission: Submission,
    typed: dict | None = None,
    status: int = 200,
    revealed: set[str] | frozenset[str] = frozenset(),
):
    """The submission's page: the decision and the way to the previous / next submission of
    the list (its filters from the query string) first, then the household, score, files,
    answers and history.  ``typed``: what the officer had typed when the decision was refused,
    shown again.  Sensitive answers are masked or hidden for the viewer's role
    (:mod:`server.privacy.fields`); ``revealed``: the ID numbers asked for in full."""
    version = submission.current_version
    labels = form_labels(version.form_version.xform, current_language())
    form_id = submission.form.xml_form_id
    role = current_user.role
    # What the form computed (calculates, preloads) only when asked for: a reviewer reads
    # what was asked of the household.
    calculated = request.args.get("tinh-toan") == "1"
    answers = shown_answers(form_id, version.fields, role, revealed)
    rows, masked = shown_rows(
        form_id,
        labelled_answers(labels, answers, include_calculated=calculated),
        role,
        revealed,
    )
    files = [(a, _kind_of(a)) for a in version.attachments if a.blob_sha256]
    filters = _filters()
    keep = carried(filters)
    place = place_in_list(current_user, filters, submission)
    current = submission.review_state
    chosen = (typed or {}).get("state") or (current if current in DECISIONS else "approved")
    page = render_template(
        "review/submission.html",
        submission=submission,
        version=version,
        rows=rows,
        masked=masked if may_reveal(role) else set(),
        calculated=calculated,
        hidden_calculated=not calculated and _any_calculated(labels, version.fields),
        files=files,
        points=_geopoints(version),
        score=(score := _score_of(submission)),
        completes=None if score else completed_by(submission),
        standard_names={code: s.name_vi for code, s in all_standards().items()},
        household=household_of(submission),
        purged=purged_kinds(submission.id),
        purged_labels=KIND_LABELS,
        history=_history(submission),
        categories=CATEGORY_LABELS,
        states=STATE_LABELS,
        staff_states=STAFF_STATES,
        decisions=DECISION_LABELS,
        chosen=chosen,
        typed_comment=(typed or {}).get("comment") or "",
        keep=keep,
        place=place,
        back_url=url_for(".index", **keep, **({"page": place.page} if place.page > 1 else {})),
    )
    return page, status


def _any_calculated(labels, answers: dict) -> bool:
    """Whether the submission holds a value the form computed (hidden unless asked for)."""
    answered = {strip_indexes(key) for key in answers}
    return any(f.calculated for f in labels.fields.values() if f.path in answered)


def _history(submission: Submission) -> list[dict]:
    """Versions received and staff actions, oldest first."""
    entries = [
        {
            "at": v.created_at,
            "who": v.submitter.display_name,
            "what": _("gửi bản sửa") if v.deprecated_id else _("gửi phiếu"),
            "comment": None,
        }
        for v in submission.versions
    ]
    for e in events_of(submission):
        if e.kind == "state":
            what = _(
                "chuyển “%(a)s” → “%(b)s”",
                a=STATE_LABELS.get(e.from_state or "", e.from_state),
                b=STATE_LABELS.get(e.to_state or "", e.to_state),
            )
        elif e.kind == "resurvey":
            what = _("gửi hộ về rà soát lại")
        else:
            what = _("nhận xét")
        who = e.actor.display_name if e.actor else _("hệ thống")
        entries.append({"at": e.at, "who": who, "what": what, "comment": e.comment})
    return sorted(entries, key=lambda entry: entry["at"])


def _served_type_of(attachment: SubmissionAttachment) -> str:
    """What the stored bytes are (never the phone's declared type, kept in ``content_type``)."""
    return served_type(read_head(blob_store().path_for(attachment.blob_sha256)), attachment.name)


def _kind_of(attachment: SubmissionAttachment) -> str | None:
    """How the detail page may show a file: embedded (image, audio, video), opened (pdf), or
    only offered as a download (None)."""
    try:
        return media_kind(_served_type_of(attachment))
    except OSError:  # the blob is missing: the link answers 404 rather than the page 500
        return None


@bp.get("/<int:submission_id>/tep/<path:name>")
@staff_page(*VIEWERS)
def attachment(submission_id: int, name: str):
    """A file of the submission, typed by its content: photos, recordings, videos and PDFs open
    in the browser; anything else (HTML, SVG, …) is only ever downloaded (stored XSS)."""
    submission = submission_for(current_user, submission_id)
    found = next(
        (a for a in submission.current_version.attachments if a.name == name and a.blob_sha256),
        None,
    )
    path = blob_store().path_for(found.blob_sha256) if found is not None else None
    if path is None or not path.is_file():
        purged = purged_kinds(submission.id).get(ATTACHMENTS)
        if purged is not None and any(
            a.name == name for a in submission.current_version.attachments
        ):
            raise file_purged(purged)
        abort(404)
    mimetype = served_type(read_head(path), found.name)
    record_access("photo", submission_households([submission.id]), ref=f"file:{found.name}")
    response = send_file(
        path,
        mimetype=mimetype,
        as_attachment=not is_inline(mimetype),
        download_name=found.name,
        max_age=3600,
    )
    return inert(response)


def _here(submission_id: int) -> str:
    """The submission's page with the list's filters kept."""
    return url_for(".detail", submission_id=submission_id, **carried(_filters()))


def _action(submission_id: int, apply, form_name: str) -> object:
    """Run ``apply(submission)``; refused, the page again with the reason and what was typed
    into ``form_name``."""
    again = submit(
        lambda: apply(submission_for(current_user, submission_id)),
        form_name,
        lambda: _detail_page(submission_for(current_user, submission_id)),
        _("Đã lưu."),
    )
    return again or redirect(_here(submission_id))


@bp.post("/<int:submission_id>/trang-thai")
@staff_page(*STAFF)
def change_state(submission_id: int):
    """The decision on a result.  "Lưu và sang phiếu tiếp" (``then=next``) goes on to the next
    submission of the filtered list — or back to the list when this was the last; a refused
    decision shows the page again with what was typed."""
    form = request.form
    state, comment = form.get("state", ""), form.get("comment")
    try:
        with write_transaction(db.session):
            submission = submission_for(current_user, submission_id)
            set_state(submission, state, comment, current_user)
    except AppError as error:
        if error.status == 404:
            abort(404)
        if error.status == 403:
            abort(403)
        flash(localized(error.message_vi, error.message_en), "error")
        submission = submission_for(current_user, submission_id)
        return _detail_page(submission, {"state": state, "comment": comment}, 400)
    flash(_("Đã lưu: %(state)s.", state=STATE_LABELS[state]), "info")
    if form.get("then") != "next":
        return redirect(_here(submission_id))
    filters = _filters()
    following = next_after(current_user, filters, submission_for(current_user, submission_id))
    if following is None:
        flash(_("Đây là phiếu cuối cùng của danh sách."), "info")
        return redirect(url_for(".index", **carried(filters)))
    return redirect(url_for(".detail", submission_id=following, **carried(filters)))


@bp.post("/<int:submission_id>/nhan-xet")
@staff_page(*STAFF)
def comment(submission_id: int):
    text = request.form.get("comment")
    return _action(submission_id, lambda s: add_comment(s, text, current_user), "comment")


@bp.post("/<int:submission_id>/ra-soat-lai")
@staff_page(*STAFF)
def resurvey(submission_id: int):
    reason = request.form.get("reason")
    return _action(submission_id, lambda s: request_resurvey(s, reason, current_user), "resurvey")
