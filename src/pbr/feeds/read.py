"""Reading feed files (CSV folders, single CSVs, xlsx workbooks) into all-text frames with row numbers."""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pbr.feeds.contract import contracts, table_for_stem

ROW = "__row"        # the row number a spreadsheet shows (header = 1)
SOURCE = "__source"  # file name, or "file.xlsx:sheet"


@dataclass
class SourceFile:
    """One table's rows from one file or sheet, every value as text (null when empty)."""
    source: str
    table: str
    path: Path
    sha256: str
    frame: pl.DataFrame | None = None
    rejected: str | None = None
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return 0 if self.frame is None else self.frame.height


@dataclass
class ReadResult:
    files: list[SourceFile]
    ignored: list[str]  # files or sheets that are not a feed table


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _normalise(frame: pl.DataFrame, table: str, source: str, first_row: pl.Series | None = None) -> SourceFile | str:
    """Trim names and values, drop blank rows, check required columns. Returns an error text on rejection."""
    names = [str(c).replace("\ufeff", "").strip().lower() for c in frame.columns]
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        return f"column {', '.join(dupes)} appears more than once"
    frame = frame.rename(dict(zip(frame.columns, names)))
    contract = contracts()[table]
    missing = [c for c in contract.required if c not in frame.columns]
    if missing:
        return f"missing required column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
    own = [c for c in contract.columns if c in frame.columns]
    ignored = [c for c in frame.columns if c not in contract.columns]
    rows = first_row if first_row is not None else pl.int_range(2, frame.height + 2, eager=True)
    frame = frame.select(own).with_columns(
        [pl.col(c).cast(pl.String).str.strip_chars().replace("", None) for c in own]
    ).with_columns(rows.alias(ROW).cast(pl.Int64), pl.lit(source).alias(SOURCE))
    for column in contract.columns:
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(column))
    blank = pl.all_horizontal([pl.col(c).is_null() for c in own]) if own else pl.lit(True)
    if frame.select(blank.any()).item():
        frame = frame.filter(~blank)
    frame = frame.select([*contract.columns, ROW, SOURCE])
    return SourceFile(source=source, table=table, path=Path(), sha256="", frame=frame, ignored_columns=ignored)


def read_csv(path: Path, table: str) -> SourceFile:
    sha = file_sha256(path)
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8",
                          truncate_ragged_lines=False)
    except Exception as error:  # polars raises several types for unreadable input
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return SourceFile(path.name, table, path, sha, rejected=f"cannot be read as CSV: {first}")
    result = _normalise(raw, table, path.name)
    if isinstance(result, str):
        return SourceFile(path.name, table, path, sha, rejected=result)
    result.path, result.sha256 = path, sha
    return result


def _cell_text(value, column_type: str) -> str | None:
    """Turn a workbook cell into the text a CSV would hold, as feeds.md says for workbooks."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if column_type == "date" and value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer() and column_type in ("id", "int", "text", "code"):
            return str(int(value))
        return repr(value)
    return str(value)


def read_workbook(path: Path) -> tuple[list[SourceFile], list[str]]:
    from openpyxl import load_workbook

    sha = file_sha256(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:
        return [SourceFile(path.name, "?", path, sha, rejected=f"cannot be read as a workbook: {error}")], []
    files, ignored = [], []
    try:
        for sheet in book.worksheets:
            table = table_for_stem(sheet.title)
            source = f"{path.name}:{sheet.title}"
            if table is None:
                ignored.append(source)
                continue
            rows = sheet.iter_rows(values_only=True)
            header = next(rows, None)
            if header is None:
                files.append(SourceFile(source, table, path, sha, rejected="the sheet is empty (no header row)"))
                continue
            names = [str(h).strip().lower() if h is not None else "" for h in header]
            types = [contracts()[table].columns[n].type if n in contracts()[table].columns else "text" for n in names]
            columns: list[list] = [[] for _ in names]
            numbers: list[int] = []
            for number, row in enumerate(rows, start=2):
                numbers.append(number)
                for i in range(len(names)):
                    columns[i].append(_cell_text(row[i] if i < len(row) else None, types[i]))
            keep = [i for i, n in enumerate(names) if n]
            frame = pl.DataFrame({names[i]: pl.Series(columns[i], dtype=pl.String) for i in keep})
            result = _normalise(frame, table, source, pl.Series(numbers, dtype=pl.Int64))
            if isinstance(result, str):
                files.append(SourceFile(source, table, path, sha, rejected=result))
            else:
                result.path, result.sha256 = path, sha
                files.append(result)
    finally:
        book.close()
    return files, ignored


def read_path(path: str | Path) -> ReadResult:
    """A folder of CSV (and xlsx) files, one CSV file, or one workbook."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    candidates = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    files: list[SourceFile] = []
    ignored: list[str] = []
    for candidate in candidates:
        suffix = candidate.suffix.lower()
        if suffix == ".xlsx":
            sheets, skipped = read_workbook(candidate)
            files += sheets
            ignored += skipped
        elif suffix == ".csv":
            table = table_for_stem(candidate.stem)
            if table is None:
                ignored.append(candidate.name)
            else:
                files.append(read_csv(candidate, table))
        else:
            ignored.append(candidate.name)
    return ReadResult(files=files, ignored=ignored)
