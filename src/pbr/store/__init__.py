"""The database: engine, migrations, and reading feed tables back as polars frames."""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import polars as pl
from sqlalchemy import create_engine, event, false, func, inspect, select, text
from sqlalchemy.engine import Engine

from pbr.contract import DATED_RECORDS, contracts
from pbr.periods import as_utc, utc_now
from pbr.store.models import FEED_MODELS, AuditLog, IngestRun, QuarantineEntry

DEFAULT_URL = "sqlite:///pbr.db"
_POLARS_TYPES = {"date": pl.Date, "int": pl.Int64, "money": pl.Int64}


class StoreMissing(FileNotFoundError):
    """A command that only reads was pointed at a database that is not there."""


def database_url(url: str | None = None) -> str:
    return url or DEFAULT_URL


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite URL (None for another database, or SQLite in memory)."""
    if url.startswith("sqlite:///") and url[len("sqlite:///") :] not in ("", ":memory:"):
        return Path(url[len("sqlite:///") :].split("?", 1)[0])
    return None


def make_engine(url: str, immediate: bool = False) -> Engine:
    """An engine for pbr's database. SQLite: WAL (one writer, readers never blocked) and foreign keys; with
    `immediate`, every transaction takes the write lock at its start instead of at its first write."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60, **({"isolation_level": None} if immediate else {})})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        if immediate:

            @event.listens_for(engine, "begin")
            def _write_lock(connection):  # the driver's own BEGIN would take the lock only at the first write
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


_MIGRATION_LOCK = threading.Lock()  # Alembic keeps module-level state: one migration at a time per process


def _newest_revision() -> str:
    """The newest revision pbr ships: its migrations are named by their revision, in order (0001_..., 0002_...)."""
    return max(p.name.split("_", 1)[0] for p in (Path(__file__).parent / "migrations" / "versions").glob("[0-9]*_*.py"))


def _at_newest(engine: Engine) -> bool:
    """Whether the database stands at the newest revision, asked without loading Alembic (a command that only
    reads starts faster)."""
    try:
        with engine.connect() as connection:
            found = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except Exception:  # no such table yet: a new database
        return False
    return found == [_newest_revision()]


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (nothing to do when it is there already)."""
    if _at_newest(engine):
        return
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as connection:
        if MigrationContext.configure(connection).get_current_revision() == head:
            return
    with _MIGRATION_LOCK, _exclusive(engine) as connection:
        # another process may have migrated while this one waited for the lock
        if MigrationContext.configure(connection).get_current_revision() == head:
            return
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


PBR_LOCK_KEY = 0x70627231  # "pbr1": pbr's advisory lock on a PostgreSQL database


@contextmanager
def _exclusive(engine: Engine):
    """A transaction no other pbr writer runs beside, whatever it reads first: two first opens never race in the
    migration, two loads never compute the same new rows. PostgreSQL: an advisory lock held to the end of the
    transaction; SQLite: the database's write lock from the transaction's start."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PBR_LOCK_KEY})
            yield connection
        return
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            yield connection
        return
    immediate = make_engine(engine.url.render_as_string(hide_password=False), immediate=True)
    try:
        with immediate.begin() as connection:
            yield connection
    finally:
        immediate.dispose()


def _temporal(name: str, dtype, values: list) -> pl.Series:
    """Dates come back as dates from PostgreSQL and, through raw SQL, as ISO text from SQLite; moments are read
    back as aware UTC timestamps, as pbr writes them."""
    if dtype == pl.Date:
        return pl.Series(name, [dt.date.fromisoformat(v) if isinstance(v, str) else v for v in values], dtype=pl.Date)
    moments = [as_utc(dt.datetime.fromisoformat(v) if isinstance(v, str) else v) for v in values]
    return pl.Series(name, moments, dtype=pl.Datetime("us", "UTC"))


# the types PostgreSQL's CSV text gives back exactly (booleans and timestamps it writes its own way)
_COPIED_TYPES = {pl.String, pl.Int64, pl.Date}


