"""The DNS failover runbook, written from the live Route53 configuration rather than from memory.

Failover works through health checks: inverting the primary region's health check makes Route53 treat
that region as unhealthy, so latency (or failover) routing answers with the secondary region. Every
command names the real ids, and every step says how to check it with dig against the zone's own name
servers, which answer authoritatively and without caches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mission_control.evidence.errors import EvidenceError
from mission_control.verification.aws import AwsError
from mission_control.verification.collectors.route53 import Route53Snapshot, normalise_name
from mission_control.verification.config import EnvironmentConfig


@dataclass(frozen=True)
class RegionRoute:
    region: str
    record: dict[str, Any]
    health_check: dict[str, Any] | None

    @property
    def expected_answer(self) -> str:
        """What dig prints for this route: an alias answers with its target's own addresses."""
        if "AliasTarget" in self.record:
            return f"the addresses of `{normalise_name(self.record['AliasTarget']['DNSName'])}`"
        return " ".join(f"`{value['Value']}`" for value in self.record.get("ResourceRecords", []))

    @property
    def ttl(self) -> str:
        return "alias (target's TTL)" if "AliasTarget" in self.record else f"{self.record.get('TTL')} s"


def dns_runbook(config: EnvironmentConfig, route53: Route53Snapshot, generated_at: datetime) -> str:
    """Markdown runbook for failing `api_domain` over to the secondary region and back."""
    routes, name_servers = region_routes(config, route53)
    primary, secondary = routes[config.primary_region], routes[config.secondary_region]
    domain = normalise_name(config.api_domain or "")
    record_type = primary.record["Type"]
    zone_id = str(route53.zone["Id"]).split("/")[-1] if isinstance(route53.zone, dict) else "?"
    wait = max((int(route.record.get("TTL", 60)) for route in routes.values()), default=60)
    lines = [
        f"# DNS failover runbook — {config.name}: {domain}",
        "",
        f"Generated {generated_at:%Y-%m-%d %H:%M UTC} by Mission Control from the live Route53 configuration "
        f"of zone `{normalise_name(config.hosted_zone or '')}.` (`{zone_id}`). Regenerate it after any DNS change.",
        "",
        "## Current setup",
        "",
        "| Region | Set identifier | Type | TTL | Answers | Health check |",
        "|---|---|---|---|---|---|",
    ]
    for route in routes.values():
        check = route.health_check
        check_text = f"`{check['Id']}` {_check_target(check)}" if check else "none"
        lines.append(
            f"| {route.region} | {route.record.get('SetIdentifier', '—')} | {route.record['Type']} | {route.ttl} "
            f"| {route.expected_answer} | {check_text} |"
        )
    lines += ["", "Authoritative name servers: " + ", ".join(f"`{ns}`" for ns in name_servers), ""]
    if primary.health_check is None:
        raise EvidenceError(
            f"the {config.primary_region} record for {domain} has no health check, so it cannot be failed over "
            "by marking it unhealthy: fix dns.health-checks first"
        )
    check_id = primary.health_check["Id"]
    verify_primary = _dig_steps(domain, record_type, name_servers, primary.expected_answer)
    verify_secondary = _dig_steps(domain, record_type, name_servers, secondary.expected_answer)
    lines += [
        "## Before you start",
        "",
        f"- Announce the test; expect clients to follow within the longest TTL, {wait} s.",
        f"- Confirm the secondary region ({config.secondary_region}) is healthy: its health check "
        + (f"`{secondary.health_check['Id']}`" if secondary.health_check else "(none: add one first)")
        + " must report Success:",
        "",
        "  ```sh",
        *(
            [f"  aws route53 get-health-check-status --health-check-id {secondary.health_check['Id']}"]
            if secondary.health_check
            else []
        ),
        "  ```",
        "- Record the start time: the drill's time-to-shift is measured from step 1.",
        "",
        f"## Fail over to {config.secondary_region}",
        "",
        f"1. Mark the {config.primary_region} health check unhealthy by inverting it:",
        "",
        "   ```sh",
        f"   aws route53 update-health-check --health-check-id {check_id} --inverted",
        f"   aws route53 get-health-check-status --health-check-id {check_id}   # expect Failure from every checker",
        "   ```",
        f"2. Wait at least {wait} s (the TTL), then check every authoritative name server answers with "
        f"{config.secondary_region} only:",
        "",
        *verify_secondary,
        "3. Check the API through the public name: "
        f"`curl -fsS https://{domain}{config.health_check_paths[0] if config.health_check_paths else '/'}` "
        f"is served from {config.secondary_region}.",
        "",
        f"## Fail back to {config.primary_region}",
        "",
        "1. Restore the health check:",
        "",
        "   ```sh",
        f"   aws route53 update-health-check --health-check-id {check_id} --no-inverted",
        f"   aws route53 get-health-check-status --health-check-id {check_id}   # expect Success from every checker",
        "   ```",
        f"2. Wait {wait} s, then check the {config.primary_region} answers are back (latency routing answers "
        "depend on where the resolver is; from near the primary region you should see):",
        "",
        *verify_primary,
        "",
        "## If something goes wrong",
        "",
        f"Run the fail-back step 1 at once: it is the only change this runbook makes. The record sets themselves are "
        f"never modified, so restoring health check `{check_id}` restores the original routing.",
        "",
    ]
    return "\n".join(lines)


