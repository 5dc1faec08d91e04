"""the tenant's brand and the desk's opening hours, credit alerts, a technician's recent entries

Revision ID: 0010_brand_alerts
Revises: 0009_running_totals
Create Date: 2026-12-01 13:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_brand_alerts'
down_revision = '0009_running_totals'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opening_hours', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('holidays', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('credit_alert_minutes', sa.Integer(), nullable=False, server_default='60'))
        batch_op.add_column(sa.Column('accent_color', sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column('logo_key', sa.String(length=120), nullable=True))
    with op.batch_alter_table('credit_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('alert_threshold_minutes', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('low_alert_sent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('negative_alert_sent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('expiry_alert_sent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('expiry_alert_for', sa.Date(), nullable=True))
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entry_technician_time', ['tenant_id', 'technician_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entry_technician_time')
    with op.batch_alter_table('credit_account', schema=None) as batch_op:
        for column in ('expiry_alert_for', 'expiry_alert_sent_at', 'negative_alert_sent_at',
                       'low_alert_sent_at', 'alert_threshold_minutes'):
            batch_op.drop_column(column)
    with op.batch_alter_table('tenant', schema=None) as batch_op:
        for column in ('logo_key', 'accent_color', 'credit_alert_minutes', 'holidays',
                       'opening_hours'):
            batch_op.drop_column(column)
