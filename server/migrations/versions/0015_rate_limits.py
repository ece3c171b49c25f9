"""request rate limits per client address (score API)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 07:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rate_limit_counters',
    sa.Column('scope', sa.String(length=40), nullable=False),
    sa.Column('address', sa.String(length=45), nullable=False),
    sa.Column('window_start', sa.BigInteger(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'address', 'window_start', name=op.f('pk_rate_limit_counters'))
    )
    op.create_index(op.f('ix_rate_limit_counters_window_start'), 'rate_limit_counters', ['window_start'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_rate_limit_counters_window_start'), table_name='rate_limit_counters')
    op.drop_table('rate_limit_counters')
