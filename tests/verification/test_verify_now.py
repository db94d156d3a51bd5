"""'Verify now': a background run started over HTTP, its progress, and its results on the dashboard."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.settings import Settings
from mission_control.verification.models import VerificationRun
from mission_control.web.app import create_app
from tests.conftest import DemoEstate, bearer, gated_clients, make_user, page_csrf_token, sign_in, token_for

VERIFICATION = "/api/v1/environments/production/verification"
CHECKLIST = "/api/v1/environments/production/checklist"


@pytest.fixture
def verifying_client(
    demo_aws: DemoEstate, database: Database, database_url: str, catalog: Catalog, released: threading.Event
) -> Iterator[TestClient]:
    app = create_app(
        Settings(database_url=database_url, jobs="in-process"),
        database=database,
        catalog=catalog,
        configs={"production": demo_aws.config},
        clients_factory=lambda config: gated_clients(released),
    )
    with TestClient(app) as client:
        yield client


def test_verify_now_runs_in_the_background_and_results_reach_the_checklist(
    verifying_client: TestClient, database: Database, released: threading.Event
) -> None:
    editor = bearer(token_for(database, "ed", "editor"))
    started = verifying_client.post(VERIFICATION, headers=editor)
    assert started.status_code == 202
    assert started.json()["progress"]["total"] > 0
    again = verifying_client.post(VERIFICATION, headers=editor)
    assert again.status_code == 409 and "already queued or running" in again.json()["detail"]
    released.set()
    assert verifying_client.app.state.runner.wait_idle(timeout=60)
    state = verifying_client.get(VERIFICATION, headers=editor).json()
    assert state["progress"] is None
    assert (state["last_run"]["state"], state["last_run"]["triggered_by"]) == ("completed", "ed")
    checklist = verifying_client.get(CHECKLIST, headers=editor).json()
    assert checklist["completed"] == 7
    items = {item["id"]: item for category in checklist["categories"] for item in category["items"]}
    assert items["dns.failover-ttl"]["verification"]["status"] == "failing"
    assert items["dns.latency-routing"]["verification"]["status"] == "verified"
    assert items["dns.failover-runbook"]["verification"]["status"] == "manual"
    with database.read() as session:
        (rates,) = session.scalars(select(VerificationRun.request_rates)).all()
    assert rates["base"]["dynamodb"]["requests"] > 0 and rates["base"]["route53"]["max_per_second"] >= 1


def test_dashboard_shows_proofs_and_a_regressed_tick(
    verifying_client: TestClient, database: Database, released: threading.Event
) -> None:
    released.set()
    editor = bearer(token_for(database, "ed", "editor"))
    verifying_client.patch(
        "/api/v1/environments/production/items/dns.failover-ttl", json={"checked": True}, headers=editor
    )
    make_user(database, "ana", "editor", password="correct horse")
    sign_in(verifying_client, "ana")
    page = verifying_client.get("/").text
    token = page_csrf_token(page)
    assert "Verify now" in page and "Not verified yet." in page
    response = verifying_client.post(
        "/environments/production/verify", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    assert verifying_client.app.state.runner.wait_idle(timeout=60)
    page = verifying_client.get("/").text
    assert "✔ Verified — " in page and "✖ Failing — " in page and "Manual: needs evidence" in page
    assert page.count('data-field="regressed">') == 1  # shown on the one ticked item whose probe fails
    regressed_item = page.split('id="item-dns.failover-ttl"', 1)[1].split("</li>", 1)[0]
    assert 'data-field="regressed">' in regressed_item  # shown (no `hidden`)
    assert "Last run completed" in page


def test_verify_now_without_configuration_says_how_to_configure(
    client: TestClient, database: Database
) -> None:
    editor = bearer(token_for(database, "ed", "editor"))
    response = client.post(VERIFICATION, headers=editor)
    assert response.status_code == 422
    assert "has no AWS configuration" in response.json()["detail"]
    assert client.get(VERIFICATION, headers=editor).json() == {
        "configured": False,
        "progress": None,
        "last_run": None,
        "schedule": None,
        "problem": None,
    }


def test_viewers_cannot_start_a_run(verifying_client: TestClient, database: Database) -> None:
    viewer = bearer(token_for(database, "vi", "viewer"))
    assert verifying_client.post(VERIFICATION, headers=viewer).status_code == 403
