"""The records the engine sees at a data cut-off D: the as-of replay rule in one place."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Records:
    """Typed record tables as they stood on `cutoff`, each keyed to its family.

    Events and indicators dated after the cut-off, a case closure after it, assessments after it and
    attendance for terms ending after it are gone; an episode open at the cut-off or ending after it has
    `end_date` null (open). The term calendar stays whole.
    """

    cutoff: dt.date
    families: pl.DataFrame  # family_id, attachment_date, closure_date (null when not closed by the cut-off)
    members: pl.DataFrame  # person_id, family_id, date_of_birth
    indicators: pl.DataFrame  # person_id, family_id, theme, identified_date
    events: pl.DataFrame  # person_id, family_id, event_type, event_date
    episodes: pl.DataFrame  # person_id, family_id, episode_type, start_date, end_date (null = open)
    attendance: pl.DataFrame  # person_id, family_id, term_id, term_start, term_end, possible, authorised, unauthorised
    terms: pl.DataFrame  # term_id, start_date, end_date, sorted by end_date
    assessments: pl.DataFrame  # family_id, tool, domain, assessment_date, score
    milestones: pl.DataFrame | None = None  # family_id, milestone, milestone_date


def cut(tables: dict[str, pl.DataFrame], cutoff: dt.date) -> Records:
    d = pl.lit(cutoff)
    families = tables["families"].select(
        "family_id",
        "attachment_date",
        pl.when(pl.col("closure_date") <= d).then(pl.col("closure_date")).alias("closure_date"),
    )
    members = tables["members"].select("person_id", "family_id", "date_of_birth")
    person_family = members.select("person_id", "family_id")

    def of_members(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.join(person_family, on="person_id", how="inner")

    indicators = of_members(
        tables["indicators"]
        .filter(pl.col("identified_date") <= d)
        .select("person_id", pl.col("indicator").str.split(".").list.first().alias("theme"), "identified_date")
    )
    events = of_members(
        tables["events"].filter(pl.col("event_date") <= d).select("person_id", "event_type", "event_date")
    )
    episodes = of_members(
        tables["episodes"]
        .filter(pl.col("start_date") <= d)
        .select(
            "person_id",
            "episode_type",
            "start_date",
            pl.when(pl.col("end_date") <= d).then(pl.col("end_date")).alias("end_date"),
        )
    )
    terms = tables["terms"].select("term_id", "start_date", "end_date").sort("end_date", "start_date")
    attendance = of_members(
        tables["attendance"]
        .join(
            terms.filter(pl.col("end_date") <= d).rename({"start_date": "term_start", "end_date": "term_end"}),
            on="term_id",
            how="inner",
        )
        .select(
            "person_id",
            "term_id",
            "term_start",
            "term_end",
            pl.col("possible_sessions").alias("possible"),
            pl.col("authorised_absence").alias("authorised"),
            pl.col("unauthorised_absence").alias("unauthorised"),
        )
    )
    assessments = (
        tables["assessments"]
        .filter(pl.col("assessment_date") <= d)
        .select("family_id", "tool", "domain", "assessment_date", "score")
    )
    milestone_table = tables.get("milestones")
    milestones = (
        pl.DataFrame(schema={"family_id": pl.String, "milestone": pl.String, "milestone_date": pl.Date})
        if milestone_table is None
        else milestone_table.filter(pl.col("milestone_date") <= d).select("family_id", "milestone", "milestone_date")
    )
    return Records(cutoff, families, members, indicators, events, episodes, attendance, terms, assessments, milestones)


def absences(kind: str) -> pl.Expr:
    """Absent sessions for the plan's `absence` setting."""
    if kind == "unauthorised":
        return pl.col("unauthorised")
    return pl.col("authorised") + pl.col("unauthorised")


def measured_terms(points: pl.DataFrame, terms: pl.DataFrame, day_column: str, count: int) -> pl.DataFrame:
    """For each point, the `count` most recent terms ending on or before its day: one row per (point, term).

    Adds `terms_available` (how many of them exist, up to `count`).
    """
    ends = terms.get_column("end_date")
    position = ends.search_sorted(points.get_column(day_column), side="right")
    with_pos = points.with_columns(pl.Series("__upto", position, dtype=pl.Int64))
    indexed = terms.with_row_index("__k").with_columns(pl.col("__k").cast(pl.Int64))
    picked = with_pos.with_columns(
        pl.int_ranges(pl.max_horizontal(pl.col("__upto") - count, pl.lit(0)), pl.col("__upto")).alias("__k"),
        pl.min_horizontal(pl.col("__upto"), pl.lit(count)).alias("terms_available"),
    ).explode("__k")
    return picked.join(indexed.rename({"start_date": "term_start", "end_date": "term_end"}), on="__k", how="left").drop(
        "__upto", "__k"
    )
