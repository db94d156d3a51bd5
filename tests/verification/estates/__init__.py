"""Sample spaceduck estates for the DNS and DynamoDB tests: moto for Route53, ModelStub for the rest."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mission_control.verification.config import EnvironmentConfig
from tests.verification.model_stub import ModelStub

PRIMARY = "us-east-1"
SECONDARY = "ap-southeast-1"
ZONE = "spaceduck.example."
API = "api.spaceduck.example"
ENDPOINTS = {PRIMARY: "use1.api.spaceduck.example", SECONDARY: "apse1.api.spaceduck.example"}
ACCOUNT = "123456789012"
ALIAS_TARGETS = {"PRIMARY": "d1.cloudfront.net", "SECONDARY": "d2.cloudfront.net"}
DR_VAULT = f"arn:aws:backup:{SECONDARY}:{ACCOUNT}:backup-vault:dr"

CONFIG = EnvironmentConfig(
    name="production",
    primary_region=PRIMARY,
    secondary_region=SECONDARY,
    hosted_zone=ZONE,
    api_domain=API,
    regional_endpoints=dict(ENDPOINTS),
    max_failover_ttl=60,
    main_table="spaceduck-main",
    platform_tables=("spaceduck-main", "spaceduck-birth-certs", "audit-log"),
)


# --- Route53, seeded into moto -------------------------------------------------------------------


def create_zone(route53: Any, name: str = ZONE) -> str:
    return route53.create_hosted_zone(Name=name, CallerReference=name)["HostedZone"]["Id"]


def create_health_check(
    route53: Any, endpoint: str, *, path: str = "/beak/system/status", check_type: str = "HTTPS"
) -> str:
    config: dict[str, Any] = {"Type": check_type, "FullyQualifiedDomainName": endpoint, "Port": 443}
    if check_type != "TCP":
        config["ResourcePath"] = path
    reference = f"{endpoint}{path}{check_type}"
    return route53.create_health_check(CallerReference=reference, HealthCheckConfig=config)["HealthCheck"][
        "Id"
    ]


def latency_record(region: str, *, ttl: int = 60, health_check_id: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "Name": API,
        "Type": "CNAME",
        "SetIdentifier": region,
        "Region": region,
        "TTL": ttl,
        "ResourceRecords": [{"Value": ENDPOINTS[region]}],
    }
    if health_check_id:
        record["HealthCheckId"] = health_check_id
    return record


def failover_record(role: str, *, health_check_id: str | None = None) -> dict[str, Any]:
    """A failover alias to a regional CloudFront distribution (d1 for PRIMARY, d2 for SECONDARY)."""
    record: dict[str, Any] = {
        "Name": API,
        "Type": "A",
        "SetIdentifier": role.lower(),
        "Failover": role,
        "AliasTarget": {
            "HostedZoneId": "Z2FDTNDATAQYW2",
            "DNSName": f"{ALIAS_TARGETS[role]}.",
            "EvaluateTargetHealth": True,
        },
    }
    if health_check_id:
        record["HealthCheckId"] = health_check_id
    return record


def add_records(route53: Any, zone_id: str, *records: dict[str, Any]) -> None:
    changes = [{"Action": "CREATE", "ResourceRecordSet": record} for record in records]
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})


def seed_ready_dns(route53: Any) -> str:
    """Latency records for both regions, each referencing an HTTPS health check on its endpoint."""
    zone_id = create_zone(route53)
    records = [
        latency_record(region, health_check_id=create_health_check(route53, endpoint))
        for region, endpoint in ENDPOINTS.items()
    ]
    add_records(route53, zone_id, *records)
    return zone_id


# --- DynamoDB, AWS Backup and S3 answers via ModelStub --------------------------------------------


def table_arn(name: str, region: str = PRIMARY) -> str:
    return f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"


def stub_table(
    dynamodb: ModelStub,
    name: str,
    *,
    replicas: dict[str, str] | None = None,
    pitr: str = "ENABLED",
) -> None:
    """A global table (version 2019.11.21) with `replicas` {region: status}, ACTIVE in SECONDARY by default."""
    replicas = {SECONDARY: "ACTIVE"} if replicas is None else replicas
    table = {
        "TableName": name,
        "TableArn": table_arn(name),
        "TableStatus": "ACTIVE",
        "GlobalTableVersion": "2019.11.21",
        "Replicas": [{"RegionName": region, "ReplicaStatus": status} for region, status in replicas.items()],
    }
    dynamodb.add("DescribeTable", {"TableName": name}, {"Table": table})
    backups = {
        "ContinuousBackupsStatus": "ENABLED",
        "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": pitr},
    }
    dynamodb.add("DescribeContinuousBackups", {"TableName": name}, {"ContinuousBackupsDescription": backups})


def stub_no_global_table(dynamodb: ModelStub, name: str) -> None:
    """DescribeGlobalTable's answer for a table that is no legacy (2017.11.29) global table."""
    dynamodb.add_error("DescribeGlobalTable", {"GlobalTableName": name}, "GlobalTableNotFoundException")


