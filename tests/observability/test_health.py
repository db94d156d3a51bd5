"""Liveness and readiness answer without sign-in, and readiness says why a replica must not serve."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from mission_control.db.database import Database
from mission_control.db.migrate import head_revision
from mission_control.settings import Settings
from mission_control.web.app import create_app


def set_revision(database: Database, revision: str) -> None:
    with database.transaction() as session:
        session.execute(text("UPDATE alembic_version SET version_num = :revision"), {"revision": revision})


def test_healthz_answers_without_sign_in(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_on_a_migrated_reachable_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_readyz_refuses_traffic_when_the_schema_is_behind(client: TestClient, database: Database) -> None:
    set_revision(database, "0001")
    try:
        response = client.get("/readyz")
    finally:  # the PostgreSQL database is shared by the run's tests
        set_revision(database, head_revision())
    assert response.status_code == 503
    assert "schema is at 0001" in response.json()["reason"]
    assert "run db upgrade" in response.json()["reason"]


def test_readyz_refuses_traffic_when_the_database_is_unreachable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}"  # a directory: SQLite cannot open it
    app = create_app(Settings(database_url=url), database=Database(url), configs={})
    response = TestClient(app).get("/readyz")  # no lifespan: the database is never created
    assert response.status_code == 503
    assert response.json()["reason"].startswith("database unreachable")
