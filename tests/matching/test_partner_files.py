"""Partner files as partners send them: bad files refused whole, bad rows held, workbooks, references linked
again, another source's attendance never overwritten without a person, retention and redaction."""

from __future__ import annotations

import datetime as dt
import json

import openpyxl
import polars as pl
import pytest
from sqlalchemy import text

from conftest import context_at, run_pbr, write_dataset, write_feed
from pbr import matching, services
from pbr.store import Store

TODAY = dt.date(2026, 11, 30)
IDENTITY = ["given_name", "family_name", "date_of_birth", "sex", "postcode", "uprn", "partner_ref"]
EVENTS = [*IDENTITY, "event_type", "event_date"]
ATTENDANCE = [*IDENTITY, "term_id", "possible_sessions", "authorised_absence", "unauthorised_absence"]
MEMBERS = [
    {
        "person_id": "F1-A",
        "family_id": "F1",
        "date_of_birth": "1984-03-09",
        "sex": "F",
        "given_name": "Rosalind",
        "family_name": "Ashcombe",
        "postcode": "ZZ1 1AB",
        "uprn": "100200300",
    },
    {
        "person_id": "F1-C",
        "family_id": "F1",
        "date_of_birth": "2008-11-02",
        "sex": "M",
        "given_name": "Tobias",
        "family_name": "Ashcombe",
        "postcode": "ZZ1 1AB",
        "uprn": "100200300",
    },
    {
        "person_id": "F2-A",
        "family_id": "F2",
        "date_of_birth": "1979-06-21",
        "sex": "M",
        "given_name": "Declan",
        "family_name": "Farrowby",
        "postcode": "ZZ2 4QT",
        "uprn": "100200999",
    },
]
ROSALIND = {
    "given_name": "Rosalind",
    "family_name": "Ashcombe",
    "date_of_birth": "1984-03-09",
    "sex": "F",
    "postcode": "ZZ1 1AB",
}
TOBIAS = {"given_name": "TOBIAS", "family_name": "ASHCOMBE", "date_of_birth": "2008-11-02", "postcode": "zz11ab"}


@pytest.fixture
def council(db_url, tmp_path):
    store = Store(db_url)
    ctx = context_at(store, TODAY)
    families = [
        {"family_id": "F1", "attachment_date": "2017-03-01"},
        {"family_id": "F2", "attachment_date": "2017-04-01"},
    ]
    data = write_dataset(
        tmp_path / "base",
        families=families,
        members=MEMBERS,
        attendance=[
            {
                "person_id": "F1-C",
                "term_id": "2016-17-autumn",
                "possible_sessions": "140",
                "authorised_absence": "2",
                "unauthorised_absence": "1",
            }
        ],
    )
    services.load_feeds(ctx, data)
    return ctx, tmp_path


def _match(ctx, folder):
    return services.match_partner_files(ctx, folder, actor="test")


def test_a_file_missing_an_identity_column_is_refused_whole_naming_it(council):
    ctx, tmp = council
    write_feed(
        tmp / "p",
        "events",
        [ROSALIND | {"event_type": "offence", "event_date": "2017-01-05"}],
        name="police__events.csv",
        columns=[c for c in EVENTS if c != "date_of_birth"],
    )
    report = _match(ctx, tmp / "p")
    assert report.files[0].rejected == "missing required column date_of_birth"
    assert report.total("linked") == 0


def test_a_file_carrying_person_id_is_sent_to_ingest(council):
    ctx, tmp = council
    write_feed(
        tmp / "p",
        "events",
        [ROSALIND | {"person_id": "F1-A", "event_type": "offence", "event_date": "2017-01-05"}],
        name="police__events.csv",
        columns=["person_id", *EVENTS],
    )
    assert "load it with pbr ingest" in _match(ctx, tmp / "p").files[0].rejected


