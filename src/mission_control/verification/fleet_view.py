"""The fleet at a glance: each environment's completion, latest proof per item, regressions, origin.

Read in a fixed number of queries however many environments there are (five, not five per
environment), so `/fleet`, `status --all` and `GET /api/v1/environments` stay quick at 500.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mission_control.catalog import Catalog
from mission_control.progress.models import Environment, ItemState
from mission_control.verification.models import DiscoveredAccount, VerificationResult, VerificationRun
from mission_control.verification.results import Status


@dataclass(frozen=True)
class EnvironmentSummary:
    name: str
    completed: int
    total: int
    statuses: dict[str, str]  # item id -> latest proof status, absent when never verified
    last_verified: datetime | None
    regressed: int  # ticked items whose latest proof fails
    template: str | None = None
    account_id: str | None = None
    organizational_unit: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    archived: bool = False

    @property
    def percent(self) -> int:
        return self.completed * 100 // self.total if self.total else 0

    def counts(self) -> dict[str, int]:
        found = {status.value: 0 for status in Status}
        for status in self.statuses.values():
            found[status] += 1
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "completed": self.completed,
            "total": self.total,
            "percent": self.percent,
            "last_verified": self.last_verified.isoformat() if self.last_verified else None,
            "regressed": self.regressed,
            "statuses": self.counts(),
            "template": self.template,
            "account_id": self.account_id,
            "organizational_unit": self.organizational_unit,
            "tags": self.tags,
            "archived": self.archived,
        }


def summaries(*, session: Session, catalog: Catalog) -> list[EnvironmentSummary]:
    """Every environment's summary, by name."""
    item_ids = {item.id for item in catalog.items}
    environments = list(session.execute(select(Environment.id, Environment.name).order_by(Environment.name)))
    ticked: dict[int, set[str]] = defaultdict(set)
    for environment_id, item_id in session.execute(
        select(ItemState.environment_id, ItemState.item_id).where(ItemState.checked)
    ):
        if item_id in item_ids:
            ticked[environment_id].add(item_id)
    latest_runs = (
        select(func.max(VerificationRun.id))
        .where(VerificationRun.state == "completed")
        .group_by(VerificationRun.environment_id)
    )
    finished = dict(
        session.execute(
            select(VerificationRun.environment_id, VerificationRun.finished_at).where(
                VerificationRun.id.in_(latest_runs)
            )
        ).all()
    )
    statuses: dict[int, dict[str, str]] = defaultdict(dict)
    for environment_id, item_id, status in session.execute(
        select(VerificationRun.environment_id, VerificationResult.item_id, VerificationResult.status)
        .join(VerificationRun, VerificationResult.run_id == VerificationRun.id)
        .where(VerificationRun.id.in_(latest_runs))
    ):
        statuses[environment_id][item_id] = status
    discovered = {row.environment_id: row for row in session.scalars(select(DiscoveredAccount))}
    result = []
    for environment_id, name in environments:
        row = discovered.get(environment_id)
        proofs = statuses.get(environment_id, {})
        result.append(
            EnvironmentSummary(
                name=name,
                completed=len(ticked[environment_id]),
                total=len(item_ids),
                statuses=proofs,
                last_verified=finished.get(environment_id),
                regressed=sum(
                    1 for item in ticked[environment_id] if proofs.get(item) == Status.FAILING.value
                ),
                template=row.template if row else None,
                account_id=row.account_id if row else None,
                organizational_unit=row.organizational_unit if row else None,
                tags=row.tags if row else {},
                archived=bool(row and row.archived_at),
            )
        )
    return result
