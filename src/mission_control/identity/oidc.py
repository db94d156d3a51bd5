"""OpenID Connect relying party: discovery, the authorization request (code flow with PKCE, state and
nonce), the code exchange, the ID token checks (JWKS signature, iss, aud, exp, nonce) and the mapping
of a claim to a role.

Nothing about a login in progress is kept in server memory: state, nonce and PKCE verifier travel in
a short-lived value sealed with a key derived from the client secret, so any replica can finish a
login another one started. Discovery and keys are fetched per login: logins are rare, and a rotated
provider key is then picked up at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import requests
from authlib.common.security import is_secure_transport
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet

from mission_control.identity.service import ROLES
from mission_control.settings import OidcSettings

PENDING_LIFETIME_SECONDS = 600
CLOCK_SKEW_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 10
# Asymmetric algorithms only: "none" and HMAC (keyed with the client secret) are never accepted.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]+")
_NAME_LEADING = re.compile(r"^[^A-Za-z0-9]+")


class SsoError(Exception):
    """A sign-in that is refused: the message is for the person, `reason` for the audit log."""

    def __init__(self, message: str, *, reason: str, status: int = 401, actor: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.status = status
        self.actor = actor  # the person, once the provider has vouched for them; None: nobody known


@dataclass(frozen=True)
class ProviderMetadata:
    """The parts of the provider's discovery document a login uses."""

    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    token_endpoint_auth_method: str
    signing_algorithms: tuple[str, ...]


@dataclass(frozen=True)
class PendingLogin:
    """What the callback must match: kept by the browser between the redirect and the callback."""

    state: str
    nonce: str
    code_verifier: str
    next_path: str
    started_at: int

    def seal(self, config: OidcSettings) -> str:
        payload = _b64encode(json.dumps(asdict(self), separators=(",", ":")).encode())
        return f"{payload}.{_b64encode(_mac(config, payload))}"

    @classmethod
    def unseal(cls, value: str | None, *, config: OidcSettings, now: int) -> PendingLogin:
        """The login this browser started; SsoError when none, tampered with or too old."""
        no_login = SsoError(
            "No single sign-on was in progress in this browser, or it took longer than 10 minutes. "
            "Start again from the sign-in page.",
            reason="no pending login (missing, altered or expired)",
            status=400,
        )
        payload, _, mac = (value or "").partition(".")
        try:
            if not hmac.compare_digest(_b64decode(mac), _mac(config, payload)):
                raise no_login
            pending = cls(**json.loads(_b64decode(payload)))
        except (ValueError, TypeError) as error:
            raise no_login from error
        if not now - PENDING_LIFETIME_SECONDS <= pending.started_at <= now + CLOCK_SKEW_SECONDS:
            raise no_login
        return pending


@dataclass(frozen=True)
class SsoIdentity:
    """A verified person: who the provider says they are (issuer and subject: their identity; name:
    only a label) and the role their claims map to."""

    issuer: str
    subject: str
    name: str
    role: str
    role_values: tuple[str, ...]


def _mac(config: OidcSettings, payload: str) -> bytes:
    key = hmac.new(config.client_secret.encode(), b"mission-control sso pending login", hashlib.sha256)
    return hmac.new(key.digest(), payload.encode(), hashlib.sha256).digest()


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@contextmanager
def provider_client(config: OidcSettings, *, redirect_uri: str) -> Iterator[OAuth2Session]:
    """An HTTP session with the provider that authenticates as this application."""
    with OAuth2Session(
        client_id=config.client_id,
        client_secret=config.client_secret,
        scope=config.scopes,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    ) as client:
        yield client


