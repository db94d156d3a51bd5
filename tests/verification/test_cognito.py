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
from mission_control.verification.collectors.cognito import (
    REPLICA,
    CognitoSnapshot,
    Replication,
    collect_cognito,
)
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.probes.cognito import backup_pool, parity, token_sync
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


def pool_arn(pool_id: str, region: str = PRIMARY) -> str:
    return f"arn:aws:cognito-idp:{region}:{ACCOUNT}:userpool/{pool_id}"


def replica(region: str, status: str = "ACTIVE", role: str = "SECONDARY") -> dict[str, str]:
    return {"RegionName": region, "Status": status, "Role": role, "UserPoolArn": pool_arn("x", region)}


def clients_for(estate: Estate, config: EnvironmentConfig, *pages: list[dict[str, str]]) -> AwsClients:
    """Clients on moto whose ListUserPoolReplicas (which moto lacks) answers `pages` for the primary pool:
    by default only the primary itself, as for a pool without replication."""
    clients = AwsClients(estate.session)
    stub = ModelStub(clients.get("cognito-idp", PRIMARY), passthrough=True)
    pages = pages or ([replica(PRIMARY, role="PRIMARY")],)
    for number, page in enumerate(pages):
        params = {"UserPoolId": config.cognito_primary_pool}
        if number:
            params["NextToken"] = f"page-{number}"
        answer: dict[str, Any] = {"UserPoolReplicas": page}
        if number + 1 < len(pages):
            answer["NextToken"] = f"page-{number + 1}"
        stub.add("ListUserPoolReplicas", params, answer)
    return clients


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
    return collect_cognito(estate.config, clients_for(estate, estate.config))


def judge(config: EnvironmentConfig, snapshot: CognitoSnapshot) -> dict[str, ProbeResult]:
    return {
        "cognito.backup-pool": backup_pool(config, cognito=snapshot),
        "cognito.parity": parity(config, cognito=snapshot),
        "cognito.token-sync": token_sync(config, cognito=snapshot),
    }


def verify(estate: Estate, config: EnvironmentConfig) -> dict[str, ProbeResult]:
    results = judge(config, collect_cognito(config, clients_for(estate, config)))
    del results["cognito.token-sync"]
    return results


def with_backup(
    ready: CognitoSnapshot,
    *,
    clients: tuple[dict[str, Any], ...] | None = None,
    providers: tuple[dict[str, Any], ...] | None = None,
    mfa: dict[str, Any] | None = None,
    **settings: Any,
) -> CognitoSnapshot:
    """The ready snapshot whose backup pool has `settings` (DescribeUserPool keys), app `clients`,
    identity `providers` and `mfa` (GetUserPoolMfaConfig's answer)."""
    backup = ready.backup
    assert backup is not None and isinstance(backup.pool, dict)
    changed = replace(
        backup,
        pool={**backup.pool, **settings},
        clients=backup.clients if clients is None else clients,
        identity_providers=backup.identity_providers if providers is None else providers,
        mfa=backup.mfa if mfa is None else mfa,
    )
    return replace(ready, backup=changed)


def backup_schema(ready: CognitoSnapshot) -> list[dict[str, Any]]:
    assert ready.backup is not None and isinstance(ready.backup.pool, dict)
    return ready.backup.pool["SchemaAttributes"]


def backup_client(ready: CognitoSnapshot, name: str, **changes: Any) -> dict[str, Any]:
    assert ready.backup is not None and isinstance(ready.backup.clients, tuple)
    return {**next(c for c in ready.backup.clients if c["ClientName"] == name), **changes}


def replicated(ready: CognitoSnapshot, *entries: dict[str, str], **pool: Any) -> CognitoSnapshot:
    """The ready primary replicated by `entries` (ListUserPoolReplicas), its DescribeUserPool changed by
    `pool`; the replica in the secondary region is the primary's own settings, as Cognito syncs them."""
    primary = ready.primary
    assert primary is not None and isinstance(primary.pool, dict)
    primary = replace(primary, pool={**primary.pool, **pool})
    listed = (replica(PRIMARY, role="PRIMARY"), *entries)
    return replace(
        ready,
        primary=primary,
        backup=replace(primary, region=SECONDARY),
        replication=Replication(REPLICA, "detected", listed),
    )


