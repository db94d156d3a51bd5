"""Route53: the configured hosted zone, its record sets and the account's health checks, once per run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mission_control.verification.aws import AwsClients, AwsError, call, paginate
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.registry import collector

ROUTE53_REGION = "us-east-1"  # Route53 is global; its API lives in us-east-1


@dataclass(frozen=True)
class Route53Snapshot:
    """`zone` is None when no zone of that name exists; records and checks are fetched only for a zone."""

    zone_name: str | None
    zone: dict[str, Any] | AwsError | None = None
    records: tuple[dict[str, Any], ...] | AwsError = ()
    health_checks: tuple[dict[str, Any], ...] | AwsError = ()


def normalise_name(name: str) -> str:
    """DNS names compare case-insensitively and Route53 returns them with a trailing dot."""
    return name.rstrip(".").lower()


@collector("route53")
def collect_route53(config: EnvironmentConfig, clients: AwsClients) -> Route53Snapshot:
    if not config.hosted_zone:
        return Route53Snapshot(None)
    client = clients.get("route53", ROUTE53_REGION)
    zone = _find_zone(client, config.hosted_zone)
    if not isinstance(zone, dict):
        return Route53Snapshot(config.hosted_zone, zone)
    records = paginate(
        client,
        "list_resource_record_sets",
        "ResourceRecordSets",
        action="route53:ListResourceRecordSets",
        resource=config.hosted_zone,
        region=ROUTE53_REGION,
        HostedZoneId=zone["Id"],
    )
    health_checks = paginate(
        client,
        "list_health_checks",
        "HealthChecks",
        action="route53:ListHealthChecks",
        resource="health checks",
        region=ROUTE53_REGION,
    )
    return Route53Snapshot(config.hosted_zone, zone, _frozen(records), _frozen(health_checks))


def _find_zone(client: Any, zone_name: str) -> dict[str, Any] | AwsError | None:
    """The zone named exactly `zone_name`, preferring a public zone over a private one of the same name."""
    wanted = normalise_name(zone_name)
    response = call(
        client,
        "list_hosted_zones_by_name",
        action="route53:ListHostedZonesByName",
        resource=zone_name,
        region=ROUTE53_REGION,
        DNSName=f"{wanted}.",
        MaxItems="10",
    )
    if isinstance(response, AwsError):
        return response
    matches = [zone for zone in response["HostedZones"] if normalise_name(zone["Name"]) == wanted]
    matches.sort(key=lambda zone: zone.get("Config", {}).get("PrivateZone", False))
    return matches[0] if matches else None


def _frozen(items: list[dict[str, Any]] | AwsError) -> tuple[dict[str, Any], ...] | AwsError:
    return items if isinstance(items, AwsError) else tuple(items)