def _provider_json(client: OAuth2Session, url: str, what: str) -> dict[str, Any]:
    """GET a JSON object from the provider; SsoError (502) naming `what` when that fails."""
    try:
        response = client.get(url, withhold_token=True, timeout=HTTP_TIMEOUT_SECONDS)
        response.raise_for_status()
        document = response.json()
    except requests.HTTPError as error:
        raise _provider_failure(f"its {what} answered HTTP {error.response.status_code}") from error
    except ValueError as error:  # before RequestException: requests' JSON error is both
        raise _provider_failure(f"its {what} is not JSON") from error
    except requests.RequestException as error:
        raise _provider_failure(f"its {what} could not be reached ({type(error).__name__})") from error
    if not isinstance(document, dict):
        raise _provider_failure(f"its {what} is not a JSON object")
    return document


def _provider_failure(problem: str) -> SsoError:
    return SsoError(
        f"Single sign-on is unavailable: the identity provider failed ({problem}). "
        "Try again later, or sign in with a local account.",
        reason=f"provider failed: {problem}",
        status=502,
    )


def discover(config: OidcSettings, client: OAuth2Session) -> ProviderMetadata:
    """Read the issuer's discovery document; it must name the configured issuer and HTTPS endpoints."""
    document = _provider_json(
        client, config.issuer.rstrip("/") + "/.well-known/openid-configuration", "discovery document"
    )
    if document.get("issuer") != config.issuer:
        raise _provider_failure(
            f"its discovery document names issuer {document.get('issuer')!r}, not {config.issuer!r}"
        )
    endpoints = {}
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        url = document.get(key)
        if not isinstance(url, str) or not is_secure_transport(url):
            raise _provider_failure(f"its discovery document has no HTTPS {key}")
        endpoints[key] = url
    auth_methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    advertised = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    return ProviderMetadata(
        **endpoints,
        token_endpoint_auth_method=(
            "client_secret_basic" if "client_secret_basic" in auth_methods else "client_secret_post"
        ),
        signing_algorithms=tuple(alg for alg in SIGNING_ALGORITHMS if alg in advertised),
    )


def begin_login(
    config: OidcSettings, client: OAuth2Session, *, next_path: str, now: int
) -> tuple[str, PendingLogin]:
    """The provider's authorization URL to send the browser to, and what its callback must match."""
    metadata = discover(config, client)
    pending = PendingLogin(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(48),
        next_path=next_path,
        started_at=now,
    )
    url, _ = client.create_authorization_url(
        metadata.authorization_endpoint,
        state=pending.state,
        code_verifier=pending.code_verifier,
        nonce=pending.nonce,
    )
    return url, pending


def complete_login(
    config: OidcSettings, client: OAuth2Session, *, pending: PendingLogin, code: str, now: int
) -> SsoIdentity:
    """Exchange the code, verify the ID token and map the person to a role; SsoError otherwise."""
    metadata = discover(config, client)
    try:
        token = client.fetch_token(
            metadata.token_endpoint,
            auth=client.client_auth(metadata.token_endpoint_auth_method),
            grant_type="authorization_code",
            code=code,
            code_verifier=pending.code_verifier,
            timeout=HTTP_TIMEOUT_SECONDS,
        )
    except OAuthError as error:
        raise SsoError(
            f"The identity provider refused the sign-in ({error.error}: {error.description or 'no detail'}). "
            "Start again from the sign-in page.",
            reason=f"token endpoint refused: {error.error}",
            status=400,
        ) from error
    except requests.HTTPError as error:
        raise _provider_failure(f"its token endpoint answered HTTP {error.response.status_code}") from error
    except requests.RequestException as error:
        raise _provider_failure(
            f"its token endpoint could not be reached ({type(error).__name__})"
        ) from error
    except ValueError as error:
        raise _provider_failure("its token endpoint did not answer with JSON") from error
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise _rejected("the token response has no ID token")
    jwks = _provider_json(client, metadata.jwks_uri, "key set (JWKS)")
    claims = verify_id_token(
        id_token,
        config=config,
        jwks=jwks,
        algorithms=metadata.signing_algorithms,
        nonce=pending.nonce,
        now=now,
    )
    role_values = claim_values(claims.get(config.role_claim))
    name = user_name(claims)
    role = map_role(role_values, config.role_map)
    if role is None:
        shown = ", ".join(role_values) or "none"
        raise SsoError(
            f"{name} signed in at the identity provider, but none of their {config.role_claim!r} "
            f"values ({shown}) is mapped to a Mission Control role. Ask an administrator to add one "
            "to MC_OIDC_ROLE_MAP.",
            reason=f"no role mapped for {config.role_claim}: {shown}",
            status=403,
            actor=name,
        )
    return SsoIdentity(
        issuer=str(claims["iss"]), subject=str(claims["sub"]), name=name, role=role, role_values=role_values
    )


