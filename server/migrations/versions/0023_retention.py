"""retention rules, legal holds and the record of what was purged (issue 14)

``retention_rules`` is seeded with rasoat's provisional defaults (no province): they are not
from any regulation — Law 91/2025/QH15 only says "as long as the purpose requires" — and say so.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 19:10:00.000000
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

DEFAULT_NOTE = "mặc định của rasoat — chưa có quy định cụ thể"
DEFAULT_MONTHS = {
    "attachments": 24,
    "gps": 24,
    "free_text": 24,
    "xml": 24,
    "answers": 60,
    "scores": 60,
    "audit": 120,
}


def upgrade() -> None:
    rules = op.create_table(
        "retention_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("province_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("months", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["province_id"], ["provinces.id"]),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("province_id", "kind"),
    )
    with op.batch_alter_table("retention_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_retention_rules_province_id"), ["province_id"], unique=False
        )
    op.create_table(
        "retention_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commune_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("household_code", sa.String(length=50), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("cleared_at", sa.DateTime(), nullable=True),
        sa.Column("cleared_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["cleared_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["commune_id"], ["communes.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["round_id"], ["review_rounds.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("retention_holds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_retention_holds_commune_id"), ["commune_id"], unique=False
        )
    op.create_table(
        "retention_purges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("purged_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["review_rounds.id"]),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_id", "kind"),
    )
    with op.batch_alter_table("retention_purges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_retention_purges_submission_id"), ["submission_id"], unique=False
        )
    op.create_table(
        "retention_pending_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("retention_pending_files", schema=None) as batch_op:
        batch_op.create_index("ix_retention_pending_files_sha256", ["sha256"], unique=True)
    now = datetime.now(UTC).replace(tzinfo=None)  # the schema stores naive UTC
    op.bulk_insert(
        rules,
        [
            {"province_id": None, "kind": kind, "months": months, "note": DEFAULT_NOTE}
            | {"updated_at": now, "updated_by_id": None}
            for kind, months in DEFAULT_MONTHS.items()
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("retention_pending_files", schema=None) as batch_op:
        batch_op.drop_index("ix_retention_pending_files_sha256")
    op.drop_table("retention_pending_files")
    with op.batch_alter_table("retention_purges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retention_purges_submission_id"))
    op.drop_table("retention_purges")
    with op.batch_alter_table("retention_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retention_holds_commune_id"))
    op.drop_table("retention_holds")
    with op.batch_alter_table("retention_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retention_rules_province_id"))
    op.drop_table("retention_rules")
