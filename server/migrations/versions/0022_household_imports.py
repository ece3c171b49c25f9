"""household lists uploaded on the web, waiting for confirmation

``household_imports``: one row per uploaded list (XLSX or CSV) — who uploaded it for which
commune and year, what the server read from it and what is wrong with it, when it expires and
when it was confirmed (with the counts).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 19:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "household_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("commune_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("file_kind", sa.String(length=10), nullable=False),
        sa.Column("sheet", sa.String(length=100), nullable=True),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("ignored_columns", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("committed_at", sa.DateTime(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["commune_id"], ["communes.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    with op.batch_alter_table("household_imports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_household_imports_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_household_imports_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("household_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_household_imports_user_id"))
        batch_op.drop_index(batch_op.f("ix_household_imports_expires_at"))
    op.drop_table("household_imports")
