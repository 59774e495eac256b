"""Where a family stands, in one word a coordinator sorts by: derived from its decision, never stored."""

from __future__ import annotations

import polars as pl

# in the order a family moves through them
STATUSES = ("not eligible", "in progress", "claimable by date", "claimable now", "held", "claimed")


def status() -> pl.Expr:
    """The status of each row of a decisions frame (the columns of outputs.md)."""
    return (
        pl.when(pl.col("claimed_in") != "")
        .then(pl.lit("claimed"))
        # a row in quarantine holds the family from every claim, whatever else its decision says: one count of
        # held families, the same on the dashboard and the quarantine page
        .when(pl.col("quarantined_records") > 0)
        .then(pl.lit("held"))
        .when(pl.col("claimable"))
        .then(pl.lit("claimable now"))
        .when(pl.col("earliest_claimable_date").is_not_null())
        .then(pl.lit("claimable by date"))
        .when(pl.col("eligible"))
        .then(pl.lit("in progress"))
        .otherwise(pl.lit("not eligible"))
        .alias("status")
    )


def with_status(decisions: pl.DataFrame) -> pl.DataFrame:
    return decisions.with_columns(status())
