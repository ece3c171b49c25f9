"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 11:35:35.680318
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('forms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('xml_form_id', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('state', sa.Enum('open', 'closing', 'closed', name='formstate', native_enum=False, length=10), nullable=False),
    sa.Column('current_version_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forms')),
    sa.UniqueConstraint('xml_form_id', name=op.f('uq_forms_xml_form_id'))
    )
    op.create_table('provinces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provinces')),
    sa.UniqueConstraint('code', name=op.f('uq_provinces_code'))
    )
    op.create_table('communes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('province_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('region', sa.String(length=50), nullable=False),
    sa.Column('area_type', sa.Enum('rural', 'urban', name='areatype', native_enum=False, length=10), nullable=False),
    sa.ForeignKeyConstraint(['province_id'], ['provinces.id'], name=op.f('fk_communes_province_id_provinces')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_communes')),
    sa.UniqueConstraint('code', name=op.f('uq_communes_code'))
    )
    with op.batch_alter_table('communes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_communes_province_id'), ['province_id'], unique=False)

    op.create_table('form_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('root_name', sa.String(length=200), nullable=False),
    sa.Column('xform', sa.LargeBinary(), nullable=False),
    sa.Column('xform_md5', sa.String(length=32), nullable=False),
    sa.Column('xform_sha256', sa.String(length=64), nullable=False),
    sa.Column('xlsx', sa.LargeBinary(), nullable=True),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('repeats', sa.JSON(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.Column('accepting_submissions', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['form_id'], ['forms.id'], name=op.f('fk_form_versions_form_id_forms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_versions')),
    sa.UniqueConstraint('form_id', 'version', name=op.f('uq_form_versions_form_id_version'))
    )
    with op.batch_alter_table('form_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_versions_form_id'), ['form_id'], unique=False)
    # forms.current_version_id and form_versions.form_id refer to each other: add this one once
    # both tables exist (batch mode, so SQLite rebuilds the still-empty table).
    with op.batch_alter_table('forms', schema=None) as batch_op:
        batch_op.create_foreign_key(
            op.f('fk_forms_current_version_id_form_versions'), 'form_versions',
            ['current_version_id'], ['id'], use_alter=True,
        )

    op.create_table('form_assignments',
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['communes.id'], name=op.f('fk_form_assignments_commune_id_communes')),
    sa.ForeignKeyConstraint(['form_id'], ['forms.id'], name=op.f('fk_form_assignments_form_id_forms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('form_id', 'commune_id', name=op.f('pk_form_assignments'))
    )
    op.create_table('form_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_version_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('blob_sha256', sa.String(length=64), nullable=True),
    sa.Column('md5', sa.String(length=32), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['form_version_id'], ['form_versions.id'], name=op.f('fk_form_attachments_form_version_id_form_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_attachments')),
    sa.UniqueConstraint('form_version_id', 'name', name=op.f('uq_form_attachments_form_version_id_name'))
    )
    with op.batch_alter_table('form_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_attachments_form_version_id'), ['form_version_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.Enum('admin', 'officer', 'reviewer', name='role', native_enum=False, length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('digest_ha1', sa.String(length=32), nullable=False),
    sa.Column('province_id', sa.Integer(), nullable=True),
    sa.Column('commune_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['communes.id'], name=op.f('fk_users_commune_id_communes')),
    sa.ForeignKeyConstraint(['province_id'], ['provinces.id'], name=op.f('fk_users_province_id_provinces')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_commune_id'), ['commune_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_users_province_id'), ['province_id'], unique=False)

    op.create_table('villages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('area_type', sa.Enum('rural', 'urban', name='areatype', native_enum=False, length=10), nullable=True),
    sa.ForeignKeyConstraint(['commune_id'], ['communes.id'], name=op.f('fk_villages_commune_id_communes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_villages')),
    sa.UniqueConstraint('commune_id', 'code', name=op.f('uq_villages_commune_id_code'))
    )
    with op.batch_alter_table('villages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_villages_commune_id'), ['commune_id'], unique=False)

    op.create_table('device_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_device_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_tokens')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_device_tokens_token_sha256'))
    )
    with op.batch_alter_table('device_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.String(length=255), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=True),
    sa.Column('submitter_id', sa.Integer(), nullable=False),
    sa.Column('review_state', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['communes.id'], name=op.f('fk_submissions_commune_id_communes')),
    sa.ForeignKeyConstraint(['form_id'], ['forms.id'], name=op.f('fk_submissions_form_id_forms')),
    sa.ForeignKeyConstraint(['submitter_id'], ['users.id'], name=op.f('fk_submissions_submitter_id_users')),
    sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_submissions_village_id_villages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submissions'))
    )
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index('ix_submissions_commune_form_created', ['commune_id', 'form_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_form_id'), ['form_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_review_state'), ['review_state'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_submitter_id'), ['submitter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_village_id'), ['village_id'], unique=False)

    op.create_table('user_villages',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_villages_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_user_villages_village_id_villages')),
    sa.PrimaryKeyConstraint('user_id', 'village_id', name=op.f('pk_user_villages'))
    )
    op.create_table('submission_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('form_version_id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.String(length=255), nullable=False),
    sa.Column('deprecated_id', sa.String(length=255), nullable=True),
    sa.Column('instance_name', sa.String(length=500), nullable=True),
    sa.Column('xml_sha256', sa.String(length=64), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('current', sa.Boolean(), nullable=False),
    sa.Column('submitter_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=255), nullable=True),
    sa.Column('user_agent', sa.String(length=500), nullable=True),
    sa.Column('attachments_expected', sa.Integer(), nullable=False),
    sa.Column('attachments_present', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['form_id'], ['forms.id'], name=op.f('fk_submission_versions_form_id_forms')),
    sa.ForeignKeyConstraint(['form_version_id'], ['form_versions.id'], name=op.f('fk_submission_versions_form_version_id_form_versions')),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_submission_versions_submission_id_submissions')),
    sa.ForeignKeyConstraint(['submitter_id'], ['users.id'], name=op.f('fk_submission_versions_submitter_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_versions')),
    sa.UniqueConstraint('form_id', 'instance_id', name=op.f('uq_submission_versions_form_id_instance_id'))
    )
    with op.batch_alter_table('submission_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_versions_form_version_id'), ['form_version_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submission_versions_submission_id'), ['submission_id'], unique=False)

    op.create_table('submission_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('blob_sha256', sa.String(length=64), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('content_type', sa.String(length=100), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['version_id'], ['submission_versions.id'], name=op.f('fk_submission_attachments_version_id_submission_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_attachments')),
    sa.UniqueConstraint('version_id', 'name', name=op.f('uq_submission_attachments_version_id_name'))
    )
    with op.batch_alter_table('submission_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_attachments_version_id'), ['version_id'], unique=False)

    op.create_table('submission_xml',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('xml', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['submission_versions.id'], name=op.f('fk_submission_xml_version_id_submission_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('version_id', name=op.f('pk_submission_xml'))
    )


def downgrade() -> None:
    with op.batch_alter_table('forms', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_forms_current_version_id_form_versions'), type_='foreignkey')
    op.drop_table('submission_xml')
    with op.batch_alter_table('submission_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_attachments_version_id'))

    op.drop_table('submission_attachments')
    with op.batch_alter_table('submission_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_versions_submission_id'))
        batch_op.drop_index(batch_op.f('ix_submission_versions_form_version_id'))

    op.drop_table('submission_versions')
    op.drop_table('user_villages')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submissions_village_id'))
        batch_op.drop_index(batch_op.f('ix_submissions_submitter_id'))
        batch_op.drop_index(batch_op.f('ix_submissions_review_state'))
        batch_op.drop_index(batch_op.f('ix_submissions_form_id'))
        batch_op.drop_index('ix_submissions_commune_form_created')

    op.drop_table('submissions')
    with op.batch_alter_table('device_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_tokens_user_id'))

    op.drop_table('device_tokens')
    with op.batch_alter_table('villages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_villages_commune_id'))

    op.drop_table('villages')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_province_id'))
        batch_op.drop_index(batch_op.f('ix_users_commune_id'))

    op.drop_table('users')
    with op.batch_alter_table('form_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_attachments_form_version_id'))

    op.drop_table('form_attachments')
    op.drop_table('form_assignments')
    with op.batch_alter_table('form_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_versions_form_id'))

    op.drop_table('form_versions')
    with op.batch_alter_table('communes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_communes_province_id'))

    op.drop_table('communes')
    op.drop_table('provinces')
    op.drop_table('forms')
