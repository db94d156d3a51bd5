"""The checklist as shown: catalog items joined with their state and latest proof, and the counters.

One function computes every counter, so the page, the API, the CLI and exports cannot disagree.
An item counts as done when its probe verified it, when its required evidence is complete and fresh,
or when it is ticked and neither its probe fails nor its evidence went stale; a ticked item whose
probe fails or whose evidence went stale is `regressed` and does not count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mission_control.catalog import Catalog, Category, Item
from mission_control.evidence.freshness import EvidenceStatus
from mission_control.progress.models import ItemState
from mission_control.verification.results import Status, StoredResult


@dataclass(frozen=True)
class ItemView:
    item: Item
    checked: bool
    checked_by: str | None
    checked_at: datetime | None
    owner: str | None
    note: str
    version: int
    verification: StoredResult | None = None
    evidence: EvidenceStatus | None = None

    @property
    def verification_status(self) -> Status | None:
        return self.verification.status if self.verification else None

    @property
    def evidence_stale(self) -> bool:
        return self.evidence is not None and self.evidence.state == "stale"

    @property
    def regressed(self) -> bool:
        """Ticked, but the live check fails or the evidence behind it went stale."""
        return self.checked and (self.verification_status is Status.FAILING or self.evidence_stale)

    @property
    def evidence_complete(self) -> bool:
        return self.evidence is not None and self.evidence.state == "complete"

    @property
    def needs_evidence(self) -> bool:
        """The catalog asks for evidence and some of it is missing, failed or stale."""
        return self.evidence is not None and not self.evidence_complete

    @property
    def done(self) -> bool:
        if self.verification_status is Status.VERIFIED or self.evidence_complete:
            return True
        return self.checked and not self.regressed

    @property
    def status(self) -> str:
        """The one word the item's pill shows, worst first: what most needs a person decides it."""
        if self.regressed:
            return "regressed"
        if self.verification_status in (Status.FAILING, Status.ERROR):
            return self.verification_status.value
        if self.verification_status is Status.VERIFIED:
            return "verified"
        if self.evidence_complete:
            return "evidenced"
        if self.checked:
            return "ticked"
        if self.needs_evidence:
            return "needs-evidence"
        return "manual" if self.verification_status is Status.MANUAL else "open"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.item.id,
            "title": self.item.title,
            "description": self.item.description,
            "category": self.item.category,
            "effort": self.item.effort,
            "checked": self.checked,
            "checked_by": self.checked_by,
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
            "owner": self.owner,
            "note": self.note,
            "version": self.version,
            "done": self.done,
            "regressed": self.regressed,
            "status": self.status,
            "verification": self.verification.to_dict() if self.verification else None,
            "evidence": self.evidence.to_dict() if self.evidence else None,
        }


@dataclass(frozen=True)
class CategoryView:
    category: Category
    items: tuple[ItemView, ...]

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def completed(self) -> int:
        return sum(1 for item in self.items if item.done)

    @property
    def complete(self) -> bool:
        """Complete only when it has items and all are done (the seed got this wrong)."""
        return self.total > 0 and self.completed == self.total

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.category.id,
            "name": self.category.name,
            "icon": self.category.icon,
            "complete": self.complete,
            "completed": self.completed,
            "total": self.total,
            "items": [item.to_dict() for item in self.items],
        }


@dataclass(frozen=True)
class ChecklistView:
    environment: str
    catalog: Catalog
    categories: tuple[CategoryView, ...]

    @property
    def items(self) -> tuple[ItemView, ...]:
        return tuple(item for category in self.categories for item in category.items)

    @property
    def total(self) -> int:
        return sum(category.total for category in self.categories)

    @property
    def completed(self) -> int:
        return sum(category.completed for category in self.categories)

    @property
    def valid_until(self) -> datetime | None:
        """The moment this view stops being true without any write: the first evidence expiry."""
        ends = [
            item.evidence.fresh_until for item in self.items if item.evidence and item.evidence.fresh_until
        ]
        return min(ends, default=None)

    @property
    def percent(self) -> int:
        """Whole percent, rounded down: 19 of 20 is 95%, and 100% means everything."""
        return self.completed * 100 // self.total if self.total else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "checklist": self.catalog.id,
            "total": self.total,
            "completed": self.completed,
            "percent": self.percent,
            "categories": [category.to_dict() for category in self.categories],
        }


def item_view(
    item: Item, state: ItemState | None, proof: StoredResult | None, evidence: EvidenceStatus | None
) -> ItemView:
    if state is None:  # the catalog gained the item after the environment was made
        return ItemView(item, False, None, None, None, "", 0, proof, evidence)
    return ItemView(
        item,
        state.checked,
        state.checked_by,
        state.checked_at,
        state.owner,
        state.note,
        state.version,
        proof,
        evidence,
    )


def build_checklist_view(
    catalog: Catalog,
    environment: str,
    states: Mapping[str, ItemState],
    results: Mapping[str, StoredResult] | None = None,
    evidence: Mapping[str, EvidenceStatus] | None = None,
) -> ChecklistView:
    proofs = results or {}
    evidence = evidence or {}
    return ChecklistView(
        environment,
        catalog,
        tuple(
            CategoryView(
                category,
                tuple(
                    item_view(item, states.get(item.id), proofs.get(item.id), evidence.get(item.id))
                    for item in category.items
                ),
            )
            for category in catalog.categories
        ),
    )
