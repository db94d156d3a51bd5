"""The app on a real SQLite file for the hostile-input tests that drive it with many requests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.settings import Settings
from mission_control.web.app import create_app, prepare_database


@pytest.fixture
def sqlite_database(sqlite_url: str, catalog: Catalog) -> Iterator[Database]:
    database = Database(sqlite_url)
    prepare_database(database, catalog)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_app(sqlite_database: Database, sqlite_url: str, catalog: Catalog):
    return create_app(Settings(database_url=sqlite_url), database=sqlite_database, catalog=catalog)
