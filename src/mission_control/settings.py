"""The one settings object: every knob Mission Control reads from its environment lives here."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from mission_control.identity.service import ROLES


def default_database_url() -> str:
    data_dir = Path(platformdirs.user_data_dir("mission-control", appauthor=False))
    return f"sqlite:///{data_dir / 'mission-control.db'}"


class SettingsError(ValueError):
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
    config_path: Path | None = None  # the verification configuration (TOML), if any
    oidc: OidcSettings | None = None  # single sign-on, when configured

    @classmethod
    def from_env(cls) -> Settings:
        """MC_DATABASE_URL picks the database, MC_CONFIG the verification configuration;
        MC_SECURE_COOKIES=1 when served over HTTPS; MC_OIDC_* configure single sign-on."""
        return cls(
            database_url=os.environ.get("MC_DATABASE_URL") or default_database_url(),
            secure_cookies=os.environ.get("MC_SECURE_COOKIES", "") in {"1", "true", "yes"},
            config_path=Path(os.environ["MC_CONFIG"]) if os.environ.get("MC_CONFIG") else None,
            oidc=OidcSettings.from_env(),
        )
