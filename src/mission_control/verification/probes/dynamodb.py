"""DynamoDB probes: global-table replicas in the secondary region, PITR, and a copy that leaves the region."""

from __future__ import annotations

from typing import Any

from mission_control.verification.aws import AwsError
from mission_control.verification.backup_coverage import Coverage, table_coverage
from mission_control.verification.collectors.backup import BackupSnapshot
from mission_control.verification.collectors.dynamodb import DynamoDBSnapshot, TableSnapshot
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.registry import probe
from mission_control.verification.results import ProbeResult, errored, failing, not_configured, verified

_REPLICA_ACTIONS = ("dynamodb:DescribeTable", "dynamodb:DescribeGlobalTable")
# A replica serves reads and writes while ACTIVE and while UPDATING (a settings change such as capacity
# or an index is in progress); CREATING, DELETING, INACCESSIBLE_ENCRYPTION_CREDENTIALS, ARCHIVING,
# ARCHIVED, REGION_DISABLED and the failure states do not serve a failover.
SERVING_STATUSES = ("ACTIVE", "UPDATING")
_PITR_ACTIONS = (
    "dynamodb:DescribeTable",
    "dynamodb:DescribeContinuousBackups",
    "backup:ListBackupPlans",
    "backup:GetBackupPlan",
    "backup:ListBackupSelections",
    "backup:GetBackupSelection",
    "backup:DescribeRegionSettings",
    "backup:DescribeBackupVault",
    "dynamodb:ListTagsOfResource",
    "dynamodb:ListExports",
    "dynamodb:DescribeExport",
    "s3:GetBucketLocation",
)


@probe(
    "dynamodb.global-main",
    config_keys=("main_table",),
    collectors=("dynamodb",),
    actions=_REPLICA_ACTIONS,
    fix=("Add a replica of main_table in secondary_region (a global table) and wait until it is ACTIVE."),
)
def global_main(config: EnvironmentConfig, *, dynamodb: DynamoDBSnapshot) -> ProbeResult:
    item_id = "dynamodb.global-main"
    if not config.main_table:
        return not_configured(item_id, "main_table", config.name)
    table = dynamodb.tables[config.main_table]
    facts = {"table": table.name, **_global_facts(table)}
    unreadable = _unreadable(table)
    if unreadable:
        return errored(item_id, str(unreadable), **facts)
    problem = _replica_problem(table, config.secondary_region, dynamodb.region)
    if problem:
        return failing(item_id, problem, **facts)
    note = _replica_note(table, config.secondary_region)
    summary = f"{table.name} has a serving replica in {config.secondary_region}"
    return verified(item_id, f"{summary} ({note})" if note else summary, **facts)


@probe(
    "dynamodb.global-platform",
    config_keys=("platform_tables",),
    collectors=("dynamodb",),
    actions=_REPLICA_ACTIONS,
    fix=(
        "Add a replica in secondary_region to every table of platform_tables and wait until each is ACTIVE."
    ),
)
def global_platform(config: EnvironmentConfig, *, dynamodb: DynamoDBSnapshot) -> ProbeResult:
    item_id = "dynamodb.global-platform"
    names = tuple(dict.fromkeys(config.platform_tables))
    if not names:
        return not_configured(item_id, "platform_tables", config.name)
    tables = [dynamodb.tables[name] for name in names]
    facts: dict[str, Any] = {"tables": {table.name: _global_facts(table) for table in tables}}
    errors = [str(error) for table in tables if (error := _unreadable(table))]
    problems = [
        problem
        for table in tables
        if not _unreadable(table)
        and (problem := _replica_problem(table, config.secondary_region, dynamodb.region))
    ]
    if problems:
        if errors:
            facts["unreadable"] = errors
        return failing(
            item_id,
            f"{len(problems)} of {len(tables)} platform tables lack a serving replica in "
            f"{config.secondary_region}: {'; '.join(problems)}",
            **facts,
        )
    if errors:
        return errored(item_id, "; ".join(errors), **facts)
    notes = [note for table in tables if (note := _replica_note(table, config.secondary_region))]
    summary = f"all {len(tables)} platform tables have a serving replica in {config.secondary_region}"
    return verified(item_id, f"{summary} ({'; '.join(notes)})" if notes else summary, **facts)


