"""Sign-in lockout, session cookies, idle expiry and signing out everywhere (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from mission_control.catalog import Catalog
from mission_control.cli import app as cli
from mission_control.db.base import Base, utcnow
from mission_control.db.database import Database
from mission_control.identity.lockout import ANY_CLIENT, LockoutPolicy
from mission_control.identity.models import LoginAttempt, WebSession
from mission_control.progress.models import AuditEvent
from mission_control.settings import Settings
from mission_control.web.app import create_app
from tests.conftest import make_user, page_csrf_token, sign_in

PASSWORD = "correct horse"
MAX_FAILURES = Settings(database_url="sqlite://").login_max_failures


def try_password(client: TestClient, name: str, password: str):
    form = client.get("/login")
    csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": csrf, "next": "/"},
        follow_redirects=False,
    )


def audit_actions(database: Database) -> list[tuple[str, str, str | None]]:
    with database.read() as session:
        return [
            (event.actor, event.action, event.new_value)
            for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
            if event.action.startswith(("login", "logout"))
        ]


@pytest.fixture
def alice(database: Database) -> str:
    make_user(database, "alice", "editor", password=PASSWORD)
    return "alice"


@contextmanager
def another_browser(app: FastAPI, address: str = "testclient") -> Iterator[TestClient]:
    """A second browser on the app whose lifespan the `client` fixture runs (so not entered again)."""
    browser = TestClient(app, client=(address, 40000))
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def from_elsewhere(app: FastAPI, client: TestClient) -> Iterator[TestClient]:
    """The same app, seen from another client address."""
    with another_browser(app, "203.0.113.9") as other:
        yield other


def fail_until_locked(client: TestClient, name: str) -> None:
    for _ in range(MAX_FAILURES - 1):
        assert try_password(client, name, "wrong password").status_code == 401
    locked = try_password(client, name, "wrong password")
    assert locked.status_code == 429


def test_repeated_failures_lock_the_name_from_that_address(
    client: TestClient, database: Database, alice: str
) -> None:
    fail_until_locked(client, alice)
    refused = try_password(client, alice, PASSWORD)  # even the right password, while locked
    assert refused.status_code == 429
    assert (
        "Too many failed sign-ins for this user from your address: try again in 15 minutes." in refused.text
    )
    assert 14 * 60 < int(refused.headers["Retry-After"]) <= 15 * 60
    events = audit_actions(database)
    assert [action for _, action, _ in events] == ["login.failed"] * MAX_FAILURES + ["login.locked"]
    actor, _, detail = events[-1]
    assert actor == alice
    assert detail is not None and detail.startswith(
        f"{MAX_FAILURES} failed sign-ins from testclient; locked until"
    )


def test_the_lockout_does_not_reach_other_addresses_or_names(
    client: TestClient, from_elsewhere: TestClient, database: Database, alice: str
) -> None:
    make_user(database, "bob", "viewer", password=PASSWORD)
    fail_until_locked(client, alice)
    assert try_password(from_elsewhere, alice, PASSWORD).status_code == 303
    assert try_password(client, "bob", PASSWORD).status_code == 303


def test_fewer_failures_than_the_limit_do_not_lock_and_a_success_forgets_them(
    client: TestClient, database: Database, alice: str
) -> None:
    for _ in range(MAX_FAILURES - 1):
        assert try_password(client, alice, "wrong password").status_code == 401
    assert try_password(client, alice, PASSWORD).status_code == 303
    with database.read() as session:
        assert session.scalars(select(LoginAttempt).where(LoginAttempt.client != ANY_CLIENT)).all() == []
    for _ in range(MAX_FAILURES - 1):
        assert try_password(client, alice, "wrong password").status_code == 401
    assert try_password(client, alice, PASSWORD).status_code == 303


def test_unknown_names_are_locked_the_same_way(client: TestClient) -> None:
    fail_until_locked(client, "nobody")


def test_the_lockout_ends_after_its_time(client: TestClient, database: Database, alice: str) -> None:
    fail_until_locked(client, alice)
    with database.transaction() as session:  # 15 minutes pass
        for attempt in session.scalars(select(LoginAttempt)):
            attempt.last_failure_at -= timedelta(minutes=15)
    assert try_password(client, alice, PASSWORD).status_code == 303


def test_a_lockout_holds_on_every_replica(
    client: TestClient, database: Database, database_url: str, catalog: Catalog, alice: str
) -> None:
    """Failures are counted in the database, so a second process sees them."""
    fail_until_locked(client, alice)
    replica = create_app(
        Settings(database_url=database_url), database=Database(database_url), catalog=catalog
    )
    with TestClient(replica) as other_replica:
        assert try_password(other_replica, alice, PASSWORD).status_code == 429
    replica.state.database.dispose()


def test_sign_in_and_out_are_audited_with_the_address(
    client: TestClient, database: Database, alice: str
) -> None:
    assert try_password(client, alice, "wrong password").status_code == 401
    sign_in(client, alice)
    csrf = page_csrf_token(client.get("/").text)
    assert client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert audit_actions(database) == [
        (alice, "login.failed", "from testclient"),
        (alice, "login", "from testclient"),
        (alice, "logout", None),
    ]


def session_cookie(response) -> str:
    return next(value for value in response.headers.get_list("set-cookie") if value.startswith("mc_session="))


def test_the_session_cookie_is_httponly_and_samesite(client: TestClient, alice: str) -> None:
    cookie = session_cookie(try_password(client, alice, PASSWORD)).lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # plain HTTP in development: a Secure cookie would never come back


def test_cookies_are_secure_when_configured(database: Database, database_url: str) -> None:
    """MC_SECURE_COOKIES=1 marks them Secure even when the proxy in front speaks plain HTTP to us."""
    app = create_app(Settings(database_url=database_url, secure_cookies=True), database=database)
    with TestClient(app) as client:
        assert "; secure" in client.get("/login").headers["set-cookie"].lower()


def test_cookies_are_secure_over_https(database: Database, database_url: str, alice: str) -> None:
    app = create_app(Settings(database_url=database_url), database=database)
    with TestClient(app, base_url="https://testserver") as client:
        assert "; secure" in client.get("/login").headers["set-cookie"].lower()
        assert "; secure" in session_cookie(try_password(client, alice, PASSWORD)).lower()


def move_sessions(database: Database, **ages: timedelta) -> None:
    with database.transaction() as session:
        for web_session in session.scalars(select(WebSession)):
            for column, age in ages.items():
                setattr(web_session, column, getattr(web_session, column) - age)


def test_an_idle_session_ends(client: TestClient, database: Database, alice: str) -> None:
    sign_in(client, alice)
    move_sessions(database, last_seen_at=timedelta(minutes=61))
    assert client.get("/api/v1/me").status_code == 401


def test_using_a_session_keeps_it_alive(client: TestClient, database: Database, alice: str) -> None:
    sign_in(client, alice)
    move_sessions(database, last_seen_at=timedelta(minutes=59))
    assert client.get("/api/v1/me").status_code == 200
    with database.read() as session:
        last_seen = session.scalar(select(WebSession.last_seen_at))
    assert last_seen is not None and utcnow() - last_seen < timedelta(minutes=1)
    move_sessions(database, last_seen_at=timedelta(minutes=59))
    assert client.get("/api/v1/me").status_code == 200


def test_a_session_ends_at_its_expiry_however_busy(
    client: TestClient, database: Database, alice: str
) -> None:
    sign_in(client, alice)
    move_sessions(database, expires_at=timedelta(hours=12))
    assert client.get("/api/v1/me").status_code == 401


def test_sign_out_everywhere_ends_every_session_of_that_user_only(
    app: FastAPI, client: TestClient, database: Database, alice: str
) -> None:
    make_user(database, "bob", "viewer", password=PASSWORD)
    with another_browser(app) as laptop, another_browser(app) as bobs:
        sign_in(client, alice)
        sign_in(laptop, alice)
        sign_in(bobs, "bob")
        page = client.get("/").text
        assert 'formaction="/logout/everywhere"' in page
        response = client.post(
            "/logout/everywhere", data={"csrf_token": page_csrf_token(page)}, follow_redirects=False
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
        assert client.get("/api/v1/me").status_code == 401
        assert laptop.get("/api/v1/me").status_code == 401
        assert bobs.get("/api/v1/me").json()["name"] == "bob"
    assert audit_actions(database)[-1] == (alice, "logout.everywhere", f"sessions ended for {alice}: 2")


def test_sign_out_everywhere_needs_the_csrf_token(client: TestClient, alice: str) -> None:
    sign_in(client, alice)
    assert client.post("/logout/everywhere", follow_redirects=False).status_code == 403
    assert client.get("/api/v1/me").status_code == 200


def test_an_admin_can_end_someones_sessions_from_the_cli(
    client: TestClient, database: Database, database_url: str, alice: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(client, alice)
    monkeypatch.setenv("MC_DATABASE_URL", database_url)
    result = CliRunner().invoke(cli, ["user", "logout", alice])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"sessions ended for {alice}: 1"
    assert client.get("/api/v1/me").status_code == 401
    assert audit_actions(database)[-1] == ("cli", "logout.everywhere", f"sessions ended for {alice}: 1")
    unknown = CliRunner().invoke(cli, ["user", "logout", "nobody"])
    assert unknown.exit_code == 2
    assert "user 'nobody' does not exist" in unknown.output


def test_a_name_guessed_from_many_addresses_slows_down_instead_of_locking(
    app: FastAPI, client: TestClient, database: Database, alice: str
) -> None:
    """Each address stays under its own lockout, yet the name waits longer and longer between tries;
    once the wait is over the right password works, from anywhere."""
    for address in range(2 * MAX_FAILURES):
        with another_browser(app, f"203.0.113.{address}") as guesser:
            assert try_password(guesser, alice, "wrong password").status_code == 401
    with another_browser(app, "198.51.100.7") as colleague:
        slowed = try_password(colleague, alice, PASSWORD)
        assert slowed.status_code == 429
        assert "Too many failed sign-ins for this user: try again in 1 second." in slowed.text
        assert slowed.headers["Retry-After"] == "1"
        with database.transaction() as session:  # the second passes
            for attempt in session.scalars(select(LoginAttempt)):
                attempt.last_failure_at -= timedelta(seconds=1)
        assert try_password(colleague, alice, PASSWORD).status_code == 303


def test_the_wait_grows_with_each_failure_up_to_a_minute() -> None:
    policy = LockoutPolicy(MAX_FAILURES, timedelta(minutes=15))
    waits = [policy.name_delay(failures).total_seconds() for failures in range(4 * MAX_FAILURES)]
    assert waits[: 2 * MAX_FAILURES] == [0] * 2 * MAX_FAILURES
    assert waits[2 * MAX_FAILURES : 2 * MAX_FAILURES + 7] == [1, 2, 4, 8, 16, 32, 60]
    assert max(waits) == 60


def test_a_failed_sign_in_never_stores_the_typed_name(client: TestClient, database: Database) -> None:
    """People type passwords into the name field: only a keyed hash of it is kept, for counting."""
    typed = "Tr0ub4dor&3-my-password"
    assert try_password(client, typed, "wrong password").status_code == 401
    with database.read() as session:
        stored = [
            value
            for table in Base.metadata.sorted_tables
            for row in session.execute(select(table))
            for value in row
            if isinstance(value, str)
        ]
    assert not [value for value in stored if "Tr0ub4dor" in value]
    assert audit_actions(database)[-1][:2] == ("anonymous", "login.failed")


def test_failed_sign_ins_for_unknown_names_are_counted_in_one_event(
    app: FastAPI, client: TestClient, database: Database, alice: str
) -> None:
    """Guessing names cannot grow the audit log without bound; a real user's failures stay named."""
    for number in range(12):
        with another_browser(app, f"203.0.113.{number}") as guesser:
            assert try_password(guesser, f"guess-{number}", "wrong password").status_code == 401
    assert try_password(client, alice, "wrong password").status_code == 401
    events = audit_actions(database)
    assert [(actor, action) for actor, action, _ in events] == [
        ("anonymous", "login.failed"),
        (alice, "login.failed"),
    ]
    count, _, latest = (events[0][2] or "").partition(" since ")
    assert count == "12" and latest.endswith("UTC; latest: from 203.0.113.11")
