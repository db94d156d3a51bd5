"""Users, passwords, API tokens and browser sessions, and their audit events (recorded here only,
so the CLI and the web word them the same).

Passwords are argon2-hashed. Tokens and session ids are 256-bit random secrets, so a fast SHA-256
is enough to store them: a leaked table cannot be replayed, and lookups stay one indexed query.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from mission_control.db.base import upsert, utcnow
from mission_control.identity.models import ApiToken, InstanceSecret, User, WebSession
from mission_control.progress.models import AuditEvent
from mission_control.progress.service import record_event
from mission_control.text import text_problem

ROLES = ("viewer", "editor", "admin")
TOKEN_PREFIX = "mc_"
TOKEN_USE_RESOLUTION = timedelta(minutes=1)
_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,127}")
MAX_TOKEN_NAME_LENGTH = 128
ANONYMOUS = "anonymous"  # the actor of failures whose name is no user's: the name itself is never kept
LOGIN_NAME_KEY = "login-name-key"
_hasher = PasswordHasher()


class IdentityError(ValueError):
    """A user-facing problem with a name, role, password or token."""


def role_allows(role: str, required: str) -> bool:
    """Roles are ordered: an admin may do what an editor may, an editor what a viewer may."""
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


def add_user(*, session: Session, name: str, role: str, password: str | None, actor: str) -> User:
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
    record_event(session=session, actor=actor, action="user.created", new_value=f"{name} ({role})")
    return user


def sso_user(*, session: Session, issuer: str, subject: str, name: str, role: str) -> User:
    """The user bound to the provider's (issuer, subject), made on first sign-in with `name` (or the
    first free `name-2`, `name-3`, ...) and no password; its role follows the provider. Never an
    existing local user, whatever its name."""
    user = session.scalar(select(User).where(User.sso_issuer == issuer, User.sso_subject == subject))
    if user is None:
        user = User(
            name=_free_name(session, name),
            role=role,
            password_hash=None,
            sso_issuer=issuer,
            sso_subject=subject,
        )
        session.add(user)
        session.flush()
        record_event(
            session=session, actor=user.name, action="user.created", new_value=f"{user.name} ({role}) via SSO"
        )
    elif user.role != role:
        record_event(
            session=session, actor=user.name, action="user.updated", new_value=f"{user.role} → {role} via SSO"
        )
        user.role = role
    return user


def _free_name(session: Session, name: str) -> str:
    """`name`, or the first of `name-2`, `name-3`, ... that no user has (all within 128 characters)."""
    for number in itertools.count(1):
        suffix = "" if number == 1 else f"-{number}"
        candidate = name[: 128 - len(suffix)] + suffix
        if session.scalar(select(User.id).where(User.name == candidate)) is None:
            return candidate
    raise AssertionError("unreachable")


def find_password_hash(*, session: Session, name: str) -> tuple[User | None, str | None]:
    """The user called `name` and their password hash (None for token-only and SSO users)."""
    user = get_user(session=session, name=name)
    return user, user.password_hash if user else None


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; without a hash, spend the same time and say no (no user
    enumeration by timing). Slow on purpose (argon2): never call it inside a transaction."""
    if not password_hash:
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def login_name_key(*, session: Session, name: str) -> str:
    """A keyed hash of a typed sign-in name: failures are counted by it, never by the name (a password
    typed into the name field must not be stored). The key is made once per deployment."""
    made = upsert(session, InstanceSecret).values(name=LOGIN_NAME_KEY, value=secrets.token_hex(32))
    session.execute(made.on_conflict_do_nothing(index_elements=["name"]))  # the first sign-in makes it
    key = session.scalars(select(InstanceSecret.value).where(InstanceSecret.name == LOGIN_NAME_KEY)).one()
    return hmac.new(key.encode(), name.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def record_sign_in_failure(
    *, session: Session, actor: str | None, action: str, detail: str, now: datetime
) -> None:
    """Audit a failed sign-in. One event when `actor` is a known person; failures of no known person
    are counted in one event per action and hour, so anonymous guessing cannot grow the audit log
    without bound (that event alone is updated in place)."""
    if actor is not None:
        record_event(session=session, actor=actor, action=action, new_value=detail)
        return
    hour = now.replace(minute=0, second=0, microsecond=0)
    tally = session.scalar(
        select(AuditEvent)
        .where(AuditEvent.actor == ANONYMOUS, AuditEvent.action == action, AuditEvent.at >= hour)
        .order_by(AuditEvent.id.desc())
        .limit(1)
        .with_for_update()
    )
    count = int((tally.new_value or "0").split(" ", 1)[0]) + 1 if tally else 1
    summary = f"{count} since {hour:%H:%M} UTC; latest: {detail}"
    if tally is None:
        record_event(session=session, actor=ANONYMOUS, action=action, new_value=summary)
    else:
        tally.new_value = summary


def create_token(*, session: Session, user: User, name: str, actor: str) -> str:
    """Create an API token for `user`; the secret is returned once and only its hash is kept."""
    if not name.strip():
        raise IdentityError("a token needs a name (what will use it?)")
    problem = text_problem(name.strip(), field="token name", max_length=MAX_TOKEN_NAME_LENGTH)
    if problem:
        raise IdentityError(problem)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name.strip(), token_hash=hash_secret(secret)))
    session.flush()
    record_event(
        session=session, actor=actor, action="token.created", new_value=f"{user.name}: {name.strip()}"
    )
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


def revoke_token(*, session: Session, token_id: int, actor: str) -> TokenRecord | None:
    """Revoke a token (it stops working at once); None when it does not exist. Revoking twice keeps
    the first time (and is audited once)."""
    token = session.get(ApiToken, token_id)
    if token is None:
        return None
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
        record = get_token(session=session, token_id=token_id)
        assert record is not None
        record_event(
            session=session,
            actor=actor,
            action="token.revoked",
            new_value=f"{record.user}: {record.name} (id {record.id})",
        )
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


def start_session(
    *, session: Session, user: User, lifetime: timedelta, action: str = "login", detail: str | None = None
) -> NewSession:
    """Open a browser session, audited as `action` ("login", "login.sso"); the cookie carries
    `secret`, forms carry `csrf_token`."""
    secret = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    expires_at = utcnow() + lifetime
    session.add(
        WebSession(
            user_id=user.id, token_hash=hash_secret(secret), csrf_token=csrf_token, expires_at=expires_at
        )
    )
    session.flush()
    record_event(session=session, actor=user.name, action=action, new_value=detail)
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


def end_session(*, session: Session, secret: str, actor: str) -> None:
    """Sign one browser session out (audited as `logout`)."""
    web_session = session.scalar(select(WebSession).where(WebSession.token_hash == hash_secret(secret)))
    if web_session is not None:
        session.delete(web_session)
    record_event(session=session, actor=actor, action="logout")


def end_all_sessions(*, session: Session, user: User, actor: str) -> int:
    """Sign `user` out everywhere (every browser session); return how many sessions ended."""
    ended = session.execute(delete(WebSession).where(WebSession.user_id == user.id)).rowcount or 0
    record_event(
        session=session,
        actor=actor,
        action="logout.everywhere",
        new_value=f"sessions ended for {user.name}: {ended}",
    )
    return ended


def ensure_initial_admin(*, session: Session) -> str | None:
    """On a database with no users, create `admin` with a random password and return it (once)."""
    if count_users(session=session):
        return None
    password = secrets.token_urlsafe(12)
    add_user(session=session, name="admin", role="admin", password=password, actor="mission-control")
    return password
