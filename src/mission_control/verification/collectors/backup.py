"""AWS Backup plans and DynamoDB exports in the primary region: the ways a table's copy leaves it.

Plans are read whole (a few calls per plan, not per table). Exports are looked up only for platform
tables no plan copies to the secondary region, one DescribeExport each, so a fully planned estate
costs nothing per table here.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from mission_control.verification.aws import AwsClients, AwsError, call, paginate
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.registry import collector

MAX_WORKERS = 16


@dataclass(frozen=True)
class BackupPlan:
    """Selections are fetched only for plans with a rule copying to the secondary region."""

    id: str
    name: str
    rules: tuple[dict[str, Any], ...] | AwsError  # GetBackupPlan's BackupPlan.Rules
    selections: tuple[dict[str, Any], ...] | AwsError  # each GetBackupSelection's BackupSelection


@dataclass(frozen=True)
class TableExport:
    """The newest completed export of a table, and the region of the bucket it went to."""

    table: str
    arn: str
    bucket: str
    bucket_region: str | AwsError
    export_time: str | None


@dataclass(frozen=True)
class BackupSnapshot:
    region: str
    plans: tuple[BackupPlan, ...] | AwsError
    exports: dict[str, TableExport | AwsError] | AwsError  # by table, for tables no plan copies


def arn_region(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else ""


def plan_copies(
    plans: tuple[BackupPlan, ...], table: str, source_region: str, destination_region: str
) -> tuple[list[str], list[AwsError]]:
    """How backup plans copy `table` to `destination_region`, and the errors that hid any other way."""
    routes: list[str] = []
    errors: list[AwsError] = []
    for plan in plans:
        if isinstance(plan.rules, AwsError):
            errors.append(plan.rules)
            continue
        copies = _copies_to(plan.rules, destination_region)
        if not copies:
            continue
        if isinstance(plan.selections, AwsError):
            errors.append(plan.selections)
        elif any(_selects(selection, table, source_region) for selection in plan.selections):
            routes.extend(f"backup plan {plan.name} rule {rule} copies to {vault}" for rule, vault in copies)
    return routes, errors


@collector("backup")
def collect_backup(config: EnvironmentConfig, clients: AwsClients) -> BackupSnapshot:
    region = config.primary_region
    tables = tuple(dict.fromkeys(config.platform_tables))
    if not tables:
        return BackupSnapshot(region, (), {})
    plans = _plans(clients.get("backup", region), region, config.secondary_region)
    uncopied = [
        table
        for table in tables
        if isinstance(plans, AwsError) or not plan_copies(plans, table, region, config.secondary_region)[0]
    ]
    exports = _exports(clients, uncopied, region) if uncopied else {}
    return BackupSnapshot(region, plans, exports)


def _plans(client: Any, region: str, destination_region: str) -> tuple[BackupPlan, ...] | AwsError:
    summaries = paginate(
        client,
        "list_backup_plans",
        "BackupPlansList",
        action="backup:ListBackupPlans",
        resource="backup plans",
        region=region,
    )
    if isinstance(summaries, AwsError):
        return summaries
    with ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="backup") as pool:
        return tuple(pool.map(lambda summary: _plan(client, summary, region, destination_region), summaries))


def _plan(client: Any, summary: dict[str, Any], region: str, destination_region: str) -> BackupPlan:
    plan_id, name = summary["BackupPlanId"], summary["BackupPlanName"]
    response = call(
        client,
        "get_backup_plan",
        action="backup:GetBackupPlan",
        resource=f"backup plan {name}",
        region=region,
        BackupPlanId=plan_id,
    )
    if isinstance(response, AwsError):
        return BackupPlan(plan_id, name, response, ())
    rules = tuple(response["BackupPlan"]["Rules"])
    if not _copies_to(rules, destination_region):
        return BackupPlan(plan_id, name, rules, ())
    return BackupPlan(plan_id, name, rules, _selections(client, plan_id, name, region))


def _selections(client: Any, plan_id: str, name: str, region: str) -> tuple[dict[str, Any], ...] | AwsError:
    listed = paginate(
        client,
        "list_backup_selections",
        "BackupSelectionsList",
        action="backup:ListBackupSelections",
        resource=f"backup plan {name}",
        region=region,
        BackupPlanId=plan_id,
    )
    if isinstance(listed, AwsError):
        return listed
    selections = []
    for entry in listed:
        response = call(
            client,
            "get_backup_selection",
            action="backup:GetBackupSelection",
            resource=f"backup selection {entry['SelectionName']}",
            region=region,
            BackupPlanId=plan_id,
            SelectionId=entry["SelectionId"],
        )
        if isinstance(response, AwsError):
            return response
        selections.append(response["BackupSelection"])
    return tuple(selections)


def _copies_to(rules: tuple[dict[str, Any], ...], destination_region: str) -> list[tuple[str, str]]:
    return [
        (rule["RuleName"], action["DestinationBackupVaultArn"])
        for rule in rules
        for action in rule.get("CopyActions", [])
        if arn_region(action["DestinationBackupVaultArn"]) == destination_region
    ]


def _selects(selection: dict[str, Any], table: str, region: str) -> bool:
    """Whether a selection's resource ARNs (wildcards allowed) include the table; tag rules are not read."""
    chosen = any(_arn_matches(pattern, table, region) for pattern in selection.get("Resources", []))
    excluded = any(_arn_matches(pattern, table, region) for pattern in selection.get("NotResources", []))
    return chosen and not excluded


