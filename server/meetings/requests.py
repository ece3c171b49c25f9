"""Households' requests (Mẫu số 01 / 04) and the monthly round that answers them.

An in-year review is started by a household's written request; the commune must decide — or
answer in writing why not — within 15 days of the review's start (``regulations.md`` §4.3).  Which
questionnaires are requests, and where their answers are, is data (``forms/requests.yaml``).  A
request received during a monthly round's month belongs to that round; it is linked to the
household's case in the round by household code, or, for a household not on any list yet, by
the head's name in the same village.  The round page lists every request with its case's stage,
so no request can be left unanswered unnoticed.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import yaml
from marshmallow import EXCLUDE, Schema, ValidationError, fields
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from server.accounts.models import STAFF_ROLES, User
from server.extensions import db
from server.geography.models import Village
from server.i18n import utc_start_of, vietnam_date
from server.meetings.models import HouseholdCase, ReviewRound
from server.questionnaires.labels import display_value, form_labels
from server.questionnaires.models import Form
from server.submissions.models import Submission
from server.submissions.scope import village_scope

REQUESTS_FILE = Path(__file__).resolve().parents[2] / "forms" / "requests.yaml"
# Stages after which the household has its answer (a decision, or a refusal in writing).
ANSWERED = ("decided", "refused")


class _RequestFormSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    form_id = fields.String(required=True)
    form = fields.String(required=True)
    household_code = fields.String(allow_none=True, load_default=None)
    head_name = fields.String(required=True)
    applicant = fields.String(allow_none=True, load_default=None)
    request = fields.String(allow_none=True, load_default=None)
    channel = fields.String(allow_none=True, load_default=None)


@lru_cache(maxsize=4)
def request_forms(path: Path = REQUESTS_FILE) -> dict[str, dict]:
    """form_id → where a request's answers are; validated (errors name the file)."""
    try:
        rows = _RequestFormSchema(many=True).load(yaml.safe_load(path.read_text("utf-8")) or [])
    except ValidationError as error:
        raise ValueError(f"{path.name}: {error.messages}") from None
    return {row["form_id"]: row for row in rows}


@dataclass(frozen=True, slots=True)
class RequestRow:
    submission: Submission
    form: str  # "Mẫu số 01"
    received_on: date
    village: Village | None
    household_code: str | None
    head_name: str
    applicant: str
    request: str  # the request's choice label
    channel: str
    case: HouseholdCase | None

    @property
    def answered(self) -> bool:
        return self.case is not None and self.case.stage in ANSWERED


def _fold(name: str) -> str:
    """A name compared without case, accents or extra spaces (typed on a phone)."""
    decomposed = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(bare.lower().split())


def _month_bounds(review: ReviewRound) -> tuple[datetime, datetime]:
    """The round's month in Vietnam, as the naive-UTC moments it begins and ends."""
    first = date(review.year, review.month, 1)
    after = date(review.year + (review.month == 12), review.month % 12 + 1, 1)
    return utc_start_of(first), utc_start_of(after)


def requests_for(review: ReviewRound, actor: User, lang: str = "vi") -> list[RequestRow]:
    """The requests received in a monthly round's month (in the actor's villages), oldest first,
    each with the household's case in this round if there is one.  Empty for an annual round."""
    specs = request_forms()
    if review.kind != "thuong_xuyen" or not review.month or not specs:
        return []
    start, end = _month_bounds(review)
    visible = village_scope(actor)
    if actor.role in STAFF_ROLES:  # a request whose village is unknown is still the commune's
        visible = or_(visible, Submission.village_id.is_(None))
    submissions = db.session.scalars(
        select(Submission)
        .join(Form, Form.id == Submission.form_id)
        .outerjoin(Village, Village.id == Submission.village_id)
        .where(
            Submission.commune_id == review.commune_id,
            Form.xml_form_id.in_(list(specs)),
            Submission.created_at >= start,
            Submission.created_at < end,
            Submission.review_state != "rejected",
            visible,
        )
        .options(selectinload(Submission.form), selectinload(Submission.village))
        .order_by(Submission.created_at, Submission.id)
    ).all()
    cases = db.session.scalars(
        select(HouseholdCase).where(HouseholdCase.round_id == review.id)
    ).all()
    by_code = {c.household_code: c for c in cases if c.household_code}
    by_name = {(c.village_id, _fold(c.head_name)): c for c in cases}
    rows = []
    labels_of: dict[int, object] = {}  # form version id → its labels: each XForm read once
    for submission in submissions:
        spec = specs[submission.form.xml_form_id]
        version = submission.current_version
        answers = version.fields

        def answer(key: str, answers=answers, spec=spec) -> str:
            path = spec.get(key)
            return str(answers.get(path) or "").strip() if path else ""

        labels = labels_of.get(version.form_version_id)
        if labels is None:
            labels = labels_of[version.form_version_id] = form_labels(
                version.form_version.xform, lang
            )
        request_field = labels.fields.get(spec["request"] or "")
        channel_field = labels.fields.get(spec["channel"] or "")
        code = answer("household_code") or None
        head = answer("head_name")
        case = by_code.get(code) if code else None
        if case is None and head:
            case = by_name.get((submission.village_id, _fold(head)))
        rows.append(
            RequestRow(
                submission=submission,
                form=spec["form"],
                received_on=vietnam_date(submission.created_at),
                village=submission.village,
                household_code=code,
                head_name=head,
                applicant=answer("applicant"),
                request=display_value(request_field, answer("request"))
                if request_field
                else answer("request"),
                channel=display_value(channel_field, answer("channel"))
                if channel_field
                else answer("channel"),
                case=case,
            )
        )
    return rows
