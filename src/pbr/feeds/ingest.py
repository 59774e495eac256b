"""`pbr ingest`: validated records into the database, one transaction per file, nothing lost.

Per file: rows read = loaded (new or changed) + unchanged (already stored as they are) + quarantined.
Keyed records replace the stored row with the same key (the replacement is logged as a correction);
keyless records are identified by source, content and occurrence number, so a re-sent file or a
cumulative extract adds only what is new. Loaded as a complete extract, a file also retires its source's keyless
records it no longer holds (an episode since closed, an incident since withdrawn): each is deleted and its
content kept in the corrections log. The quarantine keeps, per source, the bad rows of its latest load.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from sqlalchemy import delete, select, tuple_, update

from pbr.contract import contracts
from pbr.feeds import FileReport, Known, reports_for
from pbr.feeds.read import ROW, SOURCE, read_path
from pbr.feeds.validate import validate
from pbr.periods import utc_now
from pbr.store import Store, insert_frame, read_through_cursor
from pbr.store.models import FEED_MODELS, Correction, IngestRun, QuarantineEntry


@dataclass
class IngestResult:
    files: list[FileReport]
    ignored: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> list[FileReport]:
        return [f for f in self.files if f.rejected]

    def total(self, name: str) -> int:
        return sum(getattr(f, name) for f in self.files if not f.rejected)

    def summary(self) -> str:
        retired = self.total("retired")
        return (
            f"loaded {self.total('loaded')} rows, quarantined {self.total('quarantined')} rows, "
            f"unchanged {self.total('unchanged')} rows"
            + (f", retired {retired} records no longer in their complete extract" if retired else "")
        )


def _canonical(frame: pl.DataFrame, columns: list[str]) -> pl.Expr:
    """The record's content as text: parsed values, so CSV and workbook give the same identity."""
    parts = []
    for c in columns:
        dtype = frame.schema[c]
        value = pl.col(c).dt.strftime("%Y-%m-%d") if dtype == pl.Date else pl.col(c).cast(pl.String)
        if isinstance(dtype, pl.Decimal):
            value = value.str.strip_chars_end("0").str.strip_chars_end(".")
        parts.append(value.fill_null("\x00"))
    return pl.concat_str(parts, separator="\x1f")


def _digest(texts: pl.Series) -> pl.Series:
    return pl.Series([hashlib.sha256(t.encode()).hexdigest() for t in texts.to_list()], dtype=pl.String)


def _db_values(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    """Values as stored, with `source_row`: the row of the file each came from, when it came from one."""
    row = pl.col(ROW) if ROW in frame.columns else pl.lit(None, pl.Int64)
    frame = frame.with_columns(row.cast(pl.Int64).alias("source_row"))
    if table == "assessments":
        return frame.with_columns(pl.col("score").cast(pl.String).str.strip_chars_end("0").str.strip_chars_end("."))
    return frame


def known_ids(store: Store) -> Known:
    from sqlalchemy import text

    return Known(
        families=store.read(text("SELECT family_id FROM families"), schema={"family_id": pl.String}),
        members=store.read(
            text("SELECT person_id, family_id FROM members"), schema={"person_id": pl.String, "family_id": pl.String}
        ),
        terms=store.read(text("SELECT term_id FROM terms"), schema={"term_id": pl.String}),
    )


def ingest(
    path: str | Path,
    store: Store,
    themes: list[str],
    today: dt.date | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    complete: bool = False,
    vocabularies: dict | None = None,
    before_commit: Callable[[str], None] | None = None,
) -> IngestResult:
    """Load a folder, CSV or workbook. `progress(what, rows_done, rows_total)` is called as rows are written.

    With `complete`, each file is its source's complete extract: see the module's docstring. Codes are checked
    against `vocabularies` (the shipped lists by default). `before_commit(source)` is called inside each file's
    transaction, its rows written, just before it commits.
    """
    read = read_path(path)
    validated = validate(
        read.files, themes, today=today or dt.date.today(), known=known_ids(store), vocabularies=vocabularies
    )
    reports = reports_for(read, validated)
    batch = uuid.uuid4().hex[:12]
    order = list(contracts())
    pairs = sorted(
        zip(read.files, reports, strict=True),
        key=lambda p: (order.index(p[0].table) if p[0].table in order else 99, p[0].source),
    )
    total = sum(r.rows_read for _, r in pairs if not r.rejected)
    done = 0
    for source_file, report in pairs:
        if report.rejected:
            _record_rejection(store, batch, source_file, report)
            continue
        good = validated.tables[source_file.table].filter(pl.col(SOURCE) == source_file.source)
        bad = validated.quarantine.filter(pl.col("source") == source_file.source)

        def written(rows: int, what: str = source_file.source, before: int = done) -> None:
            if progress:
                progress(what, before + rows, total)

        _load_file(
            store, batch, source_file, report, good, bad, written, complete=complete, before_commit=before_commit
        )
        done += report.rows_read
        written(0, "", done)
    return IngestResult(files=[r for _, r in pairs], ignored=read.ignored)


def _record_rejection(store: Store, batch: str, source_file, report: FileReport) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            IngestRun.__table__.insert().values(
                batch=batch,
                source=source_file.source,
                table_name=source_file.table,
                file_path=str(source_file.path),
                sha256=source_file.sha256,
                started_at=utc_now(),
                finished_at=utc_now(),
                rows_read=report.rows_read,
                status="rejected",
                message=report.rejected,
            )
        )


