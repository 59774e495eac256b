"""The scheduler's inbox matching partner files as it loads feeds, the retention job's configuration, and the
small parts of the matcher: identities compared, the configuration read, households as connected people."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time

import polars as pl
import pytest

from conftest import context_at
from matching.conftest import MATCHING
from pbr.jobs.config import load_config
from pbr.jobs.tasks import TASKS, inbox
from pbr.matching.identify import components
from pbr.matching.identity import comparable
from pbr.matching_config import MatchingConfigError, load_matching_config
from pbr.store import Store


def test_the_inbox_loads_feeds_first_then_matches_partner_files(tmp_path, db_url):
    folder = tmp_path / "inbox"
    folder.mkdir()
    for path in [*(MATCHING / "base").glob("*.csv"), *(MATCHING / "partners").glob("*.csv")]:
        shutil.copy(path, folder / path.name)
        old = time.time() - 60
        os.utime(folder / path.name, (old, old))
    (tmp_path / "cfg.yaml").write_text("inbox: {folder: inbox, every_seconds: 60, stable_seconds: 1}\n")
    store = Store(db_url)
    counts = inbox(load_config(tmp_path / "cfg.yaml"), context_at(store, dt.date(2026, 11, 30)))
    assert counts["matched"] == 3 and counts["rejected"] == 0
    assert counts["linked"] > 1100 and counts["quarantined"] >= 12
    assert len(list((folder / "archive").glob("*police__events.csv"))) == 1
    again = tmp_path / "inbox" / "police__events.csv"
    shutil.copy(MATCHING / "partners" / "police__events.csv", again)
    os.utime(again, (time.time() - 60, time.time() - 60))
    repeated = inbox(load_config(tmp_path / "cfg.yaml"), context_at(store, dt.date(2026, 11, 30)))
    assert repeated["duplicates"] == 1 and repeated["matched"] == 0


def test_the_retention_job_is_a_scheduler_job():
    assert "match-retention" in TASKS


def test_identities_are_compared_without_case_accents_spacing_or_punctuation():
    people = pl.DataFrame(
        {
            "id": ["a", "b"],
            "given_name": ["  ZOË-Ann ", "Bill"],
            "family_name": ["O'Brien-Smith", "  mc  nulty "],
            "date_of_birth": [dt.date(2010, 3, 7), dt.date(2010, 3, 17)],
            "sex": ["F", "U"],
            "postcode": ["bn1 1aa", "BN11AA"],
            "uprn": ["000123", None],
        }
    )
    found = comparable(people, "id", load_matching_config().variants).rows(named=True)
    assert (found[0]["given"], found[0]["family"], found[0]["family_tokens"]) == (
        "zoe",
        "obriensmith",
        ["obrien", "smith"],
    )
    assert found[0]["dob_swapped"] == "2010-07-03" and found[1]["dob_swapped"] is None  # the 17th is no month
    assert (found[0]["postcode"], found[0]["district"], found[1]["postcode"]) == ("BN11AA", "BN1", "BN11AA")
    assert found[0]["uprn"] == "123" and found[1]["sex"] is None
    assert "william" in found[1]["given_full"]  # Bill is a known short form of William


def test_a_matching_configuration_that_cannot_be_used_is_refused_naming_the_value(tmp_path):
    shipped = load_matching_config().source
    text = open(shipped, encoding="utf-8").read()
    bad = tmp_path / "matching.yaml"
    bad.write_text(text.replace("link_probability: 0.99", "link_probability: 1.5"))
    with pytest.raises(MatchingConfigError, match=r"link_probability must be a number from 0\.5 to 1"):
        load_matching_config(bad)
    bad.write_text(text.replace("memory_limit: 2GB", "memory_limit: lots"))
    with pytest.raises(MatchingConfigError, match="memory_limit must be an amount"):
        load_matching_config(bad)
    looser = tmp_path / "looser.yaml"
    looser.write_text(text.replace("link_probability: 0.99", "link_probability: 0.9"))
    assert load_matching_config(looser).link_probability == 0.9  # a council changes a threshold in configuration


def test_people_join_households_through_any_chain_of_shared_addresses():
    edges = pl.DataFrame({"a": ["p1", "p2", "p5"], "b": ["p2", "p3", "p6"]})
    found = dict(components(pl.Series(["p1", "p2", "p3", "p4", "p5", "p6"]), edges).iter_rows())
    assert found == {"p1": "p1", "p2": "p1", "p3": "p1", "p4": "p4", "p5": "p5", "p6": "p5"}


def test_every_level_of_the_configuration_is_described_in_words():
    config = load_matching_config()
    for name, levels in config.comparisons.items():
        assert config.level(name, -1).kind == "missing"
        assert config.level(name, 0).level == "other"
        assert config.level(name, len(levels) - 2) is levels[1]  # the strongest
        assert all(level.words for level in levels)
