"""Shared fixtures: the public examples, data-set builders, databases (SQLite and PostgreSQL), the CLI."""

from __future__ import annotations

import csv
import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEAMS = Path(__file__).resolve().parent / "seams"  # small programs that stop pbr where a test needs it stopped
# a copy of the spec's public examples and the spec files the tests read, kept identical to the shared folder
# beside the project by tests/test_shared_copy.py, so a fresh clone tests itself
SHARED_COPY = Path(__file__).resolve().parent / "shared"
SHARED = ROOT.parent / "shared"  # the spec and examples every developer and CI run has beside the project
EXAMPLES = Path(os.environ.get("PBR_EXAMPLES") or SHARED_COPY / "examples")
SPEC = EXAMPLES.parent / "spec"
PG_URL = os.environ.get("PBR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
PBR = [sys.executable, "-m", "pbr.cli"]
_SCHEMAS = itertools.count()

from pbr.contract import contracts  # noqa: E402

pytest_plugins = ["web.support"]  # the web tests' database fixture

# Under CI the property tests draw the same examples every run: a failure there is a failure of the change, and a
# developer's run still explores new ones.
from hypothesis import settings as hypothesis_settings  # noqa: E402

hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") == "true":
    hypothesis_settings.load_profile("ci")


def pytest_configure(config) -> None:
    if not (EXAMPLES / "basic").is_dir():
        pytest.exit(
            f"the spec's example data sets are not at {EXAMPLES} (PBR_EXAMPLES names another folder)", returncode=4
        )


def write_feed(
    folder: Path, table: str, rows: list[dict], name: str | None = None, columns: list[str] | None = None
) -> Path:
    """Write one feed CSV with the contract's columns (or `columns`), values as given."""
    folder.mkdir(parents=True, exist_ok=True)
    columns = columns or list(contracts()[table].columns)
    path = folder / (name or f"{table}.csv")
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


def context_at(store, day, **settings):
    """The application context of `store` standing on `day` (settings such as plan= as given)."""
    from pbr.context import AppContext, FixedClock
    from pbr.settings import Settings

    return AppContext.from_settings(Settings(database_url=store.url, **settings), clock=FixedClock(day), store=store)


def write_dataset(folder: Path, **tables: list[dict]) -> Path:
    """A data set folder: every table given, plus the shipped term calendar unless terms are given."""
    folder.mkdir(parents=True, exist_ok=True)
    for table, rows in tables.items():
        write_feed(folder, table, rows)
    if "terms" not in tables:
        (folder / "terms.csv").write_bytes((ROOT / "schemas" / "terms.csv").read_bytes())
    for required in ("families", "members"):
        if required not in tables:
            write_feed(folder, required, [])
    return folder


def write_council_plan(folder: Path) -> Path:
    """A council's own plan: the shipped one with no reduction asked of crime, so the basic example's F02 is
    claimable under it (and not under the shipped plan)."""
    from pbr.plan import load_plan

    path = folder / "own-plan.yaml"
    path.write_text(load_plan().text.replace("reduction_percent: 33", "reduction_percent: 0"))
    return path


def run_pbr(
    *args: str, cwd: Path | None = None, env: dict | None = None, check: bool = False
) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    result = subprocess.run([*PBR, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"pbr {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def head_revision() -> str:
    """The newest Alembic revision pbr ships: where every opened database stands."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import pbr.store

    config = Config()
    config.set_main_option("script_location", str(Path(pbr.store.__file__).parent / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def line_within(process: subprocess.Popen, seconds: float) -> str:
    """The next line the process writes on its standard output, or "" if none comes within `seconds`."""
    import selectors

    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        return process.stdout.readline() if selector.select(timeout=seconds) else ""


def postgres_available() -> str | None:
    """None when the server answers, else the reason it does not."""
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
        return None
    except Exception as error:  # any failure to connect means: no server for these tests
        return f"no PostgreSQL at {PG_URL}: {str(error).splitlines()[0] if str(error) else type(error).__name__}"


def reset_postgres(schema: str = "public") -> str:
    """An empty schema of its own, so test runs side by side never meet; returns a URL that uses it."""
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        connection.execute(f"CREATE SCHEMA {schema}")
    return PG_URL if schema == "public" else f"{PG_URL}?options=-csearch_path%3D{schema}"


def drop_postgres_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    """A fresh, empty database of each kind pbr supports."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'pbr.db'}"
        return
    reason = postgres_available()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true needs PostgreSQL for the database tests: {reason}")
        pytest.skip(reason)
    schema = f"pbr_test_{os.getpid()}_{next(_SCHEMAS)}"
    yield reset_postgres(schema)
    drop_postgres_schema(schema)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'pbr.db'}"
