"""The review procedure for one commune: open a round, compile each village's lists from the
current scores, record the village meeting and apply the ≥ 50 % rule.  Services flush; callers
commit.  Every change is written to the audit log in the same transaction."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from server.accounts.models import Role, User
from server.audit.services import record
from server.db import utcnow
from server.errors import AppError
from server.extensions import db
from server.geography.models import Commune, Village
from server.households.models import Household
from server.i18n import utc_start_of
from server.meetings.models import HouseholdCase, MeetingVote, ReviewRound, VillageMeeting
from server.meetings.settings import held_back
from server.review.services import request_resurvey
from server.scoring.engine import Category
from server.scoring.mapping import mappings
from server.scoring.models import HouseholdScore
from server.scoring.transitions import transition
from server.submissions.models import Submission
from server.submissions.scope import commune_scope, village_scope

KINDS = ("dinh_ky", "thuong_xuyen")
MONTHLY_DEADLINE_DAYS = 15  # QĐ 24/2021 Điều 5 (regulations.md §4.3)

# The lists the village meeting confirms (regulations.md §4.2 step 3), from the transition.
LIST_OF_TRANSITION = {
    "ngheo_phat_sinh": "moi_ngheo",
    "tai_ngheo": "moi_ngheo",
    "can_ngheo_sang_ngheo": "moi_ngheo",
    "can_ngheo_phat_sinh": "moi_can_ngheo",
    "tai_can_ngheo": "moi_can_ngheo",
    "thoat_ngheo": "thoat_ngheo",
    "ngheo_sang_can_ngheo": "thoat_ngheo",
    "thoat_can_ngheo": "thoat_can_ngheo",
    "van_ngheo": "con_ngheo",
    "van_can_ngheo": "con_can_ngheo",
    "khong_thay_doi": "khong_thuoc_dien",
}
# Meeting order; "chua_du_ket_qua" (no verdict yet) is shown but not put to the vote.
LIST_ORDER = (
    "moi_ngheo",
    "moi_can_ngheo",
    "thoat_ngheo",
    "thoat_can_ngheo",
    "con_ngheo",
    "con_can_ngheo",
    "khong_thuoc_dien",
    "chua_du_ket_qua",
)
VOTED_LISTS = LIST_ORDER[:6]


def _not_found() -> AppError:
    return AppError("round.not_found", 404, "Không tìm thấy đợt rà soát.", "Review not found.")


def rounds_for(actor: User) -> list[ReviewRound]:
    return list(
        db.session.scalars(
            select(ReviewRound)
            .join(Commune, Commune.id == ReviewRound.commune_id)
            .where(commune_scope(actor))
            .order_by(ReviewRound.year.desc(), ReviewRound.month.desc(), ReviewRound.id.desc())
        )
    )


def _default_start(year: int, month: int | None) -> date:
    """An annual review starts on 1 September; a monthly one on the 15th of its month (Decision
    24/2021 art. 5, ``regulations.md`` §4.3: the 15-day deadline runs from there).  An officer
    may give another day of the month (:func:`open_round`'s ``started_on``)."""
    return date(year, month, 15) if month else date(year, 9, 1)


def round_for(actor: User, round_id: int) -> ReviewRound:
    """The round if the actor's scope includes its commune; 404 otherwise."""
    found = db.session.scalar(
        select(ReviewRound)
        .join(Commune, Commune.id == ReviewRound.commune_id)
        .where(ReviewRound.id == round_id, commune_scope(actor))
    )
    if found is None:
        raise _not_found()
    return found


def open_round(
    actor: User,
    commune: Commune,
    year: int,
    kind: str,
    month: int | None = None,
    started_on: date | None = None,
) -> ReviewRound:
    if actor.role not in (Role.OFFICER, Role.ADMIN) or not db.session.scalar(
        select(Commune.id).where(Commune.id == commune.id, commune_scope(actor))
    ):
        raise _not_found()
    errors: dict[str, list[str]] = {}
    if kind not in KINDS:
        errors["kind"] = ["Loại rà soát không hợp lệ."]
    if kind == "thuong_xuyen" and not (month and 1 <= month <= 12):
        errors["month"] = ["Rà soát thường xuyên cần tháng (1–12)."]
    if not 2022 <= year <= 2100:
        errors["year"] = ["Năm không hợp lệ."]
    if errors:
        raise AppError(
            "round.invalid",
            400,
            "Thông tin đợt rà soát không hợp lệ: "
            + " ".join(m for ms in errors.values() for m in ms),
            "Invalid review round.",
            errors,
        )
    month = month if kind == "thuong_xuyen" else 0
    exists = db.session.scalar(
        select(ReviewRound.id).where(
            ReviewRound.commune_id == commune.id,
            ReviewRound.year == year,
            ReviewRound.kind == kind,
            ReviewRound.month == month,
        )
    )
    if exists:
        raise AppError(
            "round.exists",
            409,
            "Đợt rà soát này đã có.",
            "This review round already exists.",
            {"id": exists},
        )
    if started_on is None:
        started_on = _default_start(year, month)
    elif month and (started_on.year, started_on.month) != (year, month):
        raise AppError(
            "round.invalid",
            400,
            "Ngày bắt đầu phải nằm trong tháng của đợt rà soát.",
            "The start date must be in the round's month.",
        )
    new = ReviewRound(
        commune_id=commune.id,
        year=year,
        kind=kind,
        month=month,
        started_on=started_on,
        deadline=started_on + timedelta(days=MONTHLY_DEADLINE_DAYS) if month else None,
        created_by_id=actor.id,
    )
    db.session.add(new)
    db.session.flush()
    record(
        "round.open",
        "review_round",
        new.id,
        commune_id=commune.id,
        after={"year": year, "kind": kind, "month": month},
        actor_id=actor.id,
    )
    return new


@dataclass
class CompileResult:
    added: int = 0
    updated: int = 0
    back_from_resurvey: int = 0


def _list_type(score: HouseholdScore) -> str:
    return LIST_OF_TRANSITION.get(score.transition or "", "chua_du_ket_qua")


def list_type_for(previous_status: str, category: str) -> str:
    """The list of a household whose result changed after a re-check (previous status and
    new category only: a relapse shows as newly arising)."""
    history = [] if previous_status == "moi" else [(0, previous_status)]
    try:
        moved = transition(history, 1, Category(category))
    except ValueError:
        return "chua_du_ket_qua"
    return LIST_OF_TRANSITION.get(moved, "chua_du_ket_qua")


def compile_lists(actor: User, review: ReviewRound) -> CompileResult:
    """Put every household scored for the round's year in its village's list.

    Idempotent.  A case not yet voted on follows its household's latest score; a case sent back
    for re-survey returns to the list when a newer score arrives; a voted case is left alone.
    """
    query = (
        select(HouseholdScore)
        .join(Submission, Submission.id == HouseholdScore.submission_id)
        .where(
            Submission.commune_id == review.commune_id,
            HouseholdScore.current.is_(True),
            HouseholdScore.year == review.year,
            HouseholdScore.mapping.in_([*mappings(), "phieu_a"]),
            Submission.review_state != "rejected",
        )
        .order_by(HouseholdScore.id)
    )
    if review.kind == "thuong_xuyen":  # the month's requests: surveyed since the round began
        # (its first day in Vietnam: received times are naive UTC)
        query = query.where(Submission.created_at >= utc_start_of(review.started_on))
    scores = db.session.scalars(query).all()
    cases = {
        (c.household_code or f"#{c.submission_id}"): c
        for c in db.session.scalars(
            select(HouseholdCase).where(HouseholdCase.round_id == review.id)
        )
    }
    households = {
        h.code: h
        for h in db.session.scalars(
            select(Household).where(Household.commune_id == review.commune_id)
        )
    }
    result = CompileResult()
    # One case per household: its latest questionnaire (Phiếu B over a Phiếu A "stop").
    latest: dict[str, HouseholdScore] = {}
    for score in scores:
        key = score.household_code or f"#{score.submission_id}"
        held = latest.get(key)
        if held is None or score.created_at >= held.created_at:
            latest[key] = score
    for key, score in latest.items():
        submission = db.session.get(Submission, score.submission_id)
        household = households.get(score.household_code or "")
        village_id = household.village_id if household else submission.village_id
        if village_id is None:
            continue  # a household whose village is unknown cannot be put to a village meeting
        case = cases.get(key)
        values = {
            "village_id": village_id,
            "household_id": household.id if household else None,
            "household_code": score.household_code,
            "head_name": _head_name(score, household),
            "submission_id": score.submission_id,
            "score_id": score.id,
            "previous_status": _previous_status(household, review.year),
            "proposed_category": score.category,
            "transition": score.transition,
            "list_type": _list_type(score),
        }
        if case is None:
            case = HouseholdCase(round_id=review.id, stage="listed", **values)
            db.session.add(case)
            result.added += 1
            continue
        if case.score_id == score.id:
            continue
        if case.stage == "listed":
            for name, value in values.items():
                setattr(case, name, value)
            case.updated_at = utcnow()
            result.updated += 1
        elif case.stage == "resurvey":
            for name, value in values.items():
                setattr(case, name, value)
            case.stage, case.updated_at = "listed", utcnow()
            result.back_from_resurvey += 1
            record(
                "case.stage",
                "household_case",
                case.id,
                commune_id=review.commune_id,
                before={"stage": "resurvey"},
                after={"stage": "listed", "score_id": score.id},
                note="Đã rà soát lại: đưa ra họp dân lần nữa.",
                actor_id=actor.id,
            )
    db.session.flush()
    record(
        "round.compile",
        "review_round",
        review.id,
        commune_id=review.commune_id,
        after={
            "added": result.added,
            "updated": result.updated,
            "back_from_resurvey": result.back_from_resurvey,
        },
        actor_id=actor.id,
    )
    return result


def _previous_status(household: Household | None, year: int) -> str:
    """The status recognised before the round's year ("moi": never reviewed)."""
    earlier = [s for s in (household.statuses if household else []) if s.year < year]
    return earlier[-1].status.value if earlier else "moi"


def _head_name(score: HouseholdScore, household: Household | None) -> str:
    if household is not None:
        return household.head_name
    members = (score.result.get("inputs") or {}).get("members") or []
    head = next((m for m in members if m.get("relationship") == "chu_ho"), None)
    return (head or (members[0] if members else {})).get("name") or "(chưa rõ tên chủ hộ)"


@dataclass
class VillageLists:
    village: Village
    lists: dict[str, list[HouseholdCase]] = field(default_factory=dict)
    scores: dict[int, HouseholdScore] = field(default_factory=dict)
    disclaimers: set[str] = field(default_factory=set)
    # submission id → its review state (each case's result, in plain words on every list).
    states: dict[int, str] = field(default_factory=dict)
    # The commune takes only approved results to the meeting (:mod:`server.meetings.settings`);
    # ``held`` are the households that rule keeps out of the lists, shown apart.
    approved_only: bool = False
    held: list[HouseholdCase] = field(default_factory=list)

    @property
    def to_vote(self) -> list[HouseholdCase]:
        return [c for name in VOTED_LISTS for c in self.lists.get(name, []) if c.stage == "listed"]


def review_states(submission_ids) -> dict[int, str]:
    """submission id → review state."""
    ids = list(set(submission_ids))
    if not ids:
        return {}
    return dict(
        db.session.execute(
            select(Submission.id, Submission.review_state).where(Submission.id.in_(ids))
        )
        .tuples()
        .all()
    )


def village_lists(review: ReviewRound, village: Village) -> VillageLists:
    cases = db.session.scalars(
        select(HouseholdCase)
        .where(HouseholdCase.round_id == review.id, HouseholdCase.village_id == village.id)
        .order_by(HouseholdCase.household_code, HouseholdCase.id)
    ).all()
    scores = {
        s.id: s
        for s in db.session.scalars(
            select(HouseholdScore).where(HouseholdScore.id.in_([c.score_id for c in cases]))
        )
    }
    approved_only = bool(review.commune.meeting_lists_approved_only)
    states = review_states(c.submission_id for c in cases)
    out = VillageLists(village=village, scores=scores, states=states, approved_only=approved_only)
    out.held = [c for c in cases if held_back(approved_only, c.stage, states.get(c.submission_id))]
    held = {c.id for c in out.held}
    for name in LIST_ORDER:
        out.lists[name] = [c for c in cases if c.list_type == name and c.id not in held]
    out.disclaimers = {
        s.result["b1_table_disclaimer"]
        for s in scores.values()
        if s.result.get("b1_table_disclaimer")
    }
    return out


def village_of(review: ReviewRound, code: str, actor: User | None = None) -> Village:
    """The round's village with this code (and within the actor's villages, when given)."""
    query = select(Village).where(Village.commune_id == review.commune_id, Village.code == code)
    if actor is not None:
        query = query.where(village_scope(actor))
    village = db.session.scalar(query)
    if village is None:
        raise AppError("village.not_found", 404, "Không tìm thấy thôn.", "Village not found.")
    return village


def villages_of(review: ReviewRound, actor: User) -> list[Village]:
    """The round's villages the actor may see, by code."""
    return list(
        db.session.scalars(
            select(Village)
            .where(Village.commune_id == review.commune_id, village_scope(actor))
            .order_by(Village.code)
        )
    )


def stage_counts(review: ReviewRound) -> dict[int, dict[str, int]]:
    """village id → stage → number of cases."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for village_id, stage in db.session.execute(
        select(HouseholdCase.village_id, HouseholdCase.stage).where(
            HouseholdCase.round_id == review.id
        )
    ):
        counts[village_id][stage] += 1
    return counts


def disagreement_counts(review: ReviewRound) -> dict[int, int]:
    """village id → number of cases whose B1 score and measured income disagree."""
    rows = db.session.execute(
        select(HouseholdCase.village_id, func.count())
        .join(HouseholdScore, HouseholdScore.id == HouseholdCase.score_id)
        .where(HouseholdCase.round_id == review.id, HouseholdScore.methods_disagree.is_(True))
        .group_by(HouseholdCase.village_id)
    )
    return dict(rows.tuples().all())


def passes(agree: int, attendees: int) -> bool:
    """At least 50 % of the attendees agree (regulations.md §4.2 step 3: "ít nhất 50%")."""
    return 2 * agree >= attendees


@dataclass
class MeetingInput:
    held_on: date
    place: str
    chair: str
    secretary: str
    attendees: int
    fatherland_front_present: bool
    fatherland_front_representative: str | None
    notes: str | None
    agree: dict[int, int]  # case id → number agreeing


def _invalid(errors: dict[str, list[str]]) -> AppError:
    return AppError(
        "meeting.invalid",
        400,
        "Biên bản họp dân chưa hợp lệ: " + " ".join(m for ms in errors.values() for m in ms),
        "The meeting record is invalid.",
        errors,
    )


def record_meeting(
    actor: User, review: ReviewRound, village: Village, data: MeetingInput
) -> VillageMeeting:
    """Record the meeting and each listed household's vote.  A household agreed by fewer than
    half the attendees goes back to re-survey (its submission is marked "has issues" and the
    household flagged on the reviewers' list) and will need a new meeting."""
    lists = village_lists(review, village)
    to_vote = {c.id: c for c in lists.to_vote}
    errors: dict[str, list[str]] = {}
    if not data.fatherland_front_present:
        errors["fatherland_front_present"] = [
            "Cuộc họp phải có đại diện Mặt trận Tổ quốc cấp xã tham dự giám sát."
        ]
    if data.attendees < 1:
        errors["attendees"] = ["Số người tham dự phải lớn hơn 0."]
    for name, value in (
        ("place", data.place),
        ("chair", data.chair),
        ("secretary", data.secretary),
    ):
        if not value.strip():
            errors[name] = ["Không được để trống."]
    if not to_vote:
        errors["households"] = ["Thôn không còn hộ nào chờ họp dân."] + (
            [f"{len(lists.held)} hộ chưa được duyệt nên chưa đưa ra họp."] if lists.held else []
        )
    missing = [c.head_name for i, c in to_vote.items() if i not in data.agree]
    if missing:
        errors["agree"] = ["Chưa nhập số người đồng ý cho: " + ", ".join(missing) + "."]
    unknown = set(data.agree) - set(to_vote)
    if unknown:
        errors["agree"] = ["Có hộ không thuộc danh sách chờ họp dân của thôn."]
    bad = [
        to_vote[i].head_name
        for i, n in data.agree.items()
        if i in to_vote and not 0 <= n <= data.attendees
    ]
    if bad and data.attendees >= 1:
        errors["agree"] = [
            "Số người đồng ý phải từ 0 đến số người tham dự: " + ", ".join(bad) + "."
        ]
    if errors:
        raise _invalid(errors)
    meeting = VillageMeeting(
        round_id=review.id,
        village_id=village.id,
        held_on=data.held_on,
        place=data.place.strip(),
        chair=data.chair.strip(),
        secretary=data.secretary.strip(),
        attendees=data.attendees,
        fatherland_front_present=True,
        fatherland_front_representative=(data.fatherland_front_representative or "").strip()
        or None,
        notes=(data.notes or "").strip() or None,
        created_by_id=actor.id,
    )
    db.session.add(meeting)
    db.session.flush()
    for case_id, case in to_vote.items():
        agree = data.agree[case_id]
        ok = passes(agree, data.attendees)
        db.session.add(MeetingVote(meeting_id=meeting.id, case_id=case_id, agree=agree, passed=ok))
        case.stage, case.updated_at = ("meeting_passed" if ok else "resurvey"), utcnow()
        if not ok:
            submission = db.session.get(Submission, case.submission_id)
            request_resurvey(
                submission,
                f"Họp dân ngày {data.held_on:%d/%m/%Y}: {agree}/{data.attendees} người đồng ý "
                "(dưới 50 %) — rà soát lại và họp lại.",
                actor,
            )
    db.session.flush()
    record(
        "meeting.record",
        "village_meeting",
        meeting.id,
        commune_id=review.commune_id,
        after=meeting_summary(meeting),
        actor_id=actor.id,
    )
    return meeting


def meeting_summary(meeting: VillageMeeting) -> dict[str, Any]:
    return {
        "village": meeting.village.code,
        "held_on": meeting.held_on,
        "attendees": meeting.attendees,
        "votes": {str(v.case_id): [v.agree, v.passed] for v in meeting.votes},
    }


def meetings_of(review: ReviewRound, village: Village) -> list[VillageMeeting]:
    return list(
        db.session.scalars(
            select(VillageMeeting)
            .where(VillageMeeting.round_id == review.id, VillageMeeting.village_id == village.id)
            .order_by(VillageMeeting.held_on, VillageMeeting.id)
        )
    )


def meeting_for(review: ReviewRound, meeting_id: int, actor: User | None = None) -> VillageMeeting:
    """The round's meeting (and of one of the actor's villages, when given)."""
    query = select(VillageMeeting).where(
        VillageMeeting.id == meeting_id, VillageMeeting.round_id == review.id
    )
    if actor is not None:
        query = query.join(Village, Village.id == VillageMeeting.village_id).where(
            village_scope(actor)
        )
    meeting = db.session.scalar(query)
    if meeting is None:
        raise AppError("meeting.not_found", 404, "Không tìm thấy cuộc họp.", "Meeting not found.")
    return meeting
