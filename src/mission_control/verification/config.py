"""The verification configuration: one TOML table per environment, strictly validated.

Credentials never live here: boto3 reads them from the standard AWS environment.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from mission_control.text import ENVIRONMENT_NAME_RULE, is_environment_name

DEFAULT_CONFIG_PATH = Path("mission-control.toml")


class ConfigError(Exception):
    """A configuration the user must fix; the message names the file and the key."""


@dataclass(frozen=True)
class EnvironmentConfig:
    name: str
    primary_region: str
    secondary_region: str
    hosted_zone: str | None = None
    api_domain: str | None = None
    regional_endpoints: dict[str, str] = field(default_factory=dict)
    health_check_paths: tuple[str, ...] = ("/beak/system/status", "/beak")
    max_failover_ttl: int = 60
    main_table: str | None = None
    platform_tables: tuple[str, ...] = ()
    distributions: tuple[str, ...] = ()
    max_default_ttl: int = 300
    max_max_ttl: int = 86400
    edge_auth_function: str | None = None
    edge_redirect_function: str | None = None
    edge_role: str | None = None
    cognito_primary_pool: str | None = None
    cognito_backup_pool: str | None = None
    rto_seconds: int | None = None
    rpo_seconds: int | None = None
    edge_latency_urls: tuple[str, ...] = ()
    edge_latency_requests: int = 20
    edge_latency_p95_ms: int = 1000
    edge_latency_cold_ms: int = 3000
    dns_cutover_timeout_seconds: int = 300
    origin_health_urls: tuple[str, ...] = ()

    @property
    def regions(self) -> tuple[str, str]:
        return (self.primary_region, self.secondary_region)


_STRING_KEYS = {
    "primary_region", "secondary_region", "hosted_zone", "api_domain", "main_table",
    "edge_auth_function", "edge_redirect_function", "edge_role",
    "cognito_primary_pool", "cognito_backup_pool",
}  # fmt: skip
_INTEGER_KEYS = {
    "max_failover_ttl", "max_default_ttl", "max_max_ttl", "rto_seconds", "rpo_seconds",
    "edge_latency_requests", "edge_latency_p95_ms", "edge_latency_cold_ms", "dns_cutover_timeout_seconds",
}  # fmt: skip
_STRING_LIST_KEYS = {
    "health_check_paths", "platform_tables", "distributions", "edge_latency_urls", "origin_health_urls",
}  # fmt: skip
_STRING_MAP_KEYS = {"regional_endpoints"}
_REQUIRED_KEYS = ("primary_region", "secondary_region")


def load_config(path: Path) -> dict[str, EnvironmentConfig]:
    """Read and validate a configuration file; raise ConfigError naming the file and key."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read configuration ({error.strerror})") from error
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path}: cannot read configuration (not UTF-8 text: {error.reason} at byte {error.start})"
        ) from error
    return parse_config(text, source=str(path))


def parse_config(text: str, *, source: str) -> dict[str, EnvironmentConfig]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: not valid TOML: {error}") from error
    except RecursionError as error:
        raise ConfigError(f"{source}: not valid TOML: nested too deeply") from error
    unknown_top = set(document) - {"environments"}
    if unknown_top:
        raise ConfigError(
            f"{source}: unknown key {sorted(unknown_top)[0]!r} (expected [environments.NAME] tables)"
        )
    environments = document.get("environments", {})
    if not isinstance(environments, dict) or not environments:
        raise ConfigError(f"{source}: no [environments.NAME] table found")
    return {name: _environment(name, table, source) for name, table in environments.items()}


def _environment(name: str, table: Any, source: str) -> EnvironmentConfig:
    where = f"{source}: environments.{name}"
    if not is_environment_name(name):
        raise ConfigError(f"{where}: invalid environment name {name!r}: {ENVIRONMENT_NAME_RULE}")
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    known = {f.name for f in fields(EnvironmentConfig)} - {"name"}
    for key in table:
        if key not in known:
            raise ConfigError(f"{where}: unknown key {key!r}")
    for key in _REQUIRED_KEYS:
        if key not in table:
            raise ConfigError(f"{where}: missing required key {key!r}")
    values: dict[str, Any] = {}
    for key, value in table.items():
        values[key] = _checked(key, value, where)
    return EnvironmentConfig(name=name, **values)


def _checked(key: str, value: Any, where: str) -> Any:
    def wrong(expected: str) -> ConfigError:
        return ConfigError(f"{where}.{key}: expected {expected}, got {type(value).__name__} {value!r}")

    if key in _STRING_KEYS:
        if not isinstance(value, str) or not value:
            raise wrong("a non-empty string")
        return value
    if key in _INTEGER_KEYS:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise wrong("a non-negative integer")
        return value
    if key in _STRING_LIST_KEYS:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise wrong("a list of non-empty strings")
        return tuple(value)
    if key in _STRING_MAP_KEYS:
        if not isinstance(value, dict) or not all(isinstance(v, str) and v for v in value.values()):
            raise wrong("a table of region = hostname strings")
        return dict(value)
    raise AssertionError(f"unclassified configuration key {key}")
