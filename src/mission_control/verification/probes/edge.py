"""Lambda@Edge probes: the auth and redirect handlers are published and wired into every distribution,
and run with a role both Lambda and Lambda@Edge may assume."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from mission_control.verification.aws import AwsError
from mission_control.verification.collectors.cloudfront import (
    DEFAULT_BEHAVIOUR,
    CloudFrontSnapshot,
    behaviours,
)
from mission_control.verification.collectors.lambda_edge import EDGE_REGION, LambdaEdgeSnapshot, published
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.registry import probe
from mission_control.verification.results import ProbeResult, errored, failing, not_configured, verified

# AWS's documented Lambda@Edge quotas for viewer-request and viewer-response functions.
VIEWER_MEMORY_MB = 128
VIEWER_TIMEOUT_S = 5
VIEWER_PACKAGE_BYTES = 1_048_576
EDGE_SERVICES = ("lambda.amazonaws.com", "edgelambda.amazonaws.com")
_EDGE_ACTIONS = ("lambda:ListVersionsByFunction", "cloudfront:GetDistributionConfig")


@probe("edge.auth-handler", collectors=("lambda_edge", "cloudfront"), actions=_EDGE_ACTIONS)
def auth_handler(
    config: EnvironmentConfig, *, lambda_edge: LambdaEdgeSnapshot, cloudfront: CloudFrontSnapshot
) -> ProbeResult:
    """Viewer-request on every distribution's default behaviour, within the viewer-event quotas."""
    item_id = "edge.auth-handler"
    for key in ("edge_auth_function", "distributions"):
        if not getattr(config, key):
            return not_configured(item_id, key, config.name)
    name = str(config.edge_auth_function)
    return _edge_function(item_id, name, config, lambda_edge, cloudfront, "viewer-request", viewer=True)


@probe("edge.redirects", collectors=("lambda_edge", "cloudfront"), actions=_EDGE_ACTIONS)
def redirects(
    config: EnvironmentConfig, *, lambda_edge: LambdaEdgeSnapshot, cloudfront: CloudFrontSnapshot
) -> ProbeResult:
    """Origin-request on some behaviour of every distribution (redirects may apply to some paths only)."""
    item_id = "edge.redirects"
    for key in ("edge_redirect_function", "distributions"):
        if not getattr(config, key):
            return not_configured(item_id, key, config.name)
    name = str(config.edge_redirect_function)
    return _edge_function(item_id, name, config, lambda_edge, cloudfront, "origin-request", viewer=False)


@probe("edge.iam-role", collectors=("lambda_edge", "cloudfront"), actions=("iam:GetRole", *_EDGE_ACTIONS))
def iam_role(
    config: EnvironmentConfig, *, lambda_edge: LambdaEdgeSnapshot, cloudfront: CloudFrontSnapshot
) -> ProbeResult:
    """The role trusts both services for sts:AssumeRole, and the versions in use run with it."""
    item_id = "edge.iam-role"
    for key in ("edge_role", "edge_auth_function", "edge_redirect_function"):
        if not getattr(config, key):
            return not_configured(item_id, key, config.name)
    role_name = str(config.edge_role)
    errors: list[str] = []
    problems: list[str] = []
    facts: dict[str, Any] = {"role": role_name, "trusted_services": [], "function_roles": {}}
    if isinstance(lambda_edge.role, AwsError):
        errors.append(str(lambda_edge.role))
    elif lambda_edge.role is None:
        problems.append(f"role {role_name} not found")
    else:
        trusted = trusted_services(lambda_edge.role["AssumeRolePolicyDocument"])
        facts["trusted_services"] = sorted(trusted)
        problems.extend(
            f"role {role_name} does not trust {service} for sts:AssumeRole"
            for service in EDGE_SERVICES
            if service not in trusted
        )
    for name in dict.fromkeys((config.edge_auth_function, config.edge_redirect_function)):
        versions = lambda_edge.functions[str(name)]
        if isinstance(versions, AwsError):
            errors.append(str(versions))
            continue
        if versions is None:
            problems.append(f"function {name} not found in {EDGE_REGION}")
            continue
        in_use = versions_in_use(str(name), versions, cloudfront, config.distributions)
        facts["function_roles"][name] = {version["Version"]: version["Role"] for version in in_use}
        problems.extend(
            f"{name} version {version['Version']} runs with {version['Role']}, not role {role_name}"
            for version in in_use
            if version["Role"].rsplit("/", 1)[-1] != role_name
        )
    if errors:
        return errored(item_id, "; ".join(errors), **facts)
    if problems:
        return failing(item_id, "; ".join(problems), **facts)
    return verified(
        item_id,
        f"role {role_name} trusts {' and '.join(EDGE_SERVICES)}, and both edge functions run with it",
        **facts,
    )


def trusted_services(document: dict[str, Any]) -> set[str]:
    """Services an Allow statement lets call sts:AssumeRole; Deny statements are not read."""
    statements = document.get("Statement", [])
    services: set[str] = set()
    for statement in [statements] if isinstance(statements, dict) else statements:
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if statement.get("Effect") != "Allow" or not any(
            fnmatchcase("sts:assumerole", action.lower()) for action in actions
        ):
            continue
        principal = statement.get("Principal", {})
        service = principal.get("Service", []) if isinstance(principal, dict) else []
        services.update([service] if isinstance(service, str) else service)
    return services


