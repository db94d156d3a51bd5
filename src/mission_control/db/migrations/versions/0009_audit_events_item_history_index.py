"""audit events indexed by (environment, item, id): each item's newest changes in a few index seeks

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

The dashboard shows every item's latest changes in place; with only the environment indexed, finding
them meant reading the environment's whole audit trail. The new index leads with environment_id, so it
also serves everything the single-column index it replaces did (including cascading deletes).
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_events_item_history", ["environment_id", "item_id", "id"], unique=False
        )
        batch_op.drop_index(batch_op.f("ix_audit_events_environment_id"))


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_environment_id"), ["environment_id"], unique=False)
        batch_op.drop_index("ix_audit_events_item_history")
