"""Cognito: the primary user pool, its counterpart in the secondary region, and how the two are related.

The counterpart is either a separate backup pool (`cognito_backup_pool`) or, with Cognito's native
multi-Region replication, the primary pool's own replica: a pool with the same id in the secondary
region (`ListUserPoolReplicas`). `cognito_replication` says which; left unset, it is detected: a replica
in the secondary region means "replica". Each pool is read once: the pool, every app client, every
identity provider and its MFA configuration, concurrently; the pool's KMS key once, where it lives.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from mission_control.verification.aws import AwsClients, AwsError, call, paginate
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.registry import collector

MAX_WORKERS = 16
BACKUP_POOL = "backup-pool"
REPLICA = "replica"


@dataclass(frozen=True)
class UserPoolSnapshot:
    """`pool` is DescribeUserPool's UserPool, None when it does not exist in `region`; `clients`,
    `identity_providers` and `mfa` are DescribeUserPoolClient's, DescribeIdentityProvider's and
    GetUserPoolMfaConfig's answers for it."""

    pool_id: str
    region: str
    pool: dict[str, Any] | AwsError | None
    clients: tuple[dict[str, Any], ...] | AwsError = ()
    identity_providers: tuple[dict[str, Any], ...] | AwsError = ()
    mfa: dict[str, Any] | AwsError | None = None


@dataclass(frozen=True)
class Replication:
    """How the secondary region is served: `mode` is BACKUP_POOL or REPLICA (None when it cannot be
    told), `source` "configured" or "detected"; `replicas` are ListUserPoolReplicas' entries."""

    mode: str | None
    source: str
    replicas: tuple[dict[str, Any], ...] | AwsError

    def in_region(self, region: str) -> dict[str, Any] | None:
        replicas = self.replicas if isinstance(self.replicas, tuple) else ()
        return next((replica for replica in replicas if replica.get("RegionName") == region), None)

    def to_dict(self) -> dict[str, Any]:
        replicas = str(self.replicas) if isinstance(self.replicas, AwsError) else list(self.replicas)
        return {"mode": self.mode, "source": self.source, "replicas": replicas}


@dataclass(frozen=True)
class CognitoSnapshot:
    """`primary` is None when cognito_primary_pool is not configured; `backup` is the counterpart the
    replication mode names (None when that is not configured or cannot be told); `key` is DescribeKey's
    KeyMetadata for the primary pool's customer managed key, None when it names none."""

    primary: UserPoolSnapshot | None
    backup: UserPoolSnapshot | None
    replication: Replication | None = None
    key: dict[str, Any] | AwsError | None = None


@collector("cognito")
def collect_cognito(config: EnvironmentConfig, clients: AwsClients) -> CognitoSnapshot:
    if not config.cognito_primary_pool:
        backup = _counterpart(clients, config, None)
        return CognitoSnapshot(None, backup)
    primary_id = config.cognito_primary_pool
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="cognito") as pool:
        primary_future = pool.submit(_user_pool, clients, primary_id, config.primary_region)
        replicas_future = pool.submit(list_replicas, clients, primary_id, config.primary_region)
        replication = replication_of(config, replicas_future.result())
        backup_future = pool.submit(_counterpart, clients, config, replication.mode)
        primary = primary_future.result()
        key = _key(clients, primary.pool) if isinstance(primary.pool, dict) else None
        return CognitoSnapshot(primary, backup_future.result(), replication, key)


def replication_of(config: EnvironmentConfig, replicas: tuple[dict[str, Any], ...] | AwsError) -> Replication:
    """The configured mode, else REPLICA when a replica is in the secondary region, else BACKUP_POOL
    when a backup pool is configured; None when the replicas cannot be read and nothing else tells."""
    if config.cognito_replication:
        return Replication(config.cognito_replication, "configured", replicas)
    detected = Replication(REPLICA, "detected", replicas)
    if detected.in_region(config.secondary_region) is not None:
        return detected
    if isinstance(replicas, AwsError) and not config.cognito_backup_pool:
        return Replication(None, "detected", replicas)
    return Replication(BACKUP_POOL, "detected", replicas)


def _counterpart(clients: AwsClients, config: EnvironmentConfig, mode: str | None) -> UserPoolSnapshot | None:
    """The replica (the primary's id in the secondary region) or the configured backup pool."""
    pool_id = config.cognito_primary_pool if mode == REPLICA else config.cognito_backup_pool
    return _user_pool(clients, pool_id, config.secondary_region) if pool_id else None


