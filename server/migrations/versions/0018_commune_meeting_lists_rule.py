"""a commune's rule for its village-meeting lists: only approved results, or all

``communes.meeting_lists_approved_only`` (false for every existing commune: their lists keep
taking every result, as before).  Review states are strings without a CHECK, so the new
"resurvey" state needs no change of schema.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 16:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("communes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "meeting_lists_approved_only", sa.Boolean(), nullable=False, server_default="0"
            )
        )


def downgrade() -> None:
    # SQLite ≥ 3.35 drops a plain column in place; rebuilding ``communes`` (batch "recreate")
    # would fail on the rows of other tables that reference it while foreign keys are on.
    with op.batch_alter_table("communes", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("meeting_lists_approved_only")
