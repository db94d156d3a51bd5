"""The shipped IAM policy is exactly what the probes declare, and covers every call a run makes."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mission_control.catalog import load_default_catalog
from mission_control.demo.estate import seed_demo_estate
from mission_control.demo.server import start_moto_server
from mission_control.verification import registry
from mission_control.verification.aws import AwsClients
from mission_control.verification.iam import read_only_policy
from mission_control.verification.results import Status, verified
from mission_control.verification.runner import run_verification
from tests.verification.estates import (
    CONFIG,
    PRIMARY,
    SECONDARY,
    seed_ready_dns,
    stub_backup_plan,
    stub_exports,
    stub_table,
    table_arn,
)
from tests.verification.model_stub import ModelStub

READ_ONLY = re.compile(r"^[a-z0-9-]+:(List|Get|Describe)[A-Za-z0-9]+$")
FULL_CONFIG = replace(
    CONFIG,
    distributions=("E3HQHA5N284LTS",),
    edge_auth_function="beak-edge-auth",
    edge_redirect_function="beak-edge-redirects",
    edge_role="beak-edge-execution",
    cognito_primary_pool="us-east-1_AbCdEfGhI",
    cognito_backup_pool="ap-southeast-1_AbCdEfGhI",
)
PROBED_HERE = (
    "dns.latency-routing",
    "dns.health-checks",
    "dns.failover-ttl",
    "dynamodb.global-main",
    "dynamodb.global-platform",
    "dynamodb.pitr-backup-copy",
)


def policy_actions() -> list[str]:
    return read_only_policy()["Statement"][0]["Action"]


def iam_action(model: Any) -> str:
    """botocore names an operation as IAM does; the service prefix is its signing name (route53, cognito-idp)."""
    return f"{model.service_model.signing_name}:{model.name}"


def test_policy_is_one_allow_statement_of_sorted_unique_actions() -> None:
    policy = read_only_policy()
    assert policy["Version"] == "2012-10-17"
    [statement] = policy["Statement"]
    assert (statement["Effect"], statement["Resource"]) == ("Allow", "*")
    assert statement["Action"] == sorted(set(statement["Action"]))


def test_policy_is_the_union_of_what_registered_probes_declare() -> None:
    registry.load_all()
    declared = {action for probe in registry.PROBES.values() for action in probe.actions}
    assert set(policy_actions()) == declared
    assert {"route53:ListResourceRecordSets", "dynamodb:DescribeContinuousBackups"} <= declared


def test_a_newly_registered_probes_actions_join_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    registry.load_all()
    new = registry.Probe(
        "test.new", ("sqs:GetQueueAttributes",), (), (), lambda config: verified("test.new", ""), "fix it"
    )
    monkeypatch.setitem(registry.PROBES, "test.new", new)
    assert "sqs:GetQueueAttributes" in policy_actions()


def test_every_declared_action_is_read_only() -> None:
    assert [action for action in policy_actions() if not READ_ONLY.match(action)] == []


def test_every_operation_a_full_verification_performs_is_allowed_and_read_only() -> None:
    performed: set[str] = set()
    with mock_aws():
        session = boto3.Session(region_name=PRIMARY)
        session.events.register("before-parameter-build", lambda model, **_: performed.add(iam_action(model)))
        clients = AwsClients(session)
        seed_ready_dns(boto3.client("route53", region_name=PRIMARY))
        # moto lacks table replicas, backup selections and unfiltered ListExports: answer those services.
        dynamodb, backup, s3 = (
            ModelStub(clients.get(service, PRIMARY)) for service in ("dynamodb", "backup", "s3")
        )
        backup_dr = ModelStub(clients.get("backup", SECONDARY))
        for name in FULL_CONFIG.platform_tables:
            stub_table(dynamodb, name)
        # A plan copies two tables and an export the third, so both copy paths make their calls.
        stub_backup_plan(
            backup,
            destination=backup_dr,
            resources=[table_arn("spaceduck-main"), table_arn("spaceduck-birth-certs")],
        )
        stub_exports(dynamodb, s3, {"audit-log": "spaceduck-dr-exports"})
        report = run_verification(FULL_CONFIG, catalog=load_default_catalog(), clients=clients)
    assert sorted(performed - set(policy_actions())) == []
    assert sorted(action for action in performed if not READ_ONLY.match(action)) == []
    assert {"route53:ListHealthChecks", "backup:GetBackupSelection", "s3:GetBucketLocation"} <= performed
    # The stubbed estate is ready, so the DNS and DynamoDB items prove the run reached their verdicts.
    statuses = {result.item_id: result.status for result in report.results}
    assert {statuses[item] for item in PROBED_HERE} == {Status.VERIFIED}


def test_every_operation_against_the_demo_estate_is_allowed_and_read_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The demo's moto server keeps what in-process moto drops, so every probe reaches its deepest calls."""
    performed: set[str] = set()
    with start_moto_server() as server:
        config = seed_demo_estate(server.endpoint_url)
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint_url)
        session = boto3.Session()
        session.events.register("before-parameter-build", lambda model, **_: performed.add(iam_action(model)))
        report = run_verification(config, catalog=load_default_catalog(), clients=AwsClients(session))
    assert sorted(performed - set(policy_actions())) == []
    assert sorted(action for action in performed if not READ_ONLY.match(action)) == []
    assert report.summary["error"] == 0
