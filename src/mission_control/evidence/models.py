"""Tables for evidence: documents, links and files, attestations, and drill runs. All append-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mission_control.db.base import Base, UtcDateTime, utcnow


class Evidence(Base):
    """A link, an uploaded file or a generated document attached to one item in one environment."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # link | file | document
    title: Mapped[str] = mapped_column(String(256))
    url: Mapped[str | None] = mapped_column(Text)
    filename: Mapped[str | None] = mapped_column(String(256))
    content_type: Mapped[str | None] = mapped_column(String(128))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    fingerprint: Mapped[str | None] = mapped_column(String(64))  # of the live configuration it describes
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Attestation(Base):
    """Someone's signed statement that an item holds; bound to a configuration fingerprint when given."""

    __tablename__ = "attestations"

    id: Mapped[int] = mapped_column(primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(String(128))
    statement: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    attested_by: Mapped[str] = mapped_column(String(128))
    attested_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class DrillRun(Base):
    """One drill's record: the JSON timeline and measurements exactly as the drill produced them."""

    __tablename__ = "drill_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(String(128))
    drill: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime())
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    run_by: Mapped[str] = mapped_column(String(128))
