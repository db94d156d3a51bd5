"""Cognito cases: what a failover to the secondary region's pool would miss, and native replication."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

import pytest

from tests.verification.estates.harness import PRIMARY, SECONDARY, Case, Corpus, Estate, case_id, unchanged
from tests.verification.estates.ready_cognito import (
    ACCOUNT,
    MOBILE,
    SCHEMA,
    WEB,
    seed_backup_pools,
    seed_replica,
    trigger,
)

BACKUP_POOLS = partial(seed_backup_pools)


def pools(because: str, name: str, item: str, expected: str, summary: str | None = None, **seed: Any) -> Case:
    return Case(
        name, item, expected, because, unchanged, summary=summary, baseline=partial(seed_backup_pools, **seed)
    )


def replica(
    because: str, name: str, item: str, expected: str, summary: str | None = None, **seed: Any
) -> Case:
    return Case(
        name, item, expected, because, unchanged, summary=summary, baseline=partial(seed_replica, **seed)
    )


def backup_clients(*clients: dict[str, Any]) -> dict[str, Any]:
    return {"backup": {"clients": clients, "triggers": {"PreSignUp": trigger(SECONDARY)}}}


def totp_on_primary(estate: Estate) -> None:
    estate.client("cognito-idp").set_user_pool_mfa_config(
        UserPoolId=estate.ids["primary-pool"],
        SoftwareTokenMfaConfiguration={"Enabled": True},
        MfaConfiguration="OPTIONAL",
    )


def google_on_primary(estate: Estate) -> None:
    estate.client("cognito-idp").create_identity_provider(
        UserPoolId=estate.ids["primary-pool"],
        ProviderName="Google",
        ProviderType="Google",
        ProviderDetails={
            "client_id": "spaceduck.apps.googleusercontent.com",
            "client_secret": "s",
            "authorize_scopes": "openid email",
        },
        AttributeMapping={"email": "email"},
    )


def sms_mfa_only_in_primary(estate: Estate) -> None:
    """Both pools offer TOTP (MFA optional); only the primary also sends codes by SMS."""
    sms = {
        "SmsAuthenticationMessage": "Your Spaceduck code is {####}",
        "SmsConfiguration": {
            "SnsCallerArn": f"arn:aws:iam::{ACCOUNT}:role/spaceduck-sms",
            "ExternalId": "spaceduck",
        },
    }
    for region, pool, extra in (
        (PRIMARY, "primary-pool", {"SmsMfaConfiguration": sms}),
        (SECONDARY, "backup-pool", {}),
    ):
        estate.client("cognito-idp", region).set_user_pool_mfa_config(
            UserPoolId=estate.ids[pool], SoftwareTokenMfaConfiguration={"Enabled": True},
            MfaConfiguration="OPTIONAL", **extra,
        )  # fmt: skip


def configured_backup_pool(estate: Estate) -> None:
    estate.config = replace(estate.config, cognito_replication="backup-pool")


CASES = [
    pools("a backup pool with the primary's attributes and app clients can take its users",
          "ready-backup-pool", "cognito.backup-pool", "verified"),
    pools("every setting sign-in depends on is the same in both pools", "ready-parity", "cognito.parity", "verified"),
    pools("an app without its client in the backup pool cannot sign users in there",
          "backup-lacks-mobile-client", "cognito.backup-pool", "failing", summary="spaceduck-mobile",
          **backup_clients(WEB)),
    pools("a primary pool with no app client proves nothing about failing over sign-in",
          "primary-without-app-clients", "cognito.backup-pool", "failing", summary="no app clients",
          primary={"clients": ()}, backup={"clients": ()}),
    pools("an attribute's mutability decides whether updates to it succeed: a failover changes behaviour",
          "schema-mutability-differs", "cognito.backup-pool", "failing", summary="duck_id",
          backup={"schema": [{**SCHEMA[0], "Mutable": True}, SCHEMA[1]],
                  "triggers": {"PreSignUp": trigger(SECONDARY)}}),
    pools("the hosted UI redirects only to a registered callback URL",
          "callback-url-differs", "cognito.parity", "failing", summary="CallbackURLs",
          **backup_clients({**WEB, "CallbackURLs": ["https://app.spaceduck.example/callback"]}, MOBILE)),
    pools("the logout endpoint redirects only to a registered sign-out URL",
          "logout-url-differs", "cognito.parity", "failing", summary="LogoutURLs",
          **backup_clients({**WEB, "LogoutURLs": []}, MOBILE)),
    pools("a client with a secret must send SECRET_HASH: an app without it fails against the backup",
          "secret-only-in-backup", "cognito.parity", "failing", summary="secret",
          **backup_clients({**WEB, "GenerateSecret": True}, MOBILE)),
    pools("tokens carry only the attributes a client may read", "read-attributes-differ",
          "cognito.parity", "failing", summary="ReadAttributes",
          **backup_clients({**WEB, "ReadAttributes": ["email"]}, MOBILE)),
    pools("a client accepts only the auth flows it allows: without ALLOW_REFRESH_TOKEN_AUTH, refreshing fails",
          "auth-flows-differ", "cognito.parity", "failing", summary="ExplicitAuthFlows",
          **backup_clients({**WEB, "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH"]}, MOBILE)),
    pools("/oauth2/authorize grants only the client's AllowedOAuthFlows: a code-grant app is refused",
          "oauth-flows-differ", "cognito.parity", "failing", summary="AllowedOAuthFlows",
          **backup_clients({**WEB, "AllowedOAuthFlows": ["implicit"]}, MOBILE)),
    pools("a request for a scope the client does not allow fails with invalid_scope",
          "oauth-scopes-differ", "cognito.parity", "failing", summary="AllowedOAuthScopes",
          **backup_clients({**WEB, "AllowedOAuthScopes": ["openid"]}, MOBILE)),
    pools("the hosted UI signs users in only through the client's SupportedIdentityProviders",
          "identity-providers-of-client-differ", "cognito.parity", "failing", summary="SupportedIdentityProviders",
          **backup_clients({**WEB, "SupportedIdentityProviders": []}, MOBILE)),
    pools("a client may update only its WriteAttributes: UpdateUserAttributes on another is refused",
          "write-attributes-differ", "cognito.parity", "failing", summary="WriteAttributes",
          **backup_clients({**WEB, "WriteAttributes": ["email", "custom:hatch_region"]}, MOBILE)),
    pools("an access token expires after the client's AccessTokenValidity (in TokenValidityUnits)",
          "access-token-validity-differs", "cognito.parity", "failing", summary="AccessTokenValidity",
          **backup_clients({**WEB, "AccessTokenValidity": 5}, MOBILE)),
    pools("an ID token expires after the client's IdTokenValidity (in TokenValidityUnits)",
          "id-token-validity-differs", "cognito.parity", "failing", summary="IdTokenValidity",
          **backup_clients({**WEB, "IdTokenValidity": 5}, MOBILE)),
    pools("a refresh token's validity decides when users must sign in again", "refresh-validity-differs",
          "cognito.parity", "failing", summary="RefreshTokenValidity",
          **backup_clients({**WEB, "RefreshTokenValidity": 1}, MOBILE)),
    pools("an unqualified trigger ARN runs $LATEST; an alias runs what the alias points at",
          "trigger-qualifier-differs", "cognito.parity", "failing", summary="trigger PreSignUp",
          backup={"triggers": {"PreSignUp": trigger(SECONDARY, qualifier="live")}}),
    pools("the trigger's region differs by nature; its function and qualifier are the same",
          "trigger-regions-differ-only", "cognito.parity", "verified",
          primary={"triggers": {"PreSignUp": trigger(PRIMARY, qualifier="live")}},
          backup={"triggers": {"PreSignUp": trigger(SECONDARY, qualifier="live")}}),
    Case("totp-only-in-primary", "cognito.parity", "failing",
         "GetUserPoolMfaConfig: users enrolled in TOTP cannot complete MFA where TOTP is off",
         totp_on_primary, summary="MFA", baseline=BACKUP_POOLS),
    Case("sms-mfa-only-in-primary", "cognito.parity", "failing",
         "GetUserPoolMfaConfig: users whose MFA is SMS get no code where SmsMfaConfiguration is absent",
         sms_mfa_only_in_primary, summary="MFA SMS", baseline=BACKUP_POOLS),
    Case("identity-provider-only-in-primary", "cognito.parity", "failing",
         "federated users sign in through the pool's identity providers; the backup has none",
         google_on_primary, summary="identity providers", baseline=BACKUP_POOLS),
    Case("token-sync-with-backup-pool", "cognito.token-sync", "manual",
         "a separate pool has its own issuer and users: only the team's strategy can say how tokens survive",
         unchanged, baseline=BACKUP_POOLS),
    Case("configured-backup-pool-mode-keeps-token-sync-manual", "cognito.token-sync", "manual",
         "cognito_replication = backup-pool: the operator says the secondary is served by a separate pool",
         configured_backup_pool, baseline=BACKUP_POOLS),
    replica("an ACTIVE replica serves sign-in in its region from the shared directory",
            "active-replica", "cognito.backup-pool", "verified", summary="ACTIVE replica"),
    replica("a new replica starts INACTIVE and refuses end users until activated",
            "inactive-replica", "cognito.backup-pool", "failing", summary="INACTIVE", status="INACTIVE"),
    replica("Cognito syncs the primary's settings to its replicas", "replica-parity", "cognito.parity", "verified"),
    replica("the multi-Region issuer and keys validate tokens in both regions, with a multi-Region key",
            "replica-token-sync", "cognito.token-sync", "verified", summary="multi-Region issuer"),
    replica("an ORIGINAL issuer names the region that signed: services expecting the primary's reject them",
            "replica-original-issuer", "cognito.token-sync", "failing", summary="ORIGINAL", issuer="ORIGINAL"),
    replica("replication needs a multi-Region KMS key: a single-Region key cannot decrypt elsewhere",
            "replica-single-region-key", "cognito.token-sync", "failing", summary="single-Region",
            multi_region_key=False),
    replica("the multi-Region key must have a replica in every region with a pool replica",
            "replica-key-not-replicated", "cognito.token-sync", "failing", summary=f"no replica in {SECONDARY}",
            key_replicated=False),
    replica("an INACTIVE replica issues no tokens, whatever the issuer",
            "inactive-replica-token-sync", "cognito.token-sync", "failing", summary="INACTIVE", status="INACTIVE"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_case(corpus: Corpus, case: Case) -> None:
    corpus.check(case)
