"""Cognito: the primary user pool (primary region) and its backup (secondary region), with app clients.

Each pool is described once and each of its app clients once, concurrently.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from mission_control.verification.aws import AwsClients, AwsError, call, paginate
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.registry import collector

MAX_WORKERS = 16


@dataclass(frozen=True)
class UserPoolSnapshot:
    """`pool` is DescribeUserPool's UserPool, None when it does not exist in `region`; `clients` are
    DescribeUserPoolClient's UserPoolClient for each of its app clients."""

    pool_id: str
    region: str
    pool: dict[str, Any] | AwsError | None
    clients: tuple[dict[str, Any], ...] | AwsError = ()


@dataclass(frozen=True)
class CognitoSnapshot:
    """A pool is None when its key (cognito_primary_pool, cognito_backup_pool) is not configured."""

    primary: UserPoolSnapshot | None
    backup: UserPoolSnapshot | None


@collector("cognito")
def collect_cognito(config: EnvironmentConfig, clients: AwsClients) -> CognitoSnapshot:
    def describe(pool_id: str | None, region: str) -> UserPoolSnapshot | None:
        return _user_pool(clients, pool_id, region) if pool_id else None

    pool_ids = (config.cognito_primary_pool, config.cognito_backup_pool)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="cognito") as pool:
        primary, backup = pool.map(describe, pool_ids, config.regions)
    return CognitoSnapshot(primary, backup)


def _user_pool(clients: AwsClients, pool_id: str, region: str) -> UserPoolSnapshot:
    client = clients.get("cognito-idp", region)
    response = call(
        client,
        "describe_user_pool",
        action="cognito-idp:DescribeUserPool",
        resource=f"user pool {pool_id}",
        region=region,
        UserPoolId=pool_id,
    )
    if isinstance(response, AwsError):
        return UserPoolSnapshot(
            pool_id, region, None if response.code == "ResourceNotFoundException" else response
        )
    return UserPoolSnapshot(pool_id, region, response["UserPool"], _app_clients(client, pool_id, region))


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
    if not listed:
        return ()
    with ThreadPoolExecutor(
        max_workers=min(MAX_WORKERS, len(listed)), thread_name_prefix="cognito-client"
    ) as pool:
        described = list(pool.map(lambda entry: _app_client(client, pool_id, entry, region), listed))
    errors = [response for response in described if isinstance(response, AwsError)]
    return errors[0] if errors else tuple(described)


def _app_client(client: Any, pool_id: str, entry: dict[str, Any], region: str) -> dict[str, Any] | AwsError:
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
