"""The dashboard and API show each evidence-backed item's evidence and count it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from mission_control.db.database import Database
from mission_control.evidence.drills.record import DrillRecord, Outcome
from mission_control.evidence.service import record_drill
from tests.conftest import bearer, make_user, sign_in, token_for


def test_evidence_backed_items_say_what_they_need_then_count_when_complete(
    client: TestClient, database: Database
) -> None:
    make_user(database, "ana", "viewer", password="correct horse")
    sign_in(client, "ana")
    page = client.get("/").text
    assert (
        page.count("📎 Evidence needed") == 8
    )  # seven documents and drills, and edge.iam-role's attestation
    finished = datetime.now(UTC) - timedelta(minutes=5)
    record = DrillRecord(
        "auth-flow", "production", "cognito.auth-flow-test", finished, finished, Outcome.PASSED
    )
    with database.transaction() as session:
        record_drill(session=session, environment_name="production", record=record, actor="ci")
    page = client.get("/").text
    assert "📎 Evidence complete (valid 90 days): drill fresh" in page
    checklist = client.get(
        "/api/v1/environments/production/checklist", headers=bearer(token_for(database, "bot", "viewer"))
    ).json()
    assert checklist["completed"] == 1
    items = {item["id"]: item for category in checklist["categories"] for item in category["items"]}
    assert items["cognito.auth-flow-test"]["evidence"]["state"] == "complete"
    assert items["cognito.auth-flow-test"]["done"] is True
    assert items["dns.latency-routing"]["evidence"] is None
