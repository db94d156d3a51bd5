"""Who is asking: a browser session cookie or an `Authorization: Bearer` token, and their role.

Unsafe requests authenticated by cookie must carry the session's CSRF token (form field or
X-CSRF-Token header); bearer-token requests carry no ambient credentials, so they need none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from mission_control.identity.service import (
    find_session,
    find_token,
    record_session_use,
    record_token_use,
    role_allows,
    session_use_is_stale,
    token_use_is_stale,
)
from mission_control.text import same_secret

SESSION_COOKIE = "mc_session"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    csrf_token: str | None  # None when authenticated by API token


class AuthenticationRequired(Exception):
    """No valid session or token: API callers get 401, browsers the login page."""


class Forbidden(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def current_principal(request: Request) -> Principal:
    principal = await run_in_threadpool(_identify, request)
    if principal is None:
        raise AuthenticationRequired()
    if principal.csrf_token is not None and request.method not in SAFE_METHODS:
        await _check_csrf(request, principal)
    return principal


def _identify(request: Request) -> Principal | None:
    database = request.app.state.database
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        with database.read() as session:
            found = find_token(session=session, secret=authorization[7:].strip())
            if found is None:
                return None
            token, user = found
            principal = Principal(user.name, user.role, None)
            stale = token_use_is_stale(token)
        if stale:
            with database.transaction() as session:
                record_token_use(session=session, token_id=token.id)
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    idle = timedelta(minutes=request.app.state.settings.session_idle_minutes)
    with database.read() as session:
        found = find_session(session=session, secret=cookie, idle=idle)
        if found is None:
            return None
        user, web_session = found
        principal = Principal(user.name, user.role, web_session.csrf_token)
        stale = session_use_is_stale(web_session)
    if stale:
        with database.transaction() as session:
            record_session_use(session=session, session_id=web_session.id)
    return principal


def cookies_are_secure(request: Request) -> bool:
    """Secure cookies when configured (MC_SECURE_COOKIES) or when this request came over HTTPS."""
    return request.app.state.settings.secure_cookies or request.url.scheme == "https"


def set_session_cookie(request: Request, response: Response, secret: str) -> None:
    """The session cookie: HttpOnly (no script reads it), SameSite=Lax, Secure over HTTPS."""
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        httponly=True,
        samesite="lax",
        secure=cookies_are_secure(request),
        max_age=request.app.state.settings.session_hours * 3600,
    )


async def _check_csrf(request: Request, principal: Principal) -> None:
    submitted = request.headers.get("x-csrf-token")
    if submitted is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        submitted = value if isinstance(value, str) else None
    if not submitted or not same_secret(submitted, principal.csrf_token or ""):
        raise Forbidden("missing or invalid CSRF token: reload the page and try again")


def require(role: str) -> Callable[..., object]:
    """A dependency admitting principals whose role is at least `role`."""

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not role_allows(principal.role, role):
            raise Forbidden(f"{principal.name} is a {principal.role}; this needs the {role} role")
        return principal

    return dependency