MULTI_REGION_KEY = f"arn:aws:kms:{PRIMARY}:{ACCOUNT}:key/mrk-1234abcd12ab34cd56ef1234567890ab"
KEY_CONFIGURATION = {"KeyType": "CUSTOMER_MANAGED_KEY", "KmsKeyArn": MULTI_REGION_KEY}


def key_metadata(*regions: str, multi_region: bool = True, enabled: bool = True) -> dict[str, Any]:
    metadata: dict[str, Any] = {"Arn": MULTI_REGION_KEY, "KeyId": "mrk-1234", "MultiRegion": multi_region,
                                "Enabled": enabled, "KeyState": "Enabled" if enabled else "Disabled"}  # fmt: skip
    if multi_region:
        metadata["MultiRegionConfiguration"] = {
            "MultiRegionKeyType": "PRIMARY",
            "PrimaryKey": {"Arn": MULTI_REGION_KEY, "Region": PRIMARY},
            "ReplicaKeys": [{"Arn": MULTI_REGION_KEY.replace(PRIMARY, r), "Region": r} for r in regions],
        }
    return metadata


def token_ready(ready: CognitoSnapshot, **pool: Any) -> CognitoSnapshot:
    """Replicated with an ACTIVE replica, the multi-Region issuer and a multi-Region key in both regions."""
    settings = {"IssuerConfiguration": {"Type": "UPDATED"}, "KeyConfiguration": KEY_CONFIGURATION, **pool}
    return replace(replicated(ready, replica(SECONDARY), **settings), key=key_metadata(SECONDARY))


def test_matching_pools_verify_backup_pool_and_parity_though_triggers_name_their_region(
    estate: Estate, ready: CognitoSnapshot
) -> None:
    results = judge(estate.config, ready)
    assert results["cognito.backup-pool"].status is Status.VERIFIED
    assert results["cognito.parity"].status is Status.VERIFIED
    assert results["cognito.parity"].facts["diff"] == []
    assert results["cognito.parity"].facts["replication"]["mode"] == "backup-pool"
    assert results["cognito.parity"].facts["replication"]["source"] == "detected"
    assert results["cognito.backup-pool"].summary == (
        f"backup pool {estate.config.cognito_backup_pool} in {SECONDARY} has the primary's "
        f"{len(backup_schema(ready))} attributes and 2 app clients"
    )


@pytest.mark.parametrize("key", ["cognito_primary_pool", "cognito_backup_pool"])
def test_both_probes_fail_naming_a_missing_pool_key(estate: Estate, key: str) -> None:
    config = replace(estate.config, **{key: None})
    snapshot = collect_cognito(
        config, AwsClients(estate.session) if key == "cognito_primary_pool" else clients_for(estate, config)
    )
    for item, result in judge(config, snapshot).items():
        if item == "cognito.token-sync" and key == "cognito_backup_pool":
            assert result.status is Status.MANUAL
            continue
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


@pytest.mark.parametrize(
    ("operation", "params", "action"),
    [
        ("DescribeUserPool", {}, "DescribeUserPool"),
        ("GetUserPoolMfaConfig", {}, "GetUserPoolMfaConfig"),
        ("ListIdentityProviders", {"MaxResults": 60}, "ListIdentityProviders"),
    ],
)
def test_access_denied_on_the_backup_pool_is_an_error_naming_action_pool_and_region(
    estate: Estate, operation: str, params: dict[str, Any], action: str
) -> None:
    clients = clients_for(estate, estate.config)
    backup_id = str(estate.config.cognito_backup_pool)
    denied = ModelStub(clients.get("cognito-idp", SECONDARY), passthrough=True)
    denied.add_error(operation, {"UserPoolId": backup_id, **params}, "AccessDeniedException", 403)
    for result in verify_with(estate.config, clients).values():
        assert (result.status, result.summary) == (
            Status.ERROR,
            f"AccessDeniedException on cognito-idp:{action} for user pool {backup_id} in {SECONDARY}",
        )


