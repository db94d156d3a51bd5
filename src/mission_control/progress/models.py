"""Tables for environments, the state of each checklist item in each, and the audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mission_control.db.base import Base, UtcDateTime, utcnow


class Environment(Base):
    __tablename__ = "environments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ItemState(Base):
    """One row per (environment, catalog item), created with the environment; `version` guards updates."""

    __tablename__ = "item_states"
    __table_args__ = (UniqueConstraint("environment_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(128))
    checked: Mapped[bool] = mapped_column(Boolean, default=False)
    checked_by: Mapped[str | None] = mapped_column(String(128))
    checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    owner: Mapped[str | None] = mapped_column(String(128))
    note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=0)


class AuditEvent(Base):
    """Append-only: who changed what, when, from which value to which. Also the live-update feed.
    One exception: the hourly count of failed sign-ins that name nobody is updated in place."""

    __tablename__ = "audit_events"
    # An item's newest changes are a few index entries (also the environment's, and cascading deletes).
    __table_args__ = (Index("ix_audit_events_item_history", "environment_id", "item_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    environment_id: Mapped[int | None] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    item_id: Mapped[str | None] = mapped_column(String(128))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
