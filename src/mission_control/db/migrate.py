"""Run Alembic migrations programmatically, so `db upgrade` and `serve` need no alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from mission_control.db.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")
_POSTGRES_MIGRATION_LOCK = 0x4D43_4442  # an arbitrary advisory-lock key: "MCDB"
QUEUE_TABLE_PREFIX = "procrastinate_"  # the job queue's tables (PostgreSQL), made by revision 0008


def is_ours(name: str | None, type_: str, parent_names: object) -> bool:
    """Whether a database object belongs to our models: the job queue's tables are procrastinate's."""
    return not (type_ == "table" and name is not None and name.startswith(QUEUE_TABLE_PREFIX))


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest schema revision this version of Mission Control knows."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head() or "base"


def upgrade(database: Database, revision: str = "head") -> None:
    """Migrate to `revision`; replicas starting together on PostgreSQL take turns on an advisory lock."""
    config = alembic_config()
    with database.engine.connect() as connection:
        if not database.is_sqlite:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _POSTGRES_MIGRATION_LOCK})
            connection.commit()
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
        finally:
            if not database.is_sqlite:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _POSTGRES_MIGRATION_LOCK})
                connection.commit()


def current_revision(database: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
