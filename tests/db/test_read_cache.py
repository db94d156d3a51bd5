"""Cached reads are never older than uncached ones: reused only until a commit or their deadline."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.db.read_cache import ReadCache
from mission_control.progress import service
from mission_control.progress.models import Environment
from mission_control.web.app import prepare_database


def other_writer_commits(database_url: str, catalog: Catalog, name: str) -> None:
    """A commit through its own engine and connections: what another process or replica does."""
    other = Database(database_url)
    try:
        with other.transaction() as session:
            service.create_environment(session=session, catalog=catalog, name=name, actor="other")
    finally:
        other.dispose()


def environment_names(session, now: datetime | None = None) -> tuple[list[str], None]:
    return [row.name for row in session.scalars(select(Environment).order_by(Environment.name))], None


def test_a_commit_elsewhere_changes_the_data_stamp(
    database: Database, database_url: str, catalog: Catalog
) -> None:
    before = database.data_stamp()
    other_writer_commits(database_url, catalog, "staging")
    assert database.data_stamp() != before


def test_reads_leave_the_sqlite_data_stamp_alone(sqlite_url: str, catalog: Catalog) -> None:
    database = Database(sqlite_url)
    try:
        prepare_database(database, catalog)
        stamp = database.data_stamp()
        with database.read() as session:
            service.list_environments(session=session)
        assert database.data_stamp() == stamp
    finally:
        database.dispose()


def test_a_cached_read_is_reused_until_someone_commits(
    database: Database, database_url: str, catalog: Catalog
) -> None:
    cache = ReadCache(database)
    computed: list[list[str]] = []

    def compute(session, now: datetime):
        names, valid_until = environment_names(session)
        computed.append(names)
        return names, valid_until

    first = cache.get("environments", compute)
    if database.is_sqlite:  # PostgreSQL's snapshot also moves with unrelated cluster activity
        assert cache.get("environments", compute) == first
        assert len(computed) == 1
    other_writer_commits(database_url, catalog, "staging")
    assert cache.get("environments", compute) == ["production", "staging"]
    assert computed[-1] == ["production", "staging"]


def test_a_cached_read_is_recomputed_once_its_deadline_passes(sqlite_url: str, catalog: Catalog) -> None:
    database = Database(sqlite_url)
    prepare_database(database, catalog)
    moment = [datetime(2026, 12, 1, tzinfo=UTC)]
    cache = ReadCache(database, clock=lambda: moment[0])
    seen: list[datetime] = []

    def until_noon(session, now: datetime):
        seen.append(now)
        return environment_names(session)[0], datetime(2026, 12, 1, 12, tzinfo=UTC)

    cache.get("morning", until_noon)
    moment[0] = datetime(2026, 12, 1, 11, 59, tzinfo=UTC)
    cache.get("morning", until_noon)
    moment[0] = datetime(2026, 12, 1, 12, tzinfo=UTC)
    cache.get("morning", until_noon)
    database.dispose()
    assert seen == [datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 1, 12, tzinfo=UTC)]


def test_a_failed_read_caches_nothing(database: Database) -> None:
    cache = ReadCache(database)

    def missing(session, now: datetime):
        return service.get_environment(session=session, name="nowhere"), None

    for _ in range(2):
        with pytest.raises(service.NotFound, match="'nowhere' does not exist"):
            cache.get("nowhere", missing)
    assert cache.get("nowhere", environment_names) == ["production"]


def test_an_in_memory_database_is_never_served_from_cache() -> None:
    database = Database("sqlite://")
    assert database.data_stamp() != database.data_stamp()
