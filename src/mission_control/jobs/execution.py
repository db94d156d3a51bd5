"""Running one job run, the same way under either runner: claim it, do its kind's work, end it.

A kind's work is a function of the job's context, the job, and a `step` callback that counts one
step done. It returns the notification deliveries its results queued, which the runner then sends.
A job that raises is failed with its reason, logged with its traceback, and shown on the dashboard.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from mission_control.catalog import Catalog
from mission_control.db.base import utcnow
from mission_control.db.database import Database
from mission_control.jobs import service
from mission_control.jobs.models import JobRun
from mission_control.notifications.channels import Channel
from mission_control.verification.aws import AwsClients, clients_for
from mission_control.verification.config import EnvironmentConfig

logger = logging.getLogger(__name__)

Step = Callable[[str], None]


@dataclass(frozen=True)
class JobContext:
    """What every job needs, built once per process (the server's or a worker's)."""

    database: Database
    catalog: Catalog
    configs: Mapping[str, EnvironmentConfig]
    channels: Mapping[str, Channel] = field(default_factory=dict)
    public_url: str = "http://127.0.0.1:8000"
    clients_factory: Callable[[EnvironmentConfig], AwsClients] = clients_for
    clock: Callable[[], datetime] = utcnow


@dataclass(frozen=True)
class JobView:
    """The job as its work sees it: detached from any session."""

    id: int
    kind: str
    environment: str
    params: dict[str, object]
    actor: str
    trigger: str
    attempts: int


class Kind(Protocol):
    def __call__(self, context: JobContext, job: JobView, step: Step) -> list[int]: ...


KINDS: dict[str, Kind] = {}


def kind(name: str) -> Callable[[Kind], Kind]:
    """Register a kind of job by name, as `@probe` registers probes."""

    def register(work: Kind) -> Kind:
        KINDS[name] = work
        return work

    return register


def run_job(
    context: JobContext, job_run_id: int, *, exclusive: bool, deliver: Callable[[Iterable[int]], None]
) -> bool:
    """Run the job; False when it must wait for another job of its environment (`exclusive` only).
    `deliver` sends the deliveries the job queued, once it has ended."""
    database, clock = context.database, context.clock
    with database.transaction() as session:
        claimed = service.claim(session=session, job_run_id=job_run_id, exclusive=exclusive, now=clock())
        if claimed.job is None:
            return not claimed.wait
        job = _view(claimed.job, session)

    def step(label: str) -> None:
        with database.transaction() as session:
            service.record_step(session=session, job_run_id=job.id, label=label, now=clock())

    try:
        work = KINDS.get(job.kind)
        if work is None:
            raise LookupError(f"no kind of job called {job.kind!r}")
        deliveries = work(context, job, step)
    except Exception as error:  # a job must never kill its runner: it fails where people look
        reason = f"{type(error).__name__}: {error}"
        logger.exception("background %s in %s failed: %s", job.kind, job.environment, reason)
        with database.transaction() as session:
            service.finish(session=session, job_run_id=job.id, now=clock(), error=reason)
        return True
    with database.transaction() as session:
        service.finish(session=session, job_run_id=job.id, now=clock())
    deliver(deliveries)
    return True


def _view(job: JobRun, session: object) -> JobView:
    from mission_control.progress.models import Environment

    environment = session.get(Environment, job.environment_id)  # type: ignore[attr-defined]
    return JobView(
        id=job.id, kind=job.kind, environment=environment.name, params=dict(job.params),
        actor=job.actor, trigger=job.trigger, attempts=job.attempts,
    )  # fmt: skip
