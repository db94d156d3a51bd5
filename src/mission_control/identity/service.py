"""Users, passwords, API tokens and browser sessions.

Passwords are argon2-hashed. Tokens and session ids are 256-bit random secrets, so a fast SHA-256
is enough to store them: a leaked table cannot be replayed, and lookups stay one indexed query.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from mission_control.db.base import utcnow
from mission_control.identity.models import ApiToken, User, WebSession
from mission_control.text import text_problem

ROLES = ("viewer", "editor", "admin")
TOKEN_PREFIX = "mc_"
TOKEN_USE_RESOLUTION = timedelta(minutes=1)
_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,127}")
MAX_TOKEN_NAME_LENGTH = 128
_hasher = PasswordHasher()


class IdentityError(ValueError):
    """A user-facing problem with a name, role, password or token."""


def role_allows(role: str, required: str) -> bool:
    return ROLES.index(role) >= ROLES.index(required)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def get_user(*, session: Session, name: str) -> User | None:
    """The user called `name`, or None (also for names no user can have)."""
    if not _NAME_PATTERN.fullmatch(name):
        return None
    return session.scalar(select(User).where(User.name == name))


def count_users(*, session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def add_user(*, session: Session, name: str, role: str, password: str | None) -> User:
    """Create a user; raise IdentityError on a bad name, unknown role, short password or duplicate."""
    if not _NAME_PATTERN.fullmatch(name):
        raise IdentityError(f"invalid user name {name!r}: use letters, digits, '.', '_', '@' or '-'")
    if role not in ROLES:
        raise IdentityError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
    if password is not None and len(password) < 8:
        raise IdentityError("password too short: use at least 8 characters")
    if get_user(session=session, name=name):
        raise IdentityError(f"user {name!r} already exists")
    user = User(name=name, role=role, password_hash=_hasher.hash(password) if password else None)
    session.add(user)
    session.flush()
    return user


def authenticate(*, session: Session, name: str, password: str) -> User | None:
    """The user if `password` is theirs; None otherwise (same answer for unknown users)."""
    user = get_user(session=session, name=name)
    if user is None or not user.password_hash:
        _hasher.hash(password)  # spend the same time as a real check
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def create_token(*, session: Session, user: User, name: str) -> str:
    """Create an API token for `user`; the secret is returned once and only its hash is kept."""
    if not name.strip():
        raise IdentityError("a token needs a name (what will use it?)")
    problem = text_problem(name.strip(), field="token name", max_length=MAX_TOKEN_NAME_LENGTH)
    if problem:
        raise IdentityError(problem)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name.strip(), token_hash=hash_secret(secret)))
    session.flush()
    return secret


def find_token(*, session: Session, secret: str) -> tuple[ApiToken, User] | None:
    """The live API token matching `secret` and its owner; None for unknown or revoked tokens."""
    found = session.execute(
        select(ApiToken, User)
        .join(User, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == hash_secret(secret), ApiToken.revoked_at.is_(None))
    ).first()
    return (found[0], found[1]) if found else None


@dataclass(frozen=True)
class TokenRecord:
    """An API token as listed: never its secret."""

    id: int
    user: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def list_tokens(*, session: Session, user_name: str | None = None) -> list[TokenRecord]:
    """Every token (or `user_name`'s), oldest first, revoked ones included."""
    query = select(ApiToken, User.name).join(User, ApiToken.user_id == User.id).order_by(ApiToken.id)
    if user_name is not None:
        query = query.where(User.name == user_name)
    return [_record(token, owner) for token, owner in session.execute(query)]


def get_token(*, session: Session, token_id: int) -> TokenRecord | None:
    """The token with id `token_id`, or None (also for ids no database row can have)."""
    if not 0 < token_id < 2**63:
        return None
    row = session.execute(
        select(ApiToken, User.name).join(User, ApiToken.user_id == User.id).where(ApiToken.id == token_id)
    ).first()
    return _record(*row) if row else None


def revoke_token(*, session: Session, token_id: int) -> TokenRecord | None:
    """Revoke a token (it stops working at once); None when it does not exist. Revoking twice keeps
    the first time."""
    token = session.get(ApiToken, token_id)
    if token is None:
        return None
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
    return get_token(session=session, token_id=token_id)


def _record(token: ApiToken, owner: str) -> TokenRecord:
    return TokenRecord(token.id, owner, token.name, token.created_at, token.last_used_at, token.revoked_at)


def token_use_is_stale(token: ApiToken) -> bool:
    """Record last use at most once a minute, so reads by token do not each cost a write."""
    return token.last_used_at is None or utcnow() - token.last_used_at > TOKEN_USE_RESOLUTION


def record_token_use(*, session: Session, token_id: int) -> None:
    token = session.get(ApiToken, token_id)
    if token is not None:
        token.last_used_at = utcnow()


@dataclass(frozen=True)
class NewSession:
    secret: str
    csrf_token: str
    expires_at: datetime


def start_session(*, session: Session, user: User, lifetime: timedelta) -> NewSession:
    """Open a browser session; the cookie carries `secret`, forms carry `csrf_token`."""
    secret = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    expires_at = utcnow() + lifetime
    session.add(
        WebSession(
            user_id=user.id, token_hash=hash_secret(secret), csrf_token=csrf_token, expires_at=expires_at
        )
    )
    session.flush()
    return NewSession(secret, csrf_token, expires_at)


def find_session(*, session: Session, secret: str, idle: timedelta) -> tuple[User, WebSession] | None:
    """The user and session behind a cookie, unless it has expired or gone unused for `idle`."""
    web_session = session.scalar(select(WebSession).where(WebSession.token_hash == hash_secret(secret)))
    now = utcnow()
    if web_session is None or web_session.expires_at <= now or web_session.last_seen_at + idle <= now:
        return None
    user = session.get(User, web_session.user_id)
    return (user, web_session) if user else None


def session_use_is_stale(web_session: WebSession) -> bool:
    """Like tokens, note a session's use at most once a minute; idle expiry needs no finer grain."""
    return utcnow() - web_session.last_seen_at > TOKEN_USE_RESOLUTION


def record_session_use(*, session: Session, session_id: int) -> None:
    web_session = session.get(WebSession, session_id)
    if web_session is not None:
        web_session.last_seen_at = utcnow()


def end_session(*, session: Session, secret: str) -> None:
    web_session = session.scalar(select(WebSession).where(WebSession.token_hash == hash_secret(secret)))
    if web_session is not None:
        session.delete(web_session)


def end_all_sessions(*, session: Session, user: User) -> int:
    """Sign `user` out everywhere (every browser session); return how many sessions ended."""
    result = session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    return result.rowcount or 0


def ensure_initial_admin(*, session: Session) -> str | None:
    """On a database with no users, create `admin` with a random password and return it (once)."""
    if count_users(session=session):
        return None
    password = secrets.token_urlsafe(12)
    add_user(session=session, name="admin", role="admin", password=password)
    return password
