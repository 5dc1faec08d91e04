"""support requests (seed 001): requests, their conversation and files, reference
counters, the time recorded from them, the tenant's day rate and delays; the new
permissions for the roles that already exist

Revision ID: 0011_requests
Revises: 0010_brand_alerts
Create Date: 2026-12-01 13:39:13.208470

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_requests'
down_revision = '0010_brand_alerts'
branch_labels = None
depends_on = None

#: The requests going on, which the desk's queue opens on (portal.models.request).
GOING_ON = "state IN ('new', 'acknowledged', 'in_progress', 'waiting')"


def upgrade():
    op.create_table('request_counter',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_request_counter_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'year', name=op.f('pk_request_counter'))
    )
    op.create_table('support_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('help', 'improvement', 'malfunction', name='request_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('branch_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('new', 'acknowledged', 'in_progress', 'waiting', 'resolved', 'closed', 'refused', 'duplicate', name='request_state', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('priority', sa.Enum('flash', 'high', 'normal', 'low', name='request_priority', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('priority_rank', sa.Integer(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('state_reason', sa.Text(), nullable=True),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('blocking', sa.Boolean(), nullable=False),
    sa.Column('remote_access_id', sa.String(length=40), nullable=True),
    sa.Column('accepted_for_everyone', sa.Boolean(), nullable=False),
    sa.Column('quote_days', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('quote_amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('quote_currency', sa.String(length=3), nullable=True),
    sa.Column('quote_state', sa.Enum('proposed', 'accepted', 'declined', name='quote_state', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('minutes_normal', sa.Integer(), nullable=False),
    sa.Column('minutes_free', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'assignee_id'], ['user_account.tenant_id', 'user_account.id'], name=op.f('fk_support_request_tenant_id_assignee_id_user_account')),
    sa.ForeignKeyConstraint(['tenant_id', 'branch_id'], ['branch.tenant_id', 'branch.id'], name=op.f('fk_support_request_tenant_id_branch_id_branch')),
    sa.ForeignKeyConstraint(['tenant_id', 'client_id'], ['client.tenant_id', 'client.id'], name=op.f('fk_support_request_tenant_id_client_id_client')),
    sa.ForeignKeyConstraint(['tenant_id', 'contact_id'], ['contact.tenant_id', 'contact.id'], name=op.f('fk_support_request_tenant_id_contact_id_contact')),
    sa.ForeignKeyConstraint(['tenant_id', 'duplicate_of_id'], ['support_request.tenant_id', 'support_request.id'], name=op.f('fk_support_request_tenant_id_duplicate_of_id_support_request')),
    sa.ForeignKeyConstraint(['tenant_id', 'opened_by_id'], ['user_account.tenant_id', 'user_account.id'], name=op.f('fk_support_request_tenant_id_opened_by_id_user_account')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_support_request_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_request')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_support_request_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'year', 'number', name=op.f('uq_support_request_tenant_id_year_number'))
    )
    with op.batch_alter_table('support_request', schema=None) as batch_op:
        batch_op.create_index('ix_support_request_client', ['tenant_id', 'client_id', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_support_request_going_on', ['tenant_id', 'priority_rank', 'created_at', 'id'], unique=False, postgresql_where=sa.text(GOING_ON), sqlite_where=sa.text(GOING_ON))
        batch_op.create_index('ix_support_request_queue', ['tenant_id', 'state', 'priority_rank', 'created_at', 'id'], unique=False)

    op.create_table('request_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('internal', sa.Boolean(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'author_id'], ['user_account.tenant_id', 'user_account.id'], name=op.f('fk_request_message_tenant_id_author_id_user_account')),
    sa.ForeignKeyConstraint(['tenant_id', 'client_id'], ['client.tenant_id', 'client.id'], name=op.f('fk_request_message_tenant_id_client_id_client')),
    sa.ForeignKeyConstraint(['tenant_id', 'request_id'], ['support_request.tenant_id', 'support_request.id'], name=op.f('fk_request_message_tenant_id_request_id_support_request')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_request_message_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_message')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_request_message_tenant_id_id'))
    )
    with op.batch_alter_table('request_message', schema=None) as batch_op:
        batch_op.create_index('ix_request_message_request', ['tenant_id', 'request_id', 'created_at', 'id'], unique=False)

    op.create_table('request_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('internal', sa.Boolean(), nullable=False),
    sa.Column('storage_key', sa.String(length=120), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=60), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'client_id'], ['client.tenant_id', 'client.id'], name=op.f('fk_request_attachment_tenant_id_client_id_client')),
    sa.ForeignKeyConstraint(['tenant_id', 'message_id'], ['request_message.tenant_id', 'request_message.id'], name=op.f('fk_request_attachment_tenant_id_message_id_request_message')),
    sa.ForeignKeyConstraint(['tenant_id', 'request_id'], ['support_request.tenant_id', 'support_request.id'], name=op.f('fk_request_attachment_tenant_id_request_id_support_request')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_request_attachment_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_attachment')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_request_attachment_tenant_id_id'))
    )
    with op.batch_alter_table('request_attachment', schema=None) as batch_op:
        batch_op.create_index('ix_request_attachment_request', ['tenant_id', 'request_id', 'id'], unique=False)

    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_ledger_entry_request', ['tenant_id', 'request_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_ledger_entry_tenant_id_request_id_support_request'), 'support_request', ['tenant_id', 'request_id'], ['tenant_id', 'id'])

    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('day_rate', sa.Numeric(precision=10, scale=2), nullable=False, server_default='480.00'))
        batch_op.add_column(sa.Column('delay_flash', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('delay_high', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('delay_normal', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('delay_low', sa.String(length=200), nullable=True))

    # Every tenant's existing roles (a migration is cross-tenant by nature): who records
    # support works on requests, as the new tenants' Technician does. System roles take
    # their permissions from the catalogue and need no row.
    for permission, holding in (
        ('requests.view', 'support.record'),
        ('requests.reply', 'support.record'),
        ('requests.triage', 'support.record'),
        ('requests.notes', 'support.record'),
    ):
        op.execute(
            "INSERT INTO role_permission (tenant_id, role_id, permission)"
            f" SELECT tenant_id, role_id, '{permission}' FROM role_permission"
            f" WHERE permission = '{holding}'"
        )


def downgrade():
    op.execute("DELETE FROM role_permission WHERE permission LIKE 'requests.%'")
    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.drop_column('delay_low')
        batch_op.drop_column('delay_normal')
        batch_op.drop_column('delay_high')
        batch_op.drop_column('delay_flash')
        batch_op.drop_column('day_rate')

    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ledger_entry_tenant_id_request_id_support_request'), type_='foreignkey')
        batch_op.drop_index('ix_ledger_entry_request')
        batch_op.drop_column('request_id')

    with op.batch_alter_table('request_attachment', schema=None) as batch_op:
        batch_op.drop_index('ix_request_attachment_request')

    op.drop_table('request_attachment')
    with op.batch_alter_table('request_message', schema=None) as batch_op:
        batch_op.drop_index('ix_request_message_request')

    op.drop_table('request_message')
    with op.batch_alter_table('support_request', schema=None) as batch_op:
        batch_op.drop_index('ix_support_request_going_on')
        batch_op.drop_index('ix_support_request_queue')
        batch_op.drop_index('ix_support_request_client')

    op.drop_table('support_request')
    op.drop_table('request_counter')
