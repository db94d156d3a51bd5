"""Regression tests for the bugs the hostile-input suite found outside the parsers (all fixed)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.demo.estate import demo_config_toml
from mission_control.settings import Settings
from mission_control.verification.config import EnvironmentConfig, parse_config
from mission_control.web.app import create_app, prepare_database
from tests.conftest import bearer, make_user, sign_in, token_for

ITEM = "/api/v1/environments/production/items/dns.failover-ttl"


@pytest.fixture
def app_client(sqlite_app) -> Iterator[TestClient]:
    with TestClient(sqlite_app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def postgres_client(postgres_url: str, catalog: Catalog) -> Iterator[tuple[TestClient, Database]]:
    database = Database(postgres_url)
    prepare_database(database, catalog)
    app = create_app(Settings(database_url=postgres_url), database=database, catalog=catalog)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, database
    database.dispose()


def test_login_with_a_non_ascii_csrf_token_is_a_400(app_client: TestClient) -> None:
    app_client.get("/login")
    response = app_client.post("/login", data={"name": "a", "password": "b", "csrf_token": "é"})
    assert response.status_code == 400


def test_a_non_ascii_csrf_header_is_a_403(app_client: TestClient, sqlite_database: Database) -> None:
    make_user(sqlite_database, "eve", "editor", "correct horse")
    sign_in(app_client, "eve")
    response = app_client.patch(ITEM, json={"note": "x"}, headers={"X-CSRF-Token": "é".encode("latin-1")})
    assert response.status_code == 403


def test_a_token_name_with_a_lone_surrogate_is_a_422(
    app_client: TestClient, sqlite_database: Database
) -> None:
    admin = bearer(token_for(sqlite_database, "boss", "admin"))
    response = app_client.post(
        "/api/v1/tokens",
        content=b'{"user": "boss", "name": "\\udfff"}',
        headers=admin | {"content-type": "application/json"},
    )
    assert response.status_code == 422


def test_an_environment_name_with_a_trailing_newline_is_refused(
    app_client: TestClient, sqlite_database: Database
) -> None:
    admin = bearer(token_for(sqlite_database, "boss", "admin"))
    assert app_client.post("/api/v1/environments", json={"name": "qa\n"}, headers=admin).status_code == 422


def test_a_user_name_with_a_trailing_newline_is_refused(
    app_client: TestClient, sqlite_database: Database
) -> None:
    admin = bearer(token_for(sqlite_database, "boss", "admin"))
    response = app_client.post("/api/v1/users", json={"name": "bob\n", "role": "viewer"}, headers=admin)
    assert response.status_code == 422


def test_revoking_a_token_id_beyond_64_bits_is_a_404(
    app_client: TestClient, sqlite_database: Database
) -> None:
    admin = bearer(token_for(sqlite_database, "boss", "admin"))
    assert app_client.delete("/api/v1/tokens/9223372036854775808", headers=admin).status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", ITEM, {"note": "a\x00b"}),
        ("PATCH", ITEM, {"owner": "a\x00b"}),
        ("GET", "/api/v1/environments/a%00b/checklist", None),
        ("GET", "/?env=a%00b", None),
        ("POST", "/api/v1/tokens", {"user": "a\x00", "name": "x"}),
        ("POST", "/api/v1/tokens", {"user": "boss", "name": "x\x00"}),
    ],
)
def test_nul_characters_are_refused_not_a_500_on_postgresql(
    postgres_client: tuple[TestClient, Database], method: str, path: str, body: dict | None
) -> None:
    client, database = postgres_client
    admin = bearer(token_for(database, "boss", "admin"))
    assert client.request(method, path, json=body, headers=admin).status_code < 500


def test_a_login_name_with_nul_is_a_401_on_postgresql(postgres_client: tuple[TestClient, Database]) -> None:
    client, _ = postgres_client
    form = client.get("/login").text
    csrf = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/login", data={"name": "a\x00", "password": "b", "csrf_token": csrf})
    assert response.status_code == 401


def test_a_token_name_over_128_characters_is_a_422_on_postgresql(
    postgres_client: tuple[TestClient, Database],
) -> None:
    client, database = postgres_client
    admin = bearer(token_for(database, "boss", "admin"))
    response = client.post("/api/v1/tokens", json={"user": "boss", "name": "x" * 200}, headers=admin)
    assert response.status_code == 422


def test_demo_config_toml_round_trips_non_bmp_text() -> None:
    config = EnvironmentConfig(
        name="prod", primary_region="us-east-1", secondary_region="eu-west-1", edge_role="🦆"
    )
    assert parse_config(demo_config_toml(config), source="demo.toml") == {"prod": config}


def test_an_environment_name_the_server_cannot_create_is_a_config_error() -> None:
    text = '[environments.Prod]\nprimary_region = "us-east-1"\nsecondary_region = "eu-west-1"\n'
    assert "Prod" in tomllib.loads(text)["environments"]
    with pytest.raises(Exception, match="environment name"):
        parse_config(text, source="mission-control.toml")
