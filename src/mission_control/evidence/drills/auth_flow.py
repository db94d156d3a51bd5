"""`drill auth-flow`: sign a disposable user up, in and refreshed against the secondary region's pool, then
verify the tokens as a downstream service would: signature against the pool's JWKS, issuer, use, client,
expiry.

The secondary region's pool is the backup pool, or with native multi-Region replication the primary's
replica (`cognito_replication`, detected as the probes detect it). A replica cannot create users or
clients, so those are created in the primary and the drill signs in at the replica's regional endpoint
once replication has carried them there; its tokens must carry the pool's issuer (the multi-Region one
when the pool uses it). The drill brings its own app client (no secret, USER_PASSWORD_AUTH and refresh
allowed), because the team's clients rarely allow password sign-in; client and user are deleted whatever
happens. The JWKS is fetched from the Cognito endpoint the drill signs in at (AWS_ENDPOINT_URL when set).
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

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

from mission_control.evidence.drills.record import DrillFailed, DrillRecorder, Step
from mission_control.evidence.drills.registry import Scope, drill
from mission_control.verification.aws import AwsClients, AwsError, call
from mission_control.verification.collectors.cognito import (
    BACKUP_POOL,
    REPLICA,
    list_replicas,
    replication_of,
)
from mission_control.verification.config import EnvironmentConfig

DRILL_PREFIX = "mc-drill-"
HTTP_TIMEOUT_SECONDS = 10
CLOCK_SKEW_SECONDS = 60
REPLICATION_WAIT_SECONDS = 60  # how long a new user may take to reach the replica ("near real-time")
AUDIENCE_CLAIM = {"id": "aud", "access": "client_id"}  # where each Cognito token names its app client


@drill(
    "auth-flow",
    item_id="cognito.auth-flow-test",
    writes=True,
    actions=(
        "cognito-idp:CreateUserPoolClient",
        "cognito-idp:DeleteUserPoolClient",
        "cognito-idp:SignUp",
        "cognito-idp:AdminConfirmSignUp",
        "cognito-idp:InitiateAuth",
        "cognito-idp:AdminDeleteUser",
        "cognito-idp:ListUserPoolReplicas",
        "cognito-idp:DescribeUserPool",
    ),
    # A user pool's ARN holds its id, not a name to scope by: for one environment, the configured pool(s).
    scopes=(
        Scope(
            (
                "cognito-idp:CreateUserPoolClient",
                "cognito-idp:DeleteUserPoolClient",
                "cognito-idp:AdminConfirmSignUp",
                "cognito-idp:AdminDeleteUser",
            ),
            pattern=("arn:aws:cognito-idp:*:*:userpool/*",),
            resources=lambda config, _: _written_pools(config),
        ),
    ),
)
def auth_flow_drill(recorder: DrillRecorder, config: EnvironmentConfig, clients: AwsClients) -> None:
    with recorder.step("choose the pool") as step:
        pool, write_region, issuer = _target(config, clients)
        step.detail = f"pool {pool}: users created in {write_region}, signed in at {config.secondary_region}"
    cognito = clients.get("cognito-idp", write_region)
    sign_in = clients.get("cognito-idp", config.secondary_region)

    def cognito_call(operation: str, action: str, resource: str, client: Any = cognito, **params: Any) -> Any:
        result = call(
            client, operation, action=f"cognito-idp:{action}", resource=resource,
            region=client.meta.region_name, **params,
        )  # fmt: skip
        if isinstance(result, AwsError):
            raise DrillFailed(f"{result}: {result.message}" if result.message else str(result))
        return result

    with _timed(recorder, "create a disposable app client", "app_client_seconds"):
        client_id = cognito_call(
            "create_user_pool_client",
            "CreateUserPoolClient",
            pool,
            UserPoolId=pool,
            ClientName=f"{DRILL_PREFIX}{secrets.token_hex(4)}",
            GenerateSecret=False,
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
    recorder.on_cleanup(
        f"delete app client {client_id}",
        partial(
            _delete,
            cognito,
            "delete_user_pool_client",
            "DeleteUserPoolClient",
            client_id,
            write_region,
            UserPoolId=pool,
            ClientId=client_id,
        ),
    )
    username = f"{DRILL_PREFIX}{secrets.token_hex(4)}@example.invalid"
    password = secrets.token_urlsafe(24) + "Aa1!"  # meets any password policy; never shown
    # Registered before SignUp: a sign-up interrupted after Cognito created the user still removes it.
    recorder.on_cleanup(
        f"delete user {username}",
        partial(
            _delete,
            cognito,
            "admin_delete_user",
            "AdminDeleteUser",
            username,
            write_region,
            UserPoolId=pool,
            Username=username,
        ),
    )
    with _timed(recorder, "sign up", "sign_up_seconds"):
        cognito_call(
            "sign_up",
            "SignUp",
            username,
            ClientId=client_id,
            Username=username,
            Password=password,
            UserAttributes=[{"Name": "email", "Value": username}],
        )
    with _timed(recorder, "confirm", "confirm_seconds"):
        cognito_call(
            "admin_confirm_sign_up", "AdminConfirmSignUp", username, UserPoolId=pool, Username=username
        )
    with _timed(recorder, "log in", "login_seconds"):
        login = _tokens(
            _until_replicated(
                lambda: call(
                    sign_in,
                    "initiate_auth",
                    action="cognito-idp:InitiateAuth",
                    resource=username,
                    region=config.secondary_region,
                    ClientId=client_id,
                    AuthFlow="USER_PASSWORD_AUTH",
                    AuthParameters={"USERNAME": username, "PASSWORD": password},
                ),
                waiting=write_region != config.secondary_region,
            ),
            "log in",
        )
    with _timed(recorder, "refresh", "refresh_seconds"):
        refreshed = _tokens(
            cognito_call(
                "initiate_auth",
                "InitiateAuth",
                username,
                client=sign_in,
                ClientId=client_id,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": login["RefreshToken"]},
            ),
            "refresh",
        )
    jwks_url = f"{sign_in.meta.endpoint_url.rstrip('/')}/{pool}/.well-known/jwks.json"
    with _timed(recorder, "fetch the pool's JWKS", "jwks_seconds") as step:
        jwks = fetch_jwks(jwks_url)
        step.detail = jwks_url
    recorder.measure("issuer", issuer)
    with _timed(recorder, "verify the tokens", "verify_seconds") as step:
        now = int(time.time())
        for stage, tokens in (("log in", login), ("refresh", refreshed)):
            for use in ("id", "access"):
                verify_token(
                    tokens[f"{use.capitalize()}Token"],
                    jwks=jwks,
                    issuer=issuer,
                    client_id=client_id,
                    token_use=use,
                    now=now,
                    what=f"the {use} token from {stage}",
                )
        step.detail = f"ID and access tokens from log in and refresh: signed by the pool, issued by {issuer}"


def _written_pools(config: EnvironmentConfig) -> tuple[str, ...]:
    """The pools the drill creates its client and user in: the backup pool, or with a replica the
    primary pool (replicas take no writes); both when `cognito_replication` is left to detection."""
    pools = []
    if config.cognito_replication != BACKUP_POOL and config.cognito_primary_pool:
        pools.append(f"arn:aws:cognito-idp:{config.primary_region}:*:userpool/{config.cognito_primary_pool}")
    if config.cognito_replication != REPLICA and config.cognito_backup_pool:
        pools.append(f"arn:aws:cognito-idp:{config.secondary_region}:*:userpool/{config.cognito_backup_pool}")
    return tuple(pools)


def _target(config: EnvironmentConfig, clients: AwsClients) -> tuple[str, str, str]:
    """(pool id, region users are created in, issuer its tokens carry) for the secondary region's pool."""
    primary = config.cognito_primary_pool
    replicas = list_replicas(clients, primary, config.primary_region) if primary else ()
    mode = replication_of(config, replicas).mode if primary else None
    if mode == REPLICA and primary:
        described = call(
            clients.get("cognito-idp", config.primary_region), "describe_user_pool",
            action="cognito-idp:DescribeUserPool", resource=f"user pool {primary}", region=config.primary_region,
            UserPoolId=primary,
        )  # fmt: skip
        if isinstance(described, AwsError):
            raise DrillFailed(str(described))
        if described["UserPool"].get("IssuerConfiguration", {}).get("Type") == "UPDATED":
            return (
                primary,
                config.primary_region,
                f"https://issuer-cognito-idp.{config.primary_region}.amazonaws.com/{primary}",
            )
        return (
            primary,
            config.primary_region,
            f"https://cognito-idp.{config.secondary_region}.amazonaws.com/{primary}",
        )
    if isinstance(replicas, AwsError) and not config.cognito_backup_pool:
        raise DrillFailed(f"cannot tell whether user pool {primary} is replicated: {replicas}")
    if not config.cognito_backup_pool:
        raise DrillFailed("not configured: set cognito_backup_pool (or give the primary pool a replica)")
    pool = config.cognito_backup_pool
    return (
        pool,
        config.secondary_region,
        f"https://cognito-idp.{config.secondary_region}.amazonaws.com/{pool}",
    )


