"""Alembic environment: pbr passes an open connection; the models' metadata is the target."""

from alembic import context
from sqlmodel import SQLModel

import pbr.store.models  # noqa: F401  (registers the tables)

config = context.config
target_metadata = SQLModel.metadata
connection = config.attributes.get("connection")
if connection is None:
    from pbr.store import database_url, make_engine

    connection = make_engine(database_url(config.get_main_option("sqlalchemy.url"))).connect()


def include_object(obj, name, type_, reflected, compare_to):
    """APScheduler keeps its own job table in the same database; it is not part of pbr's schema."""
    return not (type_ == "table" and name == "apscheduler_jobs")


context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=True,
    compare_type=True,
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
