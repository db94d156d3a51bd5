"""The `db` sub-commands: migrations, backup and restore."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mission_control.cli import common

db_app = typer.Typer(help="The database.", no_args_is_help=True)
KeyFileOption = Annotated[
    Path | None,
    typer.Option("--key-file", help="File holding the backup signing key (default: MC_BACKUP_KEY)."),
]


def _backup_key(key_file: Path | None) -> bytes:
    """The signing key from --key-file, else MC_BACKUP_KEY; exit 2 saying how to give one."""
    from mission_control.db.backup import BackupError, backup_key

    try:
        secret = key_file.read_bytes() if key_file else common.settings().backup_key
        return backup_key(secret)
    except OSError as error:
        raise common.fail(f"cannot read the key file {key_file}: {error.strerror}") from error
    except BackupError as error:
        raise common.fail(str(error)) from error


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (safe to run repeatedly)."""
    from mission_control.db.migrate import current_revision

    database = common.database()
    typer.echo(f"database at revision {current_revision(database)}")


@db_app.command("backup")
def db_backup(
    file: Annotated[Path, typer.Argument(help="Backup file to write.")], key_file: KeyFileOption = None
) -> None:
    """Write every table to FILE from one consistent snapshot (safe while the server is running),
    signed with the backup key."""
    from mission_control.db.backup import BackupError, write_backup

    key = _backup_key(key_file)
    try:
        with common.open_database(migrate=False) as database:
            summary = write_backup(database, file, key=key)
    except (BackupError, OSError) as error:
        raise common.fail(f"backup failed: {error}", code=1) from error
    typer.echo(f"backed up {summary.total} rows at schema revision {summary.revision} to {file}")


@db_app.command("restore")
def db_restore(
    file: Annotated[Path, typer.Argument(help="Backup file written by `db backup`.")],
    force: Annotated[bool, typer.Option("--force", help="Replace the data in a non-empty database.")] = False,
    key_file: KeyFileOption = None,
) -> None:
    """Restore FILE into the database, all or nothing; a damaged, altered or unsigned file or a newer
    schema changes nothing."""
    from mission_control.db.backup import BackupError, restore_backup
    from mission_control.db.migrate import head_revision

    key = _backup_key(key_file)
    try:
        with common.open_database(migrate=False) as database:
            summary = restore_backup(database, file, key=key, force=force)
    except BackupError as error:
        raise common.fail(f"restore refused: {error}", code=1) from error
    typer.echo(f"restored {summary.total} rows at schema revision {summary.revision} from {file}")
    head = head_revision()
    if summary.revision != head:
        typer.echo(f"the current schema is {head}: run `mission-control db upgrade` to migrate the data")
