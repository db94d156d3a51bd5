"""Migrations build exactly the schema the models describe, on both engines, and re-run safely."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from mission_control.db import models  # noqa: F401  (registers every table)
from mission_control.db.base import Base
from mission_control.db.database import Database
from mission_control.db.migrate import current_revision, is_ours, upgrade


def test_migrated_schema_matches_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={"include_name": is_ours}), Base.metadata
        )
    assert differences == []


def test_upgrade_is_idempotent(database: Database) -> None:
    before = current_revision(database)
    upgrade(database)
    assert current_revision(database) == before


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_url: str) -> None:
    database = Database(sqlite_url)
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    database.dispose()


def test_migrations_run_from_an_empty_postgresql_database(empty_postgres_url: str) -> None:
    database = Database(empty_postgres_url)
    upgrade(database)
    with database.engine.connect() as connection:
        assert (
            compare_metadata(
                MigrationContext.configure(connection, opts={"include_name": is_ours}), Base.metadata
            )
            == []
        )
    database.dispose()


def test_migrations_run_from_an_empty_sqlite_file(sqlite_url: str) -> None:
    database = Database(sqlite_url)
    assert current_revision(database) is None
    upgrade(database)
    assert current_revision(database) is not None
    database.dispose()
