"""Reviewing one result after another (issue 13, "review that flows"): the decision sits at the
top of a submission's page and defaults to "approve"; previous / next walk exactly the list's
filtered order; "save and go to the next" goes on within the filter and back to the filtered
list after the last; the filter (and the list page) survive every link and redirect; bulk review
applies to every submission of the page without JavaScript."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from server.db import write_transaction
from server.extensions import db
from server.review import listing
from server.review import pages as review_pages
from server.submissions.models import Submission
from tests.collect_client import CollectClient, FlaskTransport
from tests.instances import demo_instance, new_instance_id
from tests.integration.test_review_pages import _login, _post

# Village of each submission, in the order the phone sends them.
SENT = ("T01", "T02", "T01", "T01", "T02", "T01", "T01")


@pytest.fixture
def sent(app, seeded) -> list[int]:
    """Seven demo-form submissions of X1 (five of village T01); two of them received in the same
    instant (the id orders them), one received a day earlier than the others."""
    phone = CollectClient(FlaskTransport(app), f"http://rasoat.test/key/{seeded.reviewer_token}")
    instance_ids = []
    for village in SENT:
        instance_id = new_instance_id()
        reply = phone.submit(demo_instance(instance_id, village=village, photo=None), {})
        assert reply[-1].status == 201
        instance_ids.append(instance_id)
    with app.app_context(), write_transaction(db.session):
        by_instance = {s.instance_id: s for s in db.session.scalars(select(Submission)).all()}
        rows = [by_instance[i] for i in instance_ids]
        rows[3].created_at = rows[2].created_at  # the same instant: the id breaks the tie
        rows[0].created_at = rows[0].created_at + timedelta(days=1)  # newest, though sent first
        return [s.id for s in rows]


def _expected(app, village: str, state: str | None = None) -> list[int]:
    """The list's order computed here: newest first, then the higher id first."""
    with app.app_context():
        rows = db.session.scalars(select(Submission)).all()
        chosen = [
            s
            for s in rows
            if s.village.code == village and (state is None or s.review_state == state)
        ]
        chosen.sort(key=lambda s: (s.created_at, s.id), reverse=True)
        return [s.id for s in chosen]


def _listed(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<td><a href="/xa/phieu/(\d+)[?"]', page)]


def _link(page: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}"', page)
    return found.group(1).replace("&amp;", "&") if found else None


def _id_of(url: str) -> int:
    return int(re.match(r"/xa/phieu/(\d+)", urlsplit(url).path).group(1))


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_previous_and_next_walk_the_filtered_list_in_its_order(app, sent):
    officer = _login(app, "canbo1")
    expected = _expected(app, "T01")
    assert len(expected) == 5
    assert expected[0] == sent[0]  # a day newer
    assert expected.index(sent[3]) < expected.index(sent[2])  # same instant: higher id first
    listed = _listed(officer.get("/xa/phieu?village=T01").get_data(as_text=True))
    assert listed == expected

    walked, url = [], f"/xa/phieu/{expected[0]}?village=T01"
    while url:
        page = officer.get(url).get_data(as_text=True)
        walked.append(_id_of(url))
        position = re.search(r'id="list-position">([^<]*)<', page).group(1)
        assert position == f"{len(walked)} / {len(expected)}"
        url = _link(page, "next")
        if url:
            assert _query(url) == {"village": ["T01"]}  # the filter travels with the link
    assert walked == expected

    back, url = [], f"/xa/phieu/{expected[-1]}?village=T01"
    while url:
        back.append(_id_of(url))
        url = _link(officer.get(url).get_data(as_text=True), "prev")
    assert back == expected[::-1]

    # Without a filter the walk covers the whole list (both villages).
    everything = _listed(officer.get("/xa/phieu").get_data(as_text=True))
    page = officer.get(f"/xa/phieu/{everything[1]}").get_data(as_text=True)
    assert _id_of(_link(page, "next")) == everything[2]
    assert _id_of(_link(page, "prev")) == everything[0]


def test_the_decision_is_at_the_top_and_defaults_to_approve(app, sent):
    officer = _login(app, "canbo1")
    page = officer.get(f"/xa/phieu/{sent[1]}").get_data(as_text=True)
    decision = page.index('id="decision"')
    assert decision < page.index("Câu trả lời") and decision < page.index('class="facts"')
    choices = re.findall(r'<input type="radio" name="state" value="(\w+)"\s*(checked)?', page)
    assert [value for value, _ in choices] == ["approved", "resurvey", "has_issues", "rejected"]
    assert [value for value, checked in choices if checked] == ["approved"]
    # Once decided, the page offers that decision again.
    _post(officer, f"/xa/phieu/{sent[1]}/trang-thai", {"state": "has_issues", "comment": "Mờ"})
    page = officer.get(f"/xa/phieu/{sent[1]}").get_data(as_text=True)
    checked = re.findall(r'value="(\w+)"\s+checked', page)
    assert checked == ["has_issues"]


