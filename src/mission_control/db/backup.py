"""Our own backup: one portable file (JSON lines) that restores on SQLite or PostgreSQL.

`write_backup` reads every table in one snapshot transaction (SQLite in WAL mode and PostgreSQL at
REPEATABLE READ each give one), so the file is consistent while the server keeps writing. The file
names its schema revision and ends with row counts and an HMAC-SHA256 of everything before, keyed
with a secret the operator keeps apart from the backups: a truncated file, or one altered by anyone
without the key (even with a recomputed checksum), is refused before anything changes.
`restore_backup` migrates an empty database to the file's revision, checks every value against its
column's type, and loads every row in foreign-key order in one transaction; migrating forward is
`db upgrade`'s job (README: "Backup, restore and upgrades").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, MetaData, Table, delete, func, select, text
from sqlalchemy.exc import DBAPIError

from mission_control.db.database import Database
from mission_control.db.migrate import alembic_config, current_revision, head_revision, is_ours, upgrade
from mission_control.db.portable import ValueProblem, decode_row, encode
from mission_control.errors import MissionControlError

FORMAT = "mission-control-backup"
FORMAT_VERSION = 2  # 2: signed with an HMAC, binary columns as base64
MIN_KEY_LENGTH = 16
_INSERT_BATCH = 500
_SKIPPED_TABLES = {"alembic_version"}  # the revision travels in the header instead


class BackupError(MissionControlError):
    """A backup or restore that cannot go ahead; the message says why and that nothing changed."""


@dataclass(frozen=True)
class BackupSummary:
    revision: str
    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def backup_key(secret: str | bytes | None) -> bytes:
    """The signing key from MC_BACKUP_KEY or a key file; BackupError when missing or too short."""
    key = (secret.encode() if isinstance(secret, str) else secret or b"").strip()
    if not key:
        raise BackupError(
            "no backup key: set MC_BACKUP_KEY or pass --key-file (a secret of at least "
            f"{MIN_KEY_LENGTH} characters, kept apart from the backups; restore needs the same key)"
        )
    if len(key) < MIN_KEY_LENGTH:
        raise BackupError(f"the backup key is {len(key)} characters long; use at least {MIN_KEY_LENGTH}")
    return key


def write_backup(database: Database, path: Path, *, key: bytes) -> BackupSummary:
    """Write every table to `path` from one consistent snapshot, signed with `key`; the file appears
    only when complete, and a failed backup leaves nothing behind."""
    partial = path.with_name(f".{path.name}.partial")
    mac = hmac.new(key, digestmod=hashlib.sha256)
    rows: dict[str, int] = {}
    try:
        with _snapshot(database) as connection, partial.open("w", encoding="utf-8") as out:

            def emit(record: dict[str, Any]) -> None:
                line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
                out.write(line)
                mac.update(line.encode())

            revision = _revision(connection)
            emit(
                {
                    "format": FORMAT,
                    "version": FORMAT_VERSION,
                    "revision": revision,
                    "engine": connection.dialect.name,
                    "created_at": datetime.now(UTC).isoformat(),
                }
            )
            for table in _tables(connection):
                rows[table.name] = 0
                query = select(table).order_by(*table.primary_key.columns)
                for row in connection.execution_options(stream_results=True).execute(query).mappings():
                    emit({"table": table.name, "row": {key: encode(value) for key, value in row.items()}})
                    rows[table.name] += 1
            out.write(json.dumps({"end": {"rows": rows, "hmac_sha256": mac.hexdigest()}}) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupSummary(revision, rows)


def restore_backup(database: Database, path: Path, *, key: bytes, force: bool = False) -> BackupSummary:
    """Load `path` into `database` in one transaction; refuse (changing nothing) a damaged or unsigned
    file, a newer schema, a database at another revision, or a database holding data unless `force`."""
    header, rows, signature = _check_file(path, key)
    revision = header["revision"]
    _check_known_revision(path, revision)
    current = current_revision(database)
    if current is None:
        upgrade(database, revision)
    elif current != revision:
        raise BackupError(
            f"the database is at schema revision {current} but {path} at {revision}: restore into an empty "
            f"database (it is migrated to {revision}), then run `mission-control db upgrade`; "
            "nothing was changed"
        )
    try:
        with database.transaction() as session:
            connection = session.connection()
            tables = {table.name: table for table in _tables(connection)}
            unknown = sorted(set(rows) - set(tables))
            if unknown:
                raise BackupError(
                    f"{path} has tables this schema lacks ({', '.join(unknown)}); nothing was changed"
                )
            held = {name: count for name, table in tables.items() if (count := _count(connection, table))}
            if held and not force:
                raise BackupError(
                    "the database already holds data ("
                    + ", ".join(f"{count} {name}" for name, count in sorted(held.items()))
                    + "): restore into an empty database, or pass --force to replace all of it; "
                    "nothing was changed"
                )
            for table in reversed(list(tables.values())):
                connection.execute(delete(table))
            _load(connection, tables, path, key, signature)
            if connection.dialect.name == "postgresql":
                _advance_sequences(connection, tables.values())
    except DBAPIError as error:
        raise BackupError(
            f"{path} breaks the schema's rules ({_first_line(error)}); nothing was changed"
        ) from error
    return BackupSummary(revision, rows)


@contextmanager
def _snapshot(database: Database) -> Iterator[Connection]:
    """A read-only transaction that sees one point in time for all its queries."""
    with database.engine.connect() as connection:
        if not database.is_sqlite:
            connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with connection.begin() as transaction:
            yield connection
            transaction.rollback()


def _revision(connection: Connection) -> str:
    from alembic.runtime.migration import MigrationContext

    revision = MigrationContext.configure(connection).get_current_revision()
    if revision is None:
        raise BackupError("the database has no Mission Control schema: there is nothing to back up")
    return revision


def _tables(connection: Connection) -> list[Table]:
    """The tables as they are at the database's revision (not the code's), parents before children.
    The job queue's own tables are left out: queued work is transient, and its record is in job_runs."""
    metadata = MetaData()
    metadata.reflect(bind=connection, only=lambda name, _: is_ours(name, "table", None))
    return [table for table in metadata.sorted_tables if table.name not in _SKIPPED_TABLES]


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    try:
        with path.open("rb") as handle:
            yield from enumerate(handle, start=1)
    except OSError as error:
        raise BackupError(f"{path}: {error.strerror}; nothing was changed") from error


