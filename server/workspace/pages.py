"""Staff pages over households: ``/xa/ho`` (the commune's households for a review year, with
progress, search and filters) and ``/xa/ho/<code>`` (one household across years).

Officers and administrators, and village heads for their villages (read-only pages anyway); who
sees which household is decided in :mod:`server.workspace.services`.  The year, the search and
the filters are query parameters, carried by every link (pages, households, back)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from server.access.services import Seen, record_access
from server.accounts.models import VIEWER_ROLES
from server.accounts.web import staff_page
from server.errors import AppError
from server.households.labels import SOURCE_LABELS, STATUS_LABELS
from server.meetings.pages import KIND_LABELS as ROUND_KIND_LABELS
from server.meetings.pages import LIST_LABELS, STAGE_LABELS
from server.review.services import STATE_LABELS
from server.scoring.labels import CATEGORY_LABELS
from server.scoring.standards import all_standards
from server.web_forms import MAX_PAGE, ListPage
from server.workspace.services import (
    FILTERS,
    ListQuery,
    communes_for,
    household_view,
    matching,
    progress_total,
    registry_rows,
    review_years,
    reviewer_progress,
    unregistered_rows,
    village_progress,
    villages_for,
)

bp = Blueprint("workspace", __name__, url_prefix="/xa/ho")

PAGE_SIZE = 50
# The list's parameters: kept in every link of the list and of a household's page.
LIST_ARGS = ("year", "q", "village", "commune", "show", "page")
# The household's commune, when the user sees several (a code is unique within a commune).
HOUSEHOLD_COMMUNE = "of"
FILTER_LABELS = {
    "chua_co_phieu": _l("Chưa có phiếu năm nay"),
    "thay_doi": _l("Kết quả thay đổi so với năm trước"),
    "ngheo_chua_co_gi": _l("Nghèo/cận nghèo năm trước, năm nay chưa có gì"),
    "khong_thong_nhat": _l("Hai phương pháp không thống nhất"),
}
KIND_LABELS = {
    "phieu_a": _l("Phiếu A"),
    "phieu_b": _l("Phiếu B"),
    "thu_nhap": _l("Thu nhập"),
    "de_nghi": _l("Đề nghị"),
}
KIND_TITLES = {
    "phieu_a": _l("Phiếu A (nhận diện nhanh)"),
    "phieu_b": _l("Phiếu B (rà soát)"),
    "thu_nhap": _l("Phiếu khảo sát thu nhập (mức sống trung bình)"),
    "de_nghi": _l("Giấy đề nghị của hộ (Mẫu số 01 / 04)"),
}


def _list_args() -> dict[str, str]:
    """The list's parameters of this request, without the empty ones."""
    return {k: v for k in LIST_ARGS if (v := request.args.get(k, "").strip())}


def _query(year: int) -> ListQuery:
    args = request.args
    show = args.get("show", "").strip()
    return ListQuery(
        year=year,
        q=args.get("q", "").strip()[:200],
        village=args.get("village", "").strip(),
        commune=args.get("commune", "").strip(),
        show=show if show in FILTERS else "",
    )


def _year(current: int) -> int:
    try:
        year = int(request.args.get("year", ""))
    except ValueError:
        return current
    return year if 2000 <= year <= 2100 else current


def _page() -> int:
    try:
        return min(max(1, int(request.args.get("page", "1"))), MAX_PAGE)
    except ValueError:
        return 1


@bp.get("")
@staff_page(*VIEWER_ROLES)
def index():
    current, years = review_years(current_user)
    query = _query(_year(current))
    number = _page()
    found = registry_rows(current_user, query, number, PAGE_SIZE)
    outside = unregistered_rows(current_user, query)  # every one: the progress counts them
    communes = communes_for(current_user)
    args = _list_args()
    by_village = village_progress(current_user, query, outside)
    shown = [*found.rows, *matching(outside, query)]
    record_access(
        "list",
        [
            Seen(r.household.id if r.household else None, r.code, r.commune.id, r.submission_id)
            for r in shown
        ],
        ref="list:households",
    )
    return render_template(
        "workspace/households.html",
        query=query,
        current_year=current,
        years=years,
        listed=ListPage(
            rows=found.rows,
            total=found.total,
            number=number,
            pages=max(1, -(-found.total // PAGE_SIZE)),
            args={k: v for k, v in args.items() if k != "page"},
        ),
        outside=matching(outside, query),
        villages_progress=by_village,
        progress_total=progress_total(by_village, _("Tổng")) if len(by_village) > 1 else None,
        reviewers_progress=reviewer_progress(current_user, query),
        communes=communes,
        villages=villages_for(current_user, query.commune),
        household_url=_household_url(args, several=len(communes) > 1),
        **_labels(),
    )


@bp.get("/<code>")
@staff_page(*VIEWER_ROLES)
def household(code: str):
    try:
        view = household_view(current_user, code, request.args.get(HOUSEHOLD_COMMUNE, ""))
    except AppError as error:
        if error.status == 404:
            abort(404)
        raise
    record_access(
        "history", [Seen(view.household and view.household.id, view.code, view.commune.id)]
    )
    args = _list_args()
    return render_template(
        "workspace/household.html",
        view=view,
        back=url_for(".index", **args),
        standard_names={code: s.name_vi for code, s in all_standards().items()},
        **_labels(),
    )


def _household_url(args: dict[str, str], *, several: bool):
    """``url(code, commune code)`` → the household's page, the list's parameters carried along
    (so its back link returns to the same filtered page)."""

    def url(code: str, commune_code: str) -> str:
        extra = {HOUSEHOLD_COMMUNE: commune_code} if several else {}
        return url_for(".household", code=code, **args, **extra)

    return url


def _labels() -> dict:
    return {
        "filters": FILTER_LABELS,
        "kinds": KIND_LABELS,
        "kind_titles": KIND_TITLES,
        "statuses": STATUS_LABELS,
        "sources": SOURCE_LABELS,
        "categories": CATEGORY_LABELS,
        "states": STATE_LABELS,
        "stages": STAGE_LABELS,
        "round_kinds": ROUND_KIND_LABELS,
        "list_types": LIST_LABELS,
        "household_commune": HOUSEHOLD_COMMUNE,
    }
