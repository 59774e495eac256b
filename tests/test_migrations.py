"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from pbr.store import Store
from pbr.store.models import FEED_MODELS


def test_migrations_match_the_models(db_url):
    store = Store(db_url)
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), SQLModel.metadata)
    assert diff == []
    names = set(inspect(store.engine).get_table_names())
    assert {m.__tablename__ for m in FEED_MODELS.values()} | {"quarantine", "ingest_runs", "audit_log"} <= names


def test_opening_twice_is_harmless(db_url):
    Store(db_url)
    Store(db_url)
