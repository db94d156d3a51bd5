"""Single sign-on pages: GET /login/sso sends the browser to the identity provider, and
GET /login/sso/callback signs the person in (creating or updating their user) or says why not.
"""

from __future__ import annotations

import hmac
import time
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from mission_control.db.base import utcnow
from mission_control.identity.oidc import (
    PENDING_LIFETIME_SECONDS,
    PendingLogin,
    SsoError,
    SsoIdentity,
    begin_login,
    complete_login,
    provider_client,
)
from mission_control.identity.service import NewSession, record_sign_in_failure, sso_user, start_session
from mission_control.identity.views import safe_next
from mission_control.progress.service import NotFound
from mission_control.settings import OidcSettings
from mission_control.web.auth import cookies_are_secure, set_session_cookie
from mission_control.web.templating import templates

router = APIRouter(include_in_schema=False)
PENDING_COOKIE = "mc_sso"
PENDING_COOKIE_PATH = "/login/sso"


def _config(request: Request) -> OidcSettings:
    config = request.app.state.settings.oidc
    if config is None:
        raise NotFound("single sign-on is not configured: sign in with a local account")
    return config


def _redirect_uri(request: Request, config: OidcSettings) -> str:
    return config.redirect_url or str(request.url_for("sso_callback"))


@router.get("/login/sso")
def start_sso(request: Request, next: str = "/") -> Response:
    """Send the browser to the provider, remembering (in a sealed cookie) what the callback must match."""
    config = _config(request)
    try:
        with provider_client(config, redirect_uri=_redirect_uri(request, config)) as client:
            url, pending = begin_login(config, client, next_path=safe_next(next), now=int(time.time()))
    except SsoError as error:
        return _refuse(request, error)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        PENDING_COOKIE,
        pending.seal(config),
        max_age=PENDING_LIFETIME_SECONDS,
        path=PENDING_COOKIE_PATH,
        httponly=True,
        samesite="lax",  # sent on the provider's top-level redirect back, not on cross-site posts
        secure=cookies_are_secure(request),
    )
    return response


@router.get("/login/sso/callback", name="sso_callback")
def finish_sso(
    request: Request, code: str = "", state: str = "", error: str = "", error_description: str = ""
) -> Response:
    """Check the provider's answer against this browser's pending login, then sign the person in."""
    config = _config(request)
    now = int(time.time())
    try:
        pending = PendingLogin.unseal(request.cookies.get(PENDING_COOKIE), config=config, now=now)
        if error:
            raise SsoError(
                f"The identity provider did not sign you in ({error_description or error}).",
                reason=f"provider answered {error}",
                status=400,
            )
        if not hmac.compare_digest(state.encode(), pending.state.encode()):
            raise SsoError(
                "This sign-in answer does not belong to the sign-in started in this browser (state "
                "mismatch). Start again from the sign-in page.",
                reason="state mismatch",
                status=400,
            )
        with provider_client(config, redirect_uri=_redirect_uri(request, config)) as client:
            identity = complete_login(config, client, pending=pending, code=code, now=now)
        with request.app.state.database.transaction() as session:
            new_session = _sign_in(
                session=session,
                identity=identity,
                role_claim=config.role_claim,
                lifetime=timedelta(hours=request.app.state.settings.session_hours),
            )
    except SsoError as failure:
        return _refuse(request, failure)
    response = RedirectResponse(pending.next_path, status_code=303)
    set_session_cookie(request, response, new_session.secret)
    response.delete_cookie(PENDING_COOKIE, path=PENDING_COOKIE_PATH)
    return response


def _sign_in(*, session: Session, identity: SsoIdentity, role_claim: str, lifetime: timedelta) -> NewSession:
    """Start a session for the user bound to the person's (issuer, subject), made on first sign-in."""
    user = sso_user(
        session=session,
        issuer=identity.issuer,
        subject=identity.subject,
        name=identity.name,
        role=identity.role,
    )
    return start_session(
        session=session,
        user=user,
        lifetime=lifetime,
        action="login.sso",
        detail=f"{user.role} from {role_claim}: {', '.join(identity.role_values) or '-'}",
    )


def _refuse(request: Request, failure: SsoError) -> Response:
    """Audit the refusal, then explain it; the pending login is spent either way."""
    with request.app.state.database.transaction() as session:
        record_sign_in_failure(
            session=session,
            actor=failure.actor,
            action="login.sso.failed",
            detail=failure.reason,
            now=utcnow(),
        )
    response = templates.TemplateResponse(
        request, "sso_error.html", {"message": failure.message}, status_code=failure.status
    )
    response.delete_cookie(PENDING_COOKIE, path=PENDING_COOKIE_PATH)
    return response
