"""Reading feed files (CSV folders, single CSVs, xlsx workbooks) into all-text frames with row numbers."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pbr.contract import contract_for, table_for_stem
from pbr.resources import load_yaml

ROW = "__row"  # the row number a spreadsheet shows (header = 1)
SOURCE = "__source"  # file name, or "file.xlsx:sheet"
WHOLE_ROW = "(row)"  # the quarantine's column for a fault of the row itself, not of one value
ROW_PROBLEM_SCHEMA = {ROW: pl.Int64, "column": pl.String, "reason": pl.String}


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
    row_problems: pl.DataFrame | None = None  # ROW_PROBLEM_SCHEMA: rows found bad while reading
    # False only where the reader saw every byte and found no NUL: a check per column costs more than damage brings
    may_hold_nul: bool = True

    @property
    def rows_read(self) -> int:
        return 0 if self.frame is None else self.frame.height


@dataclass
class ReadResult:
    files: list[SourceFile]
    ignored: list[str]  # files, folders or sheets not read, each with why


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    return _digest(path)[0]


def _digest(path: Path) -> tuple[str, bool]:
    """SHA-256 of a file's bytes, and whether any of them is NUL (a damaged export), in one reading."""
    digest, nul = hashlib.sha256(), False
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            nul = nul or b"\x00" in block
    return digest.hexdigest(), nul


def column_names(header) -> list[str]:
    """Header cells as pbr matches them: trimmed, lower case, without a byte-order mark."""
    return [str(h).replace("\ufeff", "").strip().lower() if h is not None else "" for h in header]


def _repeated(names: list[str]) -> str | None:
    """The rejection when a column name appears twice: pbr never guesses which copy holds the value."""
    dupes = sorted({n for n in names if n and names.count(n) > 1})
    return f"column {', '.join(dupes)} appears more than once" if dupes else None


def _csv_header(path: Path) -> list[str] | None:
    """The header as written, or None where the file's start is not UTF-8 text.

    polars renames a repeated name (`x_duplicated_0`), which would hide it, and reads a header that is not UTF-8
    without complaint, so that a column named there seems to be missing."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return next(csv.reader(handle), [])
    except UnicodeDecodeError:
        return None
    except csv.Error:
        return []


def _utf8_header(path: Path) -> list[str]:
    """The header as written; raises where the file's start is not UTF-8, which polars would read regardless."""
    header = _csv_header(path)
    if header is None:
        raise UnicodeError("the file is not UTF-8 text")
    return header


def _trimming(frame: pl.LazyFrame, table: str) -> tuple[pl.LazyFrame, list[str], list[str]] | str:
    """The query trimming names and values, with the table's own and its ignored columns; or the rejection.

    Every column is kept in the query, ignored ones too: a reader that skipped a column would not see a row
    holding more values than the header names. The readers have refused a header that names a column twice,
    where they still see it as written."""
    as_read = frame.collect_schema().names()
    names = column_names(as_read)
    contract = contract_for(table)
    missing = [c for c in contract.required if c not in names]
    if missing:
        return f"missing required column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
    own = [c for c in contract.columns if c in names]
    ignored = [c for c in names if c not in contract.columns]
    query = frame.select(
        [
            pl.col(raw).cast(pl.String).str.strip_chars().alias(name) if name in own else pl.col(raw)
            for raw, name in zip(as_read, names, strict=True)
        ]
    )
    return query, own, ignored


def _finished(
    trimmed: pl.DataFrame,
    table: str,
    source: str,
    own: list[str],
    ignored: list[str],
    first_row: pl.Series | None = None,
) -> SourceFile:
    """Empty values as null, row numbers and source added, blank rows dropped, the contract's columns in order."""
    contract = contract_for(table)
    frame = trimmed.select(own)
    rows = first_row if first_row is not None else pl.int_range(2, frame.height + 2, eager=True)
    # an empty field reads as null already; only a value of spaces alone is left empty by trimming
    emptied = [c for c in own if frame.select((pl.col(c).str.len_bytes() == 0).any()).item()]
    frame = frame.with_columns([pl.col(c).replace("", None) for c in emptied]).with_columns(
        rows.alias(ROW).cast(pl.Int64), pl.lit(source).alias(SOURCE)
    )
    for column in contract.columns:
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(column))
    # a blank row is null in every column, so a column without nulls rules one out without a pass
    if not own or all(frame.get_column(c).null_count() for c in own):
        blank = pl.all_horizontal([pl.col(c).is_null() for c in own]) if own else pl.lit(True)
        frame = frame.filter(~blank)
    frame = frame.select([*contract.columns, ROW, SOURCE])
    return SourceFile(source=source, table=table, path=Path(), sha256="", frame=frame, ignored_columns=ignored)


