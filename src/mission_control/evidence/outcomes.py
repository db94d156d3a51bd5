"""A recorded drill as people read it: its outcome, why it failed, and its RTO/RPO against the targets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mission_control.evidence.models import DrillRun

MEASURED = (("RTO", "rto_seconds"), ("RPO", "rpo_seconds"))


def failure_reason(record: dict[str, Any]) -> str:
    """The detail of the first step that failed ("not configured: set edge_latency_urls ..."), or ""."""
    return next((step.get("detail") or "" for step in record.get("steps", []) if step.get("ok") is False), "")


@dataclass(frozen=True)
class Measure:
    name: str  # RTO | RPO
    value: float
    target: int | None

    @property
    def within(self) -> bool | None:
        """None when no target is set: a measure alone proves nothing about the objective."""
        return None if self.target is None else self.value <= self.target


@dataclass(frozen=True)
class DrillOutcome:
    drill: str
    outcome: str
    finished_at: datetime
    run_by: str
    reason: str
    targets: tuple[Measure, ...]


def drill_outcome(run: DrillRun, rto_target: int | None, rpo_target: int | None) -> DrillOutcome:
    measurements = run.record.get("measurements", {})
    targets = {"RTO": rto_target, "RPO": rpo_target}
    measures = tuple(
        Measure(name, measurements[key], targets[name])
        for name, key in MEASURED
        if isinstance(measurements.get(key), int | float)
    )
    return DrillOutcome(
        run.drill, run.outcome, run.finished_at, run.run_by, failure_reason(run.record), measures
    )


def latest_drill_outcomes(
    *, session: Session, environment_id: int, rto_target: int | None, rpo_target: int | None
) -> dict[str, dict[str, DrillOutcome]]:
    """item id -> drill name -> its newest run: one indexed query however many runs are kept."""
    newest = (
        select(func.max(DrillRun.id))
        .where(DrillRun.environment_id == environment_id)
        .group_by(DrillRun.item_id, DrillRun.drill)
    )
    outcomes: dict[str, dict[str, DrillOutcome]] = {}
    for run in session.scalars(select(DrillRun).where(DrillRun.id.in_(newest))):
        outcomes.setdefault(run.item_id, {})[run.drill] = drill_outcome(run, rto_target, rpo_target)
    return outcomes
