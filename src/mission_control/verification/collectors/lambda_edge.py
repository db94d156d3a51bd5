"""Lambda@Edge: the configured edge functions' versions and their execution role, in us-east-1.

Edge functions must live in us-east-1 whatever the primary region. ListVersionsByFunction returns
$LATEST and every published version with its own memory, timeout, code size and role, so one
paginated call per function is all the probes need.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from mission_control.verification.aws import AwsClients, AwsError, call, paginate
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.registry import collector

EDGE_REGION = "us-east-1"
LATEST = "$LATEST"


@dataclass(frozen=True)
class LambdaEdgeSnapshot:
    """`functions` maps each configured name to its versions ($LATEST included), None when not found;
    `role` is GetRole's Role with AssumeRolePolicyDocument decoded, None when absent or not configured."""

    functions: dict[str, tuple[dict[str, Any], ...] | AwsError | None]
    role: dict[str, Any] | AwsError | None


def published(versions: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    """Published versions, oldest first: everything but $LATEST."""
    return sorted((v for v in versions if v["Version"] != LATEST), key=lambda v: int(v["Version"]))


@collector("lambda_edge")
def collect_lambda_edge(config: EnvironmentConfig, clients: AwsClients) -> LambdaEdgeSnapshot:
    names = [
        name for name in dict.fromkeys((config.edge_auth_function, config.edge_redirect_function)) if name
    ]
    if not names and not config.edge_role:
        return LambdaEdgeSnapshot({}, None)  # nothing to read: no client (building one costs ~10 ms of CPU)
    lambda_client = clients.get("lambda", EDGE_REGION)
    with ThreadPoolExecutor(max_workers=len(names) + 1, thread_name_prefix="lambda-edge") as pool:
        role = (
            pool.submit(_role, clients.get("iam", EDGE_REGION), config.edge_role)
            if config.edge_role
            else None
        )
        versions = list(pool.map(lambda name: _versions(lambda_client, name), names))
        return LambdaEdgeSnapshot(dict(zip(names, versions, strict=True)), role.result() if role else None)


def _versions(client: Any, name: str) -> tuple[dict[str, Any], ...] | AwsError | None:
    versions = paginate(
        client,
        "list_versions_by_function",
        "Versions",
        action="lambda:ListVersionsByFunction",
        resource=name,
        region=EDGE_REGION,
        FunctionName=name,
    )
    if isinstance(versions, AwsError):
        return None if versions.code == "ResourceNotFoundException" else versions
    # An existing function always lists $LATEST; moto answers an empty list for a missing one.
    return tuple(versions) or None


def _role(client: Any, name: str) -> dict[str, Any] | AwsError | None:
    response = call(
        client, "get_role", action="iam:GetRole", resource=f"role {name}", region=EDGE_REGION, RoleName=name
    )
    if isinstance(response, AwsError):
        return None if response.code == "NoSuchEntity" else response
    role = response["Role"]
    return {**role, "AssumeRolePolicyDocument": policy_document(role.get("AssumeRolePolicyDocument", {}))}


def policy_document(document: str | dict[str, Any]) -> dict[str, Any]:
    """IAM sends policy documents URL-encoded; boto3 decodes them into a dict, other clients may not."""
    return json.loads(unquote(document)) if isinstance(document, str) else document