def _until_replicated(sign_in: Callable[[], Any], *, waiting: bool) -> dict[str, Any]:
    """Sign in, retrying while the user has not reached the replica yet (replication is near real-time)."""
    deadline = time.monotonic() + (REPLICATION_WAIT_SECONDS if waiting else 0)
    delay = 0.5
    while True:
        result = sign_in()
        if not isinstance(result, AwsError):
            return result
        unknown = result.code in (
            "UserNotFoundException",
            "ResourceNotFoundException",
            "NotAuthorizedException",
        )
        if not (waiting and unknown) or time.monotonic() + delay > deadline:
            raise DrillFailed(f"{result}: {result.message}" if result.message else str(result))
        time.sleep(delay)  # waiting on AWS's replication, not synchronising with our own code
        delay = min(delay * 2, 5)


@contextmanager
def _timed(recorder: DrillRecorder, name: str, measurement: str) -> Iterator[Step]:
    """A recorder step whose duration is also kept as a measurement, failed or not."""
    try:
        with recorder.step(name) as step:
            yield step
    finally:
        recorder.measure(measurement, step.seconds)


def _tokens(response: dict[str, Any], stage: str) -> dict[str, Any]:
    if "AuthenticationResult" not in response:
        challenge = response.get("ChallengeName", "no tokens")
        raise DrillFailed(f"{stage} answered with the challenge {challenge}, which the drill cannot meet")
    return response["AuthenticationResult"]


