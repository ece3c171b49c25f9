"""why a household of last year's poor / near-poor lists has no result this year

``missing_household_reasons``: one row per review round and household — the reason (moved,
merged or split, died out, not reviewed yet, other), a note, who recorded it and when.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 16:40:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "missing_household_reasons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"]),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["round_id"], ["review_rounds.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "household_id"),
    )
    with op.batch_alter_table("missing_household_reasons", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_missing_household_reasons_household_id"), ["household_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_missing_household_reasons_round_id"), ["round_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("missing_household_reasons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_missing_household_reasons_round_id"))
        batch_op.drop_index(batch_op.f("ix_missing_household_reasons_household_id"))
    op.drop_table("missing_household_reasons")
