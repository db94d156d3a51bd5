"""The ready Cognito estates the Cognito cases edit, seeded through the ordinary APIs on the moto server.

`seed_backup_pools`: a primary pool and a matching backup pool in the secondary region. `seed_replica`:
a primary pool on the multi-Region issuer and a multi-Region KMS key, with an ACTIVE replica in the
secondary region (the moto layer serves the replica operations moto lacks).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.verification.estates.harness import PRIMARY, SECONDARY, Estate

ACCOUNT = "123456789012"
SCHEMA = [
    {"Name": "duck_id", "AttributeDataType": "String", "Mutable": False},
    {"Name": "hatch_region", "AttributeDataType": "String", "Mutable": True},
]
WEB = {
    "ClientName": "spaceduck-web",
    "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    "AllowedOAuthFlowsUserPoolClient": True,
    "AllowedOAuthFlows": ["code"],
    "AllowedOAuthScopes": ["openid", "email"],
    "CallbackURLs": ["https://app.spaceduck.example/auth/callback"],
    "LogoutURLs": ["https://app.spaceduck.example/"],
    "SupportedIdentityProviders": ["COGNITO"],
    "ReadAttributes": ["email", "custom:duck_id"],
    "WriteAttributes": ["email"],
    "AccessTokenValidity": 60,
    "IdTokenValidity": 60,
    "RefreshTokenValidity": 30,
    "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"},
}
MOBILE = {
    "ClientName": "spaceduck-mobile",
    "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
}


def trigger(region: str, name: str = "spaceduck-pre-signup", qualifier: str = "") -> str:
    arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def create_pool(
    estate: Estate,
    region: str,
    *,
    clients: tuple[dict[str, Any], ...] = (WEB, MOBILE),
    triggers: dict[str, str] | None = None,
    schema: list[dict[str, Any]] | None = None,
    **settings: Any,
) -> str:
    """A pool in `region` with the ready settings; keyword arguments override CreateUserPool's."""
    cognito = estate.client("cognito-idp", region)
    pool_id = cognito.create_user_pool(
        PoolName="spaceduck-users",
        Policies={"PasswordPolicy": {"MinimumLength": 12, "RequireSymbols": True, "RequireNumbers": True}},
        UsernameAttributes=["email"],
        Schema=SCHEMA if schema is None else schema,
        LambdaConfig={"PreSignUp": trigger(region)} if triggers is None else triggers,
        **settings,
    )["UserPool"]["Id"]
    for client in clients:
        cognito.create_user_pool_client(UserPoolId=pool_id, **client)
    return pool_id


def seed_backup_pools(
    estate: Estate, *, primary: dict[str, Any] | None = None, backup: dict[str, Any] | None = None
) -> None:
    """Matching pools in both regions; `primary` and `backup` override create_pool's arguments."""
    primary_id = create_pool(estate, PRIMARY, **(primary or {}))
    backup_id = create_pool(
        estate, SECONDARY, **({"triggers": {"PreSignUp": trigger(SECONDARY)}} | (backup or {}))
    )
    estate.ids.update({"primary-pool": primary_id, "backup-pool": backup_id})
    estate.config = replace(estate.config, cognito_primary_pool=primary_id, cognito_backup_pool=backup_id)


def seed_replica(
    estate: Estate,
    *,
    status: str = "ACTIVE",
    issuer: str = "UPDATED",
    multi_region_key: bool = True,
    key_replicated: bool = True,
) -> None:
    """A primary pool replicated to the secondary region with replica `status`, the `issuer` type and a
    customer managed key (multi-Region and replicated there, unless told otherwise)."""
    kms = estate.client("kms")
    key = kms.create_key(Description="spaceduck user pool", MultiRegion=multi_region_key)["KeyMetadata"]
    if multi_region_key and key_replicated:
        kms.replicate_key(KeyId=key["KeyId"], ReplicaRegion=SECONDARY)
    pool_id = create_pool(
        estate,
        PRIMARY,
        IssuerConfiguration={"Type": issuer},
        KeyConfiguration={"KeyType": "CUSTOMER_MANAGED_KEY", "KmsKeyArn": key["Arn"]},
    )
    cognito = estate.client("cognito-idp")
    cognito.create_user_pool_replica(UserPoolId=pool_id, RegionName=SECONDARY)
    if status != "INACTIVE":
        cognito.update_user_pool_replica(UserPoolId=pool_id, RegionName=SECONDARY, Status=status)
    estate.ids["primary-pool"] = pool_id
    estate.config = replace(estate.config, cognito_primary_pool=pool_id)
