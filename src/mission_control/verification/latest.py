"""Each item's latest proof; kept apart from service.py so progress can read it without a cycle."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mission_control.verification.models import VerificationResult, VerificationRun
from mission_control.verification.results import Status, StoredResult


def latest_results(
    *, session: Session, environment_id: int, item_id: str | None = None
) -> dict[str, StoredResult]:
    """Each item's (or only `item_id`'s) result from the environment's latest completed run."""
    run = session.scalar(
        select(VerificationRun)
        .where(VerificationRun.environment_id == environment_id, VerificationRun.state == "completed")
        .order_by(VerificationRun.id.desc())
        .limit(1)
    )
    if run is None or run.finished_at is None:
        return {}
    query = select(VerificationResult).where(VerificationResult.run_id == run.id)
    if item_id is not None:
        query = query.where(VerificationResult.item_id == item_id)
    rows = session.scalars(query)
    return {
        row.item_id: StoredResult(Status(row.status), row.summary, row.facts, run.finished_at) for row in rows
    }
