"""The days each measure of a family looks at on D: the windows a picture of the case shades, taken from the
measure kinds themselves so the picture and the decision can never disagree."""

from __future__ import annotations

import datetime as dt

import polars as pl

from pbr.engine.eligibility import flagged_members
from pbr.engine.kinds import MEASURES
from pbr.engine.measures import WINDOW_SCHEMA, Context
from pbr.engine.records import Records, cut
from pbr.plan import Plan

SCHEMA = {
    "family_id": pl.String,
    "theme": pl.String,
    "measure": pl.String,
    "what": pl.String,
    "start": pl.Date,
    "end": pl.Date,
}


def measure_windows(plan: Plan, records: Records, flagged: pl.DataFrame) -> pl.DataFrame:
    """One row per (family, theme present, measure, span it looks at) on the records' cut-off day, for every
    family attached by then, its flagged members as the decision found them."""
    as_of = records.cutoff
    families = records.families.filter(pl.col("attachment_date") <= pl.lit(as_of))
    points = families.with_columns(pl.lit(as_of).alias("at"))
    parts = [pl.DataFrame(schema=SCHEMA)]
    for theme in plan.themes:
        present = flagged.filter(pl.col("theme") == theme.code)
        theme_points = points.join(present.select("family_id").unique(), on="family_id", how="semi")
        if theme_points.height == 0:
            continue
        theme_flagged = present.select("family_id", "person_id").unique()
        for rule in theme.progress:
            ctx = Context(rule, theme.code, records, theme_flagged, plan.eligibility_lookback_months)
            found = MEASURES[rule.kind].windows(ctx, theme_points).cast(WINDOW_SCHEMA)
            parts.append(
                found.select(
                    "family_id",
                    pl.lit(theme.code).alias("theme"),
                    pl.lit(rule.label("progress")).alias("measure"),
                    "what",
                    "start",
                    "end",
                )
            )
    return pl.concat(parts).sort("family_id", "theme", "measure", "start")


def windows_of(plan: Plan, tables: dict[str, pl.DataFrame], as_of: dt.date) -> pl.DataFrame:
    """`measure_windows` of the families in `tables` at `as_of`, straight from their records."""
    records = cut(tables, as_of)
    families = records.families.filter(pl.col("attachment_date") <= pl.lit(as_of))
    return measure_windows(plan, records, flagged_members(plan, families, records))
