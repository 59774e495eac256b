"""Every bad-row rule of feeds.md: the quarantine entry names the file, row, column and offending value."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from conftest import write_dataset, write_feed
from pbr.feeds import read_path, validate
from pbr.plan import load_plan

THEMES = load_plan().theme_codes
TODAY = dt.date(2020, 1, 1)
FAMILY = {"family_id": "F1", "attachment_date": "2017-01-10"}
MEMBERS = [
    {"person_id": "P1", "family_id": "F1", "date_of_birth": "1980-01-01", "sex": "F"},
    {"person_id": "C1", "family_id": "F1", "date_of_birth": "2010-01-01", "sex": "M"},
]


def quarantine_of(folder) -> pl.DataFrame:
    read = read_path(folder)
    assert not [f for f in read.files if f.rejected]
    return validate(read.files, THEMES, today=TODAY).quarantine


def only_entry(folder, source: str) -> dict:
    q = quarantine_of(folder).filter(pl.col("source") == source)
    assert q.height == 1, q
    return q.row(0, named=True)


CASES = [
    # table, bad row, row number of the bad row, column, offending value, words in the reason
    (
        "events",
        {"person_id": "C1", "event_type": "offence", "event_date": "2017-1-5"},
        "event_date",
        "2017-1-5",
        "YYYY-MM-DD",
    ),
    (
        "events",
        {"person_id": "C1", "event_type": "offence", "event_date": "2017-02-30"},
        "event_date",
        "2017-02-30",
        "not a date",
    ),
    (
        "members",
        {"person_id": "C2", "family_id": "F1", "date_of_birth": "0000-06-01"},
        "date_of_birth",
        "0000-06-01",
        "not a date",
    ),
    (
        "events",
        {"person_id": "C1", "event_type": "Offence", "event_date": "2017-02-01"},
        "event_type",
        "Offence",
        "not a known code",
    ),
    (
        "events",
        {"person_id": "NOBODY", "event_type": "offence", "event_date": "2017-02-01"},
        "person_id",
        "NOBODY",
        "does not exist in members",
    ),
    (
        "events",
        {"person_id": "C1", "event_type": "offence", "event_date": "2021-02-01"},
        "event_date",
        "2021-02-01",
        "after the day of loading",
    ),
    ("events", {"person_id": "C1", "event_type": "", "event_date": "2017-02-01"}, "event_type", None, "is required"),
    (
        "episodes",
        {"person_id": "C1", "episode_type": "cin", "start_date": "2017-02-01", "end_date": "2017-01-01"},
        "end_date",
        "2017-01-01",
        "before start_date",
    ),
    (
        "episodes",
        {"person_id": "C1", "episode_type": "prison", "start_date": "2017-02-01"},
        "episode_type",
        "prison",
        "not a known code",
    ),
    (
        "indicators",
        {"person_id": "C1", "indicator": "housing.arrears", "identified_date": "2017-01-01"},
        "indicator",
        "housing.arrears",
        "theme of the plan",
    ),
    (
        "indicators",
        {"person_id": "C1", "indicator": "health", "identified_date": "2017-01-01"},
        "indicator",
        "health",
        "<theme>.<detail>",
    ),
    (
        "attendance",
        {
            "person_id": "C1",
            "term_id": "2016-17-autumn",
            "possible_sessions": "100",
            "authorised_absence": "60",
            "unauthorised_absence": "50",
        },
        "authorised_absence",
        "60",
        "more than possible_sessions",
    ),
    (
        "attendance",
        {
            "person_id": "C1",
            "term_id": "2016-17-autumn",
            "possible_sessions": "0",
            "authorised_absence": "0",
            "unauthorised_absence": "0",
        },
        "possible_sessions",
        "0",
        "at least 1",
    ),
    (
        "attendance",
        {
            "person_id": "C1",
            "term_id": "2016-17-autumn",
            "possible_sessions": "100",
            "authorised_absence": "-1",
            "unauthorised_absence": "0",
        },
        "authorised_absence",
        "-1",
        "whole number",
    ),
    (
        "attendance",
        {
            "person_id": "C1",
            "term_id": "2016-17-autumn",
            "possible_sessions": "140.5",
            "authorised_absence": "0",
            "unauthorised_absence": "0",
        },
        "possible_sessions",
        "140.5",
        "whole number",
    ),
    (
        "attendance",
        {
            "person_id": "C1",
            "term_id": "1999-autumn",
            "possible_sessions": "100",
            "authorised_absence": "0",
            "unauthorised_absence": "0",
        },
        "term_id",
        "1999-autumn",
        "does not exist in terms",
    ),
    (
        "assessments",
        {"family_id": "F1", "tool": "family_star", "domain": "health", "assessment_date": "2017-01-01", "score": "11"},
        "score",
        "11",
        "outside the scale",
    ),
    (
        "assessments",
        {
            "family_id": "F1",
            "tool": "family_star",
            "domain": "health",
            "assessment_date": "2017-01-01",
            "score": "high",
        },
        "score",
        "high",
        "decimal",
    ),
    (
        "assessments",
        {"family_id": "F9", "tool": "family_star", "domain": "health", "assessment_date": "2017-01-01", "score": "3"},
        "family_id",
        "F9",
        "does not exist in families",
    ),
    (
        "members",
        {"person_id": "C2", "family_id": "F1", "date_of_birth": "2021-01-01"},
        "date_of_birth",
        "2021-01-01",
        "after the day of loading",
    ),
    ("members", {"person_id": "C2", "family_id": "F1", "sex": "female"}, "sex", "female", "not a known code"),
    ("members", {"person_id": "C2", "family_id": "F7"}, "family_id", "F7", "does not exist in families"),
    (
        "families",
        {"family_id": "F2", "attachment_date": "2017-01-10", "closure_date": "2016-12-31"},
        "closure_date",
        "2016-12-31",
        "before attachment_date",
    ),
    (
        "grant_payments",
        {"payment_date": "2017-01-10", "amount": "12.345", "kind": "results"},
        "amount",
        "12.345",
        "at most 2 decimal places",
    ),
    (
        "grant_payments",
        {"payment_date": "2017-01-10", "amount": "100", "kind": "bonus"},
        "kind",
        "bonus",
        "not a known code",
    ),
    (
        "attendance",
        {
            "person_id": "C1",
            "term_id": "2016-17-autumn",
            "possible_sessions": "2147483648",
            "authorised_absence": "0",
            "unauthorised_absence": "0",
        },
        "possible_sessions",
        "2147483648",
        "is more than 2,147,483,647, the most pbr stores",
    ),
    (
        "grant_payments",
        {"payment_date": "2017-01-10", "amount": "-21474836.48", "kind": "results"},
        "amount",
        "-21474836.48",
        "is more than £21,474,836.47 either way",
    ),
]


@pytest.mark.parametrize("table,row,column,value,words", CASES, ids=[f"{c[0]}-{c[2]}-{c[3]}" for c in CASES])
def test_bad_row_is_quarantined_with_file_row_column_and_value(tmp_path, table, row, column, value, words):
    base = {"families": [FAMILY], "members": MEMBERS}
    good = {
        "events": {"person_id": "P1", "event_type": "dv_incident", "event_date": "2016-12-01"},
        "episodes": {"person_id": "P1", "episode_type": "jsa", "start_date": "2016-01-01"},
        "indicators": {"person_id": "P1", "indicator": "health.mh", "identified_date": "2016-12-01"},
        "attendance": {
            "person_id": "P1",
            "term_id": "2016-17-spring",
            "possible_sessions": "100",
            "authorised_absence": "1",
            "unauthorised_absence": "2",
        },
        "assessments": {
            "family_id": "F1",
            "tool": "family_star",
            "domain": "health",
            "assessment_date": "2016-12-01",
            "score": "4",
        },
        "members": MEMBERS[1],
        "families": FAMILY,
        "grant_payments": {"payment_date": "2017-01-10", "amount": "1000.00", "kind": "attachment"},
    }[table]
    rows = [good, row] if table not in ("members", "families") else base[table] + [row]
    write_dataset(tmp_path, **{**base, table: rows})
    entry = only_entry(tmp_path, f"{table}.csv")
    assert entry["row"] == len(rows) + 1  # header is row 1, the bad row is the last
    assert column in entry["column"].split(", ")
    if value is not None:
        assert entry["value"] == value
        assert f"'{value}'" in entry["reason"] or value in entry["reason"]
    assert words in entry["reason"]
    assert column in entry["reason"]


def test_duplicate_keys_quarantine_every_copy(tmp_path):
    write_dataset(
        tmp_path,
        families=[
            FAMILY,
            {"family_id": "F2", "attachment_date": "2017-01-01"},
            {"family_id": "F2", "attachment_date": "2017-02-01"},
        ],
        members=MEMBERS,
    )
    q = quarantine_of(tmp_path).filter(pl.col("source") == "families.csv")
    assert q["row"].to_list() == [3, 4]
    assert all("duplicate key (family_id=F2)" in r and "rows 3, 4" in r for r in q["reason"])


def test_overlapping_terms_are_both_quarantined(tmp_path):
    terms = [
        {"term_id": "t1", "start_date": "2016-09-01", "end_date": "2016-12-31"},
        {"term_id": "t2", "start_date": "2016-12-20", "end_date": "2017-04-01"},
        {"term_id": "t3", "start_date": "2017-04-02", "end_date": "2017-07-20"},
    ]
    write_dataset(tmp_path, families=[FAMILY], members=MEMBERS, terms=terms)
    q = quarantine_of(tmp_path).filter(pl.col("source") == "terms.csv")
    assert sorted(q["row"].to_list()) == [2, 3]
    assert any("overlaps term t2" in r for r in q["reason"]) and any("overlaps term t1" in r for r in q["reason"])


def test_a_row_whose_parent_was_quarantined_is_quarantined_too_saying_so(tmp_path):
    members = [MEMBERS[0], {"person_id": "C1", "family_id": "F1", "date_of_birth": "2010-13-01"}]
    write_dataset(
        tmp_path,
        families=[FAMILY],
        members=members,
        events=[{"person_id": "C1", "event_type": "offence", "event_date": "2016-12-01"}],
    )
    entry = only_entry(tmp_path, "events.csv")
    assert "person_id 'C1' is in quarantine (members.csv row 3)" in entry["reason"]
    assert entry["family_id"] == "F1"


def test_blank_rows_are_skipped_but_keep_the_spreadsheet_row_numbers(tmp_path):
    write_dataset(tmp_path, families=[FAMILY], members=MEMBERS)
    (tmp_path / "events.csv").write_text(
        "person_id,event_type,event_date\nP1,dv_incident,2016-12-01\n\n,,\nC1,offence,2016-13-01\n"
    )
    read = read_path(tmp_path)
    assert next(f for f in read.files if f.table == "events").rows_read == 2
    assert only_entry(tmp_path, "events.csv")["row"] == 5


def test_columns_match_case_insensitively_in_any_order_and_extra_columns_are_ignored(tmp_path):
    write_dataset(tmp_path, families=[FAMILY], members=MEMBERS)
    (tmp_path / "events.csv").write_text(" Event_Date ,NOTE,PERSON_ID,event_type\n2016-12-01,x,P1,dv_incident\n")
    read = read_path(tmp_path)
    result = validate(read.files, THEMES, today=TODAY)
    assert result.quarantine.height == 0
    assert result.tables["events"].select("person_id", "event_type").row(0) == ("P1", "dv_incident")


def test_values_are_trimmed_of_spaces_at_both_ends_only(tmp_path):
    write_dataset(tmp_path, families=[FAMILY], members=MEMBERS)
    (tmp_path / "events.csv").write_text(
        "person_id,event_type,event_date\n P1 , dv_incident , 2016-12-01\nP1,asb incident,2016-12-02\n"
    )
    result = validate(read_path(tmp_path).files, THEMES, today=TODAY)
    assert result.tables["events"].select("person_id", "event_type", "event_date").rows() == [
        ("P1", "dv_incident", dt.date(2016, 12, 1))
    ]
    assert result.quarantine.select("row", "column", "value").rows() == [(3, "event_type", "asb incident")]


def test_a_value_of_spaces_alone_is_empty_and_a_row_of_them_is_blank(tmp_path):
    write_feed(tmp_path, "families", [{"family_id": "F1", "attachment_date": "2017-01-10"}])
    (tmp_path / "members.csv").write_text(
        "person_id,family_id,date_of_birth,sex\nP1,F1,1980-01-01,   \n"
        "   ,F1,2010-01-01,M\n  ,   , ,\nC2,F1,2011-01-01,F\n"
    )
    read = read_path(tmp_path)
    assert next(f for f in read.files if f.table == "members").rows_read == 3
    result = validate(read.files, THEMES, today=TODAY)
    assert result.tables["members"].select("person_id", "sex").rows() == [("P1", None), ("C2", "F")]
    assert result.quarantine.select("row", "column", "value", "reason").rows() == [
        (3, "person_id", None, "person_id is empty but is required")
    ]


def test_identifiers_stay_text(tmp_path):
    write_feed(tmp_path, "families", [{"family_id": "007", "attachment_date": "2017-01-10"}])
    write_feed(tmp_path, "members", [{"person_id": "0042", "family_id": "007", "date_of_birth": "2010-01-01"}])
    result = validate(read_path(tmp_path).files, THEMES, today=TODAY)
    assert result.tables["members"]["person_id"].to_list() == ["0042"]
    assert result.tables["families"]["family_id"].to_list() == ["007"]


def test_other_files_are_listed_as_ignored(tmp_path):
    write_dataset(tmp_path, families=[FAMILY], members=MEMBERS)
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "housing.csv").write_text("a\n1\n")
    (tmp_path / "~$families.xlsx").write_bytes(b"\x05owner")  # Excel's lock file beside a workbook open in Excel
    read = read_path(tmp_path)
    assert sorted(read.ignored) == [
        "housing.csv",
        "notes.txt",
        "~$families.xlsx (Excel's lock file: the workbook is open in Excel)",
    ]
    assert not [f for f in read.files if f.rejected]


@pytest.mark.parametrize(
    "content,words",
    [
        ("person_id,event_date\nP1,2016-12-01\n", "missing required column event_type"),
        ("person_id,indicator\nP1,health.x\n", "missing required column identified_date"),
        (
            "person_id;event_type;event_date\nP1;offence;2016-12-01\n",
            "missing required columns person_id, event_type, "
            "event_date: the header holds semicolons where commas belong; save the file as 'CSV UTF-8 (Comma delimited)'",
        ),
        (
            "person_id\tindicator\tidentified_date\nP1\thealth.x\t2016-12-01\n",
            "the header holds tabs where commas belong",
        ),
    ],
)
def test_a_file_missing_a_required_column_is_rejected_whole(tmp_path, content, words):
    write_dataset(tmp_path, families=[FAMILY], members=MEMBERS)
    name = "events.csv" if "event" in content else "indicators.csv"
    (tmp_path / name).write_text(content)
    rejected = [f for f in read_path(tmp_path).files if f.rejected]
    assert len(rejected) == 1 and rejected[0].source == name and words in rejected[0].rejected


def test_a_row_with_more_values_than_the_header_is_quarantined_and_the_rest_of_its_file_loads(tmp_path):
    write_dataset(tmp_path, families=[FAMILY], members=MEMBERS)
    (tmp_path / "events.csv").write_text(
        "person_id,event_type,event_date\nP1,dv_incident,2016-12-01\n"
        "C1,offence,2016-12-02,Smith, J\n"
        '"C1","asb_incident","2016-12-03",,\n'
    )
    read = read_path(tmp_path)
    events = next(f for f in read.files if f.table == "events")
    assert events.rejected is None and events.rows_read == 3
    result = validate(read.files, THEMES, today=TODAY)
    entry = result.quarantine.filter(pl.col("source") == "events.csv").row(0, named=True)
    assert result.quarantine.filter(pl.col("source") == "events.csv").height == 1
    assert (entry["row"], entry["column"], entry["family_id"]) == (3, "(row)", "F1")
    assert "5 values but the header names 3 columns (extra 'Smith', ' J')" in entry["reason"]
    # empty values past the header lose nothing: that row loads
    assert result.tables["events"].select("person_id", "event_type").rows() == [
        ("P1", "dv_incident"),
        ("C1", "asb_incident"),
    ]


def test_row_numbers_after_a_value_holding_a_line_break_stay_those_a_spreadsheet_shows(tmp_path):
    write_dataset(tmp_path, families=[FAMILY], members=MEMBERS)
    (tmp_path / "events.csv").write_text(
        'person_id,event_type,event_date\n"P1","dv_incident","2016-12-01"\n'
        '"C1","offence","2016-12-02","two\nlines"\n'
        "C1,offence,2016-12-02,extra\n"
    )
    q = quarantine_of(tmp_path).filter(pl.col("source") == "events.csv").sort("row")
    assert q["row"].to_list() == [3, 4]
    assert "(extra 'two\nlines')" in q["reason"][0]


def test_a_file_that_is_not_utf8_is_rejected_whole_naming_the_line(tmp_path):
    write_dataset(tmp_path, families=[FAMILY], members=MEMBERS)
    (tmp_path / "events.csv").write_bytes(
        b"person_id,event_type,event_date\nP1,dv_incident,2016-12-01\nC1,offence,2016-12-02\nC\xe9,offence,2016-12-03\n"
    )
    rejected = [f for f in read_path(tmp_path).files if f.rejected]
    assert [f.source for f in rejected] == ["events.csv"]
    assert "line 4 is not UTF-8 text (byte 0xE9); save the file as 'CSV UTF-8'" in rejected[0].rejected


def test_a_file_whose_header_cannot_be_read_is_rejected_and_the_other_files_load(tmp_path):
    write_dataset(tmp_path, families=[FAMILY], members=MEMBERS)
    (tmp_path / "events.csv").write_bytes(b"")
    (tmp_path / "indicators.csv").write_bytes(b"person_id,indic\xe9tor,identified_date\nP1,health.x,2016-12-01\n")
    read = read_path(tmp_path)
    rejected = {f.source: f.rejected for f in read.files if f.rejected}
    assert sorted(rejected) == ["events.csv", "indicators.csv"]
    assert rejected["events.csv"].startswith("cannot be read as CSV: ")
    assert "line 1 is not UTF-8 text (byte 0xE9)" in rejected["indicators.csv"]
    loaded = {f.source: f.rows_read for f in read.files if not f.rejected}
    assert loaded["families.csv"] == 1 and loaded["members.csv"] == 2


def test_a_column_named_twice_rejects_the_file_or_sheet_whole(tmp_path):
    from openpyxl import Workbook

    write_dataset(tmp_path, families=[FAMILY], members=MEMBERS)
    (tmp_path / "events.csv").write_text(
        "person_id,event_type,event_date,Event_Type \nP1,offence,2016-12-01,asb_incident\n"
    )
    book = Workbook()
    sheet = book.active
    sheet.title = "events"
    sheet.append(["person_id", "event_type", "event_date", "event_type"])
    sheet.append(["P1", "offence", "2016-12-01", "asb_incident"])
    book.save(tmp_path / "partner.xlsx")
    rejected = {f.source: f.rejected for f in read_path(tmp_path).files if f.rejected}
    assert rejected == {
        "events.csv": "column event_type appears more than once",
        "partner.xlsx:events": "column event_type appears more than once",
    }


def test_the_exact_same_name_twice_is_caught_although_polars_renames_the_copy(tmp_path):
    write_dataset(tmp_path, families=[FAMILY], members=MEMBERS)
    (tmp_path / "events.csv").write_text(
        "person_id,event_type,event_date,event_type\nP1,offence,2016-12-01,asb_incident\n"
    )
    rejected = [f.rejected for f in read_path(tmp_path).files if f.rejected]
    assert rejected == ["column event_type appears more than once"]


def test_a_workbook_number_reads_as_excel_shows_it(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    payments = book.create_sheet("grant_payments")
    payments.append(["payment_date", "amount", "kind"])
    payments.append([dt.date(2017, 5, 1), 0.1 + 0.2, "attachment"])  # a formula's 0.30000000000000004
    payments.append([dt.date(2017, 5, 2), 12.345, "attachment"])  # three decimal places stay a bad value
    scores = book.create_sheet("assessments")
    scores.append(["family_id", "tool", "domain", "assessment_date", "score"])
    scores.append(["F1", "family_star", "health", dt.date(2017, 1, 5), 71 * 0.1])  # 7.1000000000000005
    families = book.create_sheet("families")
    families.append(["family_id", "attachment_date"])
    families.append(["F1", dt.date(2017, 1, 10)])
    book.save(tmp_path / "council.xlsx")
    result = validate(read_path(tmp_path / "council.xlsx").files, THEMES, today=TODAY)
    assert result.tables["grant_payments"]["amount"].to_list() == [30]
    assert [str(s) for s in result.tables["assessments"]["score"].to_list()] == ["7.100000000"]
    bad = result.quarantine.row(0, named=True)
    assert result.quarantine.height == 1 and (bad["row"], bad["column"], bad["value"]) == (3, "amount", "12.345")


def test_a_row_failing_a_rule_is_never_passed_as_good_even_if_pandera_names_no_failure(tmp_path, monkeypatch):
    import pandera.polars as pa

    write_dataset(tmp_path, families=[FAMILY], members=MEMBERS)
    write_feed(tmp_path, "events", [{"person_id": "C1", "event_type": "offence", "event_date": "2017-1-5"}])
    files = read_path(tmp_path).files
    assert quarantine_of(tmp_path).height == 1  # pandera names the fault
    monkeypatch.setattr(pa.DataFrameSchema, "validate", lambda self, frame, **options: frame)
    with pytest.raises(RuntimeError, match="pandera named no failing rule"):
        validate(files, THEMES, today=TODAY)
