"""Our own backup: one portable file (JSON lines) that restores on SQLite or PostgreSQL.

`write_backup` reads every table in one snapshot transaction (SQLite in WAL mode and PostgreSQL at
REPEATABLE READ each give one), so the file is consistent while the server keeps writing. The file
names its schema revision and ends with row counts and a SHA-256 of everything before, so a
truncated or altered file is refused before anything changes. `restore_backup` migrates an empty
database to the file's revision and loads every row in foreign-key order in one transaction;
migrating forward is `db upgrade`'s job (README: "Backup, restore and upgrades").
"""

from __future__ import annotations

import hashlib
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
from sqlalchemy import Connection, DateTime, MetaData, Table, delete, func, select, text

from mission_control.db.database import Database
from mission_control.db.migrate import alembic_config, current_revision, head_revision, upgrade

FORMAT = "mission-control-backup"
FORMAT_VERSION = 1
_INSERT_BATCH = 500
_SKIPPED_TABLES = {"alembic_version"}  # the revision travels in the header instead


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and that nothing changed."""


@dataclass(frozen=True)
class BackupSummary:
    revision: str
    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def write_backup(database: Database, path: Path) -> BackupSummary:
    """Write every table to `path` from one consistent snapshot; the file appears only when complete."""
    partial = path.with_name(f".{path.name}.partial")
    digest = hashlib.sha256()
    rows: dict[str, int] = {}
    with _snapshot(database) as connection, partial.open("w", encoding="utf-8") as out:

        def emit(record: dict[str, Any]) -> None:
            line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
            out.write(line)
            digest.update(line.encode())

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
                emit({"table": table.name, "row": {key: _encode(value) for key, value in row.items()}})
                rows[table.name] += 1
        out.write(json.dumps({"end": {"rows": rows, "sha256": digest.hexdigest()}}) + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)
    return BackupSummary(revision, rows)


def restore_backup(database: Database, path: Path, *, force: bool = False) -> BackupSummary:
    """Load `path` into `database` in one transaction; refuse (changing nothing) a damaged file, a
    newer schema, a database at another revision, or a database holding data unless `force`."""
    header, rows, checksum = _check_file(path)
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
                + "): restore into an empty database, or pass --force to replace all of it; nothing was changed"
            )
        for table in reversed(list(tables.values())):
            connection.execute(delete(table))
        _load(connection, tables, path, checksum)
        if connection.dialect.name == "postgresql":
            _advance_sequences(connection, tables.values())
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
    """The tables as they are at the database's revision (not the code's), parents before children."""
    metadata = MetaData()
    metadata.reflect(bind=connection)
    return [table for table in metadata.sorted_tables if table.name not in _SKIPPED_TABLES]


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):  # stored as UTC on both engines; SQLite returns it naive
        return (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)).isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        raise BackupError("binary columns are not supported by the backup format")
    return value


def _decode(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    decoded = {}
    for key, value in row.items():
        column = table.columns.get(key)
        if column is None:
            raise BackupError(f"column {table.name}.{key} is not in this schema")
        if isinstance(value, str) and isinstance(column.type, DateTime):
            value = datetime.fromisoformat(value).astimezone(UTC)
        decoded[key] = value
    return decoded


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    try:
        with path.open("rb") as handle:
            yield from enumerate(handle, start=1)
    except OSError as error:
        raise BackupError(f"{path}: {error.strerror}; nothing was changed") from error


def _damaged(path: Path, reason: str) -> BackupError:
    return BackupError(f"{path} is not a complete Mission Control backup ({reason}); nothing was changed")


def _check_file(path: Path) -> tuple[dict[str, Any], dict[str, int], str]:
    """Read the whole file once: header, every record, row counts and checksum must all agree."""
    digest = hashlib.sha256()
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
                    path, f"format version {record.get('version')!r}; this version reads {FORMAT_VERSION}"
                )
            header = record
        elif "end" in record:
            end = record["end"]
            continue
        elif isinstance(record.get("table"), str) and isinstance(record.get("row"), dict):
            rows[record["table"]] = rows.get(record["table"], 0) + 1
        else:
            raise _damaged(path, f"line {number} is neither a row nor the end marker")
        digest.update(line)
    if header is None:
        raise _damaged(path, "the file is empty")
    if not isinstance(end, dict) or not isinstance(end.get("rows"), dict):
        raise _damaged(path, "no end marker: the file is truncated")
    declared = {name: count for name, count in end["rows"].items() if count}
    if declared != rows or end.get("sha256") != digest.hexdigest():
        raise _damaged(path, "its rows do not match its checksum: the file was cut short or altered")
    return header, {name: rows.get(name, 0) for name in end["rows"]}, digest.hexdigest()


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


def _load(connection: Connection, tables: dict[str, Table], path: Path, checksum: str) -> None:
    """Insert every row (the file is re-read; a change since it was checked aborts the transaction)."""
    digest = hashlib.sha256()
    batch: list[dict[str, Any]] = []
    batch_table: Table | None = None
    for _, line in _lines(path):
        record = json.loads(line)
        if "end" in record:
            break
        digest.update(line)
        if "table" not in record:
            continue
        table = tables[record["table"]]
        if table is not batch_table or len(batch) >= _INSERT_BATCH:
            if batch_table is not None and batch:
                connection.execute(batch_table.insert(), batch)
            batch, batch_table = [], table
        batch.append(_decode(table, record["row"]))
    if batch_table is not None and batch:
        connection.execute(batch_table.insert(), batch)
    if digest.hexdigest() != checksum:
        raise BackupError(f"{path} changed while it was being restored; nothing was changed")


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
