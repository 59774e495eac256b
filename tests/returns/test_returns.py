"""Returns and reconciliation on the basic example, checked against figures worked out by hand."""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import zipfile

import openpyxl
import pytest

import pbr.claims as claims
from conftest import EXAMPLES, run_pbr, write_feed
from pbr.claims.workbook import write_claim_workbook
from pbr.evaluate import evaluate, write_evaluation_workbook
from pbr.feeds.ingest import ingest
from pbr.plan import load_parameters, load_plan
from pbr.returns.progress import write_impact_study_return, write_progress_return
from pbr.returns.reconcile import reconcile, write_reconciliation
from pbr.store import Store

PLAN = load_plan()
NAMES = {"Zebedee", "Quixotic", "Marmaduke", "Wolfsbane"}


def named_basic(folder):
    """The basic example with invented names and postcodes on its members, and some grant payments."""
    shutil.copytree(EXAMPLES / "basic", folder)
    rows = list(csv.DictReader(open(folder / "members.csv")))
    given, family = ["Zebedee", "Marmaduke"], ["Quixotic", "Wolfsbane"]
    for i, row in enumerate(rows):
        row.update(given_name=given[i % 2], family_name=family[i % 2], postcode="ZZ99 3CZ")
        row.update(address=f"{row['person_id']} Fictional Row, Nowhere", ni_number="ab 12 34 56 c")
    write_feed(folder, "members", rows)
    write_feed(
        folder,
        "grant_payments",
        [
            {"payment_date": "2016-06-30", "amount": "10000.00", "kind": "attachment", "reference": "advance 2016-17"},
            {"payment_date": "2017-12-20", "amount": "4000", "kind": "results", "reference": "2017-Q4-1"},
            {"payment_date": "2018-01-10", "amount": "800.00", "kind": "results", "reference": "NOPE-1"},
            {"payment_date": "2018-02-01", "amount": "100.5", "kind": "results", "reference": ""},
            {"payment_date": "2017-05-01", "amount": "50", "kind": "other", "reference": ""},
        ],
    )
    return folder


@pytest.fixture
def fee_change(tmp_path):
    path = tmp_path / "money.yaml"
    path.write_text(
        "attachment_fee_pence:\n  reference: a fee cut part-way through 2016-17 (test)\n  values:\n"
        "    2015-04-01: 100000\n    2016-09-01: 90000\nresults_payment_pence:\n  reference: test\n"
        "  values:\n    2015-04-01: 80000\n"
    )
    return load_parameters(path)


@pytest.fixture
def claimed(tmp_path, db_url):
    store = Store(db_url)
    ingest(named_basic(tmp_path / "data"), store, PLAN.theme_codes, today=dt.date(2018, 6, 30))
    ref = claimed_and_recovered(store)
    return store, ref


def claimed_and_recovered(store) -> str:
    """Claim 2017-Q4-1 prepared, sampled, passed and submitted, and F01's result recovered in January 2018."""
    ref = claims.prepare(store, "2017-Q4", dt.date(2017, 10, 31), PLAN).ref
    for family in claims.sample(store, ref, seed=1):
        claims.verdict(store, ref, family, True, "auditor")
    claims.submit(store, ref, "coordinator")
    claims.recover(store, ref, "F01", "spot check", "finance", booked_on=dt.date(2018, 1, 15))
    return ref


def yes_no(flag: bool) -> str:
    return "Yes" if flag else "No"


def money(sheet, kind):
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == kind)
    return [c.value for c in row[1:4]]


