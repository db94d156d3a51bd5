"""Live updates: one poller per process turns new audit events into server-sent events.

The audit table is the feed, so every replica sees every write (SQLite or a shared PostgreSQL)
without a message broker. Local writes nudge the poller so their own browsers update at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any

from sqlalchemy import select

from mission_control.db.database import Database
from mission_control.progress.models import Environment
from mission_control.progress.service import events_after, last_event_id

POLL_SECONDS = 0.2
_LATE_COMMIT_WINDOW = 200  # PostgreSQL can commit a lower id after a higher one: look back this far


class LiveEvents:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._subscribers: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._seen: deque[int] = deque(maxlen=4 * _LATE_COMMIT_WINDOW)
        self._environment_names: dict[int, str] = {}

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._poll_forever())

    async def stop(self) -> None:
        for queue in list(self._subscribers):
            queue.put_nowait(None)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def subscribe(self) -> asyncio.Queue[dict[str, Any] | None]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=1000)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        self._subscribers.discard(queue)

    def publish(self, event: dict[str, Any]) -> None:
        """Send an ephemeral event (e.g. verification progress) to this process's subscribers now."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._fan_out, [event])

    def nudge(self) -> None:
        """Wake the poller now; safe to call from request threads."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _poll_forever(self) -> None:
        last_id = await asyncio.to_thread(self._last_id)
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            self._wake.clear()
            try:
                events = await asyncio.to_thread(self._fetch, last_id)
            except Exception:  # a database hiccup must not end live updates; the next poll retries
                continue
            if events:
                last_id = max(last_id, *(event["id"] for event in events))
            self._fan_out(events)

    def _fan_out(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            for queue in list(self._subscribers):
                if queue.full():  # a stalled client: drop it rather than grow without bound
                    self._subscribers.discard(queue)
                    continue
                queue.put_nowait(event)

    @property
    def _look_back(self) -> int:
        return 0 if self._database.is_sqlite else _LATE_COMMIT_WINDOW

    def _last_id(self) -> int:
        """The newest event id at start; events already in the look-back window count as seen."""
        with self._database.read() as session:
            last_id = last_event_id(session=session)
            for row in events_after(session=session, after_id=max(0, last_id - self._look_back)):
                self._seen.append(row.id)
            return last_id

    def _fetch(self, last_id: int) -> list[dict[str, Any]]:
        with self._database.read() as session:
            rows = events_after(session=session, after_id=max(0, last_id - self._look_back))
            fresh = [row for row in rows if row.id not in self._seen]
            unknown = {row.environment_id for row in fresh} - set(self._environment_names) - {None}
            if unknown:
                for environment in session.scalars(select(Environment).where(Environment.id.in_(unknown))):
                    self._environment_names[environment.id] = environment.name
        events = []
        for row in fresh:
            self._seen.append(row.id)
            events.append(
                {
                    "id": row.id,
                    "environment": self._environment_names.get(row.environment_id or -1),
                    "item_id": row.item_id,
                    "action": row.action,
                    "actor": row.actor,
                }
            )
        return events
