"""`mission-control evidence import-fis` against moto's Fault Injection Service, into a real SQLite file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.moto_api import state_manager
from sqlalchemy import select
from typer.testing import CliRunner

from mission_control.cli import app
from mission_control.db.database import Database
from mission_control.evidence.models import DrillRun

runner = CliRunner()
ROUTE_TABLE = "aws:network:route-table-disrupt-cross-region-connectivity"
ALARM = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:api-5xx"


@pytest.fixture
def fis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("MC_DATABASE_URL", f"sqlite:///{tmp_path / 'fis.db'}")
    monkeypatch.chdir(tmp_path)
    Path("mission-control.toml").write_text(
        '[environments.production]\nprimary_region = "us-east-1"\nsecondary_region = "ap-southeast-1"\n',
        encoding="utf-8",
    )
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    state_manager.set_transition(model_name="fis::experiment", transition={"progression": "immediate"})
    with mock_aws():
        yield boto3.client("fis", region_name="us-east-1")
    state_manager.unset_transition(model_name="fis::experiment")


def experiment(fis, *action_ids: str) -> str:
    """Start an experiment of `action_ids` (a real template: targets, a stop condition on an alarm)."""
    template = fis.create_experiment_template(
        clientToken=f"template-{len(action_ids)}-{action_ids[0]}",
        description="cut ap-southeast-1 off",
        roleArn="arn:aws:iam::123456789012:role/fis",
        stopConditions=[{"source": "aws:cloudwatch:alarm", "value": ALARM}],
        targets={
            "subnets": {
                "resourceType": "aws:ec2:subnet",
                "resourceArns": ["arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0abc"],
                "selectionMode": "ALL",
            }
        },
        actions={
            f"step-{number}": {
                "actionId": action_id,
                "parameters": {"duration": "PT5M"},
                "targets": {"Subnets": "subnets"},
            }
            for number, action_id in enumerate(action_ids)
        },
    )
    started = fis.start_experiment(experimentTemplateId=template["experimentTemplate"]["id"])
    return started["experiment"]["id"]


def import_fis(experiment_id: str, item: str):
    return runner.invoke(app, ["evidence", "import-fis", experiment_id, "--item", item])


def drill_runs() -> list[DrillRun]:
    database = Database(f"sqlite:///{Path('fis.db').resolve()}")
    try:
        with database.read() as session:
            return list(session.scalars(select(DrillRun)))
    finally:
        database.dispose()


def test_a_completed_experiment_is_recorded_as_a_passed_drill_with_its_timeline(fis) -> None:
    experiment_id = experiment(fis, ROUTE_TABLE)
    result = import_fis(experiment_id, "dns.failover-runbook")
    assert result.exit_code == 0, result.output
    assert (
        f"recorded FIS experiment {experiment_id} as a passed drill of dns.failover-runbook" in result.stdout
    )
    (run,) = drill_runs()
    assert (run.drill, run.item_id, run.outcome) == ("fis", "dns.failover-runbook", "passed")
    assert [step["name"] for step in run.record["steps"]] == [f"step-0 ({ROUTE_TABLE})"]
    assert run.record["steps"][0]["ok"] is True
    measurements = run.record["measurements"]
    assert measurements["stop_conditions"] == [{"source": "aws:cloudwatch:alarm", "value": ALARM}]
    assert measurements["fis_experiment_id"] == experiment_id
    assert measurements["duration_seconds"] >= 0
    report = json.loads(runner.invoke(app, ["export", "--format", "json"]).stdout)
    item = next(i for c in report["categories"] for i in c["items"] if i["id"] == "dns.failover-runbook")
    assert {k["kind"]: k["state"] for k in item["evidence"]["kinds"]}["drill"] == "fresh"


def test_a_stopped_experiment_is_recorded_as_a_failed_drill(fis) -> None:
    state_manager.set_transition(
        model_name="fis::experiment", transition={"progression": "manual", "times": 99}
    )
    experiment_id = experiment(fis, "aws:ec2:stop-instances")
    fis.stop_experiment(id=experiment_id)  # an operator, or a stop condition's alarm, ends it early
    state_manager.set_transition(model_name="fis::experiment", transition={"progression": "immediate"})
    result = import_fis(experiment_id, "cloudfront.failover-test")
    assert result.exit_code == 1
    assert [run.outcome for run in drill_runs()] == ["failed"]


def test_a_running_experiment_is_refused_until_it_ends(fis) -> None:
    state_manager.set_transition(
        model_name="fis::experiment", transition={"progression": "manual", "times": 99}
    )
    experiment_id = experiment(fis, ROUTE_TABLE)
    result = import_fis(experiment_id, "dns.failover-runbook")
    assert result.exit_code == 2
    assert "is pending, not finished: import it once it has ended; nothing was recorded" in result.stderr
    assert drill_runs() == []


@pytest.mark.parametrize(
    ("actions", "item", "message"),
    [
        (
            ("aws:ec2:stop-instances",),
            "dns.failover-runbook",
            "runs aws:ec2:stop-instances, which cannot prove dns.failover-runbook: that needs one of "
            f"{ROUTE_TABLE}",
        ),
        ((ROUTE_TABLE,), "dynamodb.restore-drill", "no FIS experiment can prove dynamodb.restore-drill"),
        ((ROUTE_TABLE,), "dns.no-such-item", "no FIS experiment can prove dns.no-such-item"),
    ],
)
def test_an_item_the_experiment_cannot_prove_is_refused_and_nothing_recorded(
    fis, actions: tuple[str, ...], item: str, message: str
) -> None:
    result = import_fis(experiment(fis, *actions), item)
    assert result.exit_code == 2
    assert message in result.stderr and "nothing was recorded" in result.stderr
    assert drill_runs() == []


def test_an_unknown_experiment_names_the_call_and_records_nothing(fis) -> None:
    result = import_fis("EXPdoesnotexist", "dns.failover-runbook")
    assert result.exit_code == 2
    assert (
        "ResourceNotFoundException on fis:GetExperiment for experiment EXPdoesnotexist in us-east-1"
        in result.stderr
    )
    assert drill_runs() == []


def test_an_experiment_in_the_account_of_the_environments_role_is_read_with_that_role(fis) -> None:
    role = "arn:aws:iam::111111111111:role/mission-control"
    credentials = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=role, RoleSessionName="setup"
    )["Credentials"]
    member_fis = boto3.client(
        "fis",
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    experiment_id = experiment(member_fis, ROUTE_TABLE)
    with pytest.raises(fis.exceptions.ResourceNotFoundException):
        fis.get_experiment(id=experiment_id)  # not in the base credentials' account
    config = Path("mission-control.toml")
    config.write_text(config.read_text(encoding="utf-8") + f'role_arn = "{role}"\n', encoding="utf-8")
    result = import_fis(experiment_id, "dns.failover-runbook")
    assert result.exit_code == 0, result.output
    assert [(run.item_id, run.outcome) for run in drill_runs()] == [("dns.failover-runbook", "passed")]