def test_impossible_dates_of_birth_and_empty_names_are_quarantined_with_the_column(council):
    ctx, tmp = council
    rows = [
        ROSALIND | {"event_type": "offence", "event_date": "2017-01-05"},
        ROSALIND | {"date_of_birth": "1984-02-30", "event_type": "offence", "event_date": "2017-01-06"},
        ROSALIND | {"given_name": "   ", "event_type": "offence", "event_date": "2017-01-07"},
        ROSALIND | {"date_of_birth": "2031-01-01", "event_type": "offence", "event_date": "2017-01-08"},
        ROSALIND | {"uprn": "UPRN-12", "event_type": "offence", "event_date": "2017-01-09"},
        ROSALIND | {"sex": "Female", "event_type": "offence", "event_date": "2017-01-10"},
    ]
    write_feed(tmp / "p", "events", rows, name="police__events.csv", columns=EVENTS)
    report = _match(ctx, tmp / "p")
    assert (report.total("linked"), report.total("quarantined")) == (1, 5)
    held = ctx.store.quarantine_frame(source="police__events.csv").sort("row")
    reasons = dict(zip(held["row"], held["reason"], strict=True))
    assert "date_of_birth '1984-02-30' is not a date" in reasons[3]
    assert reasons[4] == "given_name is empty but is required"
    assert "is after the day of loading" in reasons[5]
    assert reasons[6] == "uprn is not a Unique Property Reference Number (1 to 12 digits)"
    assert "sex 'Female' is not a known code" in reasons[7]
    assert set(held["value"].drop_nulls()) <= {"(personal data, not shown)", "1984-02-30", "2031-01-01", "Female"}


def test_a_workbook_sheet_of_partner_rows_matches_like_a_csv(council):
    ctx, tmp = council
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "schools__attendance"
    sheet.append(ATTENDANCE)
    sheet.append([*(TOBIAS.get(c) for c in IDENTITY), "2016-17-spring", 120, 10, 4])
    path = tmp / "schools.xlsx"
    book.save(path)
    report = _match(ctx, path)
    assert report.files[0].source == "schools.xlsx:schools__attendance" and report.total("linked") == 1
    held = ctx.store.read(text("SELECT person_id, term_id, source FROM attendance WHERE term_id = '2016-17-spring'"))
    assert held.rows() == [("F1-C", "2016-17-spring", "schools.xlsx:schools__attendance")]


def test_another_sources_attendance_with_other_values_waits_for_a_person(council):
    ctx, tmp = council
    rows = [
        TOBIAS
        | {
            "term_id": "2016-17-autumn",
            "possible_sessions": "140",
            "authorised_absence": "9",
            "unauthorised_absence": "9",
        },
        TOBIAS
        | {
            "term_id": "2016-17-summer",
            "possible_sessions": "120",
            "authorised_absence": "0",
            "unauthorised_absence": "0",
        },
    ]
    write_feed(tmp / "p", "attendance", rows, name="schools__attendance.csv", columns=ATTENDANCE)
    report = _match(ctx, tmp / "p")
    assert (report.total("linked"), report.total("review")) == (1, 1)
    waiting = matching.review_queue(ctx.store, ctx.matching)[0]
    assert waiting.reason == (
        "the member's attendance for this term is held from attendance.csv with other values: a person decides "
        "which stands"
    )
    held = ctx.store.read(text("SELECT unauthorised_absence FROM attendance WHERE term_id = '2016-17-autumn'"))
    assert held["unauthorised_absence"].to_list() == [1]  # the council's own record stands until a person decides
    matching.accept(ctx.store, waiting.id, "F1-C", "coordinator", "the school's register is right")
    held = ctx.store.read(text("SELECT unauthorised_absence FROM attendance WHERE term_id = '2016-17-autumn'"))
    assert held["unauthorised_absence"].to_list() == [9]


def test_a_partner_reference_linked_before_links_to_the_same_member(council):
    ctx, tmp = council
    unsure = ROSALIND | {
        "given_name": "Ros",
        "date_of_birth": "1948-03-09",
        "postcode": None,
        "sex": None,
        "partner_ref": "07/123456K",
        "event_type": "offence",
        "event_date": "2017-01-05",
    }
    write_feed(tmp / "p", "events", [unsure], name="police__events.csv", columns=EVENTS)
    first = _match(ctx, tmp / "p")
    assert first.total("linked") == 0
    row = matching.links(ctx.store)["row_id"][0]
    matching.accept(ctx.store, int(row), "F1-A", "coordinator", "the nominal record names her")
    later = unsure | {"given_name": "R", "event_date": "2017-02-11"}
    write_feed(tmp / "q", "events", [unsure, later], name="police__events.csv", columns=EVENTS)
    second = _match(ctx, tmp / "q")
    assert second.total("linked") == 2
    person = ctx.store.read(text("SELECT person_id FROM events WHERE event_date = '2017-02-11'"))["person_id"]
    assert person.to_list() == ["F1-A"]


