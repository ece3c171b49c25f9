"""households, drafts, dynamic media

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:01:45.887358
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('households',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('head_name', sa.String(length=200), nullable=False),
    sa.Column('on_review_list', sa.Boolean(), nullable=False),
    sa.Column('list_source', sa.Enum('danh_sach', 'de_nghi', 'khac', name='listsource', native_enum=False, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['communes.id'], name=op.f('fk_households_commune_id_communes')),
    sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_households_village_id_villages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_households')),
    sa.UniqueConstraint('commune_id', 'code', name=op.f('uq_households_commune_id_code'))
    )
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_households_village_id'), ['village_id'], unique=False)

    op.create_table('draft_submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_version_id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.String(length=255), nullable=False),
    sa.Column('xml', sa.LargeBinary(), nullable=False),
    sa.Column('attachments', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['form_version_id'], ['form_versions.id'], name=op.f('fk_draft_submissions_form_version_id_form_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draft_submissions')),
    sa.UniqueConstraint('form_version_id', 'instance_id', name=op.f('uq_draft_submissions_form_version_id_instance_id'))
    )
    with op.batch_alter_table('draft_submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_draft_submissions_form_version_id'), ['form_version_id'], unique=False)

    op.create_table('household_year_statuses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('ngheo', 'can_ngheo', 'thoat_ngheo', 'thoat_can_ngheo', 'khong', 'moi', name='householdstatus', native_enum=False, length=20), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_household_year_statuses_household_id_households'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_year_statuses')),
    sa.UniqueConstraint('household_id', 'year', name=op.f('uq_household_year_statuses_household_id_year'))
    )
    with op.batch_alter_table('form_attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dynamic', sa.String(length=20), nullable=True))
    # Lists the server generates per reviewer (see xlsforms/README.md).
    op.execute("UPDATE form_attachments SET dynamic = 'households' WHERE name = 'households.csv'")
    op.execute("UPDATE form_attachments SET dynamic = 'villages' WHERE name = 'villages.csv'")

    with op.batch_alter_table('form_versions', schema=None) as batch_op:
        # Versions that exist already were published when they were stored.
        batch_op.add_column(sa.Column('state', sa.Enum('draft', 'published', name='versionstate', native_enum=False, length=10), nullable=False, server_default='published'))
        batch_op.add_column(sa.Column('created_at', sa.DateTime(), nullable=False, server_default=sa.func.current_timestamp()))
        batch_op.add_column(sa.Column('uploaded_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('test_token', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('warnings', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.alter_column('published_at',
               existing_type=sa.DATETIME(),
               nullable=True)
        batch_op.create_unique_constraint(batch_op.f('uq_form_versions_test_token'), ['test_token'])
        batch_op.create_foreign_key(batch_op.f('fk_form_versions_uploaded_by_id_users'), 'users', ['uploaded_by_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('form_versions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_form_versions_uploaded_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_form_versions_test_token'), type_='unique')
        batch_op.alter_column('published_at',
               existing_type=sa.DATETIME(),
               nullable=False)
        batch_op.drop_column('warnings')
        batch_op.drop_column('test_token')
        batch_op.drop_column('uploaded_by_id')
        batch_op.drop_column('created_at')
        batch_op.drop_column('state')

    with op.batch_alter_table('form_attachments', schema=None) as batch_op:
        batch_op.drop_column('dynamic')

    op.drop_table('household_year_statuses')
    with op.batch_alter_table('draft_submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_draft_submissions_form_version_id'))

    op.drop_table('draft_submissions')
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_households_village_id'))

    op.drop_table('households')
