"""Which households a staff member sees on the map, where they are and what the review says.

Scope is the review list's (:mod:`server.submissions.scope`): an officer their commune, a
province administrator one commune of their province at a time (a whole province is too many
markers for a phone), a village head their villages.  A commune or village outside it is not
found (404), in the query.

The households of a year are those of the commune's registry (in the villages in scope) and those
a questionnaire of the year names without being in the registry (a new household, a code the
registry does not have).  For each:

* its **verdict**: the status recognised for the year (the commune's decision, or an import)
  when there is one; otherwise the year's review result that counts for it — the current score
  of a questionnaire of the year, a Phiếu B over a Phiếu A, then the latest, rejected submissions
  left out (as the reports count it); otherwise "no verdict yet";
* its **point**: the first geopoint answer (outside repeats) of those questionnaires, in the same
  order, with its accuracy when the phone gave one.  A household without one is listed with the
  reason — no questionnaire this year, a questionnaire without a point, or a point that is not a
  position on Earth — never left out.

Points are read from the stored answers in the database (one column per form version), not by
loading every submission's answers.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from werkzeug.exceptions import NotFound

from server.accounts.models import User
from server.extensions import db
from server.geography.models import Commune, Village
from server.households.models import Household, HouseholdStatus, HouseholdYearStatus
from server.i18n import vietnam_today
from server.questionnaires.models import FormVersion
from server.scoring.engine import Category
from server.scoring.mapping import all_mappings, mappings
from server.scoring.models import HouseholdScore
from server.submissions.models import Submission, SubmissionVersion
from server.submissions.scope import commune_scope, in_scope, village_scope

POOR, NEAR_POOR, NEITHER, UNDECIDED = "poor", "near_poor", "neither", "undecided"
VERDICTS = (POOR, NEAR_POOR, NEITHER, UNDECIDED)
VERDICT_LABELS = {
    POOR: _l("Hộ nghèo"),
    NEAR_POOR: _l("Hộ cận nghèo"),
    NEITHER: _l("Không nghèo, không cận nghèo"),
    UNDECIDED: _l("Chưa có kết luận"),
}
_OF_CATEGORY = {
    Category.POOR.value: POOR,
    Category.NEAR_POOR.value: NEAR_POOR,
    Category.AVERAGE.value: NEITHER,
    Category.NEITHER.value: NEITHER,
    Category.SCREENED_OUT.value: NEITHER,  # Phiếu A: clearly not poor
    # not assessed, cannot determine: no verdict yet
}
_OF_STATUS = {
    HouseholdStatus.POOR: POOR,
    HouseholdStatus.NEAR_POOR: NEAR_POOR,
    HouseholdStatus.NONE: NEITHER,
    HouseholdStatus.ESCAPED_POVERTY: NEITHER,
    HouseholdStatus.ESCAPED_NEAR_POVERTY: NEITHER,
    # "moi" says nothing about the year
}

NO_QUESTIONNAIRE, NO_POINT, BAD_POINT = "no_questionnaire", "no_point", "bad_point"
REASON_LABELS = {
    NO_QUESTIONNAIRE: _l("Chưa có phiếu năm nay"),
    NO_POINT: _l("Phiếu không có tọa độ"),
    BAD_POINT: _l("Tọa độ trong phiếu không hợp lệ"),
}
_ID_CHUNK = 500


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float
    accuracy: float | None  # metres


@dataclass
class MapHousehold:
    code: str | None  # None: a new household the questionnaire gave no code
    head_name: str
    village_code: str | None
    village_name: str | None
    verdict: str  # one of VERDICTS
    decided: bool  # the verdict is the status recognised for the year
    registered: bool
    submission_id: int | None  # the questionnaire the verdict comes from
    point: Point | None = None
    reason: str | None = None  # why there is no point (REASON_LABELS)


@dataclass
class HouseholdMap:
    year: int
    years: list[int]
    communes: list[Commune]
    commune: Commune | None
    villages: list[Village]
    village: Village | None
    placed: list[MapHousehold] = field(default_factory=list)
    unplaced: list[MapHousehold] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Households on the map by verdict, in legend order."""
        found = dict.fromkeys(VERDICTS, 0)
        for household in self.placed:
            found[household.verdict] += 1
        return found


@dataclass
class _Candidate:
    """One scored questionnaire of the year, in the order of preference."""

    score_id: int
    code: str | None
    category: str
    submission_id: int
    village_id: int | None
    version_id: int
    form_version_id: int
    instance_name: str | None


