"""earliest_claimable_date (outputs.md): the first later day the family would be claimable if nothing changed.

With the records exactly as they stood on D, each measure holds on a set of later days that follows from its
kind (`after_d` in measures.py): a fixed measure keeps its answer from D; a settling one holds from its change
day on, if it holds there; a stepping one can switch at each of its change days. So a family's progress can
first be sustained on the latest day its fixed and settling measures all hold from, or, where it has stepping
measures, on the first of that day and their later change days on which they all hold. Continuous employment
gives the Sunday its run first completes; the earlier of the two is the forecast.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from pbr.engine.employment import horizon_of
from pbr.engine.kinds import FIXED, MEASURES, SETTLES
from pbr.engine.measures import Context
from pbr.engine.records import Records
from pbr.periods import first_day_window_starts_from
from pbr.plan import Plan

SCHEMA = {"family_id": pl.String, "earliest_claimable_date": pl.Date}


def _closure_gate(plan: Plan, records: Records, pending: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`result_after_closure_months`: the day each pending family's closure is long enough ago, and the families
    whose case is open at D (never, with the records frozen: an open case does not close)."""
    if plan.result_after_closure_months is None:
        return pending.select("family_id", "attachment_date").clear().select(
            "family_id", pl.lit(None, pl.Date).alias("from")
        ), pending.clear()
    closures = pending.join(records.families.select("family_id", "closure_date"), on="family_id")
    closed = closures.filter(pl.col("closure_date").is_not_null()).select(
        "family_id",
        first_day_window_starts_from(pl.col("closure_date"), plan.result_after_closure_months).alias("from"),
    )
    return closed, closures.filter(pl.col("closure_date").is_null()).select("family_id")


def earliest_claimable(
    plan: Plan,
    records: Records,
    pending: pl.DataFrame,
    flagged: pl.DataFrame,
    present: pl.DataFrame,
    employment: pl.DataFrame,
    results_at_d: pl.DataFrame,
) -> pl.DataFrame:
    """For eligible families not claimable at D: the forecast day within 730 days, or null.

    `results_at_d` holds every measure's answer at D, as `decide` worked it out.
    """
    cutoff = records.cutoff
    if pending.height == 0 or cutoff == dt.date.max:  # on the last day a date can hold, no later day exists
        return pl.DataFrame(schema=SCHEMA)
    first = dt.date.fromordinal(cutoff.toordinal() + 1)
    last = horizon_of(cutoff)
    present = present.join(pending, on="family_id", how="semi")

    gate_from, gate_never = _closure_gate(plan, records, pending)
    holds_from = [pending.select("family_id", pl.lit(first).alias("from")), gate_from.cast({"from": pl.Date})]
    never = [pending.select("family_id").clear(), gate_never.select("family_id")]
    stepping: list[tuple[Context, pl.DataFrame]] = []
    for theme in plan.themes:
        families = pending.join(present.filter(pl.col("theme") == theme.code), on="family_id", how="semi")
        if families.height == 0:
            continue
        theme_flagged = flagged.filter(pl.col("theme") == theme.code).select("family_id", "person_id").unique()
        for rule in theme.progress:
            kind = MEASURES[rule.kind]
            ctx = Context(
                rule, theme.code, records, theme_flagged, plan.eligibility_lookback_months, with_evidence=False
            )
            if kind.after_d == FIXED:
                unmet = results_at_d.filter(
                    (pl.col("theme") == theme.code) & (pl.col("measure") == rule.label("progress")) & ~pl.col("met")
                )
                never.append(unmet.select("family_id"))
            elif kind.after_d == SETTLES:
                change = kind.change_days(ctx, families).select("family_id", pl.col("at").cast(pl.Date))
                points = families.join(change, on="family_id", how="left").with_columns(
                    pl.max_horizontal(pl.col("at"), pl.lit(first)).fill_null(pl.lit(first)).alias("at")
                )
                result = kind.evaluate(ctx, points)
                holds_from.append(result.filter(pl.col("met")).select("family_id", pl.col("at").alias("from")))
                never.append(result.filter(~pl.col("met")).select("family_id"))
            else:
                stepping.append((ctx, families))
    settled = (
        pl.concat(holds_from)
        .group_by("family_id")
        .agg(pl.col("from").max())
        .join(pl.concat(never), on="family_id", how="anti")
        .filter(pl.col("from") <= pl.lit(last))
    )
    ssp_day = (
        _first_day_steps_hold(stepping, settled, pending, last)
        if stepping
        else settled.select("family_id", pl.col("from").alias("ssp_day"))
    )

    ce_day = (
        employment.filter(pl.col("completes") > pl.lit(cutoff))
        .group_by("family_id")
        .agg(pl.col("completes").min().alias("ce_day"))
    )
    combined = (
        pending.select("family_id").join(ssp_day, on="family_id", how="left").join(ce_day, on="family_id", how="left")
    )
    day = pl.min_horizontal("ssp_day", "ce_day")
    return combined.select("family_id", pl.when(day <= pl.lit(last)).then(day).alias("earliest_claimable_date")).cast(
        SCHEMA
    )


def _first_day_steps_hold(
    stepping: list[tuple[Context, pl.DataFrame]], settled: pl.DataFrame, pending: pl.DataFrame, last: dt.date
) -> pl.DataFrame:
    """(family_id, ssp_day): the first candidate day, from `settled.from` on, on which every stepping measure holds."""
    candidates = [settled.select("family_id", pl.col("from").alias("at"))]
    for ctx, families in stepping:
        candidates.append(
            MEASURES[ctx.rule.kind].change_days(ctx, families).select("family_id", pl.col("at").cast(pl.Date))
        )
    points = (
        pl.concat(candidates)
        .join(settled, on="family_id")
        .filter((pl.col("at") >= pl.col("from")) & (pl.col("at") <= pl.lit(last)))
        .select("family_id", "at")
        .unique()
        .join(pending.select("family_id", "attachment_date"), on="family_id")
    )
    needed, met = [], []
    for ctx, families in stepping:
        result = MEASURES[ctx.rule.kind].evaluate(ctx, points.join(families, on="family_id", how="semi"))
        met.append(result.filter(pl.col("met")).select("family_id", "at"))
        needed.append(families.select("family_id"))
    need = pl.concat(needed).group_by("family_id").len("need")
    all_met = (
        pl.concat(met)
        .group_by("family_id", "at")
        .len("met")
        .join(need, on="family_id")
        .filter(pl.col("met") >= pl.col("need"))
    )
    stepped = all_met.group_by("family_id").agg(pl.col("at").min().alias("ssp_day"))
    # families none of whose themes has a stepping measure: their settled day stands
    without_steps = settled.join(need, on="family_id", how="anti").select("family_id", pl.col("from").alias("ssp_day"))
    return pl.concat([stepped, without_steps])
