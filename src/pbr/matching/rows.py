"""Partner files read and checked: every row with its identity as sent, its table's own values, a digest that
recognises it when the file is sent again, and either its typed values or why it is quarantined."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pbr.contract import PARTNER_PREFIX, partner_contracts
from pbr.feeds import FileReport, Known, reports_for
from pbr.feeds.read import ROW, SOURCE, ReadResult, read_path
from pbr.feeds.validate import validate

IDENTITY = ("given_name", "family_name", "date_of_birth", "sex", "postcode", "uprn", "partner_ref")
ROW_SCHEMA = {
    "source": pl.String,
    "table_name": pl.String,
    "row_number": pl.Int64,
    "row_digest": pl.String,
    **{c: pl.String for c in IDENTITY},
    "payload": pl.String,
    "reason": pl.String,
}


@dataclass
class PartnerRead:
    """The rows of every partner file read (ROW_SCHEMA; `reason` set on a quarantined row), their typed good
    values by table, the file reports and what was not read."""

    rows: pl.DataFrame
    typed: dict[str, pl.DataFrame]
    files: list[FileReport]
    quarantine: pl.DataFrame  # QUARANTINE_SCHEMA
    ignored: list[str] = field(default_factory=list)


def own_columns(table: str) -> list[str]:
    """A partner table's own columns: its contract's, less the identity."""
    return [c for c in partner_contracts()[PARTNER_PREFIX + table].columns if c not in IDENTITY]


def _refuse_keyed_files(read: ReadResult) -> None:
    """A file that carries `person_id` is the council's own feed: matching it would throw the id away."""
    for f in read.files:
        if f.rejected is None and "person_id" in f.ignored_columns:
            f.rejected = "carries person_id: it is a feed of records already keyed to members; load it with pbr ingest"


def _digests(frame: pl.DataFrame, columns: list[str]) -> pl.Series:
    """The same row sent again has the same digest: its source, its values and its place among identical rows."""
    values = pl.concat_str([pl.col(SOURCE), *[pl.col(c).fill_null("\x00") for c in columns]], separator="\x1f")
    text = (
        frame.select(values.alias("__values"))
        .select(pl.col("__values") + pl.lit("\x1e") + pl.int_range(pl.len()).over("__values").cast(pl.String))
        .to_series()
    )
    return pl.Series([hashlib.sha256(t.encode()).hexdigest() for t in text.to_list()], dtype=pl.String)


def _rows_of(source_file, quarantine: pl.DataFrame) -> pl.DataFrame:
    table = source_file.table.removeprefix(PARTNER_PREFIX)
    own = own_columns(table)
    frame = source_file.frame
    columns = [*IDENTITY, *own]
    held = quarantine.filter(pl.col("source") == source_file.source).select(pl.col("row").alias(ROW), pl.col("reason"))
    return (
        frame.with_columns(_digests(frame, columns).alias("row_digest"))
        .join(held, on=ROW, how="left")
        .select(
            pl.col(SOURCE).alias("source"),
            pl.lit(table).alias("table_name"),
            pl.col(ROW).alias("row_number"),
            "row_digest",
            *IDENTITY,
            pl.struct(own).struct.json_encode().alias("payload"),
            "reason",
        )
        .cast(ROW_SCHEMA)
    )


def read_partner_files(
    path: str | Path, themes: list[str], today: dt.date, known: Known, vocabularies: dict
) -> PartnerRead:
    """Every partner file at `path` (a file, a folder or a workbook) read and checked as feeds.md and matching.md
    say; a file missing an identity column, or carrying person_id, is refused whole."""
    read = read_path(path, partner=True)
    _refuse_keyed_files(read)
    validated = validate(
        read.files, themes, today=today, known=known, vocabularies=vocabularies, tables_read=partner_contracts()
    )
    reports = reports_for(read, validated)
    parts = [_rows_of(f, validated.quarantine) for f in read.files if f.rejected is None and f.frame is not None]
    rows = pl.concat(parts) if parts else pl.DataFrame(schema=ROW_SCHEMA)
    typed = {
        name.removeprefix(PARTNER_PREFIX): frame.rename({ROW: "row_number", SOURCE: "source"})
        for name, frame in validated.tables.items()
        if name.startswith(PARTNER_PREFIX)
    }
    for report in reports:
        report.table = report.table.removeprefix(PARTNER_PREFIX)
    return PartnerRead(rows, typed, reports, validated.quarantine, read.ignored)
