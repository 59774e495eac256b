"""Eligibility: which members each criterion flags, per theme (outcome-plan.md, "Themes, eligibility ...").

A criterion looks at a span of days `window_start < d <= window_end`: the lookback window up to attachment for
the themes present at attachment, or the days after attachment up to D for the needs that emerge later
(`needs: at_attachment_and_since`).
"""

from __future__ import annotations

import polars as pl

from pbr.engine.kinds import CRITERIA, criterion
from pbr.engine.records import Records, absences, measured_terms
from pbr.periods import add_months, ratio
from pbr.plan import Plan, Rule

FLAGGED_SCHEMA = {"family_id": pl.String, "person_id": pl.String, "theme": pl.String, "criterion": pl.String}
MONTHS_PER_YEAR = 12


def _in_window(column: str) -> pl.Expr:
    return (pl.col(column) > pl.col("window_start")) & (pl.col(column) <= pl.col("window_end"))


@criterion("recorded_indicator")
def _recorded_indicator(
    rule: Rule, theme: str, families: pl.DataFrame, records: Records, since: bool = False
) -> pl.DataFrame:
    found = records.indicators.filter(pl.col("theme") == theme).join(families, on="family_id")
    return found.filter(_in_window("identified_date")).select("family_id", "person_id")


@criterion("event_count")
def _event_count(rule: Rule, theme: str, families: pl.DataFrame, records: Records, since: bool = False) -> pl.DataFrame:
    found = records.events.filter(pl.col("event_type").is_in(list(rule["event_types"]))).join(families, on="family_id")
    counted = found.filter(_in_window("event_date")).group_by("family_id", "person_id").len()
    return counted.filter(pl.col("len") >= rule["min_count"]).select("family_id", "person_id")


@criterion("episode_open")
def _episode_open(
    rule: Rule, theme: str, families: pl.DataFrame, records: Records, since: bool = False
) -> pl.DataFrame:
    found = records.episodes.filter(pl.col("episode_type").is_in(list(rule["episode_types"]))).join(
        families, on="family_id"
    )
    starts_by = pl.col("start_date") <= pl.col("window_end")
    if rule["at_attachment"] and not since:  # it covers the attachment day itself
        reaches = pl.col("end_date").is_null() | (pl.col("end_date") >= pl.col("window_end"))
    else:  # it overlaps the window
        reaches = pl.col("end_date").is_null() | (pl.col("end_date") > pl.col("window_start"))
    return found.filter(starts_by & reaches).select("family_id", "person_id")


@criterion("attendance_below")
def _attendance_below(
    rule: Rule, theme: str, families: pl.DataFrame, records: Records, since: bool = False
) -> pl.DataFrame:
    if since:  # every term ending after attachment, up to D: the `terms` count does not apply
        terms = families.join(
            records.terms.select("term_id", pl.col("end_date").alias("term_end")), how="cross"
        ).filter(_in_window("term_end"))
    else:
        terms = measured_terms(families.select("family_id", "window_end"), records.terms, "window_end", rule["terms"])
        terms = terms.filter(pl.col("term_id").is_not_null())
    num, den = ratio(rule["min_absence_percent"])
    high = records.attendance.filter(100 * den * absences(rule["absence"]) >= num * pl.col("possible"))
    return high.join(terms.select("family_id", "term_id"), on=["family_id", "term_id"]).select("family_id", "person_id")


def families_with_lookback(plan: Plan, families: pl.DataFrame) -> pl.DataFrame:
    """The lookback window of each family: the months up to and including its attachment day."""
    return families.select(
        "family_id",
        "attachment_date",
        add_months(pl.col("attachment_date"), -plan.eligibility_lookback_months).alias("window_start"),
        pl.col("attachment_date").alias("window_end"),
    )


def _fired(plan: Plan, windows: pl.DataFrame, records: Records, since: bool) -> pl.DataFrame:
    parts = []
    for theme in plan.themes:
        for rule in theme.eligibility:
            fired = CRITERIA[rule.kind].fires(rule, theme.code, windows, records, since)
            parts.append(
                fired.unique().with_columns(
                    pl.lit(theme.code).alias("theme"), pl.lit(rule.label("eligibility")).alias("criterion")
                )
            )
    if not parts:
        return pl.DataFrame(schema=FLAGGED_SCHEMA)
    return pl.concat(parts).select(list(FLAGGED_SCHEMA)).cast(FLAGGED_SCHEMA)


def flagged_members(plan: Plan, families: pl.DataFrame, records: Records) -> pl.DataFrame:
    """One row per (family, member, theme, criterion) that fired in the lookback window."""
    return _fired(plan, families_with_lookback(plan, families), records, since=False)


def emerged_members(plan: Plan, families: pl.DataFrame, present: pl.DataFrame, records: Records) -> pl.DataFrame:
    """The needs that emerged after attachment: one row per (family, member, theme, criterion) that fired over the
    days A < d <= D, for the themes not present at attachment (a theme present keeps its own flagged members)."""
    since = families.select(
        "family_id",
        "attachment_date",
        pl.col("attachment_date").alias("window_start"),
        pl.lit(records.cutoff).alias("window_end"),
    )
    fired = _fired(plan, since, records, since=True)
    return fired.join(present.select("family_id", "theme"), on=["family_id", "theme"], how="anti")


def dependent_children(plan: Plan, families: pl.DataFrame, records: Records) -> pl.DataFrame:
    """Families with a member born, and under the plan's age (18 by default), on the attachment day; with
    `pregnancy`, also those with a pregnancy episode (any member) covering the attachment day."""
    attached = families.select("family_id", "attachment_date")
    months = MONTHS_PER_YEAR * plan.child_under_age
    child = (pl.col("date_of_birth") > add_months(pl.col("attachment_date"), -months)) & (
        pl.col("date_of_birth") <= pl.col("attachment_date")
    )
    found = [records.members.join(attached, on="family_id").filter(child).select("family_id")]
    if plan.pregnancy_counts:
        expecting = (pl.col("episode_type") == "pregnancy") & (pl.col("start_date") <= pl.col("attachment_date"))
        covering = pl.col("end_date").is_null() | (pl.col("end_date") >= pl.col("attachment_date"))
        found.append(records.episodes.join(attached, on="family_id").filter(expecting & covering).select("family_id"))
    return pl.concat(found).unique()
