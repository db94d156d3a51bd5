"""The one settings object: every knob Mission Control reads from its environment lives here."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs


def default_database_url() -> str:
    data_dir = Path(platformdirs.user_data_dir("mission-control", appauthor=False))
    return f"sqlite:///{data_dir / 'mission-control.db'}"


@dataclass(frozen=True)
class Settings:
    database_url: str
    secure_cookies: bool = False
    session_hours: int = 12
    config_path: Path | None = None  # the verification configuration (TOML), if any

    @classmethod
    def from_env(cls) -> Settings:
        """MC_DATABASE_URL picks the database, MC_CONFIG the verification configuration;
        MC_SECURE_COOKIES=1 when served over HTTPS."""
        return cls(
            database_url=os.environ.get("MC_DATABASE_URL") or default_database_url(),
            secure_cookies=os.environ.get("MC_SECURE_COOKIES", "") in {"1", "true", "yes"},
            config_path=Path(os.environ["MC_CONFIG"]) if os.environ.get("MC_CONFIG") else None,
        )