def list_replicas(clients: AwsClients, pool_id: str, region: str) -> tuple[dict[str, Any], ...] | AwsError:
    """Every page of ListUserPoolReplicas (botocore has no paginator for it)."""
    client = clients.get("cognito-idp", region)
    replicas: list[dict[str, Any]] = []
    params: dict[str, Any] = {"UserPoolId": pool_id}
    while True:
        response = call(
            client,
            "list_user_pool_replicas",
            action="cognito-idp:ListUserPoolReplicas",
            resource=f"user pool {pool_id}",
            region=region,
            **params,
        )
        if isinstance(response, AwsError):
            return () if response.code == "ResourceNotFoundException" else response
        replicas.extend(response.get("UserPoolReplicas", []))
        if not response.get("NextToken"):
            return tuple(replicas)
        params["NextToken"] = response["NextToken"]


def _user_pool(clients: AwsClients, pool_id: str, region: str) -> UserPoolSnapshot:
    client = clients.get("cognito-idp", region)
    where = {"resource": f"user pool {pool_id}", "region": region}
    response = call(
        client, "describe_user_pool", action="cognito-idp:DescribeUserPool", UserPoolId=pool_id, **where
    )
    if isinstance(response, AwsError):
        return UserPoolSnapshot(
            pool_id, region, None if response.code == "ResourceNotFoundException" else response
        )
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="cognito-pool") as pool:
        app_clients = pool.submit(_app_clients, client, pool_id, region)
        providers = pool.submit(_identity_providers, client, pool_id, region)
        mfa = call(
            client,
            "get_user_pool_mfa_config",
            action="cognito-idp:GetUserPoolMfaConfig",
            UserPoolId=pool_id,
            **where,
        )
        if not isinstance(mfa, AwsError):
            mfa = {key: value for key, value in mfa.items() if key != "ResponseMetadata"}
        return UserPoolSnapshot(
            pool_id, region, response["UserPool"], app_clients.result(), providers.result(), mfa
        )


def _described(
    listed: list[dict[str, Any]], describe: Callable[[dict[str, Any]], dict[str, Any] | AwsError]
) -> tuple[dict[str, Any], ...] | AwsError:
    """Describe each listed entry concurrently; the first AwsError stands for all."""
    if not listed:
        return ()
    with ThreadPoolExecutor(
        max_workers=min(MAX_WORKERS, len(listed)), thread_name_prefix="cognito-item"
    ) as pool:
        described = list(pool.map(describe, listed))
    errors = [response for response in described if isinstance(response, AwsError)]
    return errors[0] if errors else tuple(described)


def _app_clients(client: Any, pool_id: str, region: str) -> tuple[dict[str, Any], ...] | AwsError:
    listed = paginate(
        client,
        "list_user_pool_clients",
        "UserPoolClients",
        action="cognito-idp:ListUserPoolClients",
        resource=f"user pool {pool_id}",
        region=region,
        UserPoolId=pool_id,
        MaxResults=60,
    )
    if isinstance(listed, AwsError):
        return listed

    def describe(entry: dict[str, Any]) -> dict[str, Any] | AwsError:
        response = call(
            client,
            "describe_user_pool_client",
            action="cognito-idp:DescribeUserPoolClient",
            resource=f"app client {entry.get('ClientName', entry['ClientId'])} of user pool {pool_id}",
            region=region,
            UserPoolId=pool_id,
            ClientId=entry["ClientId"],
        )
        return response if isinstance(response, AwsError) else response["UserPoolClient"]

    return _described(listed, describe)


def _identity_providers(client: Any, pool_id: str, region: str) -> tuple[dict[str, Any], ...] | AwsError:
    listed = paginate(
        client,
        "list_identity_providers",
        "Providers",
        action="cognito-idp:ListIdentityProviders",
        resource=f"user pool {pool_id}",
        region=region,
        UserPoolId=pool_id,
        MaxResults=60,
    )
    if isinstance(listed, AwsError):
        return listed

    def describe(entry: dict[str, Any]) -> dict[str, Any] | AwsError:
        response = call(
            client,
            "describe_identity_provider",
            action="cognito-idp:DescribeIdentityProvider",
            resource=f"identity provider {entry['ProviderName']} of user pool {pool_id}",
            region=region,
            UserPoolId=pool_id,
            ProviderName=entry["ProviderName"],
        )
        return response if isinstance(response, AwsError) else response["IdentityProvider"]

    return _described(listed, describe)


def _key(clients: AwsClients, pool: dict[str, Any]) -> dict[str, Any] | AwsError | None:
    """DescribeKey's KeyMetadata for the pool's customer managed key, in the key's own region."""
    arn = pool.get("KeyConfiguration", {}).get("KmsKeyArn")
    if not arn:
        return None
    region = arn.split(":")[3]
    response = call(
        clients.get("kms", region), "describe_key", action="kms:DescribeKey", resource=f"key {arn}", region=region,
        KeyId=arn,
    )  # fmt: skip
    return response if isinstance(response, AwsError) else response["KeyMetadata"]
