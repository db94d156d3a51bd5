"""CloudFront probes: origin failover for the API's paths, cache TTL ceilings on every behaviour, and
the live geo-restriction policy that an attestation is bound to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mission_control.evidence.errors import EvidenceError
from mission_control.evidence.geo_restriction import live_restrictions, restriction_fingerprint
from mission_control.verification.aws import AwsError
from mission_control.verification.collectors.cloudfront import (
    CloudFrontSnapshot,
    behaviours,
    serving_behaviour,
)
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.registry import probe
from mission_control.verification.results import (
    ProbeResult,
    Status,
    errored,
    failing,
    not_configured,
    verified,
)

FAILOVER_STATUS_CODES = (500, 502, 503, 504)
# CloudFront's documented TTL defaults, used when a behaviour or cache policy leaves a TTL unset.
DEFAULT_TTL_DEFAULT = 86400
MAX_TTL_DEFAULT = 31536000


@probe(
    "cloudfront.origin-failover",
    config_keys=("distributions",),
    collectors=("cloudfront",),
    actions=("cloudfront:GetDistributionConfig",),
    fix=(
        "Give each distribution an origin group (a primary and a secondary origin) failing over on 500, "
        "502, 503 and 504, and route the API's paths (health_check_paths) to it."
    ),
)
def origin_failover(config: EnvironmentConfig, *, cloudfront: CloudFrontSnapshot) -> ProbeResult:
    """The API's paths (health_check_paths stand for them) must be served through a failover origin group.

    A distribution without any origin group fails: checking "all groups are good" over no groups
    would pass it, which is the bug this probe exists to avoid. Without API paths there is nothing to
    route, so the probe fails rather than judge the default behaviour alone.
    """
    if not config.health_check_paths:
        return not_configured("cloudfront.origin-failover", "health_check_paths", config.name)

    def judge(distribution_id: str, distribution: dict[str, Any]) -> Judgement:
        facts, problems = _failover(distribution_id, distribution, config.health_check_paths)
        return facts, problems, []

    return _each_distribution(
        "cloudfront.origin-failover",
        config,
        cloudfront,
        judge,
        lambda count: (
            f"all {count} distributions serve the API through an origin group failing over on "
            f"{', '.join(map(str, FAILOVER_STATUS_CODES))}"
        ),
    )


@probe(
    "cloudfront.cache-ttls",
    config_keys=("distributions", "max_default_ttl", "max_max_ttl"),
    collectors=("cloudfront",),
    actions=("cloudfront:GetDistributionConfig", "cloudfront:GetCachePolicy"),
    fix=(
        "Lower every behaviour's DefaultTTL to max_default_ttl and its MaxTTL to max_max_ttl or less, in "
        "its cache policy or its legacy settings."
    ),
)
def cache_ttls(config: EnvironmentConfig, *, cloudfront: CloudFrontSnapshot) -> ProbeResult:
    """Every behaviour's effective TTLs, from its cache policy when it has one, stay under the ceilings."""

    def judge(distribution_id: str, distribution: dict[str, Any]) -> Judgement:
        facts, problems, errors = [], [], []
        for label, behaviour in behaviours(distribution):
            ttls = _ttls(behaviour, cloudfront.cache_policies)
            where = f"distribution {distribution_id} behaviour {label}"
            if isinstance(ttls, AwsError):
                errors.append(str(ttls))
            elif ttls is None:
                problems.append(
                    f"{where} uses cache policy {behaviour['CachePolicyId']}, which does not exist"
                )
            else:
                facts.append({"behaviour": label, **ttls})
                problems.extend(_ttl_problems(where, ttls, config))
        return facts, problems, errors

    return _each_distribution(
        "cloudfront.cache-ttls",
        config,
        cloudfront,
        judge,
        lambda count: (
            f"every behaviour of {count} distributions has DefaultTTL ≤ {config.max_default_ttl} s "
            f"and MaxTTL ≤ {config.max_max_ttl} s"
        ),
    )


# (facts, problems, AWS errors) about one distribution
Judgement = tuple[Any, list[str], list[str]]


def _each_distribution(
    item_id: str,
    config: EnvironmentConfig,
    cloudfront: CloudFrontSnapshot,
    judge: Callable[[str, dict[str, Any]], Judgement],
    verified_summary: Callable[[int], str],
) -> ProbeResult:
    """Judge every configured distribution; unreadable ones make the item `error`, missing ones `failing`."""
    ids = tuple(dict.fromkeys(config.distributions))
    if not ids:
        return not_configured(item_id, "distributions", config.name)
    errors: list[str] = []
    problems: list[str] = []
    facts: dict[str, Any] = {}
    for distribution_id in ids:
        distribution = cloudfront.distributions[distribution_id]
        if isinstance(distribution, AwsError):
            errors.append(str(distribution))
        elif distribution is None:
            problems.append(f"distribution {distribution_id} not found")
        else:
            facts[distribution_id], found_problems, found_errors = judge(distribution_id, distribution)
            problems.extend(found_problems)
            errors.extend(found_errors)
    if errors:
        return errored(item_id, "; ".join(dict.fromkeys(errors)), distributions=facts)
    if problems:
        return failing(item_id, "; ".join(problems), distributions=facts)
    return verified(item_id, verified_summary(len(ids)), distributions=facts)


