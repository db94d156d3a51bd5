"""Live updates: one poller per process turns new audit events and job progress into server-sent events.

The database is the feed, so every replica sees every write without a message broker:
- audit events are read by the poller, every 200 ms on SQLite; on PostgreSQL each commit that adds
  one sends a NOTIFY (db/database.py) that wakes the poller at once, which then polls only as a
  safety net;
- job progress is read from the job runs on SQLite, and arrives by NOTIFY on PostgreSQL from whichever
  process (a worker, a replica) runs the job (jobs/service.py).
Local writes also nudge the poller so their own browsers update at once. An open stream re-checks its
credential every `recheck_seconds` and ends once it no longer holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from mission_control.db.base import utcnow
from mission_control.db.database import LIVE_CHANNEL, Database
from mission_control.identity.service import find_session, find_token
from mission_control.jobs.models import JobRun
from mission_control.jobs.service import progress_event
from mission_control.progress.models import Environment
from mission_control.progress.service import events_after, last_event_id
from mission_control.web.auth import SESSION_COOKIE

POLL_SECONDS = 0.2
LISTENING_POLL_SECONDS = 5.0
LISTEN_SECONDS = 1.0  # the listener looks up from its wait this often, so it stops promptly  # on PostgreSQL with LISTEN up: a safety net for a missed notification
EVERY_ENVIRONMENT = "*"  # no environment name can be "*": an event for every stream
KEEP_ALIVE_SECONDS = 15
FAILURE_LOG_SECONDS = 60.0  # a database that stays down is logged once a minute, not every poll
_LATE_COMMIT_WINDOW = 200  # PostgreSQL can commit a lower id after a higher one: look back this far

logger = logging.getLogger(__name__)


class LiveEvents:
    def __init__(
        self,
        database: Database,
        *,
        recheck_seconds: float = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._database = database
        self.recheck_seconds = recheck_seconds
        self._clock = clock
        self.failed_polls = 0
        self._failure_logged: tuple[float, int] | None = None  # when, and after how many failed polls
        self._subscribers: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._seen: deque[int] = deque(maxlen=4 * _LATE_COMMIT_WINDOW)
        self._environment_names: dict[int, str] = {}
        self._jobs_seen_at = utcnow()  # SQLite: job runs that moved since then are news
        self._job_states: dict[int, tuple[str, int]] = {}  # job run -> (status, done) last sent
        self._listening = False
        self._stopping = False
        self._listener: asyncio.Task[None] | None = None

    @property
    def listening(self) -> bool:
        """PostgreSQL: whether the LISTEN connection is up (else live updates wait for the next poll)."""
        return self._listening

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._poll_forever())
        if not self._database.is_sqlite:
            self._listener = asyncio.create_task(self._listen_forever())

    async def stop(self) -> None:
        for queue in list(self._subscribers):
            queue.put_nowait(None)
        self._stopping = True
        if self._listener is not None:  # ends within a second on its own: cancelling psycopg's wait can hang
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._listener), LISTEN_SECONDS * 3)
        for task in (self._task, self._listener):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def end_streams(self) -> None:
        """End every open event stream now, from any thread: a server stopping need not wait for them."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(
                lambda: [queue.put_nowait(None) for queue in list(self._subscribers)]
            )

    def subscribe(self) -> asyncio.Queue[dict[str, Any] | None]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=1000)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        self._subscribers.discard(queue)

    def nudge(self) -> None:
        """Wake the poller now; safe to call from request threads."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _poll_forever(self) -> None:
        last_id = await asyncio.to_thread(self._last_id)
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._wake.wait(), LISTENING_POLL_SECONDS if self._listening else POLL_SECONDS
                )
            self._wake.clear()
            try:
                events, last_id = await asyncio.to_thread(self._fetch, last_id)
            except Exception:  # a database hiccup must not end live updates; the next poll retries
                self._log_failure()
                continue
            self._fan_out(events)

    async def _listen_forever(self) -> None:
        """PostgreSQL: LISTEN for woken polls and job progress; reconnect after a failure."""
        import psycopg

        from mission_control.jobs.queue import conninfo

        while not self._stopping:
            try:
                async with await psycopg.AsyncConnection.connect(
                    conninfo(self._database.url), autocommit=True
                ) as connection:
                    await connection.execute(f"LISTEN {LIVE_CHANNEL}")
                    self._listening = True
                    self._wake.set()  # catch up with what came while nobody listened
                    while not self._stopping:
                        async for notification in connection.notifies(timeout=LISTEN_SECONDS):
                            self._on_notification(notification.payload)
            except asyncio.CancelledError:
                raise
            except Exception:
                self._listening = False
                self._log_failure()
                await asyncio.sleep(1)
        self._listening = False

    def _on_notification(self, payload: str) -> None:
        message = json.loads(payload) if payload else {}
        if "progress" in message:
            self._fan_out([message["progress"]])
        else:
            self._wake.set()

    def _log_failure(self) -> None:
        """Log the failure with its traceback, at most once per FAILURE_LOG_SECONDS."""
        self.failed_polls += 1
        now = self._clock()
        at, polls = self._failure_logged or (None, 0)
        if at is None or now - at >= FAILURE_LOG_SECONDS:
            logger.exception(
                "live updates cannot read new events (%d failed polls since the last report); retrying",
                self.failed_polls - polls,
            )
            self._failure_logged = (now, self.failed_polls)

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
        with self._database.read() as session:
            return self._catch_up(session)

    def _catch_up(self, session: Session) -> int:
        """The newest event id now; events already in the look-back window count as seen."""
        self._seen.clear()
        last_id = last_event_id(session=session)
        for row in events_after(session=session, after_id=max(0, last_id - self._look_back)):
            self._seen.append(row.id)
        return last_id

    def _fetch(self, last_id: int) -> tuple[list[dict[str, Any]], int]:
        """New events and the id to continue after. A newest id below the last one seen means the
        table was replaced (`db restore --force`): start again from its newest, or nothing would be
        delivered until new ids passed the old ones, and tell every stream to reload."""
        with self._database.read() as session:
            rows = events_after(session=session, after_id=max(0, last_id - self._look_back))
            fresh = [row for row in rows if row.id not in self._seen]
            job_events = self._job_events(session) if self._database.is_sqlite else []
            if not fresh and last_event_id(session=session) < last_id:
                self._environment_names.clear()  # restored environments may have other ids
                restart = self._catch_up(session)
                restored = {
                    "id": restart,
                    "environment": EVERY_ENVIRONMENT,
                    "item_id": None,
                    "action": "restored",
                }
                return [restored | {"actor": None}], restart
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
        return job_events + events, max([last_id, *(event["id"] for event in events)])

    def _job_events_query(self) -> Any:
        return (
            select(JobRun, Environment.name)
            .join(Environment, Environment.id == JobRun.environment_id)
            .where(JobRun.heartbeat_at >= self._jobs_seen_at)
            .order_by(JobRun.heartbeat_at)
        )

    def _job_events(self, session: Session) -> list[dict[str, Any]]:
        """SQLite: the progress of job runs that moved since the last poll (from any process)."""
        events = []
        for job, environment in session.execute(self._job_events_query()):
            if job.heartbeat_at is not None:
                self._jobs_seen_at = max(self._jobs_seen_at, job.heartbeat_at)
            state = (job.status, job.done)
            if self._job_states.get(job.id) == state:
                continue
            self._job_states[job.id] = state
            events.append(progress_event(job, environment))
        if len(self._job_states) > 1000:
            self._job_states.clear()
        return events


def credential_holds(request: Request) -> bool:
    """Whether the stream's bearer token or session cookie still signs someone in: not revoked,
    signed out, expired or idle. Read-only, so an open stream alone does not keep a session alive."""
    database = request.app.state.database
    authorization = request.headers.get("authorization", "")
    with database.read() as session:
        if authorization.lower().startswith("bearer "):
            return find_token(session=session, secret=authorization[7:].strip()) is not None
        idle = timedelta(minutes=request.app.state.settings.session_idle_minutes)
        cookie = request.cookies.get(SESSION_COOKIE, "")
        return bool(cookie) and find_session(session=session, secret=cookie, idle=idle) is not None


async def event_stream(request: Request, feed: LiveEvents, environment: str) -> AsyncIterator[str]:
    """Server-sent events of one environment until the feed stops or the credential is gone."""
    queue = feed.subscribe()
    loop = asyncio.get_running_loop()
    next_check = loop.time() + feed.recheck_seconds
    try:
        yield "retry: 2000\n\n"
        while True:
            wait = min(KEEP_ALIVE_SECONDS, max(0.0, next_check - loop.time()))
            try:
                event = await asyncio.wait_for(queue.get(), timeout=wait)
            except TimeoutError:
                event = {}
            if loop.time() >= next_check:
                if not await run_in_threadpool(credential_holds, request):
                    yield 'event: signed-out\ndata: {"detail": "signed out: sign in again"}\n\n'
                    return
                next_check = loop.time() + feed.recheck_seconds
            if event is None:
                return
            if not event:
                yield ": keep-alive\n\n"
            elif event["environment"] not in (environment, EVERY_ENVIRONMENT):
                continue
            elif "id" in event:  # a stored audit event: the client reloads the state
                yield f"id: {event['id']}\nevent: change\ndata: {json.dumps(event)}\n\n"
            else:  # ephemeral progress: shown as it comes
                yield f"event: progress\ndata: {json.dumps(event)}\n\n"
    finally:
        feed.unsubscribe(queue)
