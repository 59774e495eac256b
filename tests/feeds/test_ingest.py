"""Ingest into a real database (SQLite and PostgreSQL): identity, re-loads, corrections, quarantine, transactions."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
from pathlib import Path

import polars as pl
from openpyxl import Workbook
from sqlalchemy import Integer, text

from conftest import SEAMS, line_within, write_dataset, write_feed
from pbr.contract import MAX_INTEGER, contracts
from pbr.feeds.ingest import ingest
from pbr.plan import load_plan
from pbr.store import Store
from pbr.store.models import FEED_MODELS

THEMES = load_plan().theme_codes
FAMILIES = [{"family_id": "F1", "attachment_date": "2017-01-10"}, {"family_id": "7", "attachment_date": "2017-02-01"}]
MEMBERS = [
    {"person_id": "P1", "family_id": "F1", "date_of_birth": "1980-01-01", "sex": "F"},
    {"person_id": "C1", "family_id": "F1", "date_of_birth": "2010-01-01", "sex": "M"},
    {"person_id": "7-1", "family_id": "7", "date_of_birth": "2011-05-05"},
]
EVENT = {"person_id": "C1", "event_type": "offence", "event_date": "2016-12-01"}


def count(store: Store, table: str, where: str = "") -> int:
    with store.engine.connect() as c:
        return c.execute(text(f"SELECT COUNT(*) FROM {table} {where}")).scalar_one()


def load(folder: Path, store: Store):
    return {f.source: f for f in ingest(folder, store, THEMES).files}


def test_loading_the_same_files_twice_changes_nothing(tmp_path, db_url):
    write_dataset(tmp_path, families=FAMILIES, members=MEMBERS, events=[EVENT, EVENT])
    store = Store(db_url)
    first = load(tmp_path, store)
    assert (first["events.csv"].loaded, first["events.csv"].unchanged) == (2, 0)
    second = load(tmp_path, store)
    assert all(f.loaded == 0 and f.unchanged == f.rows_read for f in second.values())
    assert count(store, "events") == 2  # two identical incidents are two records


def test_a_cumulative_extract_adds_only_the_new_rows(tmp_path, db_url):
    store = Store(db_url)
    write_dataset(tmp_path, families=FAMILIES, members=MEMBERS, events=[EVENT])
    load(tmp_path, store)
    later = [EVENT, EVENT, {**EVENT, "event_date": "2016-12-05"}]
    write_feed(tmp_path, "events", later)
    report = load(tmp_path, store)["events.csv"]
    assert (report.rows_read, report.loaded, report.unchanged, report.quarantined) == (3, 2, 1, 0)
    assert count(store, "events") == 3


def test_a_complete_extract_retires_what_its_source_no_longer_holds_and_keeps_it_in_the_log(tmp_path, db_url):
    store = Store(db_url)
    job = {"person_id": "P1", "episode_type": "employment", "start_date": "2017-03-01", "end_date": ""}
    write_dataset(tmp_path, families=FAMILIES, members=MEMBERS, events=[EVENT, EVENT], episodes=[job])
    write_feed(tmp_path, "events", [EVENT], name="police__events.csv")
    load(tmp_path, store)
    # the case system's next extract: the job has ended, and one of the two incidents was recorded twice in error
    write_feed(tmp_path, "episodes", [{**job, "end_date": "2017-06-30"}])
    write_feed(tmp_path, "events", [EVENT])
    result = ingest(tmp_path, store, THEMES, complete=True)
    reports = {f.source: f for f in result.files}
    assert (reports["episodes.csv"].loaded, reports["episodes.csv"].retired) == (1, 1)
    assert (reports["events.csv"].unchanged, reports["events.csv"].retired) == (1, 1)
    assert reports["police__events.csv"].retired == 0  # another source's records are its own
    assert result.summary().endswith(", retired 2 records no longer in their complete extract")
    with store.engine.connect() as c:
        assert [str(d) for d in c.execute(text("SELECT end_date FROM episodes")).scalars()] == ["2017-06-30"]
        assert count(store, "events") == 2
        logged = c.execute(text("SELECT table_name, before, after FROM corrections ORDER BY table_name")).all()
    assert [(t, a) for t, _, a in logged] == [("episodes", "null"), ("events", "null")]
    assert '"end_date": null' in logged[0][1] and '"source": "episodes.csv"' in logged[0][1]
    # without the flag a file adds only what is new, as before: nothing is retired
    write_feed(tmp_path, "events", [{**EVENT, "event_date": "2016-12-05"}])
    assert load(tmp_path, store)["events.csv"].retired == 0 and count(store, "events") == 3


def test_two_sources_of_one_table_are_separate_records(tmp_path, db_url):
    store = Store(db_url)
    write_dataset(tmp_path, families=FAMILIES, members=MEMBERS)
    write_feed(tmp_path, "events", [EVENT], name="police__events.csv")
    write_feed(tmp_path, "events", [EVENT], name="schools__events.csv")
    reports = load(tmp_path, store)
    assert reports["police__events.csv"].loaded == 1 and reports["schools__events.csv"].loaded == 1
    with store.engine.connect() as c:
        assert sorted(c.execute(text("SELECT source FROM events")).scalars()) == [
            "police__events.csv",
            "schools__events.csv",
        ]


def test_a_corrected_file_clears_its_quarantine_entries(tmp_path, db_url):
    store = Store(db_url)
    write_dataset(
        tmp_path,
        families=FAMILIES,
        members=MEMBERS,
        events=[EVENT, {**EVENT, "event_type": "Offence"}, {**EVENT, "event_date": "2016-1-2"}],
    )
    report = load(tmp_path, store)["events.csv"]
    assert (report.loaded, report.quarantined) == (1, 2)
    assert count(store, "quarantine", "WHERE source = 'events.csv'") == 2
    write_feed(
        tmp_path, "events", [EVENT, {**EVENT, "event_type": "asb_incident"}, {**EVENT, "event_date": "2016-1-2"}]
    )
    report = load(tmp_path, store)["events.csv"]
    assert (report.loaded, report.unchanged, report.quarantined) == (1, 1, 1)
    q = store.quarantine_frame()
    assert q["row"].to_list() == [4] and q["family_id"].to_list() == ["F1"]


def test_a_keyed_record_loaded_again_replaces_the_stored_row_and_is_logged(tmp_path, db_url):
    store = Store(db_url)
    write_dataset(tmp_path, families=FAMILIES, members=MEMBERS)
    load(tmp_path, store)
    write_feed(tmp_path, "families", [{**FAMILIES[0], "attachment_date": "2017-01-11"}, FAMILIES[1]])
    report = load(tmp_path, store)["families.csv"]
    assert (report.loaded, report.unchanged) == (1, 1)
    with store.engine.connect() as c:
        assert c.execute(text("SELECT attachment_date FROM families WHERE family_id = 'F1'")).scalar_one() in (
            dt.date(2017, 1, 11),
            "2017-01-11",
        )
        before, after = c.execute(text("SELECT before, after FROM corrections")).one()
    assert '"2017-01-10"' in before and '"2017-01-11"' in after


def test_references_are_satisfied_by_what_the_database_holds(tmp_path, db_url):
    store = Store(db_url)
    write_dataset(tmp_path / "a", families=FAMILIES, members=MEMBERS)
    load(tmp_path / "a", store)
    write_feed(tmp_path / "b", "events", [EVENT, {**EVENT, "person_id": "ZZ"}])
    report = load(tmp_path / "b", store)["events.csv"]
    assert (report.loaded, report.quarantined) == (1, 1)


def test_a_nul_byte_from_a_damaged_export_is_quarantined_on_every_database(tmp_path, db_url):
    write_dataset(
        tmp_path,
        families=FAMILIES,
        members=MEMBERS,
        events=[EVENT, {**EVENT, "event_type": "offence\x00\x00", "event_date": "2016-12-02"}],
    )
    store = Store(db_url)
    report = load(tmp_path, store)["events.csv"]
    assert (report.loaded, report.quarantined) == (1, 1)
    entry = store.quarantine_frame().row(0, named=True)
    assert (entry["row"], entry["column"], entry["value"]) == (3, "event_type", "offence\u2400\u2400")
    assert entry["reason"].startswith("event_type holds a NUL character (byte 0), which no text may hold")


def test_every_stored_text_column_has_its_length_in_the_feed_contract():
    for table, contract in contracts().items():
        columns = FEED_MODELS[table].__table__.c
        for name, spec in contract.columns.items():
            length = getattr(columns[name].type, "length", None)
            if spec.type in ("id", "text", "code", "indicator"):
                assert spec.max_length == length, (table, name)


def test_every_stored_whole_number_is_a_32_bit_integer_as_validation_bounds_it():
    for table, contract in contracts().items():
        for name, spec in contract.columns.items():
            if spec.type in ("int", "money"):
                column = FEED_MODELS[table].__table__.c[name]
                assert type(column.type) is Integer and MAX_INTEGER == 2**31 - 1, (table, name)


def test_a_value_too_long_to_store_is_quarantined_on_every_database(tmp_path, db_url):
    long_id, name = "F" * 101, "A" * 201
    write_dataset(
        tmp_path,
        families=[
            *FAMILIES,
            {"family_id": long_id, "attachment_date": "2017-01-10"},
            {"family_id": "F" * 100, "attachment_date": "2017-01-10"},
        ],
        members=[
            *MEMBERS,
            {"person_id": "P9", "family_id": long_id},
            {"person_id": "P8", "family_id": "F1", "given_name": name},
        ],
    )
    store = Store(db_url)
    reports = load(tmp_path, store)
    assert (reports["families.csv"].loaded, reports["families.csv"].quarantined) == (3, 1)
    assert (reports["members.csv"].loaded, reports["members.csv"].quarantined) == (3, 2)
    entries = {e["row"]: e for e in store.quarantine_frame().filter(pl.col("table") == "members").iter_rows(named=True)}
    assert entries[5]["family_id"] is None  # an identifier too long to store links to no family
    assert (entries[5]["column"], entries[5]["person_id"]) == ("family_id", "P9")
    assert entries[6]["reason"] == "given_name is 201 characters long; at most 200 are kept"
    assert entries[6]["value"] == "(personal data, not shown)"  # names go only into the impact-study return
    family = store.quarantine_frame().filter(pl.col("table") == "families").row(0, named=True)
    assert family["value"] == long_id and family["family_id"] is None


def _workbook(path: Path) -> None:
    book = Workbook()
    book.remove(book.active)
    families = book.create_sheet("Families")
    families.append(["family_id", "attachment_date", "keyworker_id", "closure_date"])
    families.append(["F1", dt.datetime(2017, 1, 10), "KW1", None])
    families.append([7.0, dt.date(2017, 2, 1), None, None])
    members = book.create_sheet("members")
    members.append(["person_id", "family_id", "date_of_birth", "sex"])
    members.append(["P1", "F1", dt.datetime(1980, 1, 1), "F"])
    members.append(["C1", "F1", dt.date(2010, 1, 1), "M"])
    members.append(["7-1", 7, dt.date(2011, 5, 5), None])
    events = book.create_sheet("events")
    events.append(["person_id", "event_type", "event_date"])
    events.append(["C1", "offence", dt.datetime(2016, 12, 1, 0, 0)])
    events.append(["C1", "offence", dt.datetime(2016, 12, 2, 14, 30)])  # a time of day: a bad value
    attendance = book.create_sheet("attendance")
    attendance.append(["person_id", "term_id", "possible_sessions", "authorised_absence", "unauthorised_absence"])
    attendance.append(["C1", "2016-17-autumn", 140.0, 3, 2.0])
    book.create_sheet("Notes").append(["anything"])
    book.save(path)


def test_xlsx_and_csv_give_identical_loads(tmp_path, db_url):
    workbook = tmp_path / "keyworker.xlsx"
    _workbook(workbook)
    csv_folder = tmp_path / "csv"
    write_dataset(
        csv_folder,
        families=[{**FAMILIES[0], "keyworker_id": "KW1"}, FAMILIES[1]],
        members=MEMBERS,
        events=[EVENT, {**EVENT, "event_date": "2016-12-02 14:30:00"}],
        attendance=[
            {
                "person_id": "C1",
                "term_id": "2016-17-autumn",
                "possible_sessions": "140",
                "authorised_absence": "3",
                "unauthorised_absence": "2",
            }
        ],
    )
    terms = tmp_path / "terms"
    terms.mkdir()
    (terms / "terms.csv").write_bytes((csv_folder / "terms.csv").read_bytes())
    by_csv = Store(f"sqlite:///{tmp_path / 'csv.db'}")
    load(csv_folder, by_csv)
    by_xlsx = Store(db_url)
    load(terms, by_xlsx)
    result = ingest(workbook, by_xlsx, THEMES)
    assert result.ignored == ["keyworker.xlsx:Notes"]
    reports = {f.source: f for f in result.files}
    assert reports["keyworker.xlsx:events"].quarantined == 1
    entry = by_xlsx.quarantine_frame().row(0, named=True)
    assert (entry["source"], entry["row"], entry["column"]) == ("keyworker.xlsx:events", 3, "event_date")
    assert "event_date '2016-12-02 14:30:00' has a time of day: the column takes a date" in entry["reason"]
    for table in ("families", "members", "events", "attendance"):
        a = by_csv.load_tables()[table]
        b = by_xlsx.load_tables()[table]
        assert a.sort(a.columns).equals(b.sort(b.columns)), table
    assert by_xlsx.load_tables()["families"].sort("family_id")["family_id"].to_list() == ["7", "F1"]


def test_a_process_killed_inside_a_files_transaction_leaves_nothing_of_that_file(tmp_path, db_url):
    write_dataset(tmp_path / "data", families=FAMILIES, members=MEMBERS)
    (tmp_path / "data" / "terms.csv").unlink()
    Store(db_url)  # schema in place before the kill, so only the file's own writes are at stake
    process = subprocess.Popen(
        [sys.executable, str(SEAMS / "held_ingest.py"), db_url, str(tmp_path / "data")],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = line_within(process, 120)  # when the load holds its first file
        assert line.strip() == "holding families.csv", f"the ingest never reached its hold: {line!r}"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    store = Store(db_url)
    assert count(store, "families") == 0
    assert count(store, "ingest_runs") == 0
    assert count(store, "members") == 0
    report = load(tmp_path / "data", store)
    assert report["families.csv"].loaded == 2 and report["members.csv"].loaded == 3


def test_progress_is_reported_in_rows_as_they_are_written(tmp_path, sqlite_url):
    write_dataset(tmp_path, families=FAMILIES, members=MEMBERS, events=[EVENT] * 5)
    seen = []
    ingest(tmp_path, Store(sqlite_url), THEMES, progress=lambda what, done, total: seen.append((what, done, total)))
    total = 45 + 2 + 3 + 5
    assert seen and all(t == total for _, _, t in seen)
    assert [d for _, d, _ in seen] == sorted(d for _, d, _ in seen) and seen[-1][1] == total
    assert any(what == "events.csv" for what, _, _ in seen)
