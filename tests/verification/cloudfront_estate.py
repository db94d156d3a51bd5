"""The spaceduck CloudFront estate in GetDistributionConfig's and GetCachePolicy's real shapes.

moto 5 rejects behaviours that target an origin group and drops Lambda@Edge associations and cache
policies, so the CloudFront and edge tests answer CloudFront with ModelStub (model-validated).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from tests.verification.estates import ACCOUNT, CONFIG
from tests.verification.model_stub import ModelStub

API_DISTRIBUTION = "E3HQHA5N284LTS"
WEB_DISTRIBUTION = "E1WQP6P5ZWZO5K"
AUTH_FUNCTION = "beak-edge-auth"
REDIRECT_FUNCTION = "beak-edge-redirects"
EDGE_ROLE = "beak-edge-execution"
SHORT_POLICY = "5c1b7d4e-0000-4000-8000-000000000001"  # DefaultTTL 60, MaxTTL 3600
FAILOVER_CODES = (500, 502, 503, 504)

EDGE_CONFIG = replace(
    CONFIG,
    distributions=(API_DISTRIBUTION, WEB_DISTRIBUTION),
    max_default_ttl=300,
    max_max_ttl=86400,
    edge_auth_function=AUTH_FUNCTION,
    edge_redirect_function=REDIRECT_FUNCTION,
    edge_role=EDGE_ROLE,
)


def function_arn(name: str, version: str = "1") -> str:
    return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}:{version}"


def origin_group(
    group_id: str, members: tuple[str, ...], status_codes: tuple[int, ...] = FAILOVER_CODES
) -> dict[str, Any]:
    return {
        "Id": group_id,
        "FailoverCriteria": {"StatusCodes": {"Quantity": len(status_codes), "Items": list(status_codes)}},
        "Members": {"Quantity": len(members), "Items": [{"OriginId": member} for member in members]},
    }


def behaviour(
    target: str,
    *,
    path: str | None = None,
    cache_policy: str | None = None,
    ttls: tuple[int, int] | None = (60, 3600),
    associations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A cache behaviour; `ttls` (DefaultTTL, MaxTTL) are legacy settings, ignored with a cache policy.

    `associations` maps a Lambda@Edge event type to the function version ARN it runs.
    """
    result: dict[str, Any] = {"TargetOriginId": target, "ViewerProtocolPolicy": "redirect-to-https"}
    if path is not None:
        result["PathPattern"] = path
    if cache_policy:
        result["CachePolicyId"] = cache_policy
    elif ttls:
        result.update({"MinTTL": 0, "DefaultTTL": ttls[0], "MaxTTL": ttls[1]})
    else:
        result["MinTTL"] = 0
    items = [{"LambdaFunctionARN": arn, "EventType": event} for event, arn in (associations or {}).items()]
    result["LambdaFunctionAssociations"] = {"Quantity": len(items), **({"Items": items} if items else {})}
    return result


def distribution(
    default: dict[str, Any],
    *,
    behaviours: tuple[dict[str, Any], ...] = (),
    groups: tuple[dict[str, Any], ...] = (),
) -> dict[str, Any]:
    origin_ids = ("api-use1", "api-apse1", "web-use1", "web-apse1")
    return {
        "CallerReference": "spaceduck",
        "Comment": "",
        "Enabled": True,
        "Origins": {
            "Quantity": len(origin_ids),
            "Items": [{"Id": origin, "DomainName": f"{origin}.spaceduck.example"} for origin in origin_ids],
        },
        "OriginGroups": {"Quantity": len(groups), **({"Items": list(groups)} if groups else {})},
        "DefaultCacheBehavior": default,
        "CacheBehaviors": {
            "Quantity": len(behaviours),
            **({"Items": list(behaviours)} if behaviours else {}),
        },
    }


def api_distribution(**changes: Any) -> dict[str, Any]:
    """The API: a failover group behind every path, auth on viewer-request, redirects on origin-request."""
    associations = {
        "viewer-request": function_arn(AUTH_FUNCTION),
        "origin-request": function_arn(REDIRECT_FUNCTION),
    }
    parts: dict[str, Any] = {
        "default": behaviour("api-failover", cache_policy=SHORT_POLICY, associations=associations),
        "behaviours": (behaviour("api-failover", path="/static/*", ttls=(300, 86400)),),
        "groups": (origin_group("api-failover", ("api-use1", "api-apse1")),),
    }
    parts.update(changes)
    return distribution(parts.pop("default"), **parts)


def web_distribution(**changes: Any) -> dict[str, Any]:
    """The web app: a failover group of two S3 origins, the same edge functions on the default behaviour."""
    associations = {
        "viewer-request": function_arn(AUTH_FUNCTION),
        "origin-request": function_arn(REDIRECT_FUNCTION),
    }
    parts: dict[str, Any] = {
        "default": behaviour("web-failover", cache_policy=SHORT_POLICY, associations=associations),
        "groups": (origin_group("web-failover", ("web-use1", "web-apse1")),),
    }
    parts.update(changes)
    return distribution(parts.pop("default"), **parts)


def stub_distribution(cloudfront: ModelStub, distribution_id: str, config: dict[str, Any]) -> None:
    cloudfront.add(
        "GetDistributionConfig",
        {"Id": distribution_id},
        {"DistributionConfig": config, "ETag": "E2QWRUHAPOMQZL"},
    )


def stub_cache_policy(
    cloudfront: ModelStub, policy_id: str, name: str, *, default_ttl: int | None, max_ttl: int | None
) -> None:
    policy_config: dict[str, Any] = {"Name": name, "MinTTL": 0}
    if default_ttl is not None:
        policy_config["DefaultTTL"] = default_ttl
    if max_ttl is not None:
        policy_config["MaxTTL"] = max_ttl
    policy = {
        "Id": policy_id,
        "LastModifiedTime": datetime(2024, 6, 1, tzinfo=UTC),
        "CachePolicyConfig": policy_config,
    }
    cloudfront.add("GetCachePolicy", {"Id": policy_id}, {"CachePolicy": policy, "ETag": "E23ZP02F085DFQ"})


def stub_ready_cloudfront(cloudfront: ModelStub) -> None:
    stub_distribution(cloudfront, API_DISTRIBUTION, api_distribution())
    stub_distribution(cloudfront, WEB_DISTRIBUTION, web_distribution())
    stub_cache_policy(cloudfront, SHORT_POLICY, "spaceduck-short", default_ttl=60, max_ttl=3600)
