"""Notification channels as configured in `[notifications.NAME]` tables, strictly validated.

Secrets (webhook URLs, signing secrets, SMTP passwords) never live in the file: it names the
environment variables that hold them, read only when a message is sent.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from mission_control.verification.config import ConfigError, parse_config, read_config

KINDS = ("slack", "webhook", "email")
EVENTS = (
    "regressed",
    "failing",
    "error",
    "recovered",
    "evidence-expiring",
    "evidence-stale",
    "drill-failed",
    "drill-passed",
)
_KEYS_BY_KIND = {
    "slack": {"url_env"},
    "webhook": {"url_env", "secret_env"},
    "email": {"smtp_host", "smtp_port", "from", "to", "username_env", "password_env", "ca_file"},
}
_REQUIRED_BY_KIND = {
    "slack": {"url_env"},
    "webhook": {"url_env", "secret_env"},
    "email": {"smtp_host", "from", "to"},
}
_COMMON_KEYS = {"kind", "events", "environments"}


@dataclass(frozen=True)
class Channel:
    """Where and what to send: `events` filters item changes, `environments` the environments."""

    name: str
    kind: str
    events: tuple[str, ...]
    environments: tuple[str, ...] = ("*",)
    settings: dict[str, Any] = field(default_factory=dict)

    def wants(self, event: str, environment: str, template: str | None = None) -> bool:
        """Whether a change of kind `event` in `environment` (made from `template`) goes here."""
        if event not in self.events:
            return False
        return any(
            fnmatchcase(environment, pattern) or (template is not None and pattern == template)
            for pattern in self.environments
        )


def load_channels(path: Path) -> dict[str, Channel]:
    """The file's channels; the whole file must be valid, as for every command that reads it."""
    text = read_config(path)
    parse_config(text, source=str(path))
    return parse_channels(tomllib.loads(text).get("notifications", {}), str(path))


def parse_channels(table: Any, source: str) -> dict[str, Channel]:
    """Every `[notifications.NAME]` table; ConfigError names the file, the channel and the key."""
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: notifications must be tables [notifications.NAME]")
    return {name: _channel(name, body, f"{source}: notifications.{name}") for name, body in table.items()}


def _channel(name: str, body: Any, where: str) -> Channel:
    if not isinstance(body, dict):
        raise ConfigError(f"{where}: must be a table")
    kind = body.get("kind")
    if kind not in KINDS:
        raise ConfigError(f"{where}.kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    for key in body:
        if key not in _COMMON_KEYS | _KEYS_BY_KIND[kind]:
            raise ConfigError(f"{where}: unknown key {key!r} for a {kind} channel")
    for key in sorted(_REQUIRED_BY_KIND[kind] | {"events"}):
        if key not in body:
            raise ConfigError(f"{where}: missing required key {key!r}")
    events = _strings(body["events"], f"{where}.events")
    unknown = [event for event in events if event not in EVENTS]
    if unknown:
        raise ConfigError(f"{where}.events: unknown event {unknown[0]!r} (known: {', '.join(EVENTS)})")
    environments = _strings(body.get("environments", ["*"]), f"{where}.environments")
    settings = {key: value for key, value in body.items() if key not in _COMMON_KEYS}
    for key, value in settings.items():
        if key == "to":
            settings[key] = _strings(value, f"{where}.to")
        elif key == "smtp_port":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
                raise ConfigError(f"{where}.smtp_port: expected a port number, got {value!r}")
        elif not isinstance(value, str) or not value:
            raise ConfigError(f"{where}.{key}: expected a non-empty string, got {value!r}")
    return Channel(name, kind, events, environments, settings)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: expected a non-empty list of non-empty strings, got {value!r}")
    return tuple(value)
