"""Shared fixtures: a real SQLite file, a real PostgreSQL database, the app, a real server process.

PostgreSQL tests skip only when no server answers locally; in CI (CI=true) its absence fails them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from mission_control.catalog import Catalog, load_default_catalog
from mission_control.db.database import Database
from mission_control.db.migrate import upgrade
from mission_control.demo.estate import seed_demo_estate
from mission_control.demo.server import MotoServer, start_moto_server
from mission_control.identity.service import add_user, create_token, get_user
from mission_control.progress.service import update_item
from mission_control.settings import Settings
from mission_control.verification.aws import AwsClients
from mission_control.verification.config import EnvironmentConfig
from mission_control.web.app import create_app, prepare_database

pytest.register_assert_rewrite(
    "tests.secrets_in_logs", "tests.receivers"
)  # imported here before pytest loads them as plugins
from tests.receivers import free_port  # noqa: E402
from tests.secrets_in_logs import keep, plant  # noqa: E402

pytest_plugins = ["tests.secrets_in_logs", "tests.receivers"]

POSTGRES_ADMIN_URL = os.environ.get("MC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REPO = Path(__file__).resolve().parent.parent


def _postgres_problem() -> str | None:
    try:
        psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        return str(error).strip()
    return None


@pytest.fixture(autouse=True)
def isolated_user_data(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the person's own data: the default database and the demo's data directory
    live under a temporary XDG data home, and settings from the caller's shell are ignored."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
    for name in ("MC_DATABASE_URL", "MC_CONFIG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    problem = _postgres_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but did not answer at {POSTGRES_ADMIN_URL}: {problem}")
        pytest.skip(f"no PostgreSQL at {POSTGRES_ADMIN_URL}: {problem}")
    return POSTGRES_ADMIN_URL


def _create_database(server_url: str, *, template: str | None = None) -> str:
    name = f"mc_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return name


def _drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _database_url(server_url: str, name: str) -> str:
    return f"{server_url.rsplit('/', 1)[0]}/{name}"


@pytest.fixture(scope="session")
def postgres_session_database(postgres_server: str) -> Iterator[str]:
    """One migrated database for the whole run; each test empties it (much faster than creating one)."""
    name = _create_database(postgres_server)
    url = _database_url(postgres_server, name)
    database = Database(url)
    upgrade(database)
    database.dispose()
    yield url
    _drop_database(postgres_server, name)


@pytest.fixture
def postgres_url(postgres_session_database: str) -> str:
    """The run's PostgreSQL database, emptied of every row for this test."""
    with psycopg.connect(postgres_session_database, autocommit=True) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        ]
        if tables:
            connection.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    return postgres_session_database


@pytest.fixture
def empty_postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh PostgreSQL database with no tables, for testing migrations from nothing."""
    name = _create_database(postgres_server)
    yield _database_url(postgres_server, name)
    _drop_database(postgres_server, name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'mission-control.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Runs the test once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url" if request.param == "sqlite" else "postgres_url")


@pytest.fixture
def catalog() -> Catalog:
    return load_default_catalog()


@pytest.fixture
def database(database_url: str, catalog: Catalog) -> Iterator[Database]:
    """A migrated database with the default environment."""
    database = Database(database_url)
    prepare_database(database, catalog)
    yield database
    database.dispose()


@pytest.fixture
def app(database: Database, database_url: str, catalog: Catalog):
    return create_app(
        Settings(database_url=database_url, jobs="in-process"), database=database, catalog=catalog
    )


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def change_item(
    database: Database, catalog: Catalog, item_id: str, *, actor: str = "ana", **changes: Any
) -> None:
    """Change one production item in its own committed transaction, as a request or the CLI would."""
    with database.transaction() as session:
        update_item(
            session=session,
            catalog=catalog,
            environment_name="production",
            item_id=item_id,
            actor=actor,
            **changes,
        )


@contextmanager
def queries(database: Database) -> Iterator[list[str]]:
    """The SELECTs the database's engine runs inside the block (not BEGIN and the like), to count them."""
    seen: list[str] = []

    def keep_select(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", keep_select)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", keep_select)


def make_user(database: Database, name: str, role: str, password: str | None = None) -> None:
    """A user; without a password (no argon2 cost) it can only use API tokens."""
    if password is not None:
        plant(password)
    with database.transaction() as session:
        if get_user(session=session, name=name) is None:
            add_user(session=session, name=name, role=role, password=password, actor="test")


def token_for(database: Database, name: str, role: str) -> str:
    """An API token for a (new, password-less) user with `role`."""
    make_user(database, name, role)
    with database.transaction() as session:
        user = get_user(session=session, name=name)
        assert user is not None
        return plant(create_token(session=session, user=user, name=f"test token for {name}", actor="test"))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_in(client: TestClient | httpx.Client, name: str, password: str = "correct horse") -> None:
    """Sign in through the real login form (with its CSRF cookie)."""
    plant(password)
    form = client.get("/login")
    csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": csrf, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def page_csrf_token(html: str) -> str:
    return html.split('<meta name="csrf-token" content="', 1)[1].split('"', 1)[0]


@dataclass
class ServerProcess:
    """`mission-control serve` running as a real process, restartable on the same database."""

    database_url: str
    port: int
    process: subprocess.Popen[bytes] | None = None
    options: tuple[str, ...] = ()  # more `serve` options
    env: dict[str, str] | None = None  # the process's environment (default: this one's)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = (os.environ if self.env is None else self.env) | {"MC_DATABASE_URL": self.database_url}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mission_control", "serve", "--port", str(self.port), *self.options],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"server exited: {self.process.stderr.read().decode() if self.process.stderr else ''}"
                )
            try:
                if httpx.get(f"{self.url}/login", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("server did not answer within 30 s")

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stderr:
            keep(self.process.stderr.read().decode(errors="replace"))
            self.process.stderr.close()
        self.process = None


@pytest.fixture
def server(database: Database, database_url: str) -> Iterator[ServerProcess]:
    """A real server process on the test database (SQLite and PostgreSQL)."""
    running = ServerProcess(database_url, free_port())
    running.start()
    yield running
    running.stop()


@dataclass(frozen=True)
class DemoEstate:
    server: MotoServer
    config: EnvironmentConfig


@pytest.fixture(scope="module")
def demo_estate() -> Iterator[DemoEstate]:
    """The demo estate on moto's real HTTP server, seeded once per test module (about half ready)."""
    with start_moto_server() as server:
        yield DemoEstate(server, seed_demo_estate(server.endpoint_url))


@pytest.fixture
def demo_aws(demo_estate: DemoEstate, monkeypatch: pytest.MonkeyPatch) -> DemoEstate:
    """Point boto3 at the demo estate through the standard AWS environment variables only."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", demo_estate.server.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return demo_estate


@pytest.fixture
def released() -> Iterator[threading.Event]:
    """AWS calls made through `gated_clients` wait for this event; it is set at teardown regardless."""
    event = threading.Event()
    yield event
    event.set()


def gated_clients(released: threading.Event) -> AwsClients:
    """Real boto3 clients whose requests wait until `released` is set (a botocore event hook)."""
    session = boto3.Session()

    def wait_for_release(**_: Any) -> None:
        released.wait(timeout=30)

    session.events.register("before-send", wait_for_release)
    return AwsClients(session)
