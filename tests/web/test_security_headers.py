"""Security headers on every response, a strict CSP our pages live within, and request size limits."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.settings import Settings
from mission_control.web.app import create_app, prepare_database
from mission_control.web.headers import CONTENT_SECURITY_POLICY, DOCS_CONTENT_SECURITY_POLICY
from tests.conftest import ServerProcess, bearer, free_port, make_user, sign_in, token_for

ITEM = "/api/v1/environments/production/items/dns.failover-ttl"
TEMPLATES = Path(__file__).resolve().parents[2] / "src/mission_control/web/templates"
LIMIT = Settings(database_url="sqlite://").max_body_bytes


def assert_security_headers(response: httpx.Response, policy: str = CONTENT_SECURITY_POLICY) -> None:
    assert response.headers["content-security-policy"] == policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in response.headers


def test_the_policy_is_strict() -> None:
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "object-src": "'none'",
        "frame-ancestors": "'none'",
        "form-action": "'self'",
        "base-uri": "'none'",
    }


@pytest.mark.parametrize(
    "path", ["/login", "/", "/api/v1/environments/production/checklist", "/static/app.css", "/nowhere"]
)
def test_every_response_carries_the_headers(client: TestClient, database: Database, path: str) -> None:
    make_user(database, "ed", "editor", password="correct horse")
    sign_in(client, "ed")
    assert_security_headers(client.get(path, follow_redirects=False))


def test_unauthenticated_and_error_responses_carry_them_too(client: TestClient) -> None:
    assert_security_headers(client.get("/api/v1/me"))
    assert_security_headers(client.get("/", follow_redirects=False))


def test_docs_alone_get_the_relaxed_policy_it_needs(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert_security_headers(docs, DOCS_CONTENT_SECURITY_POLICY)
    assert "https://" not in docs.text  # Swagger UI comes from this server: /docs works offline
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/redoc").status_code == 404  # no second API browser needing its own exception


def test_no_template_has_inline_script_or_style() -> None:
    """What the strict policy would block: inline <script>, on* handlers, style attributes or elements."""
    for template in TEMPLATES.glob("*.html"):
        html = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), template.name
        assert not re.search(r"\son[a-z]+\s*=", html), template.name
        assert not re.search(r"\sstyle\s*=|<style", html), template.name


def test_rendered_pages_have_no_inline_script(client: TestClient, database: Database) -> None:
    make_user(database, "ed", "editor", password="correct horse")
    sign_in(client, "ed")
    for path in ("/", "/login"):
        scripts = re.findall(r"<script[^>]*>", client.get(path).text)
        assert all("src=" in tag for tag in scripts), scripts


def test_https_deployments_get_strict_transport_security(database: Database, database_url: str) -> None:
    app = create_app(Settings(database_url=database_url, secure_cookies=True), database=database)
    with TestClient(app) as client:
        assert client.get("/login").headers["strict-transport-security"] == "max-age=31536000"


@pytest.fixture
def editor(client: TestClient, database: Database) -> dict[str, str]:
    return bearer(token_for(database, "ed", "editor"))


def too_big_note() -> bytes:
    return b'{"note": "' + b"x" * LIMIT + b'"}'


def test_a_body_over_the_limit_with_content_length_gets_413(
    client: TestClient, editor: dict[str, str]
) -> None:
    response = client.patch(
        ITEM, content=too_big_note(), headers=editor | {"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == {"detail": f"request body too large: the limit is {LIMIT:,} bytes"}
    assert client.get("/api/v1/environments/production/checklist", headers=editor).status_code == 200


def test_a_chunked_body_over_the_limit_gets_413(client: TestClient, editor: dict[str, str]) -> None:
    body = too_big_note()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    response = client.patch(ITEM, content=chunks(), headers=editor | {"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "the limit is" in response.json()["detail"]


def test_a_body_at_the_limit_is_accepted(client: TestClient, editor: dict[str, str]) -> None:
    prefix, suffix = b'{"owner": "', b'"}'
    body = prefix + b"o" * 100 + suffix + b" " * (LIMIT - len(prefix) - 100 - len(suffix))
    assert len(body) == LIMIT
    response = client.patch(ITEM, content=body, headers=editor | {"Content-Type": "application/json"})
    assert response.status_code == 200, response.text


def test_an_oversized_form_post_is_refused_before_the_csrf_check(client: TestClient) -> None:
    response = client.post("/login", data={"name": "x", "password": "y" * LIMIT})
    assert response.status_code == 413
    assert "request body too large" in response.text


def test_the_real_server_refuses_a_chunked_upload_over_the_limit(sqlite_url: str, catalog: Catalog) -> None:
    """Through uvicorn, with Transfer-Encoding: chunked and no Content-Length at all."""
    database = Database(sqlite_url)
    prepare_database(database, catalog)
    token = token_for(database, "ed", "editor")
    database.dispose()
    running = ServerProcess(sqlite_url, free_port())
    running.start()
    try:
        body = too_big_note()
        response = httpx.patch(
            running.url + ITEM,
            content=iter([body[: LIMIT // 2], body[LIMIT // 2 :]]),
            headers=bearer(token) | {"Content-Type": "application/json"},
            timeout=30,
        )
        assert response.status_code == 413
        assert "the limit is" in response.json()["detail"]
        assert response.headers["x-content-type-options"] == "nosniff"
    finally:
        running.stop()
