"""The shared workbook writer: text from input never becomes a formula; money and dates keep their types."""

from __future__ import annotations

import datetime as dt

import openpyxl
import polars as pl

from pbr.workbooks import EXCEL_DATA_ROWS, Pence, new_workbook, save, write_rows, write_streamed

HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "=1/0"]


def test_hostile_text_is_written_as_text_and_money_and_dates_keep_their_types(tmp_path):
    book = new_workbook()
    rows = [[text, Pence(123456), dt.date(2017, 10, 31)] for text in HOSTILE]
    write_rows(book.create_sheet("Claims"), ["family_id", "amount", "attachment_date"], rows, money={"amount"})
    path = save(book, tmp_path / "w.xlsx")
    sheet = openpyxl.load_workbook(path)["Claims"]
    for r, text in enumerate(HOSTILE, start=2):
        cell = sheet.cell(row=r, column=1)
        assert cell.value == text and cell.data_type == "s"
        assert sheet.cell(row=r, column=2).value == 1234.56
        assert "£" in sheet.cell(row=r, column=2).number_format
        assert sheet.cell(row=r, column=3).value == dt.datetime(2017, 10, 31)
    raw = __import__("zipfile").ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in raw  # no formula element anywhere


def test_the_streamed_writer_keeps_the_same_safety_types_and_frame(tmp_path):
    frame = pl.DataFrame(
        {
            "family_id": HOSTILE,
            "attached": [dt.date(2017, 10, 31)] * 5,
            "eligible": [True, False] * 2 + [None],
            "records": [0, 1, 2, 3, None],
            "reason": ["plain", "", None, "a, b", "x"],
        }
    )
    path = write_streamed(tmp_path / "big.xlsx", {"Decisions": frame, "Empty": frame.clear()})
    book = openpyxl.load_workbook(path)
    sheet = book["Decisions"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:E6"
    assert [c.value for c in sheet[1]] == frame.columns and sheet["A1"].font.bold
    for r, expected in enumerate(frame.iter_rows(), start=2):
        cells = sheet[r]
        assert cells[0].value == expected[0] and cells[0].data_type == "s"
        assert cells[1].value == dt.datetime(2017, 10, 31) and cells[1].number_format == "d mmm yyyy"
        yes_no = {True: "Yes", False: "No", None: None}[expected[2]]  # a boolean reads Yes or No
        assert [c.value for c in cells[2:4]] == [yes_no, expected[3]]
        assert cells[4].value == (expected[4] or None)  # an empty text is an empty cell, as in write_rows
    assert [c.value for c in book["Empty"][1]] == frame.columns and book["Empty"].max_row == 1
    raw = __import__("zipfile").ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in raw


def test_a_frame_longer_than_a_sheet_holds_continues_on_more_sheets(tmp_path):
    assert EXCEL_DATA_ROWS == 1_048_576 - 1  # Excel's rows, less the header
    frame = pl.DataFrame({"family_id": [f"F{i}" for i in range(5)], "n": list(range(5))})
    path = write_streamed(tmp_path / "long.xlsx", {"Detail": frame, "Decisions": frame.head(2)}, rows_per_sheet=2)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Detail", "Detail (2)", "Detail (3)", "Decisions"]
    rows = [[c.value for c in row] for name in book.sheetnames[:3] for row in book[name].iter_rows(min_row=2)]
    assert rows == [list(r) for r in frame.iter_rows()]  # every row once, in order
    assert all(
        [c.value for c in book[name][1]] == frame.columns and book[name].freeze_panes == "A2"
        for name in book.sheetnames[:3]
    )


def test_private_workbooks_are_owner_only(tmp_path):
    path = save(new_workbook_with_a_sheet(), tmp_path / "private.xlsx", private=True)
    assert path.stat().st_mode & 0o777 == 0o600


def new_workbook_with_a_sheet():
    book = new_workbook()
    book.create_sheet("x")
    return book
