"""A small OpenID Connect provider for the tests, served over real HTTP on 127.0.0.1.

It checks what a real provider checks (client authentication, the registered redirect URI, PKCE
S256, one-time codes) and signs RS256 ID tokens published at its JWKS endpoint. Tests choose who is
signed in there (`account`) and can spoil what it answers on purpose (`id_token_changes`,
`signing_key`, `replay_id_token`, `authorize_error`).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

ID_TOKEN_LIFETIME = 300


def rsa_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


@dataclass(frozen=True)
class Grant:
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    claims: dict[str, Any]


@dataclass
class LocalProvider:
    port: int
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    key: RSAKey = field(default_factory=lambda: rsa_key("provider-key-1"))
    account: dict[str, Any] = field(default_factory=dict)
    id_token_changes: dict[str, Any] = field(default_factory=dict)  # a None value removes the claim
    signing_key: RSAKey | None = None  # sign with this instead of the published key
    replay_id_token: str | None = None  # answer with this old ID token instead of a new one
    authorize_error: str | None = None  # answer the authorization request with this OAuth error
    issued_id_tokens: list[str] = field(default_factory=list)
    grants: dict[str, Grant] = field(default_factory=dict)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
                Route("/jwks", self.jwks),
            ]
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the test OIDC provider did not start on port {self.port}")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = self._thread = None

    async def discovery(self, _: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def jwks(self, _: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def authorize(self, request: Request) -> Response:
        """Auto-approves `account` (as if already signed in here) after checking the request."""
        params = request.query_params
        redirect_uri = params.get("redirect_uri", "")
        if params.get("client_id") != self.client_id or redirect_uri not in self.redirect_uris:
            return PlainTextResponse("unknown client or unregistered redirect_uri", status_code=400)
        answer: dict[str, str] = {"state": params.get("state", "")}
        if self.authorize_error:
            answer |= {"error": self.authorize_error, "error_description": "The user cancelled the sign-in"}
        elif (
            params.get("response_type") != "code"
            or "openid" not in params.get("scope", "").split()
            or params.get("code_challenge_method") != "S256"
            or not params.get("code_challenge")
        ):
            answer |= {
                "error": "invalid_request",
                "error_description": "a code flow with PKCE S256 is required",
            }
        else:
            code = secrets.token_urlsafe(24)
            self.grants[code] = Grant(
                redirect_uri, params["code_challenge"], params.get("nonce"), dict(self.account)
            )
            answer["code"] = code
        return RedirectResponse(f"{redirect_uri}?{urlencode(answer)}", status_code=302)

    async def token(self, request: Request) -> Response:
        form = await request.form()
        if not self._client_authenticated(request.headers.get("authorization", "")):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self.grants.pop(str(form.get("code", "")), None)  # a code works once
        if form.get("grant_type") != "authorization_code" or grant is None:
            return JSONResponse({"error": "invalid_grant", "error_description": "unknown or used code"}, 400)
        if form.get("redirect_uri") != grant.redirect_uri:
            return JSONResponse({"error": "invalid_grant", "error_description": "redirect_uri differs"}, 400)
        verifier = str(form.get("code_verifier", ""))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != grant.code_challenge:
            return JSONResponse(
                {"error": "invalid_grant", "error_description": "PKCE verification failed"}, 400
            )
        id_token = self.replay_id_token or self._id_token(grant)
        self.issued_id_tokens.append(id_token)
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(24),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }
        )

    def _client_authenticated(self, authorization: str) -> bool:
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() != "basic":
            return False
        client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        return unquote(client_id) == self.client_id and unquote(secret) == self.client_secret

    def _id_token(self, grant: Grant) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.client_id, "iat": now, "exp": now + ID_TOKEN_LIFETIME}
        claims |= {"nonce": grant.nonce} if grant.nonce else {}
        claims |= grant.claims | self.id_token_changes
        key = self.signing_key or self.key
        return jwt.encode(
            {"alg": "RS256", "kid": key.kid},
            {name: value for name, value in claims.items() if value is not None},
            key,
        )
