"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

import pbr.claims as claims
import pbr.store
from conftest import head_revision
from pbr.store import Store
from pbr.store.models import FEED_MODELS


def test_migrations_match_the_models(db_url):
    store = Store(db_url)
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), SQLModel.metadata)
    assert diff == []
    names = set(inspect(store.engine).get_table_names())
    assert {m.__tablename__ for m in FEED_MODELS.values()} | {"quarantine", "ingest_runs", "audit_log"} <= names


def revision(store: Store) -> str | None:
    with store.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_opening_twice_leaves_the_schema_at_the_newest_revision(db_url):
    first = Store(db_url)
    tables = sorted(inspect(first.engine).get_table_names())
    second = Store(db_url)
    assert revision(first) == revision(second) == head_revision()
    assert sorted(inspect(second.engine).get_table_names()) == tables


def test_two_first_opens_at_once_do_not_race_in_the_migration(db_url):
    """Two processes opening a new database at the same moment: one migrates, the other waits and finds it done."""
    import subprocess
    import sys

    opener = "import sys; from pbr.store import Store; Store(sys.argv[1]); print('open')"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", opener, db_url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    results = [process.communicate(timeout=180) for process in processes]
    assert [out.strip() for out, _ in results] == ["open"] * 3, [err for _, err in results]
    assert revision(Store(db_url)) == head_revision()


def test_claims_from_before_0005_keep_their_immutability_and_still_submit(db_url):
    engine = create_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(Path(pbr.store.__file__).parent / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
        for ref, status in (("OLD-1", "submitted"), ("OLD-2", "sampled")):
            connection.execute(
                text(
                    "INSERT INTO claims (ref, window_id, evidence_date, status, results_payment_pence, created_at) "
                    f"VALUES ('{ref}', 'OLD', '2017-10-31', '{status}', 80000, '2017-11-01 00:00:00')"
                )
            )
        connection.execute(
            text(
                "INSERT INTO claim_lines (claim_ref, family_id, attachment_date, themes_at_attachment, claim_route, "
                "amount_pence, evidence, status, sampled) VALUES ('OLD-2', 'F01', '2016-09-15', 'crime_asb', 'ssp', "
                "80000, '', 'live', false)"
            )
        )
    engine.dispose()
    store = Store(db_url)  # upgrades to the newest revision
    with pytest.raises(Exception, match="immutable"):
        with store.engine.begin() as connection:
            connection.execute(text("UPDATE claims SET plan_text = 'name: x' WHERE ref = 'OLD-1'"))
    # no plan was kept before 0005, so there is nothing to decide again by: F01 is in no records, yet submits
    assert claims.submit(store, "OLD-2", "coordinator", today=dt.date(2017, 11, 2)) == 1


def test_0005_goes_down_and_up_again_keeping_claims_frozen(db_url):
    store = Store(db_url)
    config = Config()
    config.set_main_option("script_location", str(Path(pbr.store.__file__).parent / "migrations"))
    for target in ("0004", "head"):
        with store.engine.begin() as connection:
            config.attributes["connection"] = connection
            if target == "0004":
                command.downgrade(config, target)
            else:
                command.upgrade(config, target)
        columns = {c["name"] for c in inspect(store.engine).get_columns("claims")}
        assert ("plan_text" in columns) is (target == "head")
        with store.engine.begin() as connection:
            connection.execute(
                text(
                    f"INSERT INTO claims (ref, window_id, evidence_date, status, results_payment_pence, "
                    f"created_at) VALUES ('R-{target}', 'W', '2017-10-31', 'submitted', 80000, "
                    "'2017-11-01 00:00:00')"
                )
            )
        with pytest.raises(Exception, match="immutable"):
            with store.engine.begin() as connection:
                connection.execute(
                    text(f"UPDATE claims SET status = 'paid', closes = '2030-01-01' WHERE ref = 'R-{target}'")
                )


def test_0006_goes_down_and_up_again_and_existing_users_start_enabled(db_url):
    store = Store(db_url)
    config = Config()
    config.set_main_option("script_location", str(Path(pbr.store.__file__).parent / "migrations"))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")
    assert not {"disabled_at", "session_epoch"} & {c["name"] for c in inspect(store.engine).get_columns("users")}
    with store.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (name, role, password_hash, created_at) "
                "VALUES ('jo', 'coordinator', 'x', '2017-11-01 00:00:00')"
            )
        )
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT disabled_at, session_epoch FROM users WHERE name = 'jo'")).one() == (
            None,
            0,
        )


def test_the_quick_revision_check_finds_the_head_alembic_finds():
    """A command that only reads checks the revision without loading Alembic, from the migrations' file names."""
    from pbr.store import _newest_revision

    assert _newest_revision() == head_revision()
