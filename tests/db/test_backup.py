"""`db backup` / `db restore`: consistent while serving, portable across engines, all or nothing."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, select, text
from typer.testing import CliRunner

from mission_control.catalog import Catalog, load_default_catalog
from mission_control.cli import app as cli
from mission_control.db.backup import BackupError, restore_backup, write_backup
from mission_control.db.database import Database
from mission_control.db.migrate import current_revision, head_revision, upgrade
from mission_control.progress.models import AuditEvent, ItemState
from mission_control.progress.service import update_item
from mission_control.web.app import prepare_database
from tests.conftest import (
    ServerProcess,
    _create_database,
    _database_url,
    _drop_database,
    bearer,
    make_user,
    token_for,
)

NewDatabase = Callable[[str], Database]
CATALOG = load_default_catalog()


@pytest.fixture
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NewDatabase]:
    """Make empty databases (no tables) on "sqlite" or "postgresql"; all dropped afterwards."""
    made: list[tuple[Database, str | None]] = []

    def make(engine: str) -> Database:
        if engine == "sqlite":
            database = Database(f"sqlite:///{tmp_path / f'new-{len(made)}.db'}")
            made.append((database, None))
        else:
            server = request.getfixturevalue("postgres_server")
            name = _create_database(server)
            database = Database(_database_url(server, name))
            made.append((database, name))
        return database

    yield make
    for database, name in made:
        database.dispose()
        if name is not None:
            _drop_database(request.getfixturevalue("postgres_server"), name)


def engine_of(database: Database) -> str:
    return "sqlite" if database.is_sqlite else "postgresql"


def contents(database: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, datetimes as UTC, for comparing two databases."""
    metadata = MetaData()
    with database.engine.connect() as connection:
        metadata.reflect(bind=connection)
        return {
            table.name: [
                {
                    key: (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC))
                    if isinstance(value, datetime)
                    else value
                    for key, value in row.items()
                }
                for row in connection.execute(select(table).order_by(*table.primary_key.columns)).mappings()
            ]
            for table in metadata.sorted_tables
            if table.name != "alembic_version"
        }


def lived_in(database: Database) -> None:
    """Users, a token, ticks, notes and their audit trail."""
    make_user(database, "alice", "editor", password="correct horse")
    token_for(database, "ci", "editor")
    with database.transaction() as session:
        for index, item_id in enumerate(["dns.failover-ttl", "dynamodb.global-main", "edge.iam-role"]):
            update_item(
                session=session,
                catalog=CATALOG,
                environment_name="production",
                item_id=item_id,
                actor="alice",
                checked=True,
                note=f"note {index} — ünïcode ✓",
            )


def test_a_backup_restores_to_an_identical_database(
    database: Database, new_database: NewDatabase, tmp_path: Path
) -> None:
    lived_in(database)
    backup = tmp_path / "backup.jsonl"
    summary = write_backup(database, backup)
    assert summary.revision == head_revision()
    assert summary.rows["audit_events"] > 0
    restored = new_database(engine_of(database))
    assert restore_backup(restored, backup) == summary
    assert current_revision(restored) == head_revision()
    assert contents(restored) == contents(database)
    assert not list(tmp_path.glob(".*.partial"))


@pytest.mark.parametrize(("source", "target"), [("sqlite", "postgresql"), ("postgresql", "sqlite")])
def test_a_backup_restores_on_the_other_engine(
    new_database: NewDatabase, catalog: Catalog, tmp_path: Path, source: str, target: str
) -> None:
    original = new_database(source)
    prepare_database(original, catalog)
    lived_in(original)
    write_backup(original, tmp_path / "backup.jsonl")
    restored = new_database(target)
    restore_backup(restored, tmp_path / "backup.jsonl")
    assert contents(restored) == contents(original)
    make_user(restored, "after-restore", "viewer")  # ids carry on past the restored rows


