"""What a notification says: the items whose state changed in one environment, sent as one message.

One message per change set, not per item: a run that regresses five items is one Slack post. The
change set's `key` is its idempotency key: deliveries of the same change set carry the same key, so
a receiver (and our own delivery records) can tell a retry from news.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

WEBHOOK_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ItemChange:
    event: str  # one of channels.EVENTS
    item_id: str
    title: str
    old_state: str | None
    new_state: str
    reason: str
    owner: str | None
    url: str


@dataclass(frozen=True)
class ChangeSet:
    environment: str
    happened_at: datetime
    changes: tuple[ItemChange, ...]
    source: str  # what produced the changes, e.g. "verification run 42"

    @property
    def key(self) -> str:
        """Stable across retries and workers: the same changes from the same source hash the same."""
        identity = {"environment": self.environment, "source": self.source, "changes": self._changes()}
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]

    def webhook_payload(self) -> dict[str, Any]:
        """The documented webhook body (docs/notification-webhook.schema.json, version 1)."""
        return {
            "schema_version": WEBHOOK_SCHEMA_VERSION,
            "id": self.key,
            "environment": self.environment,
            "happened_at": self.happened_at.isoformat(),
            "source": self.source,
            "changes": self._changes(),
        }

    def _changes(self) -> list[dict[str, Any]]:
        return [asdict(change) for change in self.changes]
