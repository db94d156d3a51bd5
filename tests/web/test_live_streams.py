"""Live event streams end with their credential, and resume after a restore under a running server.

Each test runs on SQLite and on PostgreSQL, against a real server on 127.0.0.1.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import select, update
from typer.testing import CliRunner

from mission_control.catalog import Catalog
from mission_control.cli import app as cli
from mission_control.db.base import utcnow
from mission_control.db.database import Database
from mission_control.identity.models import ApiToken, WebSession
from mission_control.identity.service import end_all_sessions, get_user, revoke_token
from mission_control.settings import Settings
from mission_control.web.app import create_app
from tests.conftest import ServerProcess, bearer, free_port, make_user, sign_in, token_for
from tests.web.test_live_server import first_change, server_sent_events

RECHECK_SECONDS = 0.3
EVENTS = "/environments/production/events"
ITEM = "/api/v1/environments/production/items/dns.failover-ttl"


@pytest.fixture
def quick_server(database: Database, database_url: str, catalog: Catalog) -> Iterator[str]:
    """The app under uvicorn in this process, re-checking stream credentials every 0.3 s."""
    settings = Settings(database_url=database_url, live_recheck_seconds=RECHECK_SECONDS)
    app = create_app(settings, database=database, catalog=catalog)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)


def stream_end(stream: httpx.Response, *, within: float) -> list[dict[str, str]]:
    """Every event until the server ends the stream; fails if it is still open after `within` s."""
    deadline = time.monotonic() + within
    lines = []
    for line in stream.iter_lines():  # keep-alive comments included, so a silent hang cannot loop forever
        lines.append(line)
        assert time.monotonic() < deadline, f"the stream was still open after {within} s"
    return list(server_sent_events(iter([*lines, ""])))


def revoke_all_tokens(database: Database) -> None:
    with database.transaction() as session:
        for token_id in session.scalars(select(ApiToken.id)).all():
            revoke_token(session=session, token_id=token_id, actor="test")


def sign_out_everywhere(database: Database) -> None:
    with database.transaction() as session:
        user = get_user(session=session, name="ana")
        assert user is not None
        end_all_sessions(session=session, user=user, actor="test")


def expire_sessions(database: Database) -> None:
    with database.transaction() as session:
        session.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))


def test_a_stream_ends_soon_after_its_token_is_revoked(quick_server: str, database: Database) -> None:
    token = token_for(database, "vic", "viewer")
    with (
        httpx.Client(
            base_url=quick_server, headers=bearer(token), timeout=httpx.Timeout(10, read=5)
        ) as client,
        client.stream("GET", EVENTS) as stream,
    ):
        assert stream.status_code == 200
        revoke_all_tokens(database)
        events = stream_end(stream, within=5)
    assert events[-1]["event"] == "signed-out"
    reconnect = httpx.get(f"{quick_server}{EVENTS}", headers=bearer(token) | {"accept": "application/json"})
    assert reconnect.status_code == 401


@pytest.mark.parametrize("end_session", [sign_out_everywhere, expire_sessions])
def test_a_browser_stream_ends_when_its_session_does(
    quick_server: str, database: Database, end_session
) -> None:
    make_user(database, "ana", "viewer", password="correct horse")
    with httpx.Client(base_url=quick_server, timeout=httpx.Timeout(10, read=5)) as browser:
        sign_in(browser, "ana")
        with browser.stream("GET", EVENTS) as stream:
            assert stream.status_code == 200
            end_session(database)
            events = stream_end(stream, within=5)
    assert events[-1]["event"] == "signed-out"


def test_a_stream_with_a_live_credential_outlasts_many_rechecks(
    quick_server: str, database: Database
) -> None:
    watcher, editor = token_for(database, "vic", "viewer"), token_for(database, "ed", "editor")
    with (
        httpx.Client(
            base_url=quick_server, headers=bearer(watcher), timeout=httpx.Timeout(10, read=15)
        ) as client,
        client.stream("GET", EVENTS) as stream,
    ):
        lines = stream.iter_lines()
        assert [next(lines), next(lines)] == ["retry: 2000", ""]
        rechecks = 0
        while rechecks < 5:  # a re-check that finds nothing to send sends a keep-alive comment
            rechecks += next(lines) == ": keep-alive"
        events = server_sent_events(lines)
        response = httpx.patch(f"{quick_server}{ITEM}", json={"note": "still here"}, headers=bearer(editor))
        assert response.status_code == 200
        assert first_change(events, within=5)["item_id"] == "dns.failover-ttl"


def test_live_updates_resume_after_a_restore_under_the_running_server(
    server: ServerProcess,
    database: Database,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MC_DATABASE_URL", database_url)
    monkeypatch.setenv("MC_BACKUP_KEY", "a backup key for tests, 32 chars")
    runner = CliRunner()
    token = token_for(database, "ed", "editor")  # in the backup, so it still works after the restore
    backup = tmp_path / "before.jsonl"
    assert runner.invoke(cli, ["db", "backup", str(backup)]).exit_code == 0
    with (
        httpx.Client(base_url=server.url, headers=bearer(token), timeout=httpx.Timeout(10, read=5)) as api,
        api.stream("GET", EVENTS) as stream,
    ):
        events = server_sent_events(stream.iter_lines())
        assert next(events) == {"retry": "2000"}
        for index in range(5):  # ids the restore will take back
            assert api.patch(ITEM, json={"note": f"before the restore {index}"}).status_code == 200
            assert first_change(events, within=5)["action"] == "note"

        restored = runner.invoke(cli, ["db", "restore", "--force", str(backup)])
        assert restored.exit_code == 0, restored.output
        assert first_change(events, within=5)["action"] == "restored"  # browsers reload the restored state
        assert api.patch(ITEM, json={"note": "after the restore"}).status_code == 200
        change = first_change(events, within=5)
    assert (change["item_id"], change["action"]) == ("dns.failover-ttl", "note")
