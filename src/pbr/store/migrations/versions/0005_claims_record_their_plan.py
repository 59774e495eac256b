"""claims record their plan; a submitted claim's every column is frozen

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 11:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


IMMUTABLE = "claim is immutable once submitted: record a correction (pbr claim recover) instead"

# every column but `status`, which moves from submitted to paid and nowhere else
FROZEN = ("ref", "window_id", "evidence_date", "opens", "closes", "results_payment_pence", "sample_seed",
          "full_review_by", "full_review_note", "late_reason", "submitted_by", "submitted_at", "created_at",
          "plan_name", "plan_sha256", "plan_text")
FROZEN_BEFORE = FROZEN[:-3]


def _unchanged(columns, same: str) -> str:
    return " AND ".join(f"NEW.{column} {same} OLD.{column}" for column in columns)


def _sqlite_trigger(columns) -> str:
    return f"""CREATE TRIGGER claims_immutable BEFORE UPDATE ON claims
    WHEN OLD.status IN ('submitted', 'paid') AND NOT (
        OLD.status = 'submitted' AND NEW.status = 'paid' AND {_unchanged(columns, "IS")})
    BEGIN SELECT RAISE(ABORT, '{IMMUTABLE}'); END"""


def _postgres_function(columns) -> str:
    return f"""CREATE OR REPLACE FUNCTION pbr_claims_immutable() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        IF OLD.status IN ('submitted', 'paid') THEN RAISE EXCEPTION '{IMMUTABLE}'; END IF;
        RETURN OLD;
      END IF;
      IF OLD.status IN ('submitted', 'paid') AND NOT (
          OLD.status = 'submitted' AND NEW.status = 'paid' AND {_unchanged(columns, "IS NOT DISTINCT FROM")}) THEN
        RAISE EXCEPTION '{IMMUTABLE}';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql"""


def _freeze(columns) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_postgres_function(columns))
    else:
        op.execute("DROP TRIGGER IF EXISTS claims_immutable")
        op.execute(_sqlite_trigger(columns))


def upgrade() -> None:
    # plain ALTER TABLE on both databases: a rebuilt table would lose the triggers of 0002
    op.add_column('claims', sa.Column('plan_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
    op.add_column('claims', sa.Column('plan_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.add_column('claims', sa.Column('plan_text', sa.Text(), nullable=True))
    _freeze(FROZEN)


def downgrade() -> None:
    _freeze(FROZEN_BEFORE)
    with op.batch_alter_table('claims', schema=None, recreate="never") as batch_op:
        batch_op.drop_column('plan_text')
        batch_op.drop_column('plan_sha256')
        batch_op.drop_column('plan_name')
