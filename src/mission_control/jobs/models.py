"""Tables of background work: each job's run (the record every replica reads) and each schedule's fires.

A `JobRun` is written before its work is queued and updated as it goes, so progress, retries and
failures are visible from any process, whichever runner (in-process or the PostgreSQL queue) runs it.
`active_key` is set while a job is queued or running and cleared when it ends: its unique
constraint is what keeps two verifications (or two drills) of one environment from being queued at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mission_control.db.base import Base, UtcDateTime, utcnow

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
FINISHED = (SUCCEEDED, FAILED)


class JobRun(Base):
    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_status_environment", "status", "environment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # verification | drill
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    trigger: Mapped[str] = mapped_column(String(256))  # "manual", or the schedule that fired it
    actor: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    step: Mapped[str | None] = mapped_column(String(256))  # the latest step's label
    runner: Mapped[str | None] = mapped_column(String(128))  # "host:pid" of the process running it
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    active_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    # a verification's stored run: a retried job closes its lost attempt's run with it
    verification_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("verification_runs.id", ondelete="SET NULL")
    )


class ScheduleFire(Base):
    """One due time of one schedule, fired once across every process: the unique pair decides who."""

    __tablename__ = "schedule_fires"
    __table_args__ = (UniqueConstraint("schedule", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule: Mapped[str] = mapped_column(String(200))  # e.g. "verify production", "reminders"
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    fired_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    job_run_id: Mapped[int | None] = mapped_column(ForeignKey("job_runs.id", ondelete="SET NULL"))
    outcome: Mapped[str] = mapped_column(String(256))
