"""DNS cases: records as Route53 answers them, health checks as Route53 acts on them, zones as resolvers reach them."""

from __future__ import annotations

import pytest

from tests.verification.estates.harness import Case, Corpus, Estate, case_id, unchanged
from tests.verification.estates.ready import (
    ADDRESSES,
    ENDPOINTS,
    PRIMARY,
    SECONDARY,
    ZONE,
    alias,
    alias_latency_record,
    change_records,
    create_health_check,
    create_zone,
    latency_record,
    name_servers,
    plain_record,
    replace_latency_records,
    update_check,
    use_check,
)

CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2"  # the hosted zone id every CloudFront alias target uses


def alias_to_endpoints(estate: Estate, *, endpoint_ttl: int) -> None:
    """Each region's latency record becomes an alias to its endpoint's A record, whose TTL is `endpoint_ttl`."""
    change_records(
        estate, *(plain_record(ENDPOINTS[r], "A", ADDRESSES[r], ttl=endpoint_ttl) for r in ENDPOINTS)
    )
    replace_latency_records(
        estate, *(alias_latency_record(estate, r, alias(ENDPOINTS[r], estate.ids["zone"])) for r in ENDPOINTS)
    )


def alias_to_cloudfront(estate: Estate) -> None:
    domains = {PRIMARY: "d111111abcdef8.cloudfront.net", SECONDARY: "d222222abcdef8.cloudfront.net"}
    replace_latency_records(
        estate, *(alias_latency_record(estate, r, alias(domains[r], CLOUDFRONT_ZONE)) for r in ENDPOINTS)
    )


def alias_into_another_zone(estate: Estate) -> None:
    other = create_zone(estate, "edge.example.")
    change_records(estate, plain_record("api.edge.example", "A", ADDRESSES[PRIMARY], ttl=3600), zone=other)
    change_records(estate, alias_latency_record(estate, PRIMARY, alias("api.edge.example", other)))


def calculated(estate: Estate, *, threshold: int, children: list[str]) -> None:
    parent = create_health_check(
        estate,
        ENDPOINTS[PRIMARY],
        Type="CALCULATED",
        FullyQualifiedDomainName=None,
        ResourcePath=None,
        Port=None,
        RequestInterval=None,
        FailureThreshold=None,
        HealthThreshold=threshold,
        ChildHealthChecks=children,
    )
    use_check(estate, PRIMARY, parent)


def calculated_with_unrelated_child(estate: Estate, threshold: int) -> None:
    unrelated = create_health_check(estate, "status.partner.example")
    calculated(estate, threshold=threshold, children=[estate.ids[f"check-{PRIMARY}"], unrelated])


def second_public_zone(estate: Estate, *, delegate_to: str) -> None:
    """Another public zone of the same name, and a parent zone delegating to `delegate_to` ("ready"/"other")."""
    other = create_zone(estate, ZONE)
    parent = create_zone(estate, "example.")
    chosen = estate.ids["zone"] if delegate_to == "ready" else other
    delegation = {"Name": ZONE, "Type": "NS", "TTL": 172800, "ResourceRecords": [
        {"Value": server} for server in name_servers(estate, chosen)
    ]}  # fmt: skip
    change_records(estate, delegation, zone=parent)


