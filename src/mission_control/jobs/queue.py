"""The runner of team deployments: procrastinate's PostgreSQL queue, worked by `mission-control worker`.

- A job run is one `run_job` task, deferred with the lock `environment:NAME`, so two jobs of one
  environment never run at once on any worker, and the queueing lock `job-run:ID`, so deferring it
  again while it waits is a no-op.
- The schedule tick is a periodic task: procrastinate defers each due tick once across the workers.
- A worker that stops beating (killed, its machine gone) has its jobs retried by another worker's
  periodic `retry_stalled` task; the retried attempt shows on its job run (jobs/service.py `claim`).
- A job run recorded but never deferred (its process died between the two) is deferred by the tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from procrastinate import App, PsycopgConnector
from procrastinate import JobContext as QueueJobContext
from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy import select, text

from mission_control.jobs import schedules
from mission_control.jobs.execution import JobContext, run_job
from mission_control.jobs.models import QUEUED, JobRun
from mission_control.jobs.runner import send_deliveries
from mission_control.progress.models import Environment

RUN_JOB = "mission_control.run_job"
DELIVER = "mission_control.deliver"
TICK = "mission_control.tick"
RETRY_STALLED = "mission_control.retry_stalled"
LOST_AFTER = timedelta(seconds=60)  # a job run queued this long with no queue job was never deferred
WORKER_CHECK_SECONDS = 5.0

logger = logging.getLogger(__name__)


def conninfo(database_url: Any) -> str:
    """libpq's form of our SQLAlchemy URL (postgresql+psycopg://... -> postgresql://...)."""
    return database_url.set(drivername="postgresql").render_as_string(hide_password=False)


def queue_app(context: JobContext, *, tick_seconds: int, stalled_seconds: float) -> App:
    """The procrastinate app with our four tasks; built per process, never at import time."""
    app = App(connector=PsycopgConnector(conninfo=conninfo(context.database.url), min_size=1, max_size=4))

    @app.task(name=RUN_JOB, pass_context=True)
    def run_job_task(queue_context: QueueJobContext, job_run_id: int) -> None:
        run_job(context, job_run_id, exclusive=False, deliver=lambda ids: send_deliveries(context, ids))

    @app.task(name=DELIVER, pass_context=True)
    def deliver_task(queue_context: QueueJobContext, delivery_id: int) -> None:
        send_deliveries(context, [delivery_id])

    @app.periodic(cron=f"* * * * * */{tick_seconds}")
    @app.task(name=TICK, queueing_lock=TICK, pass_context=True)
    async def tick_task(queue_context: QueueJobContext, timestamp: int) -> None:
        collected = _Collector(context)
        now = datetime.fromtimestamp(timestamp, UTC)
        await asyncio.to_thread(schedules.tick, collected, now)
        collected.job_run_ids += await asyncio.to_thread(_never_deferred, context, now)
        await defer_all(app, context, collected.job_run_ids, collected.delivery_ids)

    @app.periodic(cron=f"* * * * * */{tick_seconds}")
    @app.task(name=RETRY_STALLED, queueing_lock=RETRY_STALLED, pass_context=True)
    async def retry_stalled_task(queue_context: QueueJobContext, timestamp: int) -> None:
        manager = app.job_manager
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_seconds):
            logger.warning("retrying queue job %s (%s): its worker stopped", job.id, job.task_name)
            await manager.retry_job(job)
        await manager.prune_stalled_workers(seconds_since_heartbeat=stalled_seconds)

    return app


@dataclass
class _Collector:
    """A runner for the tick inside a worker: it collects what to defer, which the async task defers."""

    context: JobContext
    job_run_ids: list[int] = field(default_factory=list)
    delivery_ids: list[int] = field(default_factory=list)

    def submit(self, job_run_id: int) -> None:
        self.job_run_ids.append(job_run_id)

    def deliver(self, delivery_ids: Iterable[int]) -> None:
        self.delivery_ids.extend(delivery_ids)

    def problem(self) -> str | None:
        return None

    def start(self) -> None: ...

    def stop(self) -> None: ...


