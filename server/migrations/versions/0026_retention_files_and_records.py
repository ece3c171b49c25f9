"""retention of generated export files and of the access records (issue 14)

``export_jobs.purged_at``: when retention deleted a finished file (the job row stays, its page
says so).  Two more rules of rasoat's provisional defaults (no province): generated files 6
months after they were made, access records 60 months after the look — rasoat's own figures,
not from any regulation.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 22:40:00.000000
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

DEFAULT_NOTE = "mặc định của rasoat — chưa có quy định cụ thể"
DEFAULT_MONTHS = {"export_files": 6, "access_records": 60}


def upgrade() -> None:
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purged_at", sa.DateTime(), nullable=True))
    rules = sa.table(
        "retention_rules",
        sa.column("province_id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("months", sa.Integer()),
        sa.column("note", sa.Text()),
        sa.column("updated_at", sa.DateTime()),
        sa.column("updated_by_id", sa.Integer()),
    )
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
    op.execute(
        sa.text("DELETE FROM retention_rules WHERE kind IN ('export_files', 'access_records')")
    )
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.drop_column("purged_at")
