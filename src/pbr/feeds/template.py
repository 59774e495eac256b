"""The keyworker workbook: one sheet per feed, drop-downs for codes, date and text formats that read back."""

from __future__ import annotations

from pathlib import Path

from openpyxl.comments import Comment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from pbr.contract import contracts
from pbr.resources import vocabularies
from pbr.workbooks import HEADER_FILL, HEADER_FONT, new_workbook, save

TEMPLATE_ROWS = 1000
HINTS = {
    "date": "a date (YYYY-MM-DD)",
    "id": "an identifier, kept as text (007 stays 007)",
    "int": "a whole number, 0 or more",
    "decimal": "a number",
    "money": "pounds, at most 2 decimal places",
    "text": "text",
}


def write_template(
    path: str | Path, themes: list[str], tables: list[str] | None = None, codes: dict | None = None
) -> Path:
    """The workbook, its drop-downs listing `themes` and the code lists `codes` (the shipped ones by default)."""
    book = new_workbook()
    vocab = codes or vocabularies()
    for name, contract in contracts().items():
        if tables and name not in tables:
            continue
        sheet = book.create_sheet(name)
        sheet.append(list(contract.columns))
        for i, spec in enumerate(contract.columns.values(), start=1):
            letter = get_column_letter(i)
            header = sheet.cell(row=1, column=i)
            header.font, header.fill = HEADER_FONT, HEADER_FILL
            hint = HINTS.get(spec.type, "")
            if spec.type == "code":
                hint = "one of " + ", ".join(vocab[spec.vocabulary])
            elif spec.type == "indicator":
                hint = "<theme>.<detail>, theme one of " + ", ".join(themes)
            header.comment = Comment(("required: " if spec.required else "optional: ") + hint, "pbr")
            sheet.column_dimensions[letter].width = max(len(spec.name) + 4, 16)
            cells = f"{letter}2:{letter}{TEMPLATE_ROWS + 1}"
            if spec.type == "code":
                listing = DataValidation(
                    type="list",
                    formula1=_code_list(book, spec.vocabulary, vocab[spec.vocabulary]),
                    allow_blank=not spec.required,
                    showErrorMessage=True,
                    errorTitle="Unknown code",
                    error=hint,
                )
                sheet.add_data_validation(listing)
                listing.add(cells)
            elif spec.type == "date":
                check = DataValidation(
                    type="date",
                    operator="greaterThan",
                    formula1="1",
                    allow_blank=True,
                    showErrorMessage=True,
                    errorTitle="Not a date",
                    error="Enter a date",
                )
                sheet.add_data_validation(check)
                check.add(cells)
            for row in range(2, TEMPLATE_ROWS + 2):
                cell = sheet.cell(row=row, column=i)
                if spec.type == "date":
                    cell.number_format = "yyyy-mm-dd"
                elif spec.type in ("id", "text", "code", "indicator"):
                    cell.number_format = "@"
        sheet.freeze_panes = "A2"
    return save(book, path)


def _code_list(book, vocabulary: str, codes: list[str]) -> str:
    """A list validation's source: the codes themselves, or where Excel's 255-character limit on an inline list
    is passed (a council's longer lists), a column of the hidden sheet `codes`."""
    inline = '"' + ",".join(codes) + '"'
    if len(inline) <= 255:
        return inline
    sheet = book["codes"] if "codes" in book.sheetnames else book.create_sheet("codes")
    sheet.sheet_state = "hidden"
    column = 1 if sheet["A1"].value is None else sheet.max_column + 1
    sheet.cell(row=1, column=column, value=vocabulary)
    for row, code in enumerate(codes, start=2):
        sheet.cell(row=row, column=column, value=code)
    letter = get_column_letter(column)
    return f"codes!${letter}$2:${letter}${len(codes) + 1}"