def household_map(
    actor: User,
    commune_code: str | None = None,
    village_code: str | None = None,
    year: int | None = None,
) -> HouseholdMap:
    """The actor's map of one commune (the named one, or the first of their scope) for one
    year (the given one, or the newest with review results), optionally of one village."""
    communes = list(
        db.session.scalars(select(Commune).where(commune_scope(actor)).order_by(Commune.code))
    )
    commune = communes[0] if communes else None
    if commune_code:
        commune = next((c for c in communes if c.code == commune_code), None)
        if commune is None:
            raise NotFound()
    if commune is None:
        return HouseholdMap(vietnam_today().year, [], [], None, [], None)
    villages = list(
        db.session.scalars(
            select(Village)
            .where(village_scope(actor), Village.commune_id == commune.id)
            .order_by(Village.code)
        )
    )
    village = None
    if village_code:
        village = next((v for v in villages if v.code == village_code), None)
        if village is None:
            raise NotFound()
    years = _years(actor, commune)
    if year is None:
        year = years[0] if years else vietnam_today().year
    found = HouseholdMap(year, years, communes, commune, villages, village)
    shown = [village] if village else villages
    _fill(found, actor, commune, {v.id: v for v in shown}, filtered=village is not None)
    return found


def _years(actor: User, commune: Commune) -> list[int]:
    """Years with review results of the commune in the actor's scope, newest first."""
    return list(
        db.session.scalars(
            select(HouseholdScore.year)
            .join(Submission, Submission.id == HouseholdScore.submission_id)
            .where(
                Submission.commune_id == commune.id,
                in_scope(actor),
                HouseholdScore.current.is_(True),
            )
            .distinct()
            .order_by(HouseholdScore.year.desc())
        )
    )


def _fill(
    found: HouseholdMap,
    actor: User,
    commune: Commune,
    villages: dict[int, Village],
    *,
    filtered: bool,
) -> None:
    registry = list(
        db.session.scalars(
            select(Household)
            .where(Household.commune_id == commune.id, Household.village_id.in_(list(villages)))
            .order_by(Household.code)
        )
    )
    # Every code of the commune's registry, whichever village: a registry household's
    # questionnaire sent from another village is still that household's.
    registered = set(
        db.session.scalars(select(Household.code).where(Household.commune_id == commune.id))
    )
    statuses = _statuses([h.id for h in registry], found.year)
    candidates: dict[str, list[_Candidate]] = defaultdict(list)  # registry code → …
    others: dict[object, list[_Candidate]] = defaultdict(list)  # outside the registry
    for candidate in _candidates(actor, commune, found.year):
        if candidate.code in registered:
            candidates[candidate.code].append(candidate)
        else:  # a new household without a code is one household per questionnaire
            others[candidate.code or ("score", candidate.score_id)].append(candidate)
    # A household outside the registry is in the village its questionnaire names.
    unregistered = [
        group
        for group in others.values()
        if group[0].village_id in villages or (not filtered and group[0].village_id is None)
    ]
    points = _points([c for group in (*candidates.values(), *unregistered) for c in group])
    heads = _head_names([group[0].score_id for group in unregistered])

    households = []
    for household in registry:
        group = candidates.get(household.code, [])
        status = statuses.get(household.id)
        village = villages[household.village_id]
        households.append(
            _placed(
                MapHousehold(
                    code=household.code,
                    head_name=household.head_name,
                    village_code=village.code,
                    village_name=village.name,
                    verdict=_OF_STATUS[status] if status else _verdict(group),
                    decided=status is not None,
                    registered=True,
                    submission_id=group[0].submission_id if group else None,
                ),
                group,
                points,
            )
        )
    for group in unregistered:
        first = group[0]
        village = villages.get(first.village_id) if first.village_id else None
        households.append(
            _placed(
                MapHousehold(
                    code=first.code,
                    head_name=heads.get(first.score_id) or first.instance_name or "—",
                    village_code=village.code if village else None,
                    village_name=village.name if village else None,
                    verdict=_verdict(group),
                    decided=False,
                    registered=False,
                    submission_id=first.submission_id,
                ),
                group,
                points,
            )
        )
    households.sort(key=lambda h: (h.village_code or "\uffff", h.code or "\uffff", h.head_name))
    found.placed = [h for h in households if h.point is not None]
    found.unplaced = [h for h in households if h.point is None]


def _verdict(group: list[_Candidate]) -> str:
    return _OF_CATEGORY.get(group[0].category, UNDECIDED) if group else UNDECIDED


def _placed(household: MapHousehold, group: list[_Candidate], points: dict) -> MapHousehold:
    """The household with the first point among its questionnaires, or the reason it has none."""
    if not group:
        household.reason = NO_QUESTIONNAIRE
        return household
    read = [points.get(c.version_id) for c in group]
    household.point = next((p for p in read if isinstance(p, Point)), None)
    if household.point is None:
        household.reason = BAD_POINT if BAD_POINT in read else NO_POINT
    return household


