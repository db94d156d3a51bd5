"""Deliveries: one row per change set per channel, written in the transaction that found the change.

The row is the outbox. Whoever sends it (the CLI right after a run, a worker, the server) claims it
first; the unique (channel, idempotency key) pair means a change set reaches a channel once, however
many workers, retries or re-runs of the same work there are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mission_control.db.base import Base, UtcDateTime, utcnow

PENDING, SENDING, DELIVERED, FAILED = "pending", "sending", "delivered", "failed"
DELIVERY_STATUSES = (PENDING, SENDING, DELIVERED, FAILED)


class Delivery(Base):
    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("channel", "idempotency_key"),
        Index("ix_notification_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # slack | webhook | email
    environment: Mapped[str] = mapped_column(String(64), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    events: Mapped[str] = mapped_column(String(256))  # the change events it carries, comma-separated
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # the change set, as the webhook documents it
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    retry_until: Mapped[datetime] = mapped_column(UtcDateTime())  # then failed, for an admin to resend
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
