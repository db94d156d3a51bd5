"""A local OpenID Connect provider per test, and the app configured to sign in through it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import httpx
import pytest
from fastapi.testclient import TestClient

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.settings import OidcSettings, Settings, parse_role_map
from mission_control.web.app import create_app
from tests.conftest import ServerProcess, free_port
from tests.identity.provider import LocalProvider
from tests.secrets_in_logs import plant

CLIENT_ID = "mission-control"
CLIENT_SECRET = plant("a-client-secret-for-tests")
ROLE_MAP = "platform-admins=admin,sre=editor,readers=viewer"
APP_CALLBACK = "http://testserver/login/sso/callback"


@pytest.fixture
def provider() -> Iterator[LocalProvider]:
    running = LocalProvider(
        port=free_port(), client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=[APP_CALLBACK]
    )
    running.account = {"sub": "user-ada", "preferred_username": "ada", "groups": ["sre"]}
    running.start()
    yield running
    running.stop()


def oidc_settings(issuer: str, role_map: str = ROLE_MAP) -> OidcSettings:
    return OidcSettings(
        issuer=issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, role_map=parse_role_map(role_map)
    )


@pytest.fixture
def sso_client_for(
    database: Database, database_url: str, catalog: Catalog
) -> Iterator[Callable[[OidcSettings], TestClient]]:
    """Make a client of the app configured with the given OIDC settings, on the test database."""
    with ExitStack() as running:

        def make(oidc: OidcSettings) -> TestClient:
            settings = Settings(database_url=database_url, oidc=oidc)
            return running.enter_context(TestClient(create_app(settings, database=database, catalog=catalog)))

        yield make


@pytest.fixture
def sso_client(sso_client_for: Callable[[OidcSettings], TestClient], provider: LocalProvider) -> TestClient:
    return sso_client_for(oidc_settings(provider.issuer))


@pytest.fixture
def sso_server(
    provider: LocalProvider, database: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ServerProcess]:
    """`mission-control serve` configured for the provider through the MC_OIDC_* environment only."""
    server = ServerProcess(database_url, free_port())
    provider.redirect_uris.append(f"{server.url}/login/sso/callback")
    monkeypatch.setenv("MC_OIDC_ISSUER", provider.issuer)
    monkeypatch.setenv("MC_OIDC_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("MC_OIDC_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("MC_OIDC_ROLE_MAP", ROLE_MAP)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def at_provider(client: TestClient, *, next_path: str = "/") -> httpx.Response:
    """The browser's first two hops: Mission Control's /login/sso, then the provider's /authorize."""
    start = client.get("/login/sso", params={"next": next_path}, follow_redirects=False)
    assert start.status_code == 303, start.text
    answer = httpx.get(start.headers["location"], follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return answer


def sso_sign_in(client: TestClient, *, next_path: str = "/") -> httpx.Response:
    """Walk the whole browser path and return Mission Control's answer to the callback."""
    return client.get(at_provider(client, next_path=next_path).headers["location"], follow_redirects=False)
