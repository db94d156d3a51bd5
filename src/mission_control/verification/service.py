"""Stored verification: record runs and their results, read each item's latest proof.

A finished run appends one audit event (the live feed), plus a `regressed` event for every ticked
item whose probe newly fails: a tick that stopped being true is news the team must see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mission_control.db.base import utcnow
from mission_control.progress.models import AuditEvent, ItemState
from mission_control.progress.service import get_environment
from mission_control.verification.latest import latest_results
from mission_control.verification.models import VerificationResult, VerificationRun
from mission_control.verification.results import Status
from mission_control.verification.runner import VerificationReport


@dataclass(frozen=True)
class RunSummary:
    id: int
    state: str
    triggered_by: str
    started_at: datetime
    finished_at: datetime | None
    error: str | None


def start_run(*, session: Session, environment_name: str, actor: str) -> int:
    """Record a run as started; returns its id."""
    environment = get_environment(session=session, name=environment_name)
    run = VerificationRun(environment_id=environment.id, state="running", triggered_by=actor)
    session.add(run)
    session.flush()
    session.add(
        AuditEvent(
            actor=actor, action="verification.started", environment_id=environment.id, new_value=str(run.id)
        )
    )
    return run.id


def finish_run(
    *, session: Session, run_id: int, report: VerificationReport, request_rates: dict[str, Any] | None = None
) -> list[str]:
    """Store a run's results (and the AWS request rates it observed); returns newly regressed item ids."""
    run = session.get(VerificationRun, run_id)
    if run is None:
        raise ValueError(f"verification run {run_id} does not exist")
    previous = latest_results(session=session, environment_id=run.environment_id)
    ticked = set(
        session.scalars(
            select(ItemState.item_id).where(ItemState.environment_id == run.environment_id, ItemState.checked)
        )
    )
    regressed = []
    for result in report.results:
        session.add(
            VerificationResult(
                run_id=run.id,
                item_id=result.item_id,
                status=result.status.value,
                summary=result.summary,
                facts=result.facts,
            )
        )
        before = previous.get(result.item_id)
        if (
            result.status is Status.FAILING
            and result.item_id in ticked
            and (before is None or before.status is not Status.FAILING)
        ):
            regressed.append(result.item_id)
            session.add(
                AuditEvent(
                    actor=run.triggered_by,
                    action="regressed",
                    environment_id=run.environment_id,
                    item_id=result.item_id,
                    old_value=before.status.value if before else None,
                    new_value=f"failing: {result.summary}",
                )
            )
    run.state = "completed"
    run.finished_at = utcnow()
    run.request_rates = request_rates
    summary = report.summary
    session.add(
        AuditEvent(
            actor=run.triggered_by,
            action="verification.completed",
            environment_id=run.environment_id,
            new_value=", ".join(
                f"{summary[key]} {key}" for key in ("verified", "failing", "error", "manual")
            ),
        )
    )
    return regressed


def fail_run(*, session: Session, run_id: int, error: str) -> None:
    """Mark a run that could not complete (e.g. no configuration for the environment)."""
    run = session.get(VerificationRun, run_id)
    if run is None:
        return
    run.state = "failed"
    run.finished_at = utcnow()
    run.error = error
    session.add(
        AuditEvent(
            actor=run.triggered_by,
            action="verification.failed",
            environment_id=run.environment_id,
            new_value=error,
        )
    )


def latest_run(*, session: Session, environment_name: str) -> RunSummary | None:
    """The environment's most recent run in any state, for progress display."""
    environment = get_environment(session=session, name=environment_name)
    run = session.scalar(
        select(VerificationRun)
        .where(VerificationRun.environment_id == environment.id)
        .order_by(VerificationRun.id.desc())
        .limit(1)
    )
    if run is None:
        return None
    return RunSummary(run.id, run.state, run.triggered_by, run.started_at, run.finished_at, run.error)


def latest_completed_runs(*, session: Session) -> dict[int, RunSummary]:
    """Each environment's most recent completed run, by environment id: what monitoring calls "last proof"."""
    newest = (
        select(VerificationRun.environment_id, func.max(VerificationRun.id).label("run_id"))
        .where(VerificationRun.state == "completed")
        .group_by(VerificationRun.environment_id)
        .subquery()
    )
    runs = session.scalars(select(VerificationRun).join(newest, VerificationRun.id == newest.c.run_id))
    return {
        run.environment_id: RunSummary(
            run.id, run.state, run.triggered_by, run.started_at, run.finished_at, run.error
        )
        for run in runs
    }
