"""household evidence: Phiếu A and income-survey readings linked to a household's Phiếu B

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 15:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('household_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('submission_version_id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('household_code', sa.String(length=50), nullable=True),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('review_date', sa.Date(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['communes.id'], name=op.f('fk_household_evidence_commune_id_communes')),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_household_evidence_submission_id_submissions')),
    sa.ForeignKeyConstraint(['submission_version_id'], ['submission_versions.id'], name=op.f('fk_household_evidence_submission_version_id_submission_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_evidence')),
    sa.UniqueConstraint('submission_id', name=op.f('uq_household_evidence_submission_id'))
    )
    op.create_index('ix_household_evidence_lookup', 'household_evidence', ['commune_id', 'household_code', 'year', 'kind'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_household_evidence_lookup', table_name='household_evidence')
    op.drop_table('household_evidence')
