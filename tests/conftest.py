"""Shared fixtures.

* ``database_url`` runs a test twice: on SQLite and on a real PostgreSQL server that the suite
  starts itself (``scripts/pgcluster.py``: initdb/pg_ctl; it fails, never skips, when
  PostgreSQL cannot start).  Each test gets a fresh database copied from a template that was
  built by running the Alembic migrations, so the migrations are what every test exercises.
* ``app``/``client``: the Flask application on that database; ``seeded``: a demo province with
  two communes, accounts and the shipped demo form published.
* ``live_server``: the same application served by a real gunicorn process on loopback.
* The English catalog of the pages is compiled once per session (it is not committed).
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from scripts.pgcluster import PgCluster, free_port
from server import create_app, schema
from server.accounts.models import Role, User
from server.accounts.services import create_user, issue_device_token
from server.blobs import blob_store
from server.db import write_transaction
from server.extensions import db
from server.geography.models import AreaType, Commune, Province, Village
from server.questionnaires.services import assign_form, publish_form_version
from server.questionnaires.sources import load_sources

REPO = Path(__file__).resolve().parents[1]
FAST_HASHING = {"PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_COST": 1024}
_counter = itertools.count()


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """The English catalog of the pages is compiled, never committed (as scripts/setup-env
    does), so that every test, and gunicorn in the live tests, can show English."""
    subprocess.run(
        ["bash", str(REPO / "scripts" / "i18n"), "compile"],
        env={**os.environ, "I18N_PYTHON": sys.executable},
        check=True,
        capture_output=True,
    )


def _migrated_app(url: str, instance: Path):
    app = create_app({"TESTING": True, "DATABASE_URL": url, "INSTANCE_PATH": str(instance)})
    schema.upgrade(app)
    with app.app_context():
        db.engine.dispose()
    return app


@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory):
    cluster = PgCluster.start()
    try:
        cluster.create_database("rasoat_template")
        _migrated_app(cluster.url("rasoat_template"), tmp_path_factory.mktemp("pg-template"))
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("sqlite-template")
    path = directory / "template.sqlite3"
    _migrated_app(f"sqlite:///{path}", directory)
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        target = tmp_path / "rasoat.sqlite3"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
        return
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    name = f"rasoat_t{os.getpid()}_{next(_counter)}"
    url = cluster.create_database(name, template="rasoat_template")
    yield url
    cluster.drop_database(name)


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path):
    """For tests whose subject does not depend on the database engine."""
    target = tmp_path / "rasoat.sqlite3"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def instance_path(tmp_path) -> Path:
    path = tmp_path / "instance"
    path.mkdir()
    return path


@pytest.fixture
def make_app(instance_path):
    apps = []

    def factory(url: str, **overrides):
        app = create_app(
            {"TESTING": True, "DATABASE_URL": url, "INSTANCE_PATH": str(instance_path)}
            | FAST_HASHING
            | overrides
        )
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app, database_url):
    return make_app(database_url)


@pytest.fixture
def client(app):
    return app.test_client(use_cookies=False)


@dataclass(frozen=True)
class Seeded:
    """Plain values describing the seeded data (no ORM objects leak out of the session)."""

    reviewer: str
    reviewer_password: str
    reviewer_token: str
    village_reviewer: str  # limited to village T02
    other_reviewer: str  # reviewer of the second commune
    officer: str
    admin: str
    password: str  # every account's password except the first reviewer's
    form_id: str
    form_version: str
    other_form_id: str


def seed(app) -> Seeded:
    """Province → two communes → villages, accounts, the shipped demo form and a second form."""
    password = "matkhau-123"
    with app.app_context(), write_transaction(db.session):
        province = Province(code="P1", name="Tỉnh Thử")
        first = Commune(
            province=province,
            code="X1",
            name="Xã Một",
            region="tay_nguyen",
            area_type=AreaType.RURAL,
        )
        second = Commune(
            province=province,
            code="X2",
            name="Xã Hai",
            region="tay_nguyen",
            area_type=AreaType.URBAN,
        )
        for code, name in [("T01", "Thôn Một"), ("T02", "Thôn Hai"), ("T03", "Làng Ba")]:
            first.villages.append(Village(code=code, name=name))
        second.villages.append(Village(code="T01", name="Tổ dân phố 1"))
        db.session.add(province)
        db.session.flush()
        reviewer = create_user(
            username="rsv1",
            display_name="Rà soát viên Một",
            role=Role.REVIEWER,
            password="rsv1-pass-xyz",
            commune=first,
        )
        create_user(
            username="rsv.t02",
            display_name="Rà soát viên thôn Hai",
            role=Role.REVIEWER,
            password=password,
            commune=first,
            villages=[v for v in first.villages if v.code == "T02"],
        )
        create_user(
            username="rsv2",
            display_name="Rà soát viên xã Hai",
            role=Role.REVIEWER,
            password=password,
            commune=second,
        )
        create_user(
            username="canbo1",
            display_name="Cán bộ xã Một",
            role=Role.OFFICER,
            password=password,
            commune=first,
        )
        create_user(
            username="admin1",
            display_name="Quản trị",
            role=Role.ADMIN,
            password=password,
            province=province,
        )
        token = issue_device_token(reviewer, "test phone").token
        source = next(s for s in load_sources() if s.name == "rasoat_demo")
        version = publish_form_version(
            source.compiled_path.read_bytes(),
            blobs=blob_store(),
            media=source.media,
            xlsx=source.xlsx,
        )
        assign_form(version.form, first, actor=None)
        other = publish_form_version(OTHER_FORM, blobs=blob_store())
        assign_form(other.form, second, actor=None)
        form_id, form_version, other_id = (
            version.form.xml_form_id,
            version.version,
            other.form.xml_form_id,
        )
    return Seeded(
        reviewer="rsv1",
        reviewer_password="rsv1-pass-xyz",
        reviewer_token=token,
        village_reviewer="rsv.t02",
        other_reviewer="rsv2",
        officer="canbo1",
        admin="admin1",
        password=password,
        form_id=form_id,
        form_version=form_version,
        other_form_id=other_id,
    )


OTHER_FORM = """<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"
        xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms">
  <h:head>
    <h:title>Biểu mẫu xã Hai</h:title>
    <model>
      <instance>
        <data id="other_form" version="1">
          <note_text/>
          <meta><instanceID/></meta>
        </data>
      </instance>
      <bind nodeset="/data/note_text" type="string"/>
      <bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/>
    </model>
  </h:head>
  <h:body>
    <input ref="/data/note_text"><label>Ghi chú</label></input>
  </h:body>