def _failover(
    distribution_id: str, distribution: dict[str, Any], api_paths: tuple[str, ...]
) -> tuple[dict[str, Any], list[str]]:
    """The distribution's origin groups and which behaviour serves each API path, and what is wrong."""
    groups = distribution.get("OriginGroups", {}).get("Items", [])
    described = [
        {
            "id": group["Id"],
            "members": [member["OriginId"] for member in group["Members"]["Items"]],
            "status_codes": sorted(group["FailoverCriteria"]["StatusCodes"]["Items"]),
        }
        for group in groups
    ]
    failover_groups = [group["id"] for group in described if not _group_problem(distribution_id, group)]
    routes = {path: serving_behaviour(distribution, path) for path in api_paths}
    served = {
        path: {"behaviour": label, "target": behaviour["TargetOriginId"]}
        for path, (label, behaviour) in routes.items()
    }
    facts = {"origin_groups": described, "failover_groups": failover_groups, "api_paths": served}
    if not described:
        return facts, [f"distribution {distribution_id} has no origin group"]
    if not failover_groups:
        return facts, [_group_problem(distribution_id, group) for group in described]
    return facts, [
        f"distribution {distribution_id} serves {path} from {route['target']} "
        f"(behaviour {route['behaviour']}), "
        f"not from origin group {' or '.join(failover_groups)}"
        for path, route in served.items()
        if route["target"] not in failover_groups
    ]


def _group_problem(distribution_id: str, group: dict[str, Any]) -> str:
    """Why an origin group cannot fail over, or "" when it can.

    CloudFront's API requires exactly two members per group, so only the status codes can be wrong.
    """
    missing = ", ".join(str(code) for code in FAILOVER_STATUS_CODES if code not in group["status_codes"])
    if missing:
        return f"origin group {group['id']} of distribution {distribution_id} does not fail over on {missing}"
    return ""


def _ttls(
    behaviour: dict[str, Any], policies: dict[str, dict[str, Any] | AwsError | None]
) -> dict[str, Any] | AwsError | None:
    """The behaviour's effective TTLs and where they come from; None when its cache policy is missing."""
    policy_id = behaviour.get("CachePolicyId")
    settings = policies[policy_id] if policy_id else behaviour
    if not isinstance(settings, dict):
        return settings
    minimum = settings.get("MinTTL", 0)
    default = settings.get("DefaultTTL", max(DEFAULT_TTL_DEFAULT, minimum))
    source = f"cache policy {settings['Name']} ({policy_id})" if policy_id else "behaviour settings"
    return {
        "source": source,
        "default_ttl": default,
        "max_ttl": settings.get("MaxTTL", max(MAX_TTL_DEFAULT, default)),
    }


def _ttl_problems(where: str, ttls: dict[str, Any], config: EnvironmentConfig) -> list[str]:
    problems = []
    if ttls["default_ttl"] > config.max_default_ttl:
        problems.append(
            f"{where} has DefaultTTL {ttls['default_ttl']} > {config.max_default_ttl} ({ttls['source']})"
        )
    if ttls["max_ttl"] > config.max_max_ttl:
        problems.append(f"{where} has MaxTTL {ttls['max_ttl']} > {config.max_max_ttl} ({ttls['source']})")
    return problems


@probe(
    "cloudfront.geo-restriction",
    config_keys=("distributions",),
    collectors=("cloudfront",),
    actions=("cloudfront:GetDistributionConfig",),
    fix=(
        "Review each distribution's geo restriction and attest it: mission-control evidence attest "
        "cloudfront.geo-restriction (a changed restriction voids the attestation)."
    ),
)
def geo_restriction(config: EnvironmentConfig, *, cloudfront: CloudFrontSnapshot) -> ProbeResult:
    """No API proves a policy is intentional, so this stays manual; it records the live restrictions and
    their fingerprint, against which an attestation is checked (a changed policy voids it)."""
    item_id = "cloudfront.geo-restriction"
    errors = [str(found) for found in cloudfront.distributions.values() if isinstance(found, AwsError)]
    if errors:
        return errored(item_id, "; ".join(errors))
    try:
        restrictions = live_restrictions(config, cloudfront)
    except EvidenceError as error:
        return ProbeResult(item_id, Status.MANUAL, f"needs a reviewed attestation; {error}")
    fingerprint = restriction_fingerprint(restrictions)
    described = "; ".join(
        f"{distribution_id}: {r['type']}{' ' + ','.join(r['locations']) if r['locations'] else ''}"
        for distribution_id, r in restrictions.items()
    )
    return ProbeResult(
        item_id,
        Status.MANUAL,
        f"needs a reviewed attestation of the live policy ({described})",
        {"restrictions": restrictions, "fingerprint": fingerprint},
    )