@dataclass
class _Load:
    """One file's load: its run's id and the columns every stored row of it carries."""

    load_id: int
    table: str
    source: str
    written: Callable[[int], None] | None

    @property
    def stamp(self) -> dict:
        return {"source": self.source, "load_id": self.load_id}


def _store_keyed(connection, load: _Load, good: pl.DataFrame, key: list[str], columns: list[str]) -> int:
    """New keyed records inserted, changed ones replaced (logged as corrections); returns how many."""
    model = FEED_MODELS[load.table].__table__
    joined = good.join(store_rows(connection, model, key), on=key, how="left")
    new = joined.filter(pl.col("content_hash_stored").is_null())
    changed = joined.filter(
        pl.col("content_hash_stored").is_not_null() & (pl.col("content_hash_stored") != pl.col("content_hash"))
    )
    insert_frame(
        connection,
        model,
        _db_values(new, load.table).select(*columns, "content_hash", "source_row"),
        load.stamp,
        written=load.written,
    )
    if changed.height:
        _replace(connection, model, key, columns, _db_values(changed, load.table), load.stamp, load.load_id, load.table)
    return new.height + changed.height


def _store_keyless(connection, load: _Load, good: pl.DataFrame, columns: list[str], complete: bool) -> tuple[int, int]:
    """Records new to their source inserted; with `complete`, the source's records no longer sent retired.
    Returns how many were inserted and retired."""
    model = FEED_MODELS[load.table].__table__
    # occurrence number among identical rows of this source, in file order
    identity = good.select(
        pl.lit(load.source)
        + pl.lit("\x1e")
        + pl.col("__content")
        + pl.lit("\x1e")
        + pl.int_range(pl.len()).over("content_hash").cast(pl.String)
    ).to_series()
    if "record_key" not in good.columns:  # a partner row brings its own: the row it was loaded from
        good = good.with_columns(_digest(identity).alias("record_key"))
    stored = connection.execute(select(model.c.record_key).where(model.c.source == load.source)).scalars().all()
    existing = pl.DataFrame({"record_key": stored}, schema={"record_key": pl.String})
    new = good.join(existing, on="record_key", how="anti")
    insert_frame(
        connection,
        model,
        _db_values(new, load.table).select(*columns, "content_hash", "record_key", "source_row"),
        load.stamp,
        written=load.written,
    )
    retired = 0
    if complete:
        stale = existing.join(good.select("record_key"), on="record_key", how="anti")
        retired = _retire(
            connection, model, columns, stale.get_column("record_key").to_list(), load.load_id, load.table
        )
    return new.height, retired


