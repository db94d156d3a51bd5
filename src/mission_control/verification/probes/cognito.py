"""Cognito probes: a counterpart in the secondary region users can fail over to (a backup pool, or the
pool's own multi-Region replica), its parity with the primary in everything sign-in depends on, and,
with a replica, tokens that validate in both regions."""

from __future__ import annotations

from typing import Any

from mission_control.verification.aws import AwsError
from mission_control.verification.collectors.cognito import (
    REPLICA,
    CognitoSnapshot,
    Replication,
    UserPoolSnapshot,
)
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.registry import probe
from mission_control.verification.results import (
    ProbeResult,
    Status,
    errored,
    failing,
    not_configured,
    verified,
)
from mission_control.verification.user_pool_settings import (
    client_names,
    pool_settings,
    provider_names,
    schema,
)

_ACTIONS = (
    "cognito-idp:DescribeUserPool",
    "cognito-idp:ListUserPoolClients",
    "cognito-idp:DescribeUserPoolClient",
    "cognito-idp:ListIdentityProviders",
    "cognito-idp:DescribeIdentityProvider",
    "cognito-idp:GetUserPoolMfaConfig",
    "cognito-idp:ListUserPoolReplicas",
    "kms:DescribeKey",
)
_SHOWN_DIFFERENCES = 5
ACTIVE = "ACTIVE"


@probe(
    "cognito.backup-pool",
    config_keys=("cognito_backup_pool", "cognito_primary_pool"),
    collectors=("cognito",),
    actions=_ACTIONS,
    fix=(
        "Serve sign-in in secondary_region: an ACTIVE replica of the user pool there, or "
        "cognito_backup_pool with the primary's schema attributes and app clients."
    ),
)
def backup_pool(config: EnvironmentConfig, *, cognito: CognitoSnapshot) -> ProbeResult:
    """Users can only fail over to a pool that serves them: an ACTIVE replica in the secondary region, or
    a backup pool that stores their attributes and knows the apps' client names.

    Extra attributes or clients in the backup do not block failover; cognito.parity reports them.
    """
    item_id = "cognito.backup-pool"
    replication = _replication(item_id, config, cognito)
    if isinstance(replication, ProbeResult):
        return replication
    if replication.mode == REPLICA:
        return _replica_serves(item_id, config, cognito, replication)
    loaded = _loaded(item_id, config, cognito)
    if isinstance(loaded, ProbeResult):
        return loaded
    primary, backup = loaded
    assert isinstance(primary.pool, dict) and isinstance(backup.pool, dict)
    primary_schema, backup_schema = _schema_shapes(primary.pool), _schema_shapes(backup.pool)
    missing_attributes = [name for name in primary_schema if name not in backup_schema]
    differing_attributes = [
        {"attribute": name, "primary": shape, "backup": backup_schema[name]}
        for name, shape in primary_schema.items()
        if name in backup_schema and backup_schema[name] != shape
    ]
    backup_names = client_names(backup)
    missing_clients = [name for name in client_names(primary) if name not in backup_names]
    facts = {
        "primary_pool": primary.pool_id,
        "backup_pool": backup.pool_id,
        "replication": replication.to_dict(),
        "missing_attributes": missing_attributes,
        "differing_attributes": differing_attributes,
        "missing_clients": missing_clients,
    }
    problems = _nothing_to_compare(primary)
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
        f"backup pool {backup.pool_id} in {config.secondary_region} has the primary's "
        f"{len(primary_schema)} attributes and {len(client_names(primary))} app clients",
        **facts,
    )


@probe(
    "cognito.parity",
    config_keys=("cognito_primary_pool", "cognito_backup_pool"),
    collectors=("cognito",),
    actions=_ACTIONS,
    fix=(
        "Make the counterpart pool match the primary in every difference the facts list: app clients, "
        "identity providers, MFA, password and sign-in policies, schema, triggers."
    ),
)
def parity(config: EnvironmentConfig, *, cognito: CognitoSnapshot) -> ProbeResult:
    """Everything a failover would miss is the same in the secondary region: app clients, identity
    providers, MFA, password and sign-in policy, schema, triggers (by function and qualifier); the facts
    list every difference. Regional values (ARNs' region, KMS keys, client ids) are not compared."""
    item_id = "cognito.parity"
    replication = _replication(item_id, config, cognito)
    if isinstance(replication, ProbeResult):
        return replication
    loaded = _loaded(item_id, config, cognito)
    if isinstance(loaded, ProbeResult):
        return loaded
    primary, backup = loaded
    role = _role(replication)
    diff = _differences(pool_settings(primary), pool_settings(backup))
    for what, names in (("app clients", client_names), ("identity providers", provider_names)):
        if names(primary) != names(backup):
            diff.insert(0, {"field": what, "primary": names(primary), "backup": names(backup)})
    facts = {
        "primary_pool": primary.pool_id,
        f"{role}_pool": backup.pool_id,
        "replication": replication.to_dict(),
        "diff": diff,
    }
    where = f"{role} pool {backup.pool_id} in {config.secondary_region}"
    problems = _nothing_to_compare(primary)
    if problems:
        return failing(item_id, "; ".join(problems), **facts)
    if diff:
        fields = [entry["field"] for entry in diff]
        shown = ", ".join(fields[:_SHOWN_DIFFERENCES]) + (", …" if len(fields) > _SHOWN_DIFFERENCES else "")
        settings = "setting" if len(diff) == 1 else "settings"
        return failing(
            item_id, f"{where} differs from {primary.pool_id} in {len(diff)} {settings}: {shown}", **facts
        )
    return verified(
        item_id,
        f"{where} matches {primary.pool_id} in {len(client_names(primary))} app clients, "
        f"{len(provider_names(primary))} identity providers, MFA, password policy, schema and triggers",
        **facts,
    )


