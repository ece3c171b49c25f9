"""household_scores: one index on (household_code, year) in place of household_code alone

A household's current score of a year is looked up by code and year (the village lists'
"missing households", the households page, the decision).  With only single-column indexes,
SQLite's planner (no statistics) took the index on year and read every score of the year for
each household: 1.6 s for a 1,000-household village's page.  The new index serves the code
alone too, so the old one goes.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 23:00:00.000000
"""

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("household_scores") as batch:
        batch.create_index("ix_household_scores_code_year", ["household_code", "year"])
        batch.drop_index("ix_household_scores_household_code")


def downgrade() -> None:
    with op.batch_alter_table("household_scores") as batch:
        batch.create_index("ix_household_scores_household_code", ["household_code"])
        batch.drop_index("ix_household_scores_code_year")
