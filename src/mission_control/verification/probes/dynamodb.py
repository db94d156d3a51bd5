"""DynamoDB probes: global-table replicas in the secondary region, PITR, and a copy that leaves the region."""

from __future__ import annotations

from typing import Any

from mission_control.verification.aws import AwsError
from mission_control.verification.collectors.backup import BackupSnapshot, plan_copies
from mission_control.verification.collectors.dynamodb import DynamoDBSnapshot, TableSnapshot
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.registry import probe
from mission_control.verification.results import ProbeResult, errored, failing, not_configured, verified

_PITR_ACTIONS = (
    "dynamodb:DescribeTable",
    "dynamodb:DescribeContinuousBackups",
    "backup:ListBackupPlans",
    "backup:GetBackupPlan",
    "backup:ListBackupSelections",
    "backup:GetBackupSelection",
    "dynamodb:ListExports",
    "dynamodb:DescribeExport",
    "s3:GetBucketLocation",
)


@probe("dynamodb.global-main", collectors=("dynamodb",), actions=("dynamodb:DescribeTable",))
def global_main(config: EnvironmentConfig, *, dynamodb: DynamoDBSnapshot) -> ProbeResult:
    item_id = "dynamodb.global-main"
    if not config.main_table:
        return not_configured(item_id, "main_table", config.name)
    table = dynamodb.tables[config.main_table]
    facts = {"table": table.name, "replicas": _replicas(table)}
    if isinstance(table.description, AwsError):
        return errored(item_id, str(table.description), **facts)
    problem = _replica_problem(table, config.secondary_region, dynamodb.region)
    if problem:
        return failing(item_id, problem, **facts)
    return verified(item_id, f"{table.name} has an ACTIVE replica in {config.secondary_region}", **facts)


@probe("dynamodb.global-platform", collectors=("dynamodb",), actions=("dynamodb:DescribeTable",))
def global_platform(config: EnvironmentConfig, *, dynamodb: DynamoDBSnapshot) -> ProbeResult:
    item_id = "dynamodb.global-platform"
    names = tuple(dict.fromkeys(config.platform_tables))
    if not names:
        return not_configured(item_id, "platform_tables", config.name)
    tables = [dynamodb.tables[name] for name in names]
    facts = {"replicas": {table.name: _replicas(table) for table in tables}}
    errors = [str(table.description) for table in tables if isinstance(table.description, AwsError)]
    if errors:
        return errored(item_id, "; ".join(errors), **facts)
    problems = [
        problem
        for problem in (_replica_problem(t, config.secondary_region, dynamodb.region) for t in tables)
        if problem
    ]
    if problems:
        return failing(
            item_id,
            f"{len(problems)} of {len(tables)} platform tables lack an ACTIVE replica in "
            f"{config.secondary_region}: {'; '.join(problems)}",
            **facts,
        )
    return verified(
        item_id,
        f"all {len(tables)} platform tables have an ACTIVE replica in {config.secondary_region}",
        **facts,
    )


@probe("dynamodb.pitr-backup-copy", collectors=("dynamodb", "backup"), actions=_PITR_ACTIONS)
def pitr_backup_copy(
    config: EnvironmentConfig, *, dynamodb: DynamoDBSnapshot, backup: BackupSnapshot
) -> ProbeResult:
    item_id = "dynamodb.pitr-backup-copy"
    names = tuple(dict.fromkeys(config.platform_tables))
    if not names:
        return not_configured(item_id, "platform_tables", config.name)
    errors: list[str] = []
    problems: list[str] = []
    facts: dict[str, Any] = {}
    for name in names:
        table = dynamodb.tables[name]
        if table.description is None:
            problems.append(f"table {name} not found in {dynamodb.region}")
            continue
        pitr = _pitr_status(table)
        copies, copy_errors = _copies(name, backup, config)
        facts[name] = {"pitr": pitr if isinstance(pitr, str) else None, "copies": copies}
        if isinstance(pitr, AwsError):
            errors.append(str(pitr))
        elif pitr != "ENABLED":
            problems.append(f"PITR is {pitr.lower()} on {name}")
        if copy_errors and not copies:
            errors.extend(str(error) for error in copy_errors)
        elif not copies:
            problems.append(f"no copy of {name} reaches {config.secondary_region}")
    if errors:
        return errored(item_id, "; ".join(dict.fromkeys(errors)), tables=facts)
    if problems:
        return failing(item_id, "; ".join(problems), tables=facts)
    return verified(
        item_id,
        f"PITR is enabled on all {len(names)} platform tables and each is copied to {config.secondary_region}",
        tables=facts,
    )


def _replicas(table: TableSnapshot) -> list[dict[str, str]]:
    if not isinstance(table.description, dict):
        return []
    return [
        {"region": replica["RegionName"], "status": replica.get("ReplicaStatus", "UNKNOWN")}
        for replica in table.description.get("Replicas", [])
    ]


def _replica_problem(table: TableSnapshot, secondary_region: str, region: str) -> str | None:
    if table.description is None:
        return f"table {table.name} not found in {region}"
    replica = next((r for r in _replicas(table) if r["region"] == secondary_region), None)
    if replica is None:
        return f"{table.name} has no replica in {secondary_region}"
    if replica["status"] != "ACTIVE":
        return f"{table.name}'s replica in {secondary_region} is {replica['status']}, not ACTIVE"
    return None


def _pitr_status(table: TableSnapshot) -> str | AwsError:
    if isinstance(table.continuous_backups, AwsError):
        return table.continuous_backups
    description = table.continuous_backups or {}
    recovery = description.get("PointInTimeRecoveryDescription", {})
    return recovery.get("PointInTimeRecoveryStatus", "DISABLED")


def _copies(name: str, backup: BackupSnapshot, config: EnvironmentConfig) -> tuple[list[str], list[AwsError]]:
    """Every way a copy of `name` reaches the secondary region, and the errors that may hide one."""
    if isinstance(backup.plans, AwsError):
        copies, errors = [], [backup.plans]
    else:
        copies, errors = plan_copies(backup.plans, name, backup.region, config.secondary_region)
    if copies:
        return copies, errors
    if isinstance(backup.exports, AwsError):
        return [], [*errors, backup.exports]
    export = backup.exports.get(name)
    if isinstance(export, AwsError):
        return [], [*errors, export]
    if export is None:
        return [], errors
    if isinstance(export.bucket_region, AwsError):
        return [], [*errors, export.bucket_region]
    if export.bucket_region != config.secondary_region:
        return [], errors
    return [
        f"export {export.arn} to bucket {export.bucket} ({export.bucket_region}) at {export.export_time}"
    ], []
