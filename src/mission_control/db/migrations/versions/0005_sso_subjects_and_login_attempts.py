"""sso subjects on users, login attempts counted per name and address, instance secrets

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Users made by single sign-on before this revision carry no (issuer, subject): they are not bound, so
their owner's next SSO sign-in makes a new, bound user (README: "Single sign-on").
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Adding columns and an index needs no rebuild of `users` on SQLite; a rebuild (drop and copy)
    # would cascade-delete every API token and session.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sso_issuer", sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column("sso_subject", sa.String(length=255), nullable=True))
        batch_op.create_index("ix_users_sso_subject", ["sso_issuer", "sso_subject"], unique=True)

    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name_key", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
        sa.UniqueConstraint("name_key", "client", name=op.f("uq_login_attempts_name_key")),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_attempts_last_failure_at"), ["last_failure_at"], unique=False
        )

    op.create_table(
        "instance_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_instance_secrets")),
    )

    # Failures held user names verbatim (people type passwords there) and last at most 15 minutes.
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failures_user_name"))
        batch_op.drop_index(batch_op.f("ix_login_failures_at"))
    op.drop_table("login_failures")


def downgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_name", sa.String(length=128), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_failures_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_failures_user_name"), ["user_name"], unique=False)

    op.drop_table("instance_secrets")
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_attempts_last_failure_at"))
    op.drop_table("login_attempts")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_sso_subject")
        batch_op.drop_column("sso_subject")
        batch_op.drop_column("sso_issuer")
