"""tenant settings: the support desk's sender

Revision ID: 0008_settings
Revises: 0007_statement
Create Date: 2026-11-22 21:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_settings'
down_revision = '0007_statement'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('support_sender_name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('support_sender_email', sa.String(length=254), nullable=True))


def downgrade():
    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.drop_column('support_sender_email')
        batch_op.drop_column('support_sender_name')
