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
from mission_control.evidence.drills.auth_flow import DRILL_PREFIX, auth_flow_drill, fetch_jwks, verify_token
from mission_control.evidence.drills.record import DrillFailed, DrillRecord, DrillRecorder, Outcome
from mission_control.verification.aws import AwsClients
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.iam import drills_policy
from tests.conftest import DemoEstate

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
    assert [step.name for step in record.steps][:7] == [
        "create a disposable app client",
        "sign up",
        "confirm",
        "log in",
        "refresh",
        "fetch the pool's JWKS",
        "verify the tokens",
    ]
    pool = estate.config.cognito_backup_pool
    assert record.steps[5].detail == f"{estate.server.endpoint_url}/{pool}/.well-known/jwks.json"
    measured = record.measurements
    assert measured["issuer"] == f"https://cognito-idp.ap-southeast-1.amazonaws.com/{pool}"
    for name in ("app_client", "sign_up", "confirm", "login", "refresh", "jwks", "verify"):
        assert measured[f"{name}_seconds"] >= 0
    cleanups = [step.name for step in record.steps[7:]]
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
        ("check the configuration", "not configured: set cognito_backup_pool")
    ]


def test_every_operation_the_drill_performs_is_in_the_drills_policy(estate: DemoEstate) -> None:
    performed: set[str] = set()

    def record_operation(model: Any, **_: Any) -> None:
        performed.add(f"{model.service_model.signing_name}:{model.name}")

    record = run(estate.config, hooked_session("before-call", record_operation))

    assert record.outcome is Outcome.PASSED
    assert len(performed) == 6
    assert performed - set(drills_policy()["Statement"][0]["Action"]) == set()


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