def read_through_cursor(connection, query, schema: dict, batch: int = 200_000) -> pl.DataFrame:
    """A query without parameters, fetched on `connection` by the driver's own cursor; columns named by `schema`.

    SQLAlchemy builds an object per row, which costs more than the query itself on a big table. SQLite hands
    dates back as ISO text, parsed here. PostgreSQL writes the rows as CSV, which polars parses without a
    Python object per value.
    """
    sql = str(query.compile(dialect=connection.dialect))
    if connection.dialect.name == "postgresql" and set(schema.values()) <= _COPIED_TYPES:
        return _read_by_copy(connection, sql, schema)
    dates_as_text = connection.dialect.name == "sqlite"
    wire = {name: pl.String if dates_as_text and dtype == pl.Date else dtype for name, dtype in schema.items()}
    parts = [pl.DataFrame(schema=wire)]
    cursor = connection.connection.cursor()
    try:
        # empty parameters still make the driver read its escapes (PostgreSQL's compiled `%%` is a literal `%`)
        cursor.execute(sql, ())
        # a batch at a time, so a national table never sits in memory as Python tuples all at once
        while rows := cursor.fetchmany(batch):
            parts.append(pl.DataFrame(rows, schema=wire, orient="row"))
    finally:
        cursor.close()
    frame = pl.concat(parts, rechunk=True)
    if dates_as_text:
        frame = frame.with_columns(
            pl.col(name).str.to_date("%Y-%m-%d") for name, dtype in schema.items() if dtype == pl.Date
        )
    return frame


def _read_by_copy(connection, sql: str, schema: dict) -> pl.DataFrame:
    """The rows of a query as PostgreSQL's COPY writes them in CSV: NULL unquoted and empty, as polars reads it."""
    data = io.BytesIO()
    cursor = connection.connection.cursor()
    try:
        cursor.execute("SET LOCAL DateStyle TO ISO")  # dates as YYYY-MM-DD whatever the server's setting
        # the compiled query's `%%` is a literal `%` only where the driver reads escapes
        with cursor.copy(f"COPY ({sql.replace('%%', '%')}) TO STDOUT WITH (FORMAT csv)") as copy:
            data.writelines(copy)  # a block per row: the loop runs in C
    finally:
        cursor.close()
    if data.tell() == 0:
        return pl.DataFrame(schema=schema)
    data.seek(0)
    return pl.read_csv(data, has_header=False, new_columns=list(schema), schema=schema, encoding="utf8")


def insert_frame(
    connection,
    model,
    frame: pl.DataFrame,
    constants: dict,
    chunk: int = 20_000,
    written: Callable[[int], None] | None = None,
) -> None:
    """A frame's rows (plus `constants` in every row) into a table, inside the caller's transaction.

    SQLAlchemy's insert builds every row's parameters in Python, most of an ingest's time; PostgreSQL takes the
    rows by COPY, SQLite (pbr's other database) by one prepared statement run for each row. `written` is told
    the rows done after each chunk, for a progress bar.
    """
    if frame.height == 0:
        return
    frame = frame.with_columns(pl.lit(value).alias(name) for name, value in constants.items())
    quote = connection.dialect.identifier_preparer.quote
    target = f"{quote(model.name)} ({', '.join(quote(name) for name in frame.columns)})"
    postgres = connection.dialect.name == "postgresql"
    if not postgres:  # SQLite keeps dates and moments as ISO text, as SQLAlchemy writes them (moments in UTC)
        moments = [c for c, dtype in frame.schema.items() if isinstance(dtype, pl.Datetime)]
        frame = frame.with_columns(pl.col(pl.Date).dt.strftime("%Y-%m-%d")).with_columns(
            (pl.col(c).dt.convert_time_zone("UTC") if frame.schema[c].time_zone else pl.col(c)).dt.strftime(
                "%Y-%m-%d %H:%M:%S%.6f"
            )
            for c in moments
        )
    cursor = connection.connection.cursor()  # the transaction's own connection
    try:
        for start in range(0, frame.height, chunk):
            rows = frame.slice(start, chunk)
            if postgres:
                with cursor.copy(f"COPY {target} FROM STDIN") as copy:
                    for row in rows.iter_rows():
                        copy.write_row(row)
            else:
                cursor.executemany(f"INSERT INTO {target} VALUES ({', '.join('?' * frame.width)})", rows.rows())
            if written:
                written(start + rows.height)
    finally:
        cursor.close()


