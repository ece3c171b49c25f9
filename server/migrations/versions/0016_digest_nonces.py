"""HTTP Digest nonces with one-use counts (shared by every app server)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 07:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_nonces",
        sa.Column("nonce", sa.String(length=100), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("last_nc", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_digest_nonces")),
    )
    op.create_index(
        op.f("ix_digest_nonces_issued_at"), "digest_nonces", ["issued_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_digest_nonces_issued_at"), table_name="digest_nonces")
    op.drop_table("digest_nonces")
