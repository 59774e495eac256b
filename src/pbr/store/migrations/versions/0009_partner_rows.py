"""partner records without a person_id: match runs, partner rows and what they became; members' UPRN

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 17:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def _text(name: str, length: int, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(_text('uprn', 12))
    op.create_table(
        'match_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        _text('actor', 200, False),
        sa.Column('members', sa.Integer(), nullable=False),
        sa.Column('trained', sa.Text(), nullable=True),
        sa.Column('model_json', sa.Text(), nullable=True),
        sa.Column('thresholds', sa.Text(), nullable=True),
        *[sa.Column(c, sa.Integer(), nullable=False) for c in ('rows_read', 'linked', 'review', 'unmatched', 'quarantined')],
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'partner_rows',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        _text('source', 300, False),
        _text('table_name', 50, False),
        sa.Column('row_number', sa.Integer(), nullable=False),
        _text('row_digest', 64, False),
        sa.Column('latest', sa.Boolean(), nullable=False),
        sa.Column('read_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        _text('given_name', 200),
        _text('family_name', 200),
        _text('date_of_birth', 40),
        _text('sex', 40),
        _text('postcode', 40),
        _text('uprn', 40),
        _text('partner_ref', 100),
        sa.Column('payload', sa.Text(), nullable=True),
        _text('status', 20, False),
        _text('person_id', 100),
        _text('best_person_id', 100),
        sa.Column('match_probability', sa.Float(), nullable=True),
        sa.Column('match_weight', sa.Float(), nullable=True),
        sa.Column('second_weight', sa.Float(), nullable=True),
        sa.Column('candidates', sa.Text(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        _text('link_id', 40),
        _text('record_key', 400),
        _text('decided_by', 200),
        sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('partner_rows', schema=None) as batch_op:
        batch_op.create_index('ix_partner_rows_run_id', ['run_id'], unique=False)
        batch_op.create_index('ix_partner_rows_row_digest', ['row_digest'], unique=False)
        batch_op.create_index('ix_partner_rows_person_id', ['person_id'], unique=False)
        batch_op.create_index('ix_partner_rows_source_latest', ['source', 'latest'], unique=False)


def downgrade() -> None:
    op.drop_table('partner_rows')
    op.drop_table('match_runs')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('uprn')
