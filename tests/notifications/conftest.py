"""Change sets for the notification tests (the receivers are in tests/receivers.py)."""

from __future__ import annotations

import datetime as dt

from mission_control.notifications.changes import ChangeSet, ItemChange
from tests.receivers import HttpReceiver, SmtpServer

__all__ = ["HttpReceiver", "SmtpServer", "change", "change_set"]


def change(event: str = "regressed", **fields: object) -> ItemChange:
    values: dict[str, object] = {
        "event": event,
        "item_id": "dns.failover-ttl",
        "title": "Validate DNS TTL is ≤60s for failover records",
        "old_state": "verified",
        "new_state": "regressed",
        "reason": "TTL above 60s on us-east-1 (300s)",
        "owner": "ana",
        "url": "https://mc.example/?env=production#item-dns.failover-ttl",
    }
    values.update(fields)
    return ItemChange(**values)  # type: ignore[arg-type]


def change_set(*changes: ItemChange) -> ChangeSet:
    return ChangeSet(
        "production",
        dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC),
        changes or (change(),),
        source="verification run 7",
    )