def _delete(client: Any, operation: str, action: str, resource: str, region: str, **params: Any) -> None:
    """Delete one drill resource; one that was never created (or is already gone) is fine."""
    result = call(
        client, operation, action=f"cognito-idp:{action}", resource=resource, region=region, **params
    )
    if isinstance(result, AwsError) and result.code not in (
        "UserNotFoundException",
        "ResourceNotFoundException",
    ):
        raise DrillFailed(f"{result}: delete {resource} by hand")


def fetch_jwks(url: str) -> dict[str, Any]:
    """The pool's public keys; DrillFailed naming the URL when they cannot be read."""
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_SECONDS) as response:
            document = json.load(response)
    except urllib.error.HTTPError as error:
        raise DrillFailed(f"the JWKS at {url} answered HTTP {error.code}") from error
    except (OSError, ValueError) as error:
        raise DrillFailed(f"the JWKS at {url} could not be read ({error})") from error
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise DrillFailed(f"the JWKS at {url} has no list of keys")
    return document


def verify_token(
    token: str,
    *,
    jwks: dict[str, Any],
    issuer: str,
    client_id: str,
    token_use: str,
    now: int,
    what: str = "the token",
) -> dict[str, Any]:
    """The claims of a Cognito token whose RS256 signature matches `jwks` and whose issuer, use, app
    client and expiry check out; DrillFailed saying which check did not hold."""
    try:
        decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["RS256"])  # type: ignore[arg-type]
    except BadSignatureError as error:
        raise DrillFailed(f"{what}: its signature does not match the pool's JWKS") from error
    except InvalidKeyIdError as error:
        raise DrillFailed(f"{what}: signed with a key the pool's JWKS does not publish") from error
    except (JoseError, ValueError) as error:
        raise DrillFailed(f"{what}: cannot be read ({error})") from error
    expected = {"iss": issuer, "token_use": token_use, AUDIENCE_CLAIM[token_use]: client_id}
    registry = jwt.JWTClaimsRegistry(
        now=now,
        leeway=CLOCK_SKEW_SECONDS,
        exp={"essential": True},
        **{claim: {"essential": True, "value": value} for claim, value in expected.items()},  # type: ignore[arg-type]
    )
    try:
        registry.validate(decoded.claims)
    except ExpiredTokenError as error:
        raise DrillFailed(f"{what}: expired") from error
    except MissingClaimError as error:
        raise DrillFailed(f"{what}: has no {error.claim!r} claim") from error
    except InvalidClaimError as error:
        found = decoded.claims.get(error.claim)
        wanted = f", expected {expected[error.claim]!r}" if error.claim in expected else ""
        raise DrillFailed(f"{what}: claim {error.claim!r} is {found!r}{wanted}") from error
    except JoseError as error:
        raise DrillFailed(f"{what}: invalid claims ({error})") from error
    return decoded.claims