def region_routes(
    config: EnvironmentConfig, route53: Route53Snapshot
) -> tuple[dict[str, RegionRoute], list[str]]:
    """Each region's record for `api_domain` with its health check, and the zone's name servers.

    Raises EvidenceError saying what to fix first when a region has no record or Route53 can't be read.
    """
    for key in ("hosted_zone", "api_domain"):
        if not getattr(config, key):
            raise EvidenceError(f"not configured: set {key} in [environments.{config.name}]")
    if route53.ambiguity:
        raise EvidenceError(route53.ambiguity)
    for value in (route53.zone, route53.records, route53.health_checks):
        if isinstance(value, AwsError):
            raise EvidenceError(str(value))
    if route53.zone is None:
        raise EvidenceError(f"hosted zone {config.hosted_zone} not found")
    domain = normalise_name(config.api_domain or "")
    zone_name = normalise_name(config.hosted_zone or "")
    checks = {check["Id"]: check for check in route53.health_checks}  # type: ignore[union-attr]
    routes: dict[str, RegionRoute] = {}
    name_servers: list[str] = []
    for record in route53.records:  # type: ignore[union-attr]
        name = normalise_name(record["Name"])
        if name == zone_name and record["Type"] == "NS":
            name_servers = [normalise_name(value["Value"]) for value in record.get("ResourceRecords", [])]
        if name != domain:
            continue
        region = record.get("Region") or {
            "PRIMARY": config.primary_region,
            "SECONDARY": config.secondary_region,
        }.get(record.get("Failover", ""))
        if region in config.regions:
            routes[region] = RegionRoute(region, record, checks.get(record.get("HealthCheckId", "")))
    missing = [region for region in config.regions if region not in routes]
    if missing:
        raise EvidenceError(
            f"no latency or failover record for {domain} in {', '.join(missing)}: fix dns.latency-routing first"
        )
    return routes, name_servers


def _check_target(check: dict[str, Any]) -> str:
    settings = check["HealthCheckConfig"]
    target = settings.get("FullyQualifiedDomainName") or settings.get("IPAddress", "?")
    return f"{settings['Type']} {target}:{settings.get('Port', '')}{settings.get('ResourcePath', '')}"


def _dig_steps(domain: str, record_type: str, name_servers: list[str], expected: str) -> list[str]:
    commands = [f"   dig +short {domain} {record_type} @{ns}" for ns in name_servers] or [
        f"   dig +short {domain} {record_type}"
    ]
    return ["   ```sh", *commands, "   ```", f"   Expected answer from each: {expected}", ""]