def _statuses(household_ids: list[int], year: int) -> dict[int, HouseholdStatus]:
    """The status recognised for ``year`` of each household that has one ("moi" is none)."""
    found = {}
    for chunk in _chunks(household_ids):
        rows = db.session.execute(
            select(HouseholdYearStatus.household_id, HouseholdYearStatus.status).where(
                HouseholdYearStatus.household_id.in_(chunk), HouseholdYearStatus.year == year
            )
        )
        found.update({hid: status for hid, status in rows if status in _OF_STATUS})
    return found


def _candidates(actor: User, commune: Commune, year: int) -> list[_Candidate]:
    """The commune's scored questionnaires of the year that the actor may see, each
    household's preferred one first: a Phiếu B over a Phiếu A, then the latest."""
    score = HouseholdScore
    rows = db.session.execute(
        select(
            score.id,
            score.household_code,
            score.category,
            Submission.id,
            Submission.village_id,
            SubmissionVersion.id,
            SubmissionVersion.form_version_id,
            SubmissionVersion.instance_name,
        )
        .join(Submission, Submission.id == score.submission_id)
        .join(SubmissionVersion, SubmissionVersion.id == score.submission_version_id)
        .where(
            Submission.commune_id == commune.id,
            in_scope(actor),
            Submission.review_state != "rejected",
            score.current.is_(True),
            score.year == year,
            score.mapping.in_(list(all_mappings())),
        )
        .order_by(
            case((score.mapping.in_(list(mappings())), 0), else_=1),
            score.created_at.desc(),
            score.id.desc(),
        )
    )
    return [_Candidate(*row) for row in rows]


def _points(candidates: list[_Candidate]) -> dict[int, Point | str]:
    """Submission version id → its point, or ``BAD_POINT``; versions without a geopoint answer
    are absent.  One query per form version (the answer's path is the form's)."""
    versions: dict[int, list[int]] = defaultdict(list)
    for candidate in candidates:
        versions[candidate.form_version_id].append(candidate.version_id)
    found: dict[int, Point | str] = {}
    for form_version in db.session.scalars(
        select(FormVersion).where(FormVersion.id.in_(list(versions)))
    ):
        path = geopoint_path(form_version)
        if path is None:
            continue
        answer = SubmissionVersion.fields[path].as_string()
        for chunk in _chunks(versions[form_version.id]):
            rows = db.session.execute(
                select(SubmissionVersion.id, answer).where(
                    SubmissionVersion.id.in_(chunk), func.coalesce(answer, "") != ""
                )
            )
            found.update(
                {version_id: parse_point(value) or BAD_POINT for version_id, value in rows}
            )
    return found


def geopoint_path(form_version: FormVersion) -> str | None:
    """The answer key (``general/gps``) of the form's first geopoint question outside repeats."""
    repeats = tuple(f"{r}/" for r in form_version.repeats or ())
    for item in form_version.fields:
        path = item["path"]
        if item["type"] == "geopoint" and not path.startswith(repeats):
            return path.split("/", 2)[-1]  # "/data/general/gps" → "general/gps"
    return None


def parse_point(value: str | None) -> Point | None:
    """An ODK geopoint ("lat lon [altitude [accuracy]]") as a position on Earth, or None."""
    parts = str(value or "").split()
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except (IndexError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    accuracy = None
    if len(parts) > 3:
        try:
            accuracy = float(parts[3])
        except ValueError:
            accuracy = None
        if accuracy is not None and not (math.isfinite(accuracy) and accuracy >= 0):
            accuracy = None
    return Point(lat, lon, accuracy)


def _head_names(score_ids: list[int]) -> dict[int, str]:
    """The head's name as scored (the member whose relationship is "chu_ho", else the first),
    for households outside the registry."""
    found = {}
    for chunk in _chunks(score_ids):
        rows = db.session.execute(
            select(HouseholdScore.id, HouseholdScore.result).where(HouseholdScore.id.in_(chunk))
        )
        for score_id, result in rows:
            members = ((result or {}).get("inputs") or {}).get("members") or []
            named = [m for m in members if isinstance(m, dict) and m.get("name")]
            head = next((m for m in named if m.get("relationship") == "chu_ho"), None)
            if head or named:
                found[score_id] = (head or named[0])["name"]
    return found


def _chunks(ids: list[int]):
    for start in range(0, len(ids), _ID_CHUNK):
        yield ids[start : start + _ID_CHUNK]
