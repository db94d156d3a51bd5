"""The dashboard and the checklist API reuse reads, yet never show anything older than the database."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from mission_control.catalog import Catalog
from mission_control.db.base import utcnow
from mission_control.db.database import Database
from mission_control.evidence import service as evidence
from mission_control.evidence.drills.record import DrillRecord, Outcome
from mission_control.settings import Settings
from mission_control.web.app import create_app
from tests.conftest import bearer, change_item, token_for

CHECKLIST = "/api/v1/environments/production/checklist"
ITEM = "dns.latency-routing"


def item(body: dict, item_id: str) -> dict:
    return next(
        entry for category in body["categories"] for entry in category["items"] if entry["id"] == item_id
    )


def tick_from_another_process(database_url: str, catalog: Catalog) -> None:
    """Its own engine and connections, as the CLI or another replica would write."""
    other = Database(database_url)
    try:
        change_item(other, catalog, ITEM, actor="cli-user", checked=True, note="ticked from the CLI")
    finally:
        other.dispose()


def test_a_write_by_another_process_shows_on_the_next_read(
    client: TestClient, database: Database, database_url: str, catalog: Catalog
) -> None:
    headers = bearer(token_for(database, "viewer", "viewer"))
    assert item(client.get(CHECKLIST, headers=headers).json(), ITEM)["checked"] is False
    assert "ticked from the CLI" not in client.get("/", headers=headers).text  # both reads now cached

    tick_from_another_process(database_url, catalog)

    after = client.get(CHECKLIST, headers=headers).json()
    assert item(after, ITEM)["checked"] is True
    assert after["completed"] == 1
    page = client.get("/", headers=headers).text
    assert "ticked from the CLI" in page
    assert "Ticked by cli-user" in page


def test_evidence_expiring_shows_without_any_write(
    database: Database, database_url: str, catalog: Catalog
) -> None:
    """A passed drill ages out of its 90-day window while nobody writes: the cached view must notice."""
    edge_item = "edge.latency"
    valid_days = catalog.item(edge_item).evidence.valid_days
    finished = utcnow() - timedelta(days=1)
    record = DrillRecord(
        "edge-latency", "production", edge_item, finished - timedelta(minutes=1), finished, Outcome.PASSED
    )
    with database.transaction() as session:
        evidence.record_drill(session=session, environment_name="production", record=record, actor="ana")
    moment = [utcnow()]
    app = create_app(
        Settings(database_url=database_url), database=database, catalog=catalog, clock=lambda: moment[0]
    )
    headers = bearer(token_for(database, "viewer", "viewer"))
    with TestClient(app) as client:
        fresh = item(client.get(CHECKLIST, headers=headers).json(), edge_item)
        assert (fresh["evidence"]["state"], fresh["done"]) == ("complete", True)

        moment[0] = finished + timedelta(days=valid_days)
        stale = item(client.get(CHECKLIST, headers=headers).json(), edge_item)
        assert (stale["evidence"]["state"], stale["done"]) == ("stale", False)


def test_a_patch_answers_with_the_item_exactly_as_the_checklist_then_shows_it(
    client: TestClient, database: Database, catalog: Catalog
) -> None:
    """The answer reads only the patched item's proof and evidence; it must still be the whole item."""
    edge_item = "edge.latency"
    finished = utcnow() - timedelta(days=1)
    record = DrillRecord(
        "edge-latency", "production", edge_item, finished - timedelta(minutes=1), finished, Outcome.FAILED
    )
    with database.transaction() as session:
        evidence.record_drill(session=session, environment_name="production", record=record, actor="ana")
    headers = bearer(token_for(database, "ed", "editor"))

    answer = client.patch(
        f"/api/v1/environments/production/items/{edge_item}",
        json={"checked": True, "note": "drilled"},
        headers=headers,
    ).json()

    assert answer == item(client.get(CHECKLIST, headers=headers).json(), edge_item)
    assert answer["evidence"]["state"] == "stale"  # the last drill failed
    assert answer["regressed"] is True