@probe(
    "cognito.token-sync",
    config_keys=("cognito_primary_pool", "cognito_replication"),
    collectors=("cognito",),
    actions=_ACTIONS,
    fix=(
        "With a replica, use the multi-Region issuer and a multi-Region KMS key replicated to "
        "secondary_region; with a backup pool, record the token-sync strategy document and an "
        "attestation."
    ),
)
def token_sync(config: EnvironmentConfig, *, cognito: CognitoSnapshot) -> ProbeResult:
    """With a replica, tokens survive a failover when the pool issues them under the multi-Region issuer
    (IssuerConfiguration UPDATED: the same issuer and keys in every region) and encrypts with a
    multi-Region KMS key present in the secondary region. A separate backup pool has its own issuer
    and users, so the strategy stays a document to attest."""
    item_id = "cognito.token-sync"
    replication = _replication(item_id, config, cognito)
    if isinstance(replication, ProbeResult):
        return replication
    if replication.mode != REPLICA:
        return ProbeResult(
            item_id,
            Status.MANUAL,
            "a separate backup pool issues its own tokens: attach the token-sync strategy and attest it",
            {"replication": replication.to_dict()},
        )
    served = _replica_serves(item_id, config, cognito, replication)
    if served.status is not Status.VERIFIED:
        return served
    primary = cognito.primary
    assert primary is not None and isinstance(primary.pool, dict)
    pool_id = primary.pool_id
    issuer_type = primary.pool.get("IssuerConfiguration", {}).get("Type", "ORIGINAL")
    key_configuration = primary.pool.get("KeyConfiguration", {})
    facts: dict[str, Any] = {
        "replication": replication.to_dict(),
        "issuer_type": issuer_type,
        "key": key_configuration,
    }
    problems = []
    if issuer_type == "UPDATED":
        facts["issuer"] = f"https://issuer-cognito-idp.{config.primary_region}.amazonaws.com/{pool_id}"
    else:
        problems.append(
            f"user pool {pool_id} uses the {issuer_type} issuer https://cognito-idp.<region>.amazonaws.com/"
            f"{pool_id}, which names the region that signed the token: set IssuerConfiguration Type UPDATED"
        )
    key = cognito.key
    if isinstance(key, AwsError):
        if key.code != "NotFoundException":
            return errored(item_id, str(key), **facts)
        problems.append(f"the pool's KMS key {key_configuration.get('KmsKeyArn')} does not exist")
    elif key is None:
        problems.append(
            f"user pool {pool_id} uses no customer managed KMS key "
            f"(KeyType {key_configuration.get('KeyType', 'AWS_OWNED_KEY')}); replication needs a multi-Region one"
        )
    else:
        facts["key_metadata"] = {
            "multi_region": key.get("MultiRegion"),
            "regions": _key_regions(key),
            "enabled": key.get("Enabled"),
        }
        problems.extend(_key_problems(key, config.secondary_region))
    if problems:
        return failing(item_id, "; ".join(problems), **facts)
    return verified(
        item_id,
        f"tokens from {pool_id} carry the multi-Region issuer {facts['issuer']} and validate in "
        f"{config.secondary_region}; its KMS key is multi-Region and replicated there",
        **facts,
    )


def _replication(
    item_id: str, config: EnvironmentConfig, cognito: CognitoSnapshot
) -> Replication | ProbeResult:
    """How the secondary region is served, or the result that stops the probe before judging it."""
    if cognito.primary is None or cognito.replication is None:
        return not_configured(item_id, "cognito_primary_pool", config.name)
    if cognito.replication.mode is None:
        return errored(
            item_id,
            f"cannot tell whether user pool {cognito.primary.pool_id} is replicated: "
            f"{cognito.replication.replicas}; set cognito_replication or grant the action",
        )
    return cognito.replication