def hold_quarantine(connection, load_id: int, source: str, quarantine: pl.DataFrame) -> None:
    """The quarantine of `source` becomes the bad rows of its load `load_id` (QUARANTINE_SCHEMA rows)."""
    _hold(connection, _Load(load_id, "", source, None), quarantine.filter(pl.col("source") == source))


def _hold(connection, load: _Load, bad: pl.DataFrame) -> None:
    """The quarantine of the source becomes this load's bad rows: a corrected file clears what it fixed."""
    entries = QuarantineEntry.__table__
    connection.execute(delete(entries).where(entries.c.source == load.source))
    insert_frame(
        connection,
        entries,
        bad.select(
            pl.col("table").alias("table_name"),
            pl.col("row").alias("row_number"),
            pl.col("column").alias("column_name"),
            "value",
            "reason",
            "family_id",
            "person_id",
        ),
        {"load_id": load.load_id, "source": load.source},
    )


def _load_file(
    store: Store,
    batch: str,
    source_file,
    report: FileReport,
    good: pl.DataFrame,
    bad: pl.DataFrame,
    written: Callable[[int], None] | None = None,
    complete: bool = False,
    before_commit: Callable[[str], None] | None = None,
) -> None:
    """One file's good rows stored and its bad rows held, in one transaction with its run record."""
    table = source_file.table
    contract = contracts()[table]
    columns = list(contract.columns)
    content = good.select(_canonical(good, columns)).to_series()
    good = good.with_columns(content.alias("__content"), _digest(content).alias("content_hash"))
    runs = IngestRun.__table__
    with store.writing() as connection:
        load_id = connection.execute(
            runs.insert().values(
                batch=batch,
                source=source_file.source,
                table_name=table,
                file_path=str(source_file.path),
                sha256=source_file.sha256,
                started_at=utc_now(),
                rows_read=report.rows_read,
                status="running",
            )
        ).inserted_primary_key[0]
        load = _Load(load_id, table, source_file.source, written)
        if contract.key:
            loaded = _store_keyed(connection, load, good, list(contract.key), columns)
        else:
            loaded, report.retired = _store_keyless(connection, load, good, columns, complete)
        _hold(connection, load, bad)
        report.loaded, report.unchanged, report.quarantined = loaded, good.height - loaded, bad.height
        if before_commit is not None:
            before_commit(source_file.source)
        retired = f"complete extract: retired {report.retired} records it no longer holds" if report.retired else None
        connection.execute(
            update(runs)
            .where(runs.c.id == load_id)
            .values(
                finished_at=utc_now(),
                loaded=loaded,
                unchanged=report.unchanged,
                quarantined=bad.height,
                status="loaded",
                message=retired,
            )
        )


def with_content(good: pl.DataFrame, table: str) -> pl.DataFrame:
    """Typed rows with their content as text (`__content`) and its digest (`content_hash`)."""
    content = good.select(_canonical(good, list(contracts()[table].columns))).to_series()
    return good.with_columns(content.alias("__content"), _digest(content).alias("content_hash"))


def store_records(connection, load_id: int, table: str, source: str, good: pl.DataFrame) -> int:
    """Typed rows of one table stored as one load's records, as `ingest` stores a file's good rows (keyless ones
    may bring their own `record_key`); returns how many were new or changed."""
    contract = contracts()[table]
    columns = list(contract.columns)
    load = _Load(load_id, table, source, None)
    good = with_content(good, table)
    if contract.key:
        return _store_keyed(connection, load, good, list(contract.key), columns)
    return _store_keyless(connection, load, good, columns, complete=False)[0]


def store_rows(connection, model, key: list[str]) -> pl.DataFrame:
    schema = {k: (pl.Date if str(model.c[k].type) == "DATE" else pl.String) for k in key}
    schema["content_hash_stored"] = pl.String
    return read_through_cursor(connection, select(*[model.c[k] for k in key], model.c.content_hash), schema)


