"""Region switch plan executions as drills: GetPlanExecution and GetPlan answered by ModelStub, or for the
command by ModelServer over HTTP (moto lacks the service), every answer checked against botocore's model
of arc-region-switch."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from mission_control.cli import app
from mission_control.db.database import Database
from mission_control.demo.server import start_moto_server
from mission_control.evidence.drills.record import Outcome
from mission_control.evidence.errors import EvidenceError
from mission_control.evidence.models import DrillRun
from mission_control.evidence.region_switch import import_execution, recovery_seconds
from mission_control.verification.aws import AwsClients
from tests.verification.aws_gateway import aws_gateway
from tests.verification.model_server import ModelServer, model_server
from tests.verification.model_stub import ModelStub

PLAN = "arn:aws:arc-region-switch::123456789012:plan/spaceduck-failover:a1b2c3"
STARTED = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
REGION = "us-east-1"


CHILD = "arn:aws:arc-region-switch::123456789012:plan/spaceduck-dns:d4e5f6"
CONFIGS: dict[str, dict[str, Any]] = {
    "Route53HealthCheck": {"route53HealthCheckConfig": {"hostedZoneId": "Z123", "recordName": "api.example"}},
    "CustomActionLambda": {
        "customActionLambdaConfig": {
            "lambdas": [{"arn": "arn:aws:lambda:us-east-1:123456789012:function:scale"}],
            "retryIntervalMinutes": 1.0,
            "regionToRun": "activatingRegion",
        }
    },
    "ARCRegionSwitchPlan": {"regionSwitchPlanConfig": {"arn": CHILD}},
}


def step(block: str, name: str = "shift traffic") -> dict[str, Any]:
    return {"name": name, "executionBlockConfiguration": CONFIGS[block], "executionBlockType": block}


def parallel(*steps: dict[str, Any]) -> dict[str, Any]:
    """A Parallel block: its steps run side by side, inside `parallelConfig`."""
    return {
        "name": "side by side",
        "executionBlockConfiguration": {"parallelConfig": {"steps": list(steps)}},
        "executionBlockType": "Parallel",
    }


def plan(arn: str, name: str, *workflows: dict[str, Any]) -> dict[str, Any]:
    return {
        "arn": arn,
        "name": name,
        "workflows": list(workflows),
        "executionRole": "arn:aws:iam::123456789012:role/region-switch",
        "regions": ["us-east-1", "ap-southeast-1"],
        "recoveryApproach": "activePassive",
        "owner": "123456789012",
    }


def workflow(*steps: dict[str, Any], action: str = "activate", region: str | None = None) -> dict[str, Any]:
    flow: dict[str, Any] = {"workflowTargetAction": action, "steps": list(steps)}
    if region:
        flow["workflowTargetRegion"] = region
    return flow


def execution(
    state: str = "completed",
    recovery: str | None = "PT12M30S",
    block: str = "Route53HealthCheck",
    workflows: tuple[dict[str, Any], ...] = (),
):
    """A GetPlanExecution answer of the real shape: by default a plan that fails over by a Route 53
    health check; `workflows` replace its workflows."""
    answer: dict[str, Any] = {
        "planArn": PLAN,
        "executionId": "exec-1",
        "startTime": STARTED,
        "endTime": STARTED + timedelta(minutes=14),
        "mode": "graceful",
        "executionState": state,
        "executionAction": "activate",
        "executionRegion": "ap-southeast-1",
        "stepStates": [
            {
                "name": "shift traffic",
                "status": "completed",
                "startTime": STARTED,
                "endTime": STARTED + timedelta(minutes=3),
                "stepMode": "graceful",
            }
        ],
        "plan": plan(PLAN, "spaceduck-failover", *(workflows or (workflow(step(block)),))),
    }
    if recovery:
        answer["actualRecoveryTime"] = recovery
    return answer


def clients_answering(
    answer: dict[str, Any] | None, error: str = "", child: dict[str, Any] | str | None = None
) -> AwsClients:
    """Clients whose Region switch answers GetPlanExecution with `answer` (or `error`), and GetPlan of
    the child plan with `child` (a plan, or an error code)."""
    clients = AwsClients(boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing"))
    stub = ModelStub(clients.get("arc-region-switch", REGION))
    params = {"planArn": PLAN, "executionId": "exec-1"}
    if error:
        stub.add_error("GetPlanExecution", params, error)
    else:
        stub.add("GetPlanExecution", params, answer)
    if isinstance(child, str):
        stub.add_error("GetPlan", {"arn": CHILD}, child)
    elif child is not None:
        stub.add("GetPlan", {"arn": CHILD}, {"plan": child})
    return clients


def run(clients: AwsClients, *, item: str = "dns.failover-runbook", rto: int | None = 900):
    return import_execution(
        "exec-1", plan_arn=PLAN, item_id=item, environment="production", region=REGION, rto_seconds=rto,
        clients=clients,
    )  # fmt: skip


def test_a_completed_execution_within_the_rto_is_a_passed_drill_with_its_recovery_time() -> None:
    record = run(clients_answering(execution()))
    assert record.outcome is Outcome.PASSED
    assert record.measurements["rto_seconds"] == 750
    assert record.measurements["duration_seconds"] == 840
    assert [(step.name, step.ok) for step in record.steps] == [
        ("shift traffic", True),
        ("recovery within RTO", True),
    ]
    assert record.steps[-1].detail == "recovered in 750 s, within the RTO of 900 s"


def test_a_recovery_slower_than_the_rto_fails_the_drill() -> None:
    record = run(clients_answering(execution(recovery="PT20M")))
    assert record.outcome is Outcome.FAILED
    assert record.steps[-1].detail == "recovered in 1200 s, over the RTO of 900 s"


def test_an_unmeasured_recovery_cannot_prove_the_rto() -> None:
    record = run(clients_answering(execution(recovery=None)))
    assert record.outcome is Outcome.FAILED
    assert record.steps[-1].detail == "Region switch reported no actual recovery time"


def test_without_an_rto_target_the_outcome_is_the_execution_state() -> None:
    assert run(clients_answering(execution(recovery=None)), rto=None).outcome is Outcome.PASSED
    assert run(clients_answering(execution("completedWithExceptions")), rto=None).outcome is Outcome.FAILED


def test_an_execution_still_running_is_refused() -> None:
    with pytest.raises(EvidenceError, match="execution exec-1 is inProgress, not finished"):
        run(clients_answering(execution("inProgress")))


def test_a_plan_that_does_not_shift_traffic_cannot_prove_the_failover() -> None:
    with pytest.raises(
        EvidenceError,
        match="runs CustomActionLambda to activate ap-southeast-1, which does not shift traffic",
    ):
        run(clients_answering(execution(block="CustomActionLambda")))


def test_a_health_check_step_inside_a_parallel_block_shifts_traffic() -> None:
    nested = workflow(parallel(step("CustomActionLambda", "scale"), parallel(step("Route53HealthCheck"))))
    assert run(clients_answering(execution(workflows=(nested,)))).outcome is Outcome.PASSED


def test_a_child_plan_that_shifts_traffic_proves_the_failover_of_its_parent() -> None:
    child = plan(CHILD, "spaceduck-dns", workflow(step("Route53HealthCheck")))
    parent = execution(
        workflows=(workflow(step("CustomActionLambda", "scale"), step("ARCRegionSwitchPlan", "dns")),)
    )
    assert run(clients_answering(parent, child=child)).outcome is Outcome.PASSED


def test_a_child_plan_that_only_scales_cannot_prove_the_failover() -> None:
    child = plan(CHILD, "spaceduck-dns", workflow(step("CustomActionLambda", "scale")))
    parent = execution(workflows=(workflow(step("ARCRegionSwitchPlan", "dns")),))
    with pytest.raises(EvidenceError, match="runs ARCRegionSwitchPlan, CustomActionLambda to activate"):
        run(clients_answering(parent, child=child))


def test_an_unreadable_child_plan_names_the_call_and_the_plan() -> None:
    parent = execution(workflows=(workflow(step("ARCRegionSwitchPlan", "dns")),))
    with pytest.raises(
        EvidenceError, match=f"AccessDeniedException on arc-region-switch:GetPlan for child plan {CHILD}"
    ):
        run(clients_answering(parent, child="AccessDeniedException"))


def test_a_child_plan_is_not_read_when_the_parent_shifts_traffic_itself() -> None:
    parent = execution(workflows=(workflow(step("Route53HealthCheck"), step("ARCRegionSwitchPlan", "dns")),))
    assert run(clients_answering(parent, child="AccessDeniedException")).outcome is Outcome.PASSED


def test_only_the_workflow_the_execution_ran_counts() -> None:
    other_action = workflow(step("Route53HealthCheck"), action="deactivate")
    other_region = workflow(step("Route53HealthCheck"), region="us-east-1")
    scaling = workflow(step("CustomActionLambda", "scale"), region="ap-southeast-1")
    answer = execution(workflows=(other_action, other_region, scaling))
    with pytest.raises(EvidenceError, match="runs CustomActionLambda to activate ap-southeast-1"):
        run(clients_answering(answer))


def test_an_unknown_execution_names_the_call() -> None:
    with pytest.raises(
        EvidenceError,
        match="ResourceNotFoundException on arc-region-switch:GetPlanExecution for execution exec-1",
    ):
        run(clients_answering(None, error="ResourceNotFoundException"))


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [
        ("PT12M30S", 750),
        ("PT1H", 3600),
        ("P1DT2S", 86402),
        ("PT0.5S", 0.5),
        ("PT", None),
        ("", None),
        (None, None),
        ("12 minutes", None),
    ],
)
def test_recovery_seconds_reads_iso_8601_durations(duration: str | None, seconds: float | None) -> None:
    assert recovery_seconds(duration) == seconds


def test_the_command_refuses_an_item_no_execution_can_prove_and_records_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MC_DATABASE_URL", f"sqlite:///{tmp_path / 'switch.db'}")
    monkeypatch.chdir(tmp_path)
    Path("mission-control.toml").write_text(
        '[environments.production]\nprimary_region = "us-east-1"\nsecondary_region = "ap-southeast-1"\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "evidence",
            "import-region-switch",
            "exec-1",
            "--plan-arn",
            PLAN,
            "--item",
            "cognito.auth-flow-test",
        ],
    )
    assert result.exit_code == 2
    assert "no Region switch execution can prove cognito.auth-flow-test" in result.stderr
    assert "nothing was recorded" in result.stderr
    exported = runner.invoke(app, ["report", "--format", "json"])
    assert exported.exit_code == 0, exported.output
    assert '"drills": []' in exported.stdout


@pytest.fixture
def switch_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModelServer]:
    """`mission-control` in a workspace whose Region switch endpoint is a ModelServer on 127.0.0.1."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("MC_DATABASE_URL", f"sqlite:///{tmp_path / 'switch.db'}")
    monkeypatch.chdir(tmp_path)
    write_config()
    assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
    with model_server("arc-region-switch") as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_ARC_REGION_SWITCH", server.endpoint_url)
        yield server


