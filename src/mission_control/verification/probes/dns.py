"""DNS probes: latency routing across both regions, health-checked endpoints, and failover-friendly TTLs.

Each judges the records as Route53 answers them (`dns_answers`) and health checks as Route53 acts on
them (`health_checks`).
"""

from __future__ import annotations

from typing import Any

from mission_control.verification.aws import AwsError
from mission_control.verification.collectors.route53 import Route53Snapshot, normalise_name, zone_id
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.probes.dns_answers import Answer, answers_with, resolve
from mission_control.verification.probes.health_checks import check_facts, check_problem
from mission_control.verification.registry import probe
from mission_control.verification.results import ProbeResult, errored, failing, not_configured, verified

_RECORD_ACTIONS = ("route53:ListHostedZonesByName", "route53:ListResourceRecordSets", "route53:GetHostedZone")


class _Zone:
    """The judged zone's records for api_domain, and every record (alias chains leave the name)."""

    def __init__(self, route53: Route53Snapshot, api_domain: str) -> None:
        assert isinstance(route53.zone, dict) and not isinstance(route53.records, AwsError)
        self.id = zone_id(route53.zone)
        self.records = route53.records
        self.facts = {
            "zone_id": self.id,
            **({"zone_choice": route53.zone_choice} if route53.zone_choice else {}),
        }
        domain = normalise_name(api_domain)
        self.api = [record for record in self.records if normalise_name(record["Name"]) == domain]

    def answer(self, record: dict[str, Any]) -> Answer:
        return resolve(record, self.records, self.id)

    def record_facts(self, record: dict[str, Any]) -> dict[str, Any]:
        facts: dict[str, Any] = {"set_identifier": record.get("SetIdentifier"), "type": record["Type"]}
        for key, fact in (
            ("Region", "region"),
            ("Failover", "failover"),
            ("HealthCheckId", "health_check_id"),
        ):
            if key in record:
                facts[fact] = record[key]
        answer = self.answer(record)
        facts["ttl"] = answer.ttl
        facts["answers"] = sorted(answer.targets)
        if "AliasTarget" in record:
            facts["alias_chain"] = list(answer.chain)
            facts["evaluate_target_health"] = record["AliasTarget"].get("EvaluateTargetHealth", False)
        for key in ("note", "problem"):
            if getattr(answer, key):
                facts[key] = getattr(answer, key)
        return facts


@probe(
    "dns.latency-routing",
    config_keys=("hosted_zone", "api_domain", "regional_endpoints"),
    collectors=("route53",),
    actions=_RECORD_ACTIONS,
    fix=(
        "Create a latency record (SetIdentifier and Region) for api_domain in each region, in the hosted "
        "zone resolvers reach, each answering with that region's endpoint from regional_endpoints."
    ),
)
def latency_routing(config: EnvironmentConfig, *, route53: Route53Snapshot) -> ProbeResult:
    item_id = "dns.latency-routing"
    zone = _judged_zone(item_id, config, route53)
    if isinstance(zone, ProbeResult):
        return zone
    unset = _unset_endpoint(item_id, config)
    if unset:
        return unset
    latency = [record for record in zone.api if "Region" in record]
    regions = sorted({record["Region"] for record in latency})
    facts = {**zone.facts, "latency_records": [zone.record_facts(r) for r in latency], "regions": regions}
    if not latency:
        return failing(
            item_id, f"no latency records for {config.api_domain} in {config.hosted_zone}", **facts
        )
    missing = [region for region in config.regions if region not in regions]
    if missing:
        return failing(
            item_id, f"latency records for {config.api_domain} do not cover {', '.join(missing)}", **facts
        )
    problems = [
        problem
        for region in config.regions
        if (problem := _endpoint_problem(zone, config, region, [r for r in latency if r["Region"] == region]))
    ]
    if problems:
        return failing(item_id, "; ".join(problems), **facts)
    return verified(
        item_id,
        f"latency records for {config.api_domain} send {config.primary_region} and "
        f"{config.secondary_region} to their own regional endpoints",
        **facts,
    )


