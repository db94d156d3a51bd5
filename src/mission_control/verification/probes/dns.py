"""DNS probes: latency routing across both regions, health-checked endpoints, and failover-friendly TTLs."""

from __future__ import annotations

from typing import Any

from mission_control.verification.aws import AwsError
from mission_control.verification.collectors.route53 import Route53Snapshot, normalise_name
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.registry import probe
from mission_control.verification.results import ProbeResult, errored, failing, not_configured, verified

_RECORD_ACTIONS = ("route53:ListHostedZonesByName", "route53:ListResourceRecordSets")
HTTP_CHECK_TYPES = ("HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH")


@probe("dns.latency-routing", collectors=("route53",), actions=_RECORD_ACTIONS)
def latency_routing(config: EnvironmentConfig, *, route53: Route53Snapshot) -> ProbeResult:
    item_id = "dns.latency-routing"
    records = _api_records(item_id, config, route53)
    if isinstance(records, ProbeResult):
        return records
    latency = [record for record in records if "Region" in record]
    regions = sorted({record["Region"] for record in latency})
    facts = {"latency_records": [_record_facts(record) for record in latency], "regions": regions}
    if not latency:
        return failing(
            item_id, f"no latency records for {config.api_domain} in {config.hosted_zone}", **facts
        )
    missing = [region for region in config.regions if region not in regions]
    if missing:
        return failing(
            item_id, f"latency records for {config.api_domain} do not cover {', '.join(missing)}", **facts
        )
    return verified(
        item_id,
        f"latency records for {config.api_domain} cover {config.primary_region} and {config.secondary_region}",
        **facts,
    )


@probe("dns.health-checks", collectors=("route53",), actions=(*_RECORD_ACTIONS, "route53:ListHealthChecks"))
def health_checks(config: EnvironmentConfig, *, route53: Route53Snapshot) -> ProbeResult:
    item_id = "dns.health-checks"
    if not config.regional_endpoints:
        return not_configured(item_id, "regional_endpoints", config.name)
    for region in config.regions:
        if region not in config.regional_endpoints:
            return not_configured(item_id, f'regional_endpoints."{region}"', config.name)
    records = _api_records(item_id, config, route53)
    if isinstance(records, ProbeResult):
        return records
    if isinstance(route53.health_checks, AwsError):
        return errored(item_id, str(route53.health_checks))
    problems: list[str] = []
    regions: dict[str, Any] = {}
    for region, endpoint in config.regional_endpoints.items():
        on_endpoint = [
            check
            for check in route53.health_checks
            if normalise_name(check["HealthCheckConfig"].get("FullyQualifiedDomainName", ""))
            == normalise_name(endpoint)
        ]
        usable_ids = {check["Id"] for check in on_endpoint if _checks_a_health_path(check, config)}
        region_records = [record for record in records if _record_region(record, config) == region]
        regions[region] = {
            "endpoint": endpoint,
            "health_checks": [_check_facts(check) for check in on_endpoint],
            "records": [_record_facts(record) for record in region_records],
        }
        problem = _health_check_problem(config, region, endpoint, on_endpoint, usable_ids, region_records)
        if problem:
            problems.append(problem)
    if problems:
        return failing(item_id, "; ".join(problems), regions=regions)
    return verified(
        item_id,
        f"each regional endpoint has an HTTP(S) health check that its {config.api_domain} record references",
        regions=regions,
    )


