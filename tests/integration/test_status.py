"""The landing page, the favicon and the health check."""

from tests.integration.procedure import login


def test_landing_page_explains_how_to_connect_collect_and_offers_login(client):
    reply = client.get("/", base_url="http://10.0.0.5:8000")
    page = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert "Kết nối ODK Collect" in page
    assert "<code>http://10.0.0.5:8000</code>" in page
    assert 'href="/login"' in page  # the way in for staff
    assert 'href="/static/app.css' in page  # styled like every other page
    assert 'rel="icon"' in page


def test_a_logged_in_officer_is_sent_to_the_workspace(app, seeded):
    page = login(app, seeded.officer).get("/").get_data(as_text=True)
    assert 'href="/xa/phieu"' in page and "Vào trang làm việc" in page
    assert 'href="/login"' not in page


def test_favicon_is_an_icon(client):
    reply = client.get("/favicon.ico")
    assert reply.status_code == 200
    assert reply.mimetype == "image/vnd.microsoft.icon"
    assert reply.data[:4] == b"\x00\x00\x01\x00"  # the ICO header
    assert reply.headers["X-Content-Type-Options"] == "nosniff"


def test_health_check_reports_the_database(client, app):
    reply = client.get("/healthz")
    assert reply.status_code == 200
    assert reply.json == {
        "status": "ok",
        "database": app.config["DATABASE_URL"].split(":")[0].split("+")[0],
    }