def verify_with(config: EnvironmentConfig, clients: AwsClients) -> dict[str, ProbeResult]:
    results = judge(config, collect_cognito(config, clients))
    del results["cognito.token-sync"]
    return results


def test_collector_describes_every_app_client_across_pages(estate: Estate) -> None:
    config = replace(estate.config, cognito_primary_pool=estate.crowded)
    snapshot = collect_cognito(config, clients_for(estate, config))
    assert snapshot.primary is not None and isinstance(snapshot.primary.clients, tuple)
    names = sorted(client["ClientName"] for client in snapshot.primary.clients)
    assert names == [f"partner-{n:02d}" for n in range(65)]


def test_collector_reads_every_page_of_replicas_and_detects_the_replica_mode(estate: Estate) -> None:
    """ListUserPoolReplicas has no botocore paginator: a replica on a second page must still count."""
    clients = clients_for(estate, estate.config, [replica(PRIMARY, role="PRIMARY")], [replica(SECONDARY)])
    snapshot = collect_cognito(estate.config, clients)
    assert snapshot.replication is not None
    assert (snapshot.replication.mode, snapshot.replication.source) == ("replica", "detected")
    assert snapshot.backup is not None and snapshot.backup.pool_id == estate.config.cognito_primary_pool
    assert snapshot.backup.region == SECONDARY


def test_configured_replication_mode_wins_over_detection(estate: Estate) -> None:
    config = replace(estate.config, cognito_replication="replica")
    snapshot = collect_cognito(config, clients_for(estate, config))
    assert snapshot.replication is not None
    assert (snapshot.replication.mode, snapshot.replication.source) == ("replica", "configured")
    result = backup_pool(config, cognito=snapshot)
    assert (result.status, result.summary) == (
        Status.FAILING,
        f"user pool {config.cognito_primary_pool} has no replica in {SECONDARY} (replicas: {PRIMARY} (ACTIVE))",
    )


def test_unreadable_replicas_without_a_backup_pool_is_an_error_naming_the_action(estate: Estate) -> None:
    config = replace(estate.config, cognito_backup_pool=None)
    clients = AwsClients(estate.session)
    ModelStub(clients.get("cognito-idp", PRIMARY), passthrough=True).add_error(
        "ListUserPoolReplicas", {"UserPoolId": config.cognito_primary_pool}, "AccessDeniedException", 403
    )
    for result in judge(config, collect_cognito(config, clients)).values():
        assert result.status is Status.ERROR
        assert "AccessDeniedException on cognito-idp:ListUserPoolReplicas" in result.summary


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
    diff = results["cognito.parity"].facts["diff"]
    assert diff[0] == {
        "field": "app clients",
        "primary": ["mobile", "web"],
        "backup": ["dr-admin", "mobile", "web"],
    }
    assert {entry["field"].split(" ")[2] for entry in diff[1:]} == {"dr-admin"}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"clients": ()}, "has no app clients: nothing signs in through it"),
        ({"SchemaAttributes": []}, "DescribeUserPool shows no SchemaAttributes for primary user pool"),
    ],
    ids=["no-app-clients", "no-schema"],
)
def test_an_empty_primary_proves_nothing_so_backup_pool_and_parity_fail(
    estate: Estate, ready: CognitoSnapshot, change: dict[str, Any], problem: str
) -> None:
    """Compared against an empty list, any counterpart would pass."""
    assert ready.primary is not None and isinstance(ready.primary.pool, dict)
    clients = change.pop("clients", ready.primary.clients)
    empty = replace(ready.primary, pool={**ready.primary.pool, **change}, clients=clients)
    both_empty = replace(ready, primary=empty, backup=replace(empty, region=SECONDARY))
    results = judge(estate.config, both_empty)
    for item in ("cognito.backup-pool", "cognito.parity"):
        assert results[item].status is Status.FAILING
        assert problem in results[item].summary


