"""the deciding method and a B1/income disagreement as columns of household_scores

Both were kept only inside the stored result (JSON); as columns they can be filtered and
counted.  Existing rows take them from their result where it has them ("b1" / "income", and
``methods_disagree`` true); a result stored before issue 12 has neither: NULL and false.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 15:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# (method, disagreement) read from the stored result, per database.
_FROM_RESULT = {
    "postgresql": (
        "result ->> 'method'",
        "COALESCE(result ->> 'methods_disagree', '') = 'true'",
    ),
    "sqlite": (
        "json_extract(result, '$.method')",
        "COALESCE(json_type(result, '$.methods_disagree'), '') = 'true'",
    ),
}


def upgrade() -> None:
    # A plain string default: SQLite adds the column in place (no table rebuild).
    with op.batch_alter_table("household_scores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("method", sa.String(length=10), nullable=True))
        batch_op.add_column(
            sa.Column("methods_disagree", sa.Boolean(), nullable=False, server_default="0")
        )
        batch_op.create_index(
            "ix_household_scores_method_current", ["method", "current"], unique=False
        )
        batch_op.create_index(
            "ix_household_scores_disagree_current", ["methods_disagree", "current"], unique=False
        )
    method, disagree = _FROM_RESULT[op.get_bind().dialect.name]
    op.execute(f"UPDATE household_scores SET method = {method} WHERE {method} IN ('b1', 'income')")
    op.execute(f"UPDATE household_scores SET methods_disagree = TRUE WHERE {disagree}")


def downgrade() -> None:
    with op.batch_alter_table("household_scores", schema=None) as batch_op:
        batch_op.drop_index("ix_household_scores_disagree_current")
        batch_op.drop_index("ix_household_scores_method_current")
        batch_op.drop_column("methods_disagree")
        batch_op.drop_column("method")
