"""A re-survey reaches the phone (issue 13): when commune staff send a household back, the
household list Collect downloads as form media (``households.csv``, through the OpenRosa
manifest) changes — so its MD5 in the manifest changes and Collect fetches it — and puts that
household first, its label starting "[CẦN RÀ SOÁT LẠI: <the officer's reason>]"; the CSV is
escaped so that JavaRosa (Collect's form engine) reads the label back whole; the flag clears,
and the list is again byte for byte what it was, once the new questionnaire arrives."""

from __future__ import annotations

import csv
import hashlib
import io
import uuid

import pytest
from pyxform.xls2xform import convert
from sqlalchemy import select

from server.db import write_transaction
from server.extensions import db
from server.geography.models import Commune
from server.households.models import Household, ListSource
from server.households.services import RESURVEY_LABEL_REASON, resurvey_label
from tests.collect_client import CollectClient, FlaskTransport
from tests.engines import javarosa
from tests.integration.test_review_pages import (  # noqa: F401  (fixtures)
    _login,
    _phone,
    _post,
    filled_b,
    world,
)

# The officer's reason: a comma, quotes and a line break, as typed in the page's text area.
REASON = 'Diện tích nhà ghi sai, "3 m²"\r\nkiểm tra lại sổ hộ khẩu'
ONE_LINE = 'Diện tích nhà ghi sai, "3 m²" kiểm tra lại sổ hộ khẩu'
FLAGGED = "X1-T01-0001"


@pytest.fixture
def more_households(app, world):  # noqa: F811  (the imported fixture)
    """Two more households of X1, listed before and after the surveyed one by code."""
    with app.app_context(), write_transaction(db.session):
        x1 = db.session.scalar(select(Commune).where(Commune.code == "X1"))
        by_code = {v.code: v for v in x1.villages}
        for code, village, head in (
            ("X1-T01-0000", "T01", "Đinh Văn Tư"),
            ("X1-T02-0005", "T02", "Rơ Mah Hiền"),
        ):
            db.session.add(
                Household(
                    commune=x1,
                    village=by_code[village],
                    code=code,
                    head_name=head,
                    list_source=ListSource.ON_LIST,
                )
            )
    return world


def _phone_list(app, seeded) -> tuple[str, list[dict[str, str]], bytes]:
    """What Collect gets for the shipped Phiếu B: households.csv's manifest hash, its rows."""
    phone = _phone(app, seeded)
    entry = next(e for e in phone.form_list() if e.form_id == "phieu_b_2022")
    media = {m.filename: m for m in phone.manifest(entry)}
    content = phone.download_media(media["households.csv"])
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    return media["households.csv"].hash, rows, content


def test_resurvey_reaches_the_phone_first_flagged_and_clears_when_surveyed_again(
    app,
    seeded,
    more_households,
    filled_b,  # noqa: F811
):
    ids = more_households
    before_hash, before, before_bytes = _phone_list(app, seeded)
    assert [r["name"] for r in before] == ["X1-T01-0000", FLAGGED, "X1-T02-0005"]
    assert not any("CẦN RÀ SOÁT LẠI" in r["label"] for r in before)

    officer = _login(app, "canbo1")
    reply = _post(
        officer,
        f"/xa/phieu/{ids['b']}/trang-thai",
        {"state": "resurvey", "comment": REASON, "then": "stay"},
    )
    assert reply.status_code == 302

    after_hash, after, after_bytes = _phone_list(app, seeded)
    assert after_hash != before_hash  # Collect sees a new list and downloads it
    assert after_hash == f"md5:{hashlib.md5(after_bytes).hexdigest()}"
    assert [r["name"] for r in after] == [FLAGGED, "X1-T01-0000", "X1-T02-0005"]
    first = after[0]
    assert first["label"] == f"[CẦN RÀ SOÁT LẠI: {ONE_LINE}] {FLAGGED} – A Thút (Thôn Một)"
    assert first["resurvey_reason"] == ONE_LINE
    assert b"\r\n" not in after_bytes and after_bytes.count(b"\n") == 4  # one line a row
    assert after[1:] == before[0:1] + before[2:]  # the others unchanged

    # The reviewer surveys the household again: the flag is gone and the list is the old one.
    again = filled_b.xml.replace(filled_b.instance_id.encode(), f"uuid:{uuid.uuid4()}".encode())
    files = {name: path.read_bytes() for name, path in filled_b.files.items()}
    assert [r.status for r in _phone(app, seeded).submit(again, files)] == [201]
    cleared_hash, _cleared, cleared_bytes = _phone_list(app, seeded)
    assert cleared_bytes == before_bytes and cleared_hash == before_hash
    page = officer.get(f"/xa/phieu/{ids['b']}").get_data(as_text=True)
    assert 'id="resurvey-flag"' not in page


def test_another_decision_withdraws_the_request_from_the_phone(app, seeded, more_households):
    ids = more_households
    before_hash, _rows, _bytes = _phone_list(app, seeded)
    officer = _login(app, "canbo1")
    url = f"/xa/phieu/{ids['b']}/trang-thai"
    _post(officer, url, {"state": "resurvey", "comment": "Thiếu ảnh", "then": "stay"})
    flagged_hash, rows, _bytes = _phone_list(app, seeded)
    assert flagged_hash != before_hash and rows[0]["name"] == FLAGGED
    page = officer.get(f"/xa/phieu/{ids['b']}").get_data(as_text=True)
    assert 'id="review-state">Cần rà soát lại<' in page and 'id="resurvey-flag"' in page
    # The officer changes their mind: approving withdraws the flag from the phone.
    _post(officer, url, {"state": "approved", "comment": "", "then": "stay"})
    withdrawn_hash, rows, _bytes = _phone_list(app, seeded)
    assert withdrawn_hash == before_hash and rows[0]["name"] == "X1-T01-0000"
    # A re-survey needs a reason (the reviewer reads it): refused, nothing reaches the phone.
    reply = _post(officer, url, {"state": "resurvey", "comment": "  ", "then": "stay"})
    assert reply.status_code == 400 and "Cần ghi lý do rà soát lại" in reply.get_data(True)
    assert _phone_list(app, seeded)[0] == before_hash


