"""Several app replicas on one database: a change made through one reaches browsers on another."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mission_control.db.database import Database
from tests.conftest import ServerProcess, bearer, free_port, token_for
from tests.web.test_live_server import first_change, server_sent_events


@pytest.fixture
def second_replica(server: ServerProcess, database_url: str) -> Iterator[ServerProcess]:
    replica = ServerProcess(database_url, free_port())
    replica.start()
    yield replica
    replica.stop()


def test_a_tick_through_one_replica_streams_to_a_browser_on_another(
    server: ServerProcess, second_replica: ServerProcess, database: Database
) -> None:
    editor = bearer(token_for(database, "ed", "editor"))
    viewer = bearer(token_for(database, "vic", "viewer"))
    timeout = httpx.Timeout(10, read=5)
    with (
        httpx.Client(base_url=second_replica.url, headers=viewer, timeout=timeout) as watcher,
        watcher.stream("GET", "/environments/production/events") as stream,
        httpx.Client(base_url=server.url, headers=editor, timeout=timeout) as writer,
    ):
        events = server_sent_events(stream.iter_lines())
        assert next(events) == {"retry": "2000"}
        response = writer.patch(
            "/api/v1/environments/production/items/cognito.parity", json={"checked": True}
        )
        assert response.status_code == 200
        change = first_change(events, within=5)
        seen_on_replica = watcher.get("/api/v1/environments/production/checklist").json()
    assert (change["item_id"], change["action"], change["actor"]) == ("cognito.parity", "checked", "ed")
    assert seen_on_replica["completed"] == 1