def test_backup_pool_is_verified_by_an_active_replica_in_the_secondary_region(
    estate: Estate, ready: CognitoSnapshot
) -> None:
    result = backup_pool(estate.config, cognito=replicated(ready, replica(SECONDARY)))
    assert (result.status, result.summary) == (
        Status.VERIFIED,
        f"user pool {estate.config.cognito_primary_pool} has an ACTIVE replica in {SECONDARY} (role SECONDARY)",
    )


@pytest.mark.parametrize("status", ["INACTIVE", "CREATING", "DELETING"])
def test_backup_pool_fails_when_the_replica_is_not_active(
    estate: Estate, ready: CognitoSnapshot, status: str
) -> None:
    result = backup_pool(estate.config, cognito=replicated(ready, replica(SECONDARY, status)))
    assert result.status is Status.FAILING
    assert result.summary.endswith(f"is {status}: only an ACTIVE replica accepts end users' requests")


def test_a_replica_in_another_region_is_not_a_replica_in_the_secondary(
    estate: Estate, ready: CognitoSnapshot
) -> None:
    snapshot = replicated(ready, replica("eu-west-1"))
    result = backup_pool(replace(estate.config, cognito_replication="replica"), cognito=snapshot)
    assert result.status is Status.FAILING
    assert "has no replica in ap-southeast-1" in result.summary


# --- cognito.token-sync ------------------------------------------------------------------------------


def test_token_sync_stays_manual_with_a_separate_backup_pool(estate: Estate, ready: CognitoSnapshot) -> None:
    result = token_sync(estate.config, cognito=ready)
    assert result.status is Status.MANUAL
    assert result.facts["replication"]["mode"] == "backup-pool"


def test_token_sync_is_proven_by_a_replica_with_the_multi_region_issuer_and_key(
    estate: Estate, ready: CognitoSnapshot
) -> None:
    result = token_sync(estate.config, cognito=token_ready(ready))
    pool = estate.config.cognito_primary_pool
    assert result.status is Status.VERIFIED
    assert result.facts["issuer"] == f"https://issuer-cognito-idp.{PRIMARY}.amazonaws.com/{pool}"
    assert result.facts["key_metadata"] == {
        "multi_region": True,
        "regions": [SECONDARY, PRIMARY],
        "enabled": True,
    }


@pytest.mark.parametrize(
    ("pool", "key", "problem"),
    [
        ({"IssuerConfiguration": {"Type": "ORIGINAL"}}, key_metadata(SECONDARY), "uses the ORIGINAL issuer"),
        ({"IssuerConfiguration": None}, key_metadata(SECONDARY), "uses the ORIGINAL issuer"),
        ({"KeyConfiguration": {"KeyType": "AWS_OWNED_KEY"}}, None, "uses no customer managed KMS key (KeyType AWS_OWNED_KEY)"),
        ({}, key_metadata(multi_region=False), "is single-Region"),
        ({}, key_metadata("eu-west-1"), f"has no replica in {SECONDARY}"),
        ({}, key_metadata(SECONDARY, enabled=False), "is Disabled"),
    ],
    ids=["original-issuer", "no-issuer-configuration", "aws-owned-key", "single-region-key", "key-elsewhere", "key-disabled"],
)  # fmt: skip
def test_token_sync_fails_naming_what_would_reject_tokens_after_failover(
    estate: Estate, ready: CognitoSnapshot, pool: dict[str, Any], key: dict[str, Any] | None, problem: str
) -> None:
    settings = {name: value for name, value in pool.items() if value is not None}
    snapshot = replace(token_ready(ready, **settings), key=key)
    if "IssuerConfiguration" in pool and pool["IssuerConfiguration"] is None:
        assert snapshot.primary is not None and isinstance(snapshot.primary.pool, dict)
        bare = {k: v for k, v in snapshot.primary.pool.items() if k != "IssuerConfiguration"}
        snapshot = replace(snapshot, primary=replace(snapshot.primary, pool=bare))
    result = token_sync(estate.config, cognito=snapshot)
    assert result.status is Status.FAILING
    assert problem in result.summary


