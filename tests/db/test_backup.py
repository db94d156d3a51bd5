"""`db backup` / `db restore`: consistent while serving, portable across engines, all or nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import resource
import signal
import subprocess
import sys
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
from mission_control.db.backup import BackupError, backup_key, restore_backup, write_backup
from mission_control.db.base import utcnow
from mission_control.db.database import Database
from mission_control.db.migrate import current_revision, head_revision, is_ours, upgrade
from mission_control.evidence.models import DrillRun
from mission_control.evidence.service import add_document, add_file, add_link, attest
from mission_control.identity.lockout import LockoutPolicy, reserve_attempt
from mission_control.identity.service import get_user, login_name_key, start_session
from mission_control.jobs.models import ScheduleFire
from mission_control.jobs.runner import queue_verification
from mission_control.notifications.changes import ChangeSet, ItemChange
from mission_control.notifications.channels import Channel
from mission_control.notifications.outbox import Outbox
from mission_control.progress.models import AuditEvent, Environment, ItemState
from mission_control.progress.service import update_item
from mission_control.verification.models import DiscoveredAccount, VerificationResult
from mission_control.verification.service import start_run
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
KEY = b"a backup key for tests, 32 chars"


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
        metadata.reflect(bind=connection, only=lambda name, _: is_ours(name, "table", None))
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
    """Every table holds rows: users, a token, a session, sign-in counts, ticks, notes, a verification
    run, evidence (a file with binary content, a link, a document), an attestation, a drill run and an account found in AWS Organizations."""
    make_user(database, "alice", "editor", password="correct horse")
    token_for(database, "ci", "editor")
    now = utcnow()
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
        alice = get_user(session=session, name="alice")
        assert alice is not None
        start_session(session=session, user=alice, lifetime=timedelta(hours=1))
        policy = LockoutPolicy(5, timedelta(minutes=15))
        name_key = login_name_key(session=session, name="alice")
        reserve_attempt(session=session, policy=policy, name_key=name_key, client="203.0.113.9", now=now)
        run_id = start_run(session=session, environment_name="production", actor="alice")
        session.add(
            VerificationResult(
                run_id=run_id, item_id="dns.failover-ttl", status="verified", summary="ok", facts={"ttl": 60}
            )
        )
        binary = bytes(range(256)) * 4  # every byte value, NUL included
        for add, extra in (
            (add_file, {"filename": "capture.bin", "content": binary}),
            (add_link, {"title": "Runbook", "url": "https://wiki.example/runbook"}),
            (add_document, {"title": "Strategy", "markdown": "# Strategy\n"}),
            (attest, {"statement": "Tokens are synchronised."}),
        ):
            add(  # type: ignore[operator]
                session=session,
                catalog=CATALOG,
                environment_name="production",
                item_id="cognito.token-sync",
                actor="alice",
                **extra,
            )
        environment_id = session.scalars(select(Environment.id)).first()
        session.add(
            DrillRun(
                environment_id=environment_id, item_id="dynamodb.pitr-backup-copy", drill="restore",
                outcome="passed", started_at=now, finished_at=now, record={"steps": []}, run_by="alice",
            )
        )  # fmt: skip
        session.add(
            DiscoveredAccount(
                environment_id=environment_id, account_id="111111111111", account_name="tenant-1",
                role_arn="arn:aws:iam::111111111111:role/mission-control-read-only", template="tenants",
                organizational_unit="ou-root-tenants", tags={"tier": "gold"}, archived_at=now,
            )
        )  # fmt: skip
        job_id = queue_verification(
            session, catalog=CATALOG, environment="production", actor="alice", trigger="manual"
        )
        session.add(
            ScheduleFire(
                schedule="verify production", due_at=now, fired_at=now, job_run_id=job_id, outcome="queued"
            )
        )
        change = ItemChange(
            "regressed", "dns.failover-ttl", "TTL", "verified", "regressed", "TTL 300", "ana", "u"
        )
        Outbox({"team": Channel("team", "webhook", ("regressed",))}).queue(
            session, ChangeSet("production", now, (change,), source=f"verification run {run_id}")
        )


def test_a_backup_restores_to_an_identical_database(
    database: Database, new_database: NewDatabase, tmp_path: Path
) -> None:
    lived_in(database)
    backup = tmp_path / "backup.jsonl"
    summary = write_backup(database, backup, key=KEY)
    assert summary.revision == head_revision()
    assert [table for table, count in summary.rows.items() if not count] == []
    assert set(summary.rows) == set(contents(database))
    restored = new_database(engine_of(database))
    assert restore_backup(restored, backup, key=KEY) == summary
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
    write_backup(original, tmp_path / "backup.jsonl", key=KEY)
    restored = new_database(target)
    restore_backup(restored, tmp_path / "backup.jsonl", key=KEY)
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
        during = write_backup(database, tmp_path / "during.jsonl", key=KEY)
        for _ in range(20):  # the server kept writing while the backup ran and after
            assert acknowledged.acquire(timeout=60)
    finally:
        stop.set()
        for writer in writers:
            writer.join(timeout=60)

    restored = new_database(engine_of(database))
    restore_backup(restored, tmp_path / "during.jsonl", key=KEY)
    with restored.read() as session:
        for state in session.scalars(select(ItemState).where(ItemState.item_id.in_(item_ids))):
            newest = session.scalar(
                select(AuditEvent.new_value)
                .where(AuditEvent.item_id == state.item_id, AuditEvent.action == "note")
                .order_by(AuditEvent.id.desc())
                .limit(1)
            )
            assert state.note == (newest or "")
    assert sum(during.rows.values()) < sum(
        write_backup(database, tmp_path / "after.jsonl", key=KEY).rows.values()
    )
    restore_backup(restored, tmp_path / "after.jsonl", key=KEY, force=True)
    assert contents(restored) == contents(database)


def test_restore_refuses_a_database_holding_data_unless_forced(database: Database, tmp_path: Path) -> None:
    lived_in(database)
    backup = tmp_path / "backup.jsonl"
    write_backup(database, backup, key=KEY)
    make_user(database, "added-later", "viewer")
    before = contents(database)
    with pytest.raises(BackupError, match=r"already holds data .* pass --force to replace all of it"):
        restore_backup(database, backup, key=KEY)
    assert contents(database) == before
    restore_backup(database, backup, key=KEY, force=True)
    assert "added-later" not in [user["name"] for user in contents(database)["users"]]


def rewrite(path: Path, change: Callable[[list[str]], list[str]]) -> None:
    path.write_text(
        "".join(change(path.read_text(encoding="utf-8").splitlines(keepends=True))), encoding="utf-8"
    )


def signed(lines: list[str], key: bytes = KEY) -> list[str]:
    """Recompute the end marker's signature, as someone holding `key` would."""
    end = json.loads(lines[-1])
    end["end"]["hmac_sha256"] = hmac.new(key, "".join(lines[:-1]).encode(), hashlib.sha256).hexdigest()
    return [*lines[:-1], json.dumps(end) + "\n"]


