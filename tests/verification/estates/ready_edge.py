"""The ready CloudFront and Lambda@Edge estate the edge cases edit: cloudfront.origin-failover and every
edge.* item verify. Seeded through the ordinary AWS APIs on the moto server (whose layer keeps the
Lambda@Edge associations and origin-group targets moto alone would drop)."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace
from typing import Any

from tests.verification.estates.harness import PRIMARY, SECONDARY, Estate

AUTH = "beak-edge-auth"
REDIRECTS = "beak-edge-redirects"
ROLE = "beak-edge-execution"
EDGE_SERVICES = ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]
ORIGINS = {PRIMARY: "use1.api.spaceduck.example", SECONDARY: "apse1.api.spaceduck.example"}


def allow(services: Any = EDGE_SERVICES, action: Any = "sts:AssumeRole", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": {"Service": services}, "Action": action, **extra}


def deny(services: Any = EDGE_SERVICES, action: Any = "sts:AssumeRole", **extra: Any) -> dict[str, Any]:
    return {**allow(services, action, **extra), "Effect": "Deny"}


def seed_edge(
    estate: Estate,
    *,
    trust: list[dict[str, Any]] | None = None,
    default: dict[str, str] | None = None,
    paths: dict[str, dict[str, str]] | None = None,
) -> None:
    """The edge role (`trust` statements), both functions published, and one distribution whose default
    behaviour runs `default` (event -> function name) and whose path behaviours `paths` (pattern -> ...)."""
    iam = estate.client("iam")
    document = {"Version": "2012-10-17", "Statement": trust or [allow()]}
    role_arn = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(document))["Role"]["Arn"]
    versions = {name: publish(estate, name, role_arn) for name in (AUTH, REDIRECTS)}
    estate.ids.update({f"version-{name}": arn for name, arn in versions.items()})
    ready_default = {"viewer-request": AUTH, "origin-request": REDIRECTS}
    distribution = estate.client("cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": "edge-ready",
            "Comment": "spaceduck app and beak API",
            "Enabled": True,
            "Origins": {
                "Quantity": 2,
                "Items": [_origin(f"beak-{region}", host) for region, host in ORIGINS.items()],
            },
            "OriginGroups": {"Quantity": 1, "Items": [_failover_group()]},
            "DefaultCacheBehavior": _behaviour(estate, ready_default if default is None else default),
            "CacheBehaviors": {
                "Quantity": len(paths or {}),
                "Items": [
                    {"PathPattern": pattern, **_behaviour(estate, events)}
                    for pattern, events in (paths or {}).items()
                ],
            },
        }
    )["Distribution"]
    estate.ids["distribution"] = distribution["Id"]
    estate.config = replace(
        estate.config,
        distributions=(distribution["Id"],),
        edge_auth_function=AUTH,
        edge_redirect_function=REDIRECTS,
        edge_role=ROLE,
    )


def publish(estate: Estate, name: str, role_arn: str, *, memory: int = 128, timeout: int = 5) -> str:
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("index.js", "exports.handler = async (event) => event.Records[0].cf.request;\n")
    awslambda = estate.client("lambda")
    awslambda.create_function(
        FunctionName=name,
        Runtime="nodejs20.x",
        Role=role_arn,
        Handler="index.handler",
        Code={"ZipFile": package.getvalue()},
        MemorySize=memory,
        Timeout=timeout,
    )
    return awslambda.publish_version(FunctionName=name)["FunctionArn"]


def _origin(origin_id: str, host: str) -> dict[str, Any]:
    return {
        "Id": origin_id,
        "DomainName": host,
        "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"},
    }


def _failover_group() -> dict[str, Any]:
    return {
        "Id": "beak-failover",
        "FailoverCriteria": {"StatusCodes": {"Quantity": 4, "Items": [500, 502, 503, 504]}},
        "Members": {"Quantity": 2, "Items": [{"OriginId": f"beak-{region}"} for region in ORIGINS]},
    }


def _behaviour(estate: Estate, events: dict[str, str]) -> dict[str, Any]:
    """A behaviour on the failover group running `events` (event type -> function name or version ARN)."""
    items = [
        {
            "EventType": event,
            "LambdaFunctionARN": estate.ids.get(f"version-{target}", target),
            "IncludeBody": False,
        }
        for event, target in events.items()
    ]
    return {
        "TargetOriginId": "beak-failover",
        "ViewerProtocolPolicy": "redirect-to-https",
        "ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "none"}},
        "MinTTL": 0,
        "DefaultTTL": 0,
        "MaxTTL": 60,
        "LambdaFunctionAssociations": {"Quantity": len(items), "Items": items},
    }