@probe("dns.failover-ttl", collectors=("route53",), actions=_RECORD_ACTIONS)
def failover_ttl(config: EnvironmentConfig, *, route53: Route53Snapshot) -> ProbeResult:
    item_id = "dns.failover-ttl"
    records = _api_records(item_id, config, route53)
    if isinstance(records, ProbeResult):
        return records
    routed = [record for record in records if "Region" in record or "Failover" in record]
    facts = {"max_failover_ttl": config.max_failover_ttl, "records": [_record_facts(r) for r in routed]}
    if not routed:
        return failing(
            item_id,
            f"no latency or failover records for {config.api_domain} in {config.hosted_zone}",
            **facts,
        )
    too_long = [r for r in routed if "TTL" in r and r["TTL"] > config.max_failover_ttl]
    if too_long:
        listed = ", ".join(f"{r.get('SetIdentifier', r['Type'])} ({r['TTL']}s)" for r in too_long)
        return failing(item_id, f"TTL above {config.max_failover_ttl}s on {listed}", **facts)
    aliases = sum(1 for r in routed if "AliasTarget" in r)
    note = f"; {aliases} alias records carry no TTL of their own" if aliases else ""
    return verified(
        item_id,
        f"every latency/failover record for {config.api_domain} has TTL ≤ {config.max_failover_ttl}s{note}",
        **facts,
    )


def _api_records(
    item_id: str, config: EnvironmentConfig, route53: Route53Snapshot
) -> list[dict[str, Any]] | ProbeResult:
    """The zone's records for api_domain, or the result that ends the probe before it can judge them."""
    for key in ("hosted_zone", "api_domain"):
        if not getattr(config, key):
            return not_configured(item_id, key, config.name)
    if isinstance(route53.zone, AwsError):
        return errored(item_id, str(route53.zone))
    if route53.zone is None:
        return failing(item_id, f"hosted zone {config.hosted_zone} not found")
    if isinstance(route53.records, AwsError):
        return errored(item_id, str(route53.records))
    domain = normalise_name(config.api_domain or "")
    return [record for record in route53.records if normalise_name(record["Name"]) == domain]


def _record_region(record: dict[str, Any], config: EnvironmentConfig) -> str | None:
    """A latency record names its region; a failover record serves the primary or secondary one."""
    if "Region" in record:
        return record["Region"]
    return {"PRIMARY": config.primary_region, "SECONDARY": config.secondary_region}.get(
        record.get("Failover")
    )


def _checks_a_health_path(check: dict[str, Any], config: EnvironmentConfig) -> bool:
    settings = check["HealthCheckConfig"]
    return (
        settings["Type"] in HTTP_CHECK_TYPES
        and settings.get("ResourcePath", "/") in config.health_check_paths
    )


def _health_check_problem(
    config: EnvironmentConfig,
    region: str,
    endpoint: str,
    on_endpoint: list[dict[str, Any]],
    usable_ids: set[str],
    region_records: list[dict[str, Any]],
) -> str | None:
    if not on_endpoint:
        return f"no health check on {endpoint}"
    if not usable_ids:
        found = ", ".join(
            f"{c['HealthCheckConfig']['Type']} {c['HealthCheckConfig'].get('ResourcePath', '/')}"
            for c in on_endpoint
        )
        return (
            f"health check on {endpoint} is {found}, not HTTP/HTTPS on one of "
            f"{', '.join(config.health_check_paths)}"
        )
    if not region_records:
        return f"no {config.api_domain} record for {region}"
    if not any(record.get("HealthCheckId") in usable_ids for record in region_records):
        return f"{config.api_domain} record for {region} does not reference the health check on {endpoint}"
    return None


def _record_facts(record: dict[str, Any]) -> dict[str, Any]:
    facts: dict[str, Any] = {"set_identifier": record.get("SetIdentifier"), "type": record["Type"]}
    for key, fact in (("Region", "region"), ("Failover", "failover"), ("HealthCheckId", "health_check_id")):
        if key in record:
            facts[fact] = record[key]
    if "AliasTarget" in record:
        facts["alias_target"] = record["AliasTarget"]["DNSName"]
        facts["ttl"] = None
        facts["note"] = "alias record: no TTL of its own; the alias target's applies"
    else:
        facts["ttl"] = record.get("TTL")
        facts["values"] = [value["Value"] for value in record.get("ResourceRecords", [])]
    return facts


def _check_facts(check: dict[str, Any]) -> dict[str, Any]:
    settings = check["HealthCheckConfig"]
    return {
        "id": check["Id"],
        "type": settings["Type"],
        "path": settings.get("ResourcePath"),
        "port": settings.get("Port"),
    }