@probe(
    "dns.health-checks",
    config_keys=("regional_endpoints", "hosted_zone", "api_domain", "health_check_paths"),
    collectors=("route53",),
    actions=(*_RECORD_ACTIONS, "route53:ListHealthChecks"),
    fix=(
        "Give each region's latency or failover record for api_domain a health check Route53 acts on: "
        "enabled, not inverted, HTTP(S) on the endpoint's name and standard port, requesting one of "
        "health_check_paths."
    ),
)
def health_checks(config: EnvironmentConfig, *, route53: Route53Snapshot) -> ProbeResult:
    item_id = "dns.health-checks"
    unset = _unset_endpoint(item_id, config)
    if unset:
        return unset
    zone = _judged_zone(item_id, config, route53)
    if isinstance(zone, ProbeResult):
        return zone
    if isinstance(route53.health_checks, AwsError):
        return _without_health_checks(item_id, zone, config, route53.health_checks)
    checks = {check["Id"]: check for check in route53.health_checks}
    problems: list[str] = []
    regions: dict[str, Any] = {}
    for region in config.regions:
        endpoint = config.regional_endpoints[region]
        region_records = [record for record in zone.api if _record_region(record, config) == region]
        referenced = [checks[r["HealthCheckId"]] for r in region_records if r.get("HealthCheckId") in checks]
        regions[region] = {
            "endpoint": endpoint,
            "records": [zone.record_facts(record) for record in region_records],
            "health_checks": [check_facts(check) for check in referenced],
        }
        problem = _health_check_problem(zone, config, region, region_records, checks)
        if problem:
            problems.append(problem)
    facts = {**zone.facts, "regions": regions}
    if problems:
        return failing(item_id, "; ".join(problems), **facts)
    return verified(
        item_id,
        f"each region's {config.api_domain} record answers with its endpoint and references a health check "
        "Route53 acts on, requesting that endpoint's health path",
        **facts,
    )


@probe(
    "dns.failover-ttl",
    config_keys=("hosted_zone", "api_domain", "max_failover_ttl"),
    collectors=("route53",),
    actions=_RECORD_ACTIONS,
    fix=(
        "Lower the TTL of every latency or failover record for api_domain (or of the records its alias "
        "leads to) to max_failover_ttl seconds or less."
    ),
)
def failover_ttl(config: EnvironmentConfig, *, route53: Route53Snapshot) -> ProbeResult:
    item_id = "dns.failover-ttl"
    zone = _judged_zone(item_id, config, route53)
    if isinstance(zone, ProbeResult):
        return zone
    routed = [record for record in zone.api if "Region" in record or "Failover" in record]
    facts = {
        **zone.facts,
        "max_failover_ttl": config.max_failover_ttl,
        "records": [zone.record_facts(r) for r in routed],
    }
    if not routed:
        return failing(
            item_id,
            f"no latency or failover records for {config.api_domain} in {config.hosted_zone}",
            **facts,
        )
    answers = [(record, zone.answer(record)) for record in routed]
    unreadable = [f"{_label(record)}: {answer.problem}" for record, answer in answers if answer.problem]
    too_long = [
        f"{_label(record)} ({answer.ttl}s{' through its alias target' if 'AliasTarget' in record else ''})"
        for record, answer in answers
        if answer.ttl is not None and answer.ttl > config.max_failover_ttl
    ]
    if too_long:
        return failing(item_id, f"TTL above {config.max_failover_ttl}s on {', '.join(too_long)}", **facts)
    if unreadable:
        return failing(item_id, f"no TTL can be read for {'; '.join(unreadable)}", **facts)
    fixed = sum(1 for _, answer in answers if answer.ttl is None)
    note = f"; {fixed} alias records answer with an AWS resource's fixed TTL" if fixed else ""
    return verified(
        item_id,
        f"every latency/failover record for {config.api_domain} answers with TTL ≤ {config.max_failover_ttl}s{note}",
        **facts,
    )


