"""Password sign-in in three short steps, so no transaction ever waits on argon2 (about 350 ms):
count the attempt (locked rows, one transaction), check the password (no transaction, at most
`MAX_CONCURRENT_CHECKS` at once), then record the outcome (another transaction).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.concurrency import run_in_threadpool

from mission_control.db.base import utcnow
from mission_control.db.database import Database
from mission_control.identity.lockout import (
    LockoutPolicy,
    Refusal,
    forget_expired,
    locked_until,
    reserve_attempt,
    take_back,
)
from mission_control.identity.models import User
from mission_control.identity.service import (
    NewSession,
    find_password_hash,
    login_name_key,
    record_sign_in_failure,
    start_session,
    verify_password,
)

MAX_CONCURRENT_CHECKS = 2  # argon2 takes a core each: a flood of sign-ins queues instead of taking all


class PasswordChecks:
    """Bounds concurrent password checks in this process. Waiting sign-ins wait on the event loop,
    not in a worker thread, so they hold none of the threads other requests need."""

    def __init__(self, limit: int = MAX_CONCURRENT_CHECKS) -> None:
        self.limit = limit
        self.running = 0
        self.waiting = 0
        self._slots = asyncio.Semaphore(limit)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        self.waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
        self.running += 1
        try:
            return await run_in_threadpool(verify_password, password_hash, password)
        finally:
            self.running -= 1
            self._slots.release()


@dataclass(frozen=True)
class SignIn:
    """The outcome: a new session, or a refusal (locked or slowed down), or neither (wrong password)."""

    new_session: NewSession | None = None
    refusal: Refusal | None = None


@dataclass(frozen=True)
class _Candidate:
    name_key: str
    user_id: int | None
    password_hash: str | None


async def sign_in_with_password(
    *,
    database: Database,
    checks: PasswordChecks,
    policy: LockoutPolicy,
    name: str,
    password: str,
    client: str,
    lifetime: timedelta,
) -> SignIn:
    """Sign `name` in from `client` if `password` is theirs, within the lockout policy."""
    now = utcnow()

    def reserve() -> _Candidate | Refusal:
        with database.transaction() as session:
            forget_expired(session=session, policy=policy, now=now)
        with database.transaction() as session:
            name_key = login_name_key(session=session, name=name)
            refusal = reserve_attempt(
                session=session, policy=policy, name_key=name_key, client=client, now=now
            )
            if refusal is not None:
                return refusal
            user, password_hash = find_password_hash(session=session, name=name)
            return _Candidate(name_key, user.id if user else None, password_hash)

    candidate = await run_in_threadpool(reserve)
    if isinstance(candidate, Refusal):
        return SignIn(refusal=candidate)
    matches = await checks.verify(candidate.password_hash, password)
    return await run_in_threadpool(_record, database, policy, candidate, matches, client, lifetime, now)


def _record(
    database: Database,
    policy: LockoutPolicy,
    candidate: _Candidate,
    matches: bool,
    client: str,
    lifetime: timedelta,
    now: datetime,
) -> SignIn:
    """Start the session or audit the failure (and a lockout it starts)."""
    with database.transaction() as session:
        user = session.get(User, candidate.user_id) if candidate.user_id is not None else None
        if matches and user is not None:
            take_back(session=session, name_key=candidate.name_key, client=client)
            return SignIn(
                new_session=start_session(
                    session=session, user=user, lifetime=lifetime, detail=f"from {client}"
                )
            )
        actor = user.name if user else None
        record_sign_in_failure(
            session=session, actor=actor, action="login.failed", detail=f"from {client}", now=now
        )
        until = locked_until(
            session=session, policy=policy, name_key=candidate.name_key, client=client, now=now
        )
        if until is None:
            return SignIn()
        record_sign_in_failure(
            session=session,
            actor=actor,
            action="login.locked",
            detail=f"{policy.max_failures} failed sign-ins from {client}; locked until {until:%H:%M} UTC",
            now=now,
        )
        return SignIn(refusal=Refusal(until - utcnow(), per_address=True))
