"""A user pool's settings that a failover depends on, flattened to {field: value} so that two pools
compare field by field, and each difference names its field.

What is compared: every app client (secret or not, identity providers, callback and logout URLs, read
and write attributes, OAuth flows and scopes, token validity and units, auth flows, ...), every identity
provider (type, attribute mapping, identifiers, details), MFA as GetUserPoolMfaConfig reports it (SMS,
TOTP, email and WebAuthn separately), the password and sign-in policies, the schema with each
attribute's mutability, and each trigger by function and qualifier. What is regional by nature is left
out: ARNs' region and account, the KMS key, client ids and secrets' values.
"""

from __future__ import annotations

from typing import Any

from mission_control.verification.collectors.cognito import UserPoolSnapshot

LATEST = "$LATEST"
_SET_CLIENT_FIELDS = (
    "ExplicitAuthFlows", "AllowedOAuthFlows", "AllowedOAuthScopes", "CallbackURLs", "LogoutURLs",
    "SupportedIdentityProviders", "ReadAttributes", "WriteAttributes",
)  # fmt: skip
_VALUE_CLIENT_FIELDS = (
    "AllowedOAuthFlowsUserPoolClient", "DefaultRedirectURI", "AccessTokenValidity", "IdTokenValidity",
    "RefreshTokenValidity", "TokenValidityUnits", "PreventUserExistenceErrors", "EnableTokenRevocation",
    "AuthSessionValidity", "RefreshTokenRotation",
)  # fmt: skip
# ProviderDetails that are secrets or that Cognito generates per pool.
_UNCOMPARED_PROVIDER_DETAILS = {"client_secret", "private_key", "ActiveEncryptionCertificate"}


def pool_settings(snapshot: UserPoolSnapshot) -> dict[str, Any]:
    """Every compared setting of a pool whose pool, clients, providers and MFA were all read."""
    pool = snapshot.pool
    assert isinstance(pool, dict) and isinstance(snapshot.clients, tuple)
    assert isinstance(snapshot.identity_providers, tuple) and isinstance(snapshot.mfa, dict)
    settings: dict[str, Any] = {f"trigger {trigger}": target for trigger, target in triggers(pool).items()}
    policies = pool.get("Policies", {})
    settings.update(
        {f"password policy {key}": value for key, value in policies.get("PasswordPolicy", {}).items()}
    )
    settings["sign-in policy"] = policies.get("SignInPolicy")
    for key in ("UsernameAttributes", "AliasAttributes"):
        settings[key] = sorted(pool.get(key) or [])
    settings["UsernameConfiguration"] = pool.get("UsernameConfiguration")
    settings.update({f"attribute {name}": attribute for name, attribute in schema(pool).items()})
    settings.update(_mfa_settings(snapshot.mfa))
    for provider in snapshot.identity_providers:
        settings.update(_provider_settings(provider))
    for client in snapshot.clients:
        settings.update(_client_settings(client))
    return settings


def schema(pool: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every attribute's full definition (type, required, mutable, constraints) by name."""
    return {
        attribute["Name"]: {key: value for key, value in attribute.items() if key != "Name"}
        for attribute in pool.get("SchemaAttributes", [])
    }


def client_names(snapshot: UserPoolSnapshot) -> list[str]:
    assert isinstance(snapshot.clients, tuple)
    return sorted(client["ClientName"] for client in snapshot.clients)


def provider_names(snapshot: UserPoolSnapshot) -> list[str]:
    assert isinstance(snapshot.identity_providers, tuple)
    return sorted(provider["ProviderName"] for provider in snapshot.identity_providers)


def triggers(pool: dict[str, Any]) -> dict[str, str]:
    """Each trigger's `function:qualifier` by trigger type; an unqualified ARN runs $LATEST.

    Versioned triggers (PreTokenGenerationConfig, CustomSMSSender, ...) also keep their LambdaVersion.
    The KMS key (KMSKeyID) is regional by nature and not a trigger.
    """
    found: dict[str, str] = {}
    for trigger, value in pool.get("LambdaConfig", {}).items():
        if trigger == "KMSKeyID":
            continue
        if isinstance(value, str):
            found[trigger] = function_target(value)
        else:
            for key, setting in value.items():
                found[f"{trigger}.{key}"] = function_target(setting) if key == "LambdaArn" else setting
    return found


def function_target(arn: str) -> str:
    """`name:qualifier` of arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER], region-free."""
    parts = arn.split(":")
    if len(parts) < 7:
        return arn
    return f"{parts[6]}:{parts[7] if len(parts) > 7 else LATEST}"


def _mfa_settings(mfa: dict[str, Any]) -> dict[str, Any]:
    sms = mfa.get("SmsMfaConfiguration")
    return {
        "MFA configuration": mfa.get("MfaConfiguration", "OFF"),
        "MFA SMS enabled": sms is not None,
        "MFA SMS message": (sms or {}).get("SmsAuthenticationMessage"),
        "MFA TOTP enabled": bool(mfa.get("SoftwareTokenMfaConfiguration", {}).get("Enabled")),
        "MFA email": mfa.get("EmailMfaConfiguration"),
        "MFA WebAuthn": mfa.get("WebAuthnConfiguration"),
    }


def _provider_settings(provider: dict[str, Any]) -> dict[str, Any]:
    prefix = f"identity provider {provider['ProviderName']} "
    details = {
        key: value
        for key, value in provider.get("ProviderDetails", {}).items()
        if key not in _UNCOMPARED_PROVIDER_DETAILS
    }
    return {
        f"{prefix}ProviderType": provider.get("ProviderType"),
        f"{prefix}AttributeMapping": provider.get("AttributeMapping", {}),
        f"{prefix}IdpIdentifiers": sorted(provider.get("IdpIdentifiers") or []),
        f"{prefix}ProviderDetails": details,
    }


def _client_settings(client: dict[str, Any]) -> dict[str, Any]:
    """The client's compared settings; lists compare as sets, a secret by its presence."""
    prefix = f"app client {client['ClientName']} "
    settings: dict[str, Any] = {f"{prefix}secret": "ClientSecret" in client}
    settings.update({f"{prefix}{field}": sorted(client.get(field) or []) for field in _SET_CLIENT_FIELDS})
    settings.update({f"{prefix}{field}": client.get(field) for field in _VALUE_CLIENT_FIELDS})
    return settings