def write_config(extra: str = "") -> None:
    Path("mission-control.toml").write_text(
        '[environments.production]\nprimary_region = "us-east-1"\nsecondary_region = "ap-southeast-1"\n'
        f"rto_seconds = 900\n{extra}",
        encoding="utf-8",
    )


def import_switch(execution_id: str = "exec-1", item: str = "dns.failover-runbook"):
    return CliRunner().invoke(
        app, ["evidence", "import-region-switch", execution_id, "--plan-arn", PLAN, "--item", item]
    )


def drill_runs() -> list[DrillRun]:
    database = Database(f"sqlite:///{Path('switch.db').resolve()}")
    try:
        with database.read() as session:
            return list(session.scalars(select(DrillRun)))
    finally:
        database.dispose()


def test_the_command_records_a_completed_execution_as_a_drill_with_its_recovery_time(
    switch_cli: ModelServer,
) -> None:
    switch_cli.add("GetPlanExecution", {"planArn": PLAN, "executionId": "exec-1"}, execution())
    result = import_switch()
    assert result.exit_code == 0, result.output
    assert (
        "recorded Region switch execution exec-1 as a passed drill of dns.failover-runbook" in result.stdout
    )
    (drill,) = drill_runs()
    assert (drill.drill, drill.item_id, drill.outcome) == ("region-switch", "dns.failover-runbook", "passed")
    assert drill.record["measurements"]["rto_seconds"] == 750
    assert drill.record["steps"][-1]["detail"] == "recovered in 750 s, within the RTO of 900 s"
    assert switch_cli.unexpected == []


