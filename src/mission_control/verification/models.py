"""Tables for verification runs and their per-item results (append-only history of proofs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mission_control.db.base import Base, UtcDateTime, utcnow


class VerificationRun(Base):
    __tablename__ = "verification_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16))  # running | completed | failed
    triggered_by: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    # per account, per API family: requests sent and the busiest second (see verification/budgets.py)
    request_rates: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class VerificationResult(Base):
    __tablename__ = "verification_results"
    __table_args__ = (UniqueConstraint("run_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("verification_runs.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)


class DiscoveredAccount(Base):
    """An environment found in AWS Organizations: its account, the role to assume, where it sits.

    `archived_at` is set when the account leaves the organization or stops being ACTIVE: the
    environment and its history stay, it is just no longer verified.
    """

    __tablename__ = "discovered_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    environment_id: Mapped[int] = mapped_column(
        ForeignKey("environments.id", ondelete="CASCADE"), unique=True
    )
    account_id: Mapped[str] = mapped_column(String(12), unique=True)
    account_name: Mapped[str] = mapped_column(String(128))
    role_arn: Mapped[str] = mapped_column(String(2048))
    template: Mapped[str] = mapped_column(String(64))
    organizational_unit: Mapped[str] = mapped_column(String(128))
    tags: Mapped[dict[str, Any]] = mapped_column(JSON)
    discovered_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
