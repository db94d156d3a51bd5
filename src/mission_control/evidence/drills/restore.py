"""`drill restore`: PITR-restore every platform table into a scratch table, check it, time it, delete it.

A table is restored from its replica in the secondary region when it has one there, which is what a
regional failover would restore from; a table without one is restored where it lives, in the primary
region, and its step says so. (AWS can also restore across regions by SourceTableArn, but moto 5
restores by SourceTableName within one region only, so the drill uses the form that runs on both.)

Production tables are only read: DescribeTable, DescribeContinuousBackups, a COUNT scan and a few
sampled items. Every write targets a scratch table named `mc-drill-<table>-<random>`, whose deletion is
registered before it is even requested, so an interrupted drill still removes it.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mission_control.evidence.drills.record import DrillFailed, DrillRecorder
from mission_control.evidence.drills.registry import Scope, drill
from mission_control.verification.aws import AwsClients, AwsError, call
from mission_control.verification.config import EnvironmentConfig

SCRATCH_PREFIX = "mc-drill-"
DRILL_TAG = {"Key": "mission-control:drill", "Value": "restore"}
SAMPLE_SIZE = 5
POLL_SECONDS = 5.0


@dataclass(frozen=True)
class Source:
    """The table a restore reads from: the replica in the secondary region, else the primary table."""

    table: str
    region: str
    latest_restorable: datetime
    note: str


@dataclass
class Scratch:
    source: Source
    name: str
    requested_at: float  # time.monotonic() when the restore was requested
    arn: str = ""
    key_names: tuple[str, ...] = ()
    restore_seconds: float | None = None
    counts: dict[str, int] = field(default_factory=dict)


@drill(
    "restore",
    item_id="dynamodb.restore-drill",
    writes=True,
    actions=(
        "dynamodb:DescribeTable",
        "dynamodb:DescribeContinuousBackups",
        "dynamodb:RestoreTableToPointInTime",
        # AWS requires read and write permissions on the restore's target table as well.
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:GetItem",
        "dynamodb:TagResource",
        "dynamodb:DeleteTable",
    ),
    scopes=(
        Scope(
            ("dynamodb:RestoreTableToPointInTime",),  # checked on the source table and on the target
            pattern=("arn:aws:dynamodb:*:*:table/*",),
            resources=lambda config, _: _restore_resources(config),
        ),
        Scope(
            (
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:BatchWriteItem",
                "dynamodb:TagResource",
                "dynamodb:DeleteTable",
            ),
            pattern=(f"arn:aws:dynamodb:*:*:table/{SCRATCH_PREFIX}*",),
            resources=lambda config, _: _table_arns(config, (f"{SCRATCH_PREFIX}*",)),
        ),
    ),
)
def restore_drill(recorder: DrillRecorder, config: EnvironmentConfig, clients: AwsClients) -> None:
    with recorder.step("check the targets and every source table"):
        rto_target, rpo_target = _targets(config)
        sources = _sources(config, clients)
        now = datetime.now(UTC)
        lags = {s.table: round((now - s.latest_restorable).total_seconds(), 3) for s in sources}
        recorder.measure("restored_in", {s.table: s.region for s in sources})
        recorder.measure("restore_point_lag_seconds", lags)
        recorder.measure("rpo_seconds", max(lags.values()))
        recorder.measure("rpo_target_seconds", rpo_target)
        recorder.measure("rto_target_seconds", rto_target)
    scratches = []
    for source in sources:
        with recorder.step(f"restore {source.table} in {source.region}") as step:
            scratches.append(_start_restore(recorder, clients, source, cleanup_seconds=rto_target))
            step.detail = f"{source.note}; scratch table {scratches[-1].name}"
    with recorder.step("wait until every scratch table is ACTIVE"):
        _wait_until_active(clients, scratches, deadline=time.monotonic() + rto_target)
    times = {s.source.table: s.restore_seconds for s in scratches}
    recorder.measure("restore_seconds", times)
    recorder.measure("rto_seconds", max(t for t in times.values() if t is not None))
    for scratch in scratches:
        with recorder.step(f"check {scratch.name} against {scratch.source.table}") as step:
            step.detail = _check(clients, scratch)
    recorder.measure("item_counts", {s.source.table: s.counts for s in scratches})
    with recorder.step("compare with the RTO and RPO targets"):
        measured = recorder.record.measurements
        problems = [
            f"{name} {measured[f'{name}_seconds']} s is over the target of {target} s"
            for name, target in (("rto", rto_target), ("rpo", rpo_target))
            if measured[f"{name}_seconds"] > target
        ]
        if problems:
            raise DrillFailed("; ".join(problems))


def _table_arns(config: EnvironmentConfig, names: tuple[str, ...]) -> tuple[str, ...]:
    """The tables (or name patterns) in both regions; none when the drill has no table to restore."""
    if not config.platform_tables:
        return ()
    return tuple(f"arn:aws:dynamodb:{region}:*:table/{name}" for region in config.regions for name in names)


def _restore_resources(config: EnvironmentConfig) -> tuple[str, ...]:
    """A restore reads a platform table (or its replica) and writes a scratch table: AWS checks
    RestoreTableToPointInTime on both (DynamoDB Developer Guide, "Using IAM with backup and restore")."""
    return _table_arns(config, (*config.platform_tables, f"{SCRATCH_PREFIX}*"))


def _targets(config: EnvironmentConfig) -> tuple[int, int]:
    if not config.platform_tables:
        raise DrillFailed("not configured: set platform_tables")
    if config.rto_seconds is None:
        raise DrillFailed("not configured: set rto_seconds")
    if config.rpo_seconds is None:
        raise DrillFailed("not configured: set rpo_seconds")
    return config.rto_seconds, config.rpo_seconds


def _sources(config: EnvironmentConfig, clients: AwsClients) -> list[Source]:
    """Where each platform table is restored from; DrillFailed listing every table that cannot be."""
    sources, problems = [], []
    for table in config.platform_tables:
        source = _source(clients, table, config.primary_region, config.secondary_region)
        if isinstance(source, str):
            problems.append(source)
        else:
            sources.append(source)
    if problems:
        raise DrillFailed("; ".join(problems))
    return sources


def _source(clients: AwsClients, table: str, primary: str, secondary: str) -> Source | str:
    described = _read(clients, "describe_table", "dynamodb:DescribeTable", table, primary)
    if isinstance(described, str):
        return described
    replicas = described["Table"].get("Replicas", [])
    replicated = any(r["RegionName"] == secondary and r.get("ReplicaStatus") == "ACTIVE" for r in replicas)
    region = secondary if replicated else primary
    note = (
        f"from its replica in {secondary}"
        if replicated
        else f"in {primary}, where it lives: it has no replica in {secondary}"
    )
    backups = _read(
        clients, "describe_continuous_backups", "dynamodb:DescribeContinuousBackups", table, region
    )
    if isinstance(backups, str):
        return backups
    recovery = backups["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
    if recovery.get("PointInTimeRecoveryStatus") != "ENABLED":
        return f"point-in-time recovery is off for {table} in {region}: it cannot be restored"
    return Source(table, region, recovery["LatestRestorableDateTime"], note)


def _read(clients: AwsClients, operation: str, action: str, table: str, region: str) -> Any:
    """A read of `table`; on failure, the sentence saying what is wrong (a missing table, a permission)."""
    result = call(
        clients.get("dynamodb", region),
        operation,
        action=action,
        resource=table,
        region=region,
        TableName=table,
    )
    if isinstance(result, AwsError):
        if result.code in ("ResourceNotFoundException", "TableNotFoundException"):
            return f"{table} not found in {region}"
        return str(result)
    return result


def _checked(client: Any, operation: str, action: str, resource: str, region: str, **params: Any) -> Any:
    result = call(client, operation, action=action, resource=resource, region=region, **params)
    if isinstance(result, AwsError):
        raise DrillFailed(f"{result}: {result.message}" if result.message else str(result))
    return result


def _start_restore(
    recorder: DrillRecorder, clients: AwsClients, source: Source, *, cleanup_seconds: float
) -> Scratch:
    """Request the restore, its deletion registered first: an interrupt mid-request still removes it."""
    client = clients.get("dynamodb", source.region)
    name = f"{SCRATCH_PREFIX}{source.table[:240]}-{secrets.token_hex(3)}"
    recorder.on_cleanup(
        f"delete scratch table {name} in {source.region}",
        lambda: _delete_scratch(client, name, source, deadline=time.monotonic() + cleanup_seconds),
    )
    scratch = Scratch(source, name, time.monotonic())
    restored = _checked(
        client,
        "restore_table_to_point_in_time",
        "dynamodb:RestoreTableToPointInTime",
        source.table,
        source.region,
        SourceTableName=source.table,
        TargetTableName=name,
        UseLatestRestorableTime=True,
    )["TableDescription"]
    scratch.key_names = tuple(key["AttributeName"] for key in restored["KeySchema"])
    scratch.arn = restored["TableArn"]
    return scratch


def _wait_until_active(clients: AwsClients, scratches: list[Scratch], *, deadline: float) -> None:
    """Poll every pending restore until ACTIVE, timing and then tagging each; DrillFailed past `deadline`.

    Tagging waits for ACTIVE (a table still CREATING may refuse it); until then the name prefix marks it.
    """
    pending = list(scratches)
    while True:
        for scratch in list(pending):
            region = scratch.source.region
            table = _checked(
                clients.get("dynamodb", region),
                "describe_table",
                "dynamodb:DescribeTable",
                scratch.name,
                region,
                TableName=scratch.name,
            )["Table"]
            if table["TableStatus"] == "ACTIVE":
                scratch.restore_seconds = round(time.monotonic() - scratch.requested_at, 3)
                pending.remove(scratch)
                _checked(
                    clients.get("dynamodb", region),
                    "tag_resource",
                    "dynamodb:TagResource",
                    scratch.name,
                    region,
                    ResourceArn=scratch.arn,
                    Tags=[DRILL_TAG, {"Key": "mission-control:source-table", "Value": scratch.source.table}],
                )
        if not pending:
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            names = ", ".join(s.name for s in pending)
            raise DrillFailed(f"not ACTIVE within the RTO target: {names}")
        time.sleep(min(POLL_SECONDS, remaining))


def _check(clients: AwsClients, scratch: Scratch) -> str:
    """Compare item counts and sampled items with the source; the summary, or DrillFailed naming each gap."""
    source, region = scratch.source.table, scratch.source.region
    client = clients.get("dynamodb", region)
    scratch.counts = {
        "source": _count(client, source, region),
        "restored": _count(client, scratch.name, region),
    }
    sampled = _checked(
        client, "scan", "dynamodb:Scan", source, region, TableName=source, Limit=SAMPLE_SIZE
    ).get("Items", [])
    differing = 0
    for item in sampled:
        key = {name: item[name] for name in scratch.key_names}
        restored = _checked(
            client,
            "get_item",
            "dynamodb:GetItem",
            scratch.name,
            region,
            TableName=scratch.name,
            Key=key,
            ConsistentRead=True,
        ).get("Item")
        differing += restored != item
    problems = []
    if scratch.counts["source"] != scratch.counts["restored"]:
        problems.append(
            f"{scratch.name} holds {scratch.counts['restored']} items, {source} {scratch.counts['source']}"
        )
    if differing:
        problems.append(f"{differing} of {len(sampled)} sampled items of {source} differ in {scratch.name}")
    if problems:
        raise DrillFailed("; ".join(problems) + " (or the source changed after the restore point)")
    return f"{scratch.counts['restored']} items, as in {source}; {len(sampled)} sampled items match"


def _count(client: Any, table: str, region: str) -> int:
    count, start = 0, None
    while True:
        params: dict[str, Any] = {"TableName": table, "Select": "COUNT"}
        if start:
            params["ExclusiveStartKey"] = start
        page = _checked(client, "scan", "dynamodb:Scan", table, region, **params)
        count += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return count


def _delete_scratch(client: Any, name: str, source: Source, *, deadline: float) -> None:
    """Delete a scratch table, waiting while its restore still runs; a table never created is fine."""
    if not name.startswith(SCRATCH_PREFIX) or name == source.table:
        raise DrillFailed(f"refusing to delete {name}: not a scratch table of this drill")
    while True:
        result = call(
            client,
            "delete_table",
            action="dynamodb:DeleteTable",
            resource=name,
            region=source.region,
            TableName=name,
        )
        if not isinstance(result, AwsError) or result.code == "ResourceNotFoundException":
            return
        remaining = deadline - time.monotonic()
        if result.code != "ResourceInUseException" or remaining <= 0:
            raise DrillFailed(f"{result}: delete the scratch table {name} by hand")
        time.sleep(min(POLL_SECONDS, remaining))
