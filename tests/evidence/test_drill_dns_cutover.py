"""Drill dns-cutover on the demo estate served by moto's HTTP server (TestDNSAnswer from the demo's layer)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from typer.testing import CliRunner

from mission_control.cli import app
from mission_control.demo.estate import demo_config_toml
from mission_control.evidence.drills.record import DrillRecorder, Outcome
from mission_control.evidence.drills.registry import DRILLS, load_all
from mission_control.verification.aws import AwsClients
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.iam import drills_policy
from tests.conftest import DemoEstate
from tests.evidence.iam_calls import Call, allows, recording_session, refused

PRIMARY_ANSWER = ["use1.api.spaceduck.example"]
SECONDARY_ANSWER = ["apse1.api.spaceduck.example"]


def route53() -> Any:
    return boto3.client("route53", region_name="us-east-1")


def health_check_id(endpoint_prefix: str) -> str:
    checks = route53().list_health_checks()["HealthChecks"]
    return next(
        c["Id"]
        for c in checks
        if c["HealthCheckConfig"]["FullyQualifiedDomainName"].startswith(endpoint_prefix)
    )


def inverted(check_id: str) -> bool:
    return route53().get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]["Inverted"]


def api_answer() -> list[str]:
    client = route53()
    zone_id = client.list_hosted_zones_by_name(DNSName="spaceduck.example.")["HostedZones"][0]["Id"]
    return client.test_dns_answer(
        HostedZoneId=zone_id, RecordName="api.spaceduck.example", RecordType="CNAME"
    )["RecordData"]


def run_cli(config: EnvironmentConfig, tmp_path: Path, *options: str) -> tuple[int, str, str]:
    path = tmp_path / "mission-control.toml"
    path.write_text(demo_config_toml(config), encoding="utf-8")
    result = CliRunner().invoke(app, ["drill", "dns-cutover", "--config", str(path), *options])
    return result.exit_code, result.stdout, result.stderr


def run_body(config: EnvironmentConfig, session: boto3.Session) -> Any:
    load_all()
    recorder = DrillRecorder("dns-cutover", config.name, "dns.failover-runbook")
    return recorder.run(lambda recording: DRILLS["dns-cutover"].body(recording, config, AwsClients(session)))


def test_the_game_day_shifts_traffic_to_the_secondary_and_back(demo_aws: DemoEstate, tmp_path: Path) -> None:
    exit_code, stdout, _ = run_cli(demo_aws.config, tmp_path, "--allow-writes", "--format", "json")
    record = json.loads(stdout)
    assert (exit_code, record["outcome"]) == (0, "passed")
    check_id = health_check_id("use1.")
    assert [step["name"] for step in record["steps"]] == [
        "find the primary region's health check",
        "check Route53's answer before the cutover",
        f"invert the us-east-1 health check {check_id}",
        "wait for the answer to shift to ap-southeast-1",
        f"restore health check {check_id}",
        "verify the restoration",
        "compare with rto_seconds",  # the demo estate sets its recovery targets
        f"clean up: restore health check {check_id} (Inverted=False)",
    ]
    measured = record["measurements"]
    assert 0 <= measured["time_to_shift_seconds"] < 5
    assert measured["rto_seconds"] == pytest.approx(measured["time_to_shift_seconds"] + 60, abs=0.11)
    assert 0 <= measured["time_to_restore_seconds"] < 5
    assert not inverted(check_id)
    assert api_answer() == PRIMARY_ANSWER


def test_without_allow_writes_the_drill_refuses_and_inverts_nothing(
    demo_aws: DemoEstate, tmp_path: Path
) -> None:
    exit_code, stdout, stderr = run_cli(demo_aws.config, tmp_path)
    assert exit_code == 2
    assert "drill dns-cutover writes to AWS" in stderr
    assert "--allow-writes" in stderr
    assert stdout == ""
    assert not inverted(health_check_id("use1."))


def test_an_interrupted_game_day_still_restores_the_health_check(demo_aws: DemoEstate) -> None:
    check_id = health_check_id("use1.")
    session = boto3.Session()
    answers: list[str] = []

    def operator_presses_ctrl_c_while_polling(**_: Any) -> None:
        answers.append("asked")
        if len(answers) == 2:  # the first answer is the one before the cutover
            assert inverted(check_id), "interrupted halfway: after the inversion"
            raise KeyboardInterrupt

    session.events.register("before-call.route53.TestDNSAnswer", operator_presses_ctrl_c_while_polling)
    record = run_body(demo_aws.config, session)
    assert record.outcome is Outcome.ABORTED
    waiting, cleanup = record.steps[-2:]
    assert (waiting.name, waiting.ok, waiting.detail) == (
        "wait for the answer to shift to ap-southeast-1",
        False,
        "interrupted",
    )
    assert (cleanup.name, cleanup.ok) == (f"clean up: restore health check {check_id} (Inverted=False)", True)
    assert not inverted(check_id)
    assert api_answer() == PRIMARY_ANSWER


def test_a_shift_that_never_comes_fails_at_the_deadline_and_restores(demo_aws: DemoEstate) -> None:
    check_id = health_check_id("use1.")
    session = boto3.Session()

    def route53_still_answers_the_primary(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        answer = {"RecordData": PRIMARY_ANSWER, "ResponseCode": "NOERROR", "ResponseMetadata": {}}
        return AWSResponse("https://route53.amazonaws.com/", 200, {}, None), answer

    session.events.register("before-call.route53.TestDNSAnswer", route53_still_answers_the_primary)
    record = run_body(dataclasses.replace(demo_aws.config, dns_cutover_timeout_seconds=1), session)
    assert record.outcome is Outcome.FAILED
    waiting = next(step for step in record.steps if step.name.startswith("wait for"))
    assert waiting.detail == (
        "waited 1 s (dns_cutover_timeout_seconds) for api.spaceduck.example to shift to ap-southeast-1: "
        "Route53 still answers use1.api.spaceduck.example"
    )
    assert record.steps[-1].ok is True
    assert not inverted(check_id)


def test_a_measured_rto_over_the_target_fails_the_drill_after_restoring(demo_aws: DemoEstate) -> None:
    record = run_body(dataclasses.replace(demo_aws.config, rto_seconds=30), boto3.Session())
    assert record.outcome is Outcome.FAILED
    compare = record.steps[-2]
    assert compare.name == "compare with rto_seconds"
    assert compare.detail.startswith("measured RTO 6")
    assert compare.detail.endswith("+ TTL 60 s) is over rto_seconds = 30")
    assert not inverted(health_check_id("use1."))


def test_an_already_inverted_primary_is_refused_and_left_as_found(demo_aws: DemoEstate) -> None:
    check_id = health_check_id("use1.")
    route53().update_health_check(HealthCheckId=check_id, Inverted=True)
    try:
        record = run_body(demo_aws.config, boto3.Session())
        assert record.outcome is Outcome.FAILED
        assert [step.name for step in record.steps] == ["find the primary region's health check"]
        assert record.steps[0].detail.startswith(f"the us-east-1 health check {check_id} is already inverted")
        assert inverted(check_id), "someone else's failover is not undone"
    finally:
        route53().update_health_check(HealthCheckId=check_id, Inverted=False)


def test_an_inverted_secondary_stops_the_drill_before_any_write(demo_aws: DemoEstate) -> None:
    secondary_id = health_check_id("apse1.")
    route53().update_health_check(HealthCheckId=secondary_id, Inverted=True)
    try:
        record = run_body(demo_aws.config, boto3.Session())
        assert record.outcome is Outcome.FAILED
        assert record.steps[0].detail == (
            f"the ap-southeast-1 health check {secondary_id} is inverted: restore it first"
        )
        assert len(record.steps) == 1
        assert not inverted(health_check_id("use1."))
    finally:
        route53().update_health_check(HealthCheckId=secondary_id, Inverted=False)


def test_without_an_api_domain_the_drill_says_what_to_configure(demo_aws: DemoEstate) -> None:
    record = run_body(dataclasses.replace(demo_aws.config, api_domain=None), boto3.Session())
    assert record.outcome is Outcome.FAILED
    assert record.steps[0].detail == "not configured: set api_domain in [environments.production]"


def test_the_drill_declares_exactly_the_route53_actions_it_calls() -> None:
    load_all()
    chosen = DRILLS["dns-cutover"]
    assert chosen.writes is True
    assert chosen.item_id == "dns.failover-runbook"
    assert set(chosen.actions) == {
        "route53:ListHostedZonesByName",
        "route53:ListResourceRecordSets",
        "route53:ListHealthChecks",
        "route53:GetHealthCheckStatus",
        "route53:TestDNSAnswer",
        "route53:UpdateHealthCheck",
        "route53:GetHealthCheck",
    }


def check_arn(check_id: str) -> str:
    return f"arn:aws:route53:::healthcheck/{check_id}"


@pytest.mark.parametrize("scoped_to", ["any environment", "this environment"])
def test_the_drills_policy_allows_every_call_the_game_day_makes_and_no_other_health_check_change(
    demo_aws: DemoEstate, scoped_to: str
) -> None:
    calls: list[Call] = []

    record = run_body(demo_aws.config, recording_session(calls))
    policy = drills_policy(demo_aws.config if scoped_to == "this environment" else None)

    assert record.outcome is Outcome.PASSED
    assert list(refused(policy, calls)) == []
    primary, secondary = health_check_id("use1."), health_check_id("apse1.")
    assert allows(policy, "route53:UpdateHealthCheck", check_arn(primary))
    assert allows(policy, "route53:UpdateHealthCheck", check_arn(secondary)) is (
        scoped_to == "any environment"
    )
    granting = [s for s in policy["Statement"] if "route53:UpdateHealthCheck" in s["Action"]]
    assert [s["Action"] for s in granting] == [["route53:UpdateHealthCheck"]]


def test_the_policy_for_an_environment_names_its_primary_check_read_from_route53(
    demo_aws: DemoEstate, tmp_path: Path
) -> None:
    path = tmp_path / "mission-control.toml"
    path.write_text(demo_config_toml(demo_aws.config), encoding="utf-8")

    printed = CliRunner().invoke(app, ["drill", "policy", "--config", str(path)])

    assert printed.exit_code == 0, printed.output
    [granting] = [
        s for s in json.loads(printed.stdout)["Statement"] if "route53:UpdateHealthCheck" in s["Action"]
    ]
    assert granting["Resource"] == check_arn(health_check_id("use1."))
    without_dns = dataclasses.replace(demo_aws.config, api_domain=None)
    assert not any(
        "route53:UpdateHealthCheck" in s["Action"] for s in drills_policy(without_dns)["Statement"]
    )
    path.write_text(
        demo_config_toml(dataclasses.replace(demo_aws.config, hosted_zone="no-such-zone.example")),
        encoding="utf-8",
    )
    unreadable = CliRunner().invoke(app, ["drill", "policy", "--config", str(path)])
    assert unreadable.exit_code == 1
    assert "cannot name the health check drill dns-cutover inverts: hosted zone" in unreadable.stderr
    assert unreadable.stdout == ""
