"""DynamoDB probes. moto 5 drops global-table replicas and lacks backup selections and unfiltered
ListExports, so most estates are ModelStub answers in AWS's real (model-validated) shapes."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import boto3
import pytest

from mission_control.demo.server import MotoServer, start_moto_server
from mission_control.verification.aws import AwsClients
from mission_control.verification.collectors.backup import BackupSnapshot, collect_backup
from mission_control.verification.collectors.dynamodb import collect_dynamodb
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.probes.dynamodb import global_main, global_platform, pitr_backup_copy
from mission_control.verification.results import ProbeResult, Status
from tests.verification.estates import (
    CONFIG,
    DR_VAULT,
    PRIMARY,
    SECONDARY,
    stub_backup_plan,
    stub_exports,
    stub_missing_table,
    stub_no_backup_plans,
    stub_no_global_table,
    stub_table,
    table_arn,
)
from tests.verification.isolation import isolated_from_real_aws
from tests.verification.model_stub import ModelStub

TABLES = CONFIG.platform_tables  # spaceduck-main (also main_table), spaceduck-birth-certs, audit-log
ALL_TABLES = "arn:aws:dynamodb:*:*:table/*"


@dataclass
class StubbedAws:
    clients: AwsClients
    dynamodb: ModelStub
    backup: ModelStub
    backup_dr: ModelStub  # the backup client in the secondary region, where copies land
    s3: ModelStub


@pytest.fixture
def aws() -> StubbedAws:
    clients = AwsClients(boto3.Session(region_name=PRIMARY))
    return StubbedAws(
        clients,
        ModelStub(clients.get("dynamodb", PRIMARY)),
        ModelStub(clients.get("backup", PRIMARY)),
        ModelStub(clients.get("backup", SECONDARY)),
        ModelStub(clients.get("s3", PRIMARY)),
    )


def verify(aws: StubbedAws | AwsClients, config: EnvironmentConfig = CONFIG) -> dict[str, ProbeResult]:
    clients = aws.clients if isinstance(aws, StubbedAws) else aws
    dynamodb = collect_dynamodb(config, clients)
    backup = collect_backup(config, clients)
    return {
        "dynamodb.global-main": global_main(config, dynamodb=dynamodb),
        "dynamodb.global-platform": global_platform(config, dynamodb=dynamodb),
        "dynamodb.pitr-backup-copy": pitr_backup_copy(config, dynamodb=dynamodb, backup=backup),
    }


@pytest.fixture(scope="module")
def moto_server() -> Iterator[MotoServer]:
    """moto's HTTP server with the demo's parity layer, which answers DescribeGlobalTable as AWS does."""
    with isolated_from_real_aws(), start_moto_server() as server:
        yield server


def create_moto_tables(server: MotoServer, names: Iterable[str]) -> None:
    """Empty the server, then create `names` as plain (not global) tables with PITR off, moto's default."""
    reset = urllib.request.Request(f"{server.endpoint_url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(reset, timeout=10):
        pass
    client = boto3.client("dynamodb", region_name=PRIMARY, endpoint_url=server.endpoint_url)
    for name in names:
        client.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )


def stub_ready_estate(aws: StubbedAws) -> None:
    for name in TABLES:
        stub_table(aws.dynamodb, name)
    stub_backup_plan(aws.backup, destination=aws.backup_dr, resources=[ALL_TABLES])


def test_ready_estate_verifies_all_three_dynamodb_items(aws: StubbedAws) -> None:
    stub_ready_estate(aws)
    results = verify(aws)
    assert {item: r.status for item, r in results.items()} == dict.fromkeys(results, Status.VERIFIED)
    assert results["dynamodb.global-main"].facts["replicas"] == [{"region": SECONDARY, "status": "ACTIVE"}]
    copies = results["dynamodb.pitr-backup-copy"].facts["tables"]["audit-log"]["copies"]
    assert copies == [f"backup plan dr rule daily copies to {DR_VAULT}"]


