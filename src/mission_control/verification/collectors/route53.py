"""Route53: the configured hosted zone, its record sets and the account's health checks, once per run.

When several zones share the configured name, the collector judges the one resolvers reach: a public
zone over a private one and, among public zones, the one whose name servers the parent zone delegates
to. When that cannot be read, it judges none and says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mission_control.verification.aws import AwsClients, AwsError, call, paginate
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.registry import collector

ROUTE53_REGION = "us-east-1"  # Route53 is global; its API lives in us-east-1


@dataclass(frozen=True)
class Route53Snapshot:
    """`zone` is None when no zone of that name exists or several could be meant (`ambiguity` says which).

    `zone_choice` says why `zone` was judged when other zones share its name.
    """

    zone_name: str | None
    zone: dict[str, Any] | AwsError | None = None
    records: tuple[dict[str, Any], ...] | AwsError = ()
    health_checks: tuple[dict[str, Any], ...] | AwsError = ()
    zone_choice: str | None = None
    ambiguity: str | None = None


def normalise_name(name: str) -> str:
    """DNS names compare case-insensitively and Route53 returns them with a trailing dot."""
    return name.rstrip(".").lower()


def zone_id(zone: dict[str, Any]) -> str:
    """ "/hostedzone/Z123" -> "Z123", the form alias targets name a zone by."""
    return str(zone["Id"]).split("/")[-1]


@collector("route53")
def collect_route53(config: EnvironmentConfig, clients: AwsClients) -> Route53Snapshot:
    if not config.hosted_zone:
        return Route53Snapshot(None)
    client = clients.get("route53", ROUTE53_REGION)
    zones = _zones_named(client, config.hosted_zone)
    if isinstance(zones, AwsError):
        return Route53Snapshot(config.hosted_zone, zones)
    if not zones:
        return Route53Snapshot(config.hosted_zone)
    chosen = _choose_zone(client, config.hosted_zone, zones)
    if isinstance(chosen, str):
        return Route53Snapshot(config.hosted_zone, ambiguity=chosen)
    zone, choice = chosen
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
    return Route53Snapshot(config.hosted_zone, zone, _frozen(records), _frozen(health_checks), choice)


def _zones_named(client: Any, zone_name: str) -> list[dict[str, Any]] | AwsError:
    """Every hosted zone named exactly `zone_name`: ListHostedZonesByName starts at the name, so read on
    while the next page still starts with it."""
    wanted = normalise_name(zone_name)
    params: dict[str, Any] = {"DNSName": f"{wanted}."}
    matches: list[dict[str, Any]] = []
    while True:
        response = call(
            client,
            "list_hosted_zones_by_name",
            action="route53:ListHostedZonesByName",
            resource=zone_name,
            region=ROUTE53_REGION,
            MaxItems="10",
            **params,
        )
        if isinstance(response, AwsError):
            return response
        matches += [zone for zone in response["HostedZones"] if normalise_name(zone["Name"]) == wanted]
        next_name = response.get("NextDNSName")
        if not response.get("IsTruncated") or normalise_name(next_name or "") != wanted:
            return matches
        params = {"DNSName": next_name, "HostedZoneId": response["NextHostedZoneId"]}


def _choose_zone(
    client: Any, zone_name: str, zones: list[dict[str, Any]]
) -> tuple[dict[str, Any], str | None] | str:
    """The zone resolvers reach and why, or the ambiguity that stops the probes from picking one."""
    if len(zones) == 1:
        return zones[0], None
    public = [zone for zone in zones if not zone.get("Config", {}).get("PrivateZone", False)]
    listed = ", ".join(f"{zone_id(zone)} ({_visibility(zone)})" for zone in zones)
    if len(public) == 1:
        return public[0], f"{len(zones)} zones are named {zone_name} ({listed}); judged the public one"
    if not public:
        return f"{len(zones)} private zones are named {zone_name} ({listed}); which one a VPC resolves is not judged"
    delegated = _delegated_zone(client, zone_name, public)
    if isinstance(delegated, str):
        return f"{len(public)} public zones are named {zone_name} ({listed}) and {delegated}"
    return delegated, (
        f"{len(zones)} zones are named {zone_name} ({listed}); judged {zone_id(delegated)}, "
        "whose name servers the parent zone delegates to"
    )


def _visibility(zone: dict[str, Any]) -> str:
    return "private" if zone.get("Config", {}).get("PrivateZone", False) else "public"


def _delegated_zone(client: Any, zone_name: str, public: list[dict[str, Any]]) -> dict[str, Any] | str:
    """The public zone whose name servers the parent's NS record lists, or why none can be named."""
    parent_name = normalise_name(zone_name).partition(".")[2]
    parents = _zones_named(client, parent_name) if parent_name else []
    if isinstance(parents, AwsError):
        return f"the parent zone cannot be read: {parents}"
    parents = [zone for zone in parents if _visibility(zone) == "public"]
    if len(parents) != 1:
        found = "no" if not parents else f"{len(parents)}"
        return f"{found} public parent zone {parent_name} in this account to say which one it delegates to"
    delegation = _parent_delegation(client, parents[0], zone_name)
    if isinstance(delegation, str):
        return delegation
    chosen = []
    for zone in public:
        servers = _name_servers(client, zone)
        if isinstance(servers, AwsError):
            return f"the name servers of {zone_id(zone)} cannot be read: {servers}"
        if servers == delegation:
            chosen.append(zone)
    if len(chosen) != 1:
        return f"the parent zone {parent_name} delegates to {len(chosen)} of them"
    return chosen[0]


def _parent_delegation(client: Any, parent: dict[str, Any], zone_name: str) -> frozenset[str] | str:
    wanted = normalise_name(zone_name)
    response = call(
        client,
        "list_resource_record_sets",
        action="route53:ListResourceRecordSets",
        resource=parent["Name"],
        region=ROUTE53_REGION,
        HostedZoneId=parent["Id"],
        StartRecordName=f"{wanted}.",
        StartRecordType="NS",
        MaxItems="1",
    )
    if isinstance(response, AwsError):
        return f"the parent zone's delegation cannot be read: {response}"
    for record in response["ResourceRecordSets"]:
        if normalise_name(record["Name"]) == wanted and record["Type"] == "NS":
            return frozenset(normalise_name(value["Value"]) for value in record.get("ResourceRecords", []))
    return f"the parent zone {parent['Name']} has no NS record delegating {zone_name}"


def _name_servers(client: Any, zone: dict[str, Any]) -> frozenset[str] | AwsError:
    response = call(
        client,
        "get_hosted_zone",
        action="route53:GetHostedZone",
        resource=zone["Name"],
        region=ROUTE53_REGION,
        Id=zone["Id"],
    )
    if isinstance(response, AwsError):
        return response
    servers = response.get("DelegationSet", {}).get("NameServers", [])
    return frozenset(normalise_name(server) for server in servers)


def _frozen(items: list[dict[str, Any]] | AwsError) -> tuple[dict[str, Any], ...] | AwsError:
    return items if isinstance(items, AwsError) else tuple(items)
