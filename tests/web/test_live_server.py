"""The real `mission-control serve` process over HTTP: durability, concurrency and live events.

Each test runs once on SQLite and once on PostgreSQL (the `server` fixture follows `database_url`).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from mission_control.db.database import Database
from tests.conftest import ServerProcess, bearer, token_for

ENVIRONMENT = "production"
CHECKLIST = f"/api/v1/environments/{ENVIRONMENT}/checklist"
CONCURRENT_WRITERS = 50


def item_url(item_id: str, environment: str = ENVIRONMENT) -> str:
    return f"/api/v1/environments/{environment}/items/{item_id}"


def read_item(client: httpx.Client, item_id: str) -> dict[str, Any]:
    response = client.get(CHECKLIST)
    assert response.status_code == 200, response.text
    return next(
        item
        for category in response.json()["categories"]
        for item in category["items"]
        if item["id"] == item_id
    )


def read_history(client: httpx.Client, item_id: str) -> list[dict[str, Any]]:
    response = client.get(f"{item_url(item_id)}/history")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def editor_token(database: Database) -> str:
    return token_for(database, "ed", "editor")


@pytest.fixture
def api(server: ServerProcess, editor_token: str) -> Iterator[httpx.Client]:
    """An HTTP client for the server, authenticated as an editor by bearer token."""
    limits = httpx.Limits(max_connections=CONCURRENT_WRITERS, max_keepalive_connections=CONCURRENT_WRITERS)
    with httpx.Client(base_url=server.url, headers=bearer(editor_token), timeout=60, limits=limits) as client:
        yield client


def all_at_once(count: int, call: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    """Run `call(0..count-1)` on `count` threads released together by a barrier."""
    barrier = threading.Barrier(count)

    def run(index: int) -> httpx.Response:
        barrier.wait(timeout=30)
        return call(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_progress_and_history_survive_a_restart_and_a_sigkill(
    server: ServerProcess, api: httpx.Client
) -> None:
    first = api.patch(
        item_url("dns.failover-ttl"), json={"checked": True, "owner": "sre", "note": "TTL 60 s"}
    )
    assert first.status_code == 200, first.text
    before_restart = (read_item(api, "dns.failover-ttl"), read_history(api, "dns.failover-ttl"))
    assert before_restart[0]["checked"] is True
    assert [event["action"] for event in before_restart[1]] == ["note", "owner", "checked"]

    server.stop()
    server.start()
    assert (read_item(api, "dns.failover-ttl"), read_history(api, "dns.failover-ttl")) == before_restart

    second = api.patch(item_url("dns.failover-ttl"), json={"checked": False, "note": "TTL back to 300 s"})
    assert second.status_code == 200, second.text
    before_kill = (read_item(api, "dns.failover-ttl"), read_history(api, "dns.failover-ttl"))

    server.stop(kill=True)  # an acknowledged write must already be committed, not waiting for shutdown
    server.start()
    after_kill = (read_item(api, "dns.failover-ttl"), read_history(api, "dns.failover-ttl"))
    assert after_kill == before_kill
    item, history = after_kill
    assert (item["checked"], item["checked_by"], item["owner"], item["note"], item["version"]) == (
        False,
        None,
        "sre",
        "TTL back to 300 s",
        2,
    )
    assert [(event["action"], event["old"], event["new"]) for event in history] == [
        ("note", "TTL 60 s", "TTL back to 300 s"),
        ("unchecked", "true", "false"),
        ("note", "", "TTL 60 s"),
        ("owner", None, "sre"),
        ("checked", "false", "true"),
    ]


def test_concurrent_unconditional_note_updates_are_all_kept_in_order(api: httpx.Client) -> None:
    notes = [f"note from writer {index}" for index in range(CONCURRENT_WRITERS)]

    responses = all_at_once(
        CONCURRENT_WRITERS,
        lambda index: api.patch(item_url("dynamodb.global-main"), json={"note": notes[index]}),
    )

    assert [response.status_code for response in responses] == [200] * CONCURRENT_WRITERS
    item = read_item(api, "dynamodb.global-main")
    history = read_history(api, "dynamodb.global-main")  # newest first
    assert item["version"] == CONCURRENT_WRITERS
    assert len(history) == CONCURRENT_WRITERS
    assert {event["action"] for event in history} == {"note"}
    assert sorted(event["new"] for event in history) == sorted(notes)
    assert item["note"] == history[0]["new"]
    oldest_first = history[::-1]
    assert oldest_first[0]["old"] == ""
    for previous, event in itertools.pairwise(oldest_first):
        assert event["old"] == previous["new"], "a write did not see the write committed before it"


def test_concurrent_updates_of_the_same_version_let_exactly_one_win(api: httpx.Client) -> None:
    notes = [f"claim by writer {index}" for index in range(CONCURRENT_WRITERS)]

    responses = all_at_once(
        CONCURRENT_WRITERS,
        lambda index: api.patch(item_url("cognito.parity"), json={"note": notes[index], "version": 0}),
    )

    statuses = [response.status_code for response in responses]
    assert sorted(statuses) == [200] + [409] * (CONCURRENT_WRITERS - 1)
    winner = notes[statuses.index(200)]
    assert all(
        "changed by someone else" in response.json()["detail"]
        for response in responses
        if response.status_code == 409
    )
    item = read_item(api, "cognito.parity")
    assert (item["note"], item["version"]) == (winner, 1)
    assert [
        (event["action"], event["old"], event["new"]) for event in read_history(api, "cognito.parity")
    ] == [("note", "", winner)]


def server_sent_events(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    """Parse an SSE line stream into events (field name → value); comments are skipped."""
    event: dict[str, str] = {}
    for line in lines:
        if not line:
            if event:
                yield event
            event = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            event[field] = value.removeprefix(" ")


def first_change(events: Iterator[dict[str, str]], *, within: float) -> dict[str, Any]:
    deadline = time.monotonic() + within
    for event in events:
        if event.get("event") == "change":
            return json.loads(event["data"])
        if time.monotonic() > deadline:
            break
    raise AssertionError(f"no change event within {within} s")


def test_a_change_reaches_an_open_event_stream_of_its_environment_only(
    server: ServerProcess, api: httpx.Client, database: Database
) -> None:
    admin = bearer(token_for(database, "root", "admin"))
    assert api.post("/api/v1/environments", json={"name": "staging"}, headers=admin).status_code == 201
    watcher_token = token_for(database, "vic", "viewer")
    timeout = httpx.Timeout(10, read=5)  # a missing event fails on the read timeout, not a hang

    with (
        httpx.Client(base_url=server.url, headers=bearer(watcher_token), timeout=timeout) as watcher,
        watcher.stream("GET", f"/environments/{ENVIRONMENT}/events") as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = server_sent_events(stream.iter_lines())
        assert next(events) == {"retry": "2000"}  # subscribed: everything from now on is delivered

        elsewhere = api.patch(item_url("edge.latency", environment="staging"), json={"checked": True})
        here = api.patch(item_url("edge.redirects"), json={"checked": True})
        assert (elsewhere.status_code, here.status_code) == (200, 200)

        change = first_change(events, within=5)

    # events arrive in audit order, so a leaked staging event would have come first
    assert {key: change[key] for key in ("environment", "item_id", "action", "actor")} == {
        "environment": ENVIRONMENT,
        "item_id": "edge.redirects",
        "action": "checked",
        "actor": "ed",
    }
