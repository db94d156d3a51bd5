"""Drills started over HTTP: refused when unsafe, recorded as evidence when run, shown per item."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.settings import Settings
from mission_control.web.app import create_app
from tests.conftest import DemoEstate, bearer, make_user, sign_in, token_for

DRILLS = "/api/v1/environments/production/drills"


@pytest.fixture
def drilling_client(
    demo_aws: DemoEstate, sqlite_url: str, catalog: Catalog
) -> Iterator[tuple[TestClient, Database]]:
    app = create_app(
        Settings(database_url=sqlite_url), catalog=catalog, configs={"production": demo_aws.config}
    )
    with TestClient(app) as client:
        yield client, app.state.database


def test_a_drill_that_writes_needs_explicit_permission_then_runs_and_counts(
    drilling_client: tuple[TestClient, Database],
) -> None:
    client, database = drilling_client
    editor = bearer(token_for(database, "ed", "editor"))
    refused = client.post(f"{DRILLS}/auth-flow", json={}, headers=editor)
    assert refused.status_code == 422 and "confirm that writes are allowed" in refused.json()["detail"]
    assert client.post(f"{DRILLS}/auth-flow", json={"allow_writes": True}, headers=editor).status_code == 202
    assert client.app.state.runner.wait_idle(timeout=60)
    [run] = client.get(DRILLS, headers=editor).json()["runs"]
    assert (run["drill"], run["outcome"], run["run_by"]) == ("auth-flow", "passed", "ed")
    assert "login_seconds" in run["measurements"]
    checklist = client.get("/api/v1/environments/production/checklist", headers=editor).json()
    items = {item["id"]: item for category in checklist["categories"] for item in category["items"]}
    assert items["cognito.auth-flow-test"]["evidence"]["state"] == "complete"


def test_unknown_drills_and_viewers_are_refused(drilling_client: tuple[TestClient, Database]) -> None:
    client, database = drilling_client
    editor = bearer(token_for(database, "ed", "editor"))
    assert client.post(f"{DRILLS}/moonwalk", json={}, headers=editor).status_code == 404
    viewer = bearer(token_for(database, "vi", "viewer"))
    assert client.post(f"{DRILLS}/edge-latency", json={}, headers=viewer).status_code == 403


def test_drills_need_a_configured_environment(client: TestClient, database: Database) -> None:
    editor = bearer(token_for(database, "ed", "editor"))
    response = client.post(f"{DRILLS}/auth-flow", json={"allow_writes": True}, headers=editor)
    assert response.status_code == 422 and "has no AWS configuration" in response.json()["detail"]


def test_the_dashboard_offers_the_items_drills_and_history_shows_past_runs(
    drilling_client: tuple[TestClient, Database],
) -> None:
    client, database = drilling_client
    make_user(database, "ana", "editor", password="correct horse")
    sign_in(client, "ana")
    page = client.get("/").text
    auth_item = page.split('id="item-cognito.auth-flow-test"', 1)[1].split("</li>", 1)[0]
    assert "Run drill auth-flow" in auth_item and 'name="allow_writes" required' in auth_item
    token = page.split('<meta name="csrf-token" content="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/environments/production/drills/auth-flow",
        data={"csrf_token": token, "allow_writes": "on"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert client.app.state.runner.wait_idle(timeout=60)
    history = client.get("/environments/production/items/cognito.auth-flow-test/history").text
    assert "auth-flow: passed" in history and "sign up" in history.lower()
