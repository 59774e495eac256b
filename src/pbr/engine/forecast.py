"""earliest_claimable_date (outputs.md): the first later day the family would be claimable if nothing changed.

Each measure names the days on which its answer can change; the family is evaluated on those days only,
with the records exactly as they stood on D, and the earliest day on which every measure of every theme
present is met is taken, or the Sunday continuous employment first completes, whichever comes first.
"""
from __future__ import annotations

import datetime as dt

import polars as pl

from pbr.engine.employment import HORIZON_DAYS
from pbr.engine.measures import MEASURES, Context
from pbr.engine.records import Records
from pbr.plan import Plan

SCHEMA = {"family_id": pl.String, "earliest_claimable_date": pl.Date}


def earliest_claimable(plan: Plan, records: Records, pending: pl.DataFrame, flagged: pl.DataFrame,
                       present: pl.DataFrame, employment: pl.DataFrame) -> pl.DataFrame:
    """For eligible families not claimable at D: the forecast day within 730 days, or null."""
    from pbr.engine.decide import _measure_results

    if pending.height == 0:
        return pl.DataFrame(schema=SCHEMA)
    cutoff = records.cutoff
    first = dt.date.fromordinal(cutoff.toordinal() + 1)
    last = dt.date.fromordinal(cutoff.toordinal() + HORIZON_DAYS)
    present = present.join(pending, on="family_id", how="semi")

    days = [pending.select("family_id", pl.lit(first).alias("at"))]
    for theme in plan.themes:
        families = pending.join(present.filter(pl.col("theme") == theme.code), on="family_id", how="semi")
        theme_flagged = flagged.filter(pl.col("theme") == theme.code).select("family_id", "person_id").unique()
        for rule in theme.progress:
            ctx = Context(rule, theme.code, records, theme_flagged, plan.eligibility_lookback_months)
            days.append(MEASURES[rule.kind].change_days(ctx, families).select("family_id", pl.col("at").cast(pl.Date)))
    candidates = pl.concat(days).drop_nulls().filter(pl.col("at") <= pl.lit(last)).with_columns(
        pl.max_horizontal("at", pl.lit(first)).alias("at")).unique()
    points = candidates.join(pending, on="family_id")

    results = _measure_results(plan, records, points, flagged, present, with_evidence=False)
    # theme-qualified so two themes' measures with the same index stay distinct
    met_at = results.filter(pl.col("met")).group_by("family_id", "at").agg(
        (pl.col("theme") + pl.col("measure")).n_unique().alias("met_count"))
    measure_count = results.select("family_id", (pl.col("theme") + pl.col("measure")).alias("m")).unique().group_by(
        "family_id").len("n")
    all_met = points.select("family_id", "at").join(measure_count, on="family_id", how="left").join(
        met_at, on=["family_id", "at"], how="left").filter(
        pl.col("met_count").fill_null(0) >= pl.col("n").fill_null(0))
    ssp_day = all_met.group_by("family_id").agg(pl.col("at").min().alias("ssp_day"))

    ce_day = employment.filter(pl.col("completes") > pl.lit(cutoff)).group_by("family_id").agg(
        pl.col("completes").min().alias("ce_day"))
    combined = pending.select("family_id").join(ssp_day, on="family_id", how="left").join(ce_day, on="family_id", how="left")
    day = pl.min_horizontal("ssp_day", "ce_day")
    return combined.select("family_id", pl.when(day <= pl.lit(last)).then(day).alias("earliest_claimable_date")).cast(SCHEMA)
