"""The JSON API: auth and roles, the checklist shape, PATCH semantics, and every bad input."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from mission_control.db.database import Database
from tests.conftest import bearer, make_user, page_csrf_token, sign_in, token_for

CHECKLIST = "/api/v1/environments/production/checklist"
ITEM = "/api/v1/environments/production/items/dns.failover-ttl"


@pytest.fixture
def editor(database: Database) -> dict[str, str]:
    return bearer(token_for(database, "ed", "editor"))


def item_state(client: TestClient, headers: dict[str, str], item_id: str = "dns.failover-ttl") -> dict:
    body = client.get(CHECKLIST, headers=headers).json()
    return next(
        item for category in body["categories"] for item in category["items"] if item["id"] == item_id
    )


def test_unauthenticated_api_request_gets_401(client: TestClient) -> None:
    response = client.get(CHECKLIST)
    assert response.status_code == 401
    assert "authentication required" in response.json()["detail"]


def test_unknown_or_revoked_looking_token_gets_401(client: TestClient) -> None:
    assert client.get(CHECKLIST, headers=bearer("mc_not-a-real-token")).status_code == 401


def test_checklist_has_the_documented_shape(client: TestClient, editor: dict[str, str]) -> None:
    body = client.get(CHECKLIST, headers=editor).json()
    assert set(body) == {"environment", "checklist", "total", "completed", "percent", "categories"}
    assert (body["environment"], body["checklist"], body["total"], body["completed"], body["percent"]) == (
        "production", "multi-region-readiness", 20, 0, 0,
    )  # fmt: skip
    category = body["categories"][0]
    assert set(category) == {"id", "name", "icon", "complete", "completed", "total", "items"}
    assert (category["id"], category["name"], category["icon"], category["complete"]) == (
        "dns",
        "DNS — Route53",
        "🌐",
        False,
    )
    assert set(category["items"][0]) >= {
        "id", "title", "description", "category", "effort", "checked", "checked_by", "checked_at", "owner", "note", "version",
    }  # fmt: skip


def test_patch_ticks_and_reports_who(client: TestClient, editor: dict[str, str]) -> None:
    response = client.patch(ITEM, json={"checked": True, "owner": "sre", "note": "ttl 60"}, headers=editor)
    assert response.status_code == 200
    item = response.json()
    assert (item["checked"], item["checked_by"], item["owner"], item["note"], item["version"]) == (
        True,
        "ed",
        "sre",
        "ttl 60",
        1,
    )
    body = client.get(CHECKLIST, headers=editor).json()
    assert (body["completed"], body["percent"]) == (1, 5)


def test_owner_null_clears_and_omitted_fields_stay(client: TestClient, editor: dict[str, str]) -> None:
    client.patch(ITEM, json={"owner": "sre", "note": "keep me"}, headers=editor)
    item = client.patch(ITEM, json={"owner": None}, headers=editor).json()
    assert (item["owner"], item["note"]) == (None, "keep me")


def test_stale_version_gets_409_and_changes_nothing(client: TestClient, editor: dict[str, str]) -> None:
    assert client.patch(ITEM, json={"checked": True, "version": 0}, headers=editor).status_code == 200
    response = client.patch(ITEM, json={"note": "late", "version": 0}, headers=editor)
    assert response.status_code == 409
    assert "changed by someone else" in response.json()["detail"]
    assert item_state(client, editor)["note"] == ""


def test_history_lists_changes_newest_first(client: TestClient, editor: dict[str, str]) -> None:
    client.patch(ITEM, json={"checked": True}, headers=editor)
    client.patch(ITEM, json={"checked": False}, headers=editor)
    events = client.get(f"{ITEM}/history", headers=editor).json()
    assert [(e["actor"], e["action"], e["old"], e["new"]) for e in events] == [
        ("ed", "unchecked", "true", "false"),
        ("ed", "checked", "false", "true"),
    ]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/v1/environments/nowhere/items/dns.failover-ttl", "environment 'nowhere' does not exist"),
        ("/api/v1/environments/production/items/dns.nope", "item 'dns.nope' is not in"),
    ],
)
def test_unknown_environment_or_item_gets_404_with_message(
    client: TestClient, editor: dict[str, str], path: str, message: str
) -> None:
    response = client.patch(path, json={"checked": True}, headers=editor)
    assert response.status_code == 404
    assert message in response.json()["detail"]
    assert client.get(path + "/history", headers=editor).status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"checked": tru', "not valid JSON"),
        ("[1, 2]", "invalid request"),
        ('{"checked": "maybe"}', "checked"),
        ('{"colour": "red"}', "colour"),
        ('{"checked": null}', "checked cannot be null"),
        ("{}", "nothing to change"),
        ('{"note": "' + "x" * 10_001 + '"}', "note"),
        ('{"owner": "' + "o" * 129 + '"}', "owner"),
    ],
)
def test_bad_patch_body_gets_4xx_with_message_and_changes_nothing(
    client: TestClient, editor: dict[str, str], body: str, message: str
) -> None:
    client.patch(ITEM, json={"note": "original"}, headers=editor)
    response = client.patch(ITEM, content=body, headers=editor | {"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500
    assert message in response.json()["detail"]
    item = item_state(client, editor)
    assert (item["checked"], item["note"], item["version"]) == (False, "original", 1)


def test_viewer_can_read_but_write_gets_403(client: TestClient, database: Database) -> None:
    viewer = bearer(token_for(database, "vi", "viewer"))
    assert client.get(CHECKLIST, headers=viewer).status_code == 200
    response = client.patch(ITEM, json={"checked": True}, headers=viewer)
    assert response.status_code == 403
    assert "needs the editor role" in response.json()["detail"]


def test_only_admins_create_environments(
    client: TestClient, database: Database, editor: dict[str, str]
) -> None:
    assert client.post("/api/v1/environments", json={"name": "staging"}, headers=editor).status_code == 403
    admin = bearer(token_for(database, "root", "admin"))
    assert client.post("/api/v1/environments", json={"name": "staging"}, headers=admin).status_code == 201
    assert client.post("/api/v1/environments", json={"name": "staging"}, headers=admin).status_code == 422
    assert client.post("/api/v1/environments", json={"name": "Bad Name"}, headers=admin).status_code == 422
    names = [e["name"] for e in client.get("/api/v1/environments", headers=editor).json()]
    assert names == ["production", "staging"]
    assert client.get("/api/v1/environments/staging/checklist", headers=editor).json()["completed"] == 0


def test_admin_creates_users_and_tokens_shown_once(client: TestClient, database: Database) -> None:
    admin = bearer(token_for(database, "root", "admin"))
    assert (
        client.post("/api/v1/users", json={"name": "new", "role": "editor"}, headers=admin).status_code == 201
    )
    assert (
        client.post("/api/v1/users", json={"name": "new", "role": "editor"}, headers=admin).status_code == 422
    )
    assert client.post("/api/v1/users", json={"name": "x", "role": "god"}, headers=admin).status_code == 422
    issued = client.post("/api/v1/tokens", json={"user": "new", "name": "ci"}, headers=admin).json()
    assert issued["token"].startswith("mc_")
    assert client.get("/api/v1/me", headers=bearer(issued["token"])).json() == {
        "name": "new",
        "role": "editor",
    }
    assert (
        client.post("/api/v1/tokens", json={"user": "ghost", "name": "ci"}, headers=admin).status_code == 404
    )


def test_session_write_without_csrf_token_is_refused(client: TestClient, database: Database) -> None:
    make_user(database, "ed", "editor", password="correct horse")
    sign_in(client, "ed")
    assert client.patch(ITEM, json={"checked": True}).status_code == 403
    token = page_csrf_token(client.get("/").text)
    assert client.patch(ITEM, json={"checked": True}, headers={"X-CSRF-Token": token}).status_code == 200


def test_openapi_documents_the_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/environments/{environment}/checklist" in spec["paths"]
    assert "patch" in spec["paths"]["/api/v1/environments/{environment}/items/{item_id}"]
    assert client.get("/docs").status_code == 200
