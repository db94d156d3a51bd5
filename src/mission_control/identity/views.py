"""Sign-in pages and the identity API (who am I, users, tokens)."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from mission_control.identity.service import (
    IdentityError,
    add_user,
    authenticate,
    create_token,
    end_session,
    get_user,
    start_session,
)
from mission_control.progress.service import InvalidInput, NotFound, record_event
from mission_control.web.auth import SESSION_COOKIE, Principal, require
from mission_control.web.templating import templates

router = APIRouter()
LOGIN_CSRF_COOKIE = "mc_login_csrf"


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never let ?next= send a user to another host."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _login_page(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    csrf = secrets.token_urlsafe(24)
    response = templates.TemplateResponse(
        request,
        "login.html",
        {"csrf_token": csrf, "next": _safe_next(request.query_params.get("next")), "error": error},
        status_code=status,
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="strict", path="/login")
    return response


@router.get("/login", include_in_schema=False)
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return _login_page(request, error="The form expired; please sign in again.", status=400)
    settings = request.app.state.settings
    with request.app.state.database.transaction() as session:
        user = authenticate(session=session, name=name, password=password)
        if user is None:
            record_event(session=session, actor=name[:128], action="login.failed")
            failed = True
        else:
            new_session = start_session(
                session=session, user=user, lifetime=timedelta(hours=settings.session_hours)
            )
            record_event(session=session, actor=user.name, action="login")
            failed = False
    if failed:
        return _login_page(request, error="Unknown user or wrong password.", status=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        new_session.secret,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=settings.session_hours * 3600,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, principal: Annotated[Principal, Depends(require("viewer"))]) -> Response:
    with request.app.state.database.transaction() as session:
        end_session(session=session, secret=request.cookies.get(SESSION_COOKIE, ""))
        record_event(session=session, actor=principal.name, action="logout")
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
                user = add_user(session=session, name=body.name, role=body.role, password=body.password)
            except IdentityError as error:
                raise InvalidInput(str(error)) from error
            record_event(
                session=session,
                actor=principal.name,
                action="user.created",
                new_value=f"{user.name} ({user.role})",
            )
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
                secret = create_token(session=session, user=user, name=body.name)
            except IdentityError as error:
                raise InvalidInput(str(error)) from error
            record_event(
                session=session,
                actor=principal.name,
                action="token.created",
                new_value=f"{user.name}: {body.name}",
            )
            return IssuedToken(user=user.name, name=body.name, token=secret)

    return await run_in_threadpool(write)
