"""What a server shows people who have not signed in: its access log, and its API description."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from mission_control.db.database import Database
from mission_control.web.access_log import redact
from tests.conftest import free_port, token_for


def test_the_sso_code_and_state_never_reach_the_access_log(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    port, log = free_port(), tmp_path / "access.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "mission_control", "serve", "--port", str(port)],
            env=os.environ | {"MC_DATABASE_URL": database_url},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while "Uvicorn running" not in log.read_text(errors="replace"):
                assert server.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
                time.sleep(0.1)
            callback = f"http://127.0.0.1:{port}/login/sso/callback?code=SECRET-CODE-1&state=SECRET-STATE-2"
            assert httpx.get(callback, timeout=10).status_code == 404  # SSO is not configured
            while "/login/sso/callback" not in log.read_text(errors="replace"):
                assert time.monotonic() < deadline
                time.sleep(0.1)
        finally:
            server.terminate()
            server.wait(timeout=15)
    written = log.read_text(errors="replace")
    assert "SECRET-CODE-1" not in written and "SECRET-STATE-2" not in written
    assert "/login/sso/callback?code=[redacted]&state=[redacted]" in written


def test_redaction_keeps_everything_else() -> None:
    assert redact("/login/sso/callback?state=s&code=c&error=x") == (
        "/login/sso/callback?state=[redacted]&code=[redacted]&error=x"
    )
    assert redact("/history?env=production&item=dns.code") == "/history?env=production&item=dns.code"
    assert redact("/") == "/"


def test_the_api_description_is_public_and_holds_no_data(client: TestClient, database: Database) -> None:
    """Documented choice (README, "HTTP API"): /openapi.json and /docs describe the API only; every
    operation they list still needs a session or a token."""
    token_for(database, "secret-agent", "admin")
    description = client.get("/openapi.json")
    assert description.status_code == 200
    assert "secret-agent" not in description.text and "mc_" not in description.text
    assert client.get("/docs").status_code == 200
    assert client.get("/api/v1/tokens").status_code == 401
