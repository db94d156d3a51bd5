"""The one settings object: every knob Mission Control reads from its environment lives here."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from mission_control.errors import MissionControlError
from mission_control.identity.service import ROLES


def default_database_url() -> str:
    data_dir = Path(platformdirs.user_data_dir("mission-control", appauthor=False))
    return f"sqlite:///{data_dir / 'mission-control.db'}"


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("text", "json")
JOB_RUNNERS = ("in-process", "queue")
TICK_SECONDS = (1, 2, 3, 5, 10, 15, 20, 30)  # divisors of a minute: the queue's tick is a seconds cron


class SettingsError(MissionControlError):
    """An environment variable Mission Control cannot use; the message names it."""


@dataclass(frozen=True)
class OidcSettings:
    """OpenID Connect sign-in. `role_map` pairs a value of the role claim (or "*": anyone) with a role."""

    issuer: str
    client_id: str
    client_secret: str
    role_map: tuple[tuple[str, str], ...]
    role_claim: str = "groups"
    scopes: str = "openid profile email"
    redirect_url: str | None = None  # default: /login/sso/callback on the host the browser used

    @classmethod
    def from_env(cls) -> OidcSettings | None:
        """None unless MC_OIDC_ISSUER is set; then the client id, secret and role map must be too."""
        issuer = os.environ.get("MC_OIDC_ISSUER", "").strip()
        if not issuer:
            return None
        required = ("MC_OIDC_CLIENT_ID", "MC_OIDC_CLIENT_SECRET", "MC_OIDC_ROLE_MAP")
        missing = [name for name in required if not os.environ.get(name, "").strip()]
        if missing:
            raise SettingsError(f"MC_OIDC_ISSUER is set, so {' and '.join(missing)} must be set too")
        return cls(
            issuer=issuer,
            client_id=os.environ["MC_OIDC_CLIENT_ID"].strip(),
            client_secret=os.environ["MC_OIDC_CLIENT_SECRET"].strip(),
            role_map=parse_role_map(os.environ["MC_OIDC_ROLE_MAP"]),
            role_claim=os.environ.get("MC_OIDC_ROLE_CLAIM", "").strip() or "groups",
            scopes=os.environ.get("MC_OIDC_SCOPES", "").strip() or "openid profile email",
            redirect_url=os.environ.get("MC_OIDC_REDIRECT_URL", "").strip() or None,
        )


def parse_role_map(text: str) -> tuple[tuple[str, str], ...]:
    """'platform-admins=admin,sre=editor,*=viewer' as pairs; SettingsError names a malformed entry."""
    pairs = []
    for entry in filter(None, (part.strip() for part in text.split(","))):
        value, _, role = (part.strip() for part in entry.rpartition("="))
        if not value or role not in ROLES:
            raise SettingsError(
                f"MC_OIDC_ROLE_MAP entry {entry!r} is not VALUE=ROLE with ROLE one of {', '.join(ROLES)}"
            )
        pairs.append((value, role))
    if not pairs:
        raise SettingsError("MC_OIDC_ROLE_MAP maps nothing: nobody could sign in with SSO")
    return tuple(pairs)


@dataclass(frozen=True)
class Settings:
    database_url: str
    secure_cookies: bool = False
    session_hours: int = 12
    session_idle_minutes: int = 60  # a browser session unused this long ends, within its 12 hours
    login_max_failures: int = 5  # failed sign-ins for one name from one address within the lockout...
    login_lockout_minutes: int = 15  # ...lock that name from that address this long after the last
    max_body_bytes: int = 6 * 1_048_576  # larger request bodies get 413; room for a 5 MB evidence file
    live_recheck_seconds: float = 30  # an open live stream ends this soon after its credential does
    config_path: Path | None = None  # the verification configuration (TOML), if any
    oidc: OidcSettings | None = None  # single sign-on, when configured
    log_level: str = "INFO"  # of LOG_LEVELS
    log_format: str = "text"  # of LOG_FORMATS: "json" for a log collector
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (IPs or networks); none by default.
    forwarded_allow_ips: tuple[str, ...] = ()
    backup_key: str | None = field(default=None, repr=False)  # signs and verifies `db backup` files
    # Who runs background work: "queue" (`mission-control worker` processes) or "in-process" (threads
    # of `serve`). None: the queue on PostgreSQL, in-process on SQLite.
    jobs: str | None = None
    public_url: str = "http://127.0.0.1:8000"  # the dashboard's address, for links in notifications
    tick_seconds: int = 15  # how often schedules, reminders and delivery retries are looked at
    worker_stalled_seconds: float = 30  # a worker silent this long has its jobs retried elsewhere

    @property
    def job_runner(self) -> str:
        """The runner actually used: `jobs`, or the engine's default."""
        if self.jobs:
            return self.jobs
        return "queue" if self.database_url.startswith("postgresql") else "in-process"

    @classmethod
    def from_env(cls) -> Settings:
        """MC_DATABASE_URL picks the database, MC_CONFIG the verification configuration;
        MC_SECURE_COOKIES=1 when served over HTTPS; MC_OIDC_* configure single sign-on;
        MC_LOG_LEVEL and MC_LOG_FORMAT shape the log; MC_FORWARDED_ALLOW_IPS names the trusted
        proxies; MC_BACKUP_KEY is the backup signing key; MC_JOBS picks the job runner, MC_PUBLIC_URL
        the dashboard's address in notifications, MC_TICK_SECONDS the schedule tick and
        MC_WORKER_STALLED_SECONDS when a silent worker's jobs are retried."""
        return cls(
            database_url=os.environ.get("MC_DATABASE_URL") or default_database_url(),
            secure_cookies=os.environ.get("MC_SECURE_COOKIES", "") in {"1", "true", "yes"},
            config_path=Path(os.environ["MC_CONFIG"]) if os.environ.get("MC_CONFIG") else None,
            oidc=OidcSettings.from_env(),
            log_level=_choice("MC_LOG_LEVEL", LOG_LEVELS, "INFO", upper=True),
            log_format=_choice("MC_LOG_FORMAT", LOG_FORMATS, "text"),
            forwarded_allow_ips=parse_forwarded_allow_ips(os.environ.get("MC_FORWARDED_ALLOW_IPS", "")),
            backup_key=os.environ.get("MC_BACKUP_KEY") or None,
            jobs=_choice("MC_JOBS", JOB_RUNNERS, "") or None,
            public_url=_public_url(os.environ.get("MC_PUBLIC_URL", "")),
            tick_seconds=int(_choice("MC_TICK_SECONDS", tuple(map(str, TICK_SECONDS)), "15")),
            worker_stalled_seconds=_seconds("MC_WORKER_STALLED_SECONDS", 30.0),
        )


