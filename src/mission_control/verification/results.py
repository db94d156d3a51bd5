"""The outcome of one probe: a status the dashboard can show and the facts that decided it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    VERIFIED = "verified"
    FAILING = "failing"
    ERROR = "error"
    MANUAL = "manual"


@dataclass(frozen=True)
class ProbeResult:
    """`summary` is one human sentence; `facts` is JSON-serialisable detail behind it."""

    item_id: str
    status: Status
    summary: str
    facts: dict[str, Any] = field(default_factory=dict)


def verified(item_id: str, summary: str, **facts: Any) -> ProbeResult:
    return ProbeResult(item_id, Status.VERIFIED, summary, facts)


def failing(item_id: str, summary: str, **facts: Any) -> ProbeResult:
    return ProbeResult(item_id, Status.FAILING, summary, facts)


def errored(item_id: str, summary: str, **facts: Any) -> ProbeResult:
    return ProbeResult(item_id, Status.ERROR, summary, facts)


def not_configured(item_id: str, key: str, environment: str) -> ProbeResult:
    """A probe whose configuration key is unset fails (it proves nothing) and says what to set."""
    return failing(item_id, f"not configured: set {key} in [environments.{environment}]")


@dataclass(frozen=True)
class StoredResult:
    """An item's result from the latest completed run, as the dashboard shows it."""

    status: Status
    summary: str
    facts: dict[str, Any]
    verified_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "summary": self.summary,
            "facts": self.facts,
            "verified_at": self.verified_at.isoformat(),
        }
