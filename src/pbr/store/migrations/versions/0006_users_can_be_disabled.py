"""users can be disabled, and a password change or disabling ends their open sessions

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 18:45:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('disabled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column('users', sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None, recreate="never") as batch_op:
        batch_op.drop_column('session_epoch')
        batch_op.drop_column('disabled_at')
