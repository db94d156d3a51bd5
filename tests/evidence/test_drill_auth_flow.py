"""`drill auth-flow` on moto's HTTP server, with real JWT verification against the JWKS it serves."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from typer.testing import CliRunner

from mission_control.cli import app
from mission_control.demo.estate import demo_config_toml
from mission_control.demo.server import start_moto_server
from mission_control.evidence.drills.auth_flow import DRILL_PREFIX, auth_flow_drill, fetch_jwks, verify_token
from mission_control.evidence.drills.record import DrillFailed, DrillRecord, DrillRecorder, Outcome
from mission_control.verification.aws import AwsClients
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.iam import drills_policy
from tests.conftest import DemoEstate
from tests.evidence.iam_calls import ACCOUNT, Call, allows, recording_session, refused

NOW = 1_800_000_000
ISSUER = "https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_backup"
KEY = RSAKey.generate_key(2048, parameters={"kid": "pool-key"})
JWKS = {"keys": [KEY.as_dict(private=False)]}


def backup_pool_client(estate: DemoEstate) -> Any:
    return boto3.client(
        "cognito-idp",
        region_name=estate.config.secondary_region,
        endpoint_url=estate.server.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def drill_leftovers(estate: DemoEstate) -> list[str]:
    """Every user and app client of the backup pool that a drill created."""
    cognito = backup_pool_client(estate)
    pool = estate.config.cognito_backup_pool
    users = [
        attribute["Value"]
        for user in cognito.list_users(UserPoolId=pool)["Users"]
        for attribute in user["Attributes"]
        if attribute["Name"] == "email"
    ]
    clients = [c["ClientName"] for c in cognito.list_user_pool_clients(UserPoolId=pool)["UserPoolClients"]]
    return [name for name in users + clients if name.startswith(DRILL_PREFIX)]


@pytest.fixture
def estate(demo_aws: DemoEstate) -> Iterator[DemoEstate]:
    yield demo_aws
    assert drill_leftovers(demo_aws) == []


def run(config: EnvironmentConfig, session: boto3.Session | None = None) -> DrillRecord:
    recorder = DrillRecorder("auth-flow", config.name, "cognito.auth-flow-test")
    clients = AwsClients(session)
    return recorder.run(lambda recording: auth_flow_drill(recording, config, clients))


def hooked_session(event: str, hook: Callable[..., None]) -> boto3.Session:
    session = boto3.Session()
    session.events.register(event, hook)
    return session


def test_the_flow_signs_up_logs_in_refreshes_and_verifies_real_tokens(estate: DemoEstate) -> None:
    record = run(estate.config)

    assert record.outcome is Outcome.PASSED, [s.to_dict() for s in record.steps]
    assert [step.name for step in record.steps][:8] == [
        "choose the pool",
        "create a disposable app client",
        "sign up",
        "confirm",
        "log in",
        "refresh",
        "fetch the pool's JWKS",
        "verify the tokens",
    ]
    pool = estate.config.cognito_backup_pool
    assert record.steps[6].detail == f"{estate.server.endpoint_url}/{pool}/.well-known/jwks.json"
    measured = record.measurements
    assert measured["issuer"] == f"https://cognito-idp.ap-southeast-1.amazonaws.com/{pool}"
    for name in ("app_client", "sign_up", "confirm", "login", "refresh", "jwks", "verify"):
        assert measured[f"{name}_seconds"] >= 0
    cleanups = [step.name for step in record.steps[8:]]
    assert cleanups[0].startswith(f"clean up: delete user {DRILL_PREFIX}")  # last in, first out
    assert cleanups[1].startswith("clean up: delete app client ")
    assert all(step.ok for step in record.steps)


def test_the_user_and_app_client_are_deleted_when_a_later_step_fails(estate: DemoEstate) -> None:
    def fail_refresh(params: dict[str, Any], **_: Any) -> None:
        if params.get("AuthFlow") == "REFRESH_TOKEN_AUTH":
            raise RuntimeError("connection reset")

    record = run(
        estate.config, hooked_session("before-parameter-build.cognito-idp.InitiateAuth", fail_refresh)
    )

    assert record.outcome is Outcome.FAILED
    failed = next(step for step in record.steps if not step.ok)
    assert (failed.name, failed.detail) == ("refresh", "RuntimeError: connection reset")
    assert [step.ok for step in record.steps if step.name.startswith("clean up:")] == [True, True]
    # the `estate` fixture then checks that no drill user or app client is left in the pool


def test_an_interrupted_sign_up_still_deletes_the_user(estate: DemoEstate) -> None:
    def interrupt(**_: Any) -> None:
        raise KeyboardInterrupt

    record = run(estate.config, hooked_session("after-call.cognito-idp.SignUp", interrupt))

    assert record.outcome is Outcome.ABORTED
    assert drill_leftovers(estate) == []


def test_without_a_backup_pool_nothing_is_created(estate: DemoEstate) -> None:
    record = run(dataclasses.replace(estate.config, cognito_backup_pool=None))

    assert record.outcome is Outcome.FAILED
    assert [(s.name, s.detail) for s in record.steps] == [
        ("choose the pool", "not configured: set cognito_backup_pool (or give the primary pool a replica)")
    ]


@pytest.mark.parametrize("scoped_to", ["any environment", "this environment"])
def test_the_drills_policy_allows_every_call_the_drill_makes_and_writes_only_to_its_pool(
    estate: DemoEstate, scoped_to: str
) -> None:
    calls: list[Call] = []

    record = run(estate.config, recording_session(calls))
    policy = drills_policy(estate.config if scoped_to == "this environment" else None)

    assert record.outcome is Outcome.PASSED
    assert len({call.action for call in calls}) == 7  # the six of the flow, and ListUserPoolReplicas
    assert list(refused(policy, calls)) == []
    writes = {"cognito-idp:CreateUserPoolClient", "cognito-idp:AdminDeleteUser"}
    granting = [statement for statement in policy["Statement"] if writes & set(statement["Action"])]
    assert [statement["Resource"] for statement in granting] == [
        "arn:aws:cognito-idp:*:*:userpool/*"
        if scoped_to == "any environment"
        else [  # left to detection: the backup pool, or the primary when it has a replica
            f"arn:aws:cognito-idp:ap-southeast-1:*:userpool/{estate.config.cognito_backup_pool}",
            f"arn:aws:cognito-idp:us-east-1:*:userpool/{estate.config.cognito_primary_pool}",
        ]
    ]


@pytest.mark.parametrize(
    ("replication", "pools"),
    [("backup-pool", ["backup"]), ("replica", ["primary"])],
)
def test_for_one_environment_the_drill_may_write_only_to_the_pool_it_signs_users_up_in(
    estate: DemoEstate, replication: str, pools: list[str]
) -> None:
    config = dataclasses.replace(estate.config, cognito_replication=replication)
    arns = {
        "primary": f"arn:aws:cognito-idp:us-east-1:{ACCOUNT}:userpool/{config.cognito_primary_pool}",
        "backup": f"arn:aws:cognito-idp:ap-southeast-1:{ACCOUNT}:userpool/{config.cognito_backup_pool}",
    }
    policy = drills_policy(config)

    for pool, arn in arns.items():
        assert allows(policy, "cognito-idp:AdminDeleteUser", arn) is (pool in pools), pool
    assert not allows(
        policy, "cognito-idp:AdminDeleteUser", f"arn:aws:cognito-idp:us-east-1:{ACCOUNT}:userpool/x"
    )
    unconfigured = dataclasses.replace(config, cognito_primary_pool=None, cognito_backup_pool=None)
    assert not any(
        "cognito-idp:AdminDeleteUser" in statement["Action"]
        for statement in drills_policy(unconfigured)["Statement"]
    )


def test_an_unreachable_jwks_is_named(estate: DemoEstate) -> None:
    url = f"{estate.server.endpoint_url}/no-such-route"
    with pytest.raises(DrillFailed, match=f"the JWKS at {url} answered HTTP 404"):
        fetch_jwks(url)


# verify_token, unit level: tokens signed here with a key published in JWKS


def token(use: str = "id", key: RSAKey = KEY, **changes: Any) -> str:
    audience = {"aud": "client-1"} if use == "id" else {"client_id": "client-1"}
    claims = {"iss": ISSUER, "sub": "duck", "token_use": use, "iat": NOW, "exp": NOW + 3600, **audience}
    claims = {name: value for name, value in (claims | changes).items() if value is not None}
    return jwt.encode({"alg": "RS256", "kid": "pool-key"}, claims, key)


def verify(value: str, use: str = "id") -> dict[str, Any]:
    return verify_token(value, jwks=JWKS, issuer=ISSUER, client_id="client-1", token_use=use, now=NOW)


@pytest.mark.parametrize("use", ["id", "access"])
def test_a_token_signed_by_the_pool_and_issued_to_the_client_verifies(use: str) -> None:
    assert verify(token(use), use)["sub"] == "duck"


def tampered(value: str) -> str:
    header, payload, signature = value.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize(
    ("value", "use", "message"),
    [
        (tampered(token()), "id", "signature does not match the pool's JWKS"),
        (token(key=RSAKey.generate_key(2048)), "id", "signature does not match the pool's JWKS"),
        (token(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_primary"), "id", "claim 'iss'"),
        (token(aud="another-client"), "id", "claim 'aud'"),
        (token("access", client_id="another-client"), "access", "claim 'client_id'"),
        (token("access", aud="client-1"), "id", "claim 'token_use' is 'access', expected 'id'"),
        (token(aud=None), "id", "has no 'aud' claim"),
        (token(exp=NOW - 3600), "id", "expired"),
        ("not.a.token", "id", "cannot be read"),
    ],
    ids=[
        "tampered",
        "foreign-key",
        "issuer",
        "audience",
        "client",
        "use",
        "no-audience",
        "expired",
        "garbage",
    ],
)
def test_a_token_failing_any_check_is_rejected_naming_the_check(value: str, use: str, message: str) -> None:
    with pytest.raises(DrillFailed, match=message):
        verify(value, use)


def test_a_token_whose_key_is_not_published_is_rejected() -> None:
    other = RSAKey.generate_key(2048, parameters={"kid": "rotated-away"})
    value = jwt.encode({"alg": "RS256", "kid": "rotated-away"}, {"iss": ISSUER}, other)
    with pytest.raises(DrillFailed, match="key the pool's JWKS does not publish"):
        verify(value)


@pytest.fixture
def config_file(estate: DemoEstate, tmp_path: Path) -> Path:
    path = tmp_path / "mission-control.toml"
    path.write_text(demo_config_toml(estate.config), encoding="utf-8")
    return path


def test_the_cli_refuses_to_run_without_allow_writes(config_file: Path) -> None:
    result = CliRunner().invoke(app, ["drill", "auth-flow", "--config", str(config_file)])

    assert result.exit_code == 2
    assert "--allow-writes" in result.stderr


def test_the_cli_runs_the_flow_and_prints_json(config_file: Path) -> None:
    result = CliRunner().invoke(
        app, ["drill", "auth-flow", "--config", str(config_file), "--allow-writes", "--format", "json"]
    )

    assert result.exit_code == 0, result.stdout
    record = json.loads(result.stdout)
    assert (record["drill"], record["item_id"], record["outcome"]) == (
        "auth-flow",
        "cognito.auth-flow-test",
        "passed",
    )
    assert {"sign_up_seconds", "login_seconds", "refresh_seconds", "issuer"} <= set(record["measurements"])


@pytest.fixture
def replicated_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[EnvironmentConfig, Any]]:
    """A moto server whose primary pool (multi-Region issuer) has an ACTIVE replica in ap-southeast-1."""
    with start_moto_server() as server:
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint_url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        cognito = boto3.client("cognito-idp", region_name="us-east-1")
        pool = cognito.create_user_pool(
            PoolName="spaceduck-users", UsernameAttributes=["email"], IssuerConfiguration={"Type": "UPDATED"}
        )["UserPool"]["Id"]
        cognito.create_user_pool_replica(UserPoolId=pool, RegionName="ap-southeast-1")
        cognito.update_user_pool_replica(UserPoolId=pool, RegionName="ap-southeast-1", Status="ACTIVE")
        config = EnvironmentConfig(
            name="production",
            primary_region="us-east-1",
            secondary_region="ap-southeast-1",
            cognito_primary_pool=pool,
        )
        yield config, cognito


def test_with_a_replica_users_are_created_in_the_primary_and_sign_in_at_the_replica(
    replicated_pool: tuple[EnvironmentConfig, Any],
) -> None:
    config, cognito = replicated_pool
    signed_in: list[str] = []
    session = hooked_session(
        "before-call.cognito-idp.InitiateAuth",
        lambda context, **_: signed_in.append(context["client_region"]),
    )
    record = run(config, session)

    assert record.outcome is Outcome.PASSED, [s.to_dict() for s in record.steps]
    pool = config.cognito_primary_pool
    assert record.steps[0].detail == f"pool {pool}: users created in us-east-1, signed in at ap-southeast-1"
    assert signed_in == ["ap-southeast-1", "ap-southeast-1"]
    assert record.measurements["issuer"] == f"https://issuer-cognito-idp.us-east-1.amazonaws.com/{pool}"
    leftovers = (
        cognito.list_users(UserPoolId=pool)["Users"]
        + cognito.list_user_pool_clients(UserPoolId=pool)["UserPoolClients"]
    )
    assert leftovers == []
