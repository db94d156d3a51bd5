"""`GET /api/v1/environments/{env}/scorecard`: the stable shape scorecard tools poll with a viewer token."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.evidence.drills.record import DrillRecord, Outcome
from mission_control.evidence.service import record_drill
from mission_control.verification.results import ProbeResult, Status, failing, verified
from mission_control.verification.runner import MANUAL_SUMMARY, VerificationReport
from mission_control.verification.service import finish_run, start_run
from tests.conftest import bearer, change_item, token_for

SCORECARD = "/api/v1/environments/production/scorecard"
SCORECARDS_DOC = (Path(__file__).resolve().parents[2] / "docs" / "scorecards.md").read_text(encoding="utf-8")
ITEM_KEYS = {"id", "category", "status", "checked", "verification", "evidence", "last_proof_at"}


def items(body: dict) -> dict[str, dict]:
    return {item["id"]: item for item in body["items"]}


def test_a_viewer_token_reads_the_documented_shape(client: TestClient, database: Database) -> None:
    response = client.get(SCORECARD, headers=bearer(token_for(database, "backstage", "viewer")))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "schema", "environment", "checklist", "generated_at", "completed", "total", "percent", "counts", "items",
    }  # fmt: skip
    assert body["schema"] == "mission-control/scorecard/v1"
    assert (body["completed"], body["total"], body["percent"]) == (0, 20, 0)
    assert body["counts"] == {"passed": 0, "failed": 0, "error": 0, "open": 20}
    assert all(set(item) == ITEM_KEYS for item in body["items"])
    assert items(body)["dns.failover-ttl"] == {
        "id": "dns.failover-ttl", "category": "dns", "status": "open", "checked": False,
        "verification": None, "evidence": None, "last_proof_at": None,
    }  # fmt: skip


def test_a_fresh_drill_is_the_last_proof_and_a_tick_is_no_proof(
    client: TestClient, database: Database, catalog: Catalog
) -> None:
    finished = datetime.now(UTC) - timedelta(days=1)
    record = DrillRecord(
        "fis",
        "production",
        "dynamodb.restore-drill",
        finished - timedelta(minutes=5),
        finished,
        Outcome.PASSED,
    )
    with database.transaction() as session:
        record_drill(session=session, environment_name="production", record=record, actor="test")
    change_item(database, catalog, "dns.failover-ttl", checked=True)
    body = client.get(SCORECARD, headers=bearer(token_for(database, "cortex", "viewer"))).json()
    drill = items(body)["dynamodb.restore-drill"]
    assert (drill["status"], drill["evidence"]) == ("passed", "complete")
    assert datetime.fromisoformat(drill["last_proof_at"]) == finished
    ticked = items(body)["dns.failover-ttl"]
    assert (ticked["status"], ticked["checked"], ticked["last_proof_at"]) == ("passed", True, None)
    assert body["counts"]["passed"] == 2 and body["completed"] == 2


def test_the_scorecard_needs_a_token_and_a_known_environment(client: TestClient, database: Database) -> None:
    assert client.get(SCORECARD).status_code == 401
    viewer = bearer(token_for(database, "opslevel", "viewer"))
    response = client.get("/api/v1/environments/nowhere/scorecard", headers=viewer)
    assert response.status_code == 404
    assert "nowhere" in response.json()["detail"]


def documented_example() -> dict:
    """The JSON response docs/scorecards.md shows (its first JSON block)."""
    block = re.search(r"```json\n(.*?)```", SCORECARDS_DOC, re.DOTALL)
    assert block
    return json.loads(block.group(1))


def shape(value: object) -> object:
    """A value's shape: dicts by key, lists by their first element, scalars by type (a time is a str)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def test_the_documented_example_is_what_the_api_answers_for_the_same_state(
    client: TestClient, database: Database
) -> None:
    with database.transaction() as session:
        run_id = start_run(session=session, environment_name="production", actor="ci")
        results = (
            verified("dns.latency-routing", "latency records in both regions"),
            failing("dns.failover-ttl", "TTL 300 exceeds 60"),
            ProbeResult("dynamodb.restore-drill", Status.MANUAL, MANUAL_SUMMARY),  # as every run records it
        )
        report = VerificationReport("production", "multi-region-readiness", datetime.now(UTC), results)
        finish_run(session=session, run_id=run_id, report=report)
        finished = datetime.now(UTC) - timedelta(days=10)
        drill = DrillRecord(
            "restore", "production", "dynamodb.restore-drill", finished - timedelta(minutes=9), finished,
            Outcome.PASSED,
        )  # fmt: skip
        record_drill(session=session, environment_name="production", record=drill, actor="ci")
    body = client.get(SCORECARD, headers=bearer(token_for(database, "backstage", "viewer"))).json()
    example = documented_example()
    assert shape({**example, "items": example["items"][:1]}) == shape({**body, "items": body["items"][:1]})
    for documented in example["items"]:
        answered = items(body)[documented["id"]]
        assert shape(answered) == shape(documented)
        assert {**answered, "last_proof_at": None} == {**documented, "last_proof_at": None}
    assert sum(example["counts"].values()) == example["total"]
    assert example["completed"] == example["counts"]["passed"]
    assert example["percent"] == example["completed"] * 100 // example["total"]


def test_the_fields_the_portal_examples_read_are_in_the_answer(
    client: TestClient, database: Database
) -> None:
    body = client.get(SCORECARD, headers=bearer(token_for(database, "cortex", "viewer"))).json()
    read_counts = set(re.findall(r"counts\.(\w+)", SCORECARDS_DOC))
    assert read_counts and read_counts <= set(body["counts"])
    read_fields = set(
        re.findall(r"(?<!\w)(?:card|data|custom\(\"mission-control\"\))\.(\w+)", SCORECARDS_DOC)
    )
    [condition] = re.findall(r"Success condition \(jq\): `([^`]*)`", SCORECARDS_DOC)
    read_fields |= set(re.findall(r"(?<!\w)\.(\w+)", condition))
    assert {"percent", "counts", "items"} <= read_fields <= set(body)
    read_item_fields = set(re.findall(r"(?:item\.|\.items\[\] \| select\(\.)(\w+)", SCORECARDS_DOC))
    assert read_item_fields and read_item_fields <= ITEM_KEYS