def _arn_matches(pattern: str, table: str, region: str) -> bool:
    if pattern == "*":
        return True
    parts = pattern.split(":", 5)
    if len(parts) != 6:
        return False
    _, _, service, pattern_region, _, resource = parts
    return (
        fnmatchcase("dynamodb", service)
        and fnmatchcase(region, pattern_region or "*")
        and fnmatchcase(f"table/{table}", resource)
    )


def _exports(
    clients: AwsClients, tables: list[str], region: str
) -> dict[str, TableExport | AwsError] | AwsError:
    client = clients.get("dynamodb", region)
    summaries = _list_exports(client, region)
    if isinstance(summaries, AwsError):
        return summaries
    wanted = set(tables)
    newest: dict[str, str] = {}
    for summary in summaries:
        table = _exported_table(summary["ExportArn"])
        # Export ids start with their creation time in milliseconds, so the greatest ARN is the newest.
        if table in wanted and summary.get("ExportStatus") == "COMPLETED":
            newest[table] = max(newest.get(table, ""), summary["ExportArn"])
    if not newest:
        return {}
    with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(newest)), thread_name_prefix="export") as pool:
        descriptions = pool.map(lambda arn: _describe_export(client, arn, region), newest.values())
        described = dict(zip(newest, descriptions, strict=True))
    s3 = clients.get("s3", region)
    buckets = sorted({d["S3Bucket"] for d in described.values() if not isinstance(d, AwsError)})
    bucket_regions = {bucket: _bucket_region(s3, bucket, region) for bucket in buckets}
    exports: dict[str, TableExport | AwsError] = {}
    for table, description in described.items():
        if isinstance(description, AwsError):
            exports[table] = description
            continue
        bucket = description["S3Bucket"]
        export_time = description.get("ExportTime")
        exports[table] = TableExport(
            table,
            description["ExportArn"],
            bucket,
            bucket_regions[bucket],
            export_time.isoformat() if export_time else None,
        )
    return exports


def _list_exports(client: Any, region: str) -> list[dict[str, Any]] | AwsError:
    """ListExports has no botocore paginator, so follow NextToken here."""
    summaries: list[dict[str, Any]] = []
    params: dict[str, Any] = {}
    while True:
        response = call(
            client,
            "list_exports",
            action="dynamodb:ListExports",
            resource="table exports",
            region=region,
            **params,
        )
        if isinstance(response, AwsError):
            return response
        summaries.extend(response.get("ExportSummaries", []))
        if not response.get("NextToken"):
            return summaries
        params = {"NextToken": response["NextToken"]}


def _describe_export(client: Any, arn: str, region: str) -> dict[str, Any] | AwsError:
    response = call(
        client,
        "describe_export",
        action="dynamodb:DescribeExport",
        resource=arn,
        region=region,
        ExportArn=arn,
    )
    return response if isinstance(response, AwsError) else response["ExportDescription"]


def _bucket_region(s3: Any, bucket: str, region: str) -> str | AwsError:
    response = call(
        s3,
        "get_bucket_location",
        action="s3:GetBucketLocation",
        resource=f"bucket {bucket}",
        region=region,
        Bucket=bucket,
    )
    if isinstance(response, AwsError):
        return response
    # GetBucketLocation's legacy answers: no constraint means us-east-1, "EU" means eu-west-1.
    constraint = response.get("LocationConstraint") or "us-east-1"
    return "eu-west-1" if constraint == "EU" else constraint


def _exported_table(export_arn: str) -> str:
    """arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/export/ID -> NAME."""
    resource = export_arn.split(":", 5)[-1]
    parts = resource.split("/")
    return parts[1] if len(parts) > 1 else ""
