"""Which item changes are news: a verification run compared with the run before it, a drill with
the drill's previous run, evidence nearing or past its end. Pure functions of what was read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from mission_control.catalog import Catalog
from mission_control.notifications.changes import ItemChange
from mission_control.verification.results import ProbeResult, Status, StoredResult


@dataclass(frozen=True)
class ItemLinks:
    """Titles, owners and dashboard links of one environment's items, for the messages."""

    catalog: Catalog
    owners: Mapping[str, str | None]
    public_url: str
    environment: str

    def title(self, item_id: str) -> str:
        item = self.catalog.item(item_id)
        return item.title if item else item_id

    def url(self, item_id: str) -> str:
        return f"{self.public_url.rstrip('/')}/?env={self.environment}#item-{item_id}"

    def change(self, event: str, item_id: str, old: str | None, new: str, reason: str) -> ItemChange:
        return ItemChange(
            event=event, item_id=item_id, title=self.title(item_id), old_state=old, new_state=new,
            reason=reason, owner=self.owners.get(item_id), url=self.url(item_id),
        )  # fmt: skip


def verification_changes(
    *,
    previous: Mapping[str, StoredResult],
    results: Iterable[ProbeResult],
    ticked: set[str],
    links: ItemLinks,
) -> list[ItemChange]:
    """Each item whose proof changed state since the previous completed run.

    Failing is `regressed` for a ticked item, else `failing`; `error` is an item AWS could not be read
    for; `recovered` is verified after failing or error. A first run has no previous state, so its
    failing and error items are news and its verified ones are not. The same state twice is no news.
    """
    changes = []
    for result in results:
        before = previous.get(result.item_id)
        old = before.status if before else None
        if result.status is old:
            continue
        if result.status is Status.FAILING:
            event = "regressed" if result.item_id in ticked else "failing"
            new = event
        elif result.status is Status.ERROR:
            event, new = "error", "error"
        elif result.status is Status.VERIFIED and old in (Status.FAILING, Status.ERROR):
            event, new = "recovered", "verified"
        else:
            continue
        changes.append(links.change(event, result.item_id, old.value if old else None, new, result.summary))
    return changes


def drill_change(
    *, item_id: str, drill: str, outcome: str, previous_outcome: str | None, reason: str, links: ItemLinks
) -> list[ItemChange]:
    """A drill's outcome when it differs from that drill's previous run (or it is the first)."""
    if outcome == previous_outcome:
        return []
    event = "drill-passed" if outcome == "passed" else "drill-failed"
    detail = f"drill {drill} {outcome}" + (f": {reason}" if reason else "")
    return [links.change(event, item_id, previous_outcome, outcome, detail)]


def evidence_change(*, item_id: str, state: str, ends_at: datetime, links: ItemLinks) -> ItemChange:
    """`evidence-stale` for evidence that went stale at `ends_at`, else `evidence-expiring` (it will)."""
    when = f"{ends_at:%Y-%m-%d %H:%M} UTC"
    if state == "stale":
        return links.change("evidence-stale", item_id, "fresh", "stale", f"its evidence went stale on {when}")
    return links.change(
        "evidence-expiring", item_id, "fresh", "expiring", f"its evidence goes stale on {when}"
    )