def test_the_command_refuses_an_unknown_execution_naming_the_call_and_records_nothing(
    switch_cli: ModelServer,
) -> None:
    switch_cli.add_error(
        "GetPlanExecution", {"planArn": PLAN, "executionId": "exec-404"}, "ResourceNotFoundException"
    )
    result = import_switch("exec-404")
    assert result.exit_code == 2
    assert (
        f"ResourceNotFoundException on arc-region-switch:GetPlanExecution for execution exec-404 of {PLAN} "
        "in us-east-1" in result.stderr
    )
    assert "nothing was recorded" in result.stderr
    assert drill_runs() == []


def test_the_command_reads_the_execution_in_the_account_of_the_environments_role(
    switch_cli: ModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config('role_arn = "arn:aws:iam::111111111111:role/mission-control"\n')
    switch_cli.add(
        "GetPlanExecution", {"planArn": PLAN, "executionId": "exec-1"}, execution(), account="111111111111"
    )
    with start_moto_server() as sts:  # the role is assumed through moto's STS, as through AWS's
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.endpoint_url)
        result = import_switch()
    assert result.exit_code == 0, result.output
    assert [(account, operation) for account, operation, _ in switch_cli.calls] == [
        ("111111111111", "GetPlanExecution")
    ]
    assert [drill.outcome for drill in drill_runs()] == ["passed"]


def test_a_refused_role_is_named_and_nothing_is_recorded(
    switch_cli: ModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    role = "arn:aws:iam::111111111111:role/mission-control"
    write_config(f'role_arn = "{role}"\n')
    with aws_gateway() as gateway:
        gateway.refused_roles.add(role)
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", gateway.endpoint_url)
        result = import_switch()
    assert result.exit_code == 2
    assert f"AccessDenied on sts:AssumeRole for {role} (environment production)" in result.stderr
    assert "nothing was recorded" in result.stderr
    assert switch_cli.calls == [] and drill_runs() == []