@probe(
    "dynamodb.pitr-backup-copy",
    config_keys=("platform_tables",),
    collectors=("dynamodb", "backup"),
    actions=_PITR_ACTIONS,
    fix=(
        "Enable point-in-time recovery on every table of platform_tables and copy their backups into "
        "secondary_region: an AWS Backup plan copying into a vault there (DynamoDB opted in), or an "
        "export to a bucket in that region."
    ),
)
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
        coverage = _copies(name, backup, config)
        facts[name] = {"pitr": pitr if isinstance(pitr, str) else None, "copies": coverage.routes}
        if coverage.not_counted:
            facts[name]["not_counted"] = coverage.not_counted
        if isinstance(pitr, AwsError):
            errors.append(str(pitr))
        elif pitr != "ENABLED":
            problems.append(f"PITR is {pitr.lower()} on {name}")
        if coverage.errors and not coverage.routes:
            errors.extend(str(error) for error in coverage.errors)
        elif not coverage.routes:
            why = f" ({'; '.join(coverage.not_counted)})" if coverage.not_counted else ""
            problems.append(f"no copy of {name} reaches {config.secondary_region}{why}")
    if problems:
        unreadable = {"unreadable": list(dict.fromkeys(errors))} if errors else {}
        return failing(item_id, "; ".join(problems), tables=facts, **unreadable)
    if errors:
        return errored(item_id, "; ".join(dict.fromkeys(errors)), tables=facts)
    return verified(
        item_id,
        f"PITR is enabled on all {len(names)} platform tables and each is copied to {config.secondary_region}",
        tables=facts,
    )


def _replicas(table: TableSnapshot) -> list[dict[str, str]]:
    """The table's replicas: DescribeTable's (2019.11.21), else DescribeGlobalTable's (2017.11.29)."""
    if not isinstance(table.description, dict):
        return []
    if table.description.get("Replicas"):
        return [
            {"region": replica["RegionName"], "status": replica.get("ReplicaStatus", "UNKNOWN")}
            for replica in table.description["Replicas"]
        ]
    if isinstance(table.legacy_global_table, dict):
        overall = table.legacy_global_table.get("GlobalTableStatus", "UNKNOWN")
        return [
            {"region": replica["RegionName"], "status": replica.get("ReplicaStatus", overall)}
            for replica in table.legacy_global_table.get("ReplicationGroup", [])
        ]
    return []


def _global_facts(table: TableSnapshot) -> dict[str, Any]:
    replicas = _replicas(table)
    facts: dict[str, Any] = {"replicas": replicas}
    if not replicas or not isinstance(table.description, dict):
        return facts
    legacy = not table.description.get("Replicas")
    facts["global_table_version"] = "2017.11.29" if legacy else table.description.get("GlobalTableVersion")
    facts["consistency"] = table.description.get("MultiRegionConsistency", "EVENTUAL")
    witnesses = table.description.get("GlobalTableWitnesses", [])
    if witnesses:
        facts["witnesses"] = [
            {"region": w["RegionName"], "status": w.get("WitnessStatus")} for w in witnesses
        ]
    return facts


def _unreadable(table: TableSnapshot) -> AwsError | None:
    """The error that hides the table's replicas: its description, or the legacy lookup it needed."""
    if isinstance(table.description, AwsError):
        return table.description
    needed_legacy = isinstance(table.description, dict) and not table.description.get("Replicas")
    if needed_legacy and isinstance(table.legacy_global_table, AwsError):
        return table.legacy_global_table
    return None


def _replica_problem(table: TableSnapshot, secondary_region: str, region: str) -> str | None:
    if table.description is None:
        return f"table {table.name} not found in {region}"
    replica = next((r for r in _replicas(table) if r["region"] == secondary_region), None)
    if replica is None:
        witnesses = _global_facts(table).get("witnesses", [])
        if any(witness["region"] == secondary_region for witness in witnesses):
            return f"{table.name} has only its strong-consistency witness in {secondary_region}, no replica"
        return f"{table.name} has no replica in {secondary_region}"
    if replica["status"] not in SERVING_STATUSES:
        return f"{table.name}'s replica in {secondary_region} is {replica['status']}, not ACTIVE"
    return None


def _replica_note(table: TableSnapshot, secondary_region: str) -> str | None:
    replica = next((r for r in _replicas(table) if r["region"] == secondary_region), None)
    if replica and replica["status"] == "UPDATING":
        return f"{table.name}'s replica is UPDATING: it serves reads and writes while its settings change"
    return None


def _pitr_status(table: TableSnapshot) -> str | AwsError:
    if isinstance(table.continuous_backups, AwsError):
        return table.continuous_backups
    description = table.continuous_backups or {}
    recovery = description.get("PointInTimeRecoveryDescription", {})
    return recovery.get("PointInTimeRecoveryStatus", "DISABLED")


def _copies(name: str, backup: BackupSnapshot, config: EnvironmentConfig) -> Coverage:
    """Every way a copy of `name` reaches the secondary region, and what may hide or disqualify one."""
    coverage = table_coverage(backup, name, config.secondary_region)
    if coverage.routes:
        return coverage
    if isinstance(backup.exports, AwsError):
        coverage.errors.append(backup.exports)
        return coverage
    export = backup.exports.get(name)
    if isinstance(export, AwsError):
        coverage.errors.append(export)
    elif export is not None and isinstance(export.bucket_region, AwsError):
        coverage.errors.append(export.bucket_region)
    elif export is not None and export.bucket_region == config.secondary_region:
        coverage.routes.append(
            f"export {export.arn} to bucket {export.bucket} ({export.bucket_region}) at {export.export_time}"
        )
    return coverage
