"""Reuse an expensive read until the database changes or the answer expires with time.

The dashboard is read far more often than it changes: fifty people watching one checklist during
an incident review should not each recompute it. An entry is reused only while the database's data
stamp is the one read before computing it and its own deadline (evidence expiring) has not passed,
so a cached answer is never older than an uncached one would be. One thread computes a missing
entry while the others asking for the same key wait for it, instead of all recomputing at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from mission_control.db.base import utcnow
from mission_control.db.database import Database

T = TypeVar("T")
LOCK_STRIPES = 64


@dataclass(frozen=True)
class _Entry:
    stamp: Hashable
    valid_until: datetime | None
    value: Any


class ReadCache:
    def __init__(
        self, database: Database, max_entries: int = 256, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._database = database
        self._clock = clock
        self._max_entries = max_entries
        self._entries: dict[Hashable, _Entry] = {}
        self._stripes = tuple(threading.Lock() for _ in range(LOCK_STRIPES))  # bounded, unlike a lock per key
        self._guard = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[Session, datetime], tuple[T, datetime | None]]) -> T:
        """`compute(session, now)` returns the value as of `now` (the cache's clock, so a test can move
        it) and when the value stops being true (None: only on writes)."""
        stamp = self._database.data_stamp()  # before the read: see Database.data_stamp
        now = self._clock()
        entry = self._fresh(key, stamp, now)
        if entry is not None:
            return entry.value
        with self._stripes[hash(key) % LOCK_STRIPES]:
            entry = self._fresh(key, stamp, now)  # computed while we waited
            if entry is not None:
                return entry.value
            with self._database.read() as session:
                value, valid_until = compute(session, now)
            self._store(key, _Entry(stamp, valid_until, value))
            return value

    def _fresh(self, key: Hashable, stamp: Hashable, now: datetime) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is None or entry.stamp != stamp:
            return None
        if entry.valid_until is not None and now >= entry.valid_until:
            return None
        return entry

    def _store(self, key: Hashable, entry: _Entry) -> None:
        with self._guard:
            if key not in self._entries and len(self._entries) >= self._max_entries:
                self._entries.pop(next(iter(self._entries)))  # the oldest key: keys are few and stable
            self._entries[key] = entry
