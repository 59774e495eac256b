"""Continuous employment by ISO weeks (outcome-plan.md, "Continuous employment")."""

from __future__ import annotations

import datetime as dt

import polars as pl

from pbr.engine.records import Records
from pbr.periods import day_in_words, in_words, monday_of, sunday_of, week_number
from pbr.plan import Plan

HORIZON_DAYS = 730


def horizon_of(cutoff: dt.date) -> dt.date:
    """The forecast's last day, D + 730 days, or the last day a date can hold for a D in the year 9998 or later."""
    return dt.date.fromordinal(min(cutoff.toordinal() + HORIZON_DAYS, dt.date.max.toordinal()))


MEMBER_SCHEMA = {
    "family_id": pl.String,
    "person_id": pl.String,
    "met": pl.Boolean,
    "completes": pl.Date,
    "evidence": pl.String,
}


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
    return (
        ordered.with_columns(starts_block.cum_sum().alias("block"))
        .group_by("pid", "block")
        .agg(pl.col("start_date").min(), pl.col("end_date").max())
    )


def _qualifying(rules: dict, attached: pl.DataFrame, records: Records) -> pl.DataFrame:
    """(family, person, benefit, weeks, within, benefit_text) for each benefit episode of the map covering A."""
    benefits = records.episodes.filter(pl.col("episode_type").is_in(list(rules))).join(attached, on="family_id")
    covers_a = (pl.col("start_date") <= pl.col("attachment_date")) & (
        pl.col("end_date").is_null() | (pl.col("end_date") >= pl.col("attachment_date"))
    )
    rule_table = pl.DataFrame(
        {
            "episode_type": list(rules),
            "weeks": [r.weeks_employed for r in rules.values()],
            "within": [r.within_weeks for r in rules.values()],
        }
    )
    spell = (
        pl.col("episode_type").str.replace_all("_", " ")
        + pl.lit(" from ")
        + in_words(pl.col("start_date"))
        + pl.when(pl.col("end_date").is_null())
        .then(pl.lit(", still open,"))
        .otherwise(pl.lit(" to ") + in_words(pl.col("end_date")))
    )
    return (
        benefits.filter(covers_a)
        .join(rule_table, on="episode_type")
        .group_by("family_id", "person_id", "episode_type", "weeks", "within")
        .agg(pl.col("start_date", "end_date").first())
        .select("family_id", "person_id", "episode_type", "weeks", "within", spell.alias("benefit_text"))
    )


def _weeks_counted(people: pl.DataFrame, records: Records, rules: dict, horizon: dt.date) -> pl.DataFrame:
    """(pid, w0, w1): each qualifying person's counted weeks: after A, employed all week, on no benefit of the map."""
    work = records.episodes.filter(pl.col("episode_type") == "employment").join(people, on=["family_id", "person_id"])
    work = work.with_columns(pl.col("end_date").fill_null(pl.lit(horizon))).select("pid", "start_date", "end_date")
    blocks = _merged(work).join(people.select("pid", "attachment_date"), on="pid")
    first_week = week_number(pl.col("start_date")) + (
        (pl.col("start_date") - monday_of(week_number(pl.col("start_date")))).dt.total_days() > 0
    ).cast(pl.Int64)
    last_week = week_number(pl.col("end_date") + pl.duration(days=1)) - 1
    after_attachment = week_number(pl.col("attachment_date")) + 1
    employed = blocks.select(
        "pid",
        pl.max_horizontal(first_week, after_attachment).alias("w0"),
        pl.min_horizontal(last_week, week_number(pl.lit(horizon) + pl.duration(days=1)) - 1).alias("w1"),
    ).filter(pl.col("w1") >= pl.col("w0"))
    on_benefit = (
        records.episodes.filter(pl.col("episode_type").is_in(list(rules)))
        .join(people.select("person_id", "pid"), on="person_id")
        .select(
            "pid",
            week_number(pl.col("start_date")).alias("w0"),
            week_number(pl.col("end_date").fill_null(pl.lit(horizon))).alias("w1"),
        )
    )
    return _counted_weeks(employed, on_benefit)


def _counted_by(counted: pl.DataFrame, people: pl.DataFrame, cutoff: dt.date) -> pl.DataFrame:
    """Per person: the weeks counted by the cut-off, and the first and latest of them."""
    last_by_cutoff = week_number(pl.lit(cutoff) + pl.duration(days=1)) - 1  # the last week whose Sunday is by D
    return (
        counted.filter(pl.col("w0") <= last_by_cutoff)
        .with_columns(pl.min_horizontal("w1", last_by_cutoff).alias("w1"))
        .group_by("pid")
        .agg(
            (pl.col("w1") - pl.col("w0") + 1).sum().alias("counted"),
            pl.col("w0").min().alias("first"),
            pl.col("w1").max().alias("latest"),
        )
        .join(people.select("pid", "person_id"), on="pid")
        .drop("pid")
    )


def _employment_evidence(cutoff: dt.date, met: pl.Expr) -> pl.Expr:
    return (
        pl.col("rules")
        + pl.lit(f"; weeks in work off benefit counted by {day_in_words(cutoff)}: ")
        + pl.col("counted").cast(pl.String)
        + pl.when(pl.col("counted") > 0)
        .then(
            pl.lit(" (")
            + in_words(monday_of(pl.col("first")))
            + pl.lit(" to ")
            + in_words(sunday_of(pl.col("latest")))
            + pl.lit(")")
        )
        .otherwise(pl.lit(""))
        + pl.when(met)
        .then(pl.lit("; met, the run completed on ") + in_words(pl.col("completes")))
        .otherwise(pl.lit("; not met"))
    )