def _rejected(problem: str) -> SsoError:
    return SsoError(
        f"Single sign-on was refused: {problem}. Start again from the sign-in page.",
        reason=f"ID token rejected: {problem}",
    )


def verify_id_token(
    id_token: str,
    *,
    config: OidcSettings,
    jwks: dict[str, Any],
    algorithms: tuple[str, ...],
    nonce: str,
    now: int,
) -> dict[str, Any]:
    """The ID token's claims, once its signature, issuer, audience, expiry and nonce all check out."""
    try:
        decoded = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=list(algorithms))
    except BadSignatureError as error:
        raise _rejected("the ID token's signature does not match the provider's published keys") from error
    except InvalidKeyIdError as error:
        raise _rejected("the ID token is signed with a key the provider does not publish") from error
    except (JoseError, ValueError) as error:
        raise _rejected(f"the ID token could not be read ({error})") from error
    registry = jwt.JWTClaimsRegistry(
        now=now,
        leeway=CLOCK_SKEW_SECONDS,
        iss={"essential": True, "value": config.issuer},
        aud={"essential": True, "value": config.client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    claims = decoded.claims
    try:
        registry.validate(claims)
    except ExpiredTokenError as error:
        raise _rejected("the ID token has expired") from error
    except MissingClaimError as error:
        raise _rejected(f"the ID token has no {error.claim!r} claim") from error
    except InvalidClaimError as error:
        raise _rejected(
            _INVALID_CLAIM.get(error.claim, f"the ID token's {error.claim!r} claim is invalid")
        ) from error
    except JoseError as error:
        raise _rejected(f"the ID token's claims are invalid ({error})") from error
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != config.client_id:
        raise _rejected("the ID token names several audiences but was not issued to this application (azp)")
    return claims


_INVALID_CLAIM = {
    "iss": "the ID token was issued by another issuer",
    "aud": "the ID token was issued for another application (audience)",
    "nonce": "the ID token belongs to another sign-in (nonce mismatch: a replayed token?)",
    "iat": "the ID token's issue time is in the future",
}


def claim_values(value: object) -> tuple[str, ...]:
    """A role claim as strings: providers send a list of groups, or a single string."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(item for item in value if isinstance(item, str))
    return ()


def map_role(values: tuple[str, ...], role_map: tuple[tuple[str, str], ...]) -> str | None:
    """The highest role any value maps to; else the "*" role if configured; else None (refuse)."""
    matched = [role for value, role in role_map if value in values]
    if matched:
        return max(matched, key=ROLES.index)
    return next((role for value, role in role_map if value == "*"), None)


def user_name(claims: dict[str, Any]) -> str:
    """preferred_username, else an email the provider says it verified, fitted to the local user-name
    rules: a label only, never the identity (that is the issuer and subject)."""
    email = claims.get("email") if claims.get("email_verified") is True else None
    for candidate in (claims.get("preferred_username"), email):
        if not isinstance(candidate, str):
            continue
        ascii_name = unicodedata.normalize("NFKD", candidate).encode("ascii", "ignore").decode()
        name = _NAME_LEADING.sub("", _NAME_UNSAFE.sub("-", ascii_name.strip()))[:128]
        if name:
            return name
    raise SsoError(
        "The identity provider sent neither a usable preferred_username nor a verified email, "
        "so Mission Control cannot name this account.",
        reason="no usable preferred_username or email",
        status=403,
    )
