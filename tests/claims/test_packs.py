"""Spot-check evidence packs on the basic example: every fact a decision rests on is in the PDF, with the file and
row it came from; names only where packs go by a secure route; the CLI writes a pack per family and an index."""

from __future__ import annotations

import csv
import datetime as dt
import shutil

import openpyxl
import pytest
from pypdf import PdfReader

import pbr.claims as claims
from conftest import EXAMPLES, run_pbr, write_feed
from pbr.claims.packs import family_packs, write_packs
from pbr.feeds.ingest import ingest
from pbr.plan import load_plan
from pbr.store import Store

BASIC = EXAMPLES / "basic"
PLAN = load_plan()


def text_of(path) -> str:
    return " ".join(" ".join((page.extract_text() or "") for page in PdfReader(path).pages).split())


def rows_of(name: str) -> list[tuple[int, dict]]:
    """A file's rows with the row numbers a spreadsheet shows (the header is row 1)."""
    return list(enumerate(csv.DictReader(open(BASIC / name)), start=2))


def words(day: str) -> str:
    found = dt.date.fromisoformat(day)
    return f"{found.day} {found:%b %Y}"


@pytest.fixture
def claim(tmp_path, sqlite_url):
    folder = tmp_path / "basic"
    shutil.copytree(BASIC, folder)
    people = list(csv.DictReader(open(folder / "members.csv")))
    for person in people:
        person.update(given_name="Quentin", family_name=f"Zyxwvut{person['person_id'][-2:]}")
    write_feed(folder, "members", people)
    store = Store(sqlite_url)
    ingest(folder, store, PLAN.theme_codes, today=dt.date(2018, 6, 30))
    ref = claims.prepare(store, "2017-Q4", dt.date(2017, 10, 31), PLAN).ref
    return store, ref


def test_a_pack_holds_every_fact_its_decision_rests_on_with_file_and_row(claim, tmp_path):
    store, ref = claim
    (pack,) = family_packs(store, ref, ["F01"])
    write_packs([pack], tmp_path / "packs")
    found = text_of(tmp_path / "packs" / pack.file_name)
    # the three sections, in the order a spot check asks
    assert found.index("1. Eligibility") < found.index("2. Way of working") < found.index("3. Validity of the result")
    family = next((n, r) for n, r in rows_of("families.csv") if r["family_id"] == "F01")
    assert f"Attached on {words(family[1]['attachment_date'])}: families.csv, row {family[0]}" in found
    # every event of the family in the window its crime measure looks at, and in the six months before attachment
    members = {r["person_id"] for _, r in rows_of("members.csv") if r["family_id"] == "F01"}
    window = [w for m in pack.measures for w in m["windows"] if m["theme"] == "crime_asb"]
    assert {w["what"] for w in window} == {"before attachment (6 months)", "measured window (6 months)"}
    cited = 0
    for n, event in rows_of("events.csv"):
        day = dt.date.fromisoformat(event["event_date"])
        if event["person_id"] in members and any(w["start"] <= day <= w["end"] for w in window):
            assert f"events.csv, row {n}" in found, (n, event)
            assert words(event["event_date"]) in found
            cited += 1
    assert cited >= 3
    # the measure's sentence, its plan entry, and the money parameter's source
    assert "offence: 3 in the 6 months from 16 Mar 2016 to 15 Sep 2016 before attachment" in found
    assert "progress[0]:events_reduced" in found and pack.money["source"] in found
    # each cited row carries its load's SHA-256 (the file's), so an auditor can tell which copy it was
    assert "SHA-256" in found and "Names are withheld" in found and "Zyxwvut" not in found


def test_names_appear_only_where_packs_go_by_a_secure_route(claim, tmp_path):
    store, ref = claim
    (named,) = family_packs(store, ref, ["F01"], named=True)
    write_packs([named], tmp_path / "named")
    found = text_of(tmp_path / "named" / named.file_name)
    assert "Names are included" in found and "Zyxwvut" in found
    assert (tmp_path / "named" / named.file_name).stat().st_mode & 0o077 == 0  # owner-only: it holds names


def test_continuous_employment_packs_show_the_benefit_spell_and_the_weeks(claim, tmp_path):
    store, ref = claim
    (pack,) = family_packs(store, ref, ["F03"])
    write_packs([pack], tmp_path / "ce")
    found = text_of(tmp_path / "ce" / pack.file_name)
    assert "Continuous employment" in found and "weeks in work off benefit counted by 31 Oct 2017" in found
    assert "continuous employment, £800.00" in found


def test_pbr_claim_pack_writes_the_sample_and_an_index_through_the_cli(tmp_path, sqlite_url):
    run_pbr("--db", sqlite_url, "ingest", str(BASIC), check=True)
    run_pbr("--db", sqlite_url, "claim", "prepare", "--window", "2017-Q4", "--evidence-date", "2017-10-31", check=True)
    refused = run_pbr("--db", sqlite_url, "claim", "pack", "--claim", "2017-Q4-1", "--out", str(tmp_path), "--sample")
    assert refused.returncode == 1 and "no audit sample yet" in refused.stderr
    run_pbr("--db", sqlite_url, "claim", "sample", "--claim", "2017-Q4-1", "--seed", "3", check=True)
    done = run_pbr(
        "--db", sqlite_url, "claim", "pack", "--claim", "2017-Q4-1", "--out", str(tmp_path / "out"), "--sample",
        check=True,
    )  # fmt: skip
    assert "without names" in done.stdout
    index = openpyxl.load_workbook(tmp_path / "out" / "index.xlsx")["Packs"]
    listed = [row for row in index.iter_rows(min_row=2, values_only=True)]
    assert len(listed) == 5 and all(row[6] == "Yes" for row in listed)  # the sample of six lines: five
    for row in listed:
        assert (tmp_path / "out" / row[1]).exists() and row[2] >= 1
        assert f"Evidence pack: family {row[0]}" in text_of(tmp_path / "out" / row[1])
    unknown = run_pbr(
        "--db", sqlite_url, "claim", "pack", "--claim", "2017-Q4-1", "--out", str(tmp_path), "--family", "F99"
    )
    assert unknown.returncode == 1 and "no line for F99" in unknown.stderr
