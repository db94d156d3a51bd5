"""The verification configuration: one TOML table per environment, strictly validated.

Secrets never live here: boto3 reads base credentials from the standard AWS chain; an environment
names only the role to assume (`role_arn`) and, in `accounts`, the roles of services kept in other
accounts. `[templates.NAME]` tables hold keys many environments share; `template = "NAME"` in an
environment takes them, and the environment's own keys override; its `accounts` table adds to the
template's, service by service.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

from mission_control.errors import MissionControlError
from mission_control.text import ENVIRONMENT_NAME_RULE, is_environment_name
from mission_control.verification.aws import ACCOUNT_KEYS
from mission_control.verification.credentials import DEFAULT_SESSION_NAME, Role


class ConfigError(MissionControlError):
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
    cognito_replication: str | None = None  # "backup-pool" or "replica"; None: detected from the pool
    rto_seconds: int | None = None
    rpo_seconds: int | None = None
    edge_latency_urls: tuple[str, ...] = ()
    edge_latency_requests: int = 20
    edge_latency_p95_ms: int = 1000
    edge_latency_cold_ms: int = 3000
    dns_cutover_timeout_seconds: int = 300
    origin_health_urls: tuple[str, ...] = ()
    template: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    session_name: str = DEFAULT_SESSION_NAME
    accounts: dict[str, str] = field(default_factory=dict)
    verify_schedule: str | None = None  # cron (UTC): when verification runs on its own
    drill_schedule: str | None = None  # cron (UTC): when the read-only drills run on their own
    scheduled_writes: bool = False  # drill_schedule also runs the drills that write to AWS
    evidence_reminder_days: int = 14  # remind this many days before evidence goes stale

    @property
    def regions(self) -> tuple[str, str]:
        return (self.primary_region, self.secondary_region)

    @property
    def role(self) -> Role | None:
        """The role every call assumes, unless `accounts` sends a service elsewhere."""
        return Role(self.role_arn, self.external_id, self.session_name) if self.role_arn else None

    @property
    def account_roles(self) -> dict[str, Role]:
        """Per service (`route53`, `cognito`, ...): the role in the account that holds its resources."""
        return {
            service: Role(arn, self.external_id, self.session_name) for service, arn in self.accounts.items()
        }


_STRING_KEYS = {
    "primary_region", "secondary_region", "hosted_zone", "api_domain", "main_table",
    "edge_auth_function", "edge_redirect_function", "edge_role",
    "cognito_primary_pool", "cognito_backup_pool", "external_id",
}  # fmt: skip
_INTEGER_KEYS = {
    "max_failover_ttl", "max_default_ttl", "max_max_ttl", "rto_seconds", "rpo_seconds",
    "edge_latency_requests", "edge_latency_p95_ms", "edge_latency_cold_ms", "dns_cutover_timeout_seconds",
    "evidence_reminder_days",
}  # fmt: skip
_STRING_LIST_KEYS = {
    "health_check_paths", "platform_tables", "distributions", "edge_latency_urls", "origin_health_urls",
}  # fmt: skip
_STRING_MAP_KEYS = {"regional_endpoints"}
_BOOLEAN_KEYS = {"scheduled_writes"}
SCHEDULE_KEYS = ("verify_schedule", "drill_schedule")
CHOICE_KEYS = {"cognito_replication": ("backup-pool", "replica")}
_REQUIRED_KEYS = ("primary_region", "secondary_region")
ACCOUNT_SERVICES = tuple(ACCOUNT_KEYS.values())
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")


def load_config(path: Path) -> dict[str, EnvironmentConfig]:
    """Read and validate a configuration file; raise ConfigError naming the file and key."""
    return parse_config(read_config(path), source=str(path))


def read_config(path: Path) -> str:
    """The configuration file's text; ConfigError when it cannot be read as UTF-8."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read configuration ({error.strerror})") from error
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path}: cannot read configuration (not UTF-8 text: {error.reason} at byte {error.start})"
        ) from error
    return text


def parse_config(text: str, *, source: str) -> dict[str, EnvironmentConfig]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: not valid TOML: {error}") from error
    except RecursionError as error:
        raise ConfigError(f"{source}: not valid TOML: nested too deeply") from error
    unknown_top = set(document) - {"environments", "notifications", "templates"}
    if unknown_top:
        raise ConfigError(
            f"{source}: unknown key {sorted(unknown_top)[0]!r} "
            "(expected [environments.NAME], [templates.NAME] and [notifications.NAME] tables)"
        )
    from mission_control.notifications.channels import parse_channels  # it imports ConfigError

    parse_channels(document.get("notifications", {}), source)  # a bad channel fails every command
    templates = _templates(document.get("templates", {}), source)
    environments = document.get("environments", {})
    if not isinstance(environments, dict) or not environments:
        raise ConfigError(f"{source}: no [environments.NAME] table found")
    return {name: _environment(name, table, source, templates) for name, table in environments.items()}


def load_templates(path: Path) -> dict[str, dict[str, Any]]:
    """The file's checked `[templates.NAME]` tables, for environments made outside it (discovery)."""
    document = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return _templates(document.get("templates", {}), str(path))