def continuous_employment(plan: Plan, families: pl.DataFrame, records: Records) -> pl.DataFrame:
    """One row per qualifying member: met by the cut-off, and the Sunday its run first completes (within 730 days,
    records frozen at the cut-off, open episodes staying open)."""
    rules = {r.benefit: r for r in plan.benefit_rules}
    if not rules:
        return pl.DataFrame(schema=MEMBER_SCHEMA)
    cutoff = records.cutoff
    horizon = horizon_of(cutoff)
    attached = families.select("family_id", "attachment_date")
    qualifying = _qualifying(rules, attached, records)
    people = qualifying.select("family_id", "person_id").unique().join(attached, on="family_id")
    people = people.with_row_index("pid").with_columns(pl.col("pid").cast(pl.Int64))
    counted = _weeks_counted(people, records, rules, horizon)
    completions = [
        _first_completion(counted, weeks_needed, within).with_columns(
            pl.lit(weeks_needed).alias("weeks"), pl.lit(within).alias("within")
        )
        for weeks_needed, within in sorted({(r.weeks_employed, r.within_weeks) for r in rules.values()})
    ]
    complete = pl.concat(completions).join(people.select("pid", "person_id"), on="pid").drop("pid")
    by_rule = qualifying.join(
        complete.cast({"weeks": pl.Int64, "within": pl.Int64}), on=["person_id", "weeks", "within"], how="left"
    ).with_columns(sunday_of(pl.col("last_week")).alias("completes"))
    needs = (
        pl.col("benefit_text")
        + pl.lit(" covered attachment, so ")
        + pl.col("weeks").cast(pl.String)
        + pl.lit(" weeks in work within ")
        + pl.col("within").cast(pl.String)
        + pl.lit(" are needed")
    )
    per_person = (
        by_rule.group_by("family_id", "person_id")
        .agg(pl.col("completes").min(), needs.sort().str.join("; ").alias("rules"))
        .join(_counted_by(counted, people, cutoff), on="person_id", how="left")
        .with_columns(pl.col("counted").fill_null(0))
    )
    met = pl.col("completes").is_not_null() & (pl.col("completes") <= pl.lit(cutoff))
    return per_person.select(
        "family_id",
        "person_id",
        met.alias("met"),
        pl.when(pl.col("completes") <= pl.lit(horizon)).then(pl.col("completes")).alias("completes"),
        _employment_evidence(cutoff, met).alias("evidence"),
    ).cast(MEMBER_SCHEMA)


def _counted_weeks(employed: pl.DataFrame, on_benefit: pl.DataFrame) -> pl.DataFrame:
    """(pid, w0, w1): the weeks inside `employed` and outside every `on_benefit` interval, as sorted week ranges.

    A sweep over interval edges: each person's running counts of employment and benefit intervals open at a
    week; a range between two edges counts where employment is open and no benefit is.
    """

    def edges(frame: pl.DataFrame, column: str) -> pl.DataFrame:
        return pl.concat(
            [
                frame.select("pid", pl.col("w0").alias("week"), pl.lit(1).alias(column)),
                frame.select("pid", (pl.col("w1") + 1).alias("week"), pl.lit(-1).alias(column)),
            ]
        )

    sweep = pl.concat(
        [
            edges(employed, "work").with_columns(pl.lit(0).alias("benefit")),
            edges(on_benefit, "benefit").with_columns(pl.lit(0).alias("work")).select("pid", "week", "work", "benefit"),
        ]
    )
    # every person's edges sum to zero, so running sums over all people stay per person once sorted by person
    ranges = (
        sweep.group_by("pid", "week")
        .agg(pl.col("work").sum(), pl.col("benefit").sum())
        .sort("pid", "week")
        .with_columns(
            pl.col("work").cum_sum(),
            pl.col("benefit").cum_sum(),
            pl.col("week").shift(-1).alias("next_week"),
            pl.col("pid").shift(-1).alias("next_pid"),
        )
    )
    return ranges.filter(
        (pl.col("work") > 0) & (pl.col("benefit") == 0) & (pl.col("next_pid") == pl.col("pid"))
    ).select("pid", pl.col("week").alias("w0"), (pl.col("next_week") - 1).alias("w1"))


def _first_completion(counted: pl.DataFrame, weeks_needed: int, within: int) -> pl.DataFrame:
    """(pid, last_week): the first week on which `weeks_needed` counted weeks fall within `within` weeks.

    The earliest run can always start on the first week of a counted range (moving a start back inside its
    range never lengthens the span), so only those starts are tried: the run's last week is the counted week
    `weeks_needed - 1` places on, found in the range holding it by the counts of weeks before each range.
    """
    ranges = (
        counted.sort("pid", "w0")
        .with_columns((pl.col("w1") - pl.col("w0") + 1).alias("length"))
        .with_columns((pl.col("length").cum_sum().over("pid") - pl.col("length")).alias("before"))
    )
    starts = ranges.select("pid", pl.col("w0").alias("start"), (pl.col("before") + weeks_needed).alias("nth"))
    ends = (
        starts.join(ranges, on="pid")
        .filter((pl.col("nth") > pl.col("before")) & (pl.col("nth") <= pl.col("before") + pl.col("length")))
        .with_columns((pl.col("w0") + pl.col("nth") - pl.col("before") - 1).alias("last_week"))
    )
    return (
        ends.filter(pl.col("last_week") - pl.col("start") <= within - 1).group_by("pid").agg(pl.col("last_week").min())
    )
