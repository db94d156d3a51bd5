"""Storage: the engine, sessions and Alembic migrations, portable across SQLite and PostgreSQL."""

from mission_control.db.base import Base
from mission_control.db.database import Database

__all__ = ["Base", "Database"]
