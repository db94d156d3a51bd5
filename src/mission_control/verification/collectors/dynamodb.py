"""DynamoDB: each configured table's description and continuous-backup settings, in the primary region.

Exactly two calls per table (one when the table does not exist), fetched concurrently: estates with
a thousand tables must verify in seconds.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from mission_control.verification.aws import AwsClients, AwsError, call
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.registry import collector

MAX_WORKERS = 16
_NOT_FOUND_CODES = {"ResourceNotFoundException", "TableNotFoundException"}


@dataclass(frozen=True)
class TableSnapshot:
    """`description` is DescribeTable's Table, None when the table does not exist."""

    name: str
    description: dict[str, Any] | AwsError | None
    continuous_backups: dict[str, Any] | AwsError | None  # ContinuousBackupsDescription


@dataclass(frozen=True)
class DynamoDBSnapshot:
    region: str
    tables: dict[str, TableSnapshot]


def configured_tables(config: EnvironmentConfig) -> tuple[str, ...]:
    """main_table and platform_tables, each once, in configuration order."""
    names = [config.main_table] if config.main_table else []
    return tuple(dict.fromkeys([*names, *config.platform_tables]))


@collector("dynamodb")
def collect_dynamodb(config: EnvironmentConfig, clients: AwsClients) -> DynamoDBSnapshot:
    region = config.primary_region
    names = configured_tables(config)
    if not names:
        return DynamoDBSnapshot(region, {})
    client = clients.get("dynamodb", region)
    with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(names)), thread_name_prefix="dynamodb") as pool:
        tables = list(pool.map(lambda name: _table(client, name, region), names))
    return DynamoDBSnapshot(region, {table.name: table for table in tables})


def _table(client: Any, name: str, region: str) -> TableSnapshot:
    described = _unwrap(
        call(
            client,
            "describe_table",
            action="dynamodb:DescribeTable",
            resource=name,
            region=region,
            TableName=name,
        ),
        "Table",
    )
    if described is None:
        return TableSnapshot(name, None, None)
    backups = _unwrap(
        call(
            client,
            "describe_continuous_backups",
            action="dynamodb:DescribeContinuousBackups",
            resource=name,
            region=region,
            TableName=name,
        ),
        "ContinuousBackupsDescription",
    )
    return TableSnapshot(name, described, backups)


def _unwrap(response: Any, key: str) -> dict[str, Any] | AwsError | None:
    """The response's `key`, the AwsError, or None when the table does not exist."""
    if isinstance(response, AwsError):
        return None if response.code in _NOT_FOUND_CODES else response
    return response[key]