def test_reconciliation_against_hand_computed_figures(claimed, fee_change, tmp_path):
    store, ref = claimed
    # 2016-17: 15 eligible families attached; 5 on 20 August 2016 at £1,000, 10 from September at £900
    first = reconcile(store, PLAN, 2016, parameters=fee_change)
    assert dict(first.summary.select("kind", "expected").iter_rows()) == {
        "attachment": 1_400_000,
        "results": 0,
        "other": 0,
    }
    assert dict(first.summary.select("kind", "variance").iter_rows())["attachment"] == 1_000_000 - 1_400_000
    # 2017-18: F12 and F13 attached (eligible) at £900; claim 2017-Q4-1 of 6 x £800 less F01 recovered in January
    result = reconcile(store, PLAN, 2017, parameters=fee_change)
    path = write_reconciliation(result, tmp_path / "rec.xlsx")
    sheet = openpyxl.load_workbook(path)["Reconciliation"]
    assert [c.value for c in sheet[1]] == ["kind", "expected", "received", "variance"]
    assert money(sheet, "attachment") == [1800, 0, -1800]
    assert money(sheet, "results") == [4000, 4900.5, 900.5]
    assert money(sheet, "other") == [0, 50, 50]
    by_claim = openpyxl.load_workbook(path)["By claim"]
    row = [c.value for c in next(r for r in by_claim.iter_rows(min_row=2) if r[0].value == ref)]
    assert row[2:] == [4800, -800, 4000, 0]
    unallocated = [
        [c.value for c in r] for r in openpyxl.load_workbook(path)["Unallocated payments"].iter_rows(min_row=2)
    ]
    assert sorted((r[1], r[2] or "", r[3]) for r in unallocated) == [
        (100.5, "", "names no claim"),
        (800, "NOPE-1", "names an unknown claim"),
    ]
    quarters = openpyxl.load_workbook(path)["By quarter"]
    assert openpyxl.load_workbook(path)["By quarter picture"]._charts, "the expected-against-received chart is missing"
    q = {r[0].value: (r[1].value, r[2].value) for r in quarters.iter_rows(min_row=2)}
    assert list(q) == ["Q1 (Apr to Jun)", "Q2 (Jul to Sep)", "Q3 (Oct to Dec)", "Q4 (Jan to Mar)"]
    assert q["Q1 (Apr to Jun)"] == (900, 50) and q["Q3 (Oct to Dec)"] == (900 + 4800, 4000)
    assert q["Q4 (Jan to Mar)"] == (-800, 900.5)


def test_reconcile_through_the_cli(claimed, tmp_path):
    store, _ = claimed
    result = run_pbr(
        "--db", store.url, "reconcile", "--financial-year", "2017", "--out", str(tmp_path / "r.xlsx"), check=True
    )
    assert "attachment" in result.stdout and "2 results payment(s) name no known claim" in result.stdout


def test_progress_return_rows_and_chart(claimed, tmp_path):
    store, ref = claimed
    path = write_progress_return(store, PLAN, "2017-Q4", tmp_path / "progress.xlsx")
    book = openpyxl.load_workbook(path)
    families = book["Families"]
    header = [c.value for c in families[1]]
    assert header[:4] == ["family_id", "attachment_date", "crime_asb_at_attachment", "education_at_attachment"]
    rows = {r[0].value: dict(zip(header, (c.value for c in r), strict=False)) for r in families.iter_rows(min_row=2)}
    assert len(rows) == 20 and "F12" in rows  # attached 15 November 2017, inside the quarter
    decisions = {
        r["family_id"]: r
        for r in evaluate(as_of=dt.date(2017, 12, 31), database_url=store.url).decisions.iter_rows(named=True)
    }
    for family, row in rows.items():
        for theme in PLAN.theme_codes:
            present = theme in decisions[family]["themes_at_attachment"].split(";")
            met = theme in decisions[family]["themes_progress_met"].split(";")
            assert (row[f"{theme}_at_attachment"], row[f"{theme}_progress"]) == (yes_no(present), yes_no(met))
    assert rows["F03"]["claim_route"] == "ce" and rows["F03"]["claim_date"] == dt.datetime(2017, 10, 31)
    assert rows["F03"]["claim_reference"] == ref and rows["F02"]["claim_route"] is None
    earlier = openpyxl.load_workbook(write_progress_return(store, PLAN, "2017-Q3", tmp_path / "q3.xlsx"))["Families"]
    assert all(r[header.index("claim_route")].value is None for r in earlier.iter_rows(min_row=2))
    members = book["Members"]
    assert [c.value for c in members[1]] == ["person_id", "family_id", "date_of_birth", "sex"]
    assert members.max_row - 1 == 45
    assert book["Chart picture"]._charts


