"""The scheduled jobs' work, called directly: snapshots, claim preparation ahead of a window, the quarterly return."""

from __future__ import annotations

import datetime as dt
import os
import time

import openpyxl
from sqlalchemy import text

import pbr.claims as claims
from conftest import EXAMPLES, context_at, write_council_plan
from pbr.feeds.ingest import ingest
from pbr.jobs.config import load_config
from pbr.jobs.tasks import claim_preparation, inbox, nightly_evaluation, progress_return, retention
from pbr.plan import load_plan
from pbr.store import Store


def setup(tmp_path, db_url):
    store = Store(db_url)
    ingest(EXAMPLES / "basic", store, load_plan().theme_codes)
    (tmp_path / "cfg.yaml").write_text(
        "claim_preparation:\n  cron: '0 3 * * *'\n  days_before_close: 10\n  windows:\n"
        "    - {window: 2017-Q4, evidence_date: 2017-10-31, opens: 2017-11-01, closes: 2017-11-30}\n"
        "progress_return: {cron: '0 4 1 1,4,7,10 *', folder: out}\n"
    )
    return store, load_config(tmp_path / "cfg.yaml")


def test_nightly_evaluation_stores_a_dated_snapshot(tmp_path, db_url):
    store, config = setup(tmp_path, db_url)
    counts = nightly_evaluation(config, context_at(store, dt.date(2017, 10, 31)))
    assert counts["families"] == 20
    with store.engine.connect() as connection:
        as_of, claimable = connection.execute(text("SELECT as_of, claimable FROM decision_snapshots")).one()
        routes = dict(
            connection.execute(
                text("SELECT family_id, claim_route FROM decision_snapshot_rows WHERE claimable = :t"), {"t": True}
            ).all()
        )
    assert str(as_of) == "2017-10-31" and claimable == 6
    assert routes == {"F01": "ssp", "F03": "ce", "F05": "ssp", "F06": "ce", "F10": "ssp", "F17": "ssp"}
    with store.engine.connect() as connection:
        pending = connection.execute(
            text(
                "SELECT eligible, claimable, claim_route, earliest_claimable_date, quarantined_records "
                "FROM decision_snapshot_rows WHERE family_id = 'F09'"
            )
        ).one()
    assert (bool(pending[0]), bool(pending[1]), pending[2], str(pending[3]), pending[4]) == (
        True,
        False,
        None,
        "2018-02-10",
        0,
    )


def test_claim_preparation_starts_days_before_the_window_closes_and_stops_once_submitted(tmp_path, db_url):
    store, config = setup(tmp_path, db_url)
    assert claim_preparation(config, context_at(store, dt.date(2017, 11, 19)))["prepared"] == 0
    assert claim_preparation(config, context_at(store, dt.date(2017, 11, 20)))["prepared"] == 1
    assert claim_preparation(config, context_at(store, dt.date(2017, 11, 25)))["prepared"] == 1  # the draft is rebuilt
    frame = claims.claims_frame(store)
    assert frame["ref"].to_list() == ["2017-Q4-1"] and frame["live_lines"].to_list() == [6]
    chosen = claims.sample(store, "2017-Q4-1", seed=1)
    claims.verdict(store, "2017-Q4-1", chosen[0], True, "auditor")
    # the nightly run leaves a sampled claim alone: rebuilding it would discard the auditor's sample and verdicts
    assert claim_preparation(config, context_at(store, dt.date(2017, 11, 26))) == {
        "prepared": 0,
        "sampled_kept": 1,
        "evidence_date_ahead": 0,
    }
    verdicts = {line["family_id"]: line["verdict"] for line in claims.claim_detail(store, "2017-Q4-1")[1]}
    assert verdicts[chosen[0]] == "pass"
    for family in chosen[1:]:
        claims.verdict(store, "2017-Q4-1", family, True, "auditor")
    claims.submit(store, "2017-Q4-1", "coordinator", today=dt.date(2017, 11, 26))
    assert claim_preparation(config, context_at(store, dt.date(2017, 11, 27)))["prepared"] == 0
    assert claim_preparation(config, context_at(store, dt.date(2017, 12, 1)))["prepared"] == 0


def test_claim_preparation_waits_for_the_evidence_date(tmp_path, db_url):
    store, config = setup(tmp_path, db_url)
    (tmp_path / "cfg.yaml").write_text(
        "claim_preparation:\n  cron: '0 3 * * *'\n  days_before_close: 30\n  windows:\n"
        "    - {window: 2017-Q4, evidence_date: 2017-10-31, closes: 2017-11-10}\n"
    )
    config = load_config(tmp_path / "cfg.yaml")
    assert claim_preparation(config, context_at(store, dt.date(2017, 10, 20))) == {
        "prepared": 0,
        "sampled_kept": 0,
        "evidence_date_ahead": 1,
    }
    assert claims.claims_frame(store).height == 0
    assert claim_preparation(config, context_at(store, dt.date(2017, 10, 31)))["prepared"] == 1


def test_progress_return_after_a_quarter_ends_once(tmp_path, db_url):
    store, config = setup(tmp_path, db_url)
    assert progress_return(config, context_at(store, dt.date(2018, 1, 1))) == {
        "written": 1,
        "file": "progress-return-2017-Q4.xlsx",
    }
    assert progress_return(config, context_at(store, dt.date(2018, 1, 2))) == {"written": 0}
    book = openpyxl.load_workbook(tmp_path / "out" / "progress-return-2017-Q4.xlsx")
    assert book["Families"].max_row == 21


