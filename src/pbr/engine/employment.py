"""Continuous employment by ISO weeks (outcome-plan.md, "Continuous employment")."""
from __future__ import annotations

import datetime as dt

import polars as pl

from pbr.engine.dates import iso, monday_of, sunday_of, week_number
from pbr.engine.records import Records
from pbr.plan import Plan

HORIZON_DAYS = 730
MEMBER_SCHEMA = {"family_id": pl.String, "person_id": pl.String, "met": pl.Boolean, "completes": pl.Date,
                 "evidence": pl.String}


def _merged(intervals: pl.DataFrame) -> pl.DataFrame:
    """Union of each person's [start_date, end_date] day ranges (touching ranges join up)."""
    ordered = intervals.sort("pid", "start_date")
    # running furthest end within a person, without a per-group window: pids are sorted, so the running
    # maximum of (pid, end) as one number only looks back across the same pid
    span = 1 << 32
    end_day = (pl.col("end_date") - pl.lit(dt.date(1900, 1, 1))).dt.total_days()
    reach = (pl.col("pid") * span + end_day).cum_max().shift(1)
    same = reach.floordiv(span) == pl.col("pid")
    previous_end = pl.when(same).then(pl.lit(dt.date(1900, 1, 1)) + pl.duration(days=reach.mod(span)))
    starts_block = previous_end.is_null() | (pl.col("start_date") > previous_end + pl.duration(days=1))
    return ordered.with_columns(starts_block.cum_sum().alias("block")).group_by("pid", "block").agg(
        pl.col("start_date").min(), pl.col("end_date").max())


