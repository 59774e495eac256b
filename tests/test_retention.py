"""Names and postcodes of families closed before a day are removed everywhere pbr keeps them; records stay."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import text

import pbr
from conftest import run_pbr, write_dataset
from pbr.feeds.ingest import ingest
from pbr.plan import load_plan
from pbr.store import Store
from pbr.store.retention import redact_closed_before

FAMILIES = [
    {"family_id": "F1", "attachment_date": "2015-06-01", "closure_date": "2016-05-01"},
    {"family_id": "F2", "attachment_date": "2016-06-01", "closure_date": "2018-01-01"},
    {"family_id": "F3", "attachment_date": "2016-06-01"},
]


def member(pid: str, fid: str, given: str, postcode: str = "ZZ99 1AB") -> dict:
    return {
        "person_id": pid,
        "family_id": fid,
        "date_of_birth": "2008-01-01",
        "sex": "F",
        "given_name": given,
        "family_name": "Ashdown",
        "postcode": postcode,
        "address": f"1 {given} Lane, Nowhere",
        "ni_number": "AB123456C",
    }


def load(store: Store, folder, **tables) -> None:
    write_dataset(folder, **tables)
    ingest(folder, store, load_plan().theme_codes)


def test_redaction_removes_personal_columns_of_closed_families_everywhere_and_keeps_the_decisions(tmp_path, db_url):
    store = Store(db_url)
    members = [member("F1-C1", "F1", "Robin"), member("F2-C1", "F2", "Sam"), member("F3-C1", "F3", "Kit")]
    load(store, tmp_path / "first", families=FAMILIES, members=members)
    # a correction (the logged before-and-after holds the names) and a held row with a name too long to keep
    load(
        store,
        tmp_path / "second",
        members=[member("F1-C1", "F1", "Robyn", "ZZ99 2CD"), member("F1-C2", "F1", "R" * 201)],
    )
    before = pbr.evaluate(as_of="2017-10-31", database_url=db_url).decisions

    done = redact_closed_before(store, dt.date(2017, 1, 1), actor="records officer")
    assert (done.families, done.people) == (1, 1)
    with store.engine.connect() as connection:
        names = dict(
            connection.execute(
                text("SELECT person_id, given_name || '/' || family_name || '/' || postcode FROM members")
            ).all()
        )
        assert names == {"F1-C1": None, "F2-C1": "Sam/Ashdown/ZZ99 1AB", "F3-C1": "Kit/Ashdown/ZZ99 1AB"}
        study = dict(connection.execute(text("SELECT person_id, address || '/' || ni_number FROM members")).all())
        assert study == {
            "F1-C1": None,
            "F2-C1": "1 Sam Lane, Nowhere/AB123456C",
            "F3-C1": "1 Kit Lane, Nowhere/AB123456C",
        }
        assert (
            connection.execute(
                text(
                    "SELECT COUNT(*) FROM members WHERE person_id = 'F1-C1' AND (address IS NOT NULL OR ni_number IS NOT NULL)"
                )
            ).scalar_one()
            == 0
        )  # the impact study's new personal fields go too
        assert connection.execute(text("SELECT date_of_birth FROM members WHERE person_id = 'F1-C1'")).scalar_one() in (
            dt.date(2008, 1, 1),
            "2008-01-01",
        )  # what decisions need stays
        logged = connection.execute(text("SELECT before, after FROM corrections WHERE record_key = 'F1-C1'")).one()
        held = connection.execute(
            text("SELECT value FROM quarantine WHERE person_id = 'F1-C2' AND column_name = 'given_name'")
        ).scalar_one()
        audit = connection.execute(
            text("SELECT actor, detail FROM audit_log WHERE action = 'redact personal data'")
        ).one()
    for side in logged:
        content = json.loads(side)
        assert content["given_name"] is None and content["postcode"] is None and content["person_id"] == "F1-C1"
    assert held is None
    assert audit.actor == "records officer" and "for 1 people in 1 families" in audit.detail
    assert pbr.evaluate(as_of="2017-10-31", database_url=db_url).decisions.equals(before)
    assert redact_closed_before(store, dt.date(2017, 1, 1), actor="records officer").people == 0  # done already
    ingest(tmp_path / "second", store, load_plan().theme_codes)  # the same extract sent again changes nothing
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT given_name FROM members WHERE person_id = 'F1-C1'")).scalar_one() is None


def test_redact_asks_first_and_says_what_it_removed(tmp_path, sqlite_url):
    store = Store(sqlite_url)
    load(store, tmp_path / "d", families=FAMILIES, members=[member("F1-C1", "F1", "Robin")])
    db = {"PBR_DATABASE_URL": sqlite_url}
    declined = run_pbr("redact", "--closed-before", "2017-01-01", "--by", "officer", env=db)
    assert (
        declined.returncode == 1
        and "given_name, family_name, postcode, uprn, address, ni_number of 1 people in the 1 families"
        in declined.stderr
    )
    done = run_pbr("redact", "--closed-before", "2017-01-01", "--by", "officer", "--yes", env=db, check=True)
    assert done.stdout.strip() == (
        "removed given_name, family_name, postcode, uprn, address, ni_number of 1 people in 1 families closed before "
        "2017-01-01; their records, decisions and claims stay"
    )
    again = run_pbr("redact", "--closed-before", "2017-01-01", "--by", "officer", env=db, check=True)
    assert again.stdout.startswith("nothing to remove")