def test_progress_return_clears_what_a_cut_run_left_but_not_a_write_going_on(tmp_path, db_url):
    store, config = setup(tmp_path, db_url)
    (tmp_path / "out").mkdir()
    cut = tmp_path / "out" / ".progress-return-2017-Q4.xlsx.0badf00d.partial"
    going_on = tmp_path / "out" / ".progress-return-2017-Q4.xlsx.1c0ffee1.partial"
    for partial in (cut, going_on):
        partial.write_bytes(b"PK half a workbook")
    hour_ago = time.time() - 3600
    os.utime(cut, (hour_ago, hour_ago))
    ran = progress_return(config, context_at(store, dt.date(2018, 1, 1)))
    assert ran == {"written": 1, "file": "progress-return-2017-Q4.xlsx", "cleared": 1}
    assert not cut.exists() and going_on.exists()
    assert openpyxl.load_workbook(tmp_path / "out" / "progress-return-2017-Q4.xlsx")["Families"].max_row == 21


def test_the_jobs_decide_by_the_council_plan(tmp_path, db_url):
    own = write_council_plan(tmp_path)  # F02 is claimable under it
    store, config = setup(tmp_path, db_url)
    nightly_evaluation(config, context_at(store, dt.date(2017, 10, 31), plan=str(own)))
    assert claim_preparation(config, context_at(store, dt.date(2017, 11, 25), plan=str(own)))["prepared"] == 1
    with store.engine.connect() as connection:
        snapshot = connection.execute(text("SELECT plan_sha256, claimable FROM decision_snapshots")).one()
        claim = connection.execute(text("SELECT plan_sha256 FROM claims")).scalar_one()
    assert tuple(snapshot) == (load_plan(own).sha256, 7) and claim == load_plan(own).sha256
    assert "F02" in {line["family_id"] for line in claims.claim_detail(store, "2017-Q4-1")[1]}


def test_the_inbox_takes_complete_extracts_when_configured(tmp_path, db_url):
    store, _ = setup(tmp_path, db_url)
    (tmp_path / "inbox.yaml").write_text(
        "inbox: {folder: in, every_seconds: 60, stable_seconds: 0, complete_extracts: true}\n"
    )
    config = load_config(tmp_path / "inbox.yaml")
    config.inbox.mkdir()
    (config.inbox / "episodes.csv").write_text(
        (EXAMPLES / "basic" / "episodes.csv")
        .read_text()
        .replace("F03-P1,employment,2017-04-01,\n", "F03-P1,employment,2017-04-01,2017-06-30\n")
    )
    counts = inbox(config, context_at(store, dt.date.today()))
    assert (counts["files"], counts["loaded"], counts["retired"]) == (1, 1, 1)
    with store.engine.connect() as connection:
        assert (
            connection.execute(
                text(
                    "SELECT COUNT(*) FROM episodes WHERE person_id = 'F03-P1' "
                    "AND episode_type = 'employment' AND end_date IS NULL"
                )
            ).scalar_one()
            == 0
        )


def test_retention_removes_names_of_cases_closed_longer_ago_than_the_period(tmp_path, db_url):
    store = Store(db_url)
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "families.csv").write_text(
        "family_id,attachment_date,closure_date\nF1,2015-06-01,2016-02-29\nF2,2015-06-01,2016-03-01\n"
    )
    (folder / "members.csv").write_text(
        "person_id,family_id,given_name,postcode\nF1-P1,F1,Robin,ZZ99 1AB\nF2-P1,F2,Sam,ZZ99 1AB\n"
    )
    ingest(folder, store, load_plan().theme_codes)
    (tmp_path / "cfg.yaml").write_text('retention: {cron: "0 5 * * 0", years_after_closure: 6}\n')
    config = load_config(tmp_path / "cfg.yaml")
    # six years before 1 March 2022 is 1 March 2016: the case closed on 29 February 2016 goes, 1 March stays
    assert retention(config, context_at(store, dt.date(2022, 3, 1))) == {
        "closed_before": "2016-03-01",
        "families": 1,
        "people": 1,
    }
    with store.engine.connect() as connection:
        names = dict(connection.execute(text("SELECT person_id, given_name FROM members")).all())
    assert names == {"F1-P1": None, "F2-P1": "Sam"}
    with store.engine.connect() as connection:
        assert (
            connection.execute(text("SELECT actor FROM audit_log WHERE action = 'redact personal data'")).scalar_one()
            == "scheduler"
        )


def test_old_snapshots_are_pruned_keeping_the_first_of_each_month(tmp_path, db_url):
    store, _ = setup(tmp_path, db_url)
    (tmp_path / "keep.yaml").write_text('nightly_evaluation: {cron: "0 2 * * *", keep_days: 10}\n')
    config = load_config(tmp_path / "keep.yaml")
    days = [
        dt.date(2017, 9, 29),
        dt.date(2017, 9, 30),
        dt.date(2017, 10, 2),
        dt.date(2017, 10, 3),
        dt.date(2017, 10, 20),
        dt.date(2017, 10, 31),
    ]
    counts = [nightly_evaluation(config, context_at(store, day)) for day in days]
    assert "pruned" not in counts[3]
    assert counts[4]["pruned"] == 2  # on 20 Oct: 30 Sept and 3 Oct, older than 10 days and not first in their month
    assert counts[5]["pruned"] == 1  # on 31 Oct: 20 Oct
    with store.engine.connect() as connection:
        kept = [
            str(d) for d in connection.execute(text("SELECT as_of FROM decision_snapshots ORDER BY as_of")).scalars()
        ]
        orphans = connection.execute(
            text(
                "SELECT COUNT(*) FROM decision_snapshot_rows WHERE snapshot_id NOT IN "
                "(SELECT id FROM decision_snapshots)"
            )
        ).scalar_one()
    assert kept == ["2017-09-29", "2017-10-02", "2017-10-31"] and orphans == 0