def test_token_sync_fails_without_an_active_replica(estate: Estate, ready: CognitoSnapshot) -> None:
    snapshot = replace(
        token_ready(ready), replication=Replication(REPLICA, "configured", (replica(SECONDARY, "INACTIVE"),))
    )
    assert token_sync(estate.config, cognito=snapshot).status is Status.FAILING


# --- cognito.parity ----------------------------------------------------------------------------------

PLAN = {"Name": "custom:plan", "AttributeDataType": "String", "Mutable": True, "Required": False}


@pytest.mark.parametrize(
    ("settings", "field", "primary_value", "backup_value"),
    [
        (
            {"LambdaConfig": {"PreSignUp": f"arn:aws:lambda:{SECONDARY}:{ACCOUNT}:function:beak-pre-signup-v2"}},
            "trigger PreSignUp",
            "beak-pre-signup:$LATEST",
            "beak-pre-signup-v2:$LATEST",
        ),
        (
            {"LambdaConfig": {"PreSignUp": f"arn:aws:lambda:{SECONDARY}:{ACCOUNT}:function:beak-pre-signup:live"}},
            "trigger PreSignUp",
            "beak-pre-signup:$LATEST",
            "beak-pre-signup:live",
        ),
        ({"LambdaConfig": {}}, "trigger PreSignUp", "beak-pre-signup:$LATEST", None),
        ({"Policies": {"PasswordPolicy": {"MinimumLength": 8, "RequireSymbols": True}}}, "password policy MinimumLength", 12, 8),
        ({"SchemaAttributes": None}, "attribute custom:tenant", None, None),
    ],
    ids=["trigger-function", "trigger-qualifier", "trigger-missing", "password-policy", "schema-mutability"],
)  # fmt: skip
def test_parity_reports_each_pool_setting_that_differs(
    estate: Estate,
    ready: CognitoSnapshot,
    settings: dict[str, Any],
    field: str,
    primary_value: Any,
    backup_value: Any,
) -> None:
    if settings.get("SchemaAttributes", 0) is None:
        schema = [{**a, "Mutable": True} if a["Name"] == "custom:tenant" else a for a in backup_schema(ready)]
        settings = {"SchemaAttributes": schema}
        tenant = next(a for a in backup_schema(ready) if a["Name"] == "custom:tenant")
        primary_value = {k: v for k, v in tenant.items() if k != "Name"}
        backup_value = {**primary_value, "Mutable": True}
    result = judge(estate.config, with_backup(ready, **settings))["cognito.parity"]
    assert result.status is Status.FAILING
    assert result.facts["diff"] == [{"field": field, "primary": primary_value, "backup": backup_value}]
    assert result.summary == (
        f"backup pool {estate.config.cognito_backup_pool} in {SECONDARY} differs from "
        f"{estate.config.cognito_primary_pool} in 1 setting: {field}"
    )


@pytest.mark.parametrize(
    ("mfa", "field", "primary_value", "backup_value"),
    [
        ({"MfaConfiguration": "OPTIONAL", "SoftwareTokenMfaConfiguration": {"Enabled": True}},
         "MFA TOTP enabled", False, True),
        ({"MfaConfiguration": "OPTIONAL",
          "SmsMfaConfiguration": {"SmsAuthenticationMessage": "{####}", "SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::123456789012:role/sms"}}},
         "MFA SMS enabled", False, True),
        ({"MfaConfiguration": "OFF", "WebAuthnConfiguration": {"RelyingPartyId": "spaceduck.example", "UserVerification": "required"}},
         "MFA WebAuthn", None, {"RelyingPartyId": "spaceduck.example", "UserVerification": "required"}),
    ],
    ids=["totp", "sms", "webauthn"],
)  # fmt: skip
def test_parity_reads_mfa_as_get_user_pool_mfa_config_reports_it(
    estate: Estate,
    ready: CognitoSnapshot,
    mfa: dict[str, Any],
    field: str,
    primary_value: Any,
    backup_value: Any,
) -> None:
    result = judge(estate.config, with_backup(ready, mfa=mfa))["cognito.parity"]
    assert {"field": field, "primary": primary_value, "backup": backup_value} in result.facts["diff"]


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


