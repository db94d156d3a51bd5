"""fleet: request rates per verification run, environments discovered from AWS Organizations

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("verification_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_rates", sa.JSON(), nullable=True))
    op.create_table(
        "discovered_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("account_name", sa.String(length=128), nullable=False),
        sa.Column("role_arn", sa.String(length=2048), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("organizational_unit", sa.String(length=128), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("discovered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_discovered_accounts_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discovered_accounts")),
        sa.UniqueConstraint("account_id", name=op.f("uq_discovered_accounts_account_id")),
        sa.UniqueConstraint("environment_id", name=op.f("uq_discovered_accounts_environment_id")),
    )


def downgrade() -> None:
    op.drop_table("discovered_accounts")
    with op.batch_alter_table("verification_runs", schema=None) as batch_op:
        batch_op.drop_column("request_rates")
