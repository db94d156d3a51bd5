"""Job runs in the database: queue one, claim it, count its steps, end it, and read what runs.

Every runner goes through these functions, so a job looks the same whether a thread of `serve` or a
worker on another machine runs it, and any replica can show it.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mission_control.db.database import LIVE_CHANNEL
from mission_control.errors import MissionControlError
from mission_control.jobs.models import FAILED, FINISHED, QUEUED, RUNNING, SUCCEEDED, JobRun
from mission_control.progress.models import AuditEvent, Environment
from mission_control.progress.service import get_environment


def runner_name() -> str:
    """ "host:pid" of this process: which worker or server runs a job, for operators (and tests)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:128]


class AlreadyRunning(MissionControlError):
    pass


class NotConfigured(MissionControlError):
    pass


@dataclass(frozen=True)
class Claim:
    """What `claim` decided: run it (`job`), wait for the environment's other job, or drop it (done)."""

    job: JobRun | None
    wait: bool = False


def active_key(kind: str, environment: str) -> str:
    return f"{kind}:{environment}"


def queue_job(
    *,
    session: Session,
    kind: str,
    environment_name: str,
    params: dict[str, Any],
    trigger: str,
    actor: str,
    total: int,
    busy: str,
) -> JobRun:
    """Record a queued job; AlreadyRunning(busy) while the environment has one of this kind queued or running."""
    environment = get_environment(session=session, name=environment_name)
    job = JobRun(
        kind=kind, environment_id=environment.id, params=params, trigger=trigger, actor=actor,
        status=QUEUED, total=total, active_key=active_key(kind, environment_name),
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(job)
    except IntegrityError:
        raise AlreadyRunning(busy) from None
    return job


def claim(*, session: Session, job_run_id: int, exclusive: bool, now: datetime) -> Claim:
    """Mark the job running, one attempt more. A job already finished is dropped (the queue ran it
    twice); one found running is a retry of an attempt whose worker was lost. With `exclusive`, a job
    waits while another job of its environment runs (the queue's locks do this on PostgreSQL)."""
    job = session.get(JobRun, job_run_id)
    if job is None or job.status in FINISHED:
        return Claim(None)
    if exclusive:  # claims of one environment take turns on its row (SQLite's writers take turns anyway)
        session.execute(select(Environment.id).where(Environment.id == job.environment_id).with_for_update())
        other = exists().where(
            JobRun.environment_id == job.environment_id, JobRun.status == RUNNING, JobRun.id != job.id
        )
        if session.scalar(select(other)):
            return Claim(None, wait=True)
    job.status = RUNNING
    job.runner = runner_name()
    job.attempts += 1
    job.done = 0
    job.started_at = job.heartbeat_at = now
    if job.attempts > 1:
        job.step = f"attempt {job.attempts}: the previous attempt's worker stopped"
    notify(session, job)
    return Claim(job)


def record_step(*, session: Session, job_run_id: int, label: str, now: datetime) -> dict[str, int]:
    """One step done; returns {"done", "total"}."""
    job = session.get(JobRun, job_run_id)
    if job is None:
        raise LookupError(f"job run {job_run_id} does not exist")
    job.done = min(job.done + 1, job.total)
    job.step = label[:256]
    job.heartbeat_at = now
    notify(session, job)
    return {"done": job.done, "total": job.total}


def beat(*, session: Session, job_run_ids: Iterable[int], now: datetime) -> None:
    """Show that the runner holding these queued or running jobs is alive, between steps."""
    ids = list(job_run_ids)
    if ids:
        session.execute(
            update(JobRun)
            .where(JobRun.id.in_(ids), JobRun.status.in_((QUEUED, RUNNING)))
            .values(heartbeat_at=now)
        )


def finish(*, session: Session, job_run_id: int, now: datetime, error: str | None = None) -> JobRun | None:
    """End the job: succeeded, or failed with `error` (also an audit event, so every replica shows it)."""
    job = session.get(JobRun, job_run_id)
    if job is None:
        return None
    job.status = FAILED if error else SUCCEEDED
    job.error = error
    job.finished_at = job.heartbeat_at = now
    job.active_key = None
    if error:
        environment = session.get(Environment, job.environment_id)
        session.add(
            AuditEvent(
                actor="mission-control", action="job.failed", environment_id=job.environment_id,
                new_value=f"{job.kind} in {environment.name if environment else '?'}: {error}",
            )
        )  # fmt: skip
    notify(session, job)
    return job


def fail_abandoned(*, session: Session, older_than: timedelta, now: datetime, reason: str) -> list[int]:
    """Fail queued or running jobs whose runner has not shown life for `older_than` (its process
    stopped); returns their ids. Only for the in-process runner: the queue retries its own."""
    cutoff = now - older_than
    stale = list(
        session.scalars(
            select(JobRun).where(
                JobRun.status.in_((QUEUED, RUNNING)),
                func.coalesce(JobRun.heartbeat_at, JobRun.created_at) < cutoff,
            )
        )
    )
    for job in stale:
        finish(session=session, job_run_id=job.id, now=now, error=reason)
    return [job.id for job in stale]


def active_job(*, session: Session, kind: str, environment_name: str) -> JobRun | None:
    """The environment's queued or running job of `kind`, if any."""
    return session.scalar(select(JobRun).where(JobRun.active_key == active_key(kind, environment_name)))


def last_job(*, session: Session, kind: str, environment_name: str) -> JobRun | None:
    environment = get_environment(session=session, name=environment_name)
    return session.scalar(
        select(JobRun)
        .where(JobRun.kind == kind, JobRun.environment_id == environment.id)
        .order_by(JobRun.id.desc())
        .limit(1)
    )


def queued_summary(*, session: Session, now: datetime) -> tuple[int, float]:
    """(jobs waiting to start, age in seconds of the oldest of them): the queue's depth and lag."""
    count, oldest = session.execute(
        select(func.count(), func.min(JobRun.created_at)).where(JobRun.status == QUEUED)
    ).one()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return count, (now - oldest).total_seconds() if oldest else 0.0


def progress_event(job: JobRun, environment: str) -> dict[str, Any]:
    """The live event a job's state makes: its progress while it runs, `job.failed` when it fails."""
    if job.status == FAILED:
        reason = (job.error or "")[:1000]  # a NOTIFY payload holds at most 8,000 bytes
        return {"environment": environment, "action": "job.failed", "job": job.kind, "reason": reason}
    return {
        "environment": environment,
        "action": f"{job.kind}.progress",
        "job_run": job.id,
        "status": job.status,
        "done": job.done,
        "total": job.total,
        "label": job.step or "",
    } | ({"drill": job.params["drill"]} if "drill" in job.params else {})


def notify(session: Session, job: JobRun) -> None:
    """On PostgreSQL, send the job's live event to every replica when the transaction commits.
    SQLite replicas read job runs on their poll instead (web/events.py)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    environment = session.get(Environment, job.environment_id)
    payload = json.dumps({"progress": progress_event(job, environment.name if environment else "?")})
    session.execute(
        text("SELECT pg_notify(:channel, :payload)"), {"channel": LIVE_CHANNEL, "payload": payload}
    )
