"""The scorecard: a small, stable JSON shape that Backstage Tech Insights, Cortex and OpsLevel poll.

Fields are only ever added, never renamed; `schema` names the version (docs/scorecards.md).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from mission_control.findings.model import Verdict, verdict_of
from mission_control.progress.checklist import ChecklistView, ItemView
from mission_control.verification.results import Status

SCHEMA = "mission-control/scorecard/v1"


def scorecard(checklist: ChecklistView, *, generated_at: datetime) -> dict[str, Any]:
    items = [_item(entry) for entry in checklist.items]
    counts = Counter(item["status"] for item in items)
    return {
        "schema": SCHEMA,
        "environment": checklist.environment,
        "checklist": checklist.catalog.id,
        "generated_at": generated_at.isoformat(),
        "completed": checklist.completed,
        "total": checklist.total,
        "percent": checklist.percent,
        "counts": {verdict.value: counts[verdict.value] for verdict in Verdict},
        "items": items,
    }


def _item(entry: ItemView) -> dict[str, Any]:
    last_proof = last_proof_at(entry)
    return {
        "id": entry.item.id,
        "category": entry.item.category,
        "status": verdict_of(entry).value,
        "checked": entry.checked,
        "verification": entry.verification.status.value if entry.verification else None,
        "evidence": entry.evidence.state if entry.evidence else None,
        "last_proof_at": last_proof.isoformat() if last_proof else None,
    }


def last_proof_at(entry: ItemView) -> datetime | None:
    """When the newest proof that still holds was made: a verified run, or fresh evidence (None if none)."""
    moments = []
    if entry.verification and entry.verification.status is Status.VERIFIED:
        moments.append(entry.verification.verified_at)
    if entry.evidence:
        moments += [kind.at for kind in entry.evidence.kinds if kind.state == "fresh" and kind.at]
    return max(moments, default=None)
