"""A verification's changes notify once: the first run's failing items, then nothing while they stay."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from mission_control.catalog import load_default_catalog
from mission_control.cli import app
from mission_control.db.database import Database
from mission_control.demo.estate import EXPECTED_FAILING, demo_config_toml
from mission_control.notifications.signing import verify_signature
from mission_control.progress.service import update_item
from tests.conftest import DemoEstate
from tests.receivers import HttpReceiver

SECRET = "run-notifications-secret"


@pytest.fixture
def config_file(
    demo_aws: DemoEstate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: HttpReceiver
) -> Path:
    monkeypatch.setenv("MC_DATABASE_URL", f"sqlite:///{tmp_path / 'verify.db'}")
    monkeypatch.setenv("MC_PUBLIC_URL", "https://readiness.example.test")
    monkeypatch.setenv("TEAM_HOOK", receiver.url)
    monkeypatch.setenv("TEAM_HOOK_SECRET", SECRET)
    path = tmp_path / "mission-control.toml"
    path.write_text(
        demo_config_toml(demo_aws.config)
        + '\n[notifications.team]\nkind = "webhook"\nurl_env = "TEAM_HOOK"\nsecret_env = "TEAM_HOOK_SECRET"\n'
        'events = ["failing", "regressed", "recovered"]\n',
        encoding="utf-8",
    )
    return path


def test_verify_notifies_the_first_runs_failures_once_and_nothing_while_they_stay(
    config_file: Path, receiver: HttpReceiver
) -> None:
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(app, ["verify", "--config", str(config_file), "--format", "json"])
        assert result.exit_code == 1, result.stderr
    [delivery] = receiver.requests
    verify_signature(SECRET, delivery.headers["X-Mission-Control-Signature"], delivery.body, now=time.time())
    body = json.loads(delivery.body)
    assert {change["item_id"] for change in body["changes"]} == set(EXPECTED_FAILING)
    assert {change["event"] for change in body["changes"]} == {"failing"}
    assert body["changes"][0]["url"].startswith("https://readiness.example.test/?env=production#item-")


def set_secondary_ttl(ttl: int) -> None:
    """Change the demo's secondary latency record's TTL (300 as seeded: its defect)."""
    route53 = boto3.client("route53")
    [zone] = route53.list_hosted_zones()["HostedZones"]
    records = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    [record] = [r for r in records if r["Name"].startswith("api.") and r.get("Region") == "ap-southeast-1"]
    route53.change_resource_record_sets(
        HostedZoneId=zone["Id"],
        ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": record | {"TTL": ttl}}]},
    )


def test_a_fixed_item_is_recovered_and_a_ticked_one_breaking_again_is_regressed(
    config_file: Path, receiver: HttpReceiver
) -> None:
    def verify() -> None:
        result = CliRunner().invoke(app, ["verify", "--config", str(config_file), "--format", "json"])
        assert result.exit_code == 1, result.stderr  # the estate's other defects stay

    def changes() -> list[tuple[str, str, str | None, str]]:
        found = [json.loads(request.body)["changes"] for request in receiver.requests]
        receiver.requests.clear()
        return [(c["event"], c["item_id"], c["old_state"], c["new_state"]) for batch in found for c in batch]

    verify()
    changes()
    try:
        set_secondary_ttl(60)
        verify()
        assert changes() == [("recovered", "dns.failover-ttl", "failing", "verified")]
        database = Database(os.environ["MC_DATABASE_URL"])
        with database.transaction() as session:
            update_item(
                session=session, catalog=load_default_catalog(), environment_name="production",
                item_id="dns.failover-ttl", actor="ana", checked=True,
            )  # fmt: skip
        database.dispose()
    finally:
        set_secondary_ttl(300)
    verify()
    assert changes() == [("regressed", "dns.failover-ttl", "verified", "regressed")]
    verify()
    assert changes() == []
