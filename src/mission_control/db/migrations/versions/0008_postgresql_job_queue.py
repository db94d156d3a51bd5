"""jobs: the job queue's own schema (procrastinate's tables, types and functions), on PostgreSQL only

SQLite runs jobs in the server's process and needs none of it. The schema is the one the bounded
procrastinate release ships (`procrastinate>=3.10,<3.11` in pyproject.toml); a newer release's
migrations come as a new revision here.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from procrastinate.schema import SchemaManager

    _run_script(bind, SchemaManager.get_schema())


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    _run_script(
        bind,
        """
        DO $$
        DECLARE routine record;
        BEGIN
            FOR routine IN
                SELECT p.oid::regprocedure AS signature FROM pg_proc p
                JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%'
            LOOP
                EXECUTE 'DROP ROUTINE IF EXISTS ' || routine.signature || ' CASCADE';
            END LOOP;
        END $$;
        DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
            procrastinate_workers CASCADE;
        DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type, procrastinate_job_status
            CASCADE;
        """,
    )


def _run_script(bind: object, script: str) -> None:
    """Run a multi-statement SQL script in the migration's transaction. psycopg's own `execute`
    without parameters, so the script's `%` signs are not taken for placeholders."""
    bind.connection.driver_connection.execute(script)  # type: ignore[attr-defined]
