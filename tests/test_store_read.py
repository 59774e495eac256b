"""Reading feed tables back from the database: the fast cursor path agrees with SQLAlchemy's row path."""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import select, text

from conftest import write_dataset
from pbr.contract import contracts
from pbr.feeds.ingest import ingest
from pbr.store import Store, read_through_cursor
from pbr.store.models import FEED_MODELS


def _stored(tmp_path, db_url) -> Store:
    data = write_dataset(
        tmp_path / "data",
        families=[{"family_id": "F1", "attachment_date": "2016-02-29"}],
        members=[
            {"person_id": "P1", "family_id": "F1", "date_of_birth": "2008-12-31"},
            {"person_id": "P2", "family_id": "F1", "date_of_birth": ""},
        ],
        episodes=[
            {"person_id": "P1", "episode_type": "cin", "start_date": "2015-01-01", "end_date": ""},
            {"person_id": "P2", "episode_type": "jsa", "start_date": "2015-03-01", "end_date": "2016-12-31"},
        ],
        attendance=[
            {
                "person_id": "P1",
                "term_id": "2015-16-spring",
                "possible_sessions": "120",
                "authorised_absence": "3",
                "unauthorised_absence": "0",
            }
        ],
    )
    store = Store(db_url)
    ingest(data, store, ["crime_asb", "education"], today=dt.date(2020, 1, 1))
    return store


def test_the_cursor_path_reads_what_the_row_path_reads(tmp_path, db_url):
    store = _stored(tmp_path, db_url)
    tables = store.load_tables()
    for name in ("families", "members", "episodes", "attendance"):
        model, columns = FEED_MODELS[name].__table__, list(contracts()[name].columns)
        # a bound parameter (true of every row) sends the query down SQLAlchemy's row-by-row path
        query = select(*[model.c[c] for c in columns]).where(model.c[columns[0]] != "nobody")
        by_rows = store.read(query, schema=dict(tables[name].schema))
        assert tables[name].sort(columns[0]).equals(by_rows.sort(columns[0])), name


def test_dates_and_empty_dates_come_back_typed(tmp_path, db_url):
    tables = _stored(tmp_path, db_url).load_tables()
    episodes = tables["episodes"].sort("person_id")
    assert episodes.schema["end_date"] == pl.Date
    assert episodes.get_column("end_date").to_list() == [None, dt.date(2016, 12, 31)]
    assert tables["families"].row(0, named=True)["attachment_date"] == dt.date(2016, 2, 29)
    assert tables["members"].sort("person_id").get_column("date_of_birth").to_list() == [dt.date(2008, 12, 31), None]
    assert tables["attendance"].row(0, named=True)["possible_sessions"] == 120


def test_text_with_quotes_commas_newlines_and_accents_goes_in_and_out_unchanged(tmp_path, db_url):
    awkward = 'O\'Brien, "Jo"\nsecond line; Zoë \\N'
    data = write_dataset(
        tmp_path / "data",
        families=[{"family_id": "F1", "attachment_date": "2016-02-29"}],
        members=[
            {"person_id": "P1", "family_id": "F1", "date_of_birth": "2008-12-31", "given_name": awkward},
            {"person_id": "P2", "family_id": "F1", "date_of_birth": "not a date", "given_name": awkward},
        ],
    )
    store = Store(db_url)
    result = ingest(data, store, ["crime_asb"], today=dt.date(2020, 1, 1))
    members = next(f for f in result.files if f.table == "members")
    assert (members.loaded, members.quarantined) == (1, 1)
    member = store.load_tables()["members"].row(0, named=True)
    assert (member["person_id"], member["given_name"], member["postcode"]) == ("P1", awkward, None)
    held = store.quarantine_frame().row(0, named=True)
    assert (held["person_id"], held["column"], held["value"]) == ("P2", "date_of_birth", "not a date")


