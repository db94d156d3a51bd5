"""Admins see every delivery, its attempts and last error, and resend one; nobody else can."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.notifications.changes import ChangeSet, ItemChange
from mission_control.notifications.models import DELIVERED, FAILED, SENDING, Delivery
from mission_control.notifications.outbox import Outbox, send
from mission_control.settings import Settings
from mission_control.web.app import channels_of, create_app
from tests.conftest import bearer, make_user, page_csrf_token, sign_in, token_for
from tests.receivers import HttpReceiver


@pytest.fixture
def admin_client(
    database: Database, database_url: str, catalog: Catalog, tmp_path: Path, receiver: HttpReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[TestClient]:  # fmt: skip
    monkeypatch.setenv("TEAM_HOOK", receiver.url)
    monkeypatch.setenv("TEAM_SECRET", "deliveries-page-secret")
    config = tmp_path / "mission-control.toml"
    config.write_text(
        '[environments.production]\nprimary_region = "us-east-1"\nsecondary_region = "eu-west-1"\n\n'
        '[notifications.team]\nkind = "webhook"\nurl_env = "TEAM_HOOK"\nsecret_env = "TEAM_SECRET"\n'
        'events = ["regressed"]\n'
    )
    settings = Settings(database_url=database_url, config_path=config, jobs="in-process")
    app = create_app(settings, database=database, catalog=catalog)
    with TestClient(app) as client:
        yield client


def failed_delivery(client: TestClient, receiver: HttpReceiver) -> int:
    """A delivery the receiver refused until its window closed."""
    app = client.app
    change = ItemChange(
        "regressed", "dns.failover-ttl", "TTL", "verified", "regressed", "TTL 300", "ana", "u"
    )
    with app.state.database.transaction() as session:
        [delivery_id] = Outbox(channels_of(app.state.settings)).queue(
            session, ChangeSet("production", datetime.now(UTC), (change,), "verification run 1")
        )
        session.get(Delivery, delivery_id).retry_until = datetime.now(UTC)
    receiver.status = 500
    assert send(
        database=app.state.database, channels=channels_of(app.state.settings), delivery_id=delivery_id,
        environ={"TEAM_HOOK": receiver.url, "TEAM_SECRET": "deliveries-page-secret"},
    ) == FAILED  # fmt: skip
    receiver.status = 200
    return delivery_id


def test_an_admin_sees_a_failed_delivery_and_resends_it_from_the_page(
    admin_client: TestClient, database: Database, receiver: HttpReceiver
) -> None:
    delivery_id = failed_delivery(admin_client, receiver)
    make_user(database, "root", "admin", password="correct horse")
    sign_in(admin_client, "root")
    page = admin_client.get("/admin/deliveries").text
    assert f'id="delivery-{delivery_id}"' in page
    assert "✖ failed" in page and "webhook channel team: HTTP 500 from the receiver" in page
    assert '<a href="/admin/deliveries">Notifications</a>' in admin_client.get("/").text
    resent = admin_client.post(
        f"/admin/deliveries/{delivery_id}/resend",
        data={"csrf_token": page_csrf_token(page)},
        follow_redirects=False,
    )
    assert (
        resent.status_code == 303
        and resent.headers["location"] == f"/admin/deliveries#delivery-{delivery_id}"
    )
    deadline = time.monotonic() + 15
    while True:  # the receiver has the request before the sender records its answer
        with database.read() as session:
            row = session.get(Delivery, delivery_id)
        if row.status != SENDING and len(receiver.requests) >= 2:
            break
        assert time.monotonic() < deadline, "the resend never arrived"
        time.sleep(0.05)
    assert (row.status, row.attempts, row.last_error) == (DELIVERED, 2, None)
    assert (
        receiver.requests[0].headers["X-Mission-Control-Delivery"]
        == receiver.requests[1].headers["X-Mission-Control-Delivery"]
    )


def test_deliveries_are_for_admins_only(admin_client: TestClient, database: Database) -> None:
    editor = bearer(token_for(database, "ed", "editor"))
    assert admin_client.get("/api/v1/deliveries", headers=editor).status_code == 403
    assert admin_client.post("/api/v1/deliveries/1/resend", headers=editor).status_code == 403
    admin = bearer(token_for(database, "root", "admin"))
    assert admin_client.get("/api/v1/deliveries", headers=admin).json() == []
    missing = admin_client.post("/api/v1/deliveries/41/resend", headers=admin)
    assert (missing.status_code, missing.json()["detail"]) == (404, "delivery 41 does not exist")
    assert '<a href="/admin/deliveries">' not in admin_client.get("/", headers=editor).text


def test_the_api_lists_a_delivery_with_its_attempts_and_error(
    admin_client: TestClient, database: Database, receiver: HttpReceiver
) -> None:
    delivery_id = failed_delivery(admin_client, receiver)
    [listed] = admin_client.get(
        "/api/v1/deliveries", headers=bearer(token_for(database, "root", "admin"))
    ).json()
    assert (listed["id"], listed["channel"], listed["status"], listed["attempts"], listed["events"]) == (
        delivery_id, "team", "failed", 1, ["regressed"],
    )  # fmt: skip
    assert listed["last_error"] == "webhook channel team: HTTP 500 from the receiver"