def test_parity_ignores_each_regions_own_kms_key(estate: Estate, ready: CognitoSnapshot) -> None:
    """A KMS key is regional by nature: the backup pool's own key is no difference."""
    assert ready.backup is not None and isinstance(ready.backup.pool, dict)
    lambda_config = {
        **ready.backup.pool["LambdaConfig"],
        "KMSKeyID": f"arn:aws:kms:{SECONDARY}:{ACCOUNT}:key/b",
    }
    result = judge(estate.config, with_backup(ready, LambdaConfig=lambda_config))["cognito.parity"]
    assert (result.status, result.facts["diff"]) == (Status.VERIFIED, [])


@pytest.mark.parametrize(
    ("change", "primary_value", "backup_value"),
    [
        ({"ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]},
         ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"], ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"]),
        ({"AllowedOAuthFlows": ["implicit"]}, ["code"], ["implicit"]),
        ({"AllowedOAuthScopes": ["openid"]}, ["email", "openid"], ["openid"]),
        ({"AllowedOAuthFlowsUserPoolClient": False}, True, False),
        ({"CallbackURLs": ["https://dr.spaceduck.example/callback"]},
         ["https://app.spaceduck.example/callback"], ["https://dr.spaceduck.example/callback"]),
        ({"LogoutURLs": ["https://app.spaceduck.example/bye"]}, [], ["https://app.spaceduck.example/bye"]),
        ({"SupportedIdentityProviders": ["COGNITO", "Google"]}, ["COGNITO"], ["COGNITO", "Google"]),
        ({"ReadAttributes": ["email"]}, [], ["email"]),
        ({"WriteAttributes": ["email"]}, [], ["email"]),
        ({"ClientSecret": "generated"}, False, True),
        ({"AccessTokenValidity": 5}, 60, 5),
        ({"IdTokenValidity": 5}, 60, 5),
        ({"RefreshTokenValidity": 90}, 30, 90),
        ({"TokenValidityUnits": {**WEB_CLIENT["TokenValidityUnits"], "IdToken": "hours"}},
         WEB_CLIENT["TokenValidityUnits"], {**WEB_CLIENT["TokenValidityUnits"], "IdToken": "hours"}),
    ],
    ids=["auth-flows", "oauth-flows", "oauth-scopes", "oauth-user-pool-client", "callback-urls", "logout-urls",
         "identity-providers", "read-attributes", "write-attributes", "secret", "access-token", "id-token",
         "refresh-token", "units"],
)  # fmt: skip
def test_parity_reports_each_app_client_setting_that_differs(
    estate: Estate, ready: CognitoSnapshot, change: dict[str, Any], primary_value: Any, backup_value: Any
) -> None:
    clients = (backup_client(ready, "web", **change), backup_client(ready, "mobile"))
    result = judge(estate.config, with_backup(ready, clients=clients))["cognito.parity"]
    [field] = change
    name = "secret" if field == "ClientSecret" else field
    assert result.status is Status.FAILING
    assert result.facts["diff"] == [
        {"field": f"app client web {name}", "primary": primary_value, "backup": backup_value}
    ]


GOOGLE = {
    "ProviderName": "Google",
    "ProviderType": "Google",
    "ProviderDetails": {"client_id": "spaceduck.apps.googleusercontent.com", "client_secret": "s1", "authorize_scopes": "openid email"},
    "AttributeMapping": {"email": "email", "username": "sub"},
    "IdpIdentifiers": [],
}  # fmt: skip


