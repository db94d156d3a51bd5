"""Cognito probes: a backup user pool in the secondary region that users can fail over to, and its
parity with the primary in every setting that changes how sign-in behaves."""

from __future__ import annotations

from typing import Any

from mission_control.verification.aws import AwsError
from mission_control.verification.collectors.cognito import CognitoSnapshot
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.registry import probe
from mission_control.verification.results import ProbeResult, errored, failing, not_configured, verified

_ACTIONS = (
    "cognito-idp:DescribeUserPool",
    "cognito-idp:ListUserPoolClients",
    "cognito-idp:DescribeUserPoolClient",
)
_SET_CLIENT_FIELDS = ("ExplicitAuthFlows", "AllowedOAuthFlows", "AllowedOAuthScopes", "CallbackURLs")
_VALUE_CLIENT_FIELDS = (
    "AccessTokenValidity",
    "IdTokenValidity",
    "RefreshTokenValidity",
    "TokenValidityUnits",
)
_SHOWN_DIFFERENCES = 5

Loaded = tuple[dict[str, Any], tuple[dict[str, Any], ...]]  # a pool that exists, and its app clients


@probe("cognito.backup-pool", collectors=("cognito",), actions=_ACTIONS)
def backup_pool(config: EnvironmentConfig, *, cognito: CognitoSnapshot) -> ProbeResult:
    """Users can only fail over to a pool that stores their attributes and knows the apps' client names.

    Extra attributes or clients in the backup do not block failover; cognito.parity reports them.
    """
    item_id = "cognito.backup-pool"
    loaded = _loaded(item_id, config, cognito)
    if isinstance(loaded, ProbeResult):
        return loaded
    (primary, primary_clients), (backup, backup_clients) = loaded
    primary_schema, backup_schema = _schema_shapes(primary), _schema_shapes(backup)
    missing_attributes = [name for name in primary_schema if name not in backup_schema]
    differing_attributes = [
        {"attribute": name, "primary": shape, "backup": backup_schema[name]}
        for name, shape in primary_schema.items()
        if name in backup_schema and backup_schema[name] != shape
    ]
    backup_names = _client_names(backup_clients)
    missing_clients = [name for name in _client_names(primary_clients) if name not in backup_names]
    facts = {
        "primary_pool": primary["Id"],
        "backup_pool": backup["Id"],
        "missing_attributes": missing_attributes,
        "differing_attributes": differing_attributes,
        "missing_clients": missing_clients,
    }
    problems = []
    if missing_attributes:
        problems.append(f"backup pool lacks attributes {', '.join(missing_attributes)}")
    problems.extend(
        f"attribute {d['attribute']} is {_shape_text(d['primary'])} in the primary but "
        f"{_shape_text(d['backup'])} in the backup"
        for d in differing_attributes
    )
    if missing_clients:
        problems.append(f"backup pool lacks app clients {', '.join(missing_clients)}")
    if problems:
        return failing(item_id, "; ".join(problems), **facts)
    return verified(
        item_id,
        f"backup pool {backup['Id']} in {config.secondary_region} has the primary's "
        f"{len(primary_schema)} attributes and {len(primary_clients)} app clients",
        **facts,
    )


@probe("cognito.parity", collectors=("cognito",), actions=_ACTIONS)
def parity(config: EnvironmentConfig, *, cognito: CognitoSnapshot) -> ProbeResult:
    """Triggers (by function name, since ARNs name their region), app clients matched by name,
    password policy, MFA and schema are the same in both pools; the facts list every difference."""
    item_id = "cognito.parity"
    loaded = _loaded(item_id, config, cognito)
    if isinstance(loaded, ProbeResult):
        return loaded
    (primary, primary_clients), (backup, backup_clients) = loaded
    diff = [
        *_differences(_pool_settings(primary), _pool_settings(backup)),
        *_client_differences(primary_clients, backup_clients),
    ]
    facts = {"primary_pool": primary["Id"], "backup_pool": backup["Id"], "diff": diff}
    if diff:
        fields = [entry["field"] for entry in diff]
        shown = ", ".join(fields[:_SHOWN_DIFFERENCES]) + (", …" if len(fields) > _SHOWN_DIFFERENCES else "")
        settings = "setting" if len(diff) == 1 else "settings"
        return failing(
            item_id,
            f"backup pool {backup['Id']} differs from {primary['Id']} in {len(diff)} {settings}: {shown}",
            **facts,
        )
    return verified(
        item_id,
        f"backup pool {backup['Id']} matches {primary['Id']} in triggers, app clients, "
        "password policy, MFA and schema",
        **facts,
    )