def test_each_table_costs_at_most_two_calls_and_is_described_once(aws: StubbedAws) -> None:
    names = tuple(f"table-{n:03d}" for n in range(300))
    for name in names:
        stub_table(aws.dynamodb, name)
    stub_backup_plan(aws.backup, destination=aws.backup_dr, resources=[ALL_TABLES])
    config = replace(CONFIG, main_table="table-000", platform_tables=names)
    results = verify(aws, config)
    assert results["dynamodb.pitr-backup-copy"].status is Status.VERIFIED
    assert aws.dynamodb.count("DescribeTable") == len(names)
    assert len(aws.dynamodb.calls) == 2 * len(names)
    assert len(aws.backup.calls) == 5  # the plan list, the plan, its selection list and selection, settings
    assert aws.s3.calls == []


# --- dynamodb.global-main -----------------------------------------------------------------------


def test_global_main_fails_when_main_table_has_no_replica_in_the_secondary_region(aws: StubbedAws) -> None:
    stub_table(aws.dynamodb, "spaceduck-main", replicas={"eu-west-1": "ACTIVE"})
    result = verify(aws, replace(CONFIG, platform_tables=()))["dynamodb.global-main"]
    assert (result.status, result.summary) == (
        Status.FAILING,
        f"spaceduck-main has no replica in {SECONDARY}",
    )


def test_global_main_fails_when_the_secondary_replica_is_not_active(aws: StubbedAws) -> None:
    stub_table(aws.dynamodb, "spaceduck-main", replicas={SECONDARY: "CREATING"})
    result = verify(aws, replace(CONFIG, platform_tables=()))["dynamodb.global-main"]
    assert result.summary == f"spaceduck-main's replica in {SECONDARY} is CREATING, not ACTIVE"


def test_global_main_fails_when_main_table_does_not_exist(aws: StubbedAws) -> None:
    stub_missing_table(aws.dynamodb, "spaceduck-main")
    result = verify(aws, replace(CONFIG, platform_tables=()))["dynamodb.global-main"]
    assert (result.status, result.summary) == (Status.FAILING, f"table spaceduck-main not found in {PRIMARY}")
    assert aws.dynamodb.count("DescribeContinuousBackups") == 0


def test_global_main_fails_when_main_table_is_not_configured(aws: StubbedAws) -> None:
    result = verify(aws, replace(CONFIG, main_table=None, platform_tables=()))["dynamodb.global-main"]
    assert result.summary == "not configured: set main_table in [environments.production]"
    assert aws.dynamodb.calls == []


def test_global_main_reads_moto_tables_which_carry_no_replicas(moto_server: MotoServer) -> None:
    clients = AwsClients(boto3.Session(region_name=PRIMARY))
    create_moto_tables(moto_server, ["spaceduck-main"])
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("AWS_ENDPOINT_URL", moto_server.endpoint_url)
        result = verify(clients, replace(CONFIG, platform_tables=()))["dynamodb.global-main"]
    assert (result.status, result.summary) == (
        Status.FAILING,
        f"spaceduck-main has no replica in {SECONDARY}",
    )
    assert result.facts["replicas"] == []


# --- dynamodb.global-platform -------------------------------------------------------------------


def test_global_platform_summary_names_each_table_lacking_a_replica(aws: StubbedAws) -> None:
    stub_table(aws.dynamodb, "spaceduck-main")
    stub_table(aws.dynamodb, "spaceduck-birth-certs", replicas={})
    stub_no_global_table(aws.dynamodb, "spaceduck-birth-certs")
    stub_missing_table(aws.dynamodb, "audit-log")
    stub_no_backup_plans(aws.backup)
    aws.dynamodb.add("ListExports", {}, {"ExportSummaries": []})
    result = verify(aws)["dynamodb.global-platform"]
    assert result.status is Status.FAILING
    assert result.summary == (
        f"2 of 3 platform tables lack a serving replica in {SECONDARY}: "
        f"spaceduck-birth-certs has no replica in {SECONDARY}; table audit-log not found in {PRIMARY}"
    )