def _normalise(frame: pl.DataFrame, table: str, source: str, first_row: pl.Series | None = None) -> SourceFile | str:
    """Trim names and values, drop blank rows, check required columns. Returns an error text on rejection."""
    trimming = _trimming(frame.lazy(), table)
    if isinstance(trimming, str):
        return trimming
    query, own, ignored = trimming
    return _finished(query.collect(), table, source, own, ignored, first_row)


def read_csv(path: Path, table: str, digest: Future[tuple[str, bool]] | None = None) -> SourceFile:
    """One CSV; `digest`, when given, is `_digest(path)` already under way in another thread."""
    problems, header = None, None
    try:
        header = _utf8_header(path)
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8", truncate_ragged_lines=False)
    except Exception as error:  # polars raises several types for unreadable input
        recovered = _read_with_long_rows(path)
        if recovered is None:
            sha, _ = digest.result() if digest else _digest(path)
            return SourceFile(
                path.name, table, path, sha, rejected=f"cannot be read as CSV: {_unreadable(path, error)}"
            )
        raw, problems = recovered
    result = _repeated(column_names(header or raw.columns)) or _normalise(raw, table, path.name)
    return _with_file(result, path, table, raw.columns, digest, problems)


def _with_file(
    result: SourceFile | str,
    path: Path,
    table: str,
    header: list[str],
    digest: Future[tuple[str, bool]] | None,
    problems: pl.DataFrame | None = None,
) -> SourceFile:
    """The file's rows, or its rejection, with the file's path and SHA-256."""
    sha, nul = digest.result() if digest else _digest(path)
    if isinstance(result, str):
        return SourceFile(path.name, table, path, sha, rejected=result + _separator_hint(header))
    result.path, result.sha256, result.row_problems, result.may_hold_nul = path, sha, problems, nul
    return result


def _read_csvs(tables: dict[Path, str], digests: dict[Path, Future]) -> dict[Path, SourceFile]:
    """Several CSVs read side by side in one polars query; any file polars cannot read whole is read on its own,
    which finds its long rows or says why it cannot be read."""
    queries: dict[Path, tuple[pl.LazyFrame, list[str], list[str]]] = {}
    read: dict[Path, SourceFile] = {}
    for path, table in tables.items():
        try:
            header = _utf8_header(path)
            scan = pl.scan_csv(path, infer_schema=False, encoding="utf8", truncate_ragged_lines=False)
            names = scan.collect_schema().names()
            trimming = _repeated(column_names(header or names)) or _trimming(scan, table)
        except Exception:  # polars raises several types for unreadable input
            read[path] = read_csv(path, table, digests.get(path))
            continue
        if isinstance(trimming, str):
            read[path] = _with_file(trimming, path, table, names, digests.get(path))
        else:
            queries[path] = trimming
    try:
        frames = pl.collect_all([query for query, _, _ in queries.values()])
    except Exception:  # polars raises several types for unreadable input
        return read | {path: read_csv(path, tables[path], digests.get(path)) for path in queries}
    for (path, (_, own, ignored)), frame in zip(queries.items(), frames, strict=True):
        read[path] = _with_file(
            _finished(frame, tables[path], path.name, own, ignored),
            path,
            tables[path],
            frame.columns,
            digests.get(path),
        )
    return read


def _separator_hint(header: list[str]) -> str:
    """Excel in some languages, and 'Text (Tab delimited)', keep values apart with another sign than a comma."""
    for sign, name in ((";", "semicolons"), ("\t", "tabs")):
        if len(header) == 1 and sign in header[0]:
            return f": the header holds {name} where commas belong; save the file as 'CSV UTF-8 (Comma delimited)'"
    return ""