def _replica_serves(
    item_id: str, config: EnvironmentConfig, cognito: CognitoSnapshot, replication: Replication
) -> ProbeResult:
    """An ACTIVE replica of the primary pool in the secondary region (INACTIVE ones refuse end users)."""
    primary = cognito.primary
    assert primary is not None
    facts = {"primary_pool": primary.pool_id, "replication": replication.to_dict()}
    if isinstance(primary.pool, AwsError):
        return errored(item_id, str(primary.pool), **facts)
    if primary.pool is None:
        return failing(item_id, f"primary user pool {primary.pool_id} not found in {primary.region}", **facts)
    if isinstance(replication.replicas, AwsError):
        return errored(item_id, str(replication.replicas), **facts)
    replica = replication.in_region(config.secondary_region)
    if replica is None:
        listed = (
            ", ".join(f"{r.get('RegionName')} ({r.get('Status')})" for r in replication.replicas) or "none"
        )
        return failing(
            item_id,
            f"user pool {primary.pool_id} has no replica in {config.secondary_region} (replicas: {listed})",
            **facts,
        )
    if replica.get("Status") != ACTIVE:
        return failing(
            item_id,
            f"the replica of user pool {primary.pool_id} in {config.secondary_region} is "
            f"{replica.get('Status')}: only an ACTIVE replica accepts end users' requests",
            **facts,
        )
    return verified(
        item_id,
        f"user pool {primary.pool_id} has an ACTIVE replica in {config.secondary_region} "
        f"(role {replica.get('Role')})",
        **facts,
    )


def _loaded(
    item_id: str, config: EnvironmentConfig, cognito: CognitoSnapshot
) -> tuple[UserPoolSnapshot, UserPoolSnapshot] | ProbeResult:
    """Both pools with everything read, or the result that stops the probe before comparing them."""
    assert cognito.primary is not None and cognito.replication is not None
    role = _role(cognito.replication)
    if cognito.backup is None:
        return not_configured(item_id, "cognito_backup_pool", config.name)
    snapshots = {"primary": cognito.primary, role: cognito.backup}
    errors = [
        str(value)
        for snapshot in snapshots.values()
        for value in (snapshot.pool, snapshot.clients, snapshot.identity_providers, snapshot.mfa)
        if isinstance(value, AwsError)
    ]
    if errors:
        return errored(item_id, "; ".join(dict.fromkeys(errors)))
    missing = [
        f"{name} user pool {snapshot.pool_id} not found in {snapshot.region}"
        for name, snapshot in snapshots.items()
        if snapshot.pool is None
    ]
    if missing:
        return failing(item_id, "; ".join(missing))
    return cognito.primary, cognito.backup


def _role(replication: Replication) -> str:
    return "replica" if replication.mode == REPLICA else "backup"


def _nothing_to_compare(primary: UserPoolSnapshot) -> list[str]:
    """An empty schema or client list proves nothing: compared against it, any counterpart would pass."""
    assert isinstance(primary.pool, dict)
    problems = []
    if not schema(primary.pool):
        problems.append(f"DescribeUserPool shows no SchemaAttributes for primary user pool {primary.pool_id}")
    if not client_names(primary):
        problems.append(
            f"primary user pool {primary.pool_id} has no app clients: nothing signs in through it"
        )
    return problems


def _schema_shapes(pool: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What a user record depends on: each attribute's type and whether it is required and mutable."""
    return {
        name: {
            "type": attribute.get("AttributeDataType"),
            "required": attribute.get("Required"),
            "mutable": attribute.get("Mutable"),
        }
        for name, attribute in schema(pool).items()
    }


def _shape_text(shape: dict[str, Any]) -> str:
    required = "required" if shape["required"] else "optional"
    mutable = "mutable" if shape["mutable"] else "immutable"
    return f"{shape['type']}, {required}, {mutable}"


def _key_regions(key: dict[str, Any]) -> list[str]:
    """The regions holding the key: its primary and every replica (just its own for a single-Region key)."""
    configuration = key.get("MultiRegionConfiguration", {})
    keys = [configuration.get("PrimaryKey", {}), *configuration.get("ReplicaKeys", [])]
    return sorted({entry["Region"] for entry in keys if entry.get("Region")} or {key["Arn"].split(":")[3]})


def _key_problems(key: dict[str, Any], secondary_region: str) -> list[str]:
    arn = key.get("Arn", key.get("KeyId"))
    if not key.get("MultiRegion"):
        return [f"KMS key {arn} is single-Region: a replica in {secondary_region} cannot decrypt with it"]
    problems = []
    if secondary_region not in _key_regions(key):
        problems.append(f"multi-Region KMS key {arn} has no replica in {secondary_region}")
    if not key.get("Enabled", False):
        problems.append(f"KMS key {arn} is {key.get('KeyState', 'disabled')}")
    return problems


def _differences(primary: dict[str, Any], backup: dict[str, Any]) -> list[dict[str, Any]]:
    """{"field", "primary", "backup"} for each key whose values differ; an absent key reads as None."""
    return [
        {"field": key, "primary": primary.get(key), "backup": backup.get(key)}
        for key in sorted(primary.keys() | backup.keys())
        if primary.get(key) != backup.get(key)
    ]