def test_a_backup_taken_while_the_server_writes_is_consistent(
    server: ServerProcess, database: Database, new_database: NewDatabase, catalog: Catalog, tmp_path: Path
) -> None:
    """Each restored item's note is the newest note in its restored audit trail: no half-written change."""
    token = token_for(database, "ed", "editor")
    item_ids = [item.id for item in catalog.items[:6]]
    stop = threading.Event()
    acknowledged = threading.Semaphore(0)

    def write(item_id: str) -> None:
        with httpx.Client(base_url=server.url, headers=bearer(token), timeout=30) as client:
            sequence = 0
            while not stop.is_set():
                sequence += 1
                url = f"/api/v1/environments/production/items/{item_id}"
                assert client.patch(url, json={"note": f"{item_id} {sequence}"}).status_code == 200
                acknowledged.release()

    writers = [threading.Thread(target=write, args=(item_id,), daemon=True) for item_id in item_ids]
    for writer in writers:
        writer.start()
    try:
        for _ in range(20):
            assert acknowledged.acquire(timeout=60)
        during = write_backup(database, tmp_path / "during.jsonl")
        for _ in range(20):  # the server kept writing while the backup ran and after
            assert acknowledged.acquire(timeout=60)
    finally:
        stop.set()
        for writer in writers:
            writer.join(timeout=60)

    restored = new_database(engine_of(database))
    restore_backup(restored, tmp_path / "during.jsonl")
    with restored.read() as session:
        for state in session.scalars(select(ItemState).where(ItemState.item_id.in_(item_ids))):
            newest = session.scalar(
                select(AuditEvent.new_value)
                .where(AuditEvent.item_id == state.item_id, AuditEvent.action == "note")
                .order_by(AuditEvent.id.desc())
                .limit(1)
            )
            assert state.note == (newest or "")
    assert sum(during.rows.values()) < sum(write_backup(database, tmp_path / "after.jsonl").rows.values())
    restore_backup(restored, tmp_path / "after.jsonl", force=True)
    assert contents(restored) == contents(database)


def test_restore_refuses_a_database_holding_data_unless_forced(database: Database, tmp_path: Path) -> None:
    lived_in(database)
    backup = tmp_path / "backup.jsonl"
    write_backup(database, backup)
    make_user(database, "added-later", "viewer")
    before = contents(database)
    with pytest.raises(BackupError, match=r"already holds data .* pass --force to replace all of it"):
        restore_backup(database, backup)
    assert contents(database) == before
    restore_backup(database, backup, force=True)
    assert "added-later" not in [user["name"] for user in contents(database)["users"]]


def rewrite(path: Path, change: Callable[[list[str]], list[str]]) -> None:
    path.write_text(
        "".join(change(path.read_text(encoding="utf-8").splitlines(keepends=True))), encoding="utf-8"
    )


def resealed(lines: list[str]) -> list[str]:
    """Recompute the end marker, as a careful forger (or a newer version) would."""
    import hashlib

    digest = hashlib.sha256("".join(lines[:-1]).encode()).hexdigest()
    end = json.loads(lines[-1])
    end["end"]["sha256"] = digest
    return [*lines[:-1], json.dumps(end) + "\n"]


