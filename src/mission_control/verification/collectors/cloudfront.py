"""CloudFront: each configured distribution's configuration and the cache policies its behaviours use.

CloudFront is global and its API lives in us-east-1. Each distribution, and each cache policy however
many behaviours cite it, is fetched once, concurrently.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from mission_control.verification.aws import AwsClients, AwsError, call
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.registry import collector

CLOUDFRONT_REGION = "us-east-1"
MAX_WORKERS = 16
DEFAULT_BEHAVIOUR = "default (*)"


@dataclass(frozen=True)
class CloudFrontSnapshot:
    """GetDistributionConfig's DistributionConfig by distribution id and GetCachePolicy's CachePolicyConfig
    by policy id; None where the distribution or policy does not exist."""

    distributions: dict[str, dict[str, Any] | AwsError | None]
    cache_policies: dict[str, dict[str, Any] | AwsError | None]


def behaviours(distribution: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(label, behaviour) in CloudFront's evaluation order: path patterns as listed, then the default."""
    by_path = [
        (behaviour["PathPattern"], behaviour)
        for behaviour in distribution.get("CacheBehaviors", {}).get("Items", [])
    ]
    return [*by_path, (DEFAULT_BEHAVIOUR, distribution["DefaultCacheBehavior"])]


def serving_behaviour(distribution: dict[str, Any], path: str) -> tuple[str, dict[str, Any]]:
    """The behaviour CloudFront routes `path` to: the first matching path pattern, else the default."""
    return next(
        (label, behaviour)
        for label, behaviour in behaviours(distribution)
        if label == DEFAULT_BEHAVIOUR or pattern_matches(label, path)
    )


def pattern_matches(pattern: str, path: str) -> bool:
    """CloudFront path patterns: case-sensitive, `*` any characters, `?` one, the leading / optional."""
    regex = re.escape(pattern.lstrip("/")).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, path.lstrip("/")) is not None


@collector("cloudfront")
def collect_cloudfront(config: EnvironmentConfig, clients: AwsClients) -> CloudFrontSnapshot:
    ids = tuple(dict.fromkeys(config.distributions))
    if not ids:
        return CloudFrontSnapshot({}, {})
    client = clients.get("cloudfront", CLOUDFRONT_REGION)
    with ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="cloudfront") as pool:
        distributions = dict(zip(ids, pool.map(lambda id_: _distribution(client, id_), ids), strict=True))
        policy_ids = sorted(
            {
                behaviour["CachePolicyId"]
                for distribution in distributions.values()
                if isinstance(distribution, dict)
                for _, behaviour in behaviours(distribution)
                if behaviour.get("CachePolicyId")
            }
        )
        policies = dict(
            zip(policy_ids, pool.map(lambda id_: _cache_policy(client, id_), policy_ids), strict=True)
        )
    return CloudFrontSnapshot(distributions, policies)


def _distribution(client: Any, distribution_id: str) -> dict[str, Any] | AwsError | None:
    response = call(
        client,
        "get_distribution_config",
        action="cloudfront:GetDistributionConfig",
        resource=distribution_id,
        region=CLOUDFRONT_REGION,
        Id=distribution_id,
    )
    if isinstance(response, AwsError):
        return None if response.code == "NoSuchDistribution" else response
    return response["DistributionConfig"]


def _cache_policy(client: Any, policy_id: str) -> dict[str, Any] | AwsError | None:
    response = call(
        client,
        "get_cache_policy",
        action="cloudfront:GetCachePolicy",
        resource=f"cache policy {policy_id}",
        region=CLOUDFRONT_REGION,
        Id=policy_id,
    )
    if isinstance(response, AwsError):
        return None if response.code == "NoSuchCachePolicy" else response
    return response["CachePolicy"]["CachePolicyConfig"]
