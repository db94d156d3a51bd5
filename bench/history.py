"""The dashboard's in-place history (every item's 10 newest changes) as the audit trail grows.

For each engine and each trail length, a fresh migrated database gets that many audit events spread
over 15 of the 20 items, then `recent_changes` for all 20 items is timed (the mean of 20 calls after
one untimed), with the item-history index and, for comparison, with it dropped.

    .venv/bin/python bench/history.py                      # SQLite and PostgreSQL, 1,000 to 100,000 events
    .venv/bin/python bench/history.py --engines sqlite --events 10000
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import select, text

from mission_control.catalog import load_default_catalog
from mission_control.db.database import Database
from mission_control.progress.history import recent_changes
from mission_control.progress.models import AuditEvent, Environment
from mission_control.web.app import prepare_database

POSTGRES_ADMIN_URL = os.environ.get("MC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
CALLS = 20


@contextmanager
def fresh_database(engine: str) -> Iterator[Database]:
    if engine == "sqlite":
        with tempfile.TemporaryDirectory(prefix="mc-bench-history-") as directory:
            database = Database(f"sqlite:///{Path(directory) / 'mission-control.db'}")
            yield database
            database.dispose()
        return
    name = f"mc_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    database = Database(f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}")
    try:
        yield database
    finally:
        database.dispose()
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def milliseconds_per_call(database: Database, environment_id: int, item_ids: list[str]) -> float:
    with database.read() as session:
        recent_changes(session=session, environment_id=environment_id, item_ids=item_ids)
        started = time.perf_counter()
        for _ in range(CALLS):
            recent_changes(session=session, environment_id=environment_id, item_ids=item_ids)
        return (time.perf_counter() - started) / CALLS * 1000


def measure(engine: str, events: int) -> tuple[float, float]:
    catalog = load_default_catalog()
    item_ids = [item.id for item in catalog.items]
    with fresh_database(engine) as database:
        prepare_database(database, catalog)
        with database.transaction() as session:
            environment_id = session.scalars(
                select(Environment.id).where(Environment.name == "production")
            ).one()
            chooser = random.Random(events)
            session.execute(
                AuditEvent.__table__.insert(),
                [
                    {
                        "actor": "bench",
                        "action": "note",
                        "environment_id": environment_id,
                        "item_id": chooser.choice(item_ids[:15]),
                        "old_value": "o" * 200,
                        "new_value": "n" * 200,
                    }
                    for _ in range(events)
                ],
            )
        with database.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        indexed = milliseconds_per_call(database, environment_id, item_ids)
        with database.engine.begin() as connection:
            connection.execute(text("DROP INDEX ix_audit_events_item_history"))
        unindexed = milliseconds_per_call(database, environment_id, item_ids)
    return indexed, unindexed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--events", nargs="+", type=int, default=[1_000, 10_000, 100_000])
    arguments = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}")
    print("| engine | audit events | with the index (ms) | without it (ms) |")
    print("|---|---|---|---|")
    for engine in arguments.engines:
        for events in arguments.events:
            indexed, unindexed = measure(engine, events)
            print(f"| {engine} | {events:,} | {indexed:.1f} | {unindexed:.1f} |", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
