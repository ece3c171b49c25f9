"""The login page's ``next=`` and the bulk review's ``back=`` never send the browser to another
site, whatever a crafted link or form says."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import select

from server.extensions import db
from server.submissions.models import Submission
from tests.collect_client import CollectClient, FlaskTransport
from tests.instances import demo_instance, new_instance_id
from tests.integration.procedure import csrf, login

OFF_SITE = [
    "//evil.example",
    "https://evil.example",
    "/\\evil.example",
    "javascript:alert(1)",
    "/\t/evil.example",
    "http:evil.example",
]


def _on_site(location: str) -> bool:
    return location.startswith("/") and not location.startswith("//") and "\\" not in location


@pytest.mark.parametrize("target", OFF_SITE)
def test_login_next_off_site_goes_to_the_users_first_page(app, seeded, target):
    browser = app.test_client()
    token = csrf(browser.get("/login").get_data(as_text=True))
    reply = browser.post(
        f"/login?next={quote(target, safe='')}",
        data={"username": seeded.officer, "password": seeded.password, "csrf_token": token},
    )
    assert reply.status_code == 302
    assert reply.headers["Location"] == "/bao-cao"


def test_login_next_on_site_is_followed(app, seeded):
    browser = app.test_client()
    token = csrf(browser.get("/login").get_data(as_text=True))
    reply = browser.post(
        "/login?next=%2Fxa%2Fphieu%3Fstate%3Dreceived",
        data={"username": seeded.officer, "password": seeded.password, "csrf_token": token},
    )
    assert reply.headers["Location"] == "/xa/phieu?state=received"


def _one_submission(app, seeded) -> int:
    phone = CollectClient(FlaskTransport(app), f"http://rasoat.test/key/{seeded.reviewer_token}")
    assert [r.status for r in phone.submit(demo_instance(new_instance_id(), photo=None), {})] == [
        201
    ]
    with app.app_context():
        return db.session.scalar(select(Submission.id))


@pytest.mark.parametrize("target", OFF_SITE)
@pytest.mark.parametrize("state", ["approved", "not-a-state"])  # done, and refused
def test_bulk_review_back_off_site_goes_to_the_review_list(app, seeded, target, state):
    submission_id = _one_submission(app, seeded)
    officer = login(app, seeded.officer)
    token = csrf(officer.get("/xa/phieu").get_data(as_text=True))
    reply = officer.post(
        "/xa/phieu/hang-loat",
        data={"ids": [submission_id], "state": state, "back": target, "csrf_token": token},
    )
    if state == "approved":
        assert reply.status_code == 302
        assert _on_site(reply.headers["Location"])
        assert reply.headers["Location"] == "/xa/phieu"
    else:  # refused at once with the list: no redirect anywhere
        assert reply.status_code == 400 and "Location" not in reply.headers


def test_bulk_review_back_on_site_is_followed(app, seeded):
    submission_id = _one_submission(app, seeded)
    officer = login(app, seeded.officer)
    token = csrf(officer.get("/xa/phieu").get_data(as_text=True))
    reply = officer.post(
        "/xa/phieu/hang-loat",
        data={
            "ids": [submission_id],
            "state": "approved",
            "back": "/xa/phieu?state=received",
            "csrf_token": token,
        },
    )
    assert reply.headers["Location"] == "/xa/phieu?state=received"
