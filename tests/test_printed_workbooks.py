"""Every workbook the demo writes, printed to PDF by LibreOffice as a council officer would print it: each prints
one page wide, with the council, the document and its period on its first page, and the claim of the demo's
families on at most 20 pages."""

from __future__ import annotations

import os
import shutil
import subprocess

import openpyxl
import pytest
from pypdf import PdfReader

from conftest import run_pbr

COUNCIL = "Synthetic Borough Council (E09000999)"
# each workbook: its title, and words of its period, as the title block and every page's header give them
DOCUMENTS = {
    "claims/2018-12-1.xlsx": ("Claim 2018-12-1", "evidence date 31 Dec 2018"),
    "reports/decisions.xlsx": ("Decisions and their evidence", "as of 31 Dec 2018"),
    "reports/progress-return-2018-Q4.xlsx": ("Quarterly progress return", "2018-Q4 (1 Oct 2018 to 31 Dec 2018)"),
    "reports/impact-study-2018.xlsx": ("Impact-study return", "(1 Apr 2018 to 31 Mar 2019)"),
    "reports/reconciliation-2018.xlsx": ("Reconciliation of grant income", "financial year 2018-19"),
    "reports/outcomes-2018-Q4.xlsx": ("Outcomes report", "2018-Q4 (1 Oct 2018 to 31 Dec 2018)"),
    "reports/identified-households.xlsx": ("Households not yet known", "as of 31 Dec 2018"),
}
PERSONAL = {"reports/impact-study-2018.xlsx", "reports/identified-households.xlsx"}


def office() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true needs LibreOffice (Debian's libreoffice-calc-nogui) to print workbooks to PDF")
        pytest.skip("LibreOffice is not installed: apt-get install libreoffice-calc-nogui")
    return found


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """The demo's folder, with every workbook it wrote printed to `pdf/`."""
    binary = office()
    folder = tmp_path_factory.mktemp("printed") / "demo"
    run_pbr("demo", "--folder", str(folder), check=True)
    books = [folder / name for name in DOCUMENTS]
    profile = folder.parent / "office-profile"  # its own profile: no clash with another LibreOffice running
    convert = [binary, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf"]
    subprocess.run(
        [*convert, "--outdir", str(folder / "pdf"), *map(str, books)],
        check=True,
        capture_output=True,
        timeout=900,
    )
    return folder


def pages(folder, name: str) -> list[str]:
    pdf = folder / "pdf" / (name.rsplit("/", 1)[-1].removesuffix(".xlsx") + ".pdf")
    return [page.extract_text() or "" for page in PdfReader(pdf).pages]


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.slow
def test_each_document_names_its_council_title_and_period_on_its_first_page(printed):
    for name, (title, period) in DOCUMENTS.items():
        first = flat(pages(printed, name)[0])
        assert title in first and period in first, (name, first[:300])
        if name != "reports/identified-households.xlsx":  # made from partners' rows, for no council's claim
            assert COUNCIL in first, (name, first[:300])
        assert ("holds personal data" in first) is (name in PERSONAL), name


@pytest.mark.slow
def test_every_sheet_prints_one_page_wide_with_its_header_row_on_every_page(printed):
    for name in DOCUMENTS:
        book = openpyxl.load_workbook(printed / name)
        for sheet in book.worksheets:
            setup = sheet.page_setup
            assert sheet.sheet_properties.pageSetUpPr.fitToPage and setup.fitToWidth == 1, (name, sheet.title)
            assert setup.fitToHeight == 0, (name, sheet.title)  # as many pages long as it needs
            if sheet.freeze_panes == "A2":
                assert sheet.print_title_rows == "$1:$1", (name, sheet.title)
        # a table's first and last column print on one page: no sheet's columns are split across pages
        texts = [flat(text) for text in pages(printed, name)]
        for sheet in book.worksheets:
            header = next(sheet.iter_rows(max_row=1, values_only=True), ())
            if sheet.freeze_panes != "A2" or len(header) < 2 or not (header[0] and header[-1]):
                continue
            first, last = flat(str(header[0])), flat(str(header[-1]))
            assert any(first in text and last in text for text in texts), (name, sheet.title, first, last)


@pytest.mark.slow
def test_the_claim_of_the_demo_prints_on_at_most_20_pages_and_every_page_says_what_it_is(printed):
    claimed = openpyxl.load_workbook(printed / "claims/2018-12-1.xlsx")["Claims"]
    families = sum(1 for row in claimed.iter_rows(min_row=2, values_only=True) if str(row[0]).startswith("FAM"))
    assert families > 400  # the demo's claim: about 500 families
    printed_pages = pages(printed, "claims/2018-12-1.xlsx")
    assert len(printed_pages) <= 20
    for n, text in enumerate(printed_pages, start=1):
        assert "Claim 2018-12-1" in flat(text) and f"Page {n} of {len(printed_pages)}" in flat(text)
