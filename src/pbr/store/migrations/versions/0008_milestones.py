"""the way of working: milestones a keyworker records for a family

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 16:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'milestones',
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('load_id', sa.Integer(), nullable=True),
        sa.Column('family_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('milestone', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column('milestone_date', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('family_id', 'milestone', 'milestone_date'),
    )
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_milestones_load_id'), ['load_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_milestones_load_id'))
    op.drop_table('milestones')
