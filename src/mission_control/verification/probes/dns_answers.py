"""What Route53 answers for a record: the TTL resolvers cache and where it sends them.

An alias record has no TTL of its own: Route53 answers with its target's records and their TTL, so a
chain of aliases within the zone is followed to the records at its end. An alias to an AWS resource
(CloudFront, a load balancer, API Gateway...) answers with the TTL AWS fixes for that resource.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mission_control.verification.collectors.route53 import normalise_name

# DNS name suffixes of the AWS resources an alias can target, as Route53's AliasTarget documents them.
AWS_RESOURCE_SUFFIXES = (
    (".cloudfront.net", "CloudFront"),
    (".elb.amazonaws.com", "Elastic Load Balancing"),
    (".awsglobalaccelerator.com", "Global Accelerator"),
    (".elasticbeanstalk.com", "Elastic Beanstalk"),
)


@dataclass(frozen=True)
class Answer:
    """`ttl` is None when AWS fixes it (an alias to an AWS resource); `problem` when no answer can be read."""

    ttl: int | None
    targets: frozenset[str]
    chain: tuple[str, ...] = ()
    note: str | None = None
    problem: str | None = None


def resolve(record: dict[str, Any], records: tuple[dict[str, Any], ...], zone: str) -> Answer:
    """Route53's answer for `record` in the zone with id `zone`, following aliases within the zone."""
    return _resolve(record, records, zone, ())


def aws_resource(dns_name: str) -> str | None:
    """The AWS service an alias target's DNS name belongs to, or None for a name outside AWS."""
    name = f".{normalise_name(dns_name)}"
    for suffix, service in AWS_RESOURCE_SUFFIXES:
        if name.endswith(suffix):
            return service
    if ".execute-api." in name and name.endswith(".amazonaws.com"):
        return "API Gateway"
    if ".s3-website" in name:
        return "S3 website endpoint"
    if name.endswith(".amazonaws.com"):
        return "an AWS service"
    return None


def answers_with(answer: Answer, endpoint: str, records: tuple[dict[str, Any], ...]) -> bool:
    """Whether the answer sends resolvers to `endpoint`: its name, or the addresses the zone gives it."""
    wanted = normalise_name(endpoint)
    if wanted in answer.targets:
        return True
    addresses = {
        value["Value"]
        for record in records
        if normalise_name(record["Name"]) == wanted and record["Type"] in ("A", "AAAA")
        for value in record.get("ResourceRecords", [])
    }
    return bool(answer.targets) and answer.targets <= addresses


def _resolve(
    record: dict[str, Any], records: tuple[dict[str, Any], ...], zone: str, seen: tuple[str, ...]
) -> Answer:
    if "AliasTarget" not in record:
        values = frozenset(_target_name(value["Value"]) for value in record.get("ResourceRecords", []))
        return Answer(record.get("TTL"), values, seen)
    target = record["AliasTarget"]
    name = _target_name(target["DNSName"])
    chain = (*seen, name)
    if target["HostedZoneId"] != zone:
        service = aws_resource(name)
        if service is None:
            return Answer(None, frozenset({name}), chain, problem=_other_zone(name, target["HostedZoneId"]))
        note = f"alias to {service} ({name}): the resource's fixed TTL applies, set by AWS, not this zone"
        return Answer(None, frozenset({name}), chain, note=note)
    if name in seen:
        return Answer(None, frozenset(), chain, problem=f"alias chain loops at {name}")
    ends = [r for r in records if normalise_name(r["Name"]) == name and r["Type"] == record["Type"]]
    if not ends:
        return Answer(
            None, frozenset(), chain, problem=f"alias target {name} ({record['Type']}) is not in the zone"
        )
    answers = [_resolve(end, records, zone, chain) for end in ends]
    problem = next((a.problem for a in answers if a.problem), None)
    ttls = [a.ttl for a in answers if a.ttl is not None]
    return Answer(
        max(ttls) if ttls else None,
        frozenset().union(*(a.targets for a in answers)),
        max((a.chain for a in answers), key=len),
        next((a.note for a in answers if a.note), None),
        problem,
    )


def _target_name(value: str) -> str:
    """A record value or alias name as a comparable host name; ELB's "dualstack." prefix is the same host."""
    name = normalise_name(value)
    return name.removeprefix("dualstack.")


def _other_zone(name: str, zone: str) -> str:
    return f"alias to {name} in another hosted zone ({zone}): the TTL resolvers see there is not read"