def test_global_platform_fails_when_no_platform_tables_are_configured(aws: StubbedAws) -> None:
    stub_table(aws.dynamodb, "spaceduck-main")
    result = verify(aws, replace(CONFIG, platform_tables=()))["dynamodb.global-platform"]
    assert result.summary == "not configured: set platform_tables in [environments.production]"


def test_access_denied_on_describe_table_errors_platform_items_but_not_others(aws: StubbedAws) -> None:
    stub_table(aws.dynamodb, "spaceduck-main")
    stub_table(aws.dynamodb, "spaceduck-birth-certs")
    stub_table(aws.dynamodb, "audit-log")
    aws.dynamodb.add_error("DescribeTable", {"TableName": "audit-log"}, "AccessDeniedException")
    stub_backup_plan(aws.backup, destination=aws.backup_dr, resources=[ALL_TABLES])
    results = verify(aws)
    assert results["dynamodb.global-platform"].status is Status.ERROR
    assert results["dynamodb.global-platform"].summary == (
        f"AccessDeniedException on dynamodb:DescribeTable for audit-log in {PRIMARY}"
    )
    assert results["dynamodb.global-main"].status is Status.VERIFIED


# --- dynamodb.pitr-backup-copy ------------------------------------------------------------------


@pytest.mark.parametrize(
    "resources",
    [["*"], [ALL_TABLES], [table_arn(name) for name in TABLES], [f"arn:aws:dynamodb:{PRIMARY}:*:table/*"]],
    ids=["everything", "any-table-arn", "each-table-arn", "tables-in-primary"],
)
def test_pitr_backup_copy_accepts_selections_covering_each_table(
    aws: StubbedAws, resources: list[str]
) -> None:
    for name in TABLES:
        stub_table(aws.dynamodb, name)
    stub_backup_plan(aws.backup, destination=aws.backup_dr, resources=resources)
    assert verify(aws)["dynamodb.pitr-backup-copy"].status is Status.VERIFIED


def test_pitr_backup_copy_fails_when_pitr_is_disabled_on_a_table(aws: StubbedAws) -> None:
    stub_table(aws.dynamodb, "spaceduck-main")
    stub_table(aws.dynamodb, "spaceduck-birth-certs")
    stub_table(aws.dynamodb, "audit-log", pitr="DISABLED")
    stub_backup_plan(aws.backup, destination=aws.backup_dr, resources=[ALL_TABLES])
    result = verify(aws)["dynamodb.pitr-backup-copy"]
    assert (result.status, result.summary) == (Status.FAILING, "PITR is disabled on audit-log")
    assert result.facts["tables"]["audit-log"]["pitr"] == "DISABLED"


def test_pitr_backup_copy_fails_when_the_copy_goes_to_another_region(aws: StubbedAws) -> None:
    for name in TABLES:
        stub_table(aws.dynamodb, name)
    stub_backup_plan(
        aws.backup,
        destination=aws.backup_dr,
        resources=[ALL_TABLES],
        vault="arn:aws:backup:eu-west-1:123456789012:backup-vault:dr",
    )
    aws.dynamodb.add("ListExports", {}, {"ExportSummaries": []})
    result = verify(aws)["dynamodb.pitr-backup-copy"]
    assert result.status is Status.FAILING
    assert result.summary == "; ".join(f"no copy of {name} reaches {SECONDARY}" for name in TABLES)
    assert aws.backup.count("ListBackupSelections") == 0


def test_pitr_backup_copy_fails_for_a_table_the_selection_excludes(aws: StubbedAws) -> None:
    for name in TABLES:
        stub_table(aws.dynamodb, name)
    stub_backup_plan(
        aws.backup, destination=aws.backup_dr, resources=["*"], not_resources=[table_arn("audit-log")]
    )
    aws.dynamodb.add("ListExports", {}, {"ExportSummaries": []})
    result = verify(aws)["dynamodb.pitr-backup-copy"]
    assert (result.status, result.summary) == (Status.FAILING, f"no copy of audit-log reaches {SECONDARY}")