async def defer_all(
    app: App, context: JobContext, job_run_ids: Iterable[int], delivery_ids: Iterable[int]
) -> None:
    for job_run_id, environment in await asyncio.to_thread(_environments, context, list(job_run_ids)):
        with contextlib.suppress(AlreadyEnqueued):
            await app.configure_task(
                RUN_JOB, lock=f"environment:{environment}", queueing_lock=f"job-run:{job_run_id}"
            ).defer_async(job_run_id=job_run_id)
    for delivery_id in delivery_ids:
        with contextlib.suppress(AlreadyEnqueued):
            await app.configure_task(DELIVER, queueing_lock=f"delivery:{delivery_id}").defer_async(
                delivery_id=delivery_id
            )


def _environments(context: JobContext, job_run_ids: list[int]) -> list[tuple[int, str]]:
    if not job_run_ids:
        return []
    with context.database.read() as session:
        return [
            (job_id, name)
            for job_id, name in session.execute(
                select(JobRun.id, Environment.name)
                .join(Environment, Environment.id == JobRun.environment_id)
                .where(JobRun.id.in_(job_run_ids))
            )
        ]


def _never_deferred(context: JobContext, now: datetime) -> list[int]:
    """Job runs queued more than LOST_AFTER ago that the queue has no job for."""
    with context.database.read() as session:
        queued = set(
            session.scalars(
                select(JobRun.id).where(JobRun.status == QUEUED, JobRun.created_at < now - LOST_AFTER)
            )
        )
        if not queued:
            return []
        in_queue = set(
            session.scalars(
                text(
                    "SELECT (args->>'job_run_id')::int FROM procrastinate_jobs "
                    "WHERE task_name = :task AND status IN ('todo', 'doing')"
                ),
                {"task": RUN_JOB},
            )
        )
    return sorted(queued - in_queue)


class QueueRunner:
    """The web process's side of the queue: it defers jobs and deliveries for the workers to run."""

    def __init__(
        self,
        context: JobContext,
        *,
        tick_seconds: int,
        stalled_seconds: float,
        worker_check_seconds: float = WORKER_CHECK_SECONDS,
    ) -> None:
        self.context = context
        self._stalled_seconds = stalled_seconds
        self._worker_check_seconds = worker_check_seconds
        self._app = queue_app(context, tick_seconds=tick_seconds, stalled_seconds=stalled_seconds)
        self._worker_seen: tuple[float, bool] = (0.0, True)

    def start(self) -> None:
        self._app.open()

    def stop(self) -> None:
        self._app.close()

    def submit(self, job_run_id: int) -> None:
        [(_, environment)] = _environments(self.context, [job_run_id])
        with contextlib.suppress(AlreadyEnqueued):
            self._app.configure_task(
                RUN_JOB, lock=f"environment:{environment}", queueing_lock=f"job-run:{job_run_id}"
            ).defer(job_run_id=job_run_id)

    def deliver(self, delivery_ids: Iterable[int]) -> None:
        for delivery_id in delivery_ids:
            with contextlib.suppress(AlreadyEnqueued):
                self._app.configure_task(DELIVER, queueing_lock=f"delivery:{delivery_id}").defer(
                    delivery_id=delivery_id
                )

    def problem(self) -> str | None:
        """Whether any worker has beaten recently (checked at most every few seconds)."""
        checked_at, seen = self._worker_seen
        if time.monotonic() - checked_at >= self._worker_check_seconds:
            with self.context.database.read() as session:
                seen = bool(
                    session.scalar(
                        text(
                            "SELECT count(*) FROM procrastinate_workers "
                            "WHERE last_heartbeat > now() - make_interval(secs => :seconds)"
                        ),
                        {"seconds": self._stalled_seconds},
                    )
                )
            self._worker_seen = (time.monotonic(), seen)
        if seen:
            return None
        return (
            "No `mission-control worker` is running: Verify now, drills, schedules and notifications wait "
            "in the queue until one starts."
        )


def run_worker(context: JobContext, *, concurrency: int, tick_seconds: int, stalled_seconds: float) -> None:
    """Work the queue until SIGINT or SIGTERM (jobs in flight finish first)."""
    app = queue_app(context, tick_seconds=tick_seconds, stalled_seconds=stalled_seconds)
    app.run_worker(
        concurrency=concurrency,
        update_heartbeat_interval=max(stalled_seconds / 3, 0.5),
        stalled_worker_timeout=stalled_seconds,
        delete_jobs="successful",
    )
