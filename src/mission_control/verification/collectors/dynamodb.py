"""DynamoDB: each configured table's description and continuous-backup settings, in the primary region.

Two calls per table (one when the table does not exist), fetched concurrently: estates with a
thousand tables must verify in seconds. A table whose description lists no replicas costs a third,
DescribeGlobalTable: legacy global tables (version 2017.11.29) show their replicas only there.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from mission_control.verification.aws import AwsClients, AwsError, call
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.registry import collector

MAX_WORKERS = 16
_NOT_FOUND_CODES = {"ResourceNotFoundException", "TableNotFoundException", "GlobalTableNotFoundException"}


@dataclass(frozen=True)
class TableSnapshot:
    """`description` is DescribeTable's Table, None when the table does not exist."""

    name: str
    description: dict[str, Any] | AwsError | None
    continuous_backups: dict[str, Any] | AwsError | None  # ContinuousBackupsDescription
    legacy_global_table: dict[str, Any] | AwsError | None = None  # DescribeGlobalTable's, when read


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
    legacy = None
    if isinstance(described, dict) and not described.get("Replicas"):
        legacy = _unwrap(
            call(
                client,
                "describe_global_table",
                action="dynamodb:DescribeGlobalTable",
                resource=name,
                region=region,
                GlobalTableName=name,
            ),
            "GlobalTableDescription",
        )
    return TableSnapshot(name, described, backups, legacy)


def _unwrap(response: Any, key: str) -> dict[str, Any] | AwsError | None:
    """The response's `key`, the AwsError, or None when the table does not exist."""
    if isinstance(response, AwsError):
        return None if response.code in _NOT_FOUND_CODES else response
    return response[key]
