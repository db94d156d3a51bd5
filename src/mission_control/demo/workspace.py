"""The demo as a lasting place: its database, configuration and admin password in one data directory,
reused by every `mission-control demo` until `--reset`; and its port, checked before anything starts.

Light to import (no moto, no boto3): a busy port fails at once, and `status --demo` finds the database.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir

DEFAULT_DATA_DIR = Path(user_data_dir("mission-control", appauthor=False)) / "demo"


@dataclass(frozen=True)
class DemoWorkspace:
    root: Path

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.root / 'demo.db'}"

    @property
    def config_path(self) -> Path:
        return self.root / "mission-control.toml"

    @property
    def password_path(self) -> Path:
        return self.root / "admin-password"

    def reset(self) -> None:
        """Start over: remove the demo's own files (and only those)."""
        for name in ("demo.db", "demo.db-wal", "demo.db-shm", "mission-control.toml", "admin-password"):
            (self.root / name).unlink(missing_ok=True)

    def password(self) -> str | None:
        try:
            return self.password_path.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def remember_password(self, password: str) -> None:
        """Kept beside the demo database (readable by its owner only), so a restart can show it again."""
        descriptor = os.open(self.password_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(password + "\n")


class PortBusy(Exception):
    """The dashboard's port is taken; nothing was created."""


def check_port_free(host: str, port: int) -> None:
    """PortBusy unless `port` on `host` can be bound now."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise PortBusy(
            f"port {port} on {host} is in use ({reason}): stop what uses it, or pass --port"
        ) from error