def with_sha256(lines: list[str]) -> list[str]:
    """Recompute a plain SHA-256 checksum over the file, as a forger without the key can."""
    end = json.loads(lines[-1])
    digest = hashlib.sha256("".join(lines[:-1]).encode()).hexdigest()
    end["end"] |= {"sha256": digest, "hmac_sha256": digest}
    return [*lines[:-1], json.dumps(end) + "\n"]


def promoted(lines: list[str]) -> list[str]:
    """Make every viewer an admin."""
    return [line.replace('"role":"viewer"', '"role":"admin"') for line in lines]


SIGNATURE = "its signature does not match: the file was altered, cut short, or signed with another key"
DAMAGE: dict[str, tuple[Callable[[list[str]], list[str]], str]] = {
    "truncated": (lambda lines: lines[: len(lines) // 2], "no end marker: the file is truncated"),
    "altered row": (lambda lines: [line.replace("alice", "mallory") for line in lines], SIGNATURE),
    "dropped row": (lambda lines: [lines[0], *lines[2:]], SIGNATURE),
    "promoted with a recomputed checksum": (lambda lines: with_sha256(promoted(lines)), SIGNATURE),
    "signed with another key": (lambda lines: signed(lines, b"someone else's key, 32 characters"), SIGNATURE),
    "unsigned (format 1)": (
        lambda lines: [lines[0].replace('"version":2', '"version":1'), *lines[1:]],
        "format version 1; this version reads only signed backups, format 2",
    ),
    "not json": (lambda lines: [lines[0], "{not json\n", *lines[1:]], "line 2 is not JSON"),
    "empty": (lambda lines: [], "the file is empty"),
    "not a backup": (lambda lines: ['{"hello": "world"}\n'], "does not start with a Mission Control backup"),
    "after the end": (lambda lines: [*lines, lines[1]], "follows the end marker"),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_file_changes_nothing(database: Database, tmp_path: Path, damage: str) -> None:
    lived_in(database)
    make_user(database, "vic", "viewer")
    backup = tmp_path / "backup.jsonl"
    write_backup(database, backup, key=KEY)
    change, message = DAMAGE[damage]
    rewrite(backup, change)
    make_user(database, "still-here", "viewer")
    before = contents(database)
    with pytest.raises(BackupError, match="nothing was changed") as refused:
        restore_backup(database, backup, key=KEY, force=True)
    assert message in str(refused.value)
    assert "is not a complete Mission Control backup" in str(refused.value)
    assert contents(database) == before


def edit_first_row(table: str, change: Callable[[dict[str, Any]], None]) -> Callable[[list[str]], list[str]]:
    """Change the first row of `table` and sign the file again, as someone holding the key could."""

    def edit(lines: list[str]) -> list[str]:
        for index, line in enumerate(lines):
            record = json.loads(line)
            if record.get("table") == table:
                change(record["row"])
                lines[index] = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
                break
        return signed(lines)

    return edit


def duplicated_first_user(lines: list[str]) -> list[str]:
    first = next(index for index, line in enumerate(lines) if line.startswith('{"table":"users"'))
    end = json.loads(lines[-1])
    end["end"]["rows"]["users"] += 1
    return signed([*lines[: first + 1], lines[first], *lines[first + 1 : -1], json.dumps(end) + "\n"])


UNFIT: dict[str, tuple[Callable[[list[str]], list[str]], str]] = {
    "broken foreign key": (
        edit_first_row("api_tokens", lambda row: row.update(user_id=999_999)),
        "its api_tokens rows break the schema's rules (",
    ),
    "duplicate key": (duplicated_first_user, "its users rows break the schema's rules ("),
    "text in an integer column": (
        edit_first_row("users", lambda row: row.update(id="abc")),
        "users.id must be an integer, not 'abc'",
    ),
    "name too long": (
        edit_first_row("users", lambda row: row.update(name="x" * 200)),
        "users.name holds at most 128 characters, not 200",
    ),
    "not a date": (
        edit_first_row("users", lambda row: row.update(created_at="yesterday")),
        "users.created_at must be an ISO 8601 date and time, not 'yesterday'",
    ),
    "null in a required column": (
        edit_first_row("users", lambda row: row.update(role=None)),
        "users.role may not be empty (null)",
    ),
    "binary that is not base64": (
        edit_first_row("evidence", lambda row: row.update(content="***")),
        "evidence.content is not valid base64",
    ),
    "unknown column": (
        edit_first_row("users", lambda row: row.update(is_root=True)),
        "column users.is_root is not in this schema",
    ),
}


@pytest.mark.parametrize("unfit", UNFIT)
def test_a_signed_file_that_breaks_the_schema_changes_nothing(
    database: Database, tmp_path: Path, unfit: str
) -> None:
    """Checked on SQLite too, which would otherwise store "abc" in an integer column."""
    lived_in(database)
    backup = tmp_path / "backup.jsonl"
    write_backup(database, backup, key=KEY)
    change, message = UNFIT[unfit]
    rewrite(backup, change)
    make_user(database, "still-here", "viewer")
    before = contents(database)
    with pytest.raises(BackupError, match="nothing was changed") as refused:
        restore_backup(database, backup, key=KEY, force=True)
    assert message in str(refused.value)
    assert contents(database) == before


def test_a_failed_backup_leaves_no_file(new_database: NewDatabase, tmp_path: Path) -> None:
    empty = new_database("sqlite")
    with pytest.raises(BackupError, match="no Mission Control schema"):
        write_backup(empty, tmp_path / "backup.jsonl", key=KEY)
    assert [path.name for path in tmp_path.iterdir() if "backup" in path.name] == []


def limit_file_size(limit: int) -> Callable[[], None]:
    """For a child process: writing past `limit` bytes fails with EFBIG, as on a full disk or quota."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills the writer instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_backup_that_fails_while_writing_its_rows_leaves_no_file(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    lived_in(database)
    with database.transaction() as session:  # a 1 MiB file: the backup is well past the limit below
        add_file(
            session=session, catalog=CATALOG, environment_name="production", item_id="edge.latency",
            filename="capture.bin", content=bytes(range(256)) * 4096, actor="alice",
        )  # fmt: skip
    whole = tmp_path / "whole" / "backup.jsonl"
    whole.parent.mkdir()
    write_backup(database, whole, key=KEY)
    target = tmp_path / "target"
    target.mkdir()
    limit = whole.stat().st_size // 2

    result = subprocess.run(
        [sys.executable, "-m", "mission_control", "db", "backup", str(target / "backup.jsonl")],
        env=os.environ | {"MC_DATABASE_URL": database_url, "MC_BACKUP_KEY": KEY.decode()},
        preexec_fn=limit_file_size(limit), capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert result.returncode == 1, result.stderr
    assert "backup failed: [Errno 27] File too large" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(target.iterdir()) == []


def test_a_backup_whose_file_cannot_be_put_in_place_leaves_no_partial_file(
    database: Database, tmp_path: Path
) -> None:
    lived_in(database)
    taken = tmp_path / "backups" / "backup.jsonl"
    (taken / "something").mkdir(parents=True)  # a non-empty directory where the file should go

    with pytest.raises(IsADirectoryError):
        write_backup(database, taken, key=KEY)

    assert [path.name for path in taken.parent.iterdir()] == ["backup.jsonl"]
    assert [path.name for path in taken.iterdir()] == ["something"]


@pytest.mark.parametrize(
    ("secret", "message"),
    [(None, "no backup key: set MC_BACKUP_KEY or pass --key-file"), ("short", "use at least 16")],
)
def test_a_backup_key_is_required(secret: str | None, message: str) -> None:
    with pytest.raises(BackupError, match=message):
        backup_key(secret)


def test_a_missing_file_is_refused(database: Database, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="No such file or directory; nothing was changed"):
        restore_backup(database, tmp_path / "absent.jsonl", key=KEY)


def test_a_backup_from_a_newer_schema_is_refused(
    database: Database, new_database: NewDatabase, tmp_path: Path
) -> None:
    backup = tmp_path / "backup.jsonl"
    write_backup(database, backup, key=KEY)
    rewrite(backup, lambda lines: signed([lines[0].replace(head_revision(), "9999"), *lines[1:]]))
    target = new_database(engine_of(database))
    with pytest.raises(BackupError, match="made by a newer Mission Control") as refused:
        restore_backup(target, backup, key=KEY)
    assert f"schema revision 9999; this version knows up to {head_revision()}" in str(refused.value)
    assert current_revision(target) is None  # not even migrated


def test_a_database_at_another_revision_is_refused(
    database: Database, new_database: NewDatabase, tmp_path: Path
) -> None:
    backup = tmp_path / "backup.jsonl"
    write_backup(database, backup, key=KEY)
    target = new_database(engine_of(database))
    upgrade(target, "0002")
    with pytest.raises(BackupError, match="the database is at schema revision 0002 but"):
        restore_backup(target, backup, key=KEY)
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
    assert write_backup(old, backup, key=KEY).revision == "0002"
    rehearsal = new_database(engine)
    restore_backup(rehearsal, backup, key=KEY)
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
    unkeyed = runner.invoke(cli, ["db", "backup", str(backup)])
    assert unkeyed.exit_code == 2
    assert "no backup key: set MC_BACKUP_KEY or pass --key-file" in unkeyed.output
    assert not backup.exists()
    monkeypatch.setenv("MC_BACKUP_KEY", KEY.decode())
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
    monkeypatch.delenv("MC_BACKUP_KEY")
    key_file = tmp_path / "backup.key"
    key_file.write_bytes(b"another key, from a file, 32 chars\n")
    refused = runner.invoke(cli, ["db", "restore", "--force", "--key-file", str(key_file), str(backup)])
    assert refused.exit_code == 1
    assert SIGNATURE in refused.output
    signed_by_file = tmp_path / "by-file.jsonl"
    assert (
        runner.invoke(cli, ["db", "backup", "--key-file", str(key_file), str(signed_by_file)]).exit_code == 0
    )
    restored = runner.invoke(
        cli, ["db", "restore", "--force", "--key-file", str(key_file), str(signed_by_file)]
    )
    assert restored.exit_code == 0, restored.output
    missing = runner.invoke(cli, ["db", "restore", "--key-file", str(tmp_path / "absent.key"), str(backup)])
    assert missing.exit_code == 2
    assert "cannot read the key file" in missing.output and "No such file or directory" in missing.output
