"""The DNS failover runbook: written from the live Route53 setup, exact commands, checkable steps."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from mission_control.cli import app
from mission_control.demo.estate import demo_config_toml
from mission_control.evidence.errors import EvidenceError
from mission_control.evidence.runbooks import dns_runbook
from mission_control.verification.aws import AwsError
from mission_control.verification.collectors.route53 import Route53Snapshot
from mission_control.verification.config import EnvironmentConfig
from tests.conftest import DemoEstate

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
CONFIG = EnvironmentConfig(
    name="production",
    primary_region="us-east-1",
    secondary_region="ap-southeast-1",
    hosted_zone="spaceduck.example.",
    api_domain="api.spaceduck.example",
)
NS = {
    "Name": "spaceduck.example.",
    "Type": "NS",
    "TTL": 172800,
    "ResourceRecords": [{"Value": "ns-1.awsdns-01.org."}, {"Value": "ns-2.awsdns-02.com."}],
}


def check(check_id: str, host: str) -> dict:
    return {
        "Id": check_id,
        "HealthCheckConfig": {
            "Type": "HTTPS",
            "FullyQualifiedDomainName": host,
            "Port": 443,
            "ResourcePath": "/beak",
        },
    }


def latency(
    region: str, value: str, *, ttl: int = 60, check_id: str | None = None, alias: str | None = None
) -> dict:
    record = {
        "Name": "api.spaceduck.example.",
        "Type": "A",
        "SetIdentifier": f"beak-{region}",
        "Region": region,
    }
    if alias:
        record["AliasTarget"] = {"DNSName": alias, "HostedZoneId": "Z2", "EvaluateTargetHealth": True}
    else:
        record |= {"TTL": ttl, "ResourceRecords": [{"Value": value}]}
    if check_id:
        record["HealthCheckId"] = check_id
    return record


def snapshot(*records: dict, checks: tuple = ()) -> Route53Snapshot:
    return Route53Snapshot("spaceduck.example.", {"Id": "/hostedzone/Z123"}, (NS, *records), checks)


def ready_estate() -> Route53Snapshot:
    return snapshot(
        latency("us-east-1", "192.0.2.10", check_id="hc-use1"),
        latency("ap-southeast-1", "198.51.100.20", ttl=30, check_id="hc-apse1"),
        checks=(
            check("hc-use1", "use1.api.spaceduck.example"),
            check("hc-apse1", "apse1.api.spaceduck.example"),
        ),
    )


def test_runbook_names_the_real_ids_commands_and_expected_answers() -> None:
    text = dns_runbook(CONFIG, ready_estate(), NOW)
    assert "# DNS failover runbook — production: api.spaceduck.example" in text
    assert "zone `spaceduck.example.` (`Z123`)" in text
    assert "aws route53 update-health-check --health-check-id hc-use1 --inverted" in text
    assert "aws route53 update-health-check --health-check-id hc-use1 --no-inverted" in text
    assert "aws route53 get-health-check-status --health-check-id hc-apse1" in text
    assert "dig +short api.spaceduck.example A @ns-1.awsdns-01.org" in text
    assert "dig +short api.spaceduck.example A @ns-2.awsdns-02.com" in text
    fail_over, fail_back = text.split("## Fail back", 1)
    assert "Expected answer from each: `198.51.100.20`" in fail_over.split("## Fail over", 1)[1]
    assert "Expected answer from each: `192.0.2.10`" in fail_back
    assert "Wait at least 60 s" in text  # the longest TTL of the routed records
    assert (
        "| us-east-1 | beak-us-east-1 | A | 60 s | `192.0.2.10` | `hc-use1` HTTPS use1.api.spaceduck.example:443/beak |"
        in text
    )


def test_alias_records_expect_their_targets_addresses() -> None:
    estate = snapshot(
        latency("us-east-1", "", alias="d111.cloudfront.net.", check_id="hc-use1"),
        latency("ap-southeast-1", "", alias="d222.cloudfront.net."),
        checks=(check("hc-use1", "use1.api.spaceduck.example"),),
    )
    text = dns_runbook(CONFIG, estate, NOW)
    assert "alias (target's TTL)" in text
    assert "Expected answer from each: the addresses of `d222.cloudfront.net`" in text


@pytest.mark.parametrize(
    ("estate", "config", "message"),
    [
        (snapshot(latency("us-east-1", "192.0.2.10"), latency("ap-southeast-1", "198.51.100.20")), CONFIG, "has no health check"),
        (snapshot(latency("us-east-1", "192.0.2.10", check_id="hc")), CONFIG, "no latency or failover record for api.spaceduck.example in ap-southeast-1"),
        (snapshot(), CONFIG, "in us-east-1, ap-southeast-1"),
        (Route53Snapshot("spaceduck.example.", None), CONFIG, "hosted zone spaceduck.example. not found"),
        (Route53Snapshot("spaceduck.example.", AwsError("route53:ListHostedZonesByName", "spaceduck.example.", "us-east-1", "AccessDenied")), CONFIG, "AccessDenied on route53:ListHostedZonesByName"),
        (ready_estate(), EnvironmentConfig(name="production", primary_region="us-east-1", secondary_region="ap-southeast-1"), "not configured: set hosted_zone"),
    ],
)  # fmt: skip
def test_an_estate_that_cannot_fail_over_says_what_to_fix(
    estate: Route53Snapshot, config: EnvironmentConfig, message: str
) -> None:
    with pytest.raises(EvidenceError, match=message):
        dns_runbook(config, estate, NOW)


def test_runbook_command_against_the_demo_estate(demo_aws: DemoEstate, tmp_path: Path) -> None:
    config_file = tmp_path / "mission-control.toml"
    config_file.write_text(demo_config_toml(demo_aws.config), encoding="utf-8")
    output = tmp_path / "runbook.md"
    result = CliRunner().invoke(
        app, ["runbook", "dns", "--config", str(config_file), "--output", str(output)]
    )
    assert result.exit_code == 0, result.stderr
    text = output.read_text(encoding="utf-8")
    route53 = boto3.client("route53", region_name="us-east-1")
    checks = route53.list_health_checks()["HealthChecks"]
    primary = next(
        c for c in checks if c["HealthCheckConfig"]["FullyQualifiedDomainName"].startswith("use1.")
    )
    assert f"--health-check-id {primary['Id']} --inverted" in text
    zone = route53.list_hosted_zones_by_name(DNSName="spaceduck.example.")["HostedZones"][0]
    name_servers = route53.get_hosted_zone(Id=zone["Id"])["DelegationSet"]["NameServers"]
    assert all(f"@{ns.rstrip('.')}" in text for ns in name_servers)


def test_runbook_command_without_configuration_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["runbook", "dns", "--config", str(tmp_path / "absent.toml")])
    assert result.exit_code == 2 and "cannot read configuration" in result.stderr
