"""Whether an AWS Backup plan copies a DynamoDB table to another region, as AWS Backup evaluates it.

A selection includes a resource that matches any `Resources` ARN (wildcards allowed) or any
`ListOfTags` entry (OR), and that matches every `Conditions` entry (AND), unless a `NotResources`
ARN matches it. With neither `Resources` nor `ListOfTags`, it selects every opted-in resource.
`"*"` and tag-based assignments include only resource types opted in for the region
(DescribeRegionSettings' ResourceTypeOptInPreference). A copy counts only when its destination vault
exists in the destination region, which this account can read only for its own vaults, and only
with AWS Backup's advanced DynamoDB backup features on (ResourceTypeManagementPreference), without
which DynamoDB backups are not copied to other Regions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mission_control.verification.aws import AwsError

if TYPE_CHECKING:
    from mission_control.verification.collectors.backup import BackupPlan, BackupSnapshot

OPT_IN_TYPE = "DynamoDB"
_TAG_PREFIX = "aws:ResourceTag/"


@dataclass
class Coverage:
    """Copy routes that reach the region; errors that may hide one; why other routes do not count."""

    routes: list[str] = field(default_factory=list)
    errors: list[AwsError] = field(default_factory=list)
    not_counted: list[str] = field(default_factory=list)


def arn_region(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else ""


def arn_account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def copy_actions(rules: tuple[dict[str, Any], ...], destination_region: str) -> list[tuple[str, str]]:
    """(rule name, destination vault ARN) of each copy action into `destination_region`."""
    return [
        (rule["RuleName"], action["DestinationBackupVaultArn"])
        for rule in rules
        for action in rule.get("CopyActions", [])
        if arn_region(action["DestinationBackupVaultArn"]) == destination_region
    ]


def needs_tags(selection: dict[str, Any]) -> bool:
    return bool(selection.get("ListOfTags")) or any(selection.get("Conditions", {}).values())


def table_coverage(backup: BackupSnapshot, table: str, destination_region: str) -> Coverage:
    """How `backup`'s plans copy `table` (in the backup region) to `destination_region`."""
    coverage = Coverage()
    if isinstance(backup.plans, AwsError):
        coverage.errors.append(backup.plans)
        return coverage
    arn = f"arn:aws:dynamodb:{backup.region}:{backup.account}:table/{table}"
    for plan in backup.plans:
        _plan_coverage(plan, backup, table, arn, destination_region, coverage)
    return coverage


def _plan_coverage(
    plan: BackupPlan,
    backup: BackupSnapshot,
    table: str,
    arn: str,
    destination_region: str,
    coverage: Coverage,
) -> None:
    if isinstance(plan.rules, AwsError):
        coverage.errors.append(plan.rules)
        return
    copies = copy_actions(plan.rules, destination_region)
    if not copies:
        return
    if isinstance(plan.selections, AwsError):
        coverage.errors.append(plan.selections)
        return
    chosen = False
    for selection in plan.selections:
        selected = _selects(selection, arn, backup.tags.get(table, {}), _preference(backup, "OptIn"))
        if isinstance(selected, AwsError):
            coverage.errors.append(selected)
        elif isinstance(selected, str):
            coverage.not_counted.append(
                f"backup plan {plan.name} selection {selection['SelectionName']}: {selected}"
            )
        elif selected:
            chosen = True
    if not chosen:
        return
    advanced = _preference(backup, "Management")
    if isinstance(advanced, AwsError):
        coverage.errors.append(advanced)
        return
    if advanced is not None and advanced.get(OPT_IN_TYPE) is False:
        coverage.not_counted.append(
            f"backup plan {plan.name}: AWS Backup's advanced DynamoDB backup features are off in "
            f"{backup.region}, and without them DynamoDB backups are not copied to other Regions"
        )
        return
    for rule, vault in copies:
        route = f"backup plan {plan.name} rule {rule} copies to {vault}"
        if arn_account(vault) != backup.account:
            coverage.not_counted.append(
                f"{route}, in account {arn_account(vault)}: not verifiable from this account"
            )
            continue
        found = backup.vaults.get(vault)
        if isinstance(found, AwsError):
            coverage.errors.append(found)
        elif found is None:
            coverage.not_counted.append(f"{route}, which does not exist in {destination_region}")
        else:
            coverage.routes.append(route)


def _preference(backup: BackupSnapshot, kind: str) -> dict[str, bool] | AwsError | None:
    """DescribeRegionSettings' ResourceType{kind}Preference: "OptIn" or "Management"."""
    if isinstance(backup.region_settings, AwsError):
        return backup.region_settings
    return None if backup.region_settings is None else backup.region_settings[f"ResourceType{kind}Preference"]


def _selects(
    selection: dict[str, Any],
    arn: str,
    tags: dict[str, str] | AwsError,
    opt_in: dict[str, bool] | AwsError | None,
) -> bool | str | AwsError:
    """True/False as AWS Backup decides; a reason when only the opt-in excludes it; an unreadable input."""
    if any(_arn_matches(pattern, arn) for pattern in selection.get("NotResources") or []):
        return False
    resources = selection.get("Resources") or []
    by_arn = any(pattern != "*" and _arn_matches(pattern, arn) for pattern in resources)
    if needs_tags(selection) and isinstance(tags, AwsError):
        return tags
    tag_values = tags if isinstance(tags, dict) else {}
    by_tag = any(_tag_entry_matches(entry, tag_values) for entry in selection.get("ListOfTags") or [])
    everything = "*" in resources or (not resources and not selection.get("ListOfTags"))
    if not _conditions_hold(selection.get("Conditions") or {}, tag_values):
        return False
    if by_arn:
        return True
    if not (by_tag or everything):
        return False
    if isinstance(opt_in, AwsError):
        return opt_in
    if not (opt_in or {}).get(OPT_IN_TYPE, False):
        return f"selects {'by tag' if by_tag else 'all resources'}, and DynamoDB is not opted in to AWS Backup here"
    return True


def _arn_matches(pattern: str, arn: str) -> bool:
    """AWS Backup resource patterns: "*" is any run of characters, "?" one, matched case-sensitively."""
    if pattern == "*":
        return True
    expression = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(expression, arn) is not None


def _tag_key(key: str) -> str:
    return key.removeprefix(_TAG_PREFIX)


def _tag_entry_matches(entry: dict[str, Any], tags: dict[str, str]) -> bool:
    """A ListOfTags entry: STRINGEQUALS is the only ConditionType AWS Backup supports there."""
    return (
        entry.get("ConditionType") == "STRINGEQUALS"
        and tags.get(_tag_key(entry["ConditionKey"])) == entry["ConditionValue"]
    )


def _conditions_hold(conditions: dict[str, list[dict[str, str]]], tags: dict[str, str]) -> bool:
    """Every condition must hold; a missing tag satisfies only StringNotEquals and StringNotLike."""
    for operator, entries in conditions.items():
        for entry in entries:
            value = tags.get(_tag_key(entry["ConditionKey"]))
            wanted = entry["ConditionValue"]
            held = {
                "StringEquals": value == wanted,
                "StringNotEquals": value != wanted,
                "StringLike": value is not None and _arn_matches(wanted, value),
                "StringNotLike": value is None or not _arn_matches(wanted, value),
            }.get(operator, False)
            if not held:
                return False
    return True