def test_unmatched_rows_are_removed_when_their_retention_ends_and_it_is_audited(council):
    ctx, tmp = council
    stranger = {
        "given_name": "Quentin",
        "family_name": "Blackwood",
        "date_of_birth": "1990-05-05",
        "event_type": "offence",
        "event_date": "2017-01-05",
    }
    write_feed(
        tmp / "p",
        "events",
        [stranger, ROSALIND | {"event_type": "offence", "event_date": "2017-01-05"}],
        name="police__events.csv",
        columns=EVENTS,
    )
    _match(ctx, tmp / "p")
    soon = context_at(ctx.store, TODAY + dt.timedelta(days=30))
    assert services.forget_unmatched_rows(soon, "scheduler").rows == 0
    later = context_at(ctx.store, TODAY + dt.timedelta(days=ctx.matching.unmatched_days + 1))
    planned = services.forget_unmatched_rows(later, "scheduler", dry_run=True)
    assert planned.rows == 1 and matching.links(ctx.store).height == 2
    done = services.forget_unmatched_rows(later, "scheduler")
    assert done.rows == 1 and done.by_source == {"police__events.csv": 1}
    left = matching.links(ctx.store)
    assert left["status"].to_list() == ["linked"]
    audit = ctx.store.read(text("SELECT actor, detail FROM audit_log WHERE action = 'match retention'"))
    assert audit["actor"].to_list() == ["scheduler"] and json.loads(audit["detail"][0])["removed"] == 1


def test_redaction_removes_the_identity_kept_with_linked_partner_rows(council):
    ctx, tmp = council
    write_feed(
        tmp / "p",
        "events",
        [ROSALIND | {"event_type": "offence", "event_date": "2017-01-05", "partner_ref": "07/1"}],
        name="police__events.csv",
        columns=EVENTS,
    )
    _match(ctx, tmp / "p")
    services.save_form(
        ctx, "families", {"family_id": "F1", "attachment_date": "2017-03-01", "closure_date": "2017-12-31"}, "form"
    )
    run_pbr("--db", ctx.store.url, "redact", "--closed-before", "2020-01-01", "--by", "dpo", "--yes", check=True)
    kept = ctx.store.read(
        text("SELECT given_name, family_name, postcode, uprn, partner_ref, date_of_birth FROM partner_rows")
    )
    assert kept.row(0) == (None, None, None, None, None, "1984-03-09")


def test_identify_lists_households_with_stable_ids(council):
    ctx, tmp = council
    household = {"family_name": "Blackwood", "postcode": "ZZ9 9ZZ", "uprn": "555000111"}
    rows = [
        household
        | {"given_name": "Quentin", "date_of_birth": "1990-05-05", "event_type": "offence", "event_date": "2026-06-05"},
        household
        | {
            "given_name": "Mabel",
            "date_of_birth": "2015-05-05",
            "event_type": "asb_incident",
            "event_date": "2026-07-05",
        },
    ]
    write_feed(tmp / "p", "events", rows, name="police__events.csv", columns=EVENTS)
    _match(ctx, tmp / "p")
    csv = tmp / "identified.csv"
    workbook = tmp / "identified.xlsx"
    run_pbr(
        "--db",
        ctx.store.url,
        "identify",
        "--as-of",
        "2026-11-30",
        "--out",
        str(workbook),
        "--csv",
        str(csv),
        check=True,
    )
    listed = pl.read_csv(csv, infer_schema=False)
    assert listed.columns[:5] == ["household", "people", "themes", "eligible", "rows"]
    assert listed.select("people", "themes", "eligible", "rows").row(0) == (
        "2",
        "crime_asb",
        "false",
        "police__events.csv:2;police__events.csv:3",
    )
    again = tmp / "again.csv"
    run_pbr(
        "--db",
        ctx.store.url,
        "identify",
        "--as-of",
        "2026-11-30",
        "--out",
        str(workbook),
        "--csv",
        str(again),
        check=True,
    )
    assert pl.read_csv(again, infer_schema=False)["household"].to_list() == listed["household"].to_list()
    book = openpyxl.load_workbook(workbook)
    assert book.sheetnames == ["Document", "Households", "Evidence", "About"]
    evidence = [[c.value for c in r] for r in book["Evidence"].iter_rows(min_row=2)]
    assert ["crime_asb", "police__events.csv", 2, "offence on 2026-06-05"] == evidence[0][1:2] + evidence[0][3:]
