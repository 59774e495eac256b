"""every record keeps the row of its source file; members may carry an address and a National Insurance number

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 19:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

FEED_TABLES = (
    'families', 'members', 'indicators', 'events', 'episodes', 'attendance', 'terms', 'assessments',
    'milestones', 'grant_payments',
)


def upgrade() -> None:
    for table in FEED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('source_row', sa.Integer(), nullable=True))
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch_op.add_column(sa.Column('ni_number', sqlmodel.sql.sqltypes.AutoString(length=13), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('ni_number')
        batch_op.drop_column('address')
    for table in FEED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('source_row')
