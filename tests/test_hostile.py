"""Hostile input, kept as a habit: what an adversarial probe found, each case built here and refused in words.

A workbook that declares a million rows of sixteen thousand columns, links out of the feed folder, a cookie kept
after signing out, sign-ins with names of a megabyte, loads racing each other, amounts past any sum, formulas
hiding in identifiers, the leftovers of killed runs, and the messages that must point at the line at fault.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

from conftest import EXAMPLES, SEAMS, line_within, run_pbr, write_dataset, write_feed
from pbr.feeds import read_path, validate
from pbr.jobs.config import load_config
from pbr.jobs.tasks import inbox
from pbr.outputs import partials_of, written_whole
from pbr.plan import load_plan
from pbr.store import Store
from pbr.web.app import SECURITY_HEADERS, create_app
from pbr.web.auth import SignInThrottle
from web.support import PASSWORD, sign_in, signed_in

THEMES = load_plan().theme_codes
FAMILIES = [{"family_id": "F1", "attachment_date": "2017-01-10"}]
MEMBERS = [{"person_id": "P1", "family_id": "F1", "date_of_birth": "2010-01-01"}]


def bomb(path: Path, honest: bool = True) -> Path:
    """A few kilobytes whose sheet declares (or, not honest, hides) 1,048,576 rows of 16,384 columns."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "families"
    sheet.append(["family_id", "attachment_date"])
    sheet.append(["F1", "2017-01-10"])
    sheet["XFD1048576"] = "x"
    book.save(path)
    if not honest:  # the sheet declares two rows and holds the far cell all the same
        plain = path.with_suffix(".plain.xlsx")
        path.rename(plain)
        with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                data = source.read(item.filename)
                if item.filename.startswith("xl/worksheets/"):
                    data = re.sub(rb'<dimension ref="[^"]+"\s*/>', b'<dimension ref="A1:B2"/>', data)
                target.writestr(item, data)
        plain.unlink()
    assert path.stat().st_size < 10_000
    return path


# ---- files ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("honest", [True, False], ids=["declared", "hidden"])
def test_a_workbook_bomb_is_refused_whole_in_one_line(tmp_path, sqlite_url, honest):
    path = bomb(tmp_path / "bomb.xlsx", honest)
    result = run_pbr("--db", sqlite_url, "ingest", str(path))
    assert result.returncode == 1
    [line] = [line for line in result.stdout.splitlines() if line.startswith("rejected whole")]
    verb = "declares" if honest else "holds"
    assert f"the sheet {verb} 1,048,576 rows and 16,384 columns; pbr reads at most" in line


def test_the_inbox_refuses_a_workbook_bomb_and_says_why(tmp_path, sqlite_url):
    (tmp_path / "cfg.yaml").write_text(
        f"inbox: {{folder: {tmp_path / 'inbox'}, stable_seconds: 0, every_seconds: 60}}\n"
    )
    config = load_config(tmp_path / "cfg.yaml")
    config.inbox.mkdir()
    bomb(config.inbox / "families.xlsx")
    from conftest import context_at

    counts = inbox(config, context_at(Store(sqlite_url), __import__("datetime").date.today()))
    assert counts["rejected"] == 1
    [reason] = (config.inbox / "rejected").glob("*.reason.txt")
    assert "16,384 columns; pbr reads at most 1,048,576 rows and 200 columns" in reason.read_text()


def test_links_and_folders_in_a_feed_folder_are_named_never_followed_out(tmp_path):
    folder = write_dataset(tmp_path / "data", families=FAMILIES, members=MEMBERS)
    outside = write_feed(tmp_path / "elsewhere", "events", [])
    (folder / "events.csv").symlink_to(outside)
    (folder / "episodes.csv").symlink_to(folder / "nowhere.csv")
    (folder / "indicators.csv").symlink_to(folder / "indicators.csv")
    (folder / "old").mkdir()
    write_feed(folder / "old", "assessments", [])
    read = read_path(folder)
    rejected = {f.source: f.rejected for f in read.files if f.rejected}
    assert rejected == {
        "events.csv": "a link to a file outside the folder: copy the file into the folder to load it",
        "episodes.csv": "a link to a file that is not there",
        "indicators.csv": "a link that loops back on itself",
    }
    assert any(i.startswith("old/ (a folder") for i in read.ignored)
    result = run_pbr("--db", f"sqlite:///{tmp_path / 'p.db'}", "ingest", str(folder))
    assert result.returncode == 1 and "a link that loops back on itself" in result.stdout