def versions_in_use(
    name: str,
    versions: tuple[dict[str, Any], ...],
    cloudfront: CloudFrontSnapshot,
    distribution_ids: tuple[str, ...],
) -> list[dict[str, Any]]:
    """The published versions distributions run; else the newest published version; else $LATEST."""
    associated = {
        version
        for distribution_id in distribution_ids
        for association in _associations(cloudfront.distributions.get(distribution_id), all_behaviours=True)
        for function, version in [_function_version(association["function_arn"])]
        if function == name
    }
    releases = published(versions)
    return [v for v in releases if v["Version"] in associated] or releases[-1:] or list(versions)


def _edge_function(
    item_id: str,
    name: str,
    config: EnvironmentConfig,
    lambda_edge: LambdaEdgeSnapshot,
    cloudfront: CloudFrontSnapshot,
    event_type: str,
    *,
    viewer: bool,
) -> ProbeResult:
    """A published version of the function is associated with `event_type` on every distribution:
    on the default behaviour for a viewer handler (within viewer quotas), on any behaviour otherwise."""
    versions = lambda_edge.functions[name]
    if isinstance(versions, AwsError):
        return errored(item_id, str(versions), function=name)
    if versions is None:
        return failing(item_id, f"function {name} not found in {EDGE_REGION}", function=name)
    releases = [version["Version"] for version in published(versions)]
    errors: list[str] = []
    problems: list[str] = (
        [] if releases else [f"{name} has no published version in {EDGE_REGION}, only $LATEST"]
    )
    associations: dict[str, list[dict[str, str]]] = {}
    scope = "the default behaviour" if viewer else "any behaviour"
    for distribution_id in dict.fromkeys(config.distributions):
        distribution = cloudfront.distributions[distribution_id]
        if isinstance(distribution, AwsError):
            errors.append(str(distribution))
            continue
        if distribution is None:
            problems.append(f"distribution {distribution_id} not found")
            continue
        found = [
            a for a in _associations(distribution, all_behaviours=not viewer) if a["event_type"] == event_type
        ]
        associations[distribution_id] = found
        targets = [_function_version(association["function_arn"]) for association in found]
        ours = [version for function, version in targets if function == name]
        if not ours:
            problems.append(
                f"distribution {distribution_id} has no {event_type} association with {name} on {scope}"
            )
        problems.extend(
            f"distribution {distribution_id} uses {name} version {version}, which is not published"
            for version in ours
            if version not in releases
        )
    facts: dict[str, Any] = {"function": name, "published_versions": releases, "associations": associations}
    if viewer:
        in_use = versions_in_use(name, versions, cloudfront, config.distributions)
        facts["versions_checked_for_quotas"] = [_quota_facts(version) for version in in_use]
        problems.extend(problem for version in in_use for problem in _quota_problems(name, version))
    if errors:
        return errored(item_id, "; ".join(errors), **facts)
    if problems:
        return failing(item_id, "; ".join(problems), **facts)
    return verified(
        item_id,
        f"{name} is published and associated with {event_type} on {scope} of all "
        f"{len(associations)} distributions",
        **facts,
    )


def _associations(
    distribution: dict[str, Any] | AwsError | None, *, all_behaviours: bool
) -> list[dict[str, str]]:
    if not isinstance(distribution, dict):
        return []
    chosen = (
        behaviours(distribution)
        if all_behaviours
        else [(DEFAULT_BEHAVIOUR, distribution["DefaultCacheBehavior"])]
    )
    return [
        {"behaviour": label, "event_type": item["EventType"], "function_arn": item["LambdaFunctionARN"]}
        for label, behaviour in chosen
        for item in behaviour.get("LambdaFunctionAssociations", {}).get("Items", [])
    ]


def _function_version(arn: str) -> tuple[str, str]:
    """(name, qualifier) of arn:aws:lambda:REGION:ACCOUNT:function:NAME:QUALIFIER."""
    parts = arn.split(":")
    return (parts[6] if len(parts) > 6 else "", parts[7] if len(parts) > 7 else "")


def _quota_facts(version: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": version["Version"],
        "memory_mb": version["MemorySize"],
        "timeout_s": version["Timeout"],
        "code_size_bytes": version["CodeSize"],
    }


def _quota_problems(name: str, version: dict[str, Any]) -> list[str]:
    where = f"{name} version {version['Version']}"
    problems = []
    if version["MemorySize"] > VIEWER_MEMORY_MB:
        problems.append(
            f"{where} has {version['MemorySize']} MB memory; viewer events allow {VIEWER_MEMORY_MB} MB"
        )
    if version["Timeout"] > VIEWER_TIMEOUT_S:
        problems.append(
            f"{where} has a {version['Timeout']} s timeout; viewer events allow {VIEWER_TIMEOUT_S} s"
        )
    if version["CodeSize"] > VIEWER_PACKAGE_BYTES:
        problems.append(
            f"{where} has a {version['CodeSize']} byte package; "
            f"viewer events allow {VIEWER_PACKAGE_BYTES} bytes"
        )
    return problems