CASES = [
    # --- dns.latency-routing
    Case("ready-latency-routing", "dns.latency-routing", "verified",
         "Route53 latency routing answers from the record whose Region is nearest the resolver", unchanged),
    Case("latency-no-records", "dns.latency-routing", "failing",
         "without latency records Route53 answers every resolver from one place",
         lambda estate: replace_latency_records(estate), summary="no latency records"),
    Case("latency-secondary-points-at-primary", "dns.latency-routing", "failing",
         "a latency record answers with its own value: a secondary record naming the primary endpoint sends "
         "that region's users to the primary",
         lambda estate: change_records(estate, latency_record(SECONDARY, value=ENDPOINTS[PRIMARY])),
         summary=f"not {ENDPOINTS[SECONDARY]}"),
    Case("latency-alias-to-endpoint-records", "dns.latency-routing", "verified",
         "an alias answers with its target record's values, here each endpoint's own addresses",
         lambda estate: alias_to_endpoints(estate, endpoint_ttl=60)),
    Case("latency-alias-to-the-same-cloudfront", "dns.latency-routing", "failing",
         "two latency aliases to CloudFront answer with CloudFront, not the regional endpoints",
         alias_to_cloudfront),
    # --- dns.failover-ttl
    Case("ready-failover-ttl", "dns.failover-ttl", "verified",
         "resolvers cache an answer for the record's TTL", unchanged),
    Case("secondary-ttl-300", "dns.failover-ttl", "failing",
         "resolvers keep a record for its TTL, so a 300 s TTL delays failover by up to 5 minutes",
         lambda estate: change_records(estate, latency_record(SECONDARY, ttl=300)), summary="300"),
    Case("alias-inherits-target-ttl-300", "dns.failover-ttl", "failing",
         "an alias to a record in the same zone answers with the target's records and TTL (300 s here)",
         lambda estate: alias_to_endpoints(estate, endpoint_ttl=300), summary="through its alias target"),
    Case("alias-target-ttl-60", "dns.failover-ttl", "verified",
         "an alias to a record in the same zone answers with the target's TTL (60 s here)",
         lambda estate: alias_to_endpoints(estate, endpoint_ttl=60)),
    Case("alias-to-cloudfront-fixed-ttl", "dns.failover-ttl", "verified",
         "an alias to a CloudFront distribution answers with the TTL AWS fixes for it; the zone sets none",
         alias_to_cloudfront, summary="fixed TTL"),
    Case("alias-into-another-zone", "dns.failover-ttl", "failing",
         "an alias into another hosted zone answers with that zone's TTL, which this run does not read",
         alias_into_another_zone, summary="another hosted zone"),
    Case("failover-ttl-no-routed-records", "dns.failover-ttl", "failing",
         "with no latency or failover record there is no failover to time",
         lambda estate: replace_latency_records(estate), summary="no latency or failover records"),
    # --- dns.health-checks
    Case("ready-health-checks", "dns.health-checks", "verified",
         "Route53 stops answering with a record whose health check is unhealthy", unchanged),
    Case("health-check-disabled", "dns.health-checks", "failing",
         "Route53 considers a disabled health check healthy, so the record is never withdrawn",
         lambda estate: update_check(estate, PRIMARY, Disabled=True), summary="disabled"),
    Case("health-check-inverted", "dns.health-checks", "failing",
         "an inverted health check is healthy while its endpoint fails",
         lambda estate: update_check(estate, PRIMARY, Inverted=True), summary="inverted"),
    Case("health-check-path-with-query", "dns.health-checks", "verified",
         "Route53 requests ResourcePath as given, query string included, so the path is still the health path",
         lambda estate: update_check(estate, SECONDARY, ResourcePath="/beak/system/status?deep=1")),
    Case("health-check-string-match", "dns.health-checks", "verified",
         "HTTPS_STR_MATCH requests the path and also needs SearchString in the body: a stricter HTTPS check",
         lambda estate: use_check(estate, PRIMARY, create_health_check(
             estate, ENDPOINTS[PRIMARY], Type="HTTPS_STR_MATCH", SearchString='"status":"ok"'))),
    Case("health-check-wrong-port", "dns.health-checks", "failing",
         "an HTTPS check on port 8443 requests a port the regional endpoint does not serve the API on",
         lambda estate: update_check(estate, SECONDARY, Port=8443), summary="port 8443"),
    Case("health-check-on-the-other-endpoint", "dns.health-checks", "failing",
         "a record withdrawn on the primary endpoint's health keeps the secondary answered when it fails",
         lambda estate: use_check(estate, SECONDARY, estate.ids[f"check-{PRIMARY}"]),
         summary=f"not {ENDPOINTS[SECONDARY]}"),
    Case("health-check-tcp", "dns.health-checks", "failing",
         "a TCP check only opens a connection: it never requests the health path",
         lambda estate: use_check(estate, PRIMARY, create_health_check(
             estate, ENDPOINTS[PRIMARY], Type="TCP", ResourcePath=None)), summary="TCP"),
    Case("health-check-none-referenced", "dns.health-checks", "failing",
         "a record without HealthCheckId is always considered healthy",
         lambda estate: change_records(estate, latency_record(SECONDARY)), summary="does not reference"),
    Case("calculated-1-of-2-with-unrelated-child", "dns.health-checks", "failing",
         "a CALCULATED check is healthy while HealthThreshold children are: the unrelated child keeps it healthy",
         lambda estate: calculated_with_unrelated_child(estate, 1), summary="stays healthy"),
    Case("calculated-2-of-2", "dns.health-checks", "verified",
         "a CALCULATED check needing both children healthy fails when the endpoint's child fails",
         lambda estate: calculated_with_unrelated_child(estate, 2)),
    Case("calculated-threshold-0", "dns.health-checks", "failing",
         "Route53 considers a CALCULATED check with HealthThreshold 0 always healthy",
         lambda estate: calculated(estate, threshold=0, children=[estate.ids[f"check-{PRIMARY}"]]),
         summary="HealthThreshold 0"),
    Case("cloudwatch-alarm-check", "dns.health-checks", "failing",
         "a CLOUDWATCH_METRIC check follows an alarm; Route53 does not show what the alarm measures",
         lambda estate: use_check(estate, PRIMARY, estate.client("route53").create_health_check(
             CallerReference="alarm", HealthCheckConfig={
                 "Type": "CLOUDWATCH_METRIC", "AlarmIdentifier": {"Region": PRIMARY, "Name": "beak-5xx"},
                 "InsufficientDataHealthStatus": "Unhealthy"})["HealthCheck"]["Id"]),
         summary="CloudWatch alarm"),
    # --- which zone is judged
    Case("private-zone-of-the-same-name", "dns.latency-routing", "verified",
         "resolvers on the internet reach the public zone; a private zone answers only inside its VPCs",
         lambda estate: create_zone(estate, ZONE, private=True), summary="send"),
    Case("records-only-in-the-private-zone", "dns.failover-ttl", "failing",
         "public resolvers read the public zone, so records only in a private zone of that name do not count",
         lambda estate: (replace_latency_records(estate), change_records(
             estate, latency_record(PRIMARY), latency_record(SECONDARY), zone=create_zone(estate, ZONE, private=True)))),
    Case("two-public-zones-no-parent", "dns.latency-routing", "failing",
         "only the zone the parent delegates to is answered on the internet; without the parent, which is unknown",
         lambda estate: create_zone(estate, ZONE), summary="2 public zones"),
    Case("two-public-zones-parent-delegates-to-ready", "dns.latency-routing", "verified",
         "resolvers follow the parent zone's NS delegation to the zone with those name servers",
         lambda estate: second_public_zone(estate, delegate_to="ready")),
    Case("two-public-zones-parent-delegates-to-empty", "dns.latency-routing", "failing",
         "resolvers follow the parent zone's NS delegation, here to the zone without the records",
         lambda estate: second_public_zone(estate, delegate_to="other"), summary="no latency records"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_case(corpus: Corpus, case: Case) -> None:
    corpus.check(case)
