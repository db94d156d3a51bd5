"""Schemathesis against the app's own OpenAPI document: no request, valid or not, gets a 5xx.

Cases come from schemathesis' Hypothesis strategies, both schema-conforming (positive) and
deliberately invalid (negative), one test per operation so new endpoints join automatically.
They are sent in-process through Starlette's TestClient (lifespan included) to the app on a real
SQLite file, as an admin, so each handler is reached and not only the 401 path.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode

from mission_control.catalog import load_default_catalog
from mission_control.db.database import Database
from mission_control.settings import Settings
from mission_control.web.app import create_app
from tests.conftest import bearer, token_for
from tests.hostile.profiles import API


def _operations() -> dict[str, Any]:
    """Every operation in /openapi.json; the spec needs no database, so none is opened."""
    app = create_app(
        Settings(database_url="sqlite://"), database=Database("sqlite://"), catalog=load_default_catalog()
    )
    schema = schemathesis.openapi.from_dict(app.openapi())
    return {result.ok().label: result.ok() for result in schema.get_all_operations()}


OPERATIONS = _operations()


def httpx_request(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Schemathesis' requests-style arguments as httpx ones (raw bodies are `content` there)."""
    request = {
        key: kwargs[key] for key in ("method", "url", "headers", "params", "json", "files") if key in kwargs
    }
    if "data" in kwargs:
        request["content" if isinstance(kwargs["data"], bytes | str) else "data"] = kwargs["data"]
    if kwargs.get("cookies"):
        cookie = "; ".join(f"{name}={value}" for name, value in kwargs["cookies"].items())
        request["headers"] = dict(request.get("headers") or {}) | {"Cookie": cookie}
    return request


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_operation_answers_5xx(label: str, sqlite_app, sqlite_database: Database) -> None:
    operation = OPERATIONS[label]
    cases = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    sent: list[str] = []

    with TestClient(sqlite_app, raise_server_exceptions=False) as client:

        @API
        @given(case=cases)
        def no_5xx(case) -> None:
            # A fresh admin token per case: DELETE /api/v1/tokens/{id} may revoke the previous one.
            headers = bearer(token_for(sqlite_database, "schemathesis", "admin"))
            response = client.request(
                **httpx_request(case.as_transport_kwargs(base_url="http://testserver", headers=headers))
            )
            sent.append(case.method)
            assert response.status_code < 500, (
                f"{case.as_curl_command()} -> {response.status_code}: {response.text[:300]}"
            )

        no_5xx()
    assert sent, f"no case was generated for {label}"
