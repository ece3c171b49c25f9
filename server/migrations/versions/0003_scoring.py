"""scoring

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:56:32.681865
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('household_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('submission_version_id', sa.Integer(), nullable=False),
    sa.Column('household_code', sa.String(length=50), nullable=True),
    sa.Column('standard', sa.String(length=20), nullable=False),
    sa.Column('table_code', sa.String(length=100), nullable=True),
    sa.Column('table_version', sa.String(length=50), nullable=True),
    sa.Column('mapping', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('transition', sa.String(length=40), nullable=True),
    sa.Column('score_a', sa.Float(), nullable=True),
    sa.Column('score_b', sa.Integer(), nullable=False),
    sa.Column('deprivations', sa.Integer(), nullable=False),
    sa.Column('undetermined', sa.Integer(), nullable=False),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('inputs_sha256', sa.String(length=64), nullable=False),
    sa.Column('current', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_household_scores_submission_id_submissions')),
    sa.ForeignKeyConstraint(['submission_version_id'], ['submission_versions.id'], name=op.f('fk_household_scores_submission_version_id_submission_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_scores'))
    )
    with op.batch_alter_table('household_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_scores_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_scores_household_code'), ['household_code'], unique=False)
        batch_op.create_index('ix_household_scores_submission_current', ['submission_id', 'current'], unique=False)

    op.create_table('scoring_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_version_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=50), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['submission_version_id'], ['submission_versions.id'], name=op.f('fk_scoring_jobs_submission_version_id_submission_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scoring_jobs'))
    )
    with op.batch_alter_table('scoring_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_scoring_jobs_state_id', ['state', 'id'], unique=False)

    with op.batch_alter_table('communes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('b1_table', sa.String(length=100), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('communes', schema=None) as batch_op:
        batch_op.drop_column('b1_table')

    with op.batch_alter_table('scoring_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_scoring_jobs_state_id')

    op.drop_table('scoring_jobs')
    with op.batch_alter_table('household_scores', schema=None) as batch_op:
        batch_op.drop_index('ix_household_scores_submission_current')
        batch_op.drop_index(batch_op.f('ix_household_scores_household_code'))
        batch_op.drop_index(batch_op.f('ix_household_scores_category'))

    op.drop_table('household_scores')