def from_template(
    name: str, *, templates: dict[str, dict[str, Any]], template: str, role_arn: str, source: str
) -> EnvironmentConfig:
    """A discovered environment's configuration: its template's keys and the role in its account."""
    return _environment(name, {"template": template, "role_arn": role_arn}, source, templates)


def _templates(tables: Any, source: str) -> dict[str, dict[str, Any]]:
    """Each template's keys, checked on their own so an error names the template and the key."""
    if not isinstance(tables, dict):
        raise ConfigError(f"{source}: templates must be [templates.NAME] tables")
    checked = {}
    for name, table in tables.items():
        where = f"{source}: templates.{name}"
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: must be a table")
        if "template" in table:
            raise ConfigError(f"{where}: a template cannot itself name a template")
        checked[name] = _values(table, where)
    return checked


def _environment(
    name: str, table: Any, source: str, templates: dict[str, dict[str, Any]]
) -> EnvironmentConfig:
    where = f"{source}: environments.{name}"
    if not is_environment_name(name):
        raise ConfigError(f"{where}: invalid environment name {name!r}: {ENVIRONMENT_NAME_RULE}")
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    values = _values(table, where)
    template = values.get("template")
    if template is not None and template not in templates:
        found = ", ".join(sorted(templates)) or "none"
        raise ConfigError(f"{where}.template: no [templates.{template}] table (found: {found})")
    inherited = templates.get(template or "", {})
    merged = {**inherited, **values}
    if "accounts" in inherited and "accounts" in values:  # per service: the environment's win
        merged["accounts"] = {**inherited["accounts"], **values["accounts"]}
    for key in _REQUIRED_KEYS:
        if key not in merged:
            inherited = f" (nor in [templates.{template}])" if template else ""
            raise ConfigError(f"{where}: missing required key {key!r}{inherited}")
    check_regions(merged["primary_region"], merged["secondary_region"], where)
    return EnvironmentConfig(name=name, **merged)


def _values(table: dict[str, Any], where: str) -> dict[str, Any]:
    known = {f.name for f in fields(EnvironmentConfig)} - {"name"}
    for key in table:
        if key not in known:
            raise ConfigError(f"{where}: unknown key {key!r}")
    return {key: _checked(key, value, where) for key, value in table.items()}


@cache
def known_regions() -> frozenset[str]:
    """Every region botocore's endpoint data names, in every partition (aws, aws-cn, aws-us-gov, ...)."""
    from botocore.loaders import create_loader

    endpoints = create_loader().load_data("endpoints")
    return frozenset(region for partition in endpoints["partitions"] for region in partition["regions"])


def check_regions(primary: str, secondary: str, where: str) -> None:
    """Two different, real regions: a typo would otherwise probe an endpoint that does not exist."""
    for key, region in (("primary_region", primary), ("secondary_region", secondary)):
        if region not in known_regions():
            raise ConfigError(f"{where}.{key}: unknown AWS region {region!r} (e.g. us-east-1, eu-west-1)")
    if primary == secondary:
        raise ConfigError(f"{where}.secondary_region: must differ from primary_region (both are {primary!r})")


def _checked(key: str, value: Any, where: str) -> Any:
    def wrong(expected: str) -> ConfigError:
        return ConfigError(f"{where}.{key}: expected {expected}, got {type(value).__name__} {value!r}")

    if key in CHOICE_KEYS:
        if value not in CHOICE_KEYS[key]:
            raise wrong(" or ".join(f'"{choice}"' for choice in CHOICE_KEYS[key]))
        return value
    if key == "template":
        if not isinstance(value, str) or not value:
            raise wrong("the name of a [templates.NAME] table")
        return value
    if key == "role_arn":
        if not isinstance(value, str) or not _ROLE_ARN.match(value):
            raise wrong("an IAM role ARN (arn:aws:iam::123456789012:role/NAME)")
        return value
    if key == "session_name":
        if not isinstance(value, str) or not _SESSION_NAME.match(value):
            raise wrong("2 to 64 letters, digits or +=,.@_-")
        return value
    if key == "accounts":
        return _accounts(value, where)
    if key in SCHEDULE_KEYS:
        if not isinstance(value, str) or not is_cron(value):
            raise wrong('a cron expression in UTC, e.g. "17 */6 * * *" (minute hour day month weekday)')
        return value
    if key in _BOOLEAN_KEYS:
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
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


def is_cron(expression: str) -> bool:
    """Five cron fields (minute hour day month weekday), or six with seconds last, as croniter reads them."""
    from croniter import croniter

    return len(expression.split()) in (5, 6) and croniter.is_valid(expression)


def _accounts(value: Any, where: str) -> dict[str, str]:
    """The `accounts` table: service name -> the role ARN of the account holding that service."""
    if not isinstance(value, dict):
        raise ConfigError(f"{where}.accounts: expected a table of service = role ARN")
    for service, arn in value.items():
        if service not in ACCOUNT_SERVICES:
            raise ConfigError(
                f"{where}.accounts: expected services among {', '.join(ACCOUNT_SERVICES)}, got {service!r}"
            )
        if not isinstance(arn, str) or not _ROLE_ARN.match(arn):
            raise ConfigError(
                f"{where}.accounts.{service}: expected an IAM role ARN (arn:aws:iam::123456789012:role/NAME), "
                f"got {type(arn).__name__} {arn!r}"
            )
    return dict(value)
