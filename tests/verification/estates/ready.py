"""The ready DNS, DynamoDB and Backup estate the corpus's cases edit: every dns.* and dynamodb.* item verifies.

Seeded through the ordinary AWS APIs on the moto server, so the CLI reads it as it would an account.
Helpers here are the vocabulary cases edit it with.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import replace
from typing import Any

from mission_control.demo.moto_extensions import DENY_PATH, REPLICA_STATUS_PATH
from tests.verification.estates.harness import PRIMARY, SECONDARY, Estate

ZONE = "spaceduck.example."
API = "api.spaceduck.example"
ENDPOINTS = {PRIMARY: "use1.api.spaceduck.example", SECONDARY: "apse1.api.spaceduck.example"}
ADDRESSES = {PRIMARY: "203.0.113.10", SECONDARY: "198.51.100.20"}
TABLES = ("spaceduck-main", "spaceduck-birth-certs", "audit-log")
HEALTH_PATH = "/beak/system/status"


def seed_ready(estate: Estate) -> None:
    """A zone with latency records per region on health-checked endpoints; global tables with PITR,
    copied by a backup plan to a vault in the secondary region."""
    seed_dns(estate)
    seed_tables(estate)
    seed_backup(estate)
    estate.config = replace(
        estate.config,
        hosted_zone=ZONE,
        api_domain=API,
        regional_endpoints=dict(ENDPOINTS),
        main_table=TABLES[0],
        platform_tables=TABLES,
    )


# --- Route53 --------------------------------------------------------------------------------------


def seed_dns(estate: Estate) -> None:
    route53 = estate.client("route53")
    estate.ids["zone"] = route53.create_hosted_zone(Name=ZONE, CallerReference="ready-zone")["HostedZone"][
        "Id"
    ]
    records = []
    for region, endpoint in ENDPOINTS.items():
        estate.ids[f"check-{region}"] = create_health_check(estate, endpoint)
        records.append(plain_record(endpoint, "A", ADDRESSES[region], ttl=300))
        records.append(latency_record(region, health_check_id=estate.ids[f"check-{region}"]))
    change_records(estate, *records)


def create_health_check(estate: Estate, endpoint: str, **settings: Any) -> str:
    """An HTTPS check of `endpoint`'s health path on 443; `settings` override HealthCheckConfig fields."""
    config: dict[str, Any] = {
        "Type": "HTTPS",
        "FullyQualifiedDomainName": endpoint,
        "ResourcePath": HEALTH_PATH,
        "Port": 443,
        "RequestInterval": 30,
        "FailureThreshold": 3,
    }
    config.update(settings)
    config = {key: value for key, value in config.items() if value is not None}
    reference = f"check-{len(estate.ids)}-{endpoint}"
    response = estate.client("route53").create_health_check(
        CallerReference=reference, HealthCheckConfig=config
    )
    return response["HealthCheck"]["Id"]


def plain_record(name: str, kind: str, value: str, *, ttl: int = 60) -> dict[str, Any]:
    return {"Name": name, "Type": kind, "TTL": ttl, "ResourceRecords": [{"Value": value}]}


def latency_record(
    region: str, *, ttl: int = 60, value: str | None = None, health_check_id: str | None = None
) -> dict[str, Any]:
    record = {
        **plain_record(API, "CNAME", value or ENDPOINTS[region], ttl=ttl),
        "SetIdentifier": f"beak-{region}",
        "Region": region,
    }
    if health_check_id:
        record["HealthCheckId"] = health_check_id
    return record


def change_records(estate: Estate, *records: dict[str, Any], action: str = "UPSERT", zone: str = "") -> None:
    changes = [{"Action": action, "ResourceRecordSet": record} for record in records]
    estate.client("route53").change_resource_record_sets(
        HostedZoneId=zone or estate.ids["zone"], ChangeBatch={"Changes": changes}
    )


def replace_latency_records(estate: Estate, *records: dict[str, Any]) -> None:
    """Delete the baseline's two latency records and create `records` instead."""
    route53 = estate.client("route53")
    existing = route53.list_resource_record_sets(HostedZoneId=estate.ids["zone"])["ResourceRecordSets"]
    ours = [record for record in existing if record.get("SetIdentifier", "").startswith("beak-")]
    change_records(estate, *ours, action="DELETE")
    if records:
        change_records(estate, *records, action="CREATE")


# --- DynamoDB ------------------------------------------------------------------------------------


def table_arn(name: str, region: str = PRIMARY, account: str = "123456789012") -> str:
    return f"arn:aws:dynamodb:{region}:{account}:table/{name}"


def create_table(estate: Estate, name: str, region: str = PRIMARY, *, streams: bool = True) -> str:
    description = estate.client("dynamodb", region).create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        if streams
        else {"StreamEnabled": False},
    )["TableDescription"]
    return description["TableArn"]


def seed_tables(estate: Estate, *, replicated: tuple[str, ...] = TABLES) -> None:
    dynamodb = estate.client("dynamodb")
    for name in TABLES:
        estate.ids[f"table-{name}"] = create_table(estate, name)
        dynamodb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
        if name in replicated:
            dynamodb.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": SECONDARY}}])


# --- AWS Backup ----------------------------------------------------------------------------------