def test_a_hidden_sheet_is_listed_as_ignored_not_loaded(tmp_path):
    book = openpyxl.Workbook()
    families = book.active
    families.title = "families"
    families.append(["family_id", "attachment_date"])
    families.append(["F1", "2017-01-10"])
    members = book.create_sheet("members")
    members.append(["person_id", "family_id"])
    members.append(["P1", "F1"])
    members.sheet_state = "hidden"
    book.save(tmp_path / "book.xlsx")
    read = read_path(tmp_path / "book.xlsx")
    assert [f.table for f in read.files] == ["families"]
    assert read.ignored == ["book.xlsx:members (a hidden sheet: unhide it to load it)"]


def test_a_required_formula_with_no_saved_value_says_so(tmp_path):
    book = openpyxl.Workbook()  # written by a program: formulas have no saved value until Excel saves the file
    sheet = book.active
    sheet.title = "families"
    sheet.append(["family_id", "attachment_date"])
    sheet.append(["F1", '=TEXT(TODAY(),"yyyy-mm-dd")'])
    book.save(tmp_path / "book.xlsx")
    validated = validate(read_path(tmp_path / "book.xlsx").files, THEMES)
    [reason] = validated.quarantine["reason"].to_list()
    assert reason.startswith("attachment_date holds a formula (=TEXT(TODAY()")
    assert "open the workbook in Excel and save it" in reason and "empty but is required" not in reason


# ---- messages that point at the fault ------------------------------------------------------------------------
def test_a_stray_quote_is_named_with_its_line(tmp_path):
    folder = write_dataset(tmp_path / "d", members=MEMBERS)
    (folder / "families.csv").write_text(
        'family_id,attachment_date,keyworker_id\nF1,2017-01-10,KW1\nF2,2017-01-10,K"W2\nF3,2017-01-10,KW3\n'
    )
    result = run_pbr("evaluate", "--data", str(folder), "--out", str(tmp_path / "o.csv"))
    assert result.returncode != 0
    assert "line 3 holds a double quote in the middle of a value ('K\"W2')" in result.stderr


def test_reasons_name_the_part_at_fault(tmp_path):
    folder = write_dataset(
        tmp_path / "d",
        families=FAMILIES,
        members=MEMBERS,
        indicators=[{"person_id": "P1", "indicator": "crime_asb.<img src=x>", "identified_date": "2017-01-01"}],
    )
    write_feed(folder, "families", FAMILIES, name="more__families.csv")
    quarantine = validate(read_path(folder).files, THEMES).quarantine
    reasons = dict(zip(quarantine["table"], quarantine["reason"], strict=True))
    assert "'s detail after 'crime_asb.' must be one word, without spaces" in reasons["indicators"]
    assert "appears 2 times in this load (families.csv row 2, more__families.csv row 2)" in reasons["families"]


@pytest.mark.parametrize("identifier", ["=CMD|' /C calc'!A0", "+1", "-1", "@SUM(A1)"])
def test_an_identifier_that_a_spreadsheet_would_run_is_quarantined(tmp_path, identifier):
    folder = write_dataset(
        tmp_path / "d",
        families=[*FAMILIES, {"family_id": identifier, "attachment_date": "2017-01-10"}],
        members=MEMBERS,
    )
    validated = validate(read_path(folder).files, THEMES)
    assert validated.tables["families"]["family_id"].to_list() == ["F1"]
    [reason] = validated.quarantine["reason"].to_list()
    assert f"begins with '{identifier[0]}': an identifier may not begin with =, +, -, @" in reason
    result = run_pbr("evaluate", "--data", str(folder), "--out", str(tmp_path / "d.csv"))
    decided = [line.split(",")[0] for line in (tmp_path / "d.csv").read_text().splitlines()[1:]]
    assert result.returncode == 0 and decided == ["F1"]


# ---- runs cut short ------------------------------------------------------------------------------------------
def test_a_later_run_clears_what_killed_runs_left_and_names_never_nest(tmp_path):
    out = tmp_path / "out" / "d.csv"
    out.parent.mkdir()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = out.parent / f".d.csv.{gone.stdout.strip()}-0badc0de.partial"  # its process has ended
    left.write_text("half")
    mine = out.parent / f".d.csv.{os.getpid()}-c0ffee00.partial"  # a write still going on
    mine.write_text("going")
    result = run_pbr(
        "evaluate",
        "--data",
        str(EXAMPLES / "basic"),
        "--as-of",
        "2017-10-31",
        "--out",
        str(out),
        "--xlsx",
        str(out.parent / "d.xlsx"),
    )
    assert result.returncode == 0, result.stderr
    assert not left.exists() and mine.exists()
    assert [p.name for p in out.parent.iterdir() if p.name.endswith(".partial")] == [mine.name]
    with written_whole(out.parent / "x.xlsx") as partial, written_whole(partial) as inner:
        assert inner == partial  # a writer inside another's block writes to its file, never to a partial of it
        inner.write_text("whole")
    assert (out.parent / "x.xlsx").read_text() == "whole" and partials_of(out.parent / "x.xlsx") == []