def _unreadable(path: Path, error: Exception) -> str:
    """Why polars could not read a CSV, in words a coordinator can act on, with the line at fault."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as bad:
        line = data[: bad.start].count(b"\n") + 1
        return f"line {line} is not UTF-8 text (byte 0x{data[bad.start]:02X}); save the file as 'CSV UTF-8'"
    quoted = _quote_problem(path)
    if quoted:
        return quoted
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


QUOTE_ADVICE = (
    'a double quote (") inside a value must be written twice (""), and the whole value put in double '
    "quotes; or remove the quote"
)


def _quote_problem(path: Path) -> str | None:
    """The first line where a double quote breaks the file: one in the middle of a value, or one that opens a
    value running on over the following lines. None when the quotes are in order."""
    with open(path, encoding="utf-8-sig", newline="") as handle:  # streamed: the file may be national
        for number, line in enumerate(handle, start=1):
            for value in next(csv.reader([line]), []):
                if '"' in value and value in line:  # written as it reads: not a quoted value with "" in it
                    return (
                        f"line {number} holds a double quote in the middle of a value ({value[:40]!r}): {QUOTE_ADVICE}"
                    )
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        last = 0
        try:
            for _ in reader:
                if reader.line_num - last > 1:
                    return (
                        f"line {last + 1} opens a value with a double quote that is not closed before line "
                        f"{reader.line_num}: {QUOTE_ADVICE}"
                    )
                last = reader.line_num
        except csv.Error:
            return f"line {last + 1} opens a value with a double quote that is never closed: {QUOTE_ADVICE}"
    return None


def _read_with_long_rows(path: Path) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """A CSV some of whose rows hold more values than the header names: its frame, and those rows' problems.

    Empty values past the header lose nothing and pass; a row with more is bad (ROW_PROBLEM_SCHEMA). None when
    the file has no long row, is not UTF-8, or its records cannot be matched one to one with polars' rows: then
    it is rejected whole.
    """
    rows, reasons, records, long_records = [], [], 0, 0
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:  # streamed: the file may be national
            reader = csv.reader(handle, strict=True)
            width = len(next(reader, []))
            for number, record in enumerate(reader, start=2):
                records += 1
                if len(record) <= width:
                    continue
                long_records += 1
                extra = [value for value in record[width:] if value.strip()]
                if extra:
                    shown = ", ".join(f"'{value}'" for value in extra[:3]) + (", ..." if len(extra) > 3 else "")
                    rows.append(number)
                    reasons.append(
                        f"the row has {len(record)} values but the header names {width} columns "
                        f"(extra {shown}); a value holding a comma must be inside double quotes"
                    )
    except (UnicodeDecodeError, csv.Error):
        return None
    if not long_records:  # polars refused the file for another reason
        return None
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8", truncate_ragged_lines=True)
    except Exception:  # polars raises several types for unreadable input
        return None
    if frame.height != records:
        return None
    problems = pl.DataFrame(
        {ROW: rows, "column": [WHOLE_ROW] * len(rows), "reason": reasons}, schema=ROW_PROBLEM_SCHEMA
    )
    return frame, problems


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
        # Excel shows and calculates to 15 significant digits: a formula's 21.990000000000002 is the 21.99 on screen
        return format(value, ".15g")
    return str(value)


@dataclass(frozen=True)
class SheetLimits:
    """The most rows and columns pbr reads from a sheet (schemas/feeds.yaml, `workbook_limits`): a sheet that
    declares or holds more is refused whole, in one line, before its cells are read."""

    rows: int
    columns: int


def sheet_limits() -> SheetLimits:
    limits = load_yaml("feeds.yaml")["workbook_limits"]
    return SheetLimits(rows=limits["max_rows"], columns=limits["max_columns"])


def _too_big(rows: int | None, columns: int | None, limits: SheetLimits, verb: str = "declares") -> str | None:
    if (rows or 0) <= limits.rows and (columns or 0) <= limits.columns:
        return None
    return (
        f"the sheet {verb} {rows or 0:,} rows and {columns or 0:,} columns; pbr reads at most {limits.rows:,} "
        f"rows and {limits.columns:,} columns: delete the unused rows and columns, or copy the table to a new "
        "sheet, and save the workbook again"
    )


@dataclass
class _SheetCells:
    names: list[str]
    columns: list[list]
    numbers: list[int]
    empty_required: list[tuple[int, int]]  # (spreadsheet row, column index) of required cells read as empty


def _sheet_cells(sheet, table: str, limits: SheetLimits) -> _SheetCells | str:
    """The cells that exist in a sheet, as text by column; or why the sheet is refused whole."""
    if refused := _too_big(sheet.max_row, sheet.max_column, limits):
        return refused
    sheet.reset_dimensions()  # only the cells that exist are read: a declared size is never padded out
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        return "the sheet is empty (no header row)"
    names = column_names(header)
    if repeated := _repeated(names):
        return repeated
    contract = contract_for(table)
    types = [contract.columns[n].type if n in contract.columns else "text" for n in names]
    required = [i for i, n in enumerate(names) if n in contract.columns and contract.columns[n].required]
    cells = _SheetCells(names, [[] for _ in names], [], [])
    for number, row in enumerate(rows, start=2):
        if number > limits.rows or len(row) > limits.columns:
            return _too_big(max(number, sheet.max_row or 0), max(len(row), len(names)), limits, verb="holds")
        if not row:
            continue  # a row with no cell at all: blank
        cells.numbers.append(number)
        for i in range(len(names)):
            value = row[i] if i < len(row) else None
            cells.columns[i].append(_cell_text(value, types[i]))
            if value is None and i in required and any(v is not None for v in row):
                cells.empty_required.append((number, i))
    return cells


def _unsaved_formulas(path: Path, title: str, cells: _SheetCells) -> pl.DataFrame | None:
    """Row problems for required cells that hold a formula whose value was never saved (a workbook written by a
    program, not saved in Excel): read as empty, they would be told they are missing."""
    from openpyxl import load_workbook

    wanted = {(row, column) for row, column in cells.empty_required}
    book = load_workbook(path, read_only=True, data_only=False)
    try:
        sheet = book[title]
        sheet.reset_dimensions()
        found = []
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            for column in (c for r, c in wanted if r == number):
                value = row[column] if column < len(row) else None
                if isinstance(value, str) and value.startswith("="):
                    found.append(
                        (
                            number,
                            cells.names[column],
                            f"{cells.names[column]} holds a formula ({value[:40]}) "
                            "with no saved value: open the workbook in Excel and save it, so the values are kept",
                        )
                    )
    finally:
        book.close()
    if not found:
        return None
    return pl.DataFrame(found, schema=ROW_PROBLEM_SCHEMA, orient="row")


def _read_sheet(path: Path, sha: str, sheet, table: str, limits: SheetLimits) -> SourceFile:
    source = f"{path.name}:{sheet.title}"
    cells = _sheet_cells(sheet, table, limits)
    if isinstance(cells, str):
        return SourceFile(source, table, path, sha, rejected=cells)
    keep = [i for i, n in enumerate(cells.names) if n]
    frame = pl.DataFrame({cells.names[i]: pl.Series(cells.columns[i], dtype=pl.String) for i in keep})
    result = _normalise(frame, table, source, pl.Series(cells.numbers, dtype=pl.Int64))
    if isinstance(result, str):
        return SourceFile(source, table, path, sha, rejected=result)
    result.path, result.sha256 = path, sha
    if cells.empty_required:
        result.row_problems = _unsaved_formulas(path, sheet.title, cells)
    return result


def read_workbook(path: Path, partner: bool = False) -> tuple[list[SourceFile], list[str]]:
    """Every sheet named like a feed table (a partner file's, with `partner`), read cell by existing cell; the
    other sheets listed as ignored."""
    from openpyxl import load_workbook

    sha = file_sha256(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for what is not a workbook
        return [SourceFile(path.name, "?", path, sha, rejected=f"cannot be read as a workbook: {error}")], []
    files, ignored, limits = [], [], sheet_limits()
    try:
        for sheet in book.worksheets:
            table = table_for_stem(sheet.title, partner)
            if table is None:
                ignored.append(f"{path.name}:{sheet.title}")
            elif sheet.sheet_state != "visible":  # what a person cannot see in the workbook is not loaded
                ignored.append(f"{path.name}:{sheet.title} (a hidden sheet: unhide it to load it)")
            else:
                files.append(_read_sheet(path, sha, sheet, table, limits))
    finally:
        book.close()
    return files, ignored


def is_partner_file(path: Path) -> bool:
    """A partner file (matching.md): a CSV named like a person-keyed table whose header names people by their
    identity instead of `person_id`; or a workbook every table sheet of which is one."""
    identity = {"given_name", "family_name", "date_of_birth"}

    def partner_header(names: list[str]) -> bool:
        return identity <= set(names) and "person_id" not in names

    if path.suffix.lower() == ".csv":
        return table_for_stem(path.stem, partner=True) is not None and partner_header(
            column_names(_csv_header(path) or [])
        )
    if path.suffix.lower() != ".xlsx":
        return False
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True)
    except Exception:  # openpyxl raises many types for what is not a workbook: ingest says why
        return False
    try:
        verdicts = [
            table_for_stem(sheet.title, partner=True) is not None
            and partner_header(column_names(next(sheet.iter_rows(max_row=1, values_only=True), ())))
            for sheet in book.worksheets
            if table_for_stem(sheet.title) is not None
        ]
    finally:
        book.close()
    return bool(verdicts) and all(verdicts)


def is_lock_file(path: Path) -> bool:
    """Excel's owner file (`~$name.xlsx`) beside a workbook that is open: a few bytes that are not a workbook."""
    return path.name.startswith("~$")


def _linked_file(link: Path, folder: Path) -> Path | str:
    """Where a symbolic link in a feed folder leads, or why pbr will not follow it."""
    try:
        target = link.resolve(strict=True)
    except FileNotFoundError:
        return "a link to a file that is not there"
    except (RuntimeError, OSError):  # Python names a loop RuntimeError or OSError by version
        return "a link that loops back on itself"
    if not target.is_relative_to(folder.resolve()):
        return "a link to a file outside the folder: copy the file into the folder to load it"
    return target if target.is_file() else "a link to something that is not a file"


def _folder_entries(folder: Path, partner: bool) -> tuple[list[Path], list[SourceFile], list[str]]:
    """Every entry of a feed folder: the files to read, the links refused (with why), and the rest, ignored
    with why. Nothing in the folder is passed over without a word."""
    files, refused, ignored = [], [], []
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink():
            found = _linked_file(entry, folder)
            if isinstance(found, str):
                table = table_for_stem(entry.stem, partner) if entry.suffix.lower() == ".csv" else None
                refused.append(SourceFile(entry.name, table or "?", entry, "", rejected=found))
                continue
        if entry.is_dir():
            ignored.append(f"{entry.name}/ (a folder: the files inside it are not read; put feeds in {folder.name}/)")
        elif entry.is_file():
            files.append(entry)
        else:
            ignored.append(f"{entry.name} (not a file)")
    return files, refused, ignored


def read_path(path: str | Path, partner: bool = False) -> ReadResult:
    """A folder of CSV (and xlsx) files, one CSV file, or one workbook; with `partner`, of partner files
    (matching.md), read by `partner_contracts`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    candidates, refused, ignored = _folder_entries(path, partner) if path.is_dir() else ([path], [], [])
    # hashing runs beside polars' parsing: both let go of the interpreter while they work
    hashing = ThreadPoolExecutor(max_workers=1)
    digests = {
        c: hashing.submit(_digest, c)
        for c in candidates
        if c.suffix.lower() == ".csv" and not is_lock_file(c) and table_for_stem(c.stem, partner)
    }
    try:
        result = _read_candidates(candidates, digests, partner)
    finally:
        hashing.shutdown(cancel_futures=True)
    return ReadResult(files=refused + result.files, ignored=ignored + result.ignored)


def _read_candidates(candidates: list[Path], digests: dict[Path, Future], partner: bool) -> ReadResult:
    csv_tables = {
        c: table
        for c in candidates
        if c.suffix.lower() == ".csv" and not is_lock_file(c) and (table := table_for_stem(c.stem, partner)) is not None
    }
    csv_read = _read_csvs(csv_tables, digests)
    files: list[SourceFile] = []
    ignored: list[str] = []
    for candidate in candidates:
        suffix = candidate.suffix.lower()
        if is_lock_file(candidate):
            ignored.append(f"{candidate.name} (Excel's lock file: the workbook is open in Excel)")
        elif suffix == ".xlsx":
            sheets, skipped = read_workbook(candidate, partner)
            files += sheets
            ignored += skipped
        elif candidate in csv_read:
            files.append(csv_read[candidate])
        else:
            ignored.append(candidate.name)
    return ReadResult(files=files, ignored=ignored)