def test_the_impact_study_return_holds_the_study_s_fields_and_is_owner_only(claimed, tmp_path):
    store, _ = claimed
    written = write_impact_study_return(store, dt.date(2017, 4, 1), dt.date(2018, 3, 31), tmp_path / "impact.xlsx")
    assert written.families == 2 and os.stat(written.path).st_mode & 0o777 == 0o600
    sheet = openpyxl.load_workbook(written.path)["Impact study"]
    header = [c.value for c in sheet[1]]
    assert header == [
        "cohort", "family_id", "attachment_date", "keyworker_id", "person_id", "given_name", "family_name",
        "date_of_birth", "sex", "address", "postcode", "uprn", "ni_number",
    ]  # fmt: skip
    rows = [dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)]
    members = {r["person_id"]: r for r in csv.DictReader(open(EXAMPLES / "basic" / "members.csv"))}
    families = {r["family_id"]: r for r in csv.DictReader(open(EXAMPLES / "basic" / "families.csv"))}
    assert sorted({r["family_id"] for r in rows}) == ["F12", "F13"]
    assert len(rows) == sum(1 for m in members.values() if m["family_id"] in ("F12", "F13"))
    for row in rows:  # cell by cell against the files the records came from
        member, family = members[row["person_id"]], families[row["family_id"]]
        assert row["cohort"] == "attached" and row["keyworker_id"] == (family["keyworker_id"] or None)
        assert row["attachment_date"] == dt.datetime.fromisoformat(family["attachment_date"])
        assert row["date_of_birth"] == dt.datetime.fromisoformat(member["date_of_birth"])
        assert row["sex"] == (member["sex"] or None) and row["postcode"] == "ZZ99 3CZ"
        assert row["given_name"] in NAMES and row["address"] == f"{row['person_id']} Fictional Row, Nowhere"
        assert row["ni_number"] == "AB123456C" and row["uprn"] is None
    assert "Fix list" not in openpyxl.load_workbook(written.path).sheetnames
    result = run_pbr(
        "--db", store.url, "returns", "impact-study", "--from", "2017-04-01", "--to", "2018-03-31",
        "--out", str(tmp_path / "i2.xlsx"), check=True,
    )  # fmt: skip
    assert "personal data" in result.stderr


def test_a_person_without_a_date_of_birth_is_listed_to_fix_and_fails_the_command(tmp_path, sqlite_url):
    folder = named_basic(tmp_path / "data")
    rows = list(csv.DictReader(open(folder / "members.csv")))
    missing = next(r for r in rows if r["family_id"] == "F12")
    missing["date_of_birth"] = ""
    write_feed(folder, "members", rows)
    ingest(folder, Store(sqlite_url), PLAN.theme_codes, today=dt.date(2018, 6, 30))
    out = tmp_path / "impact.xlsx"
    asked = ["--db", sqlite_url, "returns", "impact-study", "--from", "2017-04-01", "--to", "2018-03-31"]
    refused = run_pbr(*asked, "--out", str(out))
    assert refused.returncode == 1 and "1 people have no date of birth" in refused.stderr
    assert missing["person_id"] in refused.stderr and "--allow-incomplete" in refused.stderr
    book = openpyxl.load_workbook(out)
    fix = [r for r in book["Fix list"].iter_rows(min_row=2, values_only=True)]
    assert fix == [("attached", "F12", missing["person_id"], "Zebedee" if rows.index(missing) % 2 == 0 else "Marmaduke",
                    "Quixotic" if rows.index(missing) % 2 == 0 else "Wolfsbane", "date of birth")]  # fmt: skip
    people = [r[4] for r in book["Impact study"].iter_rows(min_row=2, values_only=True)]
    assert missing["person_id"] in people  # listed, not dropped
    allowed = run_pbr(*asked, "--out", str(tmp_path / "i2.xlsx"), "--allow-incomplete")
    assert allowed.returncode == 0 and "Fix list" in allowed.stderr