def test_save_and_next_goes_on_within_the_filter_and_back_to_it_after_the_last(app, sent):
    officer = _login(app, "canbo1")
    todo = _expected(app, "T01", "received")
    url = f"/xa/phieu/{todo[0]}?village=T01&state=received"
    seen = []
    while True:
        seen.append(_id_of(url))
        reply = _post(
            officer,
            url.replace("?", "/trang-thai?", 1),
            {"state": "approved", "comment": "", "then": "next"},
        )
        assert reply.status_code == 302
        url = reply.headers["Location"]
        assert _query(url) == {"village": ["T01"], "state": ["received"]}
        if urlsplit(url).path == "/xa/phieu":
            break
    assert seen == todo  # each decision led to the next one of the filter, in order
    page = officer.get(url).get_data(as_text=True)
    assert "Đây là phiếu cuối cùng của danh sách" in page
    assert _listed(page) == []  # nothing left to review in that filter
    assert _expected(app, "T01", "approved") == todo
    assert _expected(app, "T02", "received") == _expected(app, "T02")  # untouched

    # "Lưu" alone stays on the page, with the filter.
    other = _expected(app, "T02")[0]
    reply = _post(
        officer,
        f"/xa/phieu/{other}/trang-thai?village=T02",
        {"state": "approved", "comment": "", "then": "stay"},
    )
    assert reply.headers["Location"] == f"/xa/phieu/{other}?village=T02"


def test_the_filter_and_page_are_kept_by_back_links_redirects_and_pages(app, sent, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    monkeypatch.setattr(review_pages, "PAGE_SIZE", 2)
    officer = _login(app, "canbo1")
    order = _expected(app, "T01")
    first = officer.get("/xa/phieu?village=T01").get_data(as_text=True)
    assert _listed(first) == order[:2]
    assert 'href="?village=T01&page=2"' in first  # the pager keeps the filter
    second = officer.get("/xa/phieu?village=T01&page=2").get_data(as_text=True)
    assert _listed(second) == order[2:4]
    # The third submission of the filter is on page 2: its back link says so.
    page = officer.get(f"/xa/phieu/{order[2]}?village=T01").get_data(as_text=True)
    back = re.search(r'<a href="([^"]+)">« ', page).group(1).replace("&amp;", "&")
    assert back == "/xa/phieu?village=T01&page=2"
    # Every form of the page posts with the filter, and comes back with it.
    actions = re.findall(r'<form method="post" action="(/xa/phieu/[^"]+)"', page)
    assert actions and all(a.endswith("?village=T01") for a in actions)
    reply = _post(officer, f"/xa/phieu/{order[2]}/nhan-xet?village=T01", {"comment": "Đã xem"})
    assert reply.headers["Location"] == f"/xa/phieu/{order[2]}?village=T01"
    reply = _post(officer, f"/xa/phieu/{order[2]}/trang-thai?village=T01", {"state": "has_issues"})
    assert reply.status_code == 400  # refused (no comment): the page again, filter kept
    assert f'action="/xa/phieu/{order[2]}/trang-thai?village=T01"' in reply.get_data(True)


def test_bulk_review_of_every_submission_on_the_page(app, sent, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    monkeypatch.setattr(review_pages, "PAGE_SIZE", 2)
    officer = _login(app, "canbo1")
    order = _expected(app, "T01")
    page = officer.get("/xa/phieu?village=T01&page=2").get_data(as_text=True)
    # The header checkbox (ticks every row, app.js) is hidden until the script shows it; the
    # button for the whole page needs no script.
    assert re.search(r'<input type="checkbox" data-select-all="ids"[^>]* hidden>', page)
    on_page = [int(i) for i in re.findall(r'name="page_ids" value="(\d+)"', page)]
    assert on_page == order[2:4]
    back = re.search(r'name="back" value="([^"]+)"', page).group(1).replace("&amp;", "&")
    reply = _post(
        officer,
        "/xa/phieu/hang-loat",
        {"page_ids": on_page, "scope": "page", "state": "approved", "comment": "", "back": back},
    )
    assert reply.headers["Location"] == "/xa/phieu?village=T01&page=2"
    with app.app_context():
        states = dict(db.session.execute(select(Submission.id, Submission.review_state)).all())
    assert {i for i, s in states.items() if s == "approved"} == set(order[2:4])
    # The ticked-only button ignores the page's ids: nothing ticked, nothing changes.
    reply = _post(
        officer,
        "/xa/phieu/hang-loat",
        {"page_ids": order[:2], "scope": "ticked", "state": "approved", "back": back},
    )
    # Refused at once, with the message and the list (what was chosen kept).
    assert reply.status_code == 400
    assert "Chưa chọn phiếu nào" in reply.get_data(True)
    with app.app_context():
        assert db.session.get(Submission, order[0]).review_state == "received"
    # A decision that needs a reason is refused for the whole page at once.
    reply = _post(
        officer,
        "/xa/phieu/hang-loat",
        {"page_ids": order[:2], "scope": "page", "state": "rejected", "comment": ""},
    )
    assert reply.status_code == 400
    with app.app_context():
        assert {db.session.get(Submission, i).review_state for i in order[:2]} == {"received"}


def test_a_village_head_sees_the_way_through_the_list_but_decides_nothing(app, sent):
    from tests.integration.procedure import add_village_heads

    add_village_heads(app, {"truongthon": "T01"})
    head = _login(app, "truongthon")
    order = _expected(app, "T01")
    page = head.get(f"/xa/phieu/{order[0]}").get_data(as_text=True)
    assert _id_of(_link(page, "next")) == order[1]
    assert 'name="state"' not in page and 'id="decision"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    reply = head.post(
        f"/xa/phieu/{order[0]}/trang-thai", data={"state": "approved", "csrf_token": token}
    )
    assert reply.status_code == 403
