"""Eligibility: which members each criterion flags, per theme (outcome-plan.md, "Themes, eligibility ...")."""

from __future__ import annotations

import polars as pl

from pbr.engine.kinds import CRITERIA, criterion
from pbr.engine.records import Records, absences, measured_terms
from pbr.periods import add_months, ratio
from pbr.plan import Plan, Rule

FLAGGED_SCHEMA = {"family_id": pl.String, "person_id": pl.String, "theme": pl.String, "criterion": pl.String}
ADULT_MONTHS = 216  # 18 years: a member is a child on a day while born less than 18 years before it


def _in_lookback(column: str) -> pl.Expr:
    return (pl.col(column) > pl.col("lookback_start")) & (pl.col(column) <= pl.col("attachment_date"))


@criterion("recorded_indicator")
def _recorded_indicator(rule: Rule, theme: str, families: pl.DataFrame, records: Records) -> pl.DataFrame:
    found = records.indicators.filter(pl.col("theme") == theme).join(families, on="family_id")
    return found.filter(_in_lookback("identified_date")).select("family_id", "person_id")


@criterion("event_count")
def _event_count(rule: Rule, theme: str, families: pl.DataFrame, records: Records) -> pl.DataFrame:
    found = records.events.filter(pl.col("event_type").is_in(list(rule["event_types"]))).join(families, on="family_id")
    counted = found.filter(_in_lookback("event_date")).group_by("family_id", "person_id").len()
    return counted.filter(pl.col("len") >= rule["min_count"]).select("family_id", "person_id")


@criterion("episode_open")
def _episode_open(rule: Rule, theme: str, families: pl.DataFrame, records: Records) -> pl.DataFrame:
    found = records.episodes.filter(pl.col("episode_type").is_in(list(rule["episode_types"]))).join(
        families, on="family_id"
    )
    starts_by = pl.col("start_date") <= pl.col("attachment_date")
    if rule["at_attachment"]:
        reaches = pl.col("end_date").is_null() | (pl.col("end_date") >= pl.col("attachment_date"))
    else:
        reaches = pl.col("end_date").is_null() | (pl.col("end_date") > pl.col("lookback_start"))
    return found.filter(starts_by & reaches).select("family_id", "person_id")


@criterion("attendance_below")
def _attendance_below(rule: Rule, theme: str, families: pl.DataFrame, records: Records) -> pl.DataFrame:
    terms = measured_terms(
        families.select("family_id", "attachment_date"), records.terms, "attachment_date", rule["terms"]
    )
    terms = terms.filter(pl.col("term_id").is_not_null()).select("family_id", "term_id")
    num, den = ratio(rule["min_absence_percent"])
    high = records.attendance.filter(100 * den * absences(rule["absence"]) >= num * pl.col("possible"))
    return high.join(terms, on=["family_id", "term_id"]).select("family_id", "person_id")


def families_with_lookback(plan: Plan, families: pl.DataFrame) -> pl.DataFrame:
    return families.select("family_id", "attachment_date").with_columns(
        add_months(pl.col("attachment_date"), -plan.eligibility_lookback_months).alias("lookback_start")
    )


def flagged_members(plan: Plan, families: pl.DataFrame, records: Records) -> pl.DataFrame:
    """One row per (family, member, theme, criterion) that fired."""
    with_lookback = families_with_lookback(plan, families)
    parts = []
    for theme in plan.themes:
        for rule in theme.eligibility:
            fired = CRITERIA[rule.kind].fires(rule, theme.code, with_lookback, records)
            parts.append(
                fired.unique().with_columns(
                    pl.lit(theme.code).alias("theme"), pl.lit(rule.label("eligibility")).alias("criterion")
                )
            )
    if not parts:
        return pl.DataFrame(schema=FLAGGED_SCHEMA)
    return pl.concat(parts).select(list(FLAGGED_SCHEMA)).cast(FLAGGED_SCHEMA)


def dependent_children(families: pl.DataFrame, records: Records) -> pl.DataFrame:
    """Families with a member born, and not yet 18, on the attachment day."""
    joined = records.members.join(families.select("family_id", "attachment_date"), on="family_id")
    child = (pl.col("date_of_birth") > add_months(pl.col("attachment_date"), -ADULT_MONTHS)) & (
        pl.col("date_of_birth") <= pl.col("attachment_date")
    )
    return joined.filter(child).select("family_id").unique()