def _choice(name: str, choices: tuple[str, ...], default: str, *, upper: bool = False) -> str:
    """The variable's value if it is one of `choices` (empty: `default`); SettingsError names it."""
    value = os.environ.get(name, "").strip()
    value = value.upper() if upper else value.lower()
    if not value:
        return default
    if value not in choices:
        raise SettingsError(f"{name}={value!r} is not one of {', '.join(choices)}")
    return value


def _public_url(text: str) -> str:
    url = text.strip().rstrip("/") or "http://127.0.0.1:8000"
    if not url.startswith(("http://", "https://")) or any(c.isspace() for c in url):
        raise SettingsError(f"MC_PUBLIC_URL={text!r} is not an http:// or https:// address")
    return url


def _seconds(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 1 <= value <= 3600:
        raise SettingsError(f"{name}={text!r} is not a number of seconds between 1 and 3600")
    return value


def parse_forwarded_allow_ips(text: str) -> tuple[str, ...]:
    """'10.0.0.5, 192.168.0.0/16' as addresses or networks; SettingsError names a malformed one."""
    entries = tuple(filter(None, (part.strip() for part in text.split(","))))
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise SettingsError(
                f"MC_FORWARDED_ALLOW_IPS entry {entry!r} is not an IP address or network"
            ) from None
    return entries
