"""DNS probes against moto's Route53 (real shapes), and ModelStub where an error must be provoked."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mission_control.verification.aws import AwsClients
from mission_control.verification.collectors.route53 import collect_route53
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.probes.dns import failover_ttl, health_checks, latency_routing
from mission_control.verification.results import ProbeResult, Status
from tests.verification.estates import (
    ALIAS_TARGETS,
    API,
    CONFIG,
    ENDPOINTS,
    PRIMARY,
    SECONDARY,
    ZONE,
    add_records,
    create_health_check,
    create_zone,
    failover_record,
    latency_record,
    seed_ready_dns,
)
from tests.verification.model_stub import ModelStub


@pytest.fixture
def route53() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("route53", region_name=PRIMARY)


def verify(config: EnvironmentConfig = CONFIG, clients: AwsClients | None = None) -> dict[str, ProbeResult]:
    snapshot = collect_route53(config, clients or AwsClients())
    return {
        "dns.latency-routing": latency_routing(config, route53=snapshot),
        "dns.health-checks": health_checks(config, route53=snapshot),
        "dns.failover-ttl": failover_ttl(config, route53=snapshot),
    }


def test_ready_estate_verifies_all_three_dns_items(route53: Any) -> None:
    seed_ready_dns(route53)
    results = verify()
    assert {item: r.status for item, r in results.items()} == dict.fromkeys(results, Status.VERIFIED)
    assert results["dns.latency-routing"].facts["regions"] == [SECONDARY, PRIMARY]


def test_zone_and_record_names_match_without_trailing_dot_or_case(route53: Any) -> None:
    seed_ready_dns(route53)
    config = replace(CONFIG, hosted_zone="SpaceDuck.Example", api_domain="API.spaceduck.example.")
    assert verify(config)["dns.latency-routing"].status is Status.VERIFIED


# --- configuration and zone lookup, shared by all three probes ----------------------------------


@pytest.mark.parametrize("key", ["hosted_zone", "api_domain"])
def test_each_dns_probe_fails_naming_the_missing_configuration_key(route53: Any, key: str) -> None:
    for result in verify(replace(CONFIG, **{key: None})).values():
        assert result.status is Status.FAILING
        assert result.summary == f"not configured: set {key} in [environments.production]"


def test_missing_zone_fails_every_dns_probe(route53: Any) -> None:
    create_zone(route53, "other.example.")
    for result in verify().values():
        assert (result.status, result.summary) == (Status.FAILING, f"hosted zone {ZONE} not found")


def test_public_zone_is_preferred_over_a_private_zone_of_the_same_name() -> None:
    clients = AwsClients(boto3.Session(region_name=PRIMARY))
    stub = ModelStub(clients.get("route53", PRIMARY))
    zones = [
        {"Id": "/hostedzone/PRIVATE", "Name": ZONE, "CallerReference": "a", "Config": {"PrivateZone": True}},
        {"Id": "/hostedzone/PUBLIC", "Name": ZONE, "CallerReference": "b", "Config": {"PrivateZone": False}},
    ]
    stub.add(
        "ListHostedZonesByName",
        {"DNSName": ZONE, "MaxItems": "10"},
        {"HostedZones": zones, "IsTruncated": False, "MaxItems": "10"},
    )
    records = [latency_record(PRIMARY), latency_record(SECONDARY)]
    stub.add(
        "ListResourceRecordSets",
        {"HostedZoneId": "/hostedzone/PUBLIC"},
        {"ResourceRecordSets": records, "IsTruncated": False, "MaxItems": "300"},
    )
    stub.add(
        "ListHealthChecks", {}, {"HealthChecks": [], "Marker": "", "IsTruncated": False, "MaxItems": "100"}
    )
    assert verify(clients=clients)["dns.latency-routing"].status is Status.VERIFIED


def test_access_denied_on_records_is_an_error_naming_action_and_zone() -> None:
    clients = AwsClients(boto3.Session(region_name=PRIMARY))
    stub = ModelStub(clients.get("route53", PRIMARY))
    zone = {"Id": "/hostedzone/Z1", "Name": ZONE, "CallerReference": "a"}
    stub.add(
        "ListHostedZonesByName",
        {"DNSName": ZONE, "MaxItems": "10"},
        {"HostedZones": [zone], "IsTruncated": False, "MaxItems": "10"},
    )
    stub.add_error("ListResourceRecordSets", {"HostedZoneId": "/hostedzone/Z1"}, "AccessDenied", 403)
    stub.add(
        "ListHealthChecks", {}, {"HealthChecks": [], "Marker": "", "IsTruncated": False, "MaxItems": "100"}
    )
    for result in verify(clients=clients).values():
        assert result.status is Status.ERROR
        assert result.summary == f"AccessDenied on route53:ListResourceRecordSets for {ZONE} in us-east-1"


def test_access_denied_on_health_checks_errors_only_the_health_check_item() -> None:
    clients = AwsClients(boto3.Session(region_name=PRIMARY))
    stub = ModelStub(clients.get("route53", PRIMARY))
    zone = {"Id": "/hostedzone/Z1", "Name": ZONE, "CallerReference": "a"}
    stub.add(
        "ListHostedZonesByName",
        {"DNSName": ZONE, "MaxItems": "10"},
        {"HostedZones": [zone], "IsTruncated": False, "MaxItems": "10"},
    )
    records = [latency_record(PRIMARY), latency_record(SECONDARY)]
    stub.add(
        "ListResourceRecordSets",
        {"HostedZoneId": "/hostedzone/Z1"},
        {"ResourceRecordSets": records, "IsTruncated": False, "MaxItems": "300"},
    )
    stub.add_error("ListHealthChecks", {}, "AccessDenied", 403)
    results = verify(clients=clients)
    assert results["dns.health-checks"].status is Status.ERROR
    assert results["dns.health-checks"].summary == (
        "AccessDenied on route53:ListHealthChecks for health checks in us-east-1"
    )
    assert results["dns.latency-routing"].status is Status.VERIFIED
    assert results["dns.failover-ttl"].status is Status.VERIFIED


def test_collector_reads_every_page_of_records(route53: Any) -> None:
    zone_id = seed_ready_dns(route53)
    padding = [
        {
            "Name": f"host{n}.spaceduck.example",
            "Type": "A",
            "TTL": 300,
            "ResourceRecords": [{"Value": "192.0.2.1"}],
        }
        for n in range(320)
    ]
    add_records(route53, zone_id, *padding)
    snapshot = collect_route53(CONFIG, AwsClients())
    assert len(snapshot.records) == 2 + 2 + 320  # NS, SOA, the two latency records, the padding


# --- dns.latency-routing ------------------------------------------------------------------------


def test_latency_routing_fails_when_the_secondary_region_has_no_latency_record(route53: Any) -> None:
    add_records(route53, create_zone(route53), latency_record(PRIMARY))
    result = verify()["dns.latency-routing"]
    assert (result.status, result.summary) == (
        Status.FAILING,
        f"latency records for {API} do not cover {SECONDARY}",
    )


def test_latency_routing_fails_when_api_domain_has_only_a_simple_record(route53: Any) -> None:
    simple = {"Name": API, "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": ENDPOINTS[PRIMARY]}]}
    add_records(route53, create_zone(route53), simple)
    result = verify()["dns.latency-routing"]
    assert (result.status, result.summary) == (Status.FAILING, f"no latency records for {API} in {ZONE}")


def test_latency_routing_fails_on_an_empty_zone(route53: Any) -> None:
    create_zone(route53)
    result = verify()["dns.latency-routing"]
    assert result.status is Status.FAILING
    assert (result.facts["latency_records"], result.facts["regions"]) == ([], [])


# --- dns.health-checks --------------------------------------------------------------------------


def test_health_checks_fail_when_an_endpoint_has_no_health_check(route53: Any) -> None:
    check = create_health_check(route53, ENDPOINTS[PRIMARY])
    add_records(
        route53,
        create_zone(route53),
        latency_record(PRIMARY, health_check_id=check),
        latency_record(SECONDARY),
    )
    result = verify()["dns.health-checks"]
    assert (result.status, result.summary) == (Status.FAILING, f"no health check on {ENDPOINTS[SECONDARY]}")


def test_health_checks_fail_when_the_check_path_is_not_a_health_path(route53: Any) -> None:
    checks = {PRIMARY: create_health_check(route53, ENDPOINTS[PRIMARY])}
    checks[SECONDARY] = create_health_check(route53, ENDPOINTS[SECONDARY], path="/")
    add_records(
        route53, create_zone(route53), *(latency_record(r, health_check_id=c) for r, c in checks.items())
    )
    result = verify()["dns.health-checks"]
    assert result.status is Status.FAILING
    assert result.summary == (
        f"{SECONDARY}: health check {checks[SECONDARY]} requests /, not one of /beak/system/status, /beak"
    )


def test_health_checks_fail_when_the_check_is_tcp(route53: Any) -> None:
    checks = {PRIMARY: create_health_check(route53, ENDPOINTS[PRIMARY])}
    checks[SECONDARY] = create_health_check(route53, ENDPOINTS[SECONDARY], check_type="TCP")
    add_records(
        route53, create_zone(route53), *(latency_record(r, health_check_id=c) for r, c in checks.items())
    )
    result = verify()["dns.health-checks"]
    assert result.status is Status.FAILING
    assert result.summary == (
        f"{SECONDARY}: health check {checks[SECONDARY]} is TCP, which does not request "
        f"{ENDPOINTS[SECONDARY]}'s health path"
    )


def test_health_checks_fail_when_the_regions_record_does_not_reference_the_check(route53: Any) -> None:
    checks = {region: create_health_check(route53, endpoint) for region, endpoint in ENDPOINTS.items()}
    add_records(
        route53,
        create_zone(route53),
        latency_record(PRIMARY, health_check_id=checks[PRIMARY]),
        latency_record(SECONDARY),
    )
    result = verify()["dns.health-checks"]
    assert result.summary == (
        f"{API} record for {SECONDARY} does not reference the health check on {ENDPOINTS[SECONDARY]}"
    )
    assert result.facts["regions"][SECONDARY]["health_checks"] == []


def test_health_checks_fail_when_each_regions_record_references_the_other_regions_check(
    route53: Any,
) -> None:
    checks = {region: create_health_check(route53, endpoint) for region, endpoint in ENDPOINTS.items()}
    add_records(
        route53,
        create_zone(route53),
        latency_record(PRIMARY, health_check_id=checks[SECONDARY]),
        latency_record(SECONDARY, health_check_id=checks[PRIMARY]),
    )
    result = verify()["dns.health-checks"]
    assert (result.status, result.summary) == (
        Status.FAILING,
        f"{PRIMARY}: health check {checks[SECONDARY]} requests {ENDPOINTS[SECONDARY]}, not {ENDPOINTS[PRIMARY]}; "
        f"{SECONDARY}: health check {checks[PRIMARY]} requests {ENDPOINTS[PRIMARY]}, not {ENDPOINTS[SECONDARY]}",
    )


def test_health_checks_fail_when_a_region_has_no_record(route53: Any) -> None:
    checks = {region: create_health_check(route53, endpoint) for region, endpoint in ENDPOINTS.items()}
    add_records(route53, create_zone(route53), latency_record(PRIMARY, health_check_id=checks[PRIMARY]))
    result = verify()["dns.health-checks"]
    assert (result.status, result.summary) == (Status.FAILING, f"no {API} record for {SECONDARY}")


def test_health_checks_accept_failover_records_for_primary_and_secondary(route53: Any) -> None:
    endpoints = {PRIMARY: ALIAS_TARGETS["PRIMARY"], SECONDARY: ALIAS_TARGETS["SECONDARY"]}
    checks = {
        region: create_health_check(route53, endpoint, path="/beak") for region, endpoint in endpoints.items()
    }
    add_records(
        route53,
        create_zone(route53),
        failover_record("PRIMARY", health_check_id=checks[PRIMARY]),
        failover_record("SECONDARY", health_check_id=checks[SECONDARY]),
    )
    assert (
        verify(replace(CONFIG, regional_endpoints=endpoints))["dns.health-checks"].status is Status.VERIFIED
    )


def test_health_checks_fail_when_no_regional_endpoints_are_configured(route53: Any) -> None:
    seed_ready_dns(route53)
    result = verify(replace(CONFIG, regional_endpoints={}))["dns.health-checks"]
    assert result.summary == "not configured: set regional_endpoints in [environments.production]"


def test_health_checks_fail_when_a_regions_endpoint_is_not_configured(route53: Any) -> None:
    seed_ready_dns(route53)
    result = verify(replace(CONFIG, regional_endpoints={PRIMARY: ENDPOINTS[PRIMARY]}))["dns.health-checks"]
    assert (
        result.summary == f'not configured: set regional_endpoints."{SECONDARY}" in [environments.production]'
    )


# --- dns.failover-ttl ---------------------------------------------------------------------------


def test_failover_ttl_fails_naming_each_record_above_the_ceiling(route53: Any) -> None:
    add_records(
        route53, create_zone(route53), latency_record(PRIMARY, ttl=300), latency_record(SECONDARY, ttl=60)
    )
    result = verify()["dns.failover-ttl"]
    assert (result.status, result.summary) == (Status.FAILING, f"TTL above 60s on {PRIMARY} (300s)")


def test_failover_ttl_verifies_aliases_to_aws_resources_and_says_their_fixed_ttl_applies(
    route53: Any,
) -> None:
    add_records(route53, create_zone(route53), failover_record("PRIMARY"), failover_record("SECONDARY"))
    result = verify()["dns.failover-ttl"]
    assert result.status is Status.VERIFIED
    assert "2 alias records answer with an AWS resource's fixed TTL" in result.summary
    assert all(record["ttl"] is None and "fixed TTL" in record["note"] for record in result.facts["records"])


def test_failover_ttl_fails_when_api_domain_has_no_latency_or_failover_records(route53: Any) -> None:
    create_zone(route53)
    result = verify()["dns.failover-ttl"]
    assert (result.status, result.summary) == (
        Status.FAILING,
        f"no latency or failover records for {API} in {ZONE}",
    )


def test_two_public_zones_whose_parent_cannot_be_read_fail_naming_the_ambiguity() -> None:
    clients = AwsClients(boto3.Session(region_name=PRIMARY))
    stub = ModelStub(clients.get("route53", PRIMARY))
    zones = [
        {
            "Id": f"/hostedzone/{zone_id}",
            "Name": ZONE,
            "CallerReference": zone_id,
            "Config": {"PrivateZone": False},
        }
        for zone_id in ("ZONEA", "ZONEB")
    ]
    stub.add(
        "ListHostedZonesByName",
        {"DNSName": ZONE, "MaxItems": "10"},
        {"HostedZones": zones, "IsTruncated": False, "MaxItems": "10"},
    )
    stub.add_error("ListHostedZonesByName", {"DNSName": "example.", "MaxItems": "10"}, "AccessDenied", 403)
    for result in verify(clients=clients).values():
        assert result.status is Status.FAILING
        assert result.summary == (
            f"2 public zones are named {ZONE} (ZONEA (public), ZONEB (public)) and the parent zone cannot be "
            "read: AccessDenied on route53:ListHostedZonesByName for example in us-east-1"
        )


def test_a_region_without_a_record_fails_even_when_health_checks_cannot_be_read() -> None:
    clients = AwsClients(boto3.Session(region_name=PRIMARY))
    stub = ModelStub(clients.get("route53", PRIMARY))
    zone = {"Id": "/hostedzone/Z1", "Name": ZONE, "CallerReference": "a"}
    stub.add(
        "ListHostedZonesByName",
        {"DNSName": ZONE, "MaxItems": "10"},
        {"HostedZones": [zone], "IsTruncated": False, "MaxItems": "10"},
    )
    stub.add(
        "ListResourceRecordSets",
        {"HostedZoneId": "/hostedzone/Z1"},
        {"ResourceRecordSets": [latency_record(PRIMARY)], "IsTruncated": False, "MaxItems": "300"},
    )
    stub.add_error("ListHealthChecks", {}, "AccessDenied", 403)
    result = verify(clients=clients)["dns.health-checks"]
    assert (result.status, result.summary) == (Status.FAILING, f"no {API} record for {SECONDARY}")
    assert result.facts["unreadable"] == [
        "AccessDenied on route53:ListHealthChecks for health checks in us-east-1"
    ]
