"""`drill restore` on moto's HTTP server: restores, checks, times and always deletes its scratch tables."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from mission_control.cli import app
from mission_control.demo.estate import (
    PLATFORM_TABLES,
    REPLICATED_TABLES,
    TABLES_WITHOUT_PITR,
    demo_config_toml,
)
from mission_control.evidence.drills.record import DrillRecord, DrillRecorder, Outcome
from mission_control.evidence.drills.restore import SCRATCH_PREFIX, restore_drill
from mission_control.verification.aws import AwsClients
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.iam import drills_policy
from tests.conftest import DemoEstate
from tests.evidence.iam_calls import ACCOUNT, Call, allows, recording_session, refused

RESTORABLE = tuple(table for table in PLATFORM_TABLES if table not in TABLES_WITHOUT_PITR)
KEYS = {
    "spaceduck-main": ("pk", "sk"),
    "spaceduck-birth-certs": ("duck_id",),
    "audit-log": ("stream_id", "event_time"),
    "spaceduck-ledger": ("account_id", "entry_id"),
    "spaceduck-sessions": ("session_id",),
}


def demo_client(estate: DemoEstate, service: str, region: str) -> Any:
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=estate.server.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def item(table: str, number: int) -> dict[str, Any]:
    attributes = {name: {"S": f"{name}-{number}"} for name in KEYS[table]}
    return {**attributes, "hatched": {"N": str(2000 + number)}}


@pytest.fixture(scope="module")
def ready_estate(demo_estate: DemoEstate) -> DemoEstate:
    """The demo estate with data, and PITR on each replica too (PITR is per replica in AWS)."""
    secondary = demo_estate.config.secondary_region
    for table in PLATFORM_TABLES:
        regions = [demo_estate.config.primary_region] + ([secondary] if table in REPLICATED_TABLES else [])
        for region in regions:  # moto does not replicate items: write what replication would
            dynamodb = demo_client(demo_estate, "dynamodb", region)
            for number in range(7):
                dynamodb.put_item(TableName=table, Item=item(table, number))
            if region == secondary:
                dynamodb.update_continuous_backups(
                    TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
                )
    return demo_estate


@pytest.fixture
def estate(ready_estate: DemoEstate, demo_aws: DemoEstate) -> Iterator[DemoEstate]:
    yield ready_estate
    assert scratch_tables(ready_estate) == []


def scratch_tables(estate: DemoEstate) -> list[str]:
    return [
        name
        for region in estate.config.regions
        for name in demo_client(estate, "dynamodb", region).list_tables()["TableNames"]
        if name.startswith(SCRATCH_PREFIX)
    ]


def config_for(estate: DemoEstate, **changes: Any) -> EnvironmentConfig:
    targets = {"platform_tables": RESTORABLE, "rto_seconds": 600, "rpo_seconds": 300}
    return dataclasses.replace(estate.config, **(targets | changes))


def run(config: EnvironmentConfig, session: boto3.Session | None = None) -> DrillRecord:
    recorder = DrillRecorder("restore", config.name, "dynamodb.restore-drill")
    clients = AwsClients(session)
    return recorder.run(lambda recording: restore_drill(recording, config, clients))


def hooked_session(event: str, hook: Callable[..., None]) -> boto3.Session:
    session = boto3.Session()
    session.events.register(event, hook)
    return session


def interrupt_on_call(number: int) -> Callable[..., None]:
    calls = [0]

    def hook(**_: Any) -> None:
        calls[0] += 1
        if calls[0] == number:
            raise KeyboardInterrupt

    return hook


def test_the_drill_restores_checks_times_and_deletes_each_table(estate: DemoEstate) -> None:
    record = run(config_for(estate))

    assert record.outcome is Outcome.PASSED, [s.to_dict() for s in record.steps]
    measured = record.measurements
    assert measured["restored_in"] == {
        table: "ap-southeast-1" if table in REPLICATED_TABLES else "us-east-1" for table in RESTORABLE
    }
    assert measured["item_counts"] == {table: {"source": 7, "restored": 7} for table in RESTORABLE}
    assert set(measured["restore_seconds"]) == set(RESTORABLE)
    assert measured["rto_seconds"] == max(measured["restore_seconds"].values())
    assert 0 <= measured["rpo_seconds"] <= 300
    assert (measured["rto_target_seconds"], measured["rpo_target_seconds"]) == (600, 300)
    names = [step.name for step in record.steps]
    assert "restore audit-log in us-east-1" in names
    assert "restore spaceduck-main in ap-southeast-1" in names
    assert sum(name.startswith("clean up: delete scratch table mc-drill-") for name in names) == 4
    assert all(step.ok for step in record.steps)


def test_a_table_without_pitr_fails_the_drill_before_anything_is_restored(estate: DemoEstate) -> None:
    record = run(config_for(estate, platform_tables=PLATFORM_TABLES))

    assert record.outcome is Outcome.FAILED
    assert [step.name for step in record.steps] == ["check the targets and every source table"]
    assert record.steps[0].detail == (
        "point-in-time recovery is off for spaceduck-sessions in us-east-1: it cannot be restored"
    )


def test_a_missing_table_is_named(estate: DemoEstate) -> None:
    record = run(config_for(estate, platform_tables=("spaceduck-main", "spaceduck-eggs")))

    assert record.outcome is Outcome.FAILED
    assert record.steps[0].detail == "spaceduck-eggs not found in us-east-1"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"platform_tables": ()}, "not configured: set platform_tables"),
        ({"rto_seconds": None}, "not configured: set rto_seconds"),
        ({"rpo_seconds": None}, "not configured: set rpo_seconds"),
    ],
)
def test_without_tables_or_targets_nothing_runs(estate: DemoEstate, changes: dict, message: str) -> None:
    record = run(config_for(estate, **changes))

    assert record.outcome is Outcome.FAILED
    assert [(step.ok, step.detail) for step in record.steps] == [(False, message)]


def test_a_restore_slower_or_older_than_the_targets_fails_and_still_cleans_up(estate: DemoEstate) -> None:
    record = run(config_for(estate, platform_tables=("audit-log",), rto_seconds=0, rpo_seconds=0))

    assert record.outcome is Outcome.FAILED
    compare = next(step for step in record.steps if step.name == "compare with the RTO and RPO targets")
    assert "rto " in compare.detail and "over the target of 0 s" in compare.detail
    assert "rpo " in compare.detail
    assert record.steps[-1].name.startswith("clean up: delete scratch table mc-drill-audit-log-")
    assert record.steps[-1].ok


def test_a_restore_that_differs_from_its_source_fails_the_check(estate: DemoEstate) -> None:
    """An item written to the source after the restore is a difference the check must report."""
    source = demo_client(estate, "dynamodb", "us-east-1")
    late_item = item("audit-log", 99)

    def write_late_item(**_: Any) -> None:
        source.put_item(TableName="audit-log", Item=late_item)

    session = hooked_session("before-call.dynamodb.TagResource", write_late_item)
    try:
        record = run(config_for(estate, platform_tables=("audit-log",)), session)
    finally:
        source.delete_item(TableName="audit-log", Key={k: late_item[k] for k in KEYS["audit-log"]})

    assert record.outcome is Outcome.FAILED
    check = next(step for step in record.steps if step.name.startswith("check mc-drill-audit-log-"))
    assert "holds 7 items, audit-log 8" in check.detail
    assert "or the source changed after the restore point" in check.detail


@pytest.mark.parametrize(
    "event",
    [
        "before-call.dynamodb.RestoreTableToPointInTime",  # halfway through requesting the restores
        "before-call.dynamodb.Scan",  # while checking the first restored table
    ],
)
def test_an_interrupted_drill_is_aborted_and_leaves_no_scratch_table(estate: DemoEstate, event: str) -> None:
    record = run(config_for(estate), hooked_session(event, interrupt_on_call(2)))

    assert record.outcome is Outcome.ABORTED
    assert any(step.detail == "interrupted" for step in record.steps)
    cleanups = [step for step in record.steps if step.name.startswith("clean up:")]
    assert cleanups and all(step.ok for step in cleanups)
    assert scratch_tables(estate) == []


@pytest.mark.parametrize("scoped_to", ["any environment", "this environment"])
def test_the_drills_policy_allows_every_call_the_drill_makes_and_writes_only_on_scratch_tables(
    estate: DemoEstate, scoped_to: str
) -> None:
    config = config_for(estate)
    calls: list[Call] = []

    record = run(config, recording_session(calls))
    policy = drills_policy(config if scoped_to == "this environment" else None)

    assert record.outcome is Outcome.PASSED
    assert {call.action for call in calls} >= {
        "dynamodb:RestoreTableToPointInTime", "dynamodb:DeleteTable", "dynamodb:TagResource",
    }  # fmt: skip
    assert list(refused(policy, calls)) == []
    production = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/spaceduck-main"
    for write in (
        "dynamodb:DeleteTable",
        "dynamodb:PutItem",
        "dynamodb:TagResource",
        "dynamodb:BatchWriteItem",
    ):
        assert not allows(policy, write, production)
        assert allows(policy, write, f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{SCRATCH_PREFIX}main-1a2b")


def test_for_one_environment_restores_are_allowed_only_from_its_tables_into_scratch_tables(
    estate: DemoEstate,
) -> None:
    config = config_for(estate)
    policy = drills_policy(config)
    restore = "dynamodb:RestoreTableToPointInTime"

    for region in config.regions:
        for table in (*RESTORABLE, f"{SCRATCH_PREFIX}main-1a2b"):
            assert allows(policy, restore, f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{table}")
    assert not allows(policy, restore, f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/payroll")
    assert not allows(policy, restore, f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/{RESTORABLE[0]}")
    without_tables = drills_policy(config_for(estate, platform_tables=()))
    assert not any(restore in statement["Action"] for statement in without_tables["Statement"])
    assert allows(drills_policy(), restore, f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/payroll")


@pytest.fixture
def config_file(estate: DemoEstate, tmp_path: Path) -> Path:
    path = tmp_path / "mission-control.toml"
    path.write_text(demo_config_toml(config_for(estate)), encoding="utf-8")
    return path


def test_the_cli_refuses_to_run_without_allow_writes(config_file: Path) -> None:
    result = CliRunner().invoke(app, ["drill", "restore", "--config", str(config_file)])

    assert result.exit_code == 2
    assert "--allow-writes" in result.stderr
    assert "iam-policy --drills" in result.stderr


def test_the_cli_prints_the_drill_record_as_json(config_file: Path) -> None:
    result = CliRunner().invoke(
        app, ["drill", "restore", "--config", str(config_file), "--allow-writes", "--format", "json"]
    )

    assert result.exit_code == 0, result.stdout
    record = json.loads(result.stdout)
    assert {"drill", "outcome", "started_at", "finished_at", "steps", "measurements"} <= set(record)
    assert (record["drill"], record["outcome"]) == ("restore", "passed")
    assert {"name", "started_at", "finished_at", "seconds", "ok", "detail"} == set(record["steps"][0])
    assert {"rto_seconds", "rpo_seconds", "restore_seconds", "item_counts"} <= set(record["measurements"])
