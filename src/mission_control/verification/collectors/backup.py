"""AWS Backup plans and DynamoDB exports in the primary region: the ways a table's copy leaves it.

Plans are read whole (a few calls per plan, not per table). What a selection needs to be judged is
read only when some copying plan needs it: the tables' tags for tag assignments and conditions, the region's settings (service opt-in, advanced
DynamoDB backup) and each destination vault in this account.
Exports are looked up only for tables no plan copies, one DescribeExport each.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from mission_control.verification.aws import AwsClients, AwsError, call, paginate
from mission_control.verification.backup_coverage import (
    arn_account,
    arn_region,
    copy_actions,
    needs_tags,
    table_coverage,
)
from mission_control.verification.collectors.table_exports import TableExport, read_exports
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.registry import collector

MAX_WORKERS = 16
_NOT_FOUND_CODES = {"ResourceNotFoundException"}


@dataclass(frozen=True)
class BackupPlan:
    """Selections are fetched only for plans with a rule copying to the secondary region."""

    id: str
    name: str
    rules: tuple[dict[str, Any], ...] | AwsError  # GetBackupPlan's BackupPlan.Rules
    selections: tuple[dict[str, Any], ...] | AwsError  # each GetBackupSelection's BackupSelection


@dataclass(frozen=True)
class BackupSnapshot:
    """`region_settings` is DescribeRegionSettings' answer, read when a plan copies to the secondary
    region (None otherwise); `tags` by table when a selection uses tags; `vaults` by destination ARN
    (None: the vault does not exist)."""

    region: str
    plans: tuple[BackupPlan, ...] | AwsError
    exports: dict[str, TableExport | AwsError] | AwsError  # by table, for tables no plan copies
    account: str = ""
    region_settings: dict[str, dict[str, bool]] | AwsError | None = None
    tags: dict[str, dict[str, str] | AwsError] = field(default_factory=dict)
    vaults: dict[str, dict[str, Any] | AwsError | None] = field(default_factory=dict)


@collector("backup")
def collect_backup(config: EnvironmentConfig, clients: AwsClients) -> BackupSnapshot:
    region = config.primary_region
    tables = tuple(dict.fromkeys(config.platform_tables))
    if not tables:
        return BackupSnapshot(region, (), {})
    client = clients.get("backup", region)
    listed = _plans(client, region, config.secondary_region)
    if isinstance(listed, AwsError):
        snapshot = BackupSnapshot(region, listed, {})
    else:
        plans, account = listed
        selections = [
            selection
            for plan in plans
            if not isinstance(plan.selections, AwsError)
            for selection in plan.selections
        ]
        snapshot = BackupSnapshot(
            region,
            plans,
            {},
            account,
            _region_settings(client, region) if selections else None,
            _tags(clients, tables, region, account) if any(map(needs_tags, selections)) else {},
            _vaults(clients, plans, account, config.secondary_region),
        )
    uncopied = [
        table for table in tables if not table_coverage(snapshot, table, config.secondary_region).routes
    ]
    return replace(snapshot, exports=read_exports(clients, uncopied, region) if uncopied else {})


def _plans(
    client: Any, region: str, destination_region: str
) -> tuple[tuple[BackupPlan, ...], str] | AwsError:
    """Every plan, and this account's id as the plans' ARNs name it."""
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
    account = next((arn_account(s["BackupPlanArn"]) for s in summaries if s.get("BackupPlanArn")), "")
    with ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="backup") as pool:
        plans = tuple(pool.map(lambda summary: _plan(client, summary, region, destination_region), summaries))
    return plans, account


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
    if not copy_actions(rules, destination_region):
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


def _region_settings(client: Any, region: str) -> dict[str, dict[str, bool]] | AwsError:
    response = call(
        client,
        "describe_region_settings",
        action="backup:DescribeRegionSettings",
        resource="AWS Backup region settings",
        region=region,
    )
    if isinstance(response, AwsError):
        return response
    return {
        key: response.get(key, {})
        for key in ("ResourceTypeOptInPreference", "ResourceTypeManagementPreference")
    }


def _tags(
    clients: AwsClients, tables: tuple[str, ...], region: str, account: str
) -> dict[str, dict[str, str] | AwsError]:
    client = clients.get("dynamodb", region)

    def read(table: str) -> dict[str, str] | AwsError:
        tags = paginate(
            client,
            "list_tags_of_resource",
            "Tags",
            action="dynamodb:ListTagsOfResource",
            resource=table,
            region=region,
            ResourceArn=f"arn:aws:dynamodb:{region}:{account}:table/{table}",
        )
        if isinstance(tags, AwsError):
            return {} if tags.code in _NOT_FOUND_CODES else tags
        return {tag["Key"]: tag["Value"] for tag in tags}

    with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(tables)), thread_name_prefix="tags") as pool:
        return dict(zip(tables, pool.map(read, tables), strict=True))


def _vaults(
    clients: AwsClients, plans: tuple[BackupPlan, ...], account: str, destination_region: str
) -> dict[str, dict[str, Any] | AwsError | None]:
    """DescribeBackupVault in the destination region for each of this account's destination vaults."""
    arns = sorted(
        {
            vault
            for plan in plans
            if not isinstance(plan.rules, AwsError)
            for _, vault in copy_actions(plan.rules, destination_region)
            if arn_account(vault) == account
        }
    )
    vaults: dict[str, dict[str, Any] | AwsError | None] = {}
    for arn in arns:
        name = arn.split(":")[-1]
        response = call(
            clients.get("backup", arn_region(arn)),
            "describe_backup_vault",
            action="backup:DescribeBackupVault",
            resource=f"backup vault {name}",
            region=arn_region(arn),
            BackupVaultName=name,
        )
        if isinstance(response, AwsError):
            vaults[arn] = None if response.code in _NOT_FOUND_CODES else response
        else:
            vaults[arn] = response
    return vaults
