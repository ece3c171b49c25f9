"""The landing page and the health check."""


def test_landing_page_explains_how_to_connect_collect(client):
    reply = client.get("/", base_url="http://10.0.0.5:8000")
    page = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert "Kết nối ODK Collect" in page
    assert "<code>http://10.0.0.5:8000</code>" in page


def test_health_check_reports_the_database(client, app):
    reply = client.get("/healthz")
    assert reply.status_code == 200
    assert reply.json == {
        "status": "ok",
        "database": app.config["DATABASE_URL"].split(":")[0].split("+")[0],
    }
