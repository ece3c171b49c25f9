"""Retention (issue 14, "nothing kept forever"): a commune with two decided rounds of different
ages — the purge deletes exactly what the rules say (files gone from disk, GPS and typed text
cleared, the XML dropped), keeps the verdicts and the legal record, survives a crash midway, is
refused under a legal hold (an open complaint, an explicit hold), and its dry run writes
nothing; the province page's rules and holds belong to the province's own administrator."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from server.audit.models import AuditEvent
from server.blobs import blob_store
from server.db import write_transaction
from server.decisions.models import Certificate, Decision, Refusal
from server.extensions import db
from server.geography.models import Province
from server.meetings.models import HouseholdCase, ReviewRound
from server.publication.models import Complaint
from server.questionnaires.labels import form_labels, strip_indexes
from server.retention import services
from server.retention.kinds import ATTACHMENTS, FREE_TEXT, GPS, XML
from server.retention.models import RetentionHold, RetentionPendingFile, RetentionPurge
from server.scoring.models import HouseholdScore
from server.submissions.models import (
    Submission,
    SubmissionAttachment,
    SubmissionVersion,
    SubmissionXml,
)
from tests.integration.procedure import case_rows, csrf, decide, login
from tests.integration.test_every_write_scope import ACTORS, _page, world  # noqa: F401

OLD_CODE = "X1-T01-0104"  # moved to a round decided in 2023
# With rasoat's defaults (24 months for files, GPS, text, XML; 60 for answers and scores):
# on this day the 2023 round's files, GPS, text and XML are due; the 2026 round's nothing.
OLD_DUE = date(2026, 12, 10)
ALL_DUE = date(2028, 12, 3)  # both rounds past 24 months, neither past 60
KINDS_24 = [ATTACHMENTS, GPS, FREE_TEXT, XML]


@pytest.fixture
def commune(app, village):
    """The village fixture's round decided on 02/12/2026, and one of its households moved to an
    older annual round of the same commune decided on 05/12/2023."""
    decide(app, village)
    with app.app_context(), write_transaction(db.session):
        new = db.session.get(ReviewRound, village["round"])
        old = ReviewRound(
            commune_id=new.commune_id,
            year=2023,
            kind="dinh_ky",
            started_on=date(2023, 9, 1),
            state="decided",
        )
        db.session.add(old)
        db.session.flush()
        db.session.add(
            Decision(
                round_id=old.id,
                number="98/QĐ-UBND",
                signed_on=date(2023, 12, 5),
                signer_name="Hồ Văn Nam",
                signer_title="Chủ tịch",
            )
        )
        case = db.session.scalar(
            select(HouseholdCase).where(HouseholdCase.household_code == OLD_CODE)
        )
        case.round_id = old.id
        old_id = old.id
    cases = case_rows(app)
    return village | {
        "old_round": old_id,
        "by_code": {code: c.submission_id for code, c in cases.items()},
    }


def _state(app) -> dict:
    """Everything retention may touch, per submission, and the legal record."""
    with app.app_context():
        store = blob_store()
        state = {}
        for submission in db.session.scalars(select(Submission).order_by(Submission.id)):
            versions = submission.versions
            labels = form_labels(versions[0].form_version.xform)
            fields = {k: v for ver in versions for k, v in ver.fields.items()}
            kinds = {
                (labels.fields.get(strip_indexes(k)) or None)
                and labels.fields[strip_indexes(k)].type
                for k in fields
            }
            typed = [
                k
                for k in fields
                if (f := labels.fields.get(strip_indexes(k)))
                and f.control == "input"
                and f.type == "string"
                and not f.calculated
                and not f.note
            ]
            shas = [a.blob_sha256 for v in versions for a in v.attachments if a.blob_sha256]
            score = db.session.scalar(
                select(HouseholdScore).where(
                    HouseholdScore.submission_id == submission.id, HouseholdScore.current
                )
            )
            state[submission.id] = {
                "files": shas,
                "files_on_disk": [store.exists(s) for s in shas],
                "gps": "geopoint" in kinds,
                "typed": typed,
                "answers": len(fields),
                "xml": db.session.scalar(
                    select(func.count())
                    .select_from(SubmissionXml)
                    .where(SubmissionXml.version_id.in_([v.id for v in versions]))
                ),
                "verdict": (score.category, score.method, score.score_b) if score else None,
                "purged": sorted(
                    db.session.scalars(
                        select(RetentionPurge.kind).where(
                            RetentionPurge.submission_id == submission.id
                        )
                    )
                ),
            }
        state["legal"] = (
            db.session.scalar(select(func.count()).select_from(Decision)),
            db.session.scalar(select(func.count()).select_from(Certificate)),
            db.session.scalar(select(func.count()).select_from(HouseholdCase)),
            tuple(db.session.scalars(select(HouseholdCase.final_category))),
        )
        state["audit"] = db.session.scalar(select(func.count()).select_from(AuditEvent))
        state["pending"] = db.session.scalar(select(func.count()).select_from(RetentionPendingFile))
        return state


def _apply(app, today, **options):
    with app.app_context():
        return services.apply(today, **options)


def test_the_seeded_submissions_hold_every_kind_of_data(app, commune):
    state = _state(app)
    for code, submission_id in commune["by_code"].items():
        s = state[submission_id]
        assert s["files"] and all(s["files_on_disk"]), code
        assert s["gps"] and s["typed"] and s["xml"] >= 1 and s["verdict"], code


def test_dry_run_counts_what_is_due_and_writes_nothing(app, commune):
    before = _state(app)
    with app.app_context():
        found = services.plan(OLD_DUE)
    old = commune["by_code"][OLD_CODE]
    assert {(r.round_id, r.kind) for r in found.rows} == {
        (commune["old_round"], k) for k in KINDS_24
    }
    assert all(r.submissions == 1 for r in found.rows)
    files = next(r.files for r in found.rows if r.kind == ATTACHMENTS)
    assert files == len(before[old]["files"]) >= 1
    assert found.held == []
    with app.app_context():
        assert services.plan(date(2025, 12, 4)).rows == []  # a day before 24 months
    result = app.test_cli_runner().invoke(args=["retention", "plan", "--today", "2026-12-10"])
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output and "attachments" in result.output
    assert "2023" in result.output
    assert _state(app) == before


def test_apply_deletes_exactly_what_the_rules_say_and_keeps_the_verdict(app, commune):
    before = _state(app)
    done = _apply(app, OLD_DUE)
    assert done.submissions == 1 and done.counts == dict.fromkeys(KINDS_24, 1)
    after = _state(app)
    old = commune["by_code"][OLD_CODE]
    assert after[old]["files"] == [] and after[old]["gps"] is False
    assert after[old]["typed"] == [] and after[old]["xml"] == 0
    assert 0 < after[old]["answers"] < before[old]["answers"]  # choices and numbers stay
    assert after[old]["verdict"] == before[old]["verdict"]
    assert after[old]["purged"] == sorted(KINDS_24)
    assert after["legal"] == before["legal"]
    # The other households (the 2026 round) are untouched; the photo they share with the
    # purged submission stays on disk, since they still refer to it.
    for code, submission_id in commune["by_code"].items():
        if code != OLD_CODE:
            assert after[submission_id] == before[submission_id], code
    # One audit entry per round and kind, by the system.
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "retention.purge")
        ).all()
        assert sorted(e.after["kind"] for e in events) == sorted(KINDS_24)
        assert {e.target_id for e in events} == {str(commune["old_round"])}
        assert all(e.actor_id is None and e.after["submissions"] == 1 for e in events)
    # Again: nothing left to do.
    assert _apply(app, OLD_DUE).submissions == 0
    # Later, everything due: the shared files are no longer referenced and leave the disk.
    _apply(app, ALL_DUE)
    final = _state(app)
    assert final["pending"] == 0
    with app.app_context():
        assert not any(blob_store().exists(s) for s in before[old]["files"])
        assert db.session.scalar(select(func.count()).select_from(SubmissionXml)) == 0
    assert final["legal"] == before["legal"]
    for submission_id in commune["by_code"].values():
        assert final[submission_id]["verdict"] == before[submission_id]["verdict"]


def test_a_crash_midway_is_finished_by_the_next_run_with_nothing_half_deleted(
    app, commune, monkeypatch
):
    before = _state(app)
    ids = sorted(commune["by_code"].values())

    def crash(batch: int) -> None:
        if batch == 2:  # after the second batch's commit, before its files are deleted
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        _apply(app, ALL_DUE, batch_size=1, after_commit=crash)
    state = _state(app)
    assert [state[i]["purged"] for i in ids] == [sorted(KINDS_24)] * 2 + [[]] * 2
    # A crash inside a batch: its transaction rolls back, nothing of it is half done.
    real = services._PURGERS[XML]

    def failing_xml(submission_id, versions):
        if submission_id == ids[2]:
            raise RuntimeError("disk full")
        return real(submission_id, versions)

    monkeypatch.setitem(services._PURGERS, XML, failing_xml)
    with pytest.raises(RuntimeError):
        _apply(app, ALL_DUE, batch_size=1)
    state = _state(app)
    assert state[ids[2]] == before[ids[2]] | {"files_on_disk": state[ids[2]]["files_on_disk"]}
    assert state[ids[2]]["purged"] == [] and state[ids[2]]["files"]
    monkeypatch.setitem(services._PURGERS, XML, real)
    done = _apply(app, ALL_DUE, batch_size=1)
    assert done.submissions == 2  # the 3rd (rolled back) and the 4th (never reached)
    final = _state(app)
    for i in ids:
        assert final[i]["purged"] == sorted(KINDS_24)
        assert final[i]["files"] == [] and final[i]["xml"] == 0 and not final[i]["gps"]
        assert final[i]["verdict"] == before[i]["verdict"]
    assert final["pending"] == 0 and final["legal"] == before["legal"]
    with app.app_context():
        assert not any(blob_store().exists(s) for s in before[ids[0]]["files"])
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(SubmissionAttachment)
                .where(SubmissionAttachment.blob_sha256.is_not(None))
            )
            == 0
        )


def test_an_open_complaint_holds_the_household_until_its_recheck(app, commune):
    held_code = "X1-T01-0101"
    held_id = commune["by_code"][held_code]
    with app.app_context(), write_transaction(db.session):
        case = db.session.scalar(
            select(HouseholdCase).where(HouseholdCase.household_code == held_code)
        )
        db.session.add(
            Complaint(
                round_id=case.round_id,
                case_id=case.id,
                received_on=date(2026, 12, 20),
                complainant="Hộ gia đình",
                content="Đề nghị xem lại",
                recheck_due=date(2026, 12, 30),
            )
        )
    before = _state(app)
    with app.app_context():
        found = services.plan(ALL_DUE)
    assert [(h.submission_id, h.household_code) for h in found.held] == [(held_id, held_code)]
    assert "chưa có kết quả phúc tra" in found.held[0].reason
    assert held_id not in {r.submissions for r in found.rows if r.submissions > 2}
    done = _apply(app, ALL_DUE)
    assert done.held == 1 and done.submissions == 3
    after = _state(app)
    assert after[held_id] == before[held_id]
    with app.app_context(), write_transaction(db.session):
        complaint = db.session.scalar(select(Complaint))
        complaint.outcome, complaint.rechecked_on = "giu_nguyen", date(2027, 1, 2)
    assert _apply(app, ALL_DUE).submissions == 1
    assert _state(app)[held_id]["purged"] == sorted(KINDS_24)


def test_an_explicit_hold_set_on_the_province_page_stops_the_purge(app, commune):
    admin = login(app, "admin1")
    page = admin.get("/admin/luu-tru")
    assert page.status_code == 200
    token = csrf(page.get_data(as_text=True))
    reply = admin.post(
        "/admin/luu-tru/giu-lai",
        data={
            "commune": "X1",
            "round_id": str(commune["old_round"]),
            "household_code": "",
            "reason": "Đang thanh tra",
            "csrf_token": token,
        },
    )
    assert reply.status_code == 302
    page = admin.get(f"/admin/luu-tru?ngay={ALL_DUE.isoformat()}").get_data(as_text=True)
    assert "Giữ lại cả đợt: Đang thanh tra" in page
    old = commune["by_code"][OLD_CODE]
    before = _state(app)
    done = _apply(app, OLD_DUE)
    assert (done.held, done.submissions) == (1, 0) and _state(app)[old] == before[old]
    # A household hold too: both held when the other round is due.
    held = commune["by_code"]["X1-T01-0101"]
    reply = admin.post(
        "/admin/luu-tru/giu-lai",
        data={"commune": "X1", "household_code": "X1-T01-0101", "round_id": ""}
        | {"reason": "Hộ đề nghị", "csrf_token": token},
    )
    assert reply.status_code == 302
    done = _apply(app, ALL_DUE)
    assert (done.held, done.submissions) == (2, 2)
    state = _state(app)
    assert state[old] == before[old] and state[held] == before[held]
    with app.app_context():
        holds = db.session.scalars(select(RetentionHold.id).order_by(RetentionHold.id)).all()
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("retention.hold%"))
        ).all()
    assert actions == ["retention.hold", "retention.hold"]
    # Cleared: the purge goes on.
    for hold_id in holds:
        reply = admin.post(f"/admin/luu-tru/giu-lai/{hold_id}/bo", data={"csrf_token": token})
        assert reply.status_code == 302
    assert _apply(app, ALL_DUE).submissions == 2
    assert _state(app)[old]["purged"] == sorted(KINDS_24)
    with app.app_context():
        cleared = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "retention.hold_clear")
        )
    assert cleared == 2


def test_a_hold_without_reason_is_refused_and_keeps_what_was_typed(app, commune):
    admin = login(app, "admin1")
    token = csrf(admin.get("/admin/luu-tru").get_data(as_text=True))
    reply = admin.post(
        "/admin/luu-tru/giu-lai",
        data={"commune": "X1", "household_code": "X1-T01-0102", "round_id": "", "reason": ""}
        | {"csrf_token": token},
    )
    assert reply.status_code == 400
    page = reply.get_data(as_text=True)
    assert "Hãy ghi lý do giữ lại" in page and 'value="X1-T01-0102"' in page
    reply = admin.post(
        "/admin/luu-tru/giu-lai",
        data={"commune": "X1", "household_code": "X1-T01-0102", "round_id": "1"}
        | {"reason": "x", "csrf_token": token},
    )
    assert reply.status_code == 400
    assert "không cả hai" in reply.get_data(as_text=True)


def test_the_province_sets_its_own_rules_with_defaults_labelled_provisional(app, commune):
    admin = login(app, "admin1")
    page = admin.get("/admin/luu-tru").get_data(as_text=True)
    # Seven kinds of a submission's data, the generated files and the access records.
    assert page.count("mặc định của rasoat — chưa có quy định cụ thể") == 9
    token = csrf(page)
    typed = {"attachments": "abc", "gps": "12", "csrf_token": token}
    reply = admin.post("/admin/luu-tru/quy-tac", data=typed)
    assert reply.status_code == 400
    page = reply.get_data(as_text=True)
    assert "Thời hạn phải là số tháng" in page and 'value="abc"' in page
    values = {"attachments": "6", "gps": "6", "free_text": "24", "xml": "6", "answers": "60"}
    values |= {"scores": "60", "audit": "", "csrf_token": token}
    values |= {"export_files": "6", "access_records": "36"}
    assert admin.post("/admin/luu-tru/quy-tac", data=values).status_code == 302
    page = admin.get("/admin/luu-tru").get_data(as_text=True)
    # Free text, answers, scores and generated files were given their default: they keep
    # following it.
    assert page.count("mặc định của rasoat — chưa có quy định cụ thể") == 4
    with app.app_context():
        p1 = db.session.scalar(select(Province.id).where(Province.code == "P1"))
        rules = services.rules_for(p1)
        assert rules[ATTACHMENTS].months == 6 and rules["audit"].months is None
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "retention.rules"))
        assert event.actor.username == "admin1" and event.after["attachments"] == 6
        assert services.rules_for(None)[ATTACHMENTS].months == 24  # defaults unchanged
        # Six months after the 2026 decision, its files are due too.
        due = {(r.round_id, r.kind) for r in services.plan(date(2027, 6, 2)).rows}
    assert (commune["round"], ATTACHMENTS) in due and (commune["round"], FREE_TEXT) not in due


def test_pages_of_a_purged_submission_say_so_instead_of_failing(app, commune):
    _apply(app, OLD_DUE)
    old = commune["by_code"][OLD_CODE]
    officer = commune["officer"]
    with app.app_context():
        name = db.session.scalar(
            select(SubmissionAttachment.name)
            .join(SubmissionVersion)
            .where(SubmissionVersion.submission_id == old)
        )
    page = officer.get(f"/xa/phieu/{old}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "đã xoá theo quy định lưu trữ (ngày" in text
    assert "Ảnh và tệp đính kèm của phiếu" in text
    assert "Tệp còn thiếu" not in text  # deleted, not missing
    reply = officer.get(f"/xa/phieu/{old}/tep/{name}")
    assert reply.status_code == 410
    assert "Tệp đã xoá theo quy định lưu trữ (ngày" in reply.get_data(as_text=True)
    assert officer.get(f"/xa/phieu/{old}/tep/khong-co.jpg").status_code == 404
    # A submission not purged still serves its file.
    other = commune["by_code"]["X1-T01-0101"]
    assert officer.get(f"/xa/phieu/{other}/tep/{name}").status_code == 200
    assert "đã xoá theo quy định" not in officer.get(f"/xa/phieu/{other}").get_data(as_text=True)


# --- scope: two provinces × two communes × every role ----------------------------------------


def _counts(app) -> tuple:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(AuditEvent)),
            tuple(
                db.session.execute(
                    select(RetentionHold.id, RetentionHold.cleared_at).order_by(RetentionHold.id)
                )
            ),
            db.session.scalar(select(func.count()).select_from(services.RetentionRule)),
        )


def test_rules_and_holds_belong_to_the_provinces_own_administrator(app, world):  # noqa: F811
    # A P1 hold to try to clear.
    _page(
        "/admin/luu-tru/giu-lai",
        {"commune": "X1", "household_code": "HOGIU-777", "round_id": ""} | {"reason": "Thanh tra"},
    )(app.test_client(), "admin1")
    with app.app_context():
        hold_id = db.session.scalar(select(RetentionHold.id))
    assert hold_id is not None
    before = _counts(app)
    for username in ACTORS:
        client = app.test_client()
        if username == "admin1":
            continue
        for url, data in (
            (f"/admin/luu-tru/giu-lai/{hold_id}/bo", {}),
            (
                "/admin/luu-tru/giu-lai",
                {"commune": "X1", "household_code": "H2"} | {"round_id": "", "reason": "x"},
            ),
            (
                "/admin/luu-tru/giu-lai",
                {"commune": "X2", "household_code": "H2"} | {"round_id": "", "reason": "x"},
            ),
        ):
            reply = _page(url, data)(client, username)
            assert reply.status_code in (302, 400, 401, 403, 404), (username, url)
            assert _counts(app) == before, (username, url)
        opened = app.test_client()
        reply = _page("/admin/luu-tru/quy-tac", {"attachments": "3"})(opened, username)
        if username == "admin2":  # their own province's rule: P1's stays the default
            assert reply.status_code == 302
            with app.app_context():
                p1 = db.session.scalar(select(Province.id).where(Province.code == "P1"))
                assert services.rules_for(p1)[ATTACHMENTS].is_default
            before = _counts(app)
        else:
            assert reply.status_code in (400, 401, 403, 404) or (
                reply.status_code == 200 and "/login" in reply.request.path
            ), (username, reply.status_code)
            assert _counts(app) == before, username
        page = opened.get("/admin/luu-tru")
        if username == "admin2":
            text = page.get_data(as_text=True)
            assert (
                page.status_code == 200 and "Lý do riêng P1" not in text and "HOGIU-777" not in text
            )
        else:
            assert page.status_code in (302, 403), (username, page.status_code)
    owner = app.test_client()
    reply = _page(f"/admin/luu-tru/giu-lai/{hold_id}/bo", {})(owner, "admin1")
    assert reply.status_code == 302 and _counts(app) != before


def test_every_kind_purged_leaves_the_legal_record_pages_as_they_were(app, commune):
    """Far enough for every kind (answers, scores and audit too): the round's village lists,
    its decision page and its list workbook read exactly as before."""
    officer, base = commune["officer"], f"/xa/ra-soat/{commune['round']}"
    urls = [f"{base}/thon/T01", f"{base}/quyet-dinh", f"{base}/thon/T01/danh-sach.xlsx"]

    def read():
        pages = {}
        for url in urls:
            reply = officer.get(url)
            assert reply.status_code == 200, url
            pages[url] = (
                _cells(reply.data) if url.endswith(".xlsx") else _without_nav(reply.get_data(True))
            )
        return pages

    officer.get(base)  # shows (and forgets) the message the decision left
    before, state = read(), _state(app)
    result = app.test_cli_runner().invoke(
        args=["retention", "apply", "--today", "2040-01-01", "--batch-size", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "4 submissions in 2 batches" in result.output
    assert "audit: 4" in result.output and "scores: 4" in result.output
    assert read() == before
    after = _state(app)
    with app.app_context():
        about = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.target_type == "submission")
        )
        purges = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "retention.purge")
        )
        results = db.session.scalars(select(HouseholdScore.result)).all()
    assert about == 0 and purges >= 7
    assert all(r["purged"] and "explanation_vi" not in r and "evidence" not in r for r in results)
    assert all("reasons" not in i for r in results for i in r["indicators"])
    members = [m for r in results for m in r["inputs"]["members"]]
    assert members and all(
        set(m) <= {"name", "age", "sex", "relationship", "ethnicity"} for m in members
    )
    for submission_id in commune["by_code"].values():
        assert after[submission_id]["answers"] == 0
        assert after[submission_id]["verdict"] == state[submission_id]["verdict"]
    assert after["legal"] == state["legal"]
    for submission_id in commune["by_code"].values():  # the questionnaire's page says why
        for url in (f"/xa/phieu/{submission_id}", f"/xa/phieu/{submission_id}?tinh-toan=1"):
            page = officer.get(url)
            assert page.status_code == 200, url
            text = page.get_data(as_text=True)
            assert text.count("đã xoá theo quy định lưu trữ (ngày") == 7, url


def _cells(data: bytes) -> list:
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True)
    return [
        [c for c in row if not (isinstance(c, str) and c.startswith("Xuất lúc"))]
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
    ]


def _without_nav(page: str) -> str:
    """The page's content, without the per-request form tokens."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "", page.split("<main", 1)[-1])


