"""The ceiling for ``scripts/bench/ingest.py``: a bare Flask app that does only the HTTP part of
an OpenRosa submission.

It answers the same URLs as rasoat (``[/key/<token>]/submission``): HEAD → 204, POST → reads
every multipart part (Werkzeug's form parser, as rasoat does) and answers 201 with a tiny
OpenRosaResponse.  No XML parsing, no database, no files written.  Served by the same gunicorn
settings and driven by the same client load, its rate is what Python + Flask + gunicorn can do
on this machine at best, so "ingest rate as % of this" shows what rasoat's own work costs.

Run: ``gunicorn scripts.bench.hello_app:app`` (from the repository root).
"""

from __future__ import annotations

from flask import Flask, Response, request

app = Flask(__name__)

RECEIPT = (
    b"<?xml version='1.0' encoding='UTF-8'?>\n"
    b'<OpenRosaResponse xmlns="http://openrosa.org/http/response" items="0">'
    b'<message nature="submit_success">ok</message></OpenRosaResponse>\n'
)


@app.route("/submission", methods=["HEAD", "GET"])
@app.route("/key/<token>/submission", methods=["HEAD", "GET"])
def probe(token: str | None = None) -> Response:
    return Response(status=204, headers={"X-OpenRosa-Accept-Content-Length": "20000000"})


@app.post("/submission")
@app.post("/key/<token>/submission")
def submission(token: str | None = None) -> Response:
    # Read every part fully, as rasoat does, so the request body costs the same here.
    received = sum(len(part.read()) for _, part in request.files.items(multi=True))
    if received == 0:
        return Response(b"no parts\n", status=400, content_type="text/plain")
    return Response(RECEIPT, status=201, content_type="text/xml; charset=utf-8")
