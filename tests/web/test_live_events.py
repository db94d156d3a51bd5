"""The live-update poller: a database that keeps failing is logged once a minute, not every poll."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.progress.service import record_event
from mission_control.web.app import prepare_database
from mission_control.web.events import FAILURE_LOG_SECONDS, LiveEvents


async def polls_failed(events: LiveEvents, count: int) -> None:
    deadline = time.monotonic() + 15
    while events.failed_polls < count:
        assert time.monotonic() < deadline, f"only {events.failed_polls} failed polls"
        await asyncio.sleep(0.05)


async def delivering(events: LiveEvents, feed: asyncio.Queue, database: Database) -> None:
    """Until the poller delivers a new audit event (so it has started): one per try, as it may start late."""
    deadline = time.monotonic() + 15
    while True:
        with database.transaction() as session:
            record_event(session=session, actor="ana", action="token.created")
        events.nudge()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(feed.get(), timeout=1)
            return
        assert time.monotonic() < deadline, "the poller delivered nothing"


def test_repeated_poll_failures_are_logged_once_per_minute(
    tmp_path: Path, catalog: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'live.db'}")
    prepare_database(database, catalog)
    moment = [1000.0]
    events = LiveEvents(database, clock=lambda: moment[0])

    def reports() -> list[logging.LogRecord]:
        return [entry for entry in caplog.records if entry.name == "mission_control.web.events"]

    async def scenario() -> None:
        await events.start()
        feed = events.subscribe()
        try:
            await delivering(events, feed, database)
            with database.transaction() as session:
                session.execute(text("DROP TABLE audit_events"))
            await polls_failed(events, 4)
            assert len(reports()) == 1
            moment[0] += FAILURE_LOG_SECONDS
            await polls_failed(events, events.failed_polls + 1)
        finally:
            await events.stop()

    asyncio.run(scenario())
    database.dispose()
    first, second = reports()[:2]
    assert first.getMessage().startswith("live updates cannot read new events (1 failed polls")
    assert first.exc_info is not None and "audit_events" in str(first.exc_info[1])
    assert "failed polls since the last report" in second.getMessage()
    assert len(reports()) == 2


def test_job_progress_and_audit_events_from_another_process_reach_the_stream(
    database: Database, database_url: str, catalog: Catalog
) -> None:
    """Another process runs a job: its claim, steps and end reach this process's streams (from the job
    runs on SQLite, by NOTIFY on PostgreSQL), beside the audit events written with them."""
    from mission_control.db.base import utcnow
    from mission_control.jobs import service
    from mission_control.jobs.runner import queue_verification

    events = LiveEvents(database)
    other = Database(database_url)  # the other process's engine
    received: list[dict[str, object]] = []

    async def arrives(wanted: object) -> None:
        deadline = time.monotonic() + 15
        while not any(wanted(event) for event in received):  # type: ignore[operator]
            assert time.monotonic() < deadline, f"never arrived; got {received}"
            with contextlib.suppress(TimeoutError):
                received.append(await asyncio.wait_for(feed.get(), timeout=0.5))

    def progress(status: str, done: int) -> object:
        return lambda event: (event.get("action"), event.get("status"), event.get("done")) == (
            "verification.progress", status, done,
        )  # fmt: skip

    async def scenario() -> None:
        nonlocal feed
        await events.start()
        feed = events.subscribe()
        try:
            await delivering(events, feed, database)
            deadline = time.monotonic() + 15
            while not (database.is_sqlite or events.listening):
                assert time.monotonic() < deadline, "the PostgreSQL listener never connected"
                await asyncio.sleep(0.05)
            with other.transaction() as session:
                job_id = queue_verification(
                    session, catalog=catalog, environment="production", actor="ed", trigger="manual"
                )
            with other.transaction() as session:
                service.claim(session=session, job_run_id=job_id, exclusive=True, now=utcnow())
            await arrives(progress("running", 0))
            with other.transaction() as session:
                service.record_step(
                    session=session, job_run_id=job_id, label="dns.latency-routing", now=utcnow()
                )
                record_event(session=session, actor="ed", action="token.created")  # an audit event with it
            await arrives(progress("running", 1))
            await arrives(lambda event: event.get("action") == "token.created" and "id" in event)
            with other.transaction() as session:
                service.finish(session=session, job_run_id=job_id, now=utcnow())
            await arrives(progress("succeeded", 1))
        finally:
            await events.stop()

    feed: asyncio.Queue = asyncio.Queue()
    asyncio.run(scenario())
    other.dispose()
    assert events.failed_polls == 0