def continuous_employment(plan: Plan, families: pl.DataFrame, records: Records) -> pl.DataFrame:
    """One row per qualifying member: met by the cut-off, and the Sunday its run first completes (within 730 days,
    records frozen at the cut-off, open episodes staying open)."""
    rules = {r.benefit: r for r in plan.benefit_rules}
    if not rules:
        return pl.DataFrame(schema=MEMBER_SCHEMA)
    cutoff = records.cutoff
    horizon = dt.date.fromordinal(cutoff.toordinal() + HORIZON_DAYS)
    attached = families.select("family_id", "attachment_date")
    benefits = records.episodes.filter(pl.col("episode_type").is_in(list(rules))).join(attached, on="family_id")
    covers_a = (pl.col("start_date") <= pl.col("attachment_date")) & (
        pl.col("end_date").is_null() | (pl.col("end_date") >= pl.col("attachment_date")))
    rule_table = pl.DataFrame({
        "episode_type": list(rules), "weeks": [r.weeks_employed for r in rules.values()],
        "within": [r.within_weeks for r in rules.values()]})
    qualifying = benefits.filter(covers_a).join(rule_table, on="episode_type").group_by(
        "family_id", "person_id", "episode_type", "weeks", "within").agg(
        (pl.col("episode_type") + pl.lit(" ") + iso(pl.col("start_date")) + pl.lit("..")
         + pl.col("end_date").dt.strftime("%Y-%m-%d").fill_null("open")).first().alias("benefit_text"))
    people = qualifying.select("family_id", "person_id").unique().join(attached, on="family_id")

    people = people.with_row_index("pid").with_columns(pl.col("pid").cast(pl.Int64))
    work = records.episodes.filter(pl.col("episode_type") == "employment").join(people, on=["family_id", "person_id"])
    work = work.with_columns(pl.col("end_date").fill_null(pl.lit(horizon))).select("pid", "start_date", "end_date")
    blocks = _merged(work).join(people.select("pid", "attachment_date"), on="pid")
    first_week = (week_number(pl.col("start_date")) + ((pl.col("start_date") - monday_of(
        week_number(pl.col("start_date")))).dt.total_days() > 0).cast(pl.Int64))
    last_week = week_number(pl.col("end_date") + pl.duration(days=1)) - 1
    after_attachment = week_number(pl.col("attachment_date")) + 1
    weeks = blocks.with_columns(
        pl.max_horizontal(first_week, after_attachment).alias("w0"),
        pl.min_horizontal(last_week, week_number(pl.lit(horizon) + pl.duration(days=1)) - 1).alias("w1"),
    ).filter(pl.col("w1") >= pl.col("w0")).sort("pid", "w0").select(
        "pid", pl.int_ranges("w0", pl.col("w1") + 1).alias("week")).explode("week")

    on_benefit = records.episodes.filter(pl.col("episode_type").is_in(list(rules))).join(
        people.select("person_id", "pid"), on="person_id").select(
        "pid", week_number(pl.col("start_date")).alias("b0"),
        week_number(pl.col("end_date").fill_null(pl.lit(horizon))).alias("b1"))
    blocked = weeks.join(on_benefit, on="pid").filter(pl.col("week").is_between("b0", "b1")).select(
        "pid", "week").unique()
    counted = weeks.join(blocked, on=["pid", "week"], how="anti", maintain_order="left")

    completions = []
    for weeks_needed, within in sorted({(r.weeks_employed, r.within_weeks) for r in rules.values()}):
        ahead = weeks_needed - 1
        same_person = pl.col("pid").shift(-ahead) == pl.col("pid")
        done = counted.with_columns(pl.col("week").shift(-ahead).alias("last")).filter(
            same_person & (pl.col("last") - pl.col("week") <= within - 1))
        completions.append(done.group_by("pid").agg(pl.col("last").min().alias("last_week")).with_columns(
            pl.lit(weeks_needed).alias("weeks"), pl.lit(within).alias("within")))
    complete = pl.concat(completions) if completions else pl.DataFrame(
        schema={"pid": pl.Int64, "last_week": pl.Int64, "weeks": pl.Int32, "within": pl.Int32})
    complete = complete.join(people.select("pid", "person_id"), on="pid").drop("pid")
    by_rule = qualifying.join(complete.cast({"weeks": pl.Int64, "within": pl.Int64}), on=["person_id", "weeks", "within"],
                              how="left").with_columns(sunday_of(pl.col("last_week")).alias("completes"))
    so_far = counted.filter(sunday_of(pl.col("week")) <= pl.lit(cutoff)).join(
        people.select("pid", "person_id"), on="pid").group_by("person_id").agg(
        pl.len().alias("counted"), pl.col("week").min().alias("first"), pl.col("week").max().alias("latest"))
    per_person = by_rule.group_by("family_id", "person_id").agg(
        pl.col("completes").min(),
        (pl.col("benefit_text") + pl.lit(" covers attachment (needs ") + pl.col("weeks").cast(pl.String)
         + pl.lit(" weeks within ") + pl.col("within").cast(pl.String) + pl.lit(")")).sort().str.join("; ").alias("rules"),
    ).join(so_far, on="person_id", how="left").with_columns(pl.col("counted").fill_null(0))
    met = pl.col("completes").is_not_null() & (pl.col("completes") <= pl.lit(cutoff))
    evidence = pl.col("rules") + pl.lit("; counted weeks by ") + pl.lit(cutoff.isoformat()) + pl.lit(": ") + pl.col(
        "counted").cast(pl.String) + pl.when(pl.col("counted") > 0).then(
        pl.lit(" (") + iso(monday_of(pl.col("first"))) + pl.lit(" to ") + iso(sunday_of(pl.col("latest"))) + pl.lit(")")
    ).otherwise(pl.lit("")) + pl.when(met).then(pl.lit("; met, run complete on ") + iso(pl.col("completes"))).otherwise(
        pl.lit("; not met"))
    return per_person.select("family_id", "person_id", met.alias("met"),
                             pl.when(pl.col("completes") <= pl.lit(horizon)).then(pl.col("completes")).alias("completes"),
                             evidence.alias("evidence")).cast(MEMBER_SCHEMA)
