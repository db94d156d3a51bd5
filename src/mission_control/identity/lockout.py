"""Login lockout: too many failed sign-ins for one name from one address lock that pair for a while.

Failures live in the database, not in process memory, so every replica (SQLite or a shared
PostgreSQL) counts the same attempts. Keyed by name *and* address, an attacker cannot lock a
colleague out from elsewhere; refused attempts during a lockout are not counted, so the lockout
ends `lockout` after the last real failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from mission_control.identity.models import LoginFailure
from mission_control.text import storable

MAX_NAME_LENGTH = 128
MAX_CLIENT_LENGTH = 64


@dataclass(frozen=True)
class LockoutPolicy:
    """`max_failures` within `lockout` lock the (name, address) pair for `lockout` after the last one."""

    max_failures: int
    lockout: timedelta


def locked_until(
    *, session: Session, policy: LockoutPolicy, name: str, client: str, now: datetime
) -> datetime | None:
    """When the lockout of `name` from `client` ends, or None when they may try now."""
    count, last = session.execute(
        select(func.count(), func.max(LoginFailure.at)).where(
            LoginFailure.user_name == storable(name)[:MAX_NAME_LENGTH],
            LoginFailure.client == storable(client)[:MAX_CLIENT_LENGTH],
            LoginFailure.at > now - policy.lockout,
        )
    ).one()
    if count < policy.max_failures or last is None:
        return None
    return last + policy.lockout


def record_failure(
    *, session: Session, policy: LockoutPolicy, name: str, client: str, now: datetime
) -> datetime | None:
    """Count a failed sign-in (forgetting ones older than the window); return the lockout's end if it
    starts now."""
    session.execute(delete(LoginFailure).where(LoginFailure.at <= now - policy.lockout))
    session.add(
        LoginFailure(
            user_name=storable(name)[:MAX_NAME_LENGTH], client=storable(client)[:MAX_CLIENT_LENGTH], at=now
        )
    )
    session.flush()
    return locked_until(session=session, policy=policy, name=name, client=client, now=now)


def clear_failures(*, session: Session, name: str, client: str) -> None:
    """A successful sign-in forgets that pair's earlier failures."""
    session.execute(
        delete(LoginFailure).where(
            LoginFailure.user_name == storable(name)[:MAX_NAME_LENGTH],
            LoginFailure.client == storable(client)[:MAX_CLIENT_LENGTH],
        )
    )
