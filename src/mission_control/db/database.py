"""Engines and transactions for SQLite (embedded, WAL) and PostgreSQL (team deployments).

SQLite allows one writer at a time: write transactions start with BEGIN IMMEDIATE so two writers
queue on the busy timeout instead of failing with "database is locked" when a read lock upgrades.
Writers of one process also queue on a lock first: SQLite's busy handler polls with sleeps of up to
100 ms, which would put those sleeps into the tail latency of every contended write.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Enough pooled SQLite connections for every request thread (anyio's default is 40), so a busy
# server reuses connections instead of opening one (and running its PRAGMAs) per request.
SQLITE_READ_POOL_SIZE = 40
SQLITE_WRITE_POOL_SIZE = 4
LIVE_CHANNEL = "mission_control_live"  # NOTIFY channel of live updates (web/events.py)
_AUDIT_TABLE = "audit_events"


class Database:
    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self._in_memory = self.is_sqlite and self.url.database in (None, "", ":memory:")
        if self.is_sqlite:
            self._prepare_sqlite_file()
            self.engine = self._sqlite_engine(begin="BEGIN", pool_size=SQLITE_READ_POOL_SIZE)
            self._write_engine = self._sqlite_engine(
                begin="BEGIN IMMEDIATE", pool_size=SQLITE_WRITE_POOL_SIZE
            )
            self._writer_queue: threading.Lock | nullcontext[None] = threading.Lock()
            self._watch_lock = threading.Lock()
            self._watch: tuple[int, sqlite3.Connection] | None = None  # (pid, connection)
        else:
            if self.url.drivername == "postgresql":
                self.url = self.url.set(drivername="postgresql+psycopg")
            self.engine = create_engine(self.url, pool_pre_ping=True, pool_size=10, max_overflow=20)
            self._write_engine = self.engine
            self._writer_queue = nullcontext()  # PostgreSQL locks rows, not the database
        self._read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self._write_engine, expire_on_commit=False)
        if not self.is_sqlite:
            event.listen(self._write_sessions, "after_flush", _wake_live_updates)

    def _prepare_sqlite_file(self) -> None:
        if not self._in_memory:
            Path(self.url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)

    def _sqlite_engine(self, *, begin: str, pool_size: int) -> Engine:
        pooling = {} if self._in_memory else {"pool_size": pool_size, "max_overflow": pool_size}
        engine = create_engine(self.url, connect_args={"check_same_thread": False, "timeout": 30}, **pooling)

        @event.listens_for(engine, "connect")
        def configure(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def begin_transaction(connection: Any) -> None:
            connection.exec_driver_sql(begin)

        return engine

    def data_stamp(self) -> Hashable:
        """A value that changes whenever a commit may have changed what a read sees.

        Read it *before* reading the data it guards: then a commit in between can only make the
        data newer than its stamp (one needless recompute later), never older.
        SQLite: `PRAGMA data_version` of a connection that never writes changes on every commit by
        any other connection, in any process. PostgreSQL: two reads with the same snapshot see the
        same data, and the snapshot changes whenever a transaction starts writing or ends.
        """
        if not self.is_sqlite:
            with self.engine.connect() as connection:
                return connection.exec_driver_sql("SELECT pg_current_snapshot()::text").scalar_one()
        if self._in_memory:
            return object()  # another connection would see another database: never reuse a read
        with self._watch_lock:
            if self._watch is None or self._watch[0] != os.getpid():  # not shared across a fork
                watch = sqlite3.connect(self.url.database, check_same_thread=False)
                self._watch = (os.getpid(), watch)
            return self._watch[1].execute("PRAGMA data_version").fetchone()[0]

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads; anything it changes is discarded."""
        with self._read_sessions() as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        with self._writer_queue, self._write_sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        self._write_engine.dispose()
        if self.is_sqlite and self._watch is not None:
            self._watch[1].close()
            self._watch = None


def _wake_live_updates(session: Session, _flush_context: Any) -> None:
    """PostgreSQL: a flush that adds audit events NOTIFYs every replica's poller, delivered at commit
    (and not at all on rollback). PostgreSQL folds identical notifications of one transaction."""
    if any(getattr(instance, "__tablename__", None) == _AUDIT_TABLE for instance in session.new):
        session.connection().execute(text("SELECT pg_notify(:channel, '')"), {"channel": LIVE_CHANNEL})
