"""corrections made at a household's request (its right to have its data corrected)

``household_corrections``: what the household asked, what the commune changed, who recorded it
and when.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 19:50:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "household_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"]),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("household_corrections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_household_corrections_household_id"), ["household_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("household_corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_household_corrections_household_id"))
    op.drop_table("household_corrections")
