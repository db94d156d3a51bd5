"""What every command module shares: errors that exit, the settings, the database, configuration, options.

Heavy imports (SQLAlchemy, the catalog) happen inside functions so `--help` stays fast.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # imported lazily below: `--help` must stay fast
    from collections.abc import Iterator

    from mission_control.db.database import Database
    from mission_control.progress.checklist import ChecklistView
    from mission_control.settings import Settings
    from mission_control.verification.config import EnvironmentConfig

EnvOption = Annotated[str, typer.Option("--env", help="Environment name.")]
ConfigOption = Annotated[Path, typer.Option("--config", help="Verification configuration (TOML).")]
DEFAULT_CONFIG = Path("mission-control.toml")
VerifyEnvOption = Annotated[
    str | None, typer.Option("--env", help="Environment (default: the only one, or production).")
]
OutputOption = Annotated[Path | None, typer.Option("--output", help="File to write (default: stdout).")]


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def settings() -> Settings:
    """The settings from the environment, with logging configured by them; exit 2 naming the variable
    that is wrong."""
    from mission_control import logs
    from mission_control.settings import Settings, SettingsError

    try:
        found = Settings.from_env()
    except SettingsError as error:
        raise fail(str(error)) from error
    logs.configure(found)
    return found


_OPENED: list[Database] = []


def disposed_at_exit(opened: Database) -> Database:
    """`opened`, disposed of (its connections closed) when the command ends, however it ends."""
    _OPENED.append(opened)
    return opened


def dispose_opened() -> None:
    """Dispose of every database the command opened (the root calls it as the command ends)."""
    while _OPENED:
        _OPENED.pop().dispose()


def database(environments: tuple[str, ...] = ()) -> Database:
    """The migrated database, with `production` and `environments` present; disposed of at exit."""
    from mission_control.catalog import load_default_catalog
    from mission_control.db.database import Database
    from mission_control.db.migrate import upgrade
    from mission_control.progress.service import ensure_defaults

    migrated = disposed_at_exit(Database(settings().database_url))
    upgrade(migrated)
    with migrated.transaction() as session:
        ensure_defaults(session=session, catalog=load_default_catalog(), environments=environments)
    return migrated


@contextmanager
def open_database(*, migrate: bool = True) -> Iterator[Database]:
    """The database (migrated, with defaults, unless `migrate` is false), disposed of afterwards."""
    from mission_control.db.database import Database

    opened = database() if migrate else Database(settings().database_url)
    try:
        yield opened
    finally:
        opened.dispose()


def checklist(environment: str) -> ChecklistView:
    """One environment's checklist; exit 2 with the reason if it does not exist."""
    from mission_control.catalog import load_default_catalog
    from mission_control.errors import MissionControlError
    from mission_control.progress.service import get_checklist

    with database().read() as session:
        try:
            return get_checklist(
                session=session, catalog=load_default_catalog(), environment_name=environment
            )
        except MissionControlError as error:
            raise fail(str(error)) from error


def configs(path: Path, *, required: bool) -> dict[str, EnvironmentConfig]:
    """The verification configuration at `path`; exit 2 with the problem if it is invalid."""
    from mission_control.verification.config import ConfigError, load_config

    if not path.exists() and not required:
        return {}
    try:
        return load_config(path)
    except ConfigError as error:
        raise fail(str(error)) from error


def environment_config(path: Path, name: str | None) -> EnvironmentConfig:
    """The named environment's configuration (default: the only one, or production); exit 2 if absent."""
    found = configs(path, required=True)
    if name is None:
        name = next(iter(found)) if len(found) == 1 else "production"
    if name not in found:
        raise fail(f"{path}: no [environments.{name}] table (found: {', '.join(sorted(found))})")
    return found[name]


def write_output(text: str, output: Path | None) -> None:
    """Write `text` to the file `output`, or to stdout when there is none."""
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