def test_no_workbook_but_the_impact_study_return_holds_a_name(claimed, tmp_path, fee_change):
    store, ref = claimed
    paths = [
        write_claim_workbook(store, ref, tmp_path / "claim.xlsx"),
        write_progress_return(store, PLAN, "2017-Q4", tmp_path / "progress.xlsx"),
        write_reconciliation(reconcile(store, PLAN, 2017, parameters=fee_change), tmp_path / "rec.xlsx"),
        write_evaluation_workbook(
            evaluate(as_of=dt.date(2017, 10, 31), database_url=store.url), tmp_path / "eval.xlsx"
        ),
    ]
    for path in paths:
        book = openpyxl.load_workbook(path)
        cells = [str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
        assert cells, path
        assert not [c for c in cells if any(name in c for name in NAMES) or "ZZ99" in c], path.name
        archive = zipfile.ZipFile(path)
        raw = " ".join(archive.read(name).decode("utf-8", "ignore") for name in archive.namelist())
        assert not any(n in raw for n in NAMES), path.name
    impact = write_impact_study_return(store, dt.date(2016, 4, 1), dt.date(2018, 3, 31), tmp_path / "impact.xlsx")
    text = " ".join(
        str(c) for row in openpyxl.load_workbook(impact.path).worksheets[0].iter_rows(values_only=True) for c in row
    )
    assert "Zebedee" in text


def test_outcomes_report_figures_and_trend(tmp_path, db_url):
    from pbr.returns.outcomes import indicators_at, write_outcomes_report

    data = named_basic(tmp_path / "data")
    families = list(csv.DictReader(open(data / "families.csv")))
    for row in families:
        if row["family_id"] == "F10":
            row["closure_date"] = "2017-01-31"
    write_feed(data, "families", families)
    episodes = list(csv.DictReader(open(data / "episodes.csv")))
    write_feed(
        data, "episodes", [*episodes, {"person_id": "F10-C1", "episode_type": "cin", "start_date": "2017-06-01"}]
    )
    store = Store(db_url)
    ingest(data, store, PLAN.theme_codes, today=dt.date(2018, 6, 30))
    ref = claimed_and_recovered(store)
    tables = store.load_tables()
    q2, q3, q4, q1 = (indicators_at(store, PLAN, q, tables) for q in ("2017-Q2", "2017-Q3", "2017-Q4", "2018-Q1"))
    assert (q4["attached_in_quarter"], q4["attached_to_date"], q4["eligible"]) == (1, 20, 17)
    assert q2["attached_in_quarter"] == 1 and q2["attached_in_programme_year"] == 1  # F13, June 2017
    # F10's new child-in-need episode (June 2017) keeps it out of the claim: five claimed, F01 recovered in January
    claimed = sorted(line["family_id"] for line in claims.claim_detail(store, ref)[1])
    assert claimed == ["F01", "F03", "F05", "F06", "F17"]
    assert (q3["results_claimed_to_date"], q4["results_claimed_to_date"], q1["results_claimed_to_date"]) == (0, 5, 4)
    assert q4["results_share_of_target"] == round(100 * 5 / (500 * 3), 1)
    assert q2["re_referrals"] == 1 and q2["first_time_offenders"] == 0 and q3["first_time_offenders"] == 1
    decisions = evaluate(as_of=dt.date(2017, 12, 31), database_url=store.url).decisions
    claimable = set(decisions.filter(decisions["claimable"])["family_id"].to_list())
    assert q4["claimable_now"] == len(claimable - set(claimed))
    path = write_outcomes_report(store, PLAN, "2018-Q1", tmp_path / "outcomes.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book["Outcomes"]
    header = [c.value for c in sheet[3]]
    assert [h.split(" (")[0] for h in header[1:9]] == [
        "2016-Q2", "2016-Q3", "2016-Q4", "2017-Q1", "2017-Q2", "2017-Q3", "2017-Q4", "2018-Q1",
    ]  # fmt: skip
    assert header[7] == "2017-Q4 (Oct to Dec)"  # each quarter labelled with its months
    rows = {r[0].value: [c.value for c in r[1:9]] for r in sheet.iter_rows(min_row=4) if r[0].value}
    assert rows["Results claimed to date"][-2:] == [5, 4]
    assert rows["Families attached to date"][-1] == 20
    assert rows["Re-referrals within 12 months of closure"][3:] == [0, 1, 1, 1, 1]
    (line,) = book["Outcomes picture"]._charts  # on a sheet of its own, its lines straight
    assert all(not series.smooth for series in line.series) and book["Definitions"].max_row == len(rows) + 1


def test_periods_at_the_ends_of_the_calendar_are_worked_out_or_refused_in_words(tmp_path, sqlite_url):
    from pbr.returns import ReturnError, financial_year_bounds, quarter_bounds
    from pbr.returns.outcomes import write_outcomes_report

    assert quarter_bounds("9999-Q4") == (dt.date(9999, 10, 1), dt.date(9999, 12, 31))
    assert quarter_bounds("2016-Q1") == (dt.date(2016, 1, 1), dt.date(2016, 3, 31))
    with pytest.raises(ReturnError, match="the calendar starts at year 1"):
        quarter_bounds("0000-Q1")
    assert financial_year_bounds(9998) == (dt.date(9998, 4, 1), dt.date(9999, 3, 31))
    with pytest.raises(ReturnError, match="financial year 99999 is not one pbr can work with"):
        financial_year_bounds(99999)
    store = Store(sqlite_url)
    ingest(EXAMPLES / "basic", store, PLAN.theme_codes)
    for quarter, columns in (
        ("0001-Q1", ["0001-Q1"]),
        ("9999-Q4", ["9998-Q1", "9998-Q2", "9998-Q3", "9998-Q4", "9999-Q1", "9999-Q2", "9999-Q3", "9999-Q4"]),
    ):
        path = write_outcomes_report(store, PLAN, quarter, tmp_path / f"{quarter}.xlsx")
        header = [c.value for c in openpyxl.load_workbook(path)["Outcomes"][3]]
        assert [h.split(" (")[0] for h in header] == ["indicator", *columns, "definition"]


def test_the_bridge_explains_every_pound_of_the_variance(tmp_path, db_url):
    """A year with attachment fees paid in arrears (the year's last quarter paid after it ends, the year before's
    paid in it), a recovery, and an unallocated payment: the bridge's lines add up exactly to the variance."""
    folder = named_basic(tmp_path / "data")
    rows = list(csv.DictReader(open(folder / "grant_payments.csv")))
    rows += [
        {"payment_date": "2017-04-15", "amount": "3000", "kind": "attachment", "reference": "ATTACH-2017-Q1"},
        {"payment_date": "2017-07-15", "amount": "900", "kind": "attachment", "reference": "ATTACH-2017-Q2"},
        {"payment_date": "2018-04-15", "amount": "900", "kind": "attachment", "reference": "ATTACH-2018-Q1"},
        {"payment_date": "2018-05-02", "amount": "300", "kind": "results", "reference": "2017-Q4-1"},
    ]
    write_feed(folder, "grant_payments", rows)
    store = Store(db_url)
    ingest(folder, store, PLAN.theme_codes, today=dt.date(2018, 6, 30))
    claimed_and_recovered(store)
    money = load_parameters()
    result = reconcile(store, PLAN, 2017, today=dt.date(2018, 6, 30), parameters=money)
    lines = dict(result.bridge.select("line", "amount").iter_rows())
    assert sum(lines.values()) == result.variance
    # 3,000 arrived in April 2017 for January to March 2017 (the year before); 900 for January to March 2018
    # arrived in April 2018, after the year; 300 of the claim arrived in May 2018
    assert lines["Paid this year for an earlier year's attachments"] == 300_000
    assert lines["Paid after 2017-18 ended for its attachments"] == -90_000
    assert lines["Paid after 2017-18 ended for its claims"] == -30_000
    assert lines["Paid this year naming no known claim (unallocated)"] == 80_000 + 10_050
    assert lines["Recovered: recoveries booked this year lower what is expected"] == 80_000
    # the claim: 6 lines at £800 = £4,800 asked; £4,000 in December and £300 in May paid: £500 outstanding
    assert lines["Outstanding: 2017-18's claims not yet paid in full"] == -50_000
    # F12 and F13 attached in the year at the shipped fee; the Q2 and next-April payments are for the year
    fees = int(result.attachments["fee"].sum())
    above = lines.get("Paid for 2017-18's attachments above (+) or below (-) the fee for every family attached", 0)
    not_eligible = lines.get("The fee for each family attached in 2017-18 that pbr finds not eligible", 0)
    assert above + not_eligible == (90_000 + 90_000) - fees
    assert lines["Other money received"] == 5_000
    path = write_reconciliation(result, tmp_path / "rec.xlsx")
    sheet = openpyxl.load_workbook(path)["Bridge"]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert values[-1][0].startswith("Variance") and round(values[-1][2] * 100) == result.variance
    assert round(sum(row[2] for row in values[:-1]) * 100) == result.variance
