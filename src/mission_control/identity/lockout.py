"""Sign-in throttling: failed password sign-ins lock one (name, client address) pair for a while, and
slow the name down from everywhere with growing delays, never locking it hard.

So five bad guesses from one address lock that address out for `lockout`, while the right password
from elsewhere still works; guesses spread over more addresses wait longer and longer (up to
`max_delay`) between tries, and the right password waits at most that long. Counts live in the database, so every replica sees
the same ones, and the check and the count are one atomic step: an attempt is counted *before* its
password is checked, with its rows locked (an upsert on PostgreSQL, the single writer on SQLite), so
N simultaneous wrong passwords get exactly `max_failures` checks. A success takes its count back.
Attempts refused while locked are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mission_control.db.base import upsert
from mission_control.identity.models import LoginAttempt
from mission_control.text import storable

ANY_CLIENT = "*"  # the row counting a name's failures from every address
MAX_CLIENT_LENGTH = 64


@dataclass(frozen=True)
class LockoutPolicy:
    """`max_failures` for a (name, address) lock that pair for `lockout` after the last one; past
    twice that for a name from all addresses, each next try waits 1 s, 2 s, 4 s, ... `max_delay`."""

    max_failures: int
    lockout: timedelta
    max_delay: timedelta = timedelta(minutes=1)

    def name_delay(self, failures: int) -> timedelta:
        """How long after a name's last failure its next try must wait: nothing until more addresses
        than one fail (one locks itself out after `max_failures`), then 1 s, 2 s, 4 s, ..."""
        if failures < 2 * self.max_failures:
            return timedelta(0)
        return min(timedelta(seconds=2 ** min(failures - 2 * self.max_failures, 16)), self.max_delay)


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is refused unchecked, and for how long: this address is locked out
    (`per_address`), or the name must wait a little."""

    retry_after: timedelta
    per_address: bool


def forget_expired(*, session: Session, policy: LockoutPolicy, now: datetime) -> None:
    """Delete counts whose last failure is older than the window. Rows another sign-in holds are
    skipped, so this never waits for one (nor deadlocks with it): run it in its own transaction."""
    expired = (
        select(LoginAttempt.id)
        .where(LoginAttempt.last_failure_at <= now - policy.lockout)
        .with_for_update(skip_locked=True)
    )
    session.execute(
        delete(LoginAttempt).where(LoginAttempt.id.in_(expired)).execution_options(synchronize_session=False)
    )


def reserve_attempt(
    *, session: Session, policy: LockoutPolicy, name_key: str, client: str, now: datetime
) -> Refusal | None:
    """Count this attempt as a failure before its password is checked; a Refusal (counting nothing)
    when the pair is locked or the name must wait."""
    by_name = _locked_row(session, name_key, ANY_CLIENT, now)
    by_pair = _locked_row(session, name_key, _client(client), now)
    for row in (by_name, by_pair):
        if row.last_failure_at <= now - policy.lockout:
            row.failures = 0
    if by_pair.failures >= policy.max_failures:
        return Refusal(by_pair.last_failure_at + policy.lockout - now, per_address=True)
    delay = policy.name_delay(by_name.failures)
    if delay and by_name.last_failure_at + delay > now:
        return Refusal(by_name.last_failure_at + delay - now, per_address=False)
    for row in (by_name, by_pair):
        row.failures += 1
        row.last_failure_at = now
    session.flush()
    return None


def locked_until(
    *, session: Session, policy: LockoutPolicy, name_key: str, client: str, now: datetime
) -> datetime | None:
    """When the lockout of the pair ends, if this failure started one."""
    row = session.scalar(
        select(LoginAttempt).where(LoginAttempt.name_key == name_key, LoginAttempt.client == _client(client))
    )
    if row is None or row.failures < policy.max_failures:
        return None
    return row.last_failure_at + policy.lockout


def take_back(*, session: Session, name_key: str, client: str) -> None:
    """A successful sign-in: forget the pair's failures, and un-count its attempt for the name (rows
    locked in the order `reserve_attempt` takes them, so the two never deadlock)."""
    by_name = session.scalar(
        select(LoginAttempt)
        .where(LoginAttempt.name_key == name_key, LoginAttempt.client == ANY_CLIENT)
        .with_for_update()
    )
    if by_name is not None and by_name.failures > 0:
        by_name.failures -= 1
    session.execute(
        delete(LoginAttempt).where(LoginAttempt.name_key == name_key, LoginAttempt.client == _client(client))
    )


def _client(client: str) -> str:
    return storable(client)[:MAX_CLIENT_LENGTH]


def _locked_row(session: Session, name_key: str, client: str, now: datetime) -> LoginAttempt:
    """The counting row, created if missing, locked until the transaction ends: the upsert's no-op
    update takes the row lock on PostgreSQL even when the row already exists."""
    insert = upsert(session, LoginAttempt).values(
        name_key=name_key, client=client, failures=0, last_failure_at=now
    )
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["name_key", "client"], set_={"client": insert.excluded.client}
        )
    )
    return session.scalars(
        select(LoginAttempt)
        .where(LoginAttempt.name_key == name_key, LoginAttempt.client == client)
        .execution_options(populate_existing=True)
    ).one()
