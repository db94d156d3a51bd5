"""Cognito probes against moto's user pools and app clients (real shapes).

moto spends up to a second creating each user pool, so the module seeds one estate; variants of the
backup pool are the collected snapshot with one setting changed, which the pure probes then judge.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mission_control.verification.aws import AwsClients
from mission_control.verification.collectors.cognito import CognitoSnapshot, collect_cognito
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.probes.cognito import backup_pool, parity
from mission_control.verification.results import ProbeResult, Status
from tests.verification.estates import ACCOUNT, CONFIG, PRIMARY, SECONDARY
from tests.verification.isolation import isolated_from_real_aws
from tests.verification.model_stub import ModelStub

SCHEMA = [
    {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True},
    {"Name": "tenant", "AttributeDataType": "String", "Mutable": False},
]
WEB_CLIENT = {
    "ClientName": "web",
    "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    "AllowedOAuthFlows": ["code"],
    "AllowedOAuthScopes": ["openid", "email"],
    "AllowedOAuthFlowsUserPoolClient": True,
    "CallbackURLs": ["https://app.spaceduck.example/callback"],
    "SupportedIdentityProviders": ["COGNITO"],
    "AccessTokenValidity": 60,
    "IdTokenValidity": 60,
    "RefreshTokenValidity": 30,
    "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"},
}
MOBILE_CLIENT = {"ClientName": "mobile", "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH"]}


@dataclass(frozen=True)
class Estate:
    """moto's pools, kept for the module: the matching pair, a copy left in the primary region, and a
    pool with more app clients than one page lists."""

    session: boto3.Session
    config: EnvironmentConfig
    stray_backup: str
    crowded: str


def create_pool(client: Any, region: str, app_clients: tuple[dict[str, Any], ...]) -> str:
    pool_id = client.create_user_pool(
        PoolName="spaceduck",
        Schema=SCHEMA,
        Policies={"PasswordPolicy": {"MinimumLength": 12, "RequireSymbols": True}},
        LambdaConfig={"PreSignUp": f"arn:aws:lambda:{region}:{ACCOUNT}:function:beak-pre-signup"},
        MfaConfiguration="OFF",
    )["UserPool"]["Id"]
    for app_client in app_clients:
        client.create_user_pool_client(UserPoolId=pool_id, **app_client)
    return pool_id


@pytest.fixture(scope="module")
def estate() -> Iterator[Estate]:
    with isolated_from_real_aws(), mock_aws():
        session = boto3.Session(region_name=PRIMARY)
        primary = session.client("cognito-idp", region_name=PRIMARY)
        backup = session.client("cognito-idp", region_name=SECONDARY)
        apps = (WEB_CLIENT, MOBILE_CLIENT)
        config = replace(
            CONFIG,
            cognito_primary_pool=create_pool(primary, PRIMARY, apps),
            cognito_backup_pool=create_pool(backup, SECONDARY, apps),
        )
        partners = tuple({"ClientName": f"partner-{n:02d}"} for n in range(65))
        yield Estate(
            session, config, create_pool(primary, PRIMARY, apps), create_pool(primary, PRIMARY, partners)
        )


@pytest.fixture(scope="module")
def ready(estate: Estate) -> CognitoSnapshot:
    """The matching pools as collected; tests derive variants from it and never mutate it."""
    return collect_cognito(estate.config, AwsClients(estate.session))


def judge(config: EnvironmentConfig, snapshot: CognitoSnapshot) -> dict[str, ProbeResult]:
    return {
        "cognito.backup-pool": backup_pool(config, cognito=snapshot),
        "cognito.parity": parity(config, cognito=snapshot),
    }


def verify(estate: Estate, config: EnvironmentConfig) -> dict[str, ProbeResult]:
    return judge(config, collect_cognito(config, AwsClients(estate.session)))


def with_backup(
    ready: CognitoSnapshot, *, clients: tuple[dict[str, Any], ...] | None = None, **settings: Any
) -> CognitoSnapshot:
    """The ready snapshot whose backup pool has `settings` (DescribeUserPool keys) and app `clients`."""
    backup = ready.backup
    assert backup is not None and isinstance(backup.pool, dict)
    changed = replace(
        backup, pool={**backup.pool, **settings}, clients=backup.clients if clients is None else clients
    )
    return replace(ready, backup=changed)


def backup_schema(ready: CognitoSnapshot) -> list[dict[str, Any]]:
    assert ready.backup is not None and isinstance(ready.backup.pool, dict)
    return ready.backup.pool["SchemaAttributes"]


def backup_client(ready: CognitoSnapshot, name: str, **changes: Any) -> dict[str, Any]:
    assert ready.backup is not None and isinstance(ready.backup.clients, tuple)
    return {**next(c for c in ready.backup.clients if c["ClientName"] == name), **changes}


def test_matching_pools_verify_backup_pool_and_parity_though_triggers_name_their_region(
    estate: Estate, ready: CognitoSnapshot
) -> None:
    results = judge(estate.config, ready)
    assert {item: r.status for item, r in results.items()} == dict.fromkeys(results, Status.VERIFIED)
    assert results["cognito.parity"].facts["diff"] == []
    assert results["cognito.backup-pool"].summary == (
        f"backup pool {estate.config.cognito_backup_pool} in {SECONDARY} has the primary's "
        f"{len(backup_schema(ready))} attributes and 2 app clients"
    )


@pytest.mark.parametrize("key", ["cognito_primary_pool", "cognito_backup_pool"])
def test_both_probes_fail_naming_a_missing_pool_key(estate: Estate, key: str) -> None:
    for result in verify(estate, replace(estate.config, **{key: None})).values():
        assert (result.status, result.summary) == (
            Status.FAILING,
            f"not configured: set {key} in [environments.production]",
        )


def test_both_probes_fail_when_the_backup_pool_is_not_in_the_secondary_region(estate: Estate) -> None:
    config = replace(estate.config, cognito_backup_pool=estate.stray_backup)
    for result in verify(estate, config).values():
        assert (result.status, result.summary) == (
            Status.FAILING,
            f"backup user pool {estate.stray_backup} not found in {SECONDARY}",
        )


def test_both_probes_fail_when_the_primary_pool_does_not_exist(estate: Estate) -> None:
    config = replace(estate.config, cognito_primary_pool=f"{PRIMARY}_gone")
    for result in verify(estate, config).values():
        assert (result.status, result.summary) == (
            Status.FAILING,
            f"primary user pool {PRIMARY}_gone not found in {PRIMARY}",
        )


def test_access_denied_on_the_backup_pool_is_an_error_naming_action_pool_and_region(estate: Estate) -> None:
    clients = AwsClients(estate.session)
    backup_id = str(estate.config.cognito_backup_pool)
    denied = ModelStub(clients.get("cognito-idp", SECONDARY))
    denied.add_error("DescribeUserPool", {"UserPoolId": backup_id}, "AccessDeniedException", 403)
    for result in judge(estate.config, collect_cognito(estate.config, clients)).values():
        assert (result.status, result.summary) == (
            Status.ERROR,
            f"AccessDeniedException on cognito-idp:DescribeUserPool for user pool {backup_id} in {SECONDARY}",
        )


def test_collector_describes_every_app_client_across_pages(estate: Estate) -> None:
    config = replace(estate.config, cognito_primary_pool=estate.crowded)
    snapshot = collect_cognito(config, AwsClients(estate.session))
    assert snapshot.primary is not None and isinstance(snapshot.primary.clients, tuple)
    names = sorted(client["ClientName"] for client in snapshot.primary.clients)
    assert names == [f"partner-{n:02d}" for n in range(65)]


# --- cognito.backup-pool -----------------------------------------------------------------------------


def test_backup_pool_fails_naming_an_attribute_the_backup_lacks(
    estate: Estate, ready: CognitoSnapshot
) -> None:
    schema = [a for a in backup_schema(ready) if a["Name"] != "custom:tenant"]
    result = judge(estate.config, with_backup(ready, SchemaAttributes=schema))["cognito.backup-pool"]
    assert (result.status, result.summary) == (Status.FAILING, "backup pool lacks attributes custom:tenant")


def test_backup_pool_fails_when_an_attribute_differs_in_type_or_flags(
    estate: Estate, ready: CognitoSnapshot
) -> None:
    schema = [
        {**a, "AttributeDataType": "Number", "Mutable": True} if a["Name"] == "custom:tenant" else a
        for a in backup_schema(ready)
    ]
    result = judge(estate.config, with_backup(ready, SchemaAttributes=schema))["cognito.backup-pool"]
    assert (result.status, result.summary) == (
        Status.FAILING,
        "attribute custom:tenant is String, optional, immutable in the primary "
        "but Number, optional, mutable in the backup",
    )


def test_backup_pool_fails_naming_an_app_client_the_backup_lacks(
    estate: Estate, ready: CognitoSnapshot
) -> None:
    result = judge(estate.config, with_backup(ready, clients=(backup_client(ready, "web"),)))
    backup = result["cognito.backup-pool"]
    assert (backup.status, backup.summary) == (Status.FAILING, "backup pool lacks app clients mobile")


def test_backup_pool_tolerates_extras_in_the_backup_which_parity_reports(
    estate: Estate, ready: CognitoSnapshot
) -> None:
    assert ready.backup is not None and isinstance(ready.backup.clients, tuple)
    extra = (*ready.backup.clients, {**backup_client(ready, "mobile"), "ClientName": "dr-admin"})
    results = judge(estate.config, with_backup(ready, clients=extra))
    assert results["cognito.backup-pool"].status is Status.VERIFIED
    assert results["cognito.parity"].facts["diff"] == [
        {"field": "app clients", "primary": ["mobile", "web"], "backup": ["dr-admin", "mobile", "web"]}
    ]


# --- cognito.parity ----------------------------------------------------------------------------------

PLAN = {"Name": "custom:plan", "AttributeDataType": "String", "Mutable": True, "Required": False}


@pytest.mark.parametrize(
    ("settings", "field", "primary_value", "backup_value"),
    [
        (
            {"LambdaConfig": {"PreSignUp": f"arn:aws:lambda:{SECONDARY}:{ACCOUNT}:function:beak-pre-signup-v2"}},
            "trigger PreSignUp",
            "beak-pre-signup",
            "beak-pre-signup-v2",
        ),
        ({"LambdaConfig": {}}, "trigger PreSignUp", "beak-pre-signup", None),
        ({"Policies": {"PasswordPolicy": {"MinimumLength": 8, "RequireSymbols": True}}}, "password policy MinimumLength", 12, 8),
        ({"MfaConfiguration": "OPTIONAL"}, "MfaConfiguration", "OFF", "OPTIONAL"),
    ],
    ids=["trigger-function", "trigger-missing", "password-policy", "mfa"],
)  # fmt: skip
def test_parity_reports_each_pool_setting_that_differs(
    estate: Estate,
    ready: CognitoSnapshot,
    settings: dict[str, Any],
    field: str,
    primary_value: Any,
    backup_value: Any,
) -> None:
    result = judge(estate.config, with_backup(ready, **settings))["cognito.parity"]
    assert result.status is Status.FAILING
    assert result.facts["diff"] == [{"field": field, "primary": primary_value, "backup": backup_value}]
    assert result.summary == (
        f"backup pool {estate.config.cognito_backup_pool} differs from {estate.config.cognito_primary_pool} "
        f"in 1 setting: {field}"
    )


def test_parity_reports_an_attribute_only_the_backup_has(estate: Estate, ready: CognitoSnapshot) -> None:
    snapshot = with_backup(ready, SchemaAttributes=[*backup_schema(ready), PLAN])
    result = judge(estate.config, snapshot)["cognito.parity"]
    assert result.facts["diff"] == [
        {
            "field": "attribute custom:plan",
            "primary": None,
            "backup": {"AttributeDataType": "String", "Mutable": True, "Required": False},
        }
    ]


@pytest.mark.parametrize(
    ("change", "primary_value", "backup_value"),
    [
        ({"ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]},
         ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"], ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"]),
        ({"AllowedOAuthFlows": ["implicit"]}, ["code"], ["implicit"]),
        ({"AllowedOAuthScopes": ["openid"]}, ["email", "openid"], ["openid"]),
        ({"CallbackURLs": ["https://dr.spaceduck.example/callback"]},
         ["https://app.spaceduck.example/callback"], ["https://dr.spaceduck.example/callback"]),
        ({"AccessTokenValidity": 5}, 60, 5),
        ({"IdTokenValidity": 5}, 60, 5),
        ({"RefreshTokenValidity": 90}, 30, 90),
        ({"TokenValidityUnits": {**WEB_CLIENT["TokenValidityUnits"], "IdToken": "hours"}},
         WEB_CLIENT["TokenValidityUnits"], {**WEB_CLIENT["TokenValidityUnits"], "IdToken": "hours"}),
    ],
    ids=["auth-flows", "oauth-flows", "oauth-scopes", "callback-urls", "access-token", "id-token", "refresh-token", "units"],
)  # fmt: skip
def test_parity_reports_each_app_client_setting_that_differs(
    estate: Estate, ready: CognitoSnapshot, change: dict[str, Any], primary_value: Any, backup_value: Any
) -> None:
    clients = (backup_client(ready, "web", **change), backup_client(ready, "mobile"))
    result = judge(estate.config, with_backup(ready, clients=clients))["cognito.parity"]
    [field] = change
    assert result.status is Status.FAILING
    assert result.facts["diff"] == [
        {"field": f"app client web {field}", "primary": primary_value, "backup": backup_value}
    ]


def test_parity_ignores_the_order_of_list_settings(estate: Estate, ready: CognitoSnapshot) -> None:
    reordered = backup_client(ready, "web", ExplicitAuthFlows=list(reversed(WEB_CLIENT["ExplicitAuthFlows"])))
    snapshot = with_backup(ready, clients=(reordered, backup_client(ready, "mobile")))
    assert judge(estate.config, snapshot)["cognito.parity"].status is Status.VERIFIED


def test_parity_summary_counts_every_difference_and_lists_the_first_five(
    estate: Estate, ready: CognitoSnapshot
) -> None:
    snapshot = with_backup(
        ready,
        MfaConfiguration="OPTIONAL",
        SchemaAttributes=[*backup_schema(ready), PLAN],
        LambdaConfig={},
        Policies={"PasswordPolicy": {"MinimumLength": 6}},
        clients=(backup_client(ready, "mobile"),),
    )
    result = judge(estate.config, snapshot)["cognito.parity"]
    fields = [entry["field"] for entry in result.facts["diff"]]
    assert fields == [
        "MfaConfiguration",
        "attribute custom:plan",
        "password policy MinimumLength",
        "password policy RequireSymbols",
        "trigger PreSignUp",
        "app clients",
    ]
    assert result.summary.endswith(f"in 6 settings: {', '.join(fields[:5])}, …")
