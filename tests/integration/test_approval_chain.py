"""The approval chain above the commune, chosen per province: by default the commune decides
alone; when the province asks for it, the chair's decision is refused until the commune has
sent its results and the province has agreed — a request for revision, with its comment, sends
the commune back to ask again.  Through the pages, with another province kept out."""

from __future__ import annotations

from sqlalchemy import select

from server.approvals.models import ApprovalRule, Consultation
from server.audit.models import AuditEvent
from server.decisions.models import Decision
from server.extensions import db
from tests.integration.procedure import (
    add_other_province,
    case_rows,
    login,
    meeting_form,
    post_form,
)

SIGN = {"number": "125/QĐ-UBND", "signed_on": "2026-12-02", "signer_name": "Hồ Văn Nam"}


def _ready_for_the_decision(app, village) -> str:
    """Meeting (everyone agrees) and a posting that has ended: only the decision is left."""
    officer, base = village["officer"], f"/xa/ra-soat/{village['round']}"
    voted = [c for c, case in case_rows(app).items() if case.list_type != "khong_thuoc_dien"]
    data = meeting_form(30, dict.fromkeys(voted, 30), app)
    assert post_form(officer, f"{village['url']}/hop-dan", data).status_code == 302
    post_form(officer, f"{base}/niem-yet", {"places": "Trụ sở UBND xã", "starts_on": "2026-11-24"})
    return base


def _decision_page(officer, base) -> str:
    return officer.get(f"{base}/quyet-dinh").get_data(as_text=True)


def _consultation(app) -> Consultation | None:
    with app.app_context():
        found = db.session.scalar(select(Consultation))
        if found is not None:
            db.session.expunge(found)
        return found


def _decisions(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(Decision)).all())


def test_by_default_the_commune_decides_alone(app, village):
    base = _ready_for_the_decision(app, village)
    officer = village["officer"]
    assert "Ý kiến của tỉnh" not in _decision_page(officer, base)
    post_form(officer, f"{base}/quyet-dinh", SIGN)
    assert _decisions(app) == 1
    # Asking the province when it does not ask to be consulted is refused.
    post_form(officer, f"{base}/xin-y-kien", {"note": "x"})
    assert _consultation(app) is None


def test_the_province_requires_its_opinion_before_the_decision(app, village):
    base = _ready_for_the_decision(app, village)
    officer, admin = village["officer"], login(app, "admin1")
    page = admin.get("/admin/phe-duyet").get_data(as_text=True)
    assert "Xã tự quyết định" in page and "tạm thời" in page
    reply = post_form(admin, "/admin/phe-duyet/quy-trinh", {"needs_province_opinion": "yes"})
    assert reply.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(ApprovalRule.needs_province_opinion)) is True
        assert db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "province.approval_rule")
        )

    # Signing first is refused, with the reason.
    post_form(officer, f"{base}/quyet-dinh", SIGN)
    assert _decisions(app) == 0
    page = _decision_page(officer, base)
    assert "chưa gửi xin ý kiến" in page and "Gửi kết quả, xin ý kiến tỉnh" in page

    # The commune asks; asking twice is refused; signing while waiting is refused.
    post_form(officer, f"{base}/xin-y-kien", {"note": "Kết quả rà soát năm 2026"})
    assert _consultation(app).state == "pending"
    reply = post_form(officer, f"{base}/xin-y-kien", {"note": "lần hai"})
    assert 400 <= reply.status_code < 500  # refused at once, the reason on the page
    assert "Đã gửi xin ý kiến; đang chờ tỉnh." in reply.get_data(as_text=True)
    post_form(officer, f"{base}/quyet-dinh", SIGN)
    assert _decisions(app) == 0
    assert "Đang chờ ý kiến của tỉnh." in _decision_page(officer, base)

    # The province sees the request with the proposed results, and asks for a revision.
    listing = admin.get("/admin/phe-duyet").get_data(as_text=True)
    assert "Xã Một" in listing and "Kết quả rà soát năm 2026" in listing
    assert "Hộ nghèo: " in listing and "Chờ ý kiến" in listing
    consultation_id = _consultation(app).id
    reply = post_form(
        admin, f"/admin/phe-duyet/{consultation_id}", {"opinion": "revise", "comment": ""}
    )
    # Refused at once: the page again (4xx) with the reason, "revise" still chosen.
    assert reply.status_code == 400
    assert "Cần ghi rõ nội dung" in reply.get_data(as_text=True)
    assert _consultation(app).state == "pending"
    post_form(
        admin,
        f"/admin/phe-duyet/{consultation_id}",
        {"opinion": "revise", "comment": "Kiểm tra lại hộ Nguyễn Văn Lâm"},
    )
    assert _consultation(app).state == "revise"
    post_form(officer, f"{base}/quyet-dinh", SIGN)
    assert _decisions(app) == 0
    page = _decision_page(officer, base)
    assert "Tỉnh đề nghị xem lại: Kiểm tra lại hộ Nguyễn Văn Lâm" in page

    # The commune asks again; the province agrees; the chair signs.
    post_form(officer, f"{base}/xin-y-kien", {"note": "Đã kiểm tra lại"})
    assert _consultation(app).state == "pending"
    post_form(admin, f"/admin/phe-duyet/{consultation_id}", {"opinion": "agreed", "comment": ""})
    assert _consultation(app).state == "agreed"
    post_form(admin, f"/admin/phe-duyet/{consultation_id}", {"opinion": "revise", "comment": "x"})
    assert _consultation(app).state == "agreed"  # an answered request is not answered again
    post_form(officer, f"{base}/quyet-dinh", SIGN)
    assert _decisions(app) == 1
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.like("consultation.%"))
            .order_by(AuditEvent.id)
        ).all()
    assert actions == [
        "consultation.request",
        "consultation.answer",
        "consultation.request",
        "consultation.answer",
    ]


def test_another_province_and_other_roles_are_kept_out(app, village):
    base = _ready_for_the_decision(app, village)
    admin = login(app, "admin1")
    post_form(admin, "/admin/phe-duyet/quy-trinh", {"needs_province_opinion": "yes"})
    post_form(village["officer"], f"{base}/xin-y-kien", {"note": "Kết quả"})
    consultation_id = _consultation(app).id
    add_other_province(app)
    stranger = login(app, "admin2")
    page = stranger.get("/admin/phe-duyet").get_data(as_text=True)
    assert "Xã Một" not in page and "Chưa có xã nào xin ý kiến." in page
    reply = post_form(stranger, f"/admin/phe-duyet/{consultation_id}", {"opinion": "agreed"})
    assert reply.status_code == 404
    # The other province's rule is its own: turning it off leaves province P1's on.
    post_form(stranger, "/admin/phe-duyet/quy-trinh", {"needs_province_opinion": "no"})
    with app.app_context():
        rules = dict(
            db.session.execute(
                select(ApprovalRule.province_id, ApprovalRule.needs_province_opinion)
            ).all()
        )
    assert sorted(rules.values()) == [False, True]
    assert _consultation(app).state == "pending"
    # Officers answer nothing and change no rule; another commune's officer cannot ask.
    officer = village["officer"]
    assert officer.get("/admin/phe-duyet").status_code == 403
    assert (
        post_form(officer, f"/admin/phe-duyet/{consultation_id}", {"opinion": "agreed"}).status_code
        == 403
    )
    other = login(app, "canbo2")
    assert post_form(other, f"{base}/xin-y-kien", {"note": "x"}).status_code == 404
    assert _consultation(app).state == "pending"