DAMAGE: dict[str, tuple[Callable[[list[str]], list[str]], str]] = {
    "truncated": (lambda lines: lines[: len(lines) // 2], "no end marker: the file is truncated"),
    "altered row": (
        lambda lines: [line.replace("alice", "mallory") for line in lines],
        "its rows do not match its checksum",
    ),
    "dropped row": (lambda lines: [lines[0], *lines[2:]], "its rows do not match its checksum"),
    "not json": (lambda lines: [lines[0], "{not json\n", *lines[1:]], "line 2 is not JSON"),
    "empty": (lambda lines: [], "the file is empty"),
    "not a backup": (lambda lines: ['{"hello": "world"}\n'], "does not start with a Mission Control backup"),
    "after the end": (lambda lines: [*lines, lines[1]], "follows the end marker"),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_file_changes_nothing(database: Database, tmp_path: Path, damage: str) -> None:
    lived_in(database)
    backup = tmp_path / "backup.jsonl"
    write_backup(database, backup)
    change, message = DAMAGE[damage]
    rewrite(backup, change)
    make_user(database, "still-here", "viewer")
    before = contents(database)
    with pytest.raises(BackupError, match="nothing was changed") as refused:
        restore_backup(database, backup, force=True)
    assert message in str(refused.value)
    assert "is not a complete Mission Control backup" in str(refused.value)
    assert contents(database) == before


def test_a_missing_file_is_refused(database: Database, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="No such file or directory; nothing was changed"):
        restore_backup(database, tmp_path / "absent.jsonl")


def test_a_backup_from_a_newer_schema_is_refused(
    database: Database, new_database: NewDatabase, tmp_path: Path
) -> None:
    backup = tmp_path / "backup.jsonl"
    write_backup(database, backup)
    rewrite(backup, lambda lines: resealed([lines[0].replace(head_revision(), "9999"), *lines[1:]]))
    target = new_database(engine_of(database))
    with pytest.raises(BackupError, match="made by a newer Mission Control") as refused:
        restore_backup(target, backup)
    assert f"schema revision 9999; this version knows up to {head_revision()}" in str(refused.value)
    assert current_revision(target) is None  # not even migrated


def test_a_database_at_another_revision_is_refused(
    database: Database, new_database: NewDatabase, tmp_path: Path
) -> None:
    backup = tmp_path / "backup.jsonl"
    write_backup(database, backup)
    target = new_database(engine_of(database))
    upgrade(target, "0002")
    with pytest.raises(BackupError, match="the database is at schema revision 0002 but"):
        restore_backup(target, backup)
    assert current_revision(target) == "0002"


def test_an_old_backup_restores_at_its_revision_and_migrates_forward(
    database_url: str, new_database: NewDatabase, tmp_path: Path
) -> None:
    """The upgrade path: real data from schema 0002 (before idle sessions) through today's migrations."""
    engine = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    old = new_database(engine)
    upgrade(old, "0002")
    started = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with old.transaction() as session:
        session.execute(
            text(
                "INSERT INTO users (id, name, role, password_hash, created_at) VALUES (1, 'alice', 'editor', NULL, :at)"
            ),
            {"at": started},
        )
        session.execute(
            text(
                "INSERT INTO web_sessions (id, user_id, token_hash, csrf_token, created_at, expires_at) "
                "VALUES (1, 1, 'hash', 'csrf', :at, :expires)"
            ),
            {"at": started, "expires": started + timedelta(hours=12)},
        )
    backup = tmp_path / "old.jsonl"
    assert write_backup(old, backup).revision == "0002"
    rehearsal = new_database(engine)
    restore_backup(rehearsal, backup)
    assert current_revision(rehearsal) == "0002"
    upgrade(rehearsal)
    assert current_revision(rehearsal) == head_revision()
    sessions = contents(rehearsal)["web_sessions"]
    assert [(row["user_id"], row["last_seen_at"]) for row in sessions] == [(1, started)]


@pytest.fixture
def cli_database(sqlite_url: str, catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    database = Database(sqlite_url)
    prepare_database(database, catalog)
    monkeypatch.setenv("MC_DATABASE_URL", sqlite_url)
    yield database
    database.dispose()


def test_the_cli_backs_up_and_restores(
    cli_database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lived_in(cli_database)
    runner = CliRunner()
    backup = tmp_path / "backup.jsonl"
    made = runner.invoke(cli, ["db", "backup", str(backup)])
    assert made.exit_code == 0, made.output
    assert made.stdout.startswith("backed up ") and f"at schema revision {head_revision()}" in made.stdout
    refused = runner.invoke(cli, ["db", "restore", str(backup)])
    assert refused.exit_code == 1
    assert "restore refused: the database already holds data" in refused.output
    assert "pass --force" in refused.output
    monkeypatch.setenv("MC_DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.db'}")
    restored = runner.invoke(cli, ["db", "restore", str(backup)])
    assert restored.exit_code == 0, restored.output
    assert restored.stdout.startswith("restored ")
    fresh = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert contents(fresh) == contents(cli_database)
    fresh.dispose()
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text(backup.read_text(encoding="utf-8")[:100], encoding="utf-8")
    refused = runner.invoke(cli, ["db", "restore", "--force", str(damaged)])
    assert refused.exit_code == 1
    assert "is not a complete Mission Control backup" in refused.output
