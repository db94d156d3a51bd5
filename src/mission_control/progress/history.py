"""Each item's newest changes, read for a whole checklist at once: the dashboard shows them in place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select, union_all
from sqlalchemy.orm import Session

from mission_control.progress.models import AuditEvent

RECENT_CHANGES = 10


@dataclass(frozen=True)
class Change:
    at: datetime
    actor: str
    action: str
    old: str | None
    new: str | None


def recent_changes(
    *, session: Session, environment_id: int, item_ids: Sequence[str], limit: int = RECENT_CHANGES
) -> dict[str, tuple[Change, ...]]:
    """item id -> its `limit` newest changes, newest first; an item without any has none.

    One query of one small subquery per item, each a few entries of ix_audit_events_item_history, so
    the cost stays the same however long the audit trail grows."""
    if not item_ids:
        return {}
    parameters = {f"item_{number}": item_id for number, item_id in enumerate(item_ids)}
    rows = session.execute(
        _newest_changes(len(item_ids), limit), {"environment_id": environment_id, **parameters}
    )
    changes: dict[str, list[Change]] = {}
    for item_id, *change in rows:
        changes.setdefault(item_id, []).append(Change(*change))
    return {item_id: tuple(found) for item_id, found in changes.items()}


@cache
def _newest_changes(items: int, limit: int) -> Select[Any]:
    """The query for `items` items, built once: building it costs more than running it."""
    newest = [
        select(AuditEvent.id)
        .where(
            AuditEvent.environment_id == bindparam("environment_id"),
            AuditEvent.item_id == bindparam(f"item_{number}"),
        )
        .order_by(AuditEvent.id.desc())
        .limit(limit)
        .subquery()
        .select()  # SQLite allows LIMIT in a compound select only inside a subquery
        for number in range(items)
    ]
    wanted = union_all(*newest).subquery()
    return (
        select(
            AuditEvent.item_id,
            AuditEvent.at,
            AuditEvent.actor,
            AuditEvent.action,
            AuditEvent.old_value,
            AuditEvent.new_value,
        )
        .where(AuditEvent.id.in_(select(wanted.c.id)))
        .order_by(AuditEvent.id.desc())
    )