def _without_health_checks(
    item_id: str, zone: _Zone, config: EnvironmentConfig, error: AwsError
) -> ProbeResult:
    """Unreadable health checks leave the item in error, unless a region's record already fails it."""
    problems = []
    for region in config.regions:
        records = [record for record in zone.api if _record_region(record, config) == region]
        problem = (
            _endpoint_problem(zone, config, region, records)
            if records
            else f"no {config.api_domain} record for {region}"
        )
        if problem:
            problems.append(problem)
    if problems:
        return failing(item_id, "; ".join(problems), **zone.facts, unreadable=[str(error)])
    return errored(item_id, str(error))


def _judged_zone(item_id: str, config: EnvironmentConfig, route53: Route53Snapshot) -> _Zone | ProbeResult:
    """The zone's records for api_domain, or the result that ends the probe before it can judge them."""
    for key in ("hosted_zone", "api_domain"):
        if not getattr(config, key):
            return not_configured(item_id, key, config.name)
    if route53.ambiguity:
        return failing(item_id, route53.ambiguity)
    if isinstance(route53.zone, AwsError):
        return errored(item_id, str(route53.zone))
    if route53.zone is None:
        return failing(item_id, f"hosted zone {config.hosted_zone} not found")
    if isinstance(route53.records, AwsError):
        return errored(item_id, str(route53.records))
    return _Zone(route53, config.api_domain or "")


def _unset_endpoint(item_id: str, config: EnvironmentConfig) -> ProbeResult | None:
    if not config.regional_endpoints:
        return not_configured(item_id, "regional_endpoints", config.name)
    for region in config.regions:
        if region not in config.regional_endpoints:
            return not_configured(item_id, f'regional_endpoints."{region}"', config.name)
    return None


def _record_region(record: dict[str, Any], config: EnvironmentConfig) -> str | None:
    """A latency record names its region; a failover record serves the primary or secondary one."""
    if "Region" in record:
        return record["Region"]
    return {"PRIMARY": config.primary_region, "SECONDARY": config.secondary_region}.get(
        record.get("Failover")
    )


def _endpoint_problem(
    zone: _Zone, config: EnvironmentConfig, region: str, records: list[dict[str, Any]]
) -> str | None:
    """Why none of a region's records sends resolvers to that region's endpoint; None when one does."""
    endpoint = config.regional_endpoints[region]
    answers = [zone.answer(record) for record in records]
    if any(answers_with(answer, endpoint, zone.records) for answer in answers):
        return None
    found = ", ".join(sorted({target for answer in answers for target in answer.targets})) or "nothing"
    return f"the {region} record for {config.api_domain} answers with {found}, not {endpoint}"


def _health_check_problem(
    zone: _Zone,
    config: EnvironmentConfig,
    region: str,
    records: list[dict[str, Any]],
    checks: dict[str, dict[str, Any]],
) -> str | None:
    endpoint = config.regional_endpoints[region]
    if not records:
        return f"no {config.api_domain} record for {region}"
    wrong_endpoint = _endpoint_problem(zone, config, region, records)
    if wrong_endpoint:
        return wrong_endpoint
    referencing = [record for record in records if record.get("HealthCheckId")]
    if not referencing:
        on_endpoint = any(
            normalise_name(c["HealthCheckConfig"].get("FullyQualifiedDomainName", ""))
            == normalise_name(endpoint)
            for c in checks.values()
        )
        if not on_endpoint:
            return f"no health check on {endpoint}"
        return f"{config.api_domain} record for {region} does not reference the health check on {endpoint}"
    problems = [
        check_problem(record["HealthCheckId"], checks, endpoint, config.health_check_paths)
        for record in referencing
    ]
    if any(problem is None for problem in problems):
        return None
    return f"{region}: " + "; ".join(str(problem) for problem in problems)


def _label(record: dict[str, Any]) -> str:
    return str(record.get("SetIdentifier", record["Type"]))