def test_a_household_refused_in_writing_counts_from_the_refusal(app, commune):
    """A monthly round has no decision; a household refused there is decided by the chair's
    written answer, and its data is kept until the answer's date plus the period."""
    with app.app_context(), write_transaction(db.session):
        old = db.session.get(ReviewRound, commune["old_round"])
        monthly = ReviewRound(
            commune_id=old.commune_id,
            year=2024,
            kind="thuong_xuyen",
            month=1,
            started_on=date(2024, 1, 2),
        )
        db.session.add(monthly)
        db.session.flush()
        case = db.session.scalar(
            select(HouseholdCase).where(HouseholdCase.household_code == OLD_CODE)
        )
        case.round_id, case.stage = monthly.id, "listed"
        monthly_id = monthly.id
    with app.app_context():
        rows = services.plan(ALL_DUE).rows
        assert rows and all(r.round_id != monthly_id for r in rows)  # not answered: kept
    with app.app_context(), write_transaction(db.session):
        case = db.session.scalar(
            select(HouseholdCase).where(HouseholdCase.household_code == OLD_CODE)
        )
        case.stage = "refused"
        db.session.add(
            Refusal(
                round_id=monthly_id,
                case_id=case.id,
                reason="Không thiếu hụt",
                answered_on=date(2024, 1, 10),
                signer_name="Hồ Văn Nam",
            )
        )
    with app.app_context():
        assert services.plan(date(2026, 1, 9)).rows == []
        due = services.plan(date(2026, 1, 10)).rows
    assert {(r.round_id, r.kind) for r in due} == {(monthly_id, k) for k in KINDS_24}
    assert due[0].decided_on == date(2024, 1, 10)
