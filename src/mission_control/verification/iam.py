"""The least-privilege policy for verification, derived from what the probes declare (never listed here)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mission_control.verification import registry

if TYPE_CHECKING:
    from mission_control.verification.aws import AwsClients
    from mission_control.verification.config import EnvironmentConfig


def read_only_policy() -> dict[str, Any]:
    """An IAM policy allowing exactly the union of every registered probe's declared actions."""
    registry.load_all()
    actions = {action for probe in registry.PROBES.values() for action in probe.actions}
    return _policy("MissionControlVerifyReadOnly", actions)


def drills_policy(
    config: EnvironmentConfig | None = None, clients: AwsClients | None = None
) -> dict[str, Any]:
    """The separate policy drills run with: every registered drill's declared actions, those a drill
    scopes allowed only on its scope's resources. Without `config`, on the narrowest ARN patterns
    AWS's resource types allow; with it, on that environment's resources (a scope naming none grants
    nothing: that drill cannot run there), read from AWS with `clients` (default: the environment's)
    where only existing resources' ARNs will do (the health check the DNS cutover inverts)."""
    from mission_control.evidence.drills import registry as drills
    from mission_control.verification.aws import clients_for

    drills.load_all()
    scoped: dict[tuple[str, ...], set[str]] = {}
    for drill in drills.DRILLS.values():
        for scope in drill.scopes:
            resources = (
                scope.pattern if config is None else scope.resources(config, clients or clients_for(config))
            )
            if resources:
                scoped.setdefault(tuple(sorted(set(resources))), set()).update(scope.actions)
    confined = {
        action for drill in drills.DRILLS.values() for scope in drill.scopes for action in scope.actions
    }
    anywhere = {action for drill in drills.DRILLS.values() for action in drill.actions} - confined
    policy = _policy("MissionControlDrills", anywhere)
    for number, (resources, actions) in enumerate(sorted(scoped.items()), start=1):
        policy["Statement"].append(
            {
                "Sid": f"MissionControlDrillScope{number}",
                "Effect": "Allow",
                "Action": sorted(actions),
                "Resource": list(resources) if len(resources) > 1 else resources[0],
            }
        )
    return policy


def integrations_policy() -> dict[str, Any]:
    """The policy of the integrations: Security Hub export (writes) and the FIS and Region switch imports."""
    from mission_control.evidence import fis, region_switch
    from mission_control.findings import securityhub

    return _policy("MissionControlIntegrations", {*securityhub.ACTIONS, *fis.ACTIONS, *region_switch.ACTIONS})


def discovery_policy() -> dict[str, Any]:
    """The management-account policy `env discover` needs: the Organizations reads it declares."""
    from mission_control.verification.discovery import DISCOVERY_ACTIONS

    return _policy("MissionControlDiscovery", set(DISCOVERY_ACTIONS))


def _policy(sid: str, actions: set[str]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": "*"}],
    }


def trust_policy(principal: str, external_id: str | None = None) -> dict[str, Any]:
    """The member-account role's trust policy: only `principal` may assume it (with `external_id`, if set)."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": "sts:AssumeRole",
    }
    if external_id:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return {"Version": "2012-10-17", "Statement": [statement]}


def cloudformation_template(principal: str | None, external_id: str | None) -> dict[str, Any]:
    """A StackSet-ready template: the read-only role, trusting a parameterised principal in every account."""
    parameters: dict[str, Any] = {
        "RoleName": {"Type": "String", "Default": "MissionControlReadOnly"},
        "TrustedPrincipal": {"Type": "String", "Description": "ARN allowed to assume the role"},
        "ExternalId": {"Type": "String", "Default": external_id or "", "NoEcho": True},
    }
    if principal:
        parameters["TrustedPrincipal"]["Default"] = principal
    trust = trust_policy("PLACEHOLDER")
    trust["Statement"][0]["Principal"] = {"AWS": {"Ref": "TrustedPrincipal"}}
    trust["Statement"][0]["Condition"] = {
        "Fn::If": [
            "HasExternalId",
            {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}},
            {"Ref": "AWS::NoValue"},
        ]
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Mission Control's least-privilege read-only role (deploy to member accounts as a StackSet)",
        "Parameters": parameters,
        "Conditions": {"HasExternalId": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ExternalId"}, ""]}]}},
        "Resources": {
            "ReadOnlyRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": {"Ref": "RoleName"},
                    "AssumeRolePolicyDocument": trust,
                    "Policies": [
                        {"PolicyName": "MissionControlVerifyReadOnly", "PolicyDocument": read_only_policy()}
                    ],
                },
            }
        },
        "Outputs": {"RoleArn": {"Value": {"Fn::GetAtt": ["ReadOnlyRole", "Arn"]}}},
    }
