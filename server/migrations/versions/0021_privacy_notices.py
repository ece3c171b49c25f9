"""a province's own wording of the notice read to each household before the questionnaire

``privacy_notices``: one row per province that wrote its own (the others use rasoat's default
in ``forms/privacy_notice.yaml``).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 19:20:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_notices",
        sa.Column("province_id", sa.Integer(), nullable=False),
        sa.Column("text_vi", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["province_id"], ["provinces.id"]),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("province_id"),
    )


def downgrade() -> None:
    op.drop_table("privacy_notices")
