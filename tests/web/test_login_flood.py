"""Sign-in under attack, against a real server process (SQLite and PostgreSQL): simultaneous wrong
passwords, a flood of slow password checks next to writes, and forged X-Forwarded-For headers."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from mission_control.db.database import Database
from mission_control.identity.lockout import ANY_CLIENT
from mission_control.identity.login import MAX_CONCURRENT_CHECKS, PasswordChecks
from mission_control.identity.models import LoginAttempt, User
from mission_control.progress.models import AuditEvent
from mission_control.settings import Settings
from tests.conftest import ServerProcess, bearer, free_port, make_user, token_for

MAX_FAILURES = Settings(database_url="sqlite://").login_max_failures
# Verifying this hash takes about a second on a quiet machine (four times the default): a write that
# finishes while two rounds of them run did not wait for them.
SLOW_HASHER = PasswordHasher(time_cost=12)


def attempt(base_url: str, name: str, password: str, headers: dict[str, str] | None = None) -> int:
    """One sign-in through the real form, from a fresh browser; its HTTP status."""
    with httpx.Client(base_url=base_url, timeout=120, headers=headers) as browser:
        form = browser.get("/login")
        csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        return browser.post(
            "/login", data={"name": name, "password": password, "csrf_token": csrf, "next": "/"}
        ).status_code


def failed_checks(database: Database, name: str) -> int:
    with database.read() as session:
        return len(
            session.scalars(
                select(AuditEvent).where(AuditEvent.actor == name, AuditEvent.action == "login.failed")
            ).all()
        )


def test_simultaneous_wrong_passwords_get_only_the_limit_of_checks(
    server: ServerProcess, database: Database
) -> None:
    make_user(database, "root", "admin", password="correct horse")
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda _: attempt(server.url, "root", "wrong password"), range(16)))
    assert set(statuses) <= {401, 429}
    assert failed_checks(database, "root") == MAX_FAILURES
    assert attempt(server.url, "root", "correct horse") == 429  # this address stays locked


def reserved(database: Database, name_count: int) -> bool:
    with database.read() as session:
        return (
            session.scalar(select(LoginAttempt.failures).where(LoginAttempt.client == ANY_CLIENT))
            == name_count
        )


def test_a_write_does_not_wait_for_password_checks(server: ServerProcess, database: Database) -> None:
    """Four sign-ins whose hashes take seconds each: a PATCH meanwhile answers before they finish."""
    make_user(database, "slow", "viewer")
    with database.transaction() as session:
        user = session.scalar(select(User).where(User.name == "slow"))
        assert user is not None
        user.password_hash = SLOW_HASHER.hash("correct horse")
    token = token_for(database, "ed", "editor")
    flood = [
        threading.Thread(target=attempt, args=(server.url, "slow", "wrong password"), daemon=True)
        for _ in range(MAX_FAILURES - 1)
    ]
    for sign_in in flood:
        sign_in.start()
    deadline = time.monotonic() + 60
    while not reserved(database, len(flood)):  # every sign-in is counted: checking or queued to check
        assert time.monotonic() < deadline, "the sign-ins were never counted"
        time.sleep(0.05)
    response = httpx.patch(
        f"{server.url}/api/v1/environments/production/items/dns.failover-ttl",
        json={"note": "written during a login flood"},
        headers=bearer(token),
        timeout=60,
    )
    assert response.status_code == 200
    assert any(sign_in.is_alive() for sign_in in flood)
    for sign_in in flood:
        sign_in.join(timeout=120)
    assert failed_checks(database, "slow") == len(flood)


def test_password_checks_run_at_most_the_limit_at_once() -> None:
    """The rest wait on the event loop (holding no thread) until a check ends."""
    password_hash = PasswordHasher().hash("correct horse")
    checks = PasswordChecks()
    sign_ins = 2 * MAX_CONCURRENT_CHECKS

    async def flood() -> tuple[list[bool], int, bool]:
        tasks = [asyncio.create_task(checks.verify(password_hash, "wrong")) for _ in range(sign_ins)]
        peak, queued = 0, False
        deadline = time.monotonic() + 60
        while not all(task.done() for task in tasks) and time.monotonic() < deadline:
            peak = max(peak, checks.running)
            queued = queued or checks.waiting == sign_ins - MAX_CONCURRENT_CHECKS
            await asyncio.sleep(0.005)
        return await asyncio.gather(*tasks), peak, queued

    results, peak, queued = asyncio.run(flood())
    assert results == [False] * sign_ins
    assert peak == MAX_CONCURRENT_CHECKS
    assert queued
    assert (checks.running, checks.waiting) == (0, 0)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_forwarded_addresses_are_not_believed_from_an_unconfigured_proxy(
    server: ServerProcess, database: Database
) -> None:
    """A client on 127.0.0.1 forging a new X-Forwarded-For per try is still one address."""
    make_user(database, "root", "admin", password="correct horse")
    statuses = [
        attempt(server.url, "root", "wrong password", {"X-Forwarded-For": f"203.0.113.{number}"})
        for number in range(MAX_FAILURES + 1)
    ]
    assert statuses == [401] * (MAX_FAILURES - 1) + [429, 429]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_forwarded_addresses_are_believed_from_a_configured_proxy(
    database: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind a trusted proxy each forwarded address has its own lockout."""
    make_user(database, "root", "admin", password="correct horse")
    monkeypatch.setenv("MC_FORWARDED_ALLOW_IPS", "127.0.0.1")
    proxied = ServerProcess(database_url, free_port())
    proxied.start()
    try:
        attacker = {"X-Forwarded-For": "203.0.113.9"}
        statuses = [attempt(proxied.url, "root", "wrong password", attacker) for _ in range(MAX_FAILURES)]
        assert statuses == [401] * (MAX_FAILURES - 1) + [429]
        assert attempt(proxied.url, "root", "correct horse", {"X-Forwarded-For": "198.51.100.7"}) == 303
    finally:
        proxied.stop()