def _replace(connection, model, key, columns, changed: pl.DataFrame, stamp: dict, load_id: int, table: str) -> None:
    keys = changed.select(key).rows()
    old = {}
    for start in range(0, len(keys), 500):
        part = keys[start : start + 500]
        for row in connection.execute(select(model).where(tuple_(*[model.c[k] for k in key]).in_(part))).mappings():
            old[tuple(row[k] for k in key)] = {c: _jsonable(row[c]) for c in columns}
    corrections = []
    for row in changed.select(*columns, "content_hash", "source_row").to_dicts():
        ident = tuple(row[k] for k in key)
        where = [model.c[k] == row[k] for k in key]
        connection.execute(
            update(model)
            .where(*where)
            .values(
                **{c: row[c] for c in columns if c not in key},
                content_hash=row["content_hash"],
                source_row=row["source_row"],
                **stamp,
            )
        )
        corrections.append(
            {
                "load_id": load_id,
                "table_name": table,
                "record_key": "|".join(map(str, ident)),
                "before": json.dumps(old.get(ident)),
                "after": json.dumps({c: _jsonable(row[c]) for c in columns}),
            }
        )
    connection.execute(Correction.__table__.insert(), corrections)


def _retire(connection, model, columns: list[str], record_keys: list[str], load_id: int, table: str) -> int:
    """Delete keyless records a complete extract no longer holds, keeping each one's content as a correction."""
    for start in range(0, len(record_keys), 500):
        part = record_keys[start : start + 500]
        rows = connection.execute(select(model).where(model.c.record_key.in_(part))).mappings().all()
        connection.execute(
            Correction.__table__.insert(),
            [
                {
                    "load_id": load_id,
                    "table_name": table,
                    "record_key": row["record_key"],
                    "before": json.dumps({"source": row["source"], **{c: _jsonable(row[c]) for c in columns}}),
                    "after": json.dumps(None),
                }
                for row in rows
            ],
        )
        connection.execute(delete(model).where(model.c.record_key.in_(part)))
    return len(record_keys)


def _jsonable(value):
    return value.isoformat() if isinstance(value, dt.date) else value


def save_rows(
    store: Store,
    table: str,
    rows: list[dict],
    source: str,
    themes: list[str],
    today: dt.date | None = None,
    vocabularies: dict | None = None,
) -> dict[str, str]:
    """Records typed into a form: validated by the ingest rules; saved whole, or nothing and the errors by column."""
    from pbr.feeds.read import SourceFile

    contract = contracts()[table]
    frame = pl.DataFrame(
        [
            {c: (str(row.get(c)).strip() or None) if row.get(c) not in (None, "") else None for c in contract.columns}
            for row in rows
        ],
        schema={c: pl.String for c in contract.columns},
    ).with_columns(pl.int_range(2, len(rows) + 2).cast(pl.Int64).alias(ROW), pl.lit(source).alias(SOURCE))
    source_file = SourceFile(
        source=source,
        table=table,
        path=Path(source),
        sha256=hashlib.sha256(frame.write_csv().encode()).hexdigest(),
        frame=frame,
    )
    validated = validate(
        [source_file], themes, today=today or dt.date.today(), known=known_ids(store), vocabularies=vocabularies
    )
    bad = validated.quarantine
    if bad.height:
        errors: dict[str, str] = {}
        for entry in bad.iter_rows(named=True):
            problems = entry["reason"].split("; ")
            for column in entry["column"].split(", "):
                # each field shows its own problems; a problem naming no field first is shown by every field
                own = [p for p in problems if p.startswith(f"{column} ")]
                errors.setdefault(column, "; ".join(own) or entry["reason"])
        return errors
    report = FileReport(source, table, source_file.sha256, rows_read=len(rows))
    _load_file(store, uuid.uuid4().hex[:12], source_file, report, validated.tables[table], bad)
    return {}
