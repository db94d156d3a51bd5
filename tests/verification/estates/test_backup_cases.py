"""dynamodb.pitr-backup-copy cases: point-in-time recovery, and AWS Backup copies as AWS Backup evaluates them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.verification.estates.harness import Case, Corpus, Estate, case_id, unchanged
from tests.verification.estates.ready import (
    PRIMARY,
    SECONDARY,
    TABLES,
    create_plan,
    deny,
    opt_out_dynamodb,
    replace_selection,
    select,
    tag_tables,
)

ITEM = "dynamodb.pitr-backup-copy"
ACCOUNT = "123456789012"
IN_PRIMARY = f"arn:aws:dynamodb:{PRIMARY}:{ACCOUNT}:table"


def table_arns(estate: Estate) -> list[str]:
    return [estate.ids[f"table-{name}"] for name in TABLES]


def pitr_off(table: str) -> object:
    return lambda estate: estate.client("dynamodb").update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )


def tagged(tags: dict[str, dict[str, str]], *, opt_out: bool = False, **selection: object) -> object:
    """Tag the tables, then swap the baseline selection for `selection`."""

    def edit(estate: Estate) -> None:
        tag_tables(estate, tags)
        if opt_out:
            opt_out_dynamodb(estate)
        replace_selection(estate, **selection)

    return edit


def copy_to(vault_arn: str) -> object:
    """A second plan over every table copying to `vault_arn`, in place of the baseline's plan."""

    def edit(estate: Estate) -> None:
        estate.client("backup").delete_backup_plan(BackupPlanId=estate.ids["plan"])
        estate.ids["plan"] = create_plan(estate, copy_to=vault_arn, name="elsewhere")
        select(estate, Resources=table_arns(estate))

    return edit


def no_plans(estate: Estate) -> None:
    estate.client("backup").delete_backup_plan(BackupPlanId=estate.ids["plan"])


def plan_without_selection(estate: Estate) -> None:
    estate.client("backup").delete_backup_selection(
        BackupPlanId=estate.ids["plan"], SelectionId=estate.ids["selection"]
    )


EVERY_TIER = {"spaceduck-main": {"tier": "critical"}, "spaceduck-birth-certs": {"backup": "daily"},
              "audit-log": {"backup": "daily", "tier": "standard"}}  # fmt: skip
BY_TAG = [
    {"ConditionType": "STRINGEQUALS", "ConditionKey": "backup", "ConditionValue": "daily"},
    {"ConditionType": "STRINGEQUALS", "ConditionKey": "aws:ResourceTag/tier", "ConditionValue": "critical"},
]
PROD = {name: {"env": "prod", "team": "spaceduck"} for name in TABLES}