def test_a_long_reason_is_cut_in_the_label_and_whole_in_its_column():
    reason = "Hộ khai thiếu thu nhập từ cà phê " * 5
    label = resurvey_label(reason)
    shown = label.removeprefix("[CẦN RÀ SOÁT LẠI: ").removesuffix("] ")
    assert len(shown) <= RESURVEY_LABEL_REASON and shown.endswith("…")
    assert reason.startswith(shown[:-1])
    assert resurvey_label("") == "[CẦN RÀ SOÁT LẠI] "


# What JavaRosa (ODK Collect's engine) reads from the list: the chosen household's label and
# reason, through jr://file-csv/ exactly as Collect does.
LOOKUP_MD = """
| survey |
| | type                                | name   | label | calculation                                             |
| | select_one_from_file households.csv | hh     | Hộ    |                                                         |
| | calculate                           | nhan   |       | instance('households')/root/item[name=${hh}]/label           |
| | calculate                           | ly_do  |       | instance('households')/root/item[name=${hh}]/resurvey_reason |
| | calculate                           | thon   |       | instance('households')/root/item[name=${hh}]/village         |
| settings |
| | form_id  |
| | tra_cuu  |
"""


def test_collects_engine_reads_the_flagged_label_whole(app, seeded, more_households, tmp_path):
    ids = more_households
    officer = _login(app, "canbo1")
    _post(
        officer,
        f"/xa/phieu/{ids['b']}/trang-thai",
        {"state": "resurvey", "comment": REASON, "then": "stay"},
    )
    _hash, _rows, content = _phone_list(app, seeded)
    form = tmp_path / "tra_cuu.xml"
    form.write_text(convert(xlsform=LOOKUP_MD, file_type=".md").xform, encoding="utf-8")
    media = tmp_path / "media"
    media.mkdir()
    (media / "households.csv").write_bytes(content)
    instance = (
        '<data xmlns:jr="http://openrosa.org/javarosa" id="tra_cuu">'
        f"<hh>{FLAGGED}</hh><nhan/><ly_do/><thon/>"
        f"<meta><instanceID>uuid:{uuid.uuid4()}</instanceID></meta></data>"
    ).encode()
    values = javarosa.recompute(form, instance, media)
    assert values["/data/nhan"] == f"[CẦN RÀ SOÁT LẠI: {ONE_LINE}] {FLAGGED} – A Thút (Thôn Một)"
    assert values["/data/ly_do"] == ONE_LINE
    assert values["/data/thon"] == "T01"  # the columns after the quoted ones are intact


def test_a_village_reviewers_phone_gets_only_its_villages_flags(app, seeded, more_households):
    """The reviewer limited to T02 does not see T01's re-survey; their list does not change."""
    ids = more_households

    def t02_list():
        phone = CollectClient(
            FlaskTransport(app), "http://rasoat.test", seeded.village_reviewer, seeded.password
        )
        entry = next(e for e in phone.form_list() if e.form_id == "phieu_b_2022")
        media = {m.filename: m for m in phone.manifest(entry)}
        return media["households.csv"].hash, phone.download_media(media["households.csv"])

    before = t02_list()
    officer = _login(app, "canbo1")
    _post(
        officer,
        f"/xa/phieu/{ids['b']}/trang-thai",
        {"state": "resurvey", "comment": "Thiếu ảnh", "then": "stay"},
    )
    assert t02_list() == before


def test_deciding_again_on_an_older_questionnaire_leaves_a_newer_ones_flag(
    app,
    seeded,
    more_households,
    filled_b,  # noqa: F811
):
    ids = more_households
    officer = _login(app, "canbo1")
    old = f"/xa/phieu/{ids['b']}/trang-thai"
    _post(officer, old, {"state": "resurvey", "comment": "Lần một", "then": "stay"})
    new_instance = f"uuid:{uuid.uuid4()}"
    again = filled_b.xml.replace(filled_b.instance_id.encode(), new_instance.encode())
    files = {name: path.read_bytes() for name, path in filled_b.files.items()}
    assert [r.status for r in _phone(app, seeded).submit(again, files)] == [201]
    assert _phone_list(app, seeded)[1][0]["name"] == "X1-T01-0000"  # cleared by its arrival
    with app.app_context():
        from server.submissions.models import Submission

        new_id = db.session.scalar(
            select(Submission.id).where(Submission.instance_id == new_instance)
        )
    _post(
        officer,
        f"/xa/phieu/{new_id}/trang-thai",
        {"state": "resurvey", "comment": "Lần hai", "then": "stay"},
    )
    flagged_hash, rows, _bytes = _phone_list(app, seeded)
    assert rows[0]["resurvey_reason"] == "Lần hai"
    # Approving the first questionnaire now does not take the second one's flag away.
    _post(officer, old, {"state": "approved", "comment": "", "then": "stay"})
    assert _phone_list(app, seeded)[0] == flagged_hash
