"""access_records: who looked at which household's personal data, when, and how

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 19:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("commune_id", sa.Integer(), nullable=True),
        sa.Column("province_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("household_code", sa.String(length=50), nullable=True),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("ref", sa.String(length=200), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("endpoint", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["commune_id"], ["communes.id"], name=op.f("fk_access_records_commune_id_communes")
        ),
        sa.ForeignKeyConstraint(
            ["province_id"],
            ["provinces.id"],
            name=op.f("fk_access_records_province_id_provinces"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_access_records_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_records")),
    )
    with op.batch_alter_table("access_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_records_at"), ["at"], unique=False)
        batch_op.create_index("ix_access_records_province_at", ["province_id", "at"])
        batch_op.create_index("ix_access_records_commune_at", ["commune_id", "at"])
        batch_op.create_index("ix_access_records_user_day", ["user_id", "day"])
        batch_op.create_index("ix_access_records_household", ["household_id"])
        batch_op.create_index("ix_access_records_household_code", ["household_code"])


def downgrade() -> None:
    with op.batch_alter_table("access_records", schema=None) as batch_op:
        batch_op.drop_index("ix_access_records_household_code")
        batch_op.drop_index("ix_access_records_household")
        batch_op.drop_index("ix_access_records_user_day")
        batch_op.drop_index("ix_access_records_commune_at")
        batch_op.drop_index("ix_access_records_province_at")
        batch_op.drop_index(batch_op.f("ix_access_records_at"))
    op.drop_table("access_records")