CASES = [
    Case("ready-pitr-backup-copy", ITEM, "verified",
         "a backup rule's CopyActions copy each recovery point of the selected tables to the destination vault",
         unchanged),
    Case("pitr-off", ITEM, "failing",
         "without point-in-time recovery a table restores only to its last backup",
         pitr_off("audit-log"), summary="PITR is disabled on audit-log"),
    Case("platform-tables-not-configured", ITEM, "failing", "with no tables named there is nothing to prove",
         lambda estate: setattr(estate, "config", replace(estate.config, platform_tables=())),
         summary="not configured"),
    Case("platform-table-missing", ITEM, "failing",
         "DescribeTable answers ResourceNotFoundException for a table that does not exist",
         lambda estate: setattr(estate, "config", replace(
             estate.config, platform_tables=(*estate.config.platform_tables, "spaceduck-gone"))),
         summary="table spaceduck-gone not found"),
    Case("no-backup-plans", ITEM, "failing", "with no backup plan and no export nothing leaves the region",
         no_plans, summary="no copy of spaceduck-main"),
    Case("plan-without-selection", ITEM, "failing",
         "a plan backs up only the resources its selections assign to it", plan_without_selection,
         summary="no copy"),
    # --- Resources and NotResources
    Case("resources-arn-wildcard-all-tables", ITEM, "verified",
         "a Resources ARN may use * wildcards; this one matches every table in the region",
         lambda estate: replace_selection(estate, Resources=[f"{IN_PRIMARY}/*"])),
    Case("resources-arn-wildcard-misses-audit-log", ITEM, "failing",
         "a wildcard ARN selects only the tables whose ARN it matches: audit-log is not spaceduck-*",
         lambda estate: replace_selection(estate, Resources=[f"{IN_PRIMARY}/spaceduck-*"]),
         summary="no copy of audit-log"),
    Case("not-resources-excludes-audit-log", ITEM, "failing",
         "NotResources removes matching resources from what Resources selects",
         lambda estate: replace_selection(estate, Resources=["*"], NotResources=[f"{IN_PRIMARY}/audit-log"]),
         summary="no copy of audit-log"),
    Case("not-resources-other-table", ITEM, "verified",
         "NotResources removes only the resources it matches",
         lambda estate: replace_selection(estate, Resources=["*"], NotResources=[f"{IN_PRIMARY}/scratch-*"])),
    # --- service opt-in
    Case("everything-opted-in", ITEM, "verified",
         "Resources '*' selects every resource of the types opted in for the region; DynamoDB is by default",
         lambda estate: replace_selection(estate, Resources=["*"])),
    Case("everything-dynamodb-opted-out", ITEM, "failing",
         "'*' assignments skip resource types not opted in (DescribeRegionSettings ResourceTypeOptInPreference)",
         lambda estate: (opt_out_dynamodb(estate), replace_selection(estate, Resources=["*"])),
         summary="not opted in"),
    Case("by-arn-dynamodb-opted-out", ITEM, "verified",
         "opt-in governs '*' and tag assignments; a selection naming the table's ARN still assigns it",
         opt_out_dynamodb),
    Case("no-resources-no-tags-selects-all", ITEM, "verified",
         "a selection with neither Resources nor ListOfTags assigns every opted-in resource",
         lambda estate: replace_selection(estate, Conditions={"StringEquals": [
             {"ConditionKey": "aws:ResourceTag/env", "ConditionValue": "prod"}]}) or tag_tables(estate, PROD)),
    # --- ListOfTags (OR across entries)
    Case("list-of-tags-or", ITEM, "verified",
         "ListOfTags entries are ORed: a table matching any one entry is assigned",
         tagged(EVERY_TIER, ListOfTags=BY_TAG)),
    Case("list-of-tags-untagged-table", ITEM, "failing",
         "a table matching no ListOfTags entry is not assigned",
         tagged({"spaceduck-main": {"tier": "critical"}, "spaceduck-birth-certs": {"backup": "daily"}},
                ListOfTags=BY_TAG), summary="no copy of audit-log"),
    Case("list-of-tags-opted-out", ITEM, "failing",
         "tag assignments skip resource types not opted in for the region",
         tagged(EVERY_TIER, opt_out=True, ListOfTags=BY_TAG), summary="not opted in"),
    Case("list-of-tags-or-resources", ITEM, "verified",
         "Resources and ListOfTags are ORed: a table either names or tags is assigned",
         tagged({"audit-log": {"backup": "daily"}}, ListOfTags=BY_TAG[:1],
                Resources=[f"{IN_PRIMARY}/spaceduck-*"])),
    # --- Conditions (AND, with the resource list)
    Case("conditions-string-equals", ITEM, "verified",
         "Conditions are ANDed with Resources: every table is tagged env=prod",
         tagged(PROD, Resources=["*"], Conditions={"StringEquals": [
             {"ConditionKey": "aws:ResourceTag/env", "ConditionValue": "prod"}]})),
    Case("conditions-string-equals-mismatch", ITEM, "failing",
         "Conditions are ANDed with Resources: audit-log tagged env=dev is not assigned",
         tagged({**PROD, "audit-log": {"env": "dev"}}, Resources=["*"], Conditions={"StringEquals": [
             {"ConditionKey": "aws:ResourceTag/env", "ConditionValue": "prod"}]}), summary="no copy of audit-log"),
    Case("conditions-and-every-condition", ITEM, "failing",
         "several Conditions must all hold: audit-log is env=prod but its team is not spaceduck",
         tagged({**PROD, "audit-log": {"env": "prod", "team": "platform"}}, Resources=["*"], Conditions={
             "StringEquals": [{"ConditionKey": "aws:ResourceTag/env", "ConditionValue": "prod"}],
             "StringLike": [{"ConditionKey": "aws:ResourceTag/team", "ConditionValue": "space*"}]}),
         summary="no copy of audit-log"),
    Case("conditions-string-like", ITEM, "verified",
         "StringLike matches * wildcards: team=spaceduck is like space*",
         tagged(PROD, Resources=["*"], Conditions={"StringLike": [
             {"ConditionKey": "aws:ResourceTag/team", "ConditionValue": "space*"}]})),
    Case("conditions-string-not-equals", ITEM, "failing",
         "StringNotEquals excludes the table tagged backup=skip",
         lambda estate: (tag_tables(estate, {"audit-log": {"backup": "skip"}}), replace_selection(
             estate, Resources=table_arns(estate), Conditions={"StringNotEquals": [
                 {"ConditionKey": "aws:ResourceTag/backup", "ConditionValue": "skip"}]})),
         summary="no copy of audit-log"),
    Case("conditions-string-not-like", ITEM, "failing",
         "StringNotLike excludes the table whose lifecycle tag is like temp*",
         lambda estate: (tag_tables(estate, {"audit-log": {"lifecycle": "temporary"}}), replace_selection(
             estate, Resources=table_arns(estate), Conditions={"StringNotLike": [
                 {"ConditionKey": "aws:ResourceTag/lifecycle", "ConditionValue": "temp*"}]})),
         summary="no copy of audit-log"),
    Case("conditions-not-equals-untagged", ITEM, "verified",
         "a table without the tag satisfies StringNotEquals",
         lambda estate: replace_selection(estate, Resources=table_arns(estate), Conditions={"StringNotEquals": [
             {"ConditionKey": "aws:ResourceTag/backup", "ConditionValue": "skip"}]})),
    # --- the copy's destination
    Case("copy-to-a-third-region", ITEM, "failing",
         "a copy action copies to its destination vault's region only",
         copy_to(f"arn:aws:backup:us-west-2:{ACCOUNT}:backup-vault:spaceduck-dr"), summary="no copy"),
    Case("destination-vault-missing", ITEM, "failing",
         "a copy job to a vault that does not exist fails",
         copy_to(f"arn:aws:backup:{SECONDARY}:{ACCOUNT}:backup-vault:spaceduck-gone"),
         summary="does not exist"),
    Case("destination-vault-other-account", ITEM, "failing",
         "another account's vault cannot be described from this account, so the copy is not proven",
         copy_to(f"arn:aws:backup:{SECONDARY}:210987654321:backup-vault:spaceduck-dr"),
         summary="not verifiable from this account"),
    Case("advanced-dynamodb-backup-off", ITEM, "failing",
         "without AWS Backup's advanced DynamoDB backup features, DynamoDB backups are not copied across Regions",
         lambda estate: estate.client("backup").update_region_settings(
             ResourceTypeManagementPreference={"DynamoDB": False}), summary="advanced DynamoDB backup"),
    # --- what cannot be read
    Case("pitr-unreadable", ITEM, "error",
         "AccessDenied on DescribeContinuousBackups leaves PITR unknown: not a pass, not a failure",
         lambda estate: deny(estate, "DescribeContinuousBackups", "audit-log"),
         summary="AccessDeniedException on dynamodb:DescribeContinuousBackups for audit-log"),
    Case("definite-failure-beats-unreadable", ITEM, "failing",
         "a table without PITR fails the item whatever another table's unreadable settings say",
         lambda estate: (pitr_off("spaceduck-main")(estate), deny(estate, "DescribeContinuousBackups", "audit-log")),
         summary="PITR is disabled on spaceduck-main"),
    Case("tags-unreadable", ITEM, "error",
         "a tag assignment cannot be judged without the table's tags",
         lambda estate: (tagged(EVERY_TIER, ListOfTags=BY_TAG)(estate), deny(estate, "ListTagsOfResource")),
         summary="ListTagsOfResource"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_case(corpus: Corpus, case: Case) -> None:
    corpus.check(case)


def test_unreadable_part_is_named_when_a_definite_failure_decides(corpus: Corpus) -> None:
    case = next(case for case in CASES if case.name == "definite-failure-beats-unreadable")
    facts = corpus.run(case)["facts"]
    assert facts["unreadable"] == [
        f"AccessDeniedException on dynamodb:DescribeContinuousBackups for audit-log in {PRIMARY}"
    ]
