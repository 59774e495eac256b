"""Every public example is a test: `pbr evaluate` reproduces its expected decisions column by column."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from conftest import EXAMPLES, run_pbr

CASES = (
    sorted(
        (folder, expected)
        for folder in EXAMPLES.iterdir()
        if folder.is_dir()
        for pattern in ("expected_decisions_*.csv", "expected_plan_decisions_*.csv")
        for expected in folder.glob(pattern)
    )
    if EXAMPLES.is_dir()
    else []
)


def _plan(folder: Path, expected: Path) -> tuple[str, ...]:
    """The folder's own plan, for an example decided under one (`expected_plan_decisions_*`)."""
    return ("--plan", str(folder / "plan.yaml")) if expected.name.startswith("expected_plan_") else ()


def _rows(path: Path) -> dict[str, dict]:
    with open(path, encoding="utf-8-sig") as handle:
        return {row["family_id"]: row for row in csv.DictReader(handle)}


def _compare(expected_path: Path, got_path: Path) -> None:
    expected, got = _rows(expected_path), _rows(got_path)
    assert list(got) == sorted(got), "decisions must be sorted by family_id"
    assert set(got) == set(expected)
    columns = list(next(iter(expected.values())).keys())
    wrong = [
        (fid, column, row[column], got[fid][column])
        for fid, row in expected.items()
        for column in columns
        if row[column].strip().lower() != got[fid][column].strip().lower()
    ]
    assert not wrong, f"{len(wrong)} cells differ, first: {wrong[:10]}"


@pytest.mark.skipif(not CASES, reason="the shared examples folder is not beside the project")
@pytest.mark.parametrize("folder,expected", CASES, ids=[c[0].name for c in CASES])
def test_example_from_files(folder: Path, expected: Path, tmp_path: Path) -> None:
    as_of = expected.stem.rsplit("_", 1)[1]
    out = tmp_path / "decisions.csv"
    result = run_pbr(
        "evaluate",
        "--data",
        str(folder),
        "--as-of",
        as_of,
        "--out",
        str(out),
        "--detail",
        str(tmp_path / "detail.csv"),
        *_plan(folder, expected),
        check=True,
    )
    assert result.stdout.strip().endswith(f"wrote {out}")
    _compare(expected, out)
    run = json.loads(Path(str(out) + ".json").read_text())
    plan = "supporting-families-2022" if _plan(folder, expected) else "troubled-families-2015"
    assert run["as_of"] == as_of and run["plan"]["name"] == plan
    assert {f["file"] for f in run["inputs"]} >= {"families.csv", "members.csv"}
    assert all(len(f["sha256"]) == 64 for f in run["inputs"])


@pytest.mark.skipif(not CASES, reason="the shared examples folder is not beside the project")
@pytest.mark.parametrize("folder,expected", CASES, ids=[c[0].name for c in CASES])
def test_example_from_database(folder: Path, expected: Path, tmp_path: Path, db_url: str) -> None:
    as_of = expected.stem.rsplit("_", 1)[1]
    plan = _plan(folder, expected)
    result = run_pbr("--db", db_url, *plan, "ingest", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    from_db, from_files = tmp_path / "db.csv", tmp_path / "files.csv"
    run_pbr("--db", db_url, *plan, "evaluate", "--as-of", as_of, "--out", str(from_db), check=True)
    run_pbr("evaluate", "--data", str(folder), "--as-of", as_of, "--out", str(from_files), *plan, check=True)
    _compare(expected, from_db)
    assert from_db.read_text() == from_files.read_text()


@pytest.mark.skipif(not CASES, reason="the shared examples folder is not beside the project")
def test_the_basic_example_as_one_workbook_gives_the_same_decisions(tmp_path):
    """Typed cells (dates as dates, numbers as numbers) in a workbook give what the CSV folder gives."""
    import datetime as dt

    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for path in sorted((EXAMPLES / "basic").glob("*.csv")):
        if path.stem.startswith("expected"):
            continue
        sheet = book.create_sheet(path.stem.capitalize())
        with open(path, encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        sheet.append(rows[0])
        for row in rows[1:]:
            cells = []
            for value in row:
                if len(value) == 10 and value[4] == "-" and value[7] == "-":
                    cells.append(dt.datetime.fromisoformat(value))
                elif value.isdigit() and not value.startswith("0"):
                    cells.append(float(value))
                else:
                    cells.append(value or None)
            sheet.append(cells)
    workbook = tmp_path / "basic.xlsx"
    book.save(workbook)
    from_book, from_csv = tmp_path / "book.csv", tmp_path / "csv.csv"
    run_pbr("evaluate", "--data", str(workbook), "--as-of", "2017-10-31", "--out", str(from_book), check=True)
    run_pbr("evaluate", "--data", str(EXAMPLES / "basic"), "--as-of", "2017-10-31", "--out", str(from_csv), check=True)
    assert from_book.read_text() == from_csv.read_text()
    _compare(EXAMPLES / "basic" / "expected_decisions_2017-10-31.csv", from_book)
