"""Sign-in pages and the identity API (who am I, users, tokens)."""

from __future__ import annotations

import math
import secrets
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from mission_control.identity.lockout import LockoutPolicy, Refusal
from mission_control.identity.login import sign_in_with_password
from mission_control.identity.service import (
    IdentityError,
    TokenRecord,
    add_user,
    create_token,
    end_all_sessions,
    end_session,
    get_token,
    get_user,
    list_tokens,
    revoke_token,
    role_allows,
)
from mission_control.progress.service import InvalidInput, NotFound
from mission_control.text import same_secret
from mission_control.web.auth import (
    SESSION_COOKIE,
    Forbidden,
    Principal,
    cookies_are_secure,
    require,
    set_session_cookie,
)
from mission_control.web.templating import templates

router = APIRouter()
LOGIN_CSRF_COOKIE = "mc_login_csrf"


def safe_next(target: str | None) -> str:
    """Only same-site paths: never let ?next= send a user to another host."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _login_page(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    csrf = secrets.token_urlsafe(24)
    response = templates.TemplateResponse(
        request,
        "login.html",
        {"csrf_token": csrf, "next": safe_next(request.query_params.get("next")), "error": error},
        status_code=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        csrf,
        httponly=True,
        samesite="strict",
        secure=cookies_are_secure(request),
        path="/login",
    )
    return response


@router.get("/login", include_in_schema=False)
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login", include_in_schema=False)
async def login(
    request: Request,
    name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not same_secret(csrf_token, expected):
        return _login_page(request, error="The form expired; please sign in again.", status=400)
    settings = request.app.state.settings
    outcome = await sign_in_with_password(
        database=request.app.state.database,
        checks=request.app.state.password_checks,
        policy=LockoutPolicy(settings.login_max_failures, timedelta(minutes=settings.login_lockout_minutes)),
        name=name,
        password=password,
        client=request.client.host if request.client else "unknown",
        lifetime=timedelta(hours=settings.session_hours),
    )
    if outcome.refusal is not None:
        return _refused(request, outcome.refusal)
    if outcome.new_session is None:
        return _login_page(request, error="Unknown user or wrong password.", status=401)
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(request, response, outcome.new_session.secret)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def _refused(request: Request, refusal: Refusal) -> Response:
    seconds = max(1, math.ceil(refusal.retry_after.total_seconds()))
    if refusal.per_address:
        minutes = max(1, math.ceil(seconds / 60))
        error = (
            f"Too many failed sign-ins for this user from your address: try again in {minutes} "
            f"minute{'s' if minutes > 1 else ''}."
        )
    else:
        error = f"Too many failed sign-ins for this user: try again in {seconds} second{'s' if seconds > 1 else ''}."
    response = _login_page(request, error=error, status=429)
    response.headers["Retry-After"] = str(seconds)
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, principal: Annotated[Principal, Depends(require("viewer"))]) -> Response:
    with request.app.state.database.transaction() as session:
        end_session(session=session, secret=request.cookies.get(SESSION_COOKIE, ""), actor=principal.name)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/logout/everywhere", include_in_schema=False)
def logout_everywhere(
    request: Request, principal: Annotated[Principal, Depends(require("viewer"))]
) -> Response:
    """End every browser session of the caller (a lost laptop, a shared machine)."""
    with request.app.state.database.transaction() as session:
        user = get_user(session=session, name=principal.name)
        if user is not None:
            end_all_sessions(session=session, user=user, actor=principal.name)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


class Me(BaseModel):
    name: str
    role: str


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    role: str
    password: str | None = None


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: str
    name: str


class IssuedToken(BaseModel):
    user: str
    name: str
    token: str


@router.get("/api/v1/me", response_model=Me, tags=["identity"])
def me(principal: Annotated[Principal, Depends(require("viewer"))]) -> Me:
    """The caller's name and role."""
    return Me(name=principal.name, role=principal.role)


@router.post("/api/v1/users", response_model=Me, status_code=201, tags=["identity"])
async def create_user(
    body: NewUser, request: Request, principal: Annotated[Principal, Depends(require("admin"))]
) -> Me:
    """Create a user (admin only)."""

    def write() -> Me:
        with request.app.state.database.transaction() as session:
            try:
                user = add_user(
                    session=session,
                    name=body.name,
                    role=body.role,
                    password=body.password,
                    actor=principal.name,
                )
            except IdentityError as error:
                raise InvalidInput(str(error)) from error
            return Me(name=user.name, role=user.role)

    return await run_in_threadpool(write)


@router.post("/api/v1/tokens", response_model=IssuedToken, status_code=201, tags=["identity"])
async def issue_token(
    body: NewToken, request: Request, principal: Annotated[Principal, Depends(require("admin"))]
) -> IssuedToken:
    """Issue an API token for a user (admin only). The token is shown in this response only."""

    def write() -> IssuedToken:
        with request.app.state.database.transaction() as session:
            user = get_user(session=session, name=body.user)
            if user is None:
                raise NotFound(f"user {body.user!r} does not exist")
            try:
                secret = create_token(session=session, user=user, name=body.name, actor=principal.name)
            except IdentityError as error:
                raise InvalidInput(str(error)) from error
            return IssuedToken(user=user.name, name=body.name, token=secret)

    return await run_in_threadpool(write)


class TokenInfo(BaseModel):
    id: int
    user: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _token_info(record: TokenRecord) -> TokenInfo:
    return TokenInfo(**asdict(record))


@router.get("/api/v1/tokens", response_model=list[TokenInfo], tags=["identity"])
async def tokens(
    request: Request, principal: Annotated[Principal, Depends(require("viewer"))]
) -> list[TokenInfo]:
    """API tokens with their last use (to the minute): an admin sees every token, others their own."""

    def read() -> list[TokenInfo]:
        owner = None if role_allows(principal.role, "admin") else principal.name
        with request.app.state.database.read() as session:
            return [_token_info(record) for record in list_tokens(session=session, user_name=owner)]

    return await run_in_threadpool(read)


@router.delete("/api/v1/tokens/{token_id}", response_model=TokenInfo, tags=["identity"])
async def revoke(
    token_id: int, request: Request, principal: Annotated[Principal, Depends(require("viewer"))]
) -> TokenInfo:
    """Revoke a token: it stops working at once. Admins revoke any token, others their own."""

    def write() -> TokenInfo:
        with request.app.state.database.transaction() as session:
            record = get_token(session=session, token_id=token_id)
            if record is None:
                raise NotFound(f"token {token_id} does not exist")
            if record.user != principal.name and not role_allows(principal.role, "admin"):
                raise Forbidden(f"token {token_id} belongs to {record.user}; only an admin can revoke it")
            record = revoke_token(session=session, token_id=token_id, actor=principal.name) or record
            return _token_info(record)

    return await run_in_threadpool(write)
