"""Lambda@Edge probes: the auth and redirect handlers are published and wired into every distribution,
and run with a role both Lambda and Lambda@Edge may assume."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from mission_control.verification.aws import AwsError
from mission_control.verification.collectors.cloudfront import (
    CloudFrontSnapshot,
    behaviours,
    serving_behaviour,
)
from mission_control.verification.collectors.lambda_edge import EDGE_REGION, LambdaEdgeSnapshot, published
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
from mission_control.verification.trust_policy import ServiceTrust, Trust, service_trust

# AWS's documented Lambda@Edge quotas for viewer-request and viewer-response functions.
VIEWER_MEMORY_MB = 128
VIEWER_TIMEOUT_S = 5
VIEWER_PACKAGE_BYTES = 1_048_576
EDGE_SERVICES = ("lambda.amazonaws.com", "edgelambda.amazonaws.com")
_EDGE_ACTIONS = ("lambda:ListVersionsByFunction", "cloudfront:GetDistributionConfig")


@probe(
    "edge.auth-handler",
    config_keys=("edge_auth_function", "distributions"),
    collectors=("lambda_edge", "cloudfront"),
    actions=_EDGE_ACTIONS,
    fix=(
        "Associate a published version of edge_auth_function with viewer-request on every behaviour "
        "serving the API's paths, within Lambda@Edge's viewer quotas (128 MB, 5 s, 1 MB)."
    ),
)
def auth_handler(
    config: EnvironmentConfig, *, lambda_edge: LambdaEdgeSnapshot, cloudfront: CloudFrontSnapshot
) -> ProbeResult:
    """Viewer-request on every behaviour that serves the API's paths (health_check_paths stand for them,
    routed as CloudFront routes them), within the viewer-event quotas."""
    item_id = "edge.auth-handler"
    for key in ("edge_auth_function", "distributions", "health_check_paths"):
        if not getattr(config, key):
            return not_configured(item_id, key, config.name)
    name = str(config.edge_auth_function)
    return _edge_function(item_id, name, config, lambda_edge, cloudfront, "viewer-request", viewer=True)


@probe(
    "edge.redirects",
    config_keys=("edge_redirect_function", "distributions"),
    collectors=("lambda_edge", "cloudfront"),
    actions=_EDGE_ACTIONS,
    fix=(
        "Associate a published version of edge_redirect_function with origin-request on a behaviour of "
        "every distribution."
    ),
)
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


@probe(
    "edge.iam-role",
    config_keys=("edge_role", "edge_auth_function", "edge_redirect_function"),
    collectors=("lambda_edge", "cloudfront"),
    actions=("iam:GetRole", *_EDGE_ACTIONS),
    fix=(
        "Let both lambda.amazonaws.com and edgelambda.amazonaws.com assume edge_role and run the edge "
        "functions' versions with it; attest a trust policy whose conditions depend on the request."
    ),
)
def iam_role(
    config: EnvironmentConfig, *, lambda_edge: LambdaEdgeSnapshot, cloudfront: CloudFrontSnapshot
) -> ProbeResult:
    """The role's trust policy, evaluated as IAM evaluates it, lets both services sts:AssumeRole, and the
    versions in use run with it. A trust that hangs on request values (aws:SourceArn, ...) is `manual`:
    it needs a reviewed attestation, bound to the fingerprint of what was judged."""
    item_id = "edge.iam-role"
    for key in ("edge_role", "edge_auth_function", "edge_redirect_function"):
        if not getattr(config, key):
            return not_configured(item_id, key, config.name)
    role_name = str(config.edge_role)
    errors: list[str] = []
    problems: list[str] = []
    conditional: list[ServiceTrust] = []
    facts: dict[str, Any] = {"role": role_name, "trust": {}, "trusted_services": [], "function_roles": {}}
    if isinstance(lambda_edge.role, AwsError):
        errors.append(str(lambda_edge.role))
    elif lambda_edge.role is None:
        problems.append(f"role {role_name} not found")
    else:
        document = lambda_edge.role["AssumeRolePolicyDocument"]
        facts["trust_policy"] = document
        verdicts = [service_trust(document, service) for service in EDGE_SERVICES]
        facts["trust"] = {verdict.service: verdict.to_dict() for verdict in verdicts}
        facts["trusted_services"] = sorted(v.service for v in verdicts if v.trust is Trust.TRUSTED)
        problems.extend(
            f"role {role_name} does not trust {v.service} for sts:AssumeRole: {v.reason}"
            for v in verdicts
            if v.trust is Trust.NOT_TRUSTED
        )
        conditional = [v for v in verdicts if v.trust is Trust.CONDITIONAL]
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
    if conditional:
        conditions = sorted(
            {json.dumps(c["condition"], sort_keys=True) for v in conditional for c in v.conditions}
        )
        return ProbeResult(
            item_id,
            Status.MANUAL,
            f"needs a reviewed attestation: role {role_name} trusts "
            f"{' and '.join(v.service for v in conditional)} only under {'; '.join(conditions)}",
            {**facts, "fingerprint": _fingerprint(facts)},
        )
    return verified(
        item_id,
        f"role {role_name} trusts {' and '.join(EDGE_SERVICES)}, and both edge functions run with it",
        **facts,
    )


def _fingerprint(facts: dict[str, Any]) -> str:
    """SHA-256 of everything the verdict was drawn from: a changed policy or role voids an attestation."""
    judged = {key: facts[key] for key in ("role", "trust_policy", "function_roles")}
    return hashlib.sha256(json.dumps(judged, sort_keys=True).encode()).hexdigest()


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
        for association in _associations(cloudfront.distributions.get(distribution_id))
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
    """A published version of the function is associated with `event_type` on every distribution: on
    each behaviour serving an API path for a viewer handler (within viewer quotas), on any otherwise."""
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
    routes: dict[str, dict[str, str]] = {}
    for distribution_id in dict.fromkeys(config.distributions):
        distribution = cloudfront.distributions[distribution_id]
        if isinstance(distribution, AwsError):
            errors.append(str(distribution))
            continue
        if distribution is None:
            problems.append(f"distribution {distribution_id} not found")
            continue
        if viewer:
            routes[distribution_id] = {
                path: serving_behaviour(distribution, path)[0] for path in config.health_check_paths
            }
            chosen = set(routes[distribution_id].values())
        else:
            chosen = {label for label, _ in behaviours(distribution)}
        found = [a for a in _associations(distribution, chosen) if a["event_type"] == event_type]
        associations[distribution_id] = found
        ours = [(a["behaviour"], *_function_version(a["function_arn"])) for a in found]
        ours = [(label, version) for label, function, version in ours if function == name]
        if viewer:
            problems.extend(
                f"distribution {distribution_id} has no {event_type} association with {name} on "
                f"behaviour {label}, which serves {', '.join(_paths_of(routes[distribution_id], label))}"
                for label in sorted(chosen)
                if label not in {covered for covered, _ in ours}
            )
        elif not ours:
            problems.append(
                f"distribution {distribution_id} has no {event_type} association with {name} on any behaviour"
            )
        problems.extend(
            f"distribution {distribution_id} uses {name} version {version}, which is not published"
            for version in dict.fromkeys(version for _, version in ours)
            if version not in releases
        )
    facts: dict[str, Any] = {"function": name, "published_versions": releases, "associations": associations}
    if viewer:
        facts["api_behaviours"] = routes
        in_use = versions_in_use(name, versions, cloudfront, config.distributions)
        facts["versions_checked_for_quotas"] = [_quota_facts(version) for version in in_use]
        problems.extend(problem for version in in_use for problem in _quota_problems(name, version))
    if errors:
        return errored(item_id, "; ".join(errors), **facts)
    if problems:
        return failing(item_id, "; ".join(problems), **facts)
    scope = "every behaviour serving the API" if viewer else "a behaviour"
    return verified(
        item_id,
        f"{name} is published and associated with {event_type} on {scope} of all "
        f"{len(associations)} distributions",
        **facts,
    )


def _paths_of(routes: dict[str, str], label: str) -> list[str]:
    return [path for path, serving in routes.items() if serving == label]


def _associations(
    distribution: dict[str, Any] | AwsError | None, labels: set[str] | None = None
) -> list[dict[str, str]]:
    """The Lambda@Edge associations of the behaviours named `labels` (all behaviours when None)."""
    if not isinstance(distribution, dict):
        return []
    return [
        {"behaviour": label, "event_type": item["EventType"], "function_arn": item["LambdaFunctionARN"]}
        for label, behaviour in behaviours(distribution)
        if labels is None or label in labels
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
