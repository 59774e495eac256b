"""A database holding the public matching example's base and its partner files matched (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from conftest import EXAMPLES, context_at
from pbr import services
from pbr.store import Store

MATCHING = EXAMPLES / "matching"
D = dt.date(2019, 3, 31)
TODAY = dt.date(2026, 11, 30)


def truth() -> pl.DataFrame:
    return pl.read_csv(MATCHING / "expected_links.csv", infer_schema=False).with_columns(pl.col("row").cast(pl.Int64))


def matched_store(url: str):
    """The example's base loaded and its partners matched: (context, report)."""
    store = Store(url)
    ctx = context_at(store, TODAY)
    services.load_feeds(ctx, MATCHING / "base")
    return ctx, services.match_partner_files(ctx, MATCHING / "partners", actor="test")


@pytest.fixture
def matched(db_url):
    return matched_store(db_url)


@pytest.fixture(scope="module")
def matched_sqlite(tmp_path_factory):
    folder: Path = tmp_path_factory.mktemp("matched")
    return matched_store(f"sqlite:///{folder / 'pbr.db'}")
