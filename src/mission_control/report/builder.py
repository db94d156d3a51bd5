"""Gather one environment's report from the same views the dashboard uses, so the figures agree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from mission_control.catalog import Catalog
from mission_control.db.base import utcnow
from mission_control.evidence.service import drill_runs
from mission_control.progress.checklist import ChecklistView
from mission_control.progress.service import get_checklist, get_environment
from mission_control.report.burnup import Burnup, burnup
from mission_control.verification.service import RunSummary, latest_run


@dataclass(frozen=True)
class DrillSummary:
    drill: str
    item_id: str
    outcome: str
    finished_at: datetime
    age_days: int
    measurements: dict[str, Any]
    rto_target: int | None
    rpo_target: int | None

    @property
    def within_targets(self) -> bool | None:
        """None when the drill measured neither RTO nor RPO, or no target is set for what it measured."""
        checks = [
            self.measurements[key] <= target
            for key, target in (("rto_seconds", self.rto_target), ("rpo_seconds", self.rpo_target))
            if target is not None and isinstance(self.measurements.get(key), int | float)
        ]
        return all(checks) if checks else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "drill": self.drill,
            "item_id": self.item_id,
            "outcome": self.outcome,
            "finished_at": self.finished_at.isoformat(),
            "age_days": self.age_days,
            "measurements": self.measurements,
            "rto_target_seconds": self.rto_target,
            "rpo_target_seconds": self.rpo_target,
            "within_targets": self.within_targets,
        }


@dataclass(frozen=True)
class EnvironmentReport:
    generated_at: datetime
    checklist: ChecklistView
    last_run: RunSummary | None
    drills: tuple[DrillSummary, ...]
    burnup: Burnup


def build_report(
    *,
    session: Session,
    catalog: Catalog,
    environment_name: str,
    rto_target: int | None = None,
    rpo_target: int | None = None,
) -> EnvironmentReport:
    now = utcnow()
    checklist = get_checklist(session=session, catalog=catalog, environment_name=environment_name)
    environment = get_environment(session=session, name=environment_name)
    drills = tuple(
        DrillSummary(
            run.drill,
            run.item_id,
            run.outcome,
            run.finished_at,
            (now - run.finished_at).days,
            run.record.get("measurements", {}),
            rto_target,
            rpo_target,
        )
        for run in drill_runs(session=session, environment_id=environment.id)
    )
    return EnvironmentReport(
        now,
        checklist,
        latest_run(session=session, environment_name=environment_name),
        drills,
        burnup(
            session=session,
            environment=environment,
            total=checklist.total,
            now=now,
            done_now=checklist.completed,
        ),
    )
