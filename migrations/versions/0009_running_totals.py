"""credit accounts keep their running totals: appending an entry reads only the account

Revision ID: 0009_running_totals
Revises: 0008_settings
Create Date: 2026-11-23 00:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_running_totals'
down_revision = '0008_settings'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('credit_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cumulative_normal', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('cumulative_free', sa.Integer(), nullable=False, server_default='0'))
    # Every tenant's accounts take their last entry's running totals (a migration is
    # cross-tenant by nature).
    for column in ('cumulative_normal', 'cumulative_free'):
        op.execute(
            f"UPDATE credit_account SET {column} = COALESCE(("
            f"SELECT ledger_entry.{column} FROM ledger_entry"
            " WHERE ledger_entry.tenant_id = credit_account.tenant_id"
            " AND ledger_entry.account_id = credit_account.id"
            " AND ledger_entry.position = credit_account.entry_count), 0)"
        )


def downgrade():
    with op.batch_alter_table('credit_account', schema=None) as batch_op:
        batch_op.drop_column('cumulative_free')
        batch_op.drop_column('cumulative_normal')
