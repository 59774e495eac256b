"""`pbr match` and its verbs, through the command line as a council runs them, and the decisions they record."""

from __future__ import annotations

import json

import polars as pl
import pytest
from sqlalchemy import text

from conftest import run_pbr
from matching.conftest import MATCHING
from pbr import matching
from pbr.store import Store

SUMMARY = r"^linked \d+ rows, review \d+ rows, unmatched \d+ rows, quarantined \d+ rows$"


def test_match_help_shows_the_path_and_every_verb():
    shown = run_pbr("match", "--help", check=True).stdout
    assert "PATH" in shown
    for verb in ("review", "accept", "reject", "unlink", "links"):
        assert verb in shown


def test_match_runs_from_the_command_line_and_its_links_are_written(tmp_path):
    db = f"sqlite:///{tmp_path / 'pbr.db'}"
    run_pbr("--db", db, "ingest", str(MATCHING / "base"), check=True)
    first = run_pbr("--db", db, "match", str(MATCHING / "partners"), check=True)
    last = first.stdout.strip().splitlines()[-1]
    assert pytest.importorskip("re").match(SUMMARY, last), last
    links = tmp_path / "links.csv"
    run_pbr("--db", db, "match", "links", "--csv", str(links), check=True)
    frame = pl.read_csv(links, infer_schema=False)
    assert frame.columns[:5] == ["source", "row", "status", "person_id", "match_probability"]
    counts = dict(frame.group_by("status").len().iter_rows())
    assert last == (
        f"linked {counts.get('linked', 0)} rows, review {counts.get('review', 0)} rows, "
        f"unmatched {counts.get('unmatched', 0)} rows, quarantined {counts.get('quarantined', 0)} rows"
    )
    assert (
        frame.filter(pl.col("status") != "linked")["person_id"].null_count()
        == frame.filter(pl.col("status") != "linked").height
    )
    assert frame.filter(pl.col("status") == "quarantined")["match_probability"].null_count() == counts["quarantined"]
    events = Store(db).read(text("SELECT COUNT(*) AS n FROM events"))["n"][0]
    again = run_pbr("--db", db, "match", str(MATCHING / "partners"), check=True)
    assert again.stdout.strip().splitlines()[-1] == last  # the same file twice: the same rows, nothing added
    assert Store(db).read(text("SELECT COUNT(*) AS n FROM events"))["n"][0] == events
    queue = tmp_path / "queue.csv"
    review = run_pbr("--db", db, "match", "review", "--csv", str(queue), check=True)
    waiting = pl.read_csv(queue, infer_schema=False)
    assert waiting["row_id"].n_unique() == counts["review"]
    assert {"name", "date_of_birth", "address", "sex", "probability"} <= set(waiting.columns)
    assert "candidate" in review.stdout and "name:" in review.stdout


def test_accept_reject_and_unlink_are_audited_and_move_records(matched):
    ctx, _ = matched
    store = ctx.store
    queue = matching.review_queue(store, ctx.matching)
    assert len(queue) >= 2
    first, second = queue[0], queue[1]
    table = first.table_name
    before = store.read(text(f"SELECT COUNT(*) AS n FROM {table} WHERE source = :s").bindparams(s=first.source))["n"][0]
    matching.accept(store, first.id, first.candidates[0].person_id, "Ann Coordinator", "seen on the school roll")
    after = store.read(text(f"SELECT COUNT(*) AS n FROM {table} WHERE source = :s").bindparams(s=first.source))["n"][0]
    assert after == before + 1
    matching.reject(store, second.id, "Ann Coordinator", "another family")
    links = matching.links(store).filter(pl.col("row_id").is_in([first.id, second.id])).sort("row_id")
    statuses = dict(zip(links["row_id"], links["status"], strict=True))
    assert statuses == {first.id: "linked", second.id: "unmatched"}
    removed = matching.unlink(store, first.id, "Ben Auditor", "twin: the other child")
    assert removed == 1
    assert (
        store.read(text(f"SELECT COUNT(*) AS n FROM {table} WHERE source = :s").bindparams(s=first.source))["n"][0]
        == before
    )
    assert matching.partner_row(store, first.id, ctx.matching).status == "review"
    audit = store.read(text("SELECT actor, action, entity_id, detail FROM audit_log WHERE action LIKE 'match %'"))
    actions = list(zip(audit["actor"], audit["action"], strict=True))
    assert ("Ann Coordinator", "match accept") in actions and ("Ann Coordinator", "match reject") in actions
    assert ("Ben Auditor", "match unlink") in actions
    unlinked = json.loads(audit.filter(pl.col("action") == "match unlink")["detail"][0])
    assert unlinked["reason"] == "twin: the other child" and unlinked["person_id"] == first.candidates[0].person_id
    with pytest.raises(matching.ReviewError, match="only a row that is review can be rejected"):
        matching.reject(store, second.id, "Ann Coordinator")


def test_two_people_deciding_one_row_at_once_one_wins_and_the_other_is_told(matched):
    ctx, _ = matched
    row = matching.review_queue(ctx.store, ctx.matching)[0]
    matching.accept(ctx.store, row.id, row.candidates[0].person_id, "first", version=row.version)
    with pytest.raises(matching.DecidedMeanwhile, match="decided by first meanwhile: it is now linked"):
        matching.reject(ctx.store, row.id, "second", version=row.version)


def test_a_decision_needs_a_member_and_a_name(matched):
    ctx, _ = matched
    row = matching.review_queue(ctx.store, ctx.matching)[0]
    with pytest.raises(matching.ReviewError, match="no member NOBODY"):
        matching.accept(ctx.store, row.id, "NOBODY", "ann")
    with pytest.raises(matching.ReviewError, match="names who made it"):
        matching.reject(ctx.store, row.id, "  ")
    with pytest.raises(matching.ReviewError, match="no partner row 999999"):
        matching.reject(ctx.store, 999999, "ann")


def test_verbs_report_refusals_in_one_line(tmp_path):
    db = f"sqlite:///{tmp_path / 'pbr.db'}"
    run_pbr("--db", db, "ingest", str(MATCHING / "base"), check=True)
    run_pbr("--db", db, "match", str(MATCHING / "partners"), check=True)
    refused = run_pbr("--db", db, "match", "unlink", "999999", "--by", "ann", "--reason", "x")
    assert refused.returncode == 1 and "no partner row 999999" in refused.stderr
    missing = run_pbr("--db", db, "match", str(tmp_path / "nothing"))
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