def test_one_family_s_records_and_the_whole_term_calendar(tmp_path, db_url):
    data = write_dataset(
        tmp_path / "data",
        families=[
            {"family_id": "F1", "attachment_date": "2016-02-29"},
            {"family_id": "F2", "attachment_date": "2016-03-01"},
        ],
        members=[
            {"person_id": "P1", "family_id": "F1", "date_of_birth": "2008-12-31"},
            {"person_id": "P2", "family_id": "F2", "date_of_birth": "2009-01-01"},
        ],
        events=[
            {"person_id": "P1", "event_type": "offence", "event_date": "2016-01-05"},
            {"person_id": "P2", "event_type": "offence", "event_date": "2016-01-06"},
        ],
        assessments=[
            {
                "family_id": "F1",
                "tool": "family_star",
                "domain": "health",
                "assessment_date": "2016-03-01",
                "score": "3",
            },
            {
                "family_id": "F2",
                "tool": "family_star",
                "domain": "health",
                "assessment_date": "2016-03-01",
                "score": "4",
            },
        ],
        grant_payments=[{"payment_date": "2016-04-01", "amount": "1000.00", "kind": "attachment", "reference": "R1"}],
    )
    store = Store(db_url)
    ingest(data, store, ["crime_asb"], today=dt.date(2020, 1, 1))
    everything, one = store.load_tables(), store.load_tables("F2")
    assert one["families"].get_column("family_id").to_list() == ["F2"]
    assert one["members"].get_column("person_id").to_list() == ["P2"]
    assert one["events"].get_column("event_date").to_list() == [dt.date(2016, 1, 6)]
    assert one["assessments"].get_column("family_id").to_list() == ["F2"]
    assert one["terms"].equals(everything["terms"]) and one["terms"].height > 40
    assert (one["grant_payments"].height, everything["grant_payments"].height) == (0, 1)


def test_a_table_read_in_small_batches_is_the_same_table(tmp_path, db_url):
    store = _stored(tmp_path, db_url)
    model = FEED_MODELS["episodes"].__table__
    schema = {"person_id": pl.String, "episode_type": pl.String, "start_date": pl.Date, "end_date": pl.Date}
    query = select(*[model.c[c] for c in schema]).order_by(model.c.person_id)
    with store.engine.connect() as connection:
        whole = read_through_cursor(connection, query, schema)
        in_ones = read_through_cursor(connection, query, schema, batch=1)
    assert whole.height == 2 and in_ones.equals(whole)


def test_a_percent_sign_in_the_query_text_stays_one_percent_sign(db_url):
    frame = Store(db_url).read(text("SELECT 'at or over 10%' AS reason"), schema={"reason": pl.String})
    assert frame.get_column("reason").to_list() == ["at or over 10%"]


def test_an_empty_text_stays_empty_and_a_null_stays_null(db_url):
    frame = Store(db_url).read(
        text("SELECT '' AS empty, NULL AS missing, 0 AS zero"),
        schema={"empty": pl.String, "missing": pl.String, "zero": pl.Int64},
    )
    assert frame.rows() == [("", None, 0)]


def test_dates_read_right_whatever_the_server_s_date_style(db_url):
    schema = {"day": pl.Date}
    with Store(db_url).engine.connect() as connection:
        if connection.dialect.name == "postgresql":  # a server set up the American way writes 03/04/2016
            connection.exec_driver_sql("SET DateStyle TO 'SQL, MDY'")
            query = text("SELECT date '2016-03-04' AS day UNION ALL SELECT date '2016-12-31'")
        else:
            query = text("SELECT '2016-03-04' AS day UNION ALL SELECT '2016-12-31'")
        frame = read_through_cursor(connection, query, schema)
    assert frame.get_column("day").to_list() == [dt.date(2016, 3, 4), dt.date(2016, 12, 31)]


def test_a_type_csv_text_does_not_carry_exactly_is_read_row_by_row(db_url):
    frame = Store(db_url).read(text("SELECT 1 = 1 AS yes, 1 = 0 AS no"), schema={"yes": pl.Boolean, "no": pl.Boolean})
    assert frame.rows() == [(True, False)]