class Store:
    """A database holding pbr's records; migrated to the newest schema on first use."""

    def __init__(self, url: str | None = None, upgrade: bool = True, create: bool = True):
        self.url = database_url(url)
        path = sqlite_path(self.url)
        if path is not None and not create and not path.exists():
            raise StoreMissing(f"no pbr database at {path}: run in the folder that holds it, or pass --db")
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(self.url)
        if upgrade:
            migrate(self.engine)

    def read(self, query, schema: dict | None = None) -> pl.DataFrame:
        plain = (
            schema is not None
            and pl.Datetime not in schema.values()
            and not query.compile(dialect=self.engine.dialect).params
        )
        with self.engine.connect() as connection:
            if plain:
                return read_through_cursor(connection, query, schema)
            result = connection.execute(query)
            rows = result.fetchall()
            columns = list(result.keys())
        if not rows:
            return pl.DataFrame(schema=schema or {c: pl.String for c in columns})
        if schema is None:
            return pl.DataFrame([tuple(r) for r in rows], schema=columns, orient="row")
        data = {name: [r[i] for r in rows] for i, name in enumerate(schema)}
        frame = pl.DataFrame(
            {
                name: pl.Series(
                    name,
                    values,
                    dtype=pl.Object if schema[name] in (pl.Date, pl.Datetime) else schema[name],
                    strict=False,
                )
                for name, values in data.items()
            }
        )
        return frame.with_columns(
            [_temporal(name, schema[name], data[name]) for name in schema if schema[name] in (pl.Date, pl.Datetime)]
        )

    def load_tables(self, family_id: str | None = None, provenance: bool = False) -> dict[str, pl.DataFrame]:
        """Every feed table, typed as validation would type it; with `family_id`, that family's records only; with
        `provenance`, each record's source file, load and row too.

        The term calendar is whole either way; grant payments belong to no family.
        """
        members = FEED_MODELS["members"].__table__
        tables = {}
        for name, contract in contracts().items():
            model = FEED_MODELS[name].__table__
            columns = list(contract.columns)
            schema = {c: _POLARS_TYPES.get(contract.columns[c].type, pl.String) for c in columns}
            if provenance:
                columns = [*columns, "source", "load_id", "source_row"]
                schema |= {"source": pl.String, "load_id": pl.Int64, "source_row": pl.Int64}
            query = select(*[model.c[c] for c in columns])
            if family_id is not None and name != "terms":
                if "family_id" in columns:
                    query = query.where(model.c.family_id == family_id)
                elif "person_id" in columns:
                    query = query.where(
                        model.c.person_id.in_(select(members.c.person_id).where(members.c.family_id == family_id))
                    )
                else:
                    query = query.where(false())
            frame = self.read(query, schema=schema)
            if name == "assessments":
                frame = frame.with_columns(pl.col("score").cast(pl.Decimal(38, 9)))
            tables[name] = frame
        return tables

    def quarantine_frame(self, family_id: str | None = None, source: str | None = None) -> pl.DataFrame:
        """What is held; or only the entries linked to one family, or from one file (a workbook: all its sheets;
        the name in any case)."""
        q = QuarantineEntry.__table__.c
        query = select(
            q.source,
            q.table_name.label("table"),
            q.row_number.label("row"),
            q.column_name.label("column"),
            q.value,
            q.reason,
            q.family_id,
            q.person_id,
        )
        if family_id is not None:
            query = query.where(q.family_id == family_id)
        if source is not None:  # file names match case-insensitively (feeds.md), on every database alike
            named = func.lower(q.source)
            query = query.where((named == source.lower()) | named.startswith(source.lower() + ":", autoescape=True))
        if family_id is not None or source is not None:
            query = query.order_by(q.source, q.row_number)
        return self.read(
            query,
            schema={
                "source": pl.String,
                "table": pl.String,
                "row": pl.Int64,
                "column": pl.String,
                "value": pl.String,
                "reason": pl.String,
                "family_id": pl.String,
                "person_id": pl.String,
            },
        )

    def live_claim_lines(self, as_at: dt.date | None = None) -> pl.DataFrame:
        """Families claimed: live lines of submitted or paid claims, not recovered (by `as_at`, when given).

        Columns family_id, claim_route, claim_date (the claim's evidence date), claim_ref. With `as_at`, only claims
        whose evidence date is on or before it, less recoveries booked by then.
        """
        schema = {"family_id": pl.String, "claim_route": pl.String, "claim_date": pl.Date, "claim_ref": pl.String}
        if not inspect(self.engine).has_table("claim_lines"):
            return pl.DataFrame(schema=schema)
        day = "AND c.evidence_date <= :day" if as_at else ""
        booked = "AND r.booked_on <= :day" if as_at else ""
        query = text(
            "SELECT l.family_id, l.claim_route, c.evidence_date AS claim_date, c.ref AS claim_ref FROM claim_lines l "
            "JOIN claims c ON c.ref = l.claim_ref WHERE l.status = 'live' AND c.status IN ('submitted', 'paid') "
            f"{day} AND NOT EXISTS (SELECT 1 FROM recoveries r WHERE r.line_id = l.id {booked})"
        )
        return self.read(query.bindparams(day=as_at) if as_at else query, schema=schema)

    def load_history(self) -> dict:
        """What the records held come from, for a run record: each file source's latest load, the number of form
        entries, and the last load and audit entry (both append-only, so together they pin the state evaluated)."""
        runs = IngestRun.__table__.c
        with self.engine.connect() as connection:
            latest = (
                select(runs.source, func.max(runs.id).label("id"))
                .where(runs.status == "loaded")
                .group_by(runs.source)
                .subquery()
            )
            files = (
                connection.execute(
                    select(
                        runs.source,
                        runs.table_name,
                        runs.sha256,
                        runs.finished_at,
                        runs.rows_read,
                        runs.loaded,
                        runs.unchanged,
                        runs.quarantined,
                    )
                    .join(latest, runs.id == latest.c.id)
                    .where(~runs.source.startswith("web:"))
                    .order_by(runs.source)
                )
                .mappings()
                .all()
            )
            forms = connection.execute(
                select(func.count()).where((runs.status == "loaded") & runs.source.startswith("web:"))
            ).scalar_one()
        _, last_load, _, last_audit = self.change_marker()
        return {
            "url": self.engine.url.render_as_string(hide_password=True),
            "last_load_id": last_load,
            "last_audit_entry_id": last_audit,
            "form_entries": forms,
            "files": [
                {
                    "file": f["source"],
                    "table": f["table_name"],
                    "sha256": f["sha256"],
                    "loaded_at": f["finished_at"].isoformat(timespec="seconds") if f["finished_at"] else None,
                    "rows_read": f["rows_read"],
                    "loaded": f["loaded"],
                    "unchanged": f["unchanged"],
                    "quarantined": f["quarantined"],
                }
                for f in files
            ],
        }

    def change_marker(self) -> tuple:
        """A value that changes whenever records load (files or forms) or an audited action (a claim step) lands."""
        with self.engine.connect() as connection:
            return tuple(
                connection.execute(
                    text(
                        "SELECT (SELECT COUNT(*) FROM ingest_runs), (SELECT MAX(id) FROM ingest_runs), "
                        "(SELECT COUNT(*) FROM audit_log), (SELECT MAX(id) FROM audit_log)"
                    )
                ).one()
            )

    def newest_record_date(self) -> dt.date | None:
        """The newest day any record carries, as `evaluate.newest_record` finds it in files: after it, a decision
        assumes nothing happened."""
        parts = [f"(SELECT MAX({column}) FROM {table})" for table, column in DATED_RECORDS.items()]
        parts += [
            "(SELECT MAX(end_date) FROM episodes)",
            "(SELECT MAX(t.end_date) FROM attendance a JOIN terms t ON a.term_id = t.term_id)",
        ]
        with self.engine.connect() as connection:
            found = [value for value in connection.execute(text("SELECT " + ", ".join(parts))).one() if value]
        days = [value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10]) for value in found]
        return max(days, default=None)

    def writing(self):
        """A transaction no other pbr writer runs beside (see `_exclusive`): for work that reads what it then
        writes, such as a load deciding which of its rows are new."""
        return _exclusive(self.engine)

    def audit(
        self, connection, actor: str, action: str, entity: str, entity_id: str, detail: str | None = None
    ) -> None:
        connection.execute(
            AuditLog.__table__.insert().values(
                at=utc_now(), actor=actor, action=action, entity=entity, entity_id=entity_id, detail=detail
            )
        )
