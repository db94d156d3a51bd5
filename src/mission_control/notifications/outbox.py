"""Queue and send deliveries. A change set becomes one delivery row per channel that wants any of its
changes, in the caller's transaction; sending claims a row, sends it, and records what happened.

Retries back off exponentially (30 s, 1 min, 2 min, ... at most an hour apart) for 24 hours after the
change, then the delivery is failed for an admin to see and resend. A row claimed by a process that
died while sending goes back to pending after `RECLAIM_AFTER`; its resend carries the same
idempotency key, so a receiver can tell it from news.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mission_control.db.base import upsert, utcnow
from mission_control.db.database import Database
from mission_control.notifications.changes import ChangeSet, ItemChange
from mission_control.notifications.channels import Channel
from mission_control.notifications.delivery import DeliveryError, deliver
from mission_control.notifications.models import DELIVERED, FAILED, PENDING, SENDING, Delivery
from mission_control.progress.service import InvalidInput, NotFound, record_event

RETRY_FOR = timedelta(hours=24)
FIRST_RETRY_SECONDS = 30
LONGEST_WAIT_SECONDS = 3600
RECLAIM_AFTER = timedelta(minutes=10)

logger = logging.getLogger(__name__)


@dataclass
class Outbox:
    """Where a piece of work queues its change sets; `queued` holds the new deliveries' ids to send."""

    channels: Mapping[str, Channel]
    templates: Mapping[str, str | None] = field(default_factory=dict)  # environment -> its template
    queued: list[int] = field(default_factory=list)

    def queue(self, session: Session, change_set: ChangeSet) -> list[int]:
        """A delivery per channel wanting some of the changes; one already queued for the same
        changes (same idempotency key) is not queued again."""
        template = self.templates.get(change_set.environment)
        new = []
        for channel in self.channels.values():
            wanted = tuple(
                change
                for change in change_set.changes
                if channel.wants(change.event, change_set.environment, template)
            )
            if not wanted:
                continue
            subset = replace(change_set, changes=wanted)
            inserted = session.scalar(
                upsert(session, Delivery)
                .values(
                    channel=channel.name,
                    kind=channel.kind,
                    environment=change_set.environment,
                    idempotency_key=subset.key,
                    events=",".join(dict.fromkeys(change.event for change in wanted))[:256],
                    payload=subset.webhook_payload(),
                    status=PENDING,
                    attempts=0,
                    created_at=utcnow(),
                    next_attempt_at=utcnow(),
                    retry_until=utcnow() + RETRY_FOR,
                )
                .on_conflict_do_nothing(index_elements=["channel", "idempotency_key"])
                .returning(Delivery.id)
            )
            if inserted is not None:
                new.append(inserted)
        self.queued.extend(new)
        return new


def change_set_of(payload: dict[str, Any]) -> ChangeSet:
    """The change set a delivery row holds (the webhook payload it was queued with)."""
    return ChangeSet(
        environment=payload["environment"],
        happened_at=datetime.fromisoformat(payload["happened_at"]),
        changes=tuple(ItemChange(**change) for change in payload["changes"]),
        source=payload["source"],
    )


def retry_wait(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt."""
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), LONGEST_WAIT_SECONDS))


def send(
    *,
    database: Database,
    channels: Mapping[str, Channel],
    delivery_id: int,
    environ: Mapping[str, str],
    now: Callable[[], datetime] = utcnow,
    clock: Callable[[], float] | None = None,
) -> str | None:
    """Send one due delivery if nobody else has claimed it; its new status, or None if not ours."""
    with database.transaction() as session:
        claimed = session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.status == PENDING, Delivery.next_attempt_at <= now())
            .values(status=SENDING, claimed_at=now(), attempts=Delivery.attempts + 1)
        ).rowcount
        if not claimed:
            return None
        row = session.get(Delivery, delivery_id)
        assert row is not None
        name, payload, retry_until, attempts = row.channel, row.payload, row.retry_until, row.attempts
    error = None
    channel = channels.get(name)
    if channel is None:
        error = f"channel {name} is no longer in the configuration"
    else:
        try:
            deliver(channel, change_set_of(payload), environ=environ, **({"clock": clock} if clock else {}))
        except DeliveryError as failure:
            error = str(failure)
    with database.transaction() as session:
        row = session.get(Delivery, delivery_id)
        assert row is not None
        row.claimed_at = None
        if error is None:
            row.status, row.delivered_at, row.last_error = DELIVERED, now(), None
        else:
            logger.warning(
                "delivery %d through %s failed (attempt %d): %s", delivery_id, name, attempts, error
            )
            row.last_error = error
            retry_at = now() + retry_wait(attempts)
            if channel is None or retry_at > retry_until:
                row.status = FAILED
            else:
                row.status, row.next_attempt_at = PENDING, retry_at
        return row.status


def due(*, session: Session, now: datetime) -> list[int]:
    """Deliveries to send now; a claim older than RECLAIM_AFTER (its sender died) is released first."""
    session.execute(
        update(Delivery)
        .where(Delivery.status == SENDING, Delivery.claimed_at < now - RECLAIM_AFTER)
        .values(status=PENDING, claimed_at=None)
    )
    return list(
        session.scalars(
            select(Delivery.id)
            .where(Delivery.status == PENDING, Delivery.next_attempt_at <= now)
            .order_by(Delivery.id)
        )
    )


def resend(*, session: Session, delivery_id: int, actor: str) -> Delivery:
    """Send a delivery again now, whatever its state (an admin's choice); audited."""
    row = session.get(Delivery, delivery_id)
    if row is None:
        raise NotFound(f"delivery {delivery_id} does not exist")
    if row.status == SENDING:
        raise InvalidInput(f"delivery {delivery_id} is being sent right now")
    row.status, row.next_attempt_at, row.retry_until = PENDING, utcnow(), utcnow() + RETRY_FOR
    record_event(
        session=session, actor=actor, action="notification.resent", new_value=f"delivery {delivery_id}"
    )
    return row


def recent(*, session: Session, limit: int = 200) -> list[Delivery]:
    """The newest deliveries, for the admins' page."""
    return list(session.scalars(select(Delivery).order_by(Delivery.id.desc()).limit(limit)))


def delivery_counts(*, session: Session) -> dict[str, int]:
    """Deliveries by status, for monitoring."""
    return dict(session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all())