def test_pitr_backup_copy_fails_with_no_backup_plans_and_no_exports(aws: StubbedAws) -> None:
    for name in TABLES:
        stub_table(aws.dynamodb, name)
    stub_no_backup_plans(aws.backup)
    aws.dynamodb.add("ListExports", {}, {"ExportSummaries": []})
    result = verify(aws)["dynamodb.pitr-backup-copy"]
    assert result.status is Status.FAILING
    assert all(facts["copies"] == [] for facts in result.facts["tables"].values())


def test_pitr_backup_copy_accepts_exports_to_a_bucket_in_the_secondary_region(aws: StubbedAws) -> None:
    for name in TABLES:
        stub_table(aws.dynamodb, name)
    stub_no_backup_plans(aws.backup)
    stub_exports(aws.dynamodb, aws.s3, dict.fromkeys(TABLES, "spaceduck-dr-exports"))
    result = verify(aws)["dynamodb.pitr-backup-copy"]
    assert result.status is Status.VERIFIED
    assert (
        "to bucket spaceduck-dr-exports (ap-southeast-1)" in result.facts["tables"]["audit-log"]["copies"][0]
    )
    assert aws.s3.count("GetBucketLocation") == 1


def test_pitr_backup_copy_fails_when_exports_stay_in_the_primary_region(aws: StubbedAws) -> None:
    for name in TABLES:
        stub_table(aws.dynamodb, name)
    stub_no_backup_plans(aws.backup)
    stub_exports(aws.dynamodb, aws.s3, dict.fromkeys(TABLES, "spaceduck-exports"), bucket_region=PRIMARY)
    assert verify(aws)["dynamodb.pitr-backup-copy"].status is Status.FAILING


def test_pitr_backup_copy_fails_when_a_platform_table_does_not_exist(aws: StubbedAws) -> None:
    stub_table(aws.dynamodb, "spaceduck-main")
    stub_table(aws.dynamodb, "spaceduck-birth-certs")
    stub_missing_table(aws.dynamodb, "audit-log")
    stub_backup_plan(aws.backup, destination=aws.backup_dr, resources=[ALL_TABLES])
    result = verify(aws)["dynamodb.pitr-backup-copy"]
    assert (result.status, result.summary) == (Status.FAILING, f"table audit-log not found in {PRIMARY}")


def test_pitr_backup_copy_fails_when_no_platform_tables_are_configured(aws: StubbedAws) -> None:
    result = verify(aws, replace(CONFIG, main_table=None, platform_tables=()))["dynamodb.pitr-backup-copy"]
    assert result.summary == "not configured: set platform_tables in [environments.production]"
    assert aws.dynamodb.calls == aws.backup.calls == []


def test_access_denied_on_continuous_backups_names_action_table_and_region(aws: StubbedAws) -> None:
    stub_table(aws.dynamodb, "spaceduck-main")
    stub_table(aws.dynamodb, "spaceduck-birth-certs")
    stub_table(aws.dynamodb, "audit-log")
    aws.dynamodb.add_error("DescribeContinuousBackups", {"TableName": "audit-log"}, "AccessDeniedException")
    stub_backup_plan(aws.backup, destination=aws.backup_dr, resources=[ALL_TABLES])
    results = verify(aws)
    assert results["dynamodb.pitr-backup-copy"].status is Status.ERROR
    assert results["dynamodb.pitr-backup-copy"].summary == (
        f"AccessDeniedException on dynamodb:DescribeContinuousBackups for audit-log in {PRIMARY}"
    )
    assert results["dynamodb.global-platform"].status is Status.VERIFIED


