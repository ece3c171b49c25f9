"""review rounds, household cases, village meetings; score year

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 14:57:49.777173
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('review_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('posting_days', sa.Integer(), nullable=False),
    sa.Column('complaint_days', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['commune_id'], ['communes.id'], name=op.f('fk_review_rounds_commune_id_communes')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_review_rounds_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_rounds')),
    sa.UniqueConstraint('commune_id', 'year', 'kind', 'month', name=op.f('uq_review_rounds_commune_id_year_kind_month'))
    )
    with op.batch_alter_table('review_rounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_rounds_commune_id'), ['commune_id'], unique=False)

    op.create_table('village_meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=False),
    sa.Column('chair', sa.String(length=200), nullable=False),
    sa.Column('secretary', sa.String(length=200), nullable=False),
    sa.Column('attendees', sa.Integer(), nullable=False),
    sa.Column('fatherland_front_present', sa.Boolean(), nullable=False),
    sa.Column('fatherland_front_representative', sa.String(length=200), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_village_meetings_created_by_id_users')),
    sa.ForeignKeyConstraint(['round_id'], ['review_rounds.id'], name=op.f('fk_village_meetings_round_id_review_rounds')),
    sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_village_meetings_village_id_villages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_village_meetings'))
    )
    with op.batch_alter_table('village_meetings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_village_meetings_round_id'), ['round_id'], unique=False)

    op.create_table('household_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('household_code', sa.String(length=50), nullable=True),
    sa.Column('head_name', sa.String(length=200), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('score_id', sa.Integer(), nullable=False),
    sa.Column('previous_status', sa.String(length=20), nullable=False),
    sa.Column('proposed_category', sa.String(length=40), nullable=False),
    sa.Column('transition', sa.String(length=40), nullable=True),
    sa.Column('list_type', sa.String(length=30), nullable=False),
    sa.Column('stage', sa.String(length=30), nullable=False),
    sa.Column('final_category', sa.String(length=40), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_household_cases_household_id_households')),
    sa.ForeignKeyConstraint(['round_id'], ['review_rounds.id'], name=op.f('fk_household_cases_round_id_review_rounds')),
    sa.ForeignKeyConstraint(['score_id'], ['household_scores.id'], name=op.f('fk_household_cases_score_id_household_scores')),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_household_cases_submission_id_submissions')),
    sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_household_cases_village_id_villages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_cases')),
    sa.UniqueConstraint('round_id', 'submission_id', name=op.f('uq_household_cases_round_id_submission_id'))
    )
    with op.batch_alter_table('household_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_cases_list_type'), ['list_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_cases_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_cases_stage'), ['stage'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_cases_village_id'), ['village_id'], unique=False)

    op.create_table('meeting_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('agree', sa.Integer(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['household_cases.id'], name=op.f('fk_meeting_votes_case_id_household_cases')),
    sa.ForeignKeyConstraint(['meeting_id'], ['village_meetings.id'], name=op.f('fk_meeting_votes_meeting_id_village_meetings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_votes')),
    sa.UniqueConstraint('meeting_id', 'case_id', name=op.f('uq_meeting_votes_meeting_id_case_id'))
    )
    with op.batch_alter_table('meeting_votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_votes_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_votes_meeting_id'), ['meeting_id'], unique=False)

    # Existing scores get the year they were made in (their review date is in the stored
    # inputs only indirectly); new scores record the review year.
    with op.batch_alter_table('household_scores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('year', sa.Integer(), nullable=True))
    scores = sa.table('household_scores', sa.column('year', sa.Integer), sa.column('created_at', sa.DateTime))
    op.execute(scores.update().values(year=sa.extract('year', scores.c.created_at)))
    with op.batch_alter_table('household_scores', schema=None) as batch_op:
        batch_op.alter_column('year', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_household_scores_year'), ['year'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('household_scores', schema=None, recreate='never') as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_scores_year'))
        batch_op.drop_column('year')

    with op.batch_alter_table('meeting_votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_votes_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_meeting_votes_case_id'))

    op.drop_table('meeting_votes')
    with op.batch_alter_table('household_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_cases_village_id'))
        batch_op.drop_index(batch_op.f('ix_household_cases_stage'))
        batch_op.drop_index(batch_op.f('ix_household_cases_round_id'))
        batch_op.drop_index(batch_op.f('ix_household_cases_list_type'))

    op.drop_table('household_cases')
    with op.batch_alter_table('village_meetings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_village_meetings_round_id'))

    op.drop_table('village_meetings')
    with op.batch_alter_table('review_rounds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_rounds_commune_id'))

    op.drop_table('review_rounds')
