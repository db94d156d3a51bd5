"""What a drill calls, as IAM sees it (action and resource ARNs), and whether a policy allows it.

The calls are noted by a botocore hook on a real session, so the drill runs unchanged against moto.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import boto3

ACCOUNT = "123456789012"  # moto's


@dataclass(frozen=True)
class Call:
    action: str  # e.g. dynamodb:DeleteTable
    region: str
    params: dict[str, Any]

    @property
    def resources(self) -> tuple[str, ...]:
        """The ARNs IAM authorizes this call on (the Service Authorization Reference's resource types);
        none for a call with no resource (then only a statement on "*" allows it)."""
        service, params, region = self.action.split(":")[0], self.params, self.region
        if service == "dynamodb":
            tables = [
                params[key] for key in ("SourceTableName", "TargetTableName", "TableName") if key in params
            ]
            tables += list(params.get("RequestItems", {}))
            arns = [f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{table}" for table in tables]
            return (*arns, *([params["ResourceArn"]] if "ResourceArn" in params else []))
        if service == "cognito-idp" and "UserPoolId" in params:
            return (f"arn:aws:cognito-idp:{region}:{ACCOUNT}:userpool/{params['UserPoolId']}",)
        if service == "route53" and "HealthCheckId" in params:
            return (f"arn:aws:route53:::healthcheck/{params['HealthCheckId']}",)
        if service == "route53" and "HostedZoneId" in params:
            return (f"arn:aws:route53:::hostedzone/{params['HostedZoneId'].split('/')[-1]}",)
        return ()


def recording_session(calls: list[Call]) -> boto3.Session:
    """A session whose clients append every call they make to `calls`."""
    session = boto3.Session()

    def note(model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        calls.append(
            Call(f"{model.service_model.signing_name}:{model.name}", context["client_region"], params)
        )

    session.events.register("before-parameter-build", note)
    return session


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def allows(policy: dict[str, Any], action: str, resource: str) -> bool:
    """An Allow statement matches the action (case-insensitive) and the resource (IAM's * and ?)."""
    return any(
        statement["Effect"] == "Allow"
        and any(fnmatchcase(action.lower(), pattern.lower()) for pattern in _listed(statement["Action"]))
        and any(fnmatchcase(resource, pattern) for pattern in _listed(statement["Resource"]))
        for statement in policy["Statement"]
    )


def refused(policy: dict[str, Any], calls: list[Call]) -> Iterator[tuple[str, str]]:
    """Each (action, resource) of `calls` that `policy` does not allow."""
    for call in calls:
        for resource in call.resources or ("*",):
            if not allows(policy, call.action, resource):
                yield call.action, resource
