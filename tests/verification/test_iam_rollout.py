"""Rolling out the read-only role: its trust policy and a StackSet-ready CloudFormation template."""

from __future__ import annotations

import json

from cfnlint.api import lint_all
from typer.testing import CliRunner

from mission_control.cli import app
from mission_control.verification.iam import read_only_policy

runner = CliRunner()
PRINCIPAL = "arn:aws:iam::999999999999:role/mission-control"


def iam_policy(*args: str):
    return runner.invoke(app, ["iam-policy", *args])


def test_trust_policy_lets_only_the_principal_assume_the_role_with_the_external_id() -> None:
    result = iam_policy("--trust", "--principal", PRINCIPAL, "--external-id", "tenant-17-id")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"AWS": PRINCIPAL},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "tenant-17-id"}},
        }
    ]


def test_trust_policy_without_external_id_has_no_condition() -> None:
    statement = json.loads(iam_policy("--trust", "--principal", PRINCIPAL).stdout)["Statement"][0]
    assert "Condition" not in statement


def test_trust_without_principal_is_a_usage_error() -> None:
    result = iam_policy("--trust")
    assert result.exit_code == 2 and "--trust needs --principal ARN" in result.stderr


def test_cloudformation_template_passes_cfn_lint_and_carries_the_read_only_policy() -> None:
    result = iam_policy("--format", "cloudformation", "--principal", PRINCIPAL, "--external-id", "x-id")
    assert result.exit_code == 0, result.stderr
    template = json.loads(result.stdout)
    problems = [match for match in lint_all(result.stdout) if match.rule.id[0] in "EW"]
    assert problems == []
    role = template["Resources"]["ReadOnlyRole"]["Properties"]
    assert role["Policies"][0]["PolicyDocument"] == read_only_policy()
    assert template["Parameters"]["TrustedPrincipal"]["Default"] == PRINCIPAL


def test_cloudformation_template_without_principal_still_lints_as_a_stackset_parameter() -> None:
    result = iam_policy("--format", "cloudformation")
    assert [match for match in lint_all(result.stdout) if match.rule.id[0] in "EW"] == []
    assert "Default" not in json.loads(result.stdout)["Parameters"]["TrustedPrincipal"]


def test_unknown_format_is_a_usage_error() -> None:
    result = iam_policy("--format", "yaml")
    assert result.exit_code == 2 and "choose json or cloudformation" in result.stderr