# ---- the web app ---------------------------------------------------------------------------------------------
@pytest.fixture
def app(web_db):
    import datetime as dt

    return create_app(web_db, as_of=dt.date(2017, 10, 31), secret_key="hostile")


def test_a_cookie_kept_after_signing_out_signs_nobody_in(app):
    client = signed_in(app, "coord")
    kept = dict(client.cookies)
    assert client.post("/logout", headers={"X-CSRF-Token": client.csrf}).status_code == 303
    replay = TestClient(app, cookies=kept)
    assert replay.get("/api/session").status_code == 401
    assert signed_in(app, "coord").get("/api/session").status_code == 200  # signing in again works


def test_long_names_cannot_fill_the_sign_in_throttle(app, web_db):
    client = TestClient(app, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)[1]
    huge = client.post("/login", data={"name": "x" * 1_000_000, "password": "guess", "csrf_token": token})
    assert huge.status_code == 400 and "name" in huge.text
    throttle = SignInThrottle(limit=3, window=900, clock=lambda: 0.0, names_kept=5)
    for i in range(50):
        throttle.failed(f"{i}" * 10_000)
    assert len(throttle.names()) == 5 and all(len(key) == 32 for key in throttle.names())
    assert throttle.wait_seconds("49" * 10_000) == 0.0  # one failure each: nobody is locked out yet
    for _ in range(3):
        throttle.failed("kw1")
    assert throttle.wait_seconds("kw1") == 900.0


def test_refusals_are_pages_and_lines_not_tracebacks(app, sqlite_url):
    coordinator = signed_in(app, "coord")
    missing = coordinator.get("/claims?ref=NO-SUCH-1")
    assert missing.status_code == 404 and "no claim NO-SUCH-1" in missing.text
    paid = coordinator.post(
        "/claims/NO-SUCH-1/paid", data={"amount": "1e309", "reference": "x", "csrf_token": coordinator.csrf}
    )
    assert paid.status_code == 303 and "more than" in paid.headers["location"].replace("%20", " ")
    Store(sqlite_url)
    cli = run_pbr("--db", sqlite_url, "claim", "paid", "--claim", "X-1", "--amount", "1e309", "--reference", "r")
    assert cli.returncode == 1 and "Traceback" not in cli.stderr
    assert cli.stderr.strip() == "error: amount '1e309' is more than £21,474,836.47 either way, the most pbr stores"


def test_every_response_carries_the_security_headers(app):
    client = signed_in(app, "kw1")
    for response in (
        client.get("/login"),
        client.get("/static/pbr.css"),
        client.get("/families"),
        TestClient(app).get("/api/families"),
        client.get("/families/NOPE"),
        client.get("/openapi.json"),
    ):
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, (response.url, name)
    assert "frame-ancestors 'none'" in SECURITY_HEADERS["Content-Security-Policy"]


def test_a_wrong_password_is_still_counted_once_the_name_is_bounded(app):
    assert sign_in(app, "kw1", "wrong password")[1].status_code == 401
    assert sign_in(app, "kw1", PASSWORD)[1].status_code == 303


# ---- loads racing each other ---------------------------------------------------------------------------------
def test_two_loads_at_once_both_finish_and_agree(tmp_path, db_url):
    """A load held inside its first file's transaction while another load of the same files starts: the second
    waits; from then on the two take turns file by file (each file's transaction is exclusive), so whichever loads
    a file second finds its rows stored. Neither dies, and every row is stored once."""
    Store(db_url)
    first = subprocess.Popen(
        [sys.executable, str(SEAMS / "held_ingest.py"), db_url, str(EXAMPLES / "basic"), "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert line_within(first, 120).strip().startswith("holding ")
        second = run_pbr("--db", db_url, "ingest", str(EXAMPLES / "basic"))
        out, err = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0 and out.strip().endswith("loaded"), err
    assert second.returncode == 0 and "Traceback" not in second.stderr, second.stderr
    totals = re.search(r"loaded (\d+) rows, quarantined 0 rows, unchanged (\d+) rows", second.stdout)
    assert totals and int(totals[1]) + int(totals[2]) == 196, second.stdout
    rows = {"terms": 45, "families": 20, "members": 45, "indicators": 7, "events": 33, "episodes": 18}
    rows |= {"attendance": 16, "assessments": 12}
    with Store(db_url).engine.connect() as connection:
        for table, count in rows.items():  # each row once: neither load added what the other had stored
            assert connection.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one() == count, table
        assert connection.exec_driver_sql("SELECT COUNT(*) FROM corrections").scalar_one() == 0