def seed_backup(estate: Estate) -> None:
    """Vaults in both regions and a daily plan copying to the secondary one, selecting each table by ARN."""
    backup = estate.client("backup")
    backup.create_backup_vault(BackupVaultName="spaceduck-primary")
    estate.ids["dr-vault"] = estate.client("backup", SECONDARY).create_backup_vault(
        BackupVaultName="spaceduck-dr"
    )["BackupVaultArn"]
    estate.ids["plan"] = create_plan(estate, copy_to=estate.ids["dr-vault"])
    estate.ids["selection"] = select(estate, Resources=[estate.ids[f"table-{name}"] for name in TABLES])


def create_plan(estate: Estate, *, copy_to: str, name: str = "spaceduck-dynamodb-daily") -> str:
    rule = {
        "RuleName": "daily-0500-utc",
        "TargetBackupVaultName": "spaceduck-primary",
        "ScheduleExpression": "cron(0 5 * * ? *)",
        "CopyActions": [{"DestinationBackupVaultArn": copy_to}],
    }
    response = estate.client("backup").create_backup_plan(
        BackupPlan={"BackupPlanName": name, "Rules": [rule]}
    )
    return response["BackupPlanId"]


def select(estate: Estate, *, plan: str = "", name: str = "platform-tables", **selection: Any) -> str:
    """A backup selection on `plan` (the baseline's by default) with BackupSelection fields `selection`."""
    body = {
        "SelectionName": name,
        "IamRoleArn": "arn:aws:iam::123456789012:role/spaceduck-backup",
        **selection,
    }
    response = estate.client("backup").create_backup_selection(
        BackupPlanId=plan or estate.ids["plan"], BackupSelection=body
    )
    return response["SelectionId"]


def replace_selection(estate: Estate, **selection: Any) -> None:
    """Swap the baseline's selection for one with `selection`'s fields."""
    estate.client("backup").delete_backup_selection(
        BackupPlanId=estate.ids["plan"], SelectionId=estate.ids["selection"]
    )
    estate.ids["selection"] = select(estate, **selection)


# --- edits ---------------------------------------------------------------------------------------


def update_check(estate: Estate, region: str, **settings: Any) -> None:
    """UpdateHealthCheck on the baseline's check of `region`'s endpoint."""
    estate.client("route53").update_health_check(HealthCheckId=estate.ids[f"check-{region}"], **settings)


def use_check(estate: Estate, region: str, check_id: str) -> None:
    """Point `region`'s latency record at the health check `check_id`."""
    change_records(estate, latency_record(region, health_check_id=check_id))


def alias(name: str, zone_id: str, *, evaluate: bool = False) -> dict[str, Any]:
    return {"HostedZoneId": zone_id.split("/")[-1], "DNSName": name, "EvaluateTargetHealth": evaluate}


def alias_latency_record(estate: Estate, region: str, target: dict[str, Any]) -> dict[str, Any]:
    """`region`'s latency record as an A alias to `target`, keeping its health check."""
    return {
        "Name": API,
        "Type": "A",
        "SetIdentifier": f"beak-{region}",
        "Region": region,
        "AliasTarget": target,
        "HealthCheckId": estate.ids[f"check-{region}"],
    }


def create_zone(estate: Estate, name: str, *, private: bool = False, reference: str = "") -> str:
    settings: dict[str, Any] = {}
    if private:
        settings = {
            "HostedZoneConfig": {"PrivateZone": True},
            "VPC": {"VPCRegion": PRIMARY, "VPCId": "vpc-1"},
        }
    response = estate.client("route53").create_hosted_zone(
        Name=name, CallerReference=reference or f"{name}-{len(estate.ids)}", **settings
    )
    return response["HostedZone"]["Id"]


def name_servers(estate: Estate, zone_id: str) -> list[str]:
    return estate.client("route53").get_hosted_zone(Id=zone_id)["DelegationSet"]["NameServers"]


def set_replica_status(estate: Estate, table: str, status: str, region: str = SECONDARY) -> None:
    """Give a replica a status no AWS call sets directly (CREATING, ARCHIVED...), through the moto layer."""
    body = json.dumps({"TableName": table, "RegionName": region, "ReplicaStatus": status}).encode()
    request = urllib.request.Request(
        f"{estate.client.endpoint_url}{REPLICA_STATUS_PATH}", data=body, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def use_table(estate: Estate, role: str, name: str) -> None:
    """Make `name` the configured main table ("main") or the only platform table ("platform")."""
    key = {"main": "main_table", "platform": "platform_tables"}[role]
    estate.config = replace(estate.config, **{key: name if role == "main" else (name,)})


def deny(estate: Estate, operation: str, table: str = "") -> None:
    """Answer the DynamoDB `operation` (on `table`, or every table) with AccessDeniedException."""
    body = json.dumps({"Operation": operation, **({"TableName": table} if table else {})}).encode()
    request = urllib.request.Request(f"{estate.client.endpoint_url}{DENY_PATH}", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


def tag_tables(estate: Estate, tags: dict[str, dict[str, str]]) -> None:
    """Tag each baseline table: {table: {key: value}}."""
    for table, table_tags in tags.items():
        estate.client("dynamodb").tag_resource(
            ResourceArn=estate.ids[f"table-{table}"],
            Tags=[{"Key": key, "Value": value} for key, value in table_tags.items()],
        )


def opt_out_dynamodb(estate: Estate) -> None:
    estate.client("backup").update_region_settings(ResourceTypeOptInPreference={"DynamoDB": False})
