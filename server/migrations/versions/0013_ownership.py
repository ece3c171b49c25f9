"""province ownership of forms, B1 tables and audit events; national administrators

Existing rows get the province of the account that uploaded them (a form: its first version's
uploader), or stay national (None) when a command or the shipped files made them; audit events
get their commune's province, else their actor's.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 07:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('forms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('province_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_forms_province_id'), ['province_id'], unique=False)
        batch_op.create_foreign_key('fk_forms_province_id', 'provinces', ['province_id'], ['id'])
    with op.batch_alter_table('b1_tables', schema=None) as batch_op:
        batch_op.add_column(sa.Column('province_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_b1_tables_province_id'), ['province_id'], unique=False)
        batch_op.create_foreign_key('fk_b1_tables_province_id', 'provinces', ['province_id'], ['id'])
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('province_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_audit_events_province_at', ['province_id', 'at'], unique=False)
        batch_op.create_foreign_key('fk_audit_events_province_id', 'provinces', ['province_id'], ['id'])
    op.execute(
        "UPDATE forms SET province_id = (SELECT u.province_id FROM form_versions v "
        "JOIN users u ON u.id = v.uploaded_by_id WHERE v.form_id = forms.id "
        "ORDER BY v.id LIMIT 1)"
    )
    op.execute(
        "UPDATE b1_tables SET province_id = (SELECT u.province_id FROM users u "
        "WHERE u.id = b1_tables.uploaded_by_id) WHERE origin = 'upload'"
    )
    op.execute(
        "UPDATE audit_events SET province_id = COALESCE("
        "(SELECT c.province_id FROM communes c WHERE c.id = audit_events.commune_id), "
        "(SELECT u.province_id FROM users u WHERE u.id = audit_events.actor_id))"
    )


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint('fk_audit_events_province_id', type_='foreignkey')
        batch_op.drop_index('ix_audit_events_province_at')
        batch_op.drop_column('province_id')
    with op.batch_alter_table('b1_tables', schema=None) as batch_op:
        batch_op.drop_constraint('fk_b1_tables_province_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_b1_tables_province_id'))
        batch_op.drop_column('province_id')
    with op.batch_alter_table('forms', schema=None) as batch_op:
        batch_op.drop_constraint('fk_forms_province_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_forms_province_id'))
        batch_op.drop_column('province_id')
