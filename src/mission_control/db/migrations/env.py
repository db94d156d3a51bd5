"""Alembic environment: runs on the connection Mission Control hands it, in batch mode for SQLite."""

from alembic import context

from mission_control.db import models  # noqa: F401  (registers every table on Base.metadata)
from mission_control.db.base import Base
from mission_control.db.migrate import is_ours

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    include_name=is_ours,
)
with context.begin_transaction():
    context.run_migrations()
