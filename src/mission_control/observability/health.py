"""Liveness and readiness: a replica takes traffic only when its database answers at the schema it needs.

A load balancer or Kubernetes probe reads these without signing in, so they reveal nothing but
whether this process can serve, and why not.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from mission_control.db.database import Database
from mission_control.db.migrate import current_revision, head_revision


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"status": "ready" if self.ready else "not ready", "reason": self.reason}


def check_readiness(database: Database) -> Readiness:
    """Ready when the database answers and its schema is this version's newest migration."""
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = current_revision(database)
    except SQLAlchemyError as error:
        return Readiness(False, f"database unreachable: {type(error.orig or error).__name__}")
    wanted = head_revision()
    if revision != wanted:
        found = revision or "no schema"
        return Readiness(False, f"database schema is at {found}, this version needs {wanted}: run db upgrade")
    return Readiness(True, f"database reachable, schema at {wanted}")