@pytest.mark.parametrize(
    ("backup_provider", "field"),
    [
        (None, "identity providers"),
        ({**GOOGLE, "AttributeMapping": {"username": "sub"}}, "identity provider Google AttributeMapping"),
        ({**GOOGLE, "ProviderDetails": {**GOOGLE["ProviderDetails"], "authorize_scopes": "openid"}},
         "identity provider Google ProviderDetails"),
        ({**GOOGLE, "ProviderType": "OIDC"}, "identity provider Google ProviderType"),
    ],
    ids=["missing", "attribute-mapping", "details", "type"],
)  # fmt: skip
def test_parity_compares_identity_providers_but_not_their_secrets(
    estate: Estate, ready: CognitoSnapshot, backup_provider: dict[str, Any] | None, field: str
) -> None:
    assert ready.primary is not None
    primary = replace(ready.primary, identity_providers=(GOOGLE,))
    other_secret = {**GOOGLE, "ProviderDetails": {**GOOGLE["ProviderDetails"], "client_secret": "s2"}}
    same = judge(estate.config, with_backup(replace(ready, primary=primary), providers=(other_secret,)))
    assert same["cognito.parity"].status is Status.VERIFIED
    providers = () if backup_provider is None else (backup_provider,)
    result = judge(estate.config, with_backup(replace(ready, primary=primary), providers=providers))[
        "cognito.parity"
    ]
    assert result.status is Status.FAILING
    assert field in [entry["field"] for entry in result.facts["diff"]]


def test_parity_with_a_replica_compares_the_replica_in_the_secondary_region(
    estate: Estate, ready: CognitoSnapshot
) -> None:
    snapshot = replicated(ready, replica(SECONDARY))
    assert snapshot.backup is not None and isinstance(snapshot.backup.pool, dict)
    regional = {"PreSignUp": f"arn:aws:lambda:{SECONDARY}:{ACCOUNT}:function:beak-pre-signup:2"}
    drifted = replace(
        snapshot, backup=replace(snapshot.backup, pool={**snapshot.backup.pool, "LambdaConfig": regional})
    )
    assert parity(estate.config, cognito=snapshot).status is Status.VERIFIED
    result = parity(estate.config, cognito=drifted)
    assert result.status is Status.FAILING
    assert result.summary.startswith(
        f"replica pool {estate.config.cognito_primary_pool} in {SECONDARY} differs"
    )


def test_parity_ignores_the_order_of_list_settings(estate: Estate, ready: CognitoSnapshot) -> None:
    reordered = backup_client(ready, "web", ExplicitAuthFlows=list(reversed(WEB_CLIENT["ExplicitAuthFlows"])))
    snapshot = with_backup(ready, clients=(reordered, backup_client(ready, "mobile")))
    assert judge(estate.config, snapshot)["cognito.parity"].status is Status.VERIFIED


def test_parity_summary_counts_every_difference_and_lists_the_first_five(
    estate: Estate, ready: CognitoSnapshot
) -> None:
    snapshot = with_backup(
        ready,
        mfa={"MfaConfiguration": "OPTIONAL", "SoftwareTokenMfaConfiguration": {"Enabled": True}},
        SchemaAttributes=[*backup_schema(ready), PLAN],
        LambdaConfig={},
        Policies={"PasswordPolicy": {"MinimumLength": 6}},
        clients=(backup_client(ready, "mobile"),),
    )
    result = judge(estate.config, snapshot)["cognito.parity"]
    fields = [entry["field"] for entry in result.facts["diff"]]
    assert fields[0] == "app clients"
    assert {"MFA configuration", "MFA TOTP enabled", "attribute custom:plan", "trigger PreSignUp",
            "password policy MinimumLength", "password policy RequireSymbols"} <= set(fields)  # fmt: skip
    assert result.summary.endswith(f"in {len(fields)} settings: {', '.join(fields[:5])}, …")
