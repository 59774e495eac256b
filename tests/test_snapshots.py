"""What changed between the nightly decision snapshots, from the library and through the command line."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from conftest import EXAMPLES, context_at, run_pbr, write_dataset
from pbr.feeds.ingest import ingest
from pbr.jobs.config import load_config
from pbr.jobs.tasks import nightly_evaluation
from pbr.plan import load_plan
from pbr.snapshots import SnapshotError, changes
from pbr.store import Store


def snapshot(store: Store, day: str) -> None:
    nightly_evaluation(load_config(None), context_at(store, dt.date.fromisoformat(day)))


def test_changes_name_each_family_whose_decision_moved(tmp_path, db_url):
    store = Store(db_url)
    with pytest.raises(SnapshotError, match="no snapshots yet"):
        changes(store)
    ingest(EXAMPLES / "basic", store, load_plan().theme_codes)
    snapshot(store, "2017-10-31")
    with pytest.raises(SnapshotError, match="snapshot 1 is the first"):
        changes(store)
    # F02's forecast day comes; a new family arrives; one of F01's incidents is held in quarantine
    write_dataset(
        tmp_path / "more",
        families=[{"family_id": "F21", "attachment_date": "2017-09-01"}],
        members=[{"person_id": "F21-P1", "family_id": "F21", "date_of_birth": "1980-01-01"}],
        events=[{"person_id": "F01-C1", "event_type": "Offence", "event_date": "2017-01-01"}],
    )
    ingest(tmp_path / "more", store, load_plan().theme_codes)
    snapshot(store, "2017-11-02")
    found = changes(store)
    assert (found.before["id"], found.after["id"], found.plan_changed) == (1, 2, False)
    assert dict(found.families.select("family_id", "change").iter_rows()) == {
        "F01": "held by quarantine",
        "F02": "became claimable (ssp)",
        "F21": "new family",
    }
    f02 = found.families.filter(pl.col("family_id") == "F02").row(0, named=True)
    assert (f02["claimable"], f02["claimable_after"], f02["earliest_claimable_date"]) == (
        False,
        True,
        dt.date(2017, 11, 2),
    )
    assert changes(store, before_id=2, after_id=2).families.height == 0
    with pytest.raises(SnapshotError, match="no snapshot 9"):
        changes(store, after_id=9)


def test_snapshots_through_the_command_line(tmp_path, sqlite_url):
    store = Store(sqlite_url)
    db = {"PBR_DATABASE_URL": sqlite_url}
    assert "no snapshots yet" in run_pbr("snapshots", "changes", env=db).stderr
    ingest(EXAMPLES / "basic", store, load_plan().theme_codes)
    for day in ("2017-10-31", "2017-11-02", "2018-03-01"):
        snapshot(store, day)
    listed = run_pbr("snapshots", "list", env=db, check=True).stdout
    assert "2017-11-02" in listed and "2018-03-01" in listed
    shown = run_pbr("snapshots", "changes", "--from", "1", "--csv", str(tmp_path / "c.csv"), env=db, check=True).stdout
    assert (
        "snapshot 1 (as of 2017-10-31) to snapshot 3 (as of 2018-03-01): claimable 6 -> 10, 5 families changed" in shown
    )
    assert "became claimable: 4" in shown and "became eligible: 1" in shown
    written = pl.read_csv(tmp_path / "c.csv", infer_schema=False)
    assert written["family_id"].to_list() == ["F02", "F04", "F09", "F12", "F13"]
    assert written.filter(pl.col("family_id") == "F04")["change"][0] == "became claimable (ce)"


def test_explain_history_shows_a_family_in_every_snapshot_marking_where_it_changed(tmp_path, sqlite_url):
    import re

    store = Store(sqlite_url)
    ingest(EXAMPLES / "basic", store, load_plan().theme_codes)
    explain = ("explain", "F02", "--as-of", "2017-11-02", "--history")
    before = run_pbr("--db", sqlite_url, *explain, check=True).stdout
    assert "no stored snapshot holds this family" in before
    for day in ("2017-10-31", "2017-11-01", "2017-11-02"):
        snapshot(store, day)
    shown = run_pbr("--db", sqlite_url, *explain, check=True).stdout
    rows = [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in shown.splitlines()
        if re.match(r"│ (\* |  )?\d{4}-\d\d-\d\d ", line)
    ]
    assert rows == [
        ["* 2017-10-31", "yes", "no", "", "2017-11-02", ""],
        ["2017-11-01", "yes", "no", "", "2017-11-02", ""],
        ["* 2017-11-02", "yes", "yes", "ssp", "", ""],
    ]
