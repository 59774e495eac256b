"""One writer for every workbook pbr produces: safe text, exact money, real dates, frozen headers, filters, and
each one finished as the document it is (`Document`): a first sheet with its title block, glossary and any
personal-data notice, and every sheet set up to print fit to the page's width with its header row repeated."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from pbr.outputs import written_whole
from pbr.periods import day_in_words
from pbr.resources import load_yaml

MONEY_FORMAT = '"£"#,##0.00;-"£"#,##0.00'
DATE_FORMAT = "d mmm yyyy"  # a real date, shown as people in the UK write it: 2 Mar 2017
WRAP = Alignment(wrap_text=True, vertical="top")
LONG_TEXT = 40  # a column at least this wide wraps its text instead of running off the page
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
EXCEL_DATA_ROWS = 1_048_575  # a sheet's 1,048,576 rows, less the header


class Pence(int):
    """An amount in integer pence, written as pounds with a currency format."""


def set_value(cell: Cell, value: Any) -> None:
    """Write a value so that text from input can never become a formula."""
    if isinstance(value, bool):
        cell.value = "Yes" if value else "No"
        return
    if isinstance(value, Pence):
        cell.value = int(value) / 100
        cell.number_format = MONEY_FORMAT
        return
    if isinstance(value, dt.datetime):
        cell.value = value.replace(tzinfo=None)
        cell.number_format = "d mmm yyyy hh:mm"
        return
    if isinstance(value, dt.date):
        cell.value = value
        cell.number_format = DATE_FORMAT
        return
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"  # never 'f', whatever the text starts with
        if value.startswith(FORMULA_STARTS):
            cell.quotePrefix = True
        return
    cell.value = value


def write_rows(
    sheet: Worksheet,
    header: list[str],
    rows: Iterable[Iterable[Any]],
    money: set[str] = frozenset(),
    widths: dict[str, int] | None = None,
    empty: str = "None.",
    total: str | None = None,
) -> None:
    """A header row and the rows under it. A sheet with no rows says `empty` in words; with `total`, the money
    columns are summed in a row of that name under the rows."""
    sheet.append(header)
    for cell in sheet[1]:
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, WRAP
    money_idx = {i for i, name in enumerate(header) if name in money}
    seen = [0] * len(header)  # the longest text of each column, for its width
    sums = dict.fromkeys(money_idx, 0)
    r = 1
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row):
            cell = sheet.cell(row=r, column=c + 1)
            set_value(cell, Pence(value) if c in money_idx and value is not None else value)
            if c in sums and value is not None:
                sums[c] += int(value)
            if r < 500 and c < len(seen):
                seen[c] = max(seen[c], _shown_length(cell.value, c in money_idx, value))
    if r == 1:
        set_value(sheet.cell(row=2, column=1), empty)
    elif total is not None:
        set_value(sheet.cell(row=r + 1, column=1), total)
        sheet.cell(row=r + 1, column=1).font = Font(bold=True)
        for c, amount in sums.items():
            set_value(sheet.cell(row=r + 1, column=c + 1), Pence(amount))
            sheet.cell(row=r + 1, column=c + 1).font = Font(bold=True)
    _frame_sheet(sheet, header, max(r, 1), widths, seen)
    _fit_rows(sheet, header)


def _shown_length(shown: Any, is_money: bool, value: Any) -> int:
    """About how many characters a cell shows: a date 11, an amount with its pound sign and commas."""
    if isinstance(value, dt.date):
        return 11
    if is_money and isinstance(shown, (int, float)):
        return len(f"£{shown:,.2f}")
    return len(str(shown if shown is not None else ""))


def _fit_rows(sheet, header: list[str]) -> None:
    """Long text wraps, and each row is as tall as its longest wrapped text (spreadsheets do not all work the
    height out when they open a file), so no text runs into the next cell or row."""
    widths = [sheet.column_dimensions[get_column_letter(i + 1)].width or 10 for i in range(len(header))]
    wrapped = [i for i, width in enumerate(widths) if width >= LONG_TEXT]
    header_lines = max((-(-len(str(name)) // max(int(widths[i]) - 1, 1)) for i, name in enumerate(header)), default=1)
    if header_lines > 1:
        sheet.row_dimensions[1].height = 15 * header_lines
    if not wrapped:
        return
    for row in sheet.iter_rows(min_row=2):
        lines = 1
        for i in wrapped:
            if i < len(row) and isinstance(row[i].value, str):
                row[i].alignment = WRAP
                lines = max(lines, -(-len(row[i].value) // max(int(widths[i]) - 2, 1)))
        if lines > 1:
            sheet.row_dimensions[row[0].row].height = 15 * lines


def _frame_sheet(
    sheet, header: list[str], last_row: int, widths: dict[str, int] | None = None, seen: list[int] | None = None
) -> None:
    """Frozen header, filters over the data, column widths fitted to what they hold (at most 60 characters)."""
    sheet.freeze_panes = "A2"
    if header:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{last_row}"
    for i, name in enumerate(header):
        held = seen[i] if seen and i < len(seen) else 0
        width = (widths or {}).get(name) or min(max(len(name) + 2, held + 2, 8), 60)
        sheet.column_dimensions[get_column_letter(i + 1)].width = width


def sheet_parts(
    name: str, frame: pl.DataFrame, rows_per_sheet: int = EXCEL_DATA_ROWS
) -> list[tuple[str, pl.DataFrame]]:
    """A frame cut into sheets Excel can open whole: `name`, then `name (2)`, `name (3)`, ..."""
    if frame.height <= rows_per_sheet:
        return [(name, frame)]
    return [
        (name if i == 0 else f"{name} ({i + 1})", frame.slice(start, rows_per_sheet))
        for i, start in enumerate(range(0, frame.height, rows_per_sheet))
    ]


def write_streamed(
    path: str | Path,
    frames: dict[str, pl.DataFrame],
    rows_per_sheet: int = EXCEL_DATA_ROWS,
    document: Document | None = None,
) -> Path:
    """Large frames written row by row (openpyxl's write-only mode): faster and in less memory, with the same
    header, filters, dates and text safety as `write_rows`. A frame longer than a sheet holds continues on more."""
    book = Workbook(write_only=True)
    if document is not None:
        about = book.create_sheet(ABOUT)
        _page_setup(about, document, 2, header_row=False)  # a write-only sheet takes its setup before its rows
        _about(about, document, {name: list(frame.columns) for name, frame in frames.items()})
    for name, frame in (part for title, whole in frames.items() for part in sheet_parts(title, whole, rows_per_sheet)):
        sheet = book.create_sheet(name)
        _frame_sheet(sheet, frame.columns, frame.height + 1)
        if document is not None:
            _page_setup(sheet, document, len(frame.columns), header_row=True)
        header = []
        for title in frame.columns:
            cell = WriteOnlyCell(sheet)
            set_value(cell, title)
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
            header.append(cell)
        sheet.append(header)
        for row in frame.iter_rows():
            sheet.append([_streamed_value(sheet, value) for value in row])
    return save(book, path)


def _streamed_value(sheet, value: Any) -> Any:
    """The value itself where openpyxl writes it as `set_value` would; else a cell `set_value` filled."""
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, (Pence, bool))):
        return value
    if isinstance(value, str) and not value.startswith(FORMULA_STARTS):
        return value
    cell = WriteOnlyCell(sheet)
    set_value(cell, value)
    return cell


def chart_sheet(book: Workbook, title: str, chart) -> None:
    """A chart on a sheet of its own, so it prints whole on a page of its own and never straddles a page break;
    its lines straight (a smoothed count can seem to dip below zero)."""
    for series in chart.series:
        series.smooth = False
    book.create_chartsheet(title[:31]).add_chart(chart)


def write_frame(sheet: Worksheet, frame: pl.DataFrame, money: set[str] = frozenset()) -> None:
    write_rows(sheet, frame.columns, frame.iter_rows(), money=money)


def new_workbook() -> Workbook:
    book = Workbook()
    book.remove(book.active)
    return book


def save(book: Workbook, path: str | Path, private: bool = False, document: Document | None = None) -> Path:
    """The workbook written whole (never half a file); with `document`, finished as that document first."""
    if document is not None:
        finish(book, document)
    with written_whole(path, private=private) as partial:
        book.save(partial)
    return Path(path)


# ---- finishing: the title block, the glossary and the page setup of every document ---------------------------
ABOUT = "Document"
PERSONAL_NOTICE = (
    "This workbook holds personal data (names, dates of birth, addresses). Send it only by a secure route, keep "
    "it only as long as its purpose needs, and delete it after."
)


@dataclass(frozen=True)
class Document:
    """What a workbook is, for its title block and its printed pages."""

    title: str  # "Claim 2018-12-1"
    period: str  # "window 2018-12, evidence date 31 Dec 2018"
    council: str = ""  # "Synthetic Borough Council (E09000999)"
    plan: str = ""  # "troubled-families-2015, SHA-256 ..."
    produced_by: str = "pbr"
    personal: bool = False
    produced_on: dt.date = field(default_factory=dt.date.today)
    # headers in plain English (schemas/glossary.yaml labels), the field names kept on the first sheet; a return
    # whose layout matches a national template keeps its configured headers
    plain_headers: bool = False


def document_for(title: str, period: str, council=None, plan=None, personal: bool = False, by: str = "pbr") -> Document:
    """A Document from the council (name, code) and plan (name, sha256) it is for."""
    return Document(
        title,
        period,
        council=f"{council.name} ({council.code})" if council is not None else "",
        plan=f"{plan.name}, version SHA-256 {plan.sha256}"
        if plan is not None and plan.sha256
        else getattr(plan, "name", ""),
        produced_by=by,
        personal=personal,
    )


def span_in_words(name: str, start: dt.date, end: dt.date) -> str:
    """'2017-Q3 (1 Jul 2017 to 30 Sep 2017)': a period's name with the days it covers."""
    return f"{name} ({day_in_words(start)} to {day_in_words(end)})"


@lru_cache(maxsize=1)
def glossary() -> dict[str, str]:
    """Every column name pbr writes, with what it means in plain English (schemas/glossary.yaml)."""
    return {str(k): str(v) for k, v in load_yaml("glossary.yaml")["columns"].items()}


@lru_cache(maxsize=1)
def labels() -> dict[str, str]:
    """A short header in plain English for the column names people read most (schemas/glossary.yaml)."""
    return {str(k): str(v) for k, v in load_yaml("glossary.yaml").get("labels", {}).items()}


def finish(book: Workbook, document: Document) -> None:
    """A first sheet naming the document, and every sheet set up to print as a document."""
    columns = {
        sheet.title: [str(c.value) for c in sheet[1] if c.value is not None]
        for sheet in book.worksheets
        if sheet.freeze_panes == "A2"
    }
    about = book.create_sheet(ABOUT, 0)
    _about(about, document, columns)
    if document.plain_headers:
        for sheet in book.worksheets:
            if sheet.title in columns:
                for cell in sheet[1]:
                    if isinstance(cell.value, str) and cell.value in labels():
                        cell.value = labels()[cell.value]
    # pictures last: a spreadsheet names each sheet's repeated header rows by the sheet's place among all sheets,
    # and a picture between two sheets makes the later ones lose theirs when read back
    book._sheets.sort(key=lambda sheet: sheet.__class__.__name__ == "Chartsheet")
    for sheet in book.worksheets:
        _page_setup(sheet, document, sheet.max_column, header_row=sheet.freeze_panes == "A2")
    book.active = 0


def _about(sheet, document: Document, columns: dict[str, list[str]]) -> None:
    """The title block, the personal-data notice where it applies, and what each sheet's columns mean."""
    rows: list[tuple[str, str]] = [
        (document.title, ""),
        ("Council", document.council),
        ("Period", document.period),
        ("Outcome plan", document.plan or "not recorded"),
        ("Produced on", document.produced_on.strftime("%-d %B %Y")),
        ("Produced by", document.produced_by),
    ]
    if document.personal:
        rows.append(("Personal data", PERSONAL_NOTICE))
    rows.append(("", ""))
    known, short = glossary(), labels() if document.plain_headers else {}
    for name, header in columns.items():
        rows.append(
            (f"Sheet '{name}'", "its columns (the field name for programs in brackets):" if short else "its columns:")
        )
        rows += [
            (f"{short[column]} ({column})" if column in short else column, known.get(column, column.replace("_", " ")))
            for column in header
        ]
        rows.append(("", ""))
    for values in rows:
        sheet.append([_safe(value) for value in values])
    if hasattr(sheet, "cell") and not getattr(sheet, "_write_only", False) and sheet.max_row:
        sheet["A1"].font = Font(bold=True, size=14)
        for (cell,) in sheet.iter_rows(min_col=2, max_col=2):
            cell.alignment = WRAP
    sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width = 32, 90


def _safe(value: str) -> Any:
    """Title-block text that never becomes a formula (a period or plan name comes from configuration)."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _page_setup(sheet, document: Document, width: int, header_row: bool) -> None:
    """Landscape where wide, fit to one page wide, the header row on every page, and the document, council and
    period at the top of every page with page n of m at the foot."""
    sheet.page_setup.orientation = "landscape" if width > 4 else "portrait"
    sheet.page_setup.paperSize = "9"  # A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    if header_row:
        sheet.print_title_rows = "1:1"
    top = " · ".join(part for part in (document.council, document.title, document.period) if part)
    sheet.oddHeader.center.text = top.replace("&", "&&")
    sheet.oddHeader.center.size = 9
    sheet.oddFooter.left.text = document.title.replace("&", "&&")
    sheet.oddFooter.center.text = "Page &P of &N"
    sheet.oddFooter.right.text = f"produced {day_in_words(document.produced_on)}"
    for part in (sheet.oddFooter.left, sheet.oddFooter.center, sheet.oddFooter.right):
        part.size = 8
