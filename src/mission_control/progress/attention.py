"""What blocks readiness: the counts, the filters and the "Needs attention" list at the top of the
dashboard, all read from the same ItemView properties that decide `done`, so they cannot disagree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from mission_control.progress.checklist import ChecklistView, ItemView
from mission_control.verification.results import Status

DUE_WITHIN = timedelta(days=14)  # evidence expiring sooner than this is listed as due

Predicate = Callable[[ItemView], bool]
FILTERS: dict[str, tuple[str, Predicate]] = {
    "all": ("All", lambda entry: True),
    "open": ("Open", lambda entry: not entry.done),
    "done": ("Done", lambda entry: entry.done),
    "regressed": ("Regressed", lambda entry: entry.regressed),
    "failing": ("Failing", lambda entry: entry.verification_status in (Status.FAILING, Status.ERROR)),
    "needs-evidence": ("Needs evidence", lambda entry: entry.needs_evidence),
}


def due_at(entry: ItemView, now: datetime) -> datetime | None:
    """When complete evidence goes stale, if that is within DUE_WITHIN of `now`."""
    ends = entry.evidence.fresh_until if entry.evidence_complete and entry.evidence else None
    return ends if ends is not None and ends - now <= DUE_WITHIN else None


@dataclass(frozen=True)
class Counts:
    verified: int
    ticked: int
    failing: int
    regressed: int
    needs_evidence: int
    going_stale: int


def count(checklist: ChecklistView, now: datetime) -> Counts:
    items = checklist.items
    return Counts(
        verified=sum(entry.verification_status is Status.VERIFIED for entry in items),
        ticked=sum(entry.checked for entry in items),
        failing=sum(FILTERS["failing"][1](entry) for entry in items),
        regressed=sum(entry.regressed for entry in items),
        needs_evidence=sum(entry.needs_evidence for entry in items),
        going_stale=sum(due_at(entry, now) is not None for entry in items),
    )


@dataclass(frozen=True)
class Attention:
    entry: ItemView
    state: str  # regressed | failing | error | stale | due
    reason: str


_ORDER = ("regressed", "failing", "error", "stale", "due")


def needs_attention(checklist: ChecklistView, now: datetime) -> list[Attention]:
    """Every item a person must act on, worst first: regressed, failing, could not check, evidence
    stale, evidence due within DUE_WITHIN."""
    found = [attention for entry in checklist.items if (attention := _attention(entry, now))]
    return sorted(found, key=lambda attention: _ORDER.index(attention.state))


def _attention(entry: ItemView, now: datetime) -> Attention | None:
    proof = entry.verification
    if entry.regressed:
        if proof is not None and proof.status is Status.FAILING:
            return Attention(entry, "regressed", f"ticked, but its live check fails: {proof.summary}")
        return Attention(entry, "regressed", f"ticked, but its evidence went stale: {_stale_detail(entry)}")
    if proof is not None and proof.status in (Status.FAILING, Status.ERROR):
        return Attention(entry, proof.status.value, proof.summary)
    if entry.evidence is not None and entry.evidence.state == "stale":
        return Attention(entry, "stale", _stale_detail(entry))
    due = due_at(entry, now)
    if due is not None:
        days = max((due - now).days, 0)
        return Attention(entry, "due", f"its evidence goes stale on {due:%Y-%m-%d} (in {days} days)")
    return None


def _stale_detail(entry: ItemView) -> str:
    kinds = entry.evidence.kinds if entry.evidence else ()
    return "; ".join(kind.detail for kind in kinds if kind.state in ("stale", "failed")) or "evidence stale"
