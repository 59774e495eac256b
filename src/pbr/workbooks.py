"""One writer for every workbook pbr produces: safe text, exact money, real dates, frozen headers, filters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from pbr.outputs import written_whole

MONEY_FORMAT = '"£"#,##0.00;-"£"#,##0.00'
DATE_FORMAT = "yyyy-mm-dd"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
EXCEL_DATA_ROWS = 1_048_575  # a sheet's 1,048,576 rows, less the header


class Pence(int):
    """An amount in integer pence, written as pounds with a currency format."""


def set_value(cell: Cell, value: Any) -> None:
    """Write a value so that text from input can never become a formula."""
    if isinstance(value, Pence):
        cell.value = int(value) / 100
        cell.number_format = MONEY_FORMAT
        return
    if isinstance(value, dt.datetime):
        cell.value = value.replace(tzinfo=None)
        cell.number_format = "yyyy-mm-dd hh:mm"
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
) -> None:
    sheet.append(header)
    for cell in sheet[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    money_idx = {i for i, name in enumerate(header) if name in money}
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row):
            cell = sheet.cell(row=r, column=c + 1)
            set_value(cell, Pence(value) if c in money_idx and value is not None else value)
    _frame_sheet(sheet, header, max(sheet.max_row, 1), widths)


def _frame_sheet(sheet, header: list[str], last_row: int, widths: dict[str, int] | None = None) -> None:
    """Frozen header, filters over the data, column widths."""
    sheet.freeze_panes = "A2"
    if header:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{last_row}"
    for i, name in enumerate(header):
        width = (widths or {}).get(name) or min(max(len(name) + 2, 12), 60)
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


def write_streamed(path: str | Path, frames: dict[str, pl.DataFrame], rows_per_sheet: int = EXCEL_DATA_ROWS) -> Path:
    """Large frames written row by row (openpyxl's write-only mode): faster and in less memory, with the same
    header, filters, dates and text safety as `write_rows`. A frame longer than a sheet holds continues on more."""
    book = Workbook(write_only=True)
    for name, frame in (part for title, whole in frames.items() for part in sheet_parts(title, whole, rows_per_sheet)):
        sheet = book.create_sheet(name)
        _frame_sheet(sheet, frame.columns, frame.height + 1)
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
    if value is None or (isinstance(value, (bool, int, float)) and not isinstance(value, Pence)):
        return value
    if isinstance(value, str) and not value.startswith(FORMULA_STARTS):
        return value
    cell = WriteOnlyCell(sheet)
    set_value(cell, value)
    return cell


def write_frame(sheet: Worksheet, frame: pl.DataFrame, money: set[str] = frozenset()) -> None:
    write_rows(sheet, frame.columns, frame.iter_rows(), money=money)


def new_workbook() -> Workbook:
    book = Workbook()
    book.remove(book.active)
    return book


def save(book: Workbook, path: str | Path, private: bool = False) -> Path:
    with written_whole(path, private=private) as partial:
        book.save(partial)
    return Path(path)
