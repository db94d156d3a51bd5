"""Hostile files through the two import entry points, on a real SQLite database: the upload form
(POST /environments/{env}/import) and `mission-control import-localstorage`.

A rejected file changes nothing already stored; an accepted one changes exactly the items it
matched, to the state it gave them, and leaves every other item as it was. Never a 5xx.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from mission_control.catalog import Catalog
from mission_control.cli import app as cli
from mission_control.db.database import Database
from mission_control.progress import service
from mission_control.progress.importer import UnreadableImport, parse_localstorage
from tests.conftest import bearer, token_for
from tests.hostile.profiles import DATABASE
from tests.hostile.test_import_parser import JSON_VALUES, valid_payloads

FILES = st.one_of(
    st.binary(max_size=300),
    JSON_VALUES.map(lambda value: json.dumps(value).encode()),
    valid_payloads().map(lambda payload: payload[0].encode()),
)


def states(database: Database) -> dict[str, tuple[bool, str | None, str, int]]:
    with database.read() as session:
        environment = service.get_environment(session=session, name="production")
        rows = service.item_states(session=session, environment=environment)
        return {item_id: (row.checked, row.owner, row.note, row.version) for item_id, row in rows.items()}


def expected_after(before: dict[str, Any], raw: bytes, catalog: Catalog) -> dict[str, bool] | None:
    """The checked state each matched item must have after the import; None when it is unreadable."""
    try:
        plan = parse_localstorage(raw, catalog)
    except UnreadableImport:
        return None
    return {match.item_id: match.checked for match in plan.matches}


def assert_applied(before: dict[str, Any], after: dict[str, Any], expected: dict[str, bool] | None) -> None:
    if expected is None:
        assert after == before, "a rejected file changed stored state"
        return
    for item_id, state in after.items():
        if item_id in expected:
            assert state[0] == expected[item_id]
        else:
            assert state == before[item_id], f"{item_id} was not in the file but changed"


@pytest.fixture
def editor_client(sqlite_app, sqlite_database: Database):
    headers = bearer(token_for(sqlite_database, "importer", "editor"))
    with TestClient(sqlite_app, raise_server_exceptions=False) as client:
        client.headers.update(headers)
        yield client


@DATABASE
@given(raw=FILES, filename=st.text(max_size=30))
def test_uploads_change_exactly_what_they_match(
    raw: bytes, filename: str, editor_client: TestClient, sqlite_database: Database, catalog: Catalog
) -> None:
    before = states(sqlite_database)
    expected = expected_after(before, raw, catalog)
    response = editor_client.post("/environments/production/import", files={"file": (filename or "f", raw)})
    assert response.status_code == (400 if expected is None else 200), response.text[:300]
    assert_applied(before, states(sqlite_database), expected)


@DATABASE
@given(raw=FILES)
def test_the_cli_import_changes_exactly_what_it_matches(
    raw: bytes, tmp_path: Path, sqlite_url: str, sqlite_database: Database, catalog: Catalog,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("MC_DATABASE_URL", sqlite_url)
    path = tmp_path / "stored-value.json"
    path.write_bytes(raw)
    before = states(sqlite_database)
    expected = expected_after(before, raw, catalog)
    result = CliRunner().invoke(cli, ["import-localstorage", str(path), "--env", "production"])
    assert result.exit_code == (2 if expected is None else 0), result.output
    if expected is None:
        assert "nothing was changed" in result.stderr
    assert_applied(before, states(sqlite_database), expected)
