"""Whether each evidence-backed item's evidence is complete and fresh, as the catalog requires.

Kept apart from service.py (which writes) so the checklist can read it without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from mission_control.catalog import Catalog
from mission_control.db.base import utcnow
from mission_control.evidence.models import Attestation, DrillRun, Evidence
from mission_control.evidence.outcomes import failure_reason

DOCUMENT_KINDS = ("file", "document")  # the evidence kinds that meet a catalog's `document` requirement


@dataclass(frozen=True)
class KindStatus:
    kind: str  # document | drill | attestation
    state: str  # fresh | stale | failed | missing
    at: datetime | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "state": self.state,
            "at": self.at.isoformat() if self.at else None,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class EvidenceStatus:
    """`complete`: every required kind fresh; `stale`: one was there and no longer holds; else `incomplete`."""

    state: str
    valid_days: int
    kinds: tuple[KindStatus, ...]

    @property
    def fresh_until(self) -> datetime | None:
        """When the first fresh kind goes stale by age alone (None when none is fresh)."""
        ends = [
            kind.at + timedelta(days=self.valid_days)
            for kind in self.kinds
            if kind.state == "fresh" and kind.at
        ]
        return min(ends, default=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "valid_days": self.valid_days,
            "kinds": [kind.to_dict() for kind in self.kinds],
        }


def evidence_statuses(
    *,
    session: Session,
    catalog: Catalog,
    environment_id: int,
    live_fingerprints: dict[str, str],
    now: datetime | None = None,
    item_id: str | None = None,
) -> dict[str, EvidenceStatus]:
    """Each evidence-backed item's (or only `item_id`'s) status; `live_fingerprints` come from the
    latest verification run."""
    now = now or utcnow()
    backed = [(item, item.evidence) for item in catalog.items if item.evidence and item_id in (None, item.id)]
    if not backed:
        return {}
    documents = _latest(session, Evidence, environment_id, item_id)
    attestations = _latest(session, Attestation, environment_id, item_id)
    drills = _latest(session, DrillRun, environment_id, item_id)
    statuses = {}
    for item, required in backed:
        window = timedelta(days=required.valid_days)
        kinds = []
        for kind in required.requires:
            if kind == "document":
                kinds.append(_judge(kind, documents.get(item.id), "created_at", now, window))
            elif kind == "drill":
                kinds.append(_judge_drill(drills.get(item.id), now, window))
            else:
                kinds.append(
                    _judge_attestation(attestations.get(item.id), live_fingerprints.get(item.id), now, window)
                )
        states = {kind.state for kind in kinds}
        state = (
            "complete" if states == {"fresh"} else "stale" if states & {"stale", "failed"} else "incomplete"
        )
        statuses[item.id] = EvidenceStatus(state, required.valid_days, tuple(kinds))
    return statuses


def _latest(session: Session, model: Any, environment_id: int, item_id: str | None) -> dict[str, Any]:
    """The newest record per item (records are append-only, so the highest id), without file contents:
    one indexed query however long the history grows."""
    newest = select(func.max(model.id)).where(model.environment_id == environment_id).group_by(model.item_id)
    if model is Evidence:  # a link points somewhere; only a file or a written document is the document
        newest = newest.where(Evidence.kind.in_(DOCUMENT_KINDS))
    if item_id is not None:
        newest = newest.where(model.item_id == item_id)
    query = select(model).where(model.id.in_(newest))
    if model is Evidence:
        query = query.options(defer(Evidence.content))
    return {row.item_id: row for row in session.scalars(query)}


def _judge(kind: str, row: Any, time_attribute: str, now: datetime, window: timedelta) -> KindStatus:
    if row is None:
        return KindStatus(kind, "missing", None, f"no {kind} yet")
    at = getattr(row, time_attribute)
    if now - at >= window:
        return KindStatus(kind, "stale", at, f"{row.title!r} is older than {window.days} days")
    return KindStatus(kind, "fresh", at, f"{row.title!r} by {row.created_by}")


def _judge_drill(run: DrillRun | None, now: datetime, window: timedelta) -> KindStatus:
    if run is None:
        return KindStatus("drill", "missing", None, "no drill recorded yet")
    if run.outcome != "passed":
        reason = failure_reason(run.record)
        because = f": {reason}" if reason else ""
        return KindStatus(
            "drill", "failed", run.finished_at, f"the last {run.drill} drill {run.outcome}{because}"
        )
    if now - run.finished_at >= window:
        return KindStatus(
            "drill",
            "stale",
            run.finished_at,
            f"the last passed {run.drill} drill is older than {window.days} days",
        )
    return KindStatus("drill", "fresh", run.finished_at, f"{run.drill} drill passed, run by {run.run_by}")


def _judge_attestation(
    attestation: Attestation | None, live_fingerprint: str | None, now: datetime, window: timedelta
) -> KindStatus:
    if attestation is None:
        return KindStatus("attestation", "missing", None, "not attested yet")
    at = attestation.attested_at
    if now - at >= window:
        return KindStatus("attestation", "stale", at, f"attestation expired after {window.days} days")
    if attestation.fingerprint and live_fingerprint and attestation.fingerprint != live_fingerprint:
        return KindStatus("attestation", "stale", at, "the live configuration changed since it was attested")
    return KindStatus("attestation", "fresh", at, f"attested by {attestation.attested_by}")