def stub_missing_table(dynamodb: ModelStub, name: str) -> None:
    dynamodb.add_error("DescribeTable", {"TableName": name}, "ResourceNotFoundException")


def stub_backup_plan(
    backup: ModelStub,
    *,
    resources: list[str],
    destination: ModelStub,
    vault: str = DR_VAULT,
    not_resources: list[str] | None = None,
    plan_id: str = "plan-1",
) -> None:
    """The account's only backup plan: a daily rule copying to `vault`, selecting `resources`.

    `destination` stubs the backup client of the vault's region, where the vault exists; DynamoDB is
    opted in to AWS Backup in the primary region.
    """
    plan_arn = f"arn:aws:backup:{PRIMARY}:{ACCOUNT}:backup-plan:{plan_id}"
    summary = {"BackupPlanId": plan_id, "BackupPlanName": "dr", "BackupPlanArn": plan_arn}
    backup.add("ListBackupPlans", {}, {"BackupPlansList": [summary]})
    rule = {
        "RuleName": "daily",
        "TargetBackupVaultName": "main",
        "CopyActions": [{"DestinationBackupVaultArn": vault}],
    }
    backup.add(
        "GetBackupPlan",
        {"BackupPlanId": plan_id},
        {"BackupPlanId": plan_id, "BackupPlan": {"BackupPlanName": "dr", "Rules": [rule]}},
    )
    backup.add(
        "ListBackupSelections",
        {"BackupPlanId": plan_id},
        {"BackupSelectionsList": [{"SelectionId": "selection-1", "SelectionName": "tables"}]},
    )
    selection: dict[str, Any] = {
        "SelectionName": "tables",
        "IamRoleArn": f"arn:aws:iam::{ACCOUNT}:role/backup",
        "Resources": resources,
    }
    if not_resources:
        selection["NotResources"] = not_resources
    backup.add(
        "GetBackupSelection",
        {"BackupPlanId": plan_id, "SelectionId": "selection-1"},
        {"BackupSelection": selection, "BackupPlanId": plan_id, "SelectionId": "selection-1"},
    )
    settings = {
        "ResourceTypeOptInPreference": {"DynamoDB": True},
        "ResourceTypeManagementPreference": {"DynamoDB": True},
    }
    backup.add("DescribeRegionSettings", {}, settings)
    name = vault.split(":")[-1]
    destination.add(
        "DescribeBackupVault", {"BackupVaultName": name}, {"BackupVaultName": name, "BackupVaultArn": vault}
    )


def stub_no_backup_plans(backup: ModelStub) -> None:
    backup.add("ListBackupPlans", {}, {"BackupPlansList": []})


def stub_exports(
    dynamodb: ModelStub, s3: ModelStub, exports: dict[str, str], bucket_region: str = SECONDARY
) -> None:
    """One completed export per table in `exports` {table: bucket}; every bucket lives in `bucket_region`."""
    summaries = []
    for table, bucket in exports.items():
        arn = f"{table_arn(table)}/export/01717171717171-0abc{len(summaries):04d}"
        summaries.append({"ExportArn": arn, "ExportStatus": "COMPLETED", "ExportType": "FULL_EXPORT"})
        description = {
            "ExportArn": arn,
            "ExportStatus": "COMPLETED",
            "TableArn": table_arn(table),
            "S3Bucket": bucket,
            "ExportTime": datetime(2024, 6, 1, tzinfo=UTC),
        }
        dynamodb.add("DescribeExport", {"ExportArn": arn}, {"ExportDescription": description})
    dynamodb.add("ListExports", {}, {"ExportSummaries": summaries})
    for bucket in set(exports.values()):
        s3.add("GetBucketLocation", {"Bucket": bucket}, {"LocationConstraint": bucket_region})
