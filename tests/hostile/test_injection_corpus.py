"""An XSS and injection corpus through every text field, on SQLite and PostgreSQL.

Stored values come back byte-exact from the API (owner and token names are documented to be
trimmed, so they come back trimmed and otherwise exact); every page that shows them escapes them;
SQL-looking strings are stored verbatim and the tables survive; invalid names are refused with a
4xx and nothing is created. No request here may answer 5xx.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import select

from mission_control.db.database import Database
from mission_control.identity.models import ApiToken
from mission_control.progress.models import AuditEvent
from tests.conftest import bearer, make_user, page_csrf_token, sign_in, token_for

MARKUP = [
    "<script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "javascript:alert(1)",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe srcdoc='<script>alert(1)</script>'>",
    "<!--",
    "]]><![CDATA[<script>",
    "&lt;script&gt; &amp; &#x3C;",
    "{{ 7*7 }} {% raw %} ${7*7} #{7*7} <%= 7*7 %>",
    "<style>body{display:none}</style>",
    '" onmouseover="alert(1)',
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
]
INJECTION = [
    "' OR '1'='1",
    "'; DROP TABLE item_states; --",
    '" OR ""="',
    "1; SELECT pg_sleep(5)--",
    "admin'--",
    "%' OR 1=1 --",
    "\\'; DELETE FROM audit_events WHERE '1'='1",
    "$(rm -rf /)",
    "`id`",
    "../../../../etc/passwd",
    "%2e%2e%2f%00",
    "\r\nSet-Cookie: mc_session=stolen",
    "${jndi:ldap://x/a}",
    '{"$gt": ""}',
]
UNICODE = [
    "\u202egnp.exe",  # right-to-left override
    "zero\u200bwidth\ufeff",
    "line\u2028separator\u2029",
    "🦆 multi-region ✅ 日本語 العربية",
    "e\u0301\u0301\u0301 combining",
    "\t tabs and  spaces \t",
    "x" * 10_000,
]
CORPUS = MARKUP + INJECTION + UNICODE
ITEM = "dns.failover-ttl"
API_ITEM = f"/api/v1/environments/production/items/{ITEM}"


def assert_escaped(html: str, value: str) -> None:
    """The page shows `value` escaped; markup in it never appears raw."""
    assert str(escape(value)) in html
    if "<" in value:
        assert value not in html


def api_item(client: TestClient, headers: dict[str, str]) -> dict:
    body = client.get("/api/v1/environments/production/checklist", headers=headers).json()
    return next(item for category in body["categories"] for item in category["items"] if item["id"] == ITEM)


@pytest.fixture
def editor(database: Database) -> dict[str, str]:
    return bearer(token_for(database, "corpus-editor", "editor"))


@pytest.fixture
def admin(database: Database) -> dict[str, str]:
    return bearer(token_for(database, "corpus-admin", "admin"))


def test_notes_and_owners_are_stored_exactly_and_shown_escaped(
    client: TestClient, editor: dict[str, str]
) -> None:
    for value in CORPUS:
        response = client.patch(API_ITEM, json={"note": value, "owner": value[:128]}, headers=editor)
        assert response.status_code == 200, (value, response.text)
        stored = api_item(client, editor)
        assert stored["note"] == value
        assert stored["owner"] == (value[:128].strip() or None)
        assert_escaped(client.get("/", headers=editor).text, value)
        history = client.get(f"/environments/production/items/{ITEM}/history", headers=editor).text
        assert_escaped(history, value)
    assert api_item(client, editor)["version"] == len(CORPUS)  # every save landed, none lost


def test_an_owner_over_the_limit_is_refused_and_nothing_changes(
    client: TestClient, editor: dict[str, str]
) -> None:
    before = api_item(client, editor)
    response = client.patch(API_ITEM, json={"owner": "<b>" * 50, "note": "x"}, headers=editor)
    assert response.status_code == 422
    assert api_item(client, editor) == before


def test_the_no_javascript_form_stores_notes_and_owners_exactly(
    client: TestClient, database: Database
) -> None:
    make_user(database, "form-editor", "editor", "correct horse")
    sign_in(client, "form-editor")
    for value in CORPUS:
        csrf = page_csrf_token(client.get("/").text)
        form = {"csrf_token": csrf, "form_kind": "details", "owner": value[:128], "note": value}
        response = client.post(f"/environments/production/items/{ITEM}", data=form, follow_redirects=False)
        assert response.status_code == 303, (value, response.text[:300])
        item = client.get("/api/v1/environments/production/checklist").json()
        stored = next(i for c in item["categories"] for i in c["items"] if i["id"] == ITEM)
        assert stored["note"] == value.replace("\r\n", "\n")
        assert stored["owner"] == (value[:128].strip() or None)


def test_hostile_environment_names_are_refused_and_unknown_in_urls(
    client: TestClient, admin: dict[str, str]
) -> None:
    for value in CORPUS:
        response = client.post("/api/v1/environments", json={"name": value}, headers=admin)
        assert response.status_code == 422, (value, response.text)
        assert client.get(
            f"/api/v1/environments/{quote(value, safe='')}/checklist", headers=admin
        ).status_code in (404, 422)
        page = client.get("/", params={"env": value}, headers=admin)
        assert page.status_code == 404
        if "<" in value:
            assert value not in page.text
    assert [env["name"] for env in client.get("/api/v1/environments", headers=admin).json()] == ["production"]


def test_hostile_user_names_are_refused_and_token_names_stored_exactly(
    client: TestClient, admin: dict[str, str], database: Database
) -> None:
    for value in CORPUS:
        response = client.post("/api/v1/users", json={"name": value, "role": "viewer"}, headers=admin)
        assert response.status_code == 422, (value, response.text)
        assert (
            client.post("/api/v1/tokens", json={"user": value, "name": "x"}, headers=admin).status_code == 404
        )
    for value in [v for v in CORPUS if len(v.strip()) <= 128]:
        response = client.post("/api/v1/tokens", json={"user": "corpus-admin", "name": value}, headers=admin)
        assert response.status_code == 201, (value, response.text)
        assert response.json()["name"] == value
    with database.read() as session:
        names = set(session.scalars(select(ApiToken.name)))
    assert {v.strip() for v in CORPUS if len(v.strip()) <= 128} <= names


def test_import_keys_are_reported_escaped(client: TestClient, editor: dict[str, str]) -> None:
    payload = json.dumps(CORPUS).encode()
    before = client.get("/api/v1/environments/production/checklist", headers=editor).json()
    response = client.post(
        "/environments/production/import", files={"file": ("x.json", payload)}, headers=editor
    )
    assert response.status_code == 200
    for value in CORPUS:
        assert_escaped(response.text, value)
    assert client.get("/api/v1/environments/production/checklist", headers=editor).json() == before


def test_hostile_filenames_are_shown_escaped(client: TestClient, editor: dict[str, str]) -> None:
    for value in MARKUP:
        response = client.post(
            "/environments/production/import", files={"file": (value, b"not json")}, headers=editor
        )
        assert response.status_code == 400
        if "<" in value:
            assert value not in response.text


LOGIN_CORPUS = MARKUP + INJECTION[:4] + UNICODE[-2:]  # each failed sign-in costs an argon2 hash


def test_login_fields_are_escaped_and_failed_names_never_stored(
    client: TestClient, database: Database
) -> None:
    """A name no user has is counted, never kept (people type passwords there)."""
    for value in LOGIN_CORPUS:
        form = client.get("/login", params={"next": value})
        assert form.status_code == 200
        if "<" in value:
            assert value not in form.text
        csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        response = client.post(
            "/login",
            data={"name": value, "password": value, "csrf_token": csrf, "next": value},
            follow_redirects=False,
        )
        assert response.status_code in (401, 429), (value, response.status_code)
        if "<" in value:
            assert value not in response.text
    with database.read() as session:
        failed = session.scalars(select(AuditEvent).where(AuditEvent.action == "login.failed")).all()
    assert {event.actor for event in failed} == {"anonymous"}
    assert sum(int((event.new_value or "").split(" ", 1)[0]) for event in failed) == len(LOGIN_CORPUS)
    assert not [value for value in LOGIN_CORPUS for event in failed if value in (event.new_value or "")]


def test_sql_looking_values_leave_every_table_intact(client: TestClient, editor: dict[str, str]) -> None:
    for value in INJECTION:
        assert client.patch(API_ITEM, json={"note": value}, headers=editor).status_code == 200
    body = client.get("/api/v1/environments/production/checklist", headers=editor).json()
    assert body["total"] == 20
    history = client.get(f"{API_ITEM}/history", headers=editor).json()
    assert [event["new"] for event in history if event["action"] == "note"] == INJECTION[::-1]
