"""statement: ledger indexes by branch and by kind

Revision ID: 0007_statement
Revises: 0006_credit
Create Date: 2026-11-22 10:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007_statement'
down_revision = '0006_credit'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entry_account_branch', ['tenant_id', 'account_id', 'branch_id', 'position'], unique=False)
        batch_op.create_index('ix_ledger_entry_account_kind', ['tenant_id', 'account_id', 'kind', 'position'], unique=False)


def downgrade():
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entry_account_kind')
        batch_op.drop_index('ix_ledger_entry_account_branch')