def _damaged(path: Path, reason: str) -> BackupError:
    return BackupError(f"{path} is not a complete Mission Control backup ({reason}); nothing was changed")


def _check_file(path: Path, key: bytes) -> tuple[dict[str, Any], dict[str, int], str]:
    """Read the whole file once: header, every record, row counts and signature must all agree."""
    mac = hmac.new(key, digestmod=hashlib.sha256)
    header: dict[str, Any] | None = None
    end: Any = None
    rows: dict[str, int] = {}
    for number, line in _lines(path):
        if end is not None:
            raise _damaged(path, f"line {number} follows the end marker")
        try:
            record = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            raise _damaged(path, f"line {number} is not JSON") from None
        if not isinstance(record, dict):
            raise _damaged(path, f"line {number} is not a record")
        if header is None:
            if record.get("format") != FORMAT or not isinstance(record.get("revision"), str):
                raise _damaged(path, "it does not start with a Mission Control backup header")
            if record.get("version") != FORMAT_VERSION:
                raise _damaged(
                    path,
                    f"format version {record.get('version')!r}; this version reads only signed backups, "
                    f"format {FORMAT_VERSION}",
                )
            header = record
        elif "end" in record:
            end = record["end"]
            continue
        elif isinstance(record.get("table"), str) and isinstance(record.get("row"), dict):
            rows[record["table"]] = rows.get(record["table"], 0) + 1
        else:
            raise _damaged(path, f"line {number} is neither a row nor the end marker")
        mac.update(line)
    if header is None:
        raise _damaged(path, "the file is empty")
    if not isinstance(end, dict) or not isinstance(end.get("rows"), dict):
        raise _damaged(path, "no end marker: the file is truncated")
    signature = end.get("hmac_sha256")
    if not isinstance(signature, str) or not hmac.compare_digest(signature, mac.hexdigest()):
        raise _damaged(
            path,
            "its signature does not match: the file was altered, cut short, or signed with another key",
        )
    declared = {name: count for name, count in end["rows"].items() if count}
    if declared != rows:
        raise _damaged(path, "its row counts do not match its rows")
    return header, {name: rows.get(name, 0) for name in end["rows"]}, signature


def _check_known_revision(path: Path, revision: str) -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    try:
        known = scripts.get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        raise BackupError(
            f"{path} was made by a newer Mission Control (schema revision {revision}; this version knows up "
            f"to {head_revision()}): upgrade Mission Control first; nothing was changed"
        )


def _count(connection: Connection, table: Table) -> int:
    return connection.scalar(select(func.count()).select_from(table)) or 0


def _load(connection: Connection, tables: dict[str, Table], path: Path, key: bytes, signature: str) -> None:
    """Insert every row, each value checked against its column (the file is re-read; a change since it
    was checked aborts the transaction)."""
    mac = hmac.new(key, digestmod=hashlib.sha256)
    batch: list[dict[str, Any]] = []
    batch_table: Table | None = None
    for number, line in _lines(path):
        record = json.loads(line)
        if "end" in record:
            break
        mac.update(line)
        if "table" not in record:
            continue
        table = tables[record["table"]]
        if table is not batch_table or len(batch) >= _INSERT_BATCH:
            _insert(connection, batch_table, batch, path)
            batch, batch_table = [], table
        try:
            batch.append(decode_row(table, record["row"]))
        except ValueProblem as problem:
            raise BackupError(f"{path} line {number}: {problem}; nothing was changed") from None
    _insert(connection, batch_table, batch, path)
    if not hmac.compare_digest(mac.hexdigest(), signature):
        raise BackupError(f"{path} changed while it was being restored; nothing was changed")


def _insert(connection: Connection, table: Table | None, rows: list[dict[str, Any]], path: Path) -> None:
    """Insert one batch; a broken foreign key or a duplicate key names the table, never a traceback."""
    if table is None or not rows:
        return
    try:
        connection.execute(table.insert(), rows)
    except DBAPIError as error:
        raise BackupError(
            f"{path} cannot be restored: its {table.name} rows break the schema's rules "
            f"({_first_line(error)}); nothing was changed"
        ) from error


def _first_line(error: DBAPIError) -> str:
    return str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else type(error.orig).__name__


def _advance_sequences(connection: Connection, tables: Iterable[Table]) -> None:
    """PostgreSQL hands out ids from sequences, which explicit ids do not move: move them past the
    restored rows."""
    for table in tables:
        for column in table.primary_key.columns:
            if column.autoincrement and column.type.python_type is int:
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                        f'COALESCE((SELECT MAX("{column.name}") FROM "{table.name}"), 0) + 1, false)'
                    ),
                    {"table": table.name, "column": column.name},
                )
