"""API tokens are listed with their last use and can be revoked, by API and CLI (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from mission_control.cli import app as cli
from mission_control.db.database import Database
from mission_control.progress.models import AuditEvent
from tests.conftest import bearer, token_for

ME = "/api/v1/me"


def token_events(database: Database) -> list[tuple[str, str, str | None]]:
    with database.read() as session:
        return [
            (event.actor, event.action, event.new_value)
            for event in session.scalars(select(AuditEvent).where(AuditEvent.action.like("token.%")))
        ]


@pytest.fixture
def tokens(database: Database) -> dict[str, str]:
    return {name: token_for(database, name, role) for name, role in [("root", "admin"), ("ed", "editor")]}


def listed(client: TestClient, token: str) -> list[dict]:
    response = client.get("/api/v1/tokens", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_an_admin_lists_every_token_with_its_last_use(client: TestClient, tokens: dict[str, str]) -> None:
    assert client.get(ME, headers=bearer(tokens["ed"])).status_code == 200
    everything = listed(client, tokens["root"])
    assert [(token["user"], token["name"]) for token in everything] == [
        ("root", "test token for root"),
        ("ed", "test token for ed"),
    ]
    assert all(token["last_used_at"] is not None for token in everything)  # both just used
    assert all(token["revoked_at"] is None for token in everything)
    assert set(everything[0]) == {"id", "user", "name", "created_at", "last_used_at", "revoked_at"}


def test_others_list_only_their_own_tokens(client: TestClient, tokens: dict[str, str]) -> None:
    assert [token["user"] for token in listed(client, tokens["ed"])] == ["ed"]


def test_a_token_never_used_shows_no_last_use(client: TestClient, database: Database, tokens: dict) -> None:
    token_for(database, "idle", "viewer")
    idle = next(token for token in listed(client, tokens["root"]) if token["user"] == "idle")
    assert idle["last_used_at"] is None


def test_revoking_a_token_stops_it_at_once_and_is_audited(
    client: TestClient, database: Database, tokens: dict[str, str]
) -> None:
    ed_id = listed(client, tokens["ed"])[0]["id"]
    response = client.delete(f"/api/v1/tokens/{ed_id}", headers=bearer(tokens["root"]))
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    assert client.get(ME, headers=bearer(tokens["ed"])).status_code == 401
    assert listed(client, tokens["root"])[1]["revoked_at"] == response.json()["revoked_at"]
    again = client.delete(f"/api/v1/tokens/{ed_id}", headers=bearer(tokens["root"]))
    assert again.json()["revoked_at"] == response.json()["revoked_at"]  # the first revocation stands
    assert [event for event in token_events(database) if event[1] == "token.revoked"] == [
        ("root", "token.revoked", f"ed: test token for ed (id {ed_id})")
    ]


def test_anyone_may_revoke_their_own_token(client: TestClient, tokens: dict[str, str]) -> None:
    ed_id = listed(client, tokens["ed"])[0]["id"]
    assert client.delete(f"/api/v1/tokens/{ed_id}", headers=bearer(tokens["ed"])).status_code == 200
    assert client.get(ME, headers=bearer(tokens["ed"])).status_code == 401


def test_only_an_admin_may_revoke_someone_elses_token(client: TestClient, tokens: dict[str, str]) -> None:
    root_id = listed(client, tokens["root"])[0]["id"]
    response = client.delete(f"/api/v1/tokens/{root_id}", headers=bearer(tokens["ed"]))
    assert response.status_code == 403
    assert response.json()["detail"] == f"token {root_id} belongs to root; only an admin can revoke it"
    assert client.get(ME, headers=bearer(tokens["root"])).status_code == 200


def test_revoking_an_unknown_token_is_404(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.delete("/api/v1/tokens/9999", headers=bearer(tokens["root"]))
    assert response.status_code == 404
    assert response.json()["detail"] == "token 9999 does not exist"


def test_listing_tokens_needs_authentication(client: TestClient) -> None:
    assert client.get("/api/v1/tokens").status_code == 401
    assert client.delete("/api/v1/tokens/1").status_code == 401


def test_the_cli_lists_and_revokes_tokens(
    client: TestClient,
    database: Database,
    database_url: str,
    tokens: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MC_DATABASE_URL", database_url)
    runner = CliRunner()
    assert client.get(ME, headers=bearer(tokens["ed"])).status_code == 200
    table = runner.invoke(cli, ["token", "list"])
    assert table.exit_code == 0, table.output
    rows = [line for line in table.stdout.splitlines() if "test token for" in line]
    assert len(rows) == 2
    assert "never" in rows[0] and "never" not in rows[1]  # root's token unused, ed's just used
    assert "test token for root" not in runner.invoke(cli, ["token", "list", "--user", "ed"]).stdout
    ed_id = listed(client, tokens["root"])[1]["id"]
    revoked = runner.invoke(cli, ["token", "revoke", str(ed_id)])
    assert revoked.exit_code == 0, revoked.output
    assert revoked.stdout.strip() == f"revoked token {ed_id} (ed: test token for ed)"
    assert client.get(ME, headers=bearer(tokens["ed"])).status_code == 401
    assert ("cli", "token.revoked", f"ed: test token for ed (id {ed_id})") in token_events(database)
    assert "already revoked" in runner.invoke(cli, ["token", "revoke", str(ed_id)]).stdout
    unknown = runner.invoke(cli, ["token", "revoke", "9999"])
    assert unknown.exit_code == 2
    assert "token 9999 does not exist" in unknown.output
