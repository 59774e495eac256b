"""Input feeds: read CSV folders and workbooks, validate every row, keep bad rows in quarantine."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pbr.contract import contracts, table_for_stem
from pbr.feeds.read import ROW, SOURCE, ReadResult, SourceFile, read_path
from pbr.feeds.validate import QUARANTINE_SCHEMA, Known, Validated, validate


class DatasetError(ValueError):
    """A data set that cannot be used at all (a file rejected whole, a required file missing)."""


@dataclass
class FileReport:
    source: str
    table: str
    sha256: str
    rows_read: int = 0
    loaded: int = 0
    unchanged: int = 0
    quarantined: int = 0
    rejected: str | None = None
    retired: int = 0  # keyless records of the source a complete extract no longer holds (not part of rows read)


@dataclass
class Dataset:
    """Validated records ready for the engine: typed good rows per table, and the quarantine."""

    tables: dict[str, pl.DataFrame]
    quarantine: pl.DataFrame
    files: list[FileReport] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> list[FileReport]:
        return [f for f in self.files if f.rejected]


def reports_for(read: ReadResult, validated: Validated | None) -> list[FileReport]:
    reports = []
    for f in read.files:
        report = FileReport(f.source, f.table, f.sha256, rows_read=f.rows_read, rejected=f.rejected)
        if f.rejected is None and validated is not None:
            report.quarantined = validated.quarantined_in(f.source)
        reports.append(report)
    return reports


def read_dataset(
    path: str | Path,
    themes: list[str],
    today: dt.date | None = None,
    require: tuple[str, ...] = ("families", "members"),
    vocabularies: dict | None = None,
) -> Dataset:
    """Read and validate a data set for evaluation; refuses one with a file rejected whole."""
    read = read_path(path)
    rejected = [f for f in read.files if f.rejected]
    if rejected:
        first = rejected[0]
        raise DatasetError(f"{first.source} is rejected whole: {first.rejected}")
    present = {f.table for f in read.files}
    missing = [t for t in require if t not in present]
    if "attendance" in present and "terms" not in present:
        missing.append("terms")  # feeds.md: the term calendar is required when attendance is present
    if missing:
        raise DatasetError(f"{path}: no {', '.join(m + '.csv' for m in missing)} (required)")
    validated = validate(read.files, themes, today=today, vocabularies=vocabularies)
    files = reports_for(read, validated)
    for report in files:
        report.loaded = report.rows_read - report.quarantined
    return Dataset(validated.tables, validated.quarantine, files, read.ignored)


__all__ = [
    "QUARANTINE_SCHEMA",
    "ROW",
    "SOURCE",
    "Dataset",
    "DatasetError",
    "FileReport",
    "Known",
    "SourceFile",
    "Validated",
    "contracts",
    "read_dataset",
    "read_path",
    "reports_for",
    "table_for_stem",
    "validate",
]
