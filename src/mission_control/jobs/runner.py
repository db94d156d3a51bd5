"""How background work runs: one interface, `Runner`, with two runners behind it.

`InProcessRunner` (jobs/in_process.py) runs jobs in threads of `serve`: the embedded SQLite default.
`QueueRunner` (jobs/queue.py) hands them to `mission-control worker` processes through procrastinate's
PostgreSQL queue. Both run the same job functions (jobs/execution.py) on the same job records, so
the web app only ever asks a `Runner` to start something.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy.orm import Session

from mission_control.catalog import Catalog
from mission_control.jobs import drills, verification
from mission_control.jobs.execution import JobContext
from mission_control.jobs.service import NotConfigured, active_job, queue_job
from mission_control.notifications import outbox
from mission_control.verification.runner import count_steps


class Runner(Protocol):
    context: JobContext

    def submit(self, job_run_id: int) -> None:
        """Run a job that is recorded as queued (jobs/service.py `queue_job`), once it is committed."""

    def deliver(self, delivery_ids: Iterable[int]) -> None:
        """Send queued notification deliveries."""

    def problem(self) -> str | None:
        """Why queued work would not run now (no worker), for the dashboard; None when it would."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def start_verification(runner: Runner, *, environment: str, actor: str, trigger: str = "manual") -> int:
    """Queue and start a verification of `environment`; AlreadyRunning while one is queued or running."""
    context = runner.context
    if environment not in context.configs:
        raise NotConfigured(
            f"environment {environment!r} has no AWS configuration: add [environments.{environment}] "
            "to the configuration file the server was started with (--config)"
        )
    with context.database.transaction() as session:
        job_id = queue_verification(
            session, catalog=context.catalog, environment=environment, actor=actor, trigger=trigger
        )
    runner.submit(job_id)
    return job_id


def queue_verification(
    session: Session, *, catalog: Catalog, environment: str, actor: str, trigger: str
) -> int:
    job = queue_job(
        session=session, kind=verification.KIND, environment_name=environment, params={},
        trigger=trigger, actor=actor, total=count_steps(catalog),
        busy=f"a verification of {environment!r} is already queued or running",
    )  # fmt: skip
    session.flush()
    return job.id


def start_drill(
    runner: Runner, *, environment: str, name: str, actor: str, allow_writes: bool, trigger: str = "manual"
) -> int:
    """Queue and start drill `name`; refuses guided drills, unconfirmed writes and unconfigured environments."""
    drills.check_startable(name, allow_writes=allow_writes)
    if environment not in runner.context.configs:
        raise NotConfigured(
            f"environment {environment!r} has no AWS configuration: start the server with --config"
        )
    with runner.context.database.transaction() as session:
        job_id = queue_drill(
            session,
            environment=environment,
            name=name,
            actor=actor,
            allow_writes=allow_writes,
            trigger=trigger,
        )
    runner.submit(job_id)
    return job_id


def queue_drill(
    session: Session, *, environment: str, name: str, actor: str, allow_writes: bool, trigger: str
) -> int:
    job = queue_job(
        session=session, kind=drills.KIND, environment_name=environment,
        params={"drill": name, "allow_writes": allow_writes}, trigger=trigger, actor=actor, total=1,
        busy=f"a drill is already queued or running in {environment!r}",
    )  # fmt: skip
    session.flush()
    return job.id


def progress(runner: Runner, kind: str, environment: str) -> dict[str, Any] | None:
    """{"done", "total", "status", ...} of the environment's queued or running job of `kind`, from any process."""
    with runner.context.database.read() as session:
        return job_progress(session=session, kind=kind, environment=environment)


def job_progress(*, session: Session, kind: str, environment: str) -> dict[str, Any] | None:
    """`progress`, read in a session the caller already holds."""
    job = active_job(session=session, kind=kind, environment_name=environment)
    if job is None:
        return None
    return {"done": job.done, "total": job.total, "status": job.status, "job_run": job.id} | (
        {"drill": job.params["drill"]} if "drill" in job.params else {}
    )


def send_deliveries(context: JobContext, delivery_ids: Iterable[int]) -> None:
    """Send each delivery in this thread (the CLI after a run; a runner's delivery thread or task)."""
    for delivery_id in delivery_ids:
        outbox.send(
            database=context.database, channels=context.channels, delivery_id=delivery_id, environ=os.environ
        )


def resend(runner: Runner, *, delivery_id: int, actor: str) -> None:
    """An admin's resend: pending now (audited), then handed to the runner to send."""
    with runner.context.database.transaction() as session:
        outbox.resend(session=session, delivery_id=delivery_id, actor=actor)
    runner.deliver([delivery_id])