def _loaded(
    item_id: str, config: EnvironmentConfig, cognito: CognitoSnapshot
) -> tuple[Loaded, Loaded] | ProbeResult:
    """Both pools and their clients, or the result that stops the probe before comparing them."""
    if cognito.primary is None:
        return not_configured(item_id, "cognito_primary_pool", config.name)
    if cognito.backup is None:
        return not_configured(item_id, "cognito_backup_pool", config.name)
    snapshots = {"primary": cognito.primary, "backup": cognito.backup}
    errors = [
        str(value)
        for snapshot in snapshots.values()
        for value in (snapshot.pool, snapshot.clients)
        if isinstance(value, AwsError)
    ]
    if errors:
        return errored(item_id, "; ".join(errors))
    loaded = [
        (snapshot.pool, snapshot.clients)
        for snapshot in snapshots.values()
        if isinstance(snapshot.pool, dict) and not isinstance(snapshot.clients, AwsError)
    ]
    if len(loaded) < len(snapshots):
        return failing(
            item_id,
            "; ".join(
                f"{role} user pool {snapshot.pool_id} not found in {snapshot.region}"
                for role, snapshot in snapshots.items()
                if snapshot.pool is None
            ),
        )
    return loaded[0], loaded[1]


def _pool_settings(pool: dict[str, Any]) -> dict[str, Any]:
    """The pool's compared settings as flat {field: value}; the field names appear in the diff."""
    settings: dict[str, Any] = {f"trigger {trigger}": name for trigger, name in _triggers(pool).items()}
    password_policy = pool.get("Policies", {}).get("PasswordPolicy", {})
    settings.update({f"password policy {key}": value for key, value in password_policy.items()})
    settings["MfaConfiguration"] = pool.get("MfaConfiguration")
    settings.update({f"attribute {name}": attribute for name, attribute in _schema(pool).items()})
    return settings


def _schema(pool: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every attribute's full definition (type, flags, constraints) by name."""
    return {
        attribute["Name"]: {key: value for key, value in attribute.items() if key != "Name"}
        for attribute in pool.get("SchemaAttributes", [])
    }


def _schema_shapes(pool: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What a user record depends on: each attribute's type and whether it is required and mutable."""
    return {
        name: {
            "type": attribute.get("AttributeDataType"),
            "required": attribute.get("Required"),
            "mutable": attribute.get("Mutable"),
        }
        for name, attribute in _schema(pool).items()
    }


def _shape_text(shape: dict[str, Any]) -> str:
    required = "required" if shape["required"] else "optional"
    mutable = "mutable" if shape["mutable"] else "immutable"
    return f"{shape['type']}, {required}, {mutable}"


def _client_names(clients: tuple[dict[str, Any], ...]) -> list[str]:
    return sorted(client["ClientName"] for client in clients)


def _triggers(pool: dict[str, Any]) -> dict[str, Any]:
    """Each trigger's function name (the last part of its ARN before any qualifier), by trigger type.

    Versioned triggers (PreTokenGenerationConfig, CustomSMSSender, ...) also keep their LambdaVersion.
    The KMS key is regional by nature and not a trigger.
    """
    triggers: dict[str, Any] = {}
    for trigger, value in pool.get("LambdaConfig", {}).items():
        if trigger == "KMSKeyID":
            continue
        if isinstance(value, str):
            triggers[trigger] = _function_name(value)
        else:
            for key, setting in value.items():
                triggers[f"{trigger}.{key}"] = _function_name(setting) if key == "LambdaArn" else setting
    return triggers


def _function_name(arn: str) -> str:
    parts = arn.split(":")
    return parts[6] if len(parts) > 6 else arn


def _client_differences(
    primary: tuple[dict[str, Any], ...], backup: tuple[dict[str, Any], ...]
) -> list[dict[str, Any]]:
    by_name = {client["ClientName"]: client for client in backup}
    diff = []
    if _client_names(primary) != _client_names(backup):
        diff.append(
            {"field": "app clients", "primary": _client_names(primary), "backup": _client_names(backup)}
        )
    for client in primary:
        other = by_name.get(client["ClientName"])
        if other is not None:
            diff.extend(_differences(_client_settings(client), _client_settings(other)))
    return diff


def _client_settings(client: dict[str, Any]) -> dict[str, Any]:
    """The client's compared settings as flat {field: value}; lists compare as sets."""
    prefix = f"app client {client['ClientName']} "
    settings = {f"{prefix}{field}": sorted(client.get(field, [])) for field in _SET_CLIENT_FIELDS}
    settings.update({f"{prefix}{field}": client.get(field) for field in _VALUE_CLIENT_FIELDS})
    return settings


def _differences(primary: dict[str, Any], backup: dict[str, Any]) -> list[dict[str, Any]]:
    """{"field", "primary", "backup"} for each key whose values differ; an absent key reads as None."""
    return [
        {"field": key, "primary": primary.get(key), "backup": backup.get(key)}
        for key in sorted(primary.keys() | backup.keys())
        if primary.get(key) != backup.get(key)
    ]