def test_access_denied_on_backup_plans_is_an_error_when_nothing_else_copies(aws: StubbedAws) -> None:
    for name in TABLES:
        stub_table(aws.dynamodb, name)
    aws.backup.add_error("ListBackupPlans", {}, "AccessDeniedException")
    aws.dynamodb.add("ListExports", {}, {"ExportSummaries": []})
    result = verify(aws)["dynamodb.pitr-backup-copy"]
    assert (result.status, result.summary) == (
        Status.ERROR,
        f"AccessDeniedException on backup:ListBackupPlans for backup plans in {PRIMARY}",
    )


def test_access_denied_on_backup_plans_is_moot_when_exports_copy_every_table(aws: StubbedAws) -> None:
    for name in TABLES:
        stub_table(aws.dynamodb, name)
    aws.backup.add_error("ListBackupPlans", {}, "AccessDeniedException")
    stub_exports(aws.dynamodb, aws.s3, dict.fromkeys(TABLES, "spaceduck-dr-exports"))
    assert verify(aws)["dynamodb.pitr-backup-copy"].status is Status.VERIFIED


def test_pitr_backup_copy_reads_moto_tables_whose_pitr_is_off_by_default(moto_server: MotoServer) -> None:
    create_moto_tables(moto_server, TABLES)
    client = boto3.client("dynamodb", region_name=PRIMARY, endpoint_url=moto_server.endpoint_url)
    client.update_continuous_backups(
        TableName="audit-log", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("AWS_ENDPOINT_URL", moto_server.endpoint_url)
        dynamodb = collect_dynamodb(CONFIG, AwsClients(boto3.Session(region_name=PRIMARY)))
    result = pitr_backup_copy(CONFIG, dynamodb=dynamodb, backup=BackupSnapshot(PRIMARY, (), {}))
    assert result.status is Status.FAILING
    assert {name: facts["pitr"] for name, facts in result.facts["tables"].items()} == {
        "spaceduck-main": "DISABLED",
        "spaceduck-birth-certs": "DISABLED",
        "audit-log": "ENABLED",
    }


def test_access_denied_on_describe_global_table_is_an_error_not_a_missing_replica(aws: StubbedAws) -> None:
    stub_table(aws.dynamodb, "spaceduck-main", replicas={})
    aws.dynamodb.add_error(
        "DescribeGlobalTable", {"GlobalTableName": "spaceduck-main"}, "AccessDeniedException"
    )
    result = verify(aws, replace(CONFIG, platform_tables=()))["dynamodb.global-main"]
    assert (result.status, result.summary) == (
        Status.ERROR,
        f"AccessDeniedException on dynamodb:DescribeGlobalTable for spaceduck-main in {PRIMARY}",
    )


def test_access_denied_on_the_destination_vault_is_an_error_when_nothing_else_copies(aws: StubbedAws) -> None:
    for name in TABLES:
        stub_table(aws.dynamodb, name)
    stub_backup_plan(aws.backup, destination=aws.backup_dr, resources=[ALL_TABLES])
    aws.backup_dr.add_error("DescribeBackupVault", {"BackupVaultName": "dr"}, "AccessDeniedException")
    aws.dynamodb.add("ListExports", {}, {"ExportSummaries": []})
    result = verify(aws)["dynamodb.pitr-backup-copy"]
    assert (result.status, result.summary) == (
        Status.ERROR,
        f"AccessDeniedException on backup:DescribeBackupVault for backup vault dr in {SECONDARY}",
    )


def test_access_denied_on_region_settings_is_an_error_when_nothing_else_copies(aws: StubbedAws) -> None:
    for name in TABLES:
        stub_table(aws.dynamodb, name)
    stub_backup_plan(aws.backup, destination=aws.backup_dr, resources=["*"])
    aws.backup.add_error("DescribeRegionSettings", {}, "AccessDeniedException")
    aws.dynamodb.add("ListExports", {}, {"ExportSummaries": []})
    result = verify(aws)["dynamodb.pitr-backup-copy"]
    assert (result.status, result.summary) == (
        Status.ERROR,
        f"AccessDeniedException on backup:DescribeRegionSettings for AWS Backup region settings in {PRIMARY}",
    )
