"""The command line through a subprocess: messages, exit codes, files written."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from sqlalchemy import text

from conftest import EXAMPLES, SPEC, head_revision, run_pbr, write_council_plan, write_dataset
from pbr.plan import load_plan
from pbr.store import Store

FAMILIES = [{"family_id": "F1", "attachment_date": "2017-01-10"}]
MEMBERS = [
    {"person_id": "P1", "family_id": "F1", "date_of_birth": "1980-01-01"},
    {"person_id": "C1", "family_id": "F1", "date_of_birth": "2010-01-01"},
]


def test_ingest_prints_a_table_and_ends_with_the_exact_totals_line(tmp_path, sqlite_url):
    write_dataset(
        tmp_path / "d",
        families=FAMILIES,
        members=MEMBERS,
        events=[
            {"person_id": "C1", "event_type": "offence", "event_date": "2016-12-01"},
            {"person_id": "C1", "event_type": "bad", "event_date": "2016-12-01"},
        ],
    )
    result = run_pbr("--db", sqlite_url, "ingest", str(tmp_path / "d"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "loaded 49 rows, quarantined 1 rows, unchanged 0 rows"  # 45 terms + 1 + 2 + 1
    assert "events.csv" in result.stdout and "\x1b[" not in lines[-1]
    again = run_pbr("--db", sqlite_url, "ingest", str(tmp_path / "d"))
    assert again.stdout.strip().splitlines()[-1] == "loaded 0 rows, quarantined 1 rows, unchanged 49 rows"


def test_ingest_exits_non_zero_when_a_file_is_rejected_whole_after_loading_the_others(tmp_path, sqlite_url):
    write_dataset(tmp_path / "d", families=FAMILIES, members=MEMBERS)
    (tmp_path / "d" / "events.csv").write_text("person_id,event_date\nC1,2016-12-01\n")
    result = run_pbr("--db", sqlite_url, "ingest", str(tmp_path / "d"))
    assert result.returncode == 1
    assert "events.csv" in result.stdout and "missing required column event_type" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "loaded 48 rows, quarantined 0 rows, unchanged 0 rows"


def test_ingest_of_a_folder_without_feeds_says_what_a_feed_is(tmp_path, sqlite_url):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.txt").write_text("x")
    result = run_pbr("--db", sqlite_url, "ingest", str(tmp_path / "d"), check=True)
    assert "no feed file in" in result.stderr and "families.csv" in result.stderr
    assert result.stdout.strip().splitlines()[-1] == "loaded 0 rows, quarantined 0 rows, unchanged 0 rows"
    write_dataset(tmp_path / "d", families=FAMILIES, members=MEMBERS)
    assert "no feed file" not in run_pbr("--db", sqlite_url, "ingest", str(tmp_path / "d"), check=True).stderr


def test_quarantine_lists_entries_and_writes_them_for_the_sender(tmp_path, sqlite_url):
    write_dataset(
        tmp_path / "d",
        families=FAMILIES,
        members=MEMBERS,
        events=[{"person_id": "C1", "event_type": "offence", "event_date": "2016-12-41"}],
    )
    run_pbr("--db", sqlite_url, "ingest", str(tmp_path / "d"), check=True)
    result = run_pbr("--db", sqlite_url, "quarantine", "--csv", str(tmp_path / "q.csv"), check=True)
    assert "2016-12-41" in result.stdout and "events.csv" in result.stdout
    written = pl.read_csv(tmp_path / "q.csv", infer_schema=False)
    assert written.row(0, named=True)["row"] == "2" and written.row(0, named=True)["family_id"] == "F1"


def test_quarantine_for_one_sender_as_a_workbook_keeps_hostile_values_as_text(tmp_path, sqlite_url):
    write_dataset(tmp_path / "d", families=FAMILIES, members=MEMBERS)
    (tmp_path / "d" / "police__events.csv").write_text(
        'person_id,event_type,event_date\nC1,"=HYPERLINK(""http://x"",""y"")",2016-12-01\n'
    )
    (tmp_path / "d" / "schools__events.csv").write_text("person_id,event_type,event_date\nC1,offence,2016-12-41\n")
    run_pbr("--db", sqlite_url, "ingest", str(tmp_path / "d"))
    out = tmp_path / "police.xlsx"
    result = run_pbr("--db", sqlite_url, "quarantine", "--source", "police__events.csv", "--xlsx", str(out), check=True)
    assert "wrote 1 quarantine entries" in result.stdout and "schools" not in result.stdout
    sheet = openpyxl.load_workbook(out)["Quarantine"]
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, sheet[2], strict=False))
    assert sheet.max_row == 2 and row["source"].value == "police__events.csv" and row["row"].value == 2
    assert row["value"].value == '=HYPERLINK("http://x","y")' and row["value"].data_type == "s"
    assert row["family_id"].value == "F1" and "not a known code" in row["reason"].value
    nothing = run_pbr("--db", sqlite_url, "quarantine", "--source", "health.csv", check=True)
    assert "nothing from health.csv is in quarantine" in nothing.stdout


def test_template_reads_back_through_ingest(tmp_path, sqlite_url):
    template = tmp_path / "template.xlsx"
    run_pbr("template", "--out", str(template), check=True)
    book = openpyxl.load_workbook(template)
    assert {"families", "members", "events", "episodes", "attendance", "assessments"} <= set(book.sheetnames)
    events = book["events"]
    assert [c.value for c in events[1]] == ["person_id", "event_type", "event_date"]
    lists = [dv for dv in events.data_validations.dataValidation if dv.type == "list"]
    assert lists and "offence" in lists[0].formula1
    assert events["C2"].number_format == "yyyy-mm-dd" and events["A2"].number_format == "@"
    book["families"].append(["F1", dt.date(2017, 1, 10)])
    book["members"].append(["P1", "F1", dt.date(1980, 1, 1), "F"])
    events.append(["P1", "dv_incident", dt.date(2016, 12, 1)])
    book.save(template)
    result = run_pbr("--db", sqlite_url, "ingest", str(template), check=True)
    assert result.stdout.strip().splitlines()[-1] == "loaded 3 rows, quarantined 0 rows, unchanged 0 rows"


def test_evaluate_refuses_a_bad_plan_with_the_yaml_path(tmp_path):
    plan = tmp_path / "plan.yaml"
    text = (
        (SPEC / "outcome_plan.yaml").read_text().replace("terms: 3\n        max_fixed", "terms: 0\n        max_fixed")
    )
    plan.write_text(text)
    result = run_pbr(
        "evaluate",
        "--data",
        str(EXAMPLES / "basic"),
        "--as-of",
        "2017-10-31",
        "--out",
        str(tmp_path / "d.csv"),
        "--plan",
        str(plan),
    )
    assert result.returncode != 0
    assert "themes.education.progress[0].terms: must be a whole number >= 1" in result.stderr
    assert not (tmp_path / "d.csv").exists()


def test_the_council_plan_is_every_command_s_default_and_a_bad_one_is_refused_first(tmp_path, sqlite_url):
    own = write_council_plan(tmp_path)  # F02 is claimable under it
    council = {"PBR_PLAN": str(own), "PBR_DATABASE_URL": sqlite_url}
    run_pbr(
        "evaluate",
        "--data",
        str(EXAMPLES / "basic"),
        "--as-of",
        "2017-10-31",
        "--out",
        str(tmp_path / "d.csv"),
        env=council,
        check=True,
    )
    claimable = pl.read_csv(tmp_path / "d.csv", infer_schema=False).filter(pl.col("claimable") == "true")
    assert "F02" in claimable["family_id"].to_list()
    run_pbr("ingest", str(EXAMPLES / "basic"), env=council, check=True)
    run_pbr(
        "--plan",
        str(own),
        "claim",
        "prepare",
        "--window",
        "2017-Q4",
        "--evidence-date",
        "2017-10-31",
        env={"PBR_DATABASE_URL": sqlite_url},
        check=True,
    )
    with Store(sqlite_url).engine.connect() as connection:
        assert connection.execute(text("SELECT plan_sha256 FROM claims")).scalar_one() == load_plan(own).sha256
    refused = run_pbr("--plan", str(tmp_path / "missing.yaml"), "claim", "list", env={"PBR_DATABASE_URL": sqlite_url})
    assert refused.returncode == 2 and "plan refused: cannot read plan" in refused.stderr
    assert "missing.yaml" in refused.stderr and refused.stdout == ""


def test_plan_list_check_and_show_and_a_shipped_plan_named_by_its_name(tmp_path):
    listed = run_pbr("plan", "list", check=True).stdout
    assert "troubled-families-2015 (default)" in listed and "supporting-families-2022" in listed
    checked = run_pbr("plan", "check", "supporting-families-2022", check=True).stdout
    assert "a family needs 3 of 10 themes" in checked and "(no continuous-employment route)" in checked
    assert "crime: Crime prevention and tackling crime" in checked and checked.rstrip().endswith("plan ok")
    shown = run_pbr("plan", "show", "supporting-families-2022", check=True).stdout
    (tmp_path / "ours.yaml").write_text(shown.replace("min_themes: 3", "min_themes: 4"))
    ours = run_pbr("plan", "check", str(tmp_path / "ours.yaml"), check=True).stdout
    assert "a family needs 4 of 10 themes" in ours
    (tmp_path / "bad.yaml").write_text(shown.replace("terms: 2", "terms: two"))
    refused = run_pbr("plan", "check", str(tmp_path / "bad.yaml"))
    assert (
        refused.returncode == 2 and "themes.education.progress[0].terms: must be a whole number >= 1" in refused.stderr
    )
    unknown = run_pbr("--plan", "sure-start", "plan", "check")
    assert unknown.returncode == 2
    assert "nor is it a plan pbr ships: supporting-families-2022, troubled-families-2015" in unknown.stderr
    run_pbr(
        "--plan",
        "supporting-families-2022",
        "evaluate",
        "--data",
        str(EXAMPLES / "basic"),
        "--as-of",
        "2017-10-31",
        "--out",
        str(tmp_path / "d.csv"),
        check=True,
    )
    assert json.loads((tmp_path / "d.csv.json").read_text())["plan"]["name"] == "supporting-families-2022"
    assert "needs 3" in pl.read_csv(tmp_path / "d.csv", infer_schema=False)["reason"][0]


def test_the_council_s_money_parameters_price_its_claims_and_a_bad_file_is_refused_first(tmp_path, sqlite_url):
    db = {"PBR_DATABASE_URL": sqlite_url}
    run_pbr("ingest", str(EXAMPLES / "basic"), env=db, check=True)
    prepare = ("claim", "prepare", "--window", "2017-Q4", "--evidence-date", "2017-10-31")

    def total(*options: str) -> str:
        return run_pbr(*options, *prepare, env=db, check=True).stdout.split("total ")[1].split()[0]

    shipped = total()
    families = int(shipped.strip("£").replace(",", "").split(".")[0]) // 800
    (tmp_path / "rates.yaml").write_text(
        "attachment_fee_pence:\n  reference: the council's grant letter\n  values: {2015-04-01: 100000}\n"
        "results_payment_pence:\n  reference: the council's grant letter\n"
        "  values: {2015-04-01: 80000, 2017-10-01: 90050}\n"
    )
    pence = families * 90050
    assert families and total("--parameters", str(tmp_path / "rates.yaml")) == f"£{pence // 100:,}.{pence % 100:02d}"
    (tmp_path / "bad.yaml").write_text("attachment_fee_pence:\n  reference: x\n  values: {2015-04-01: 1000.5}\n")
    refused = run_pbr("--parameters", str(tmp_path / "bad.yaml"), *prepare, env=db)
    assert refused.returncode == 2 and refused.stdout == ""
    assert (
        "financial parameters refused: attachment_fee_pence.values.2015-04-01: must be a whole number of pence"
        in refused.stderr
    )


def test_a_complete_extract_closes_an_episode_the_last_one_had_open(tmp_path, sqlite_url):
    db = {"PBR_DATABASE_URL": sqlite_url}
    run_pbr("ingest", str(EXAMPLES / "basic"), env=db, check=True)
    later = tmp_path / "later"  # the next extract: F03's adult left work at the end of June
    later.mkdir()
    (later / "episodes.csv").write_text(
        (EXAMPLES / "basic" / "episodes.csv")
        .read_text()
        .replace("F03-P1,employment,2017-04-01,\n", "F03-P1,employment,2017-04-01,2017-06-30\n")
    )

    def f03() -> dict:
        run_pbr("evaluate", "--as-of", "2017-10-31", "--out", str(tmp_path / "d.csv"), env=db, check=True)
        return (
            pl.read_csv(tmp_path / "d.csv", infer_schema=False).filter(pl.col("family_id") == "F03").row(0, named=True)
        )

    run_pbr("ingest", str(later), env=db, check=True)  # adds the closed job beside the open one
    assert f03()["ce_met"] == "true"
    loaded = run_pbr("ingest", str(later), "--complete-extract", env=db, check=True)
    assert "retired 1 records no longer in this complete extract" in loaded.stdout
    assert loaded.stdout.strip().splitlines()[-1] == (
        "loaded 0 rows, quarantined 0 rows, unchanged 18 rows, retired 1 records no longer in their complete extract"
    )
    decision = f03()
    assert (decision["ce_met"], decision["claim_route"]) == ("false", "ssp")


def test_evaluate_refuses_a_data_set_with_a_file_rejected_whole(tmp_path):
    write_dataset(tmp_path / "d", families=FAMILIES, members=MEMBERS)
    (tmp_path / "d" / "events.csv").write_text("person_id,event_type\nC1,offence\n")
    result = run_pbr(
        "evaluate", "--data", str(tmp_path / "d"), "--as-of", "2017-10-31", "--out", str(tmp_path / "o.csv")
    )
    assert result.returncode != 0 and "events.csv" in result.stderr and "event_date" in result.stderr


def test_evaluate_warns_when_the_as_of_date_is_after_every_record(tmp_path):
    write_dataset(tmp_path / "d", families=FAMILIES, members=MEMBERS)
    result = run_pbr(
        "evaluate", "--data", str(tmp_path / "d"), "--as-of", "2019-01-01", "--out", str(tmp_path / "o.csv"), check=True
    )
    assert "warning" in result.stderr and "newest dated record (2017-01-10)" in result.stderr.replace("\n", " ")


def test_evaluate_of_a_database_without_families_says_to_ingest_first(tmp_path, sqlite_url):
    Store(sqlite_url)  # made, and empty
    result = run_pbr(
        "--db", sqlite_url, "evaluate", "--as-of", "2019-01-01", "--out", str(tmp_path / "o.csv"), check=True
    )
    assert "holds no families yet" in result.stderr and "pbr ingest FOLDER" in result.stderr.replace("\n", " ")
    write_dataset(tmp_path / "d", families=FAMILIES, members=MEMBERS)
    run_pbr("--db", sqlite_url, "ingest", str(tmp_path / "d"), check=True)
    again = run_pbr(
        "--db", sqlite_url, "evaluate", "--as-of", "2019-01-01", "--out", str(tmp_path / "o.csv"), check=True
    )
    assert "holds no families" not in again.stderr
    record = json.loads((tmp_path / "o.csv.json").read_text())["database"]  # what the decisions were made from
    families = next(f for f in record["files"] if f["file"] == "families.csv")
    assert families["sha256"] == hashlib.sha256((tmp_path / "d" / "families.csv").read_bytes()).hexdigest()
    assert (families["rows_read"], families["loaded"], record["url"], record["form_entries"]) == (1, 1, sqlite_url, 0)
    assert record["last_load_id"] == len(record["files"])


def test_evaluate_header_only_families_gives_a_header_only_file(tmp_path):
    write_dataset(tmp_path / "d")
    run_pbr(
        "evaluate", "--data", str(tmp_path / "d"), "--as-of", "2019-01-01", "--out", str(tmp_path / "o.csv"), check=True
    )
    lines = (tmp_path / "o.csv").read_text().splitlines()
    assert lines == [
        "family_id,attachment_date,eligible,themes_at_attachment,themes_progress_met,ssp_met,ce_met,"
        "claimable,claim_route,reason,earliest_claimable_date,quarantined_records,claimed_in,themes_emerged,reason_kind"
    ]


def test_evaluate_writes_a_formatted_workbook(tmp_path):
    out = tmp_path / "decisions.xlsx"
    run_pbr(
        "evaluate",
        "--data",
        str(EXAMPLES / "basic"),
        "--as-of",
        "2017-10-31",
        "--out",
        str(tmp_path / "d.csv"),
        "--xlsx",
        str(out),
        check=True,
    )
    book = openpyxl.load_workbook(out)
    sheet = book["Decisions"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    header = [c.value for c in sheet[1]]
    row = {h: c.value for h, c in zip(header, sheet[2], strict=False)}
    assert row["family_id"] == "F01" and row["attachment_date"] == dt.datetime(2016, 9, 15)
    assert sheet.cell(row=2, column=header.index("attachment_date") + 1).number_format == "d mmm yyyy"
    assert row["claimable"] == "Yes" and row["claim_route"] == "ssp"
    detail = book["Detail"]
    assert [c.value for c in detail[1]][:5] == ["family_id", "theme", "measure", "met", "evidence"]


def test_quarantined_records_and_held_families_show_in_decisions(tmp_path):
    write_dataset(
        tmp_path / "d",
        families=FAMILIES,
        members=MEMBERS,
        events=[
            {"person_id": "C1", "event_type": "offence", "event_date": "2016-13-01"},
            {"person_id": "C1", "event_type": "Offence", "event_date": "2016-12-01"},
        ],
    )
    run_pbr(
        "evaluate", "--data", str(tmp_path / "d"), "--as-of", "2017-10-31", "--out", str(tmp_path / "o.csv"), check=True
    )
    decisions = pl.read_csv(tmp_path / "o.csv", infer_schema=False)
    assert decisions.row(0, named=True)["quarantined_records"] == "2"


def test_demo_runs_end_to_end_on_a_small_council(tmp_path):
    result = run_pbr("demo", "--families", "60", "--folder", str(tmp_path / "demo"), cwd=tmp_path, check=True)
    assert "loaded" in result.stdout and "claimable" in result.stdout
    matched = re.search(r"matched the partners' files .*: linked (\d+) rows, review (\d+) rows", result.stdout)
    assert matched and int(matched[1]) > 0
    agree = re.search(r"agree with those of perfectly keyed records for (\d+) of (\d+) families", result.stdout)
    assert agree and int(agree[1]) >= 0.95 * int(agree[2])
    assert (tmp_path / "demo" / "partners" / "police__events.csv").exists()
    assert (tmp_path / "demo" / "reports" / "identified-households.xlsx").exists()
    decisions = pl.read_csv(tmp_path / "demo" / "reports" / "decisions.csv", infer_schema=False)
    assert decisions.height == 60
    assert (tmp_path / "demo" / "pbr.db").exists()
    assert (tmp_path / "demo" / "reports" / "decisions.xlsx").exists()
    assert "submitted" in result.stdout
    workbooks = list((tmp_path / "demo" / "claims").glob("*.xlsx"))
    assert len(workbooks) == 1
    summary = {r[0].value: r[1].value for r in openpyxl.load_workbook(workbooks[0])["Summary"].iter_rows()}
    claimable = decisions.filter((pl.col("claimable") == "true") & (pl.col("quarantined_records") == "0")).height
    assert summary["Families claimed"] == claimable and summary["Total claimed (£)"] == 800 * claimable
    reports = {p.name for p in (tmp_path / "demo" / "reports").glob("*.xlsx")}
    assert {
        "progress-return-2018-Q4.xlsx",
        "impact-study-2018.xlsx",
        "reconciliation-2018.xlsx",
        "outcomes-2018-Q4.xlsx",
    } <= reports
    again = run_pbr("demo", "--families", "60", "--folder", str(tmp_path / "demo"), cwd=tmp_path, check=True)
    assert "loaded 0 rows" in again.stdout and "nothing new to claim" in again.stdout
    assert list((tmp_path / "demo" / "claims").glob("*.xlsx")) == workbooks


def test_demo_of_a_supporting_families_council(tmp_path):
    folder = tmp_path / "sf"
    result = run_pbr(
        "demo",
        "--families",
        "400",
        "--plan",
        "supporting-families-2022",
        "--folder",
        str(folder),
        cwd=tmp_path,
        check=True,
    )
    assert "plan supporting-families-2022" in result.stdout
    assert "loaded" in result.stdout and "quarantined 3 rows" in result.stdout  # only the demo's planted mistakes
    run = json.loads((folder / "reports" / "decisions.csv.json").read_text())
    assert run["plan"]["name"] == "supporting-families-2022"
    decisions = pl.read_csv(folder / "reports" / "decisions.csv", infer_schema=False)
    themes = set(";".join(decisions["themes_at_attachment"]).split(";")) - {""}
    assert themes == set(load_plan("supporting-families-2022").theme_codes)  # every need occurs, none other
    claimable = decisions.filter(pl.col("claimable") == "true")
    assert claimable.height and set(claimable["claim_route"]) == {"ssp"} and set(decisions["ce_met"]) == {"false"}
    eligible = decisions.filter(pl.col("eligible") == "true")
    assert eligible["themes_at_attachment"].str.count_matches(";").min() >= 2  # three needs or more
    refused = run_pbr("demo", "--plan", "our-own", "--folder", str(tmp_path / "x"), cwd=tmp_path)
    assert (
        refused.returncode == 2
        and "made for a shipped plan: troubled-families-2015, supporting-families-2022" in refused.stderr
    )


def test_users_are_added_listed_given_a_new_password_disabled_and_enabled(sqlite_url):
    from pbr.web.auth import authenticate

    db = {"PBR_DATABASE_URL": sqlite_url, "PBR_NEW_PASSWORD": "first passphrase"}
    assert (
        run_pbr("users", "add", "jo", "--role", "keyworker", "--keyworker-id", "KW7", env=db, check=True).stdout.strip()
        == "added jo (keyworker)"
    )
    again = run_pbr("users", "add", "jo", "--role", "keyworker", env=db)
    assert again.returncode == 1 and "user 'jo' exists already" in again.stderr
    run_pbr("users", "password", "jo", env={**db, "PBR_NEW_PASSWORD": "second passphrase"}, check=True)
    store = Store(sqlite_url)
    assert authenticate(store, "jo", "first passphrase") is None and authenticate(store, "jo", "second passphrase")
    disabled = run_pbr("users", "disable", "jo", env=db, check=True)
    assert disabled.stdout.strip() == "disabled jo; their open sessions have ended"
    assert authenticate(store, "jo", "second passphrase") is None
    row = next(line for line in run_pbr("users", "list", env=db, check=True).stdout.splitlines() if " jo " in line)
    assert "keyworker" in row and "KW7" in row and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", row)  # when disabled
    run_pbr("users", "enable", "jo", env=db, check=True)
    assert authenticate(store, "jo", "second passphrase")["role"] == "keyworker"
    missing = run_pbr("users", "disable", "nobody", env=db)
    assert missing.returncode == 1 and "no user 'nobody'" in missing.stderr


def test_explain_shows_one_family_s_decision_and_the_evidence_of_each_measure(tmp_path, sqlite_url):
    basic = ("--data", str(EXAMPLES / "basic"), "--as-of", "2017-10-31")
    shown = run_pbr("explain", "F02", *basic, check=True).stdout
    assert "Family F02 as of 31 Oct 2017, plan troubled-families-2015" in shown
    assert "eligible: yes; problems at attachment: Parents and children involved in crime" in shown
    assert "claimable: no" in shown and "Forecast claimable on 2 Nov 2017" in shown
    rows = [
        line for line in shown.splitlines() if line.startswith("│ crime_asb") and "progress[0]:events_reduced" in line
    ]
    flat = " ".join(part.strip(" │") for part in shown.splitlines())
    assert rows and "│ no " in rows[0]
    assert "3 in the 6 months from 1 May 2017 to 31 Oct 2017 (on 2 May 2017, 1 Jun 2017, 9 Sep 2017)" in flat
    missing = run_pbr("explain", "F99", *basic)
    assert missing.returncode == 1 and "no family 'F99' among the 20 evaluated" in missing.stderr

    # from the database, a family with a row in quarantine is said to be held
    data = tmp_path / "held"
    data.mkdir()
    for name in ("families", "members"):
        (data / f"{name}.csv").write_text((EXAMPLES / "basic" / f"{name}.csv").read_text())
    (data / "events.csv").write_text("person_id,event_type,event_date\nF01-C1,Offence,2017-01-01\n")
    run_pbr("--db", sqlite_url, "ingest", str(data), check=True)
    held = run_pbr("--db", sqlite_url, "explain", "F01", "--as-of", "2017-10-31", check=True).stdout
    assert "held from claims: 1 of its rows are in quarantine" in held


def test_doctor_checks_the_installation_and_fails_on_a_fault(tmp_path, sqlite_url):
    env = {"PBR_DATABASE_URL": sqlite_url, "PBR_SECRET_KEY": "", "PBR_SECURE_COOKIES": ""}
    fresh = run_pbr("doctor", env=env)
    assert fresh.returncode == 0 and fresh.stdout.rstrip().endswith("ready (see the warnings)")
    lines = {line.split(":")[0].split(None, 1)[1]: line for line in fresh.stdout.splitlines() if ":" in line}
    assert lines["database"].startswith("ok") and f"schema at migration {head_revision()}" in lines["database"]
    assert lines["records"].startswith("warning") and "no families loaded yet" in lines["records"]
    assert lines["web users"].startswith("warning") and lines["web sessions"].startswith("warning")

    run_pbr("ingest", str(EXAMPLES / "basic"), env=env, check=True)
    run_pbr(
        "users", "add", "coord", "--role", "coordinator", env={**env, "PBR_NEW_PASSWORD": "a passphrase"}, check=True
    )
    (tmp_path / "cfg.yaml").write_text("retry: {max_attempts: 0}\n")
    faulty = run_pbr(
        "doctor",
        "--config",
        str(tmp_path / "cfg.yaml"),
        env={**env, "PBR_SECRET_KEY": "k" * 40, "PBR_SECURE_COOKIES": "1"},
    )
    assert faulty.returncode == 1 and "not ready: scheduler configuration" in faulty.stderr
    lines = {line.split(":")[0].split(None, 1)[1]: line for line in faulty.stdout.splitlines() if ":" in line}
    assert lines["records"].startswith("ok") and "20 families" in lines["records"]
    assert lines["web users"].startswith("ok") and lines["web sessions"].startswith("ok")
    assert (
        lines["scheduler configuration"].startswith("FAULT")
        and "retry.max_attempts" in lines["scheduler configuration"]
    )

    unreachable = run_pbr("--db", "postgresql://nobody@127.0.0.1:9/none", "doctor", env={**env, "PBR_DATABASE_URL": ""})
    assert unreachable.returncode == 1 and "FAULT   database: cannot open it" in unreachable.stdout
    assert "ok      outcome plan" in unreachable.stdout  # the other checks still run


def test_attendance_without_a_term_calendar_is_refused_in_one_line(tmp_path):
    write_dataset(
        tmp_path / "d",
        families=FAMILIES,
        members=MEMBERS,
        attendance=[
            {
                "person_id": "C1",
                "term_id": "2016-17-autumn",
                "possible_sessions": "100",
                "authorised_absence": "1",
                "unauthorised_absence": "1",
            }
        ],
    )
    (tmp_path / "d" / "terms.csv").unlink()
    result = run_pbr(
        "evaluate",
        "--data",
        str(tmp_path / "d"),
        "--as-of",
        "2017-10-31",
        "--out",
        str(tmp_path / "o.csv"),
        env={"COLUMNS": "40"},
    )
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1 and "terms.csv" in result.stderr


def test_an_output_pbr_could_not_write_is_refused_before_any_work(tmp_path):
    write_dataset(tmp_path / "d", families=FAMILIES, members=MEMBERS)
    families_before = (tmp_path / "d" / "families.csv").read_bytes()
    (tmp_path / "folder").mkdir()
    (tmp_path / "a-file").write_text("x")
    evaluate = ["evaluate", "--data", str(tmp_path / "d"), "--as-of", "2017-10-31"]
    refusals = {
        "is a folder: name the file to write": [*evaluate, "--out", str(tmp_path / "folder")],
        "--out and --detail both name": [
            *evaluate,
            "--out",
            str(tmp_path / "o.csv"),
            "--detail",
            str(tmp_path / "o.csv"),
        ],
        "would overwrite an input file": [*evaluate, "--out", str(tmp_path / "d" / "families.csv")],
        "a file stands in its place": ["template", "--out", str(tmp_path / "a-file" / "t.xlsx")],
    }
    for expected, args in refusals.items():
        result = run_pbr(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert (
            expected in result.stderr
            and len(result.stderr.strip().splitlines()) == 1
            and "Traceback" not in result.stderr
        )
    assert (tmp_path / "d" / "families.csv").read_bytes() == families_before
    assert not (tmp_path / "o.csv").exists() and sorted(p.name for p in (tmp_path / "folder").iterdir()) == []
    run_pbr(*evaluate, "--out", str(tmp_path / "new" / "deeper" / "o.csv"), check=True)  # missing folders are made
    for _ in range(2):  # a decisions file kept beside the feeds is no feed: the next run may replace it
        run_pbr(*evaluate, "--out", str(tmp_path / "d" / "decisions.csv"), check=True)
    assert (tmp_path / "new" / "deeper" / "o.csv").is_file() and (tmp_path / "new" / "deeper" / "o.csv.json").is_file()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full, a device that is always out of space")
def test_a_full_disk_ends_the_command_with_one_line(tmp_path, sqlite_url):
    Store(sqlite_url)
    for args in (["template", "--out", "/dev/full"], ["--db", sqlite_url, "quarantine", "--csv", "/dev/full"]):
        result = run_pbr(*args)
        assert result.returncode == 1
        assert (
            result.stderr.strip().splitlines() == [result.stderr.strip()] and "No space left on device" in result.stderr
        )