</h:html>
""".encode()


@pytest.fixture
def seeded(app) -> Seeded:
    return seed(app)


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


# --- live gunicorn ---------------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    port: int
    env: dict
    log_path: Path
    process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--timeout",
                "120",
                "--graceful-timeout",
                "2",
                "--error-logfile",
                str(self.log_path),
                "--capture-output",
                "wsgi:app",
            ],
            cwd=REPO,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so kill() reaches the workers
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start within 30 s")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL the master and its workers, as a power cut or OOM kill would."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.kill()
        self.process.wait(10)
        self.process = None
        # Workers die a moment after the master is reaped; until then they still hold the
        # listening socket and would accept (then reset) the next connection.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    time.sleep(0.05)
            except OSError:
                return
        raise RuntimeError("killed gunicorn still holds its port")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None


@pytest.fixture
def live_server_factory(app, instance_path, tmp_path):
    """Start gunicorn serving ``app``'s database and instance folder (secret key, blobs);
    keyword arguments become ``RASOAT_*`` settings of that server."""
    servers = []

    def start(**settings) -> LiveServer:
        port = free_port()
        env = {
            **os.environ,
            "RASOAT_DATABASE_URL": app.config["DATABASE_URL"],
            "RASOAT_INSTANCE_PATH": str(instance_path),
            **{f"RASOAT_{k}": str(v) for k, v in (FAST_HASHING | settings).items()},
        }
        server = LiveServer(
            url=f"http://127.0.0.1:{port}",
            port=port,
            env=env,
            log_path=tmp_path / f"gunicorn-{port}.log",
        )
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.stop()
        print(f"--- gunicorn log {server.port} ---\n{server.log()}")


@pytest.fixture
def live_server(live_server_factory):
    return live_server_factory()


@pytest.fixture
def publish_shipped(app):
    """Publish ``xlsforms/<name>.xlsx`` (compiled in ``forms/``) and assign it to commune X1."""

    def publish(name: str) -> str:
        source = next(s for s in load_sources() if s.name == name)
        with app.app_context(), write_transaction(db.session):
            version = publish_form_version(
                source.compiled_path.read_bytes(),
                blobs=blob_store(),
                media=source.media,
                xlsx=source.xlsx,
            )
            commune = db.session.scalar(select(Commune).where(Commune.code == "X1"))
            assign_form(version.form, commune, actor=None)
            return version.form.xml_form_id

    return publish
