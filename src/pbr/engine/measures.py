"""Progress measures: one function per plan `kind`, each deciding met/not met with evidence at given days.

Every measure is evaluated on *points*: rows of (family_id, attachment_date, at). The decision uses one point
per family (at = D); the forecast uses later points with the records as they stood on D. Each kind also says
how its answer can move after D with the records frozen (`after_d`) and on which later days it can change
(`change_days`), so the forecast only looks there.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pbr.engine.kinds import FIXED, SETTLES, STEPS, measure
from pbr.engine.records import Records, absences, measured_terms
from pbr.periods import (
    DAY_IN_WORDS,
    add_months,
    day_in_words,
    first_day_window_starts_from,
    in_words,
    ratio,
    school_age,
    words_list,
)
from pbr.plan import Rule

RESULT_SCHEMA = {"family_id": pl.String, "at": pl.Date, "met": pl.Boolean, "evidence": pl.String}
POINT_KEYS = ["family_id", "at"]


@dataclass(frozen=True)
class Context:
    """What a measure may look at besides the points."""

    rule: Rule
    theme: str
    records: Records
    flagged: pl.DataFrame  # family_id, person_id: the theme's flagged members
    lookback_months: int
    with_evidence: bool = True

    def evidence(self, text: pl.Expr) -> pl.Expr:
        """The evidence text, or nothing where only met/not met is wanted (the forecast)."""
        return text if self.with_evidence else pl.lit(None, pl.String)

    def in_scope(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The rows of a member-keyed record table that the rule's `scope` covers."""
        if self.rule.params.get("scope", "family") == "flagged":
            return frame.join(self.flagged, on=["family_id", "person_id"], how="semi")
        return frame  # every record is keyed to its person's family already (records.cut)


def _after_closure(ctx: Context) -> bool:
    return ctx.rule.params.get("window_after", "attachment") == "closure"


def _anchored(ctx: Context, frame: pl.DataFrame) -> pl.DataFrame:
    """Adds `anchor`: the day the measured window must start on or after (attachment, or case closure).

    A case not closed by the cut-off has no anchor, and a window that must follow its closure is never complete.
    """
    if not _after_closure(ctx):
        return frame.with_columns(pl.col("attachment_date").alias("anchor"))
    closures = ctx.records.families.select("family_id", pl.col("closure_date").alias("anchor"))
    return frame.join(closures, on="family_id", how="left")


def _window(ctx: Context, points: pl.DataFrame, months: int) -> pl.DataFrame:
    return (
        _anchored(ctx, points)
        .with_columns(add_months(pl.col("at"), -months).alias("window_start"))
        .with_columns((pl.col("window_start") >= pl.col("anchor")).fill_null(False).alias("complete"))
    )


def _span(months: int, start: str = "window_start", end: str = "at") -> pl.Expr:
    """The days (start, end] in words: "the 6 months from 1 May 2017 to 31 Oct 2017"."""
    return (
        pl.lit(f"the {months} months from ")
        + in_words(_day_after(pl.col(start)))
        + pl.lit(" to ")
        + in_words(pl.col(end))
    )


def _dates_in_brackets(column: str) -> pl.Expr:
    """ " (on 2 Mar 2017, 5 May 2017)" from a list of days, or nothing when there are none."""
    days = pl.col(column).list.eval(pl.element().sort().dt.strftime(DAY_IN_WORDS)).list.join(", ")
    return pl.when(pl.col(column).list.len() > 0).then(pl.lit(" (on ") + days + pl.lit(")")).otherwise(pl.lit(""))


def _incomplete_text(ctx: Context) -> pl.Expr:
    months = ctx.rule["months"]
    if _after_closure(ctx):
        return (
            pl.when(pl.col("anchor").is_null())
            .then(
                pl.lit(
                    f"Not yet measurable: the case is not closed by {day_in_words(ctx.records.cutoff)}, and the "
                    f"{months} months measured must follow its closure"
                )
            )
            .otherwise(
                pl.lit("Not yet measurable: ")
                + _span(months)
                + pl.lit(" must begin after the case closed (on ")
                + in_words(pl.col("anchor"))
                + pl.lit(")")
            )
        )
    return (
        pl.lit("Not yet measurable: ")
        + _span(months)
        + pl.lit(" must begin after attachment (on ")
        + in_words(pl.col("attachment_date"))
        + pl.lit(")")
    )


WINDOW_SCHEMA = {"family_id": pl.String, "at": pl.Date, "what": pl.String, "start": pl.Date, "end": pl.Date}


def _day_after(day: pl.Expr) -> pl.Expr:
    return day + pl.duration(days=1)


def _measured_window(ctx: Context, points: pl.DataFrame) -> pl.DataFrame:
    """The days (S, D] a quiet-window measure counts in, whether or not it is complete yet."""
    framed = _window(ctx, points, ctx.rule["months"])
    return framed.select(
        *POINT_KEYS,
        pl.lit(f"measured window ({ctx.rule['months']} months)").alias("what"),
        _day_after(pl.col("window_start")).alias("start"),
        pl.col("at").alias("end"),
    ).cast(WINDOW_SCHEMA)


def _windows_with_before(ctx: Context, points: pl.DataFrame) -> pl.DataFrame:
    """The measured window, and the window before attachment it is compared with."""
    months = ctx.rule["months"]
    before = points.select(
        *POINT_KEYS,
        pl.lit(f"before attachment ({months} months)").alias("what"),
        _day_after(add_months(pl.col("attachment_date"), -months)).alias("start"),
        pl.col("attachment_date").alias("end"),
    ).cast(WINDOW_SCHEMA)
    return pl.concat([before, _measured_window(ctx, points)])


def _scoped_events(ctx: Context) -> pl.DataFrame:
    types = list(ctx.rule["event_types"])
    events = ctx.records.events.filter(pl.col("event_type").is_in(types))
    return ctx.in_scope(events).select("family_id", "event_date")


def _no_days(ctx: Context, families: pl.DataFrame) -> pl.DataFrame:
    return families.select("family_id", pl.lit(None, pl.Date).alias("at")).clear()


def _events_window_change(ctx: Context, families: pl.DataFrame) -> pl.DataFrame:
    """Records frozen at D: the window must start on or after attachment and after the events it may not hold."""
    months = ctx.rule["months"]
    events = _scoped_events(ctx).join(families.select("family_id", "attachment_date"), on="family_id")
    if ctx.rule.kind == "events_reduced":
        num, den = ratio(ctx.rule["reduction_percent"])
        before = (
            events.filter(
                (pl.col("event_date") > add_months(pl.col("attachment_date"), -months))
                & (pl.col("event_date") <= pl.col("attachment_date"))
            )
            .group_by("family_id")
            .len("before")
        )
        after = events.filter(pl.col("event_date") > pl.col("attachment_date")).join(before, on="family_id", how="left")
        # at most `allowed` events may stay in the window: it must start on or after the (allowed+1)-th latest.
        allowed = ((100 * den - num) * pl.col("before").fill_null(0)).floordiv(100 * den)
        ranked = after.with_columns(pl.col("event_date").rank("ordinal", descending=True).over("family_id").alias("k"))
        blocking = ranked.filter(pl.col("k") == allowed + 1).select(
            "family_id", pl.col("event_date").alias("clear_after")
        )
    else:
        blocking = events.group_by("family_id").agg(pl.col("event_date").max().alias("clear_after"))
    start = (
        _anchored(ctx, families.join(blocking, on="family_id", how="left"))
        .filter(pl.col("anchor").is_not_null())
        .select("family_id", pl.max_horizontal("anchor", "clear_after").alias("earliest_start"))
    )
    return start.select("family_id", first_day_window_starts_from(pl.col("earliest_start"), months).alias("at"))


def _count_in_window(points: pl.DataFrame, events: pl.DataFrame, lower: str, upper: str, name: str) -> pl.DataFrame:
    joined = (
        points.select(*dict.fromkeys([*POINT_KEYS, lower, upper]))
        .join(events, on="family_id", how="inner")
        .filter((pl.col("event_date") > pl.col(lower)) & (pl.col("event_date") <= pl.col(upper)))
    )
    return joined.group_by(POINT_KEYS).agg(pl.len().alias(name), pl.col("event_date").alias(f"{name}_dates"))


def _with_counts(points: pl.DataFrame, counts: pl.DataFrame, name: str) -> pl.DataFrame:
    return points.join(counts, on=POINT_KEYS, how="left").with_columns(
        pl.col(name).fill_null(0), pl.col(f"{name}_dates").fill_null(pl.lit([], pl.List(pl.Date)))
    )


@measure("no_events", _events_window_change, SETTLES, _measured_window)
def no_events(ctx: Context, points: pl.DataFrame) -> pl.DataFrame:
    points = _window(ctx, points, ctx.rule["months"])
    counts = _count_in_window(points, _scoped_events(ctx), "window_start", "at", "after")
    frame = _with_counts(points, counts, "after")
    types = words_list(ctx.rule["event_types"])
    evidence = (
        pl.when(~pl.col("complete"))
        .then(_incomplete_text(ctx))
        .otherwise(
            pl.lit(f"{types}: ")
            + pl.when(pl.col("after") == 0).then(pl.lit("none")).otherwise(pl.col("after").cast(pl.String))
            + pl.lit(" in ")
            + _span(ctx.rule["months"])
            + _dates_in_brackets("after_dates")
            + pl.lit("; none allowed")
        )
    )
    return frame.select(
        *POINT_KEYS,
        (pl.col("complete") & (pl.col("after") == 0)).alias("met"),
        ctx.evidence(evidence).alias("evidence"),
    )


@measure("events_reduced", _events_window_change, SETTLES, _windows_with_before)
def events_reduced(ctx: Context, points: pl.DataFrame) -> pl.DataFrame:
    months = ctx.rule["months"]
    num, den = ratio(ctx.rule["reduction_percent"])
    points = _window(ctx, points, months).with_columns(
        add_months(pl.col("attachment_date"), -months).alias("before_start")
    )
    events = _scoped_events(ctx)
    after = _count_in_window(points, events, "window_start", "at", "after")
    before = _count_in_window(points, events, "before_start", "attachment_date", "before")
    frame = _with_counts(_with_counts(points, after, "after"), before, "before")
    allowed = ((100 * den - num) * pl.col("before")).floordiv(100 * den)
    reduced = 100 * den * pl.col("after") <= (100 * den - num) * pl.col("before")
    types = words_list(ctx.rule["event_types"])
    change = pl.col("before").cast(pl.Int64) - pl.col("after").cast(pl.Int64)  # counts are unsigned
    fall = (
        pl.when(pl.col("before") == 0)
        .then(pl.lit("; none before attachment"))
        .when(change > 0)
        .then(pl.lit("; a fall of ") + (change * 100).floordiv(pl.col("before")).cast(pl.String) + pl.lit("%"))
        .when(change == 0)
        .then(pl.lit("; no fall"))
        .otherwise(pl.lit("; a rise of ") + (-change * 100).floordiv(pl.col("before")).cast(pl.String) + pl.lit("%"))
    )
    evidence = (
        pl.when(~pl.col("complete"))
        .then(_incomplete_text(ctx))
        .otherwise(
            pl.lit(f"{types}: ")
            + pl.col("before").cast(pl.String)
            + pl.lit(" in ")
            + _span(months, "before_start", "attachment_date")
            + pl.lit(" before attachment, ")
            + pl.col("after").cast(pl.String)
            + pl.lit(" in ")
            + _span(months)
            + _dates_in_brackets("after_dates")
            + fall
            + pl.lit(f", at least {ctx.rule['reduction_percent']}% needed, so at most ")
            + allowed.cast(pl.String)
            + pl.lit(" allowed")
        )
    )
    return frame.select(
        *POINT_KEYS, (pl.col("complete") & reduced).alias("met"), ctx.evidence(evidence).alias("evidence")
    )


def _scoped_episodes(ctx: Context) -> pl.DataFrame:
    episodes = ctx.records.episodes.filter(pl.col("episode_type").is_in(list(ctx.rule["episode_types"])))
    return ctx.in_scope(episodes)


def _episodes_change(ctx: Context, families: pl.DataFrame) -> pl.DataFrame:
    episodes = _scoped_episodes(ctx)
    ends = episodes.group_by("family_id").agg(
        pl.col("end_date").is_null().any().alias("still_open"), pl.col("end_date").max().alias("last_end")
    )
    start = (
        _anchored(ctx, families.join(ends, on="family_id", how="left"))
        .filter(~pl.col("still_open").fill_null(False) & pl.col("anchor").is_not_null())
        .select("family_id", pl.max_horizontal("anchor", "last_end").alias("earliest_start"))
    )
    return start.select(
        "family_id", first_day_window_starts_from(pl.col("earliest_start"), ctx.rule["months"]).alias("at")
    )


@measure("no_episodes", _episodes_change, SETTLES, _measured_window)
def no_episodes(ctx: Context, points: pl.DataFrame) -> pl.DataFrame:
    points = _window(ctx, points, ctx.rule["months"])
    episodes = _scoped_episodes(ctx)
    joined = (
        points.select(*POINT_KEYS, "window_start")
        .join(episodes, on="family_id")
        .filter(
            (pl.col("start_date") <= pl.col("at"))
            & (pl.col("end_date").is_null() | (pl.col("end_date") > pl.col("window_start")))
        )
    )
    which = (
        (
            pl.col("person_id")
            + pl.lit(" ")
            + pl.col("episode_type").str.replace_all("_", " ")
            + pl.lit(" from ")
            + in_words(pl.col("start_date"))
            + pl.when(pl.col("end_date").is_null())
            .then(pl.lit(", still open"))
            .otherwise(pl.lit(" to ") + in_words(pl.col("end_date")))
        )
        .sort()
        .str.join("; ")
    )
    described = joined.group_by(POINT_KEYS).agg(
        pl.len().alias("overlapping"), (which if ctx.with_evidence else pl.lit(None, pl.String)).alias("which")
    )
    frame = points.join(described, on=POINT_KEYS, how="left").with_columns(pl.col("overlapping").fill_null(0))
    types = words_list(ctx.rule["episode_types"])
    evidence = (
        pl.when(~pl.col("complete"))
        .then(_incomplete_text(ctx))
        .when(pl.col("overlapping") == 0)
        .then(pl.lit(f"{types} episodes: none in ") + _span(ctx.rule["months"]) + pl.lit("; none allowed"))
        .otherwise(
            pl.lit(f"{types} episodes: ")
            + pl.col("overlapping").cast(pl.String)
            + pl.lit(" in ")
            + _span(ctx.rule["months"])
            + pl.lit(" (")
            + pl.col("which")
            + pl.lit("); none allowed")
        )
    )
    return frame.select(
        *POINT_KEYS,
        (pl.col("complete") & (pl.col("overlapping") == 0)).alias("met"),
        ctx.evidence(evidence).alias("evidence"),
    )


def _terms_change(ctx: Context, families: pl.DataFrame) -> pl.DataFrame:
    """The measured terms change when a term ends; the calendar stays whole after D."""
    cutoff = ctx.records.cutoff
    horizon = cutoff.toordinal() + 730
    ends = ctx.records.terms.filter(pl.col("end_date") > pl.lit(cutoff)).get_column("end_date")
    ends = [e for e in ends.to_list() if e.toordinal() <= horizon]
    if not ends:
        return _no_days(ctx, families)
    return families.select("family_id").join(pl.DataFrame({"at": ends}, schema={"at": pl.Date}), how="cross")


def _measured_terms(ctx: Context, points: pl.DataFrame) -> pl.DataFrame:
    """The terms an attendance measure looks at: the most recent ones ending by D."""
    terms = measured_terms(points.select(POINT_KEYS), ctx.records.terms, "at", ctx.rule["terms"])
    return (
        terms.filter(pl.col("term_id").is_not_null())
        .select(
            *POINT_KEYS,
            (pl.lit("measured term ") + pl.col("term_id")).alias("what"),
            pl.col("term_start").alias("start"),
            pl.col("term_end").alias("end"),
        )
        .cast(WINDOW_SCHEMA)
    )


@measure("attendance_sustained", _terms_change, STEPS, _measured_terms)
def attendance_sustained(ctx: Context, points: pl.DataFrame) -> pl.DataFrame:
    rule = ctx.rule
    count = rule["terms"]
    points = _anchored(ctx, points)
    terms = measured_terms(points.select(*POINT_KEYS, "anchor"), ctx.records.terms, "at", count)
    per_point = terms.group_by(POINT_KEYS).agg(
        pl.col("terms_available").first(),
        (pl.col("term_start") <= pl.col("anchor")).any().alias("starts_before"),
        (pl.col("term_start") > pl.col("anchor")).sum().alias("terms_since"),
        pl.col("term_start").min().alias("first_start"),
        pl.col("term_end").max().alias("last_end"),
        (
            pl.col("term_id").drop_nulls().sort_by(pl.col("term_end").drop_nulls()).str.join(", ")
            if ctx.with_evidence
            else pl.lit("")
        ).alias("term_ids"),
    )
    measured = terms.filter(pl.col("term_id").is_not_null()).select(*POINT_KEYS, "term_id", "term_start")
    frame = points.join(per_point, on=POINT_KEYS, how="left")
    for found in (*_attendance_found(ctx, measured), _exclusions_in(ctx, per_point)):
        frame = frame.join(found, on=POINT_KEYS, how="left")
    frame = frame.with_columns(
        pl.col("fixed").fill_null(0), pl.col("permanent").fill_null(0), pl.col("records").fill_null(0)
    )
    enough = (pl.col("terms_available") >= count) & ~pl.col("starts_before") & pl.col("anchor").is_not_null()
    ok1, ok2 = pl.col("missing").is_null(), pl.col("high").is_null()
    ok3 = (pl.col("fixed") <= rule["max_fixed_exclusions"]) & (pl.col("permanent") == 0)
    return frame.select(
        *POINT_KEYS,
        (enough & ok1 & ok2 & ok3).fill_null(False).alias("met"),
        ctx.evidence(_attendance_evidence(ctx, enough, ok1, ok2)).alias("evidence"),
    )


def _listing(ctx: Context, text: pl.Expr, name: str) -> pl.Expr:
    """The items as text for the evidence; only their number where no evidence is wanted."""
    return (text.sort().str.join(", ") if ctx.with_evidence else pl.len().cast(pl.String)).alias(name)


def _attendance_found(ctx: Context, measured: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Per point: the records missing for flagged children of school age, the records at or over the limit, and
    how many records of people in scope the measured terms hold."""
    records, rule = ctx.records, ctx.rule
    num, den = ratio(rule["max_absence_percent"])
    flagged = ctx.flagged.join(records.members.select("person_id", "date_of_birth"), on="person_id", how="left")
    needed = (
        measured.join(flagged, on="family_id")
        .filter(pl.col("date_of_birth").is_null() | school_age(pl.col("date_of_birth"), pl.col("term_start")))
        .select(*POINT_KEYS, "person_id", "term_id")
    )
    # only the measured terms' records matter: a few terms out of years of them
    attendance = records.attendance.filter(
        pl.col("term_id").is_in(measured.get_column("term_id").unique().implode())
    ).select("family_id", "person_id", "term_id", "possible", absences(rule["absence"]).alias("absent"))
    # a person is in one family: the person and term find the record
    missing = (
        needed.join(attendance, on=["person_id", "term_id"], how="anti")
        .group_by(POINT_KEYS)
        .agg(_listing(ctx, pl.col("person_id") + pl.lit(" in ") + pl.col("term_id"), "missing"))
    )
    records_in = measured.join(ctx.in_scope(attendance), on=["family_id", "term_id"])
    described = (
        pl.col("person_id")
        + pl.lit(" in ")
        + pl.col("term_id")
        + pl.lit(": absent ")
        + pl.col("absent").cast(pl.String)
        + pl.lit(" of ")
        + pl.col("possible").cast(pl.String)
        + pl.lit(" sessions")
    )
    high = (
        records_in.filter(100 * den * pl.col("absent") >= num * pl.col("possible"))
        .group_by(POINT_KEYS)
        .agg(_listing(ctx, described, "high"))
    )
    return missing, high, records_in.group_by(POINT_KEYS).agg(pl.len().alias("records"))


def _exclusions_in(ctx: Context, per_point: pl.DataFrame) -> pl.DataFrame:
    """Per point: the fixed and permanent exclusions of people in scope within the measured terms."""
    exclusions = ctx.in_scope(
        ctx.records.events.filter(pl.col("event_type").is_in(["exclusion_fixed", "exclusion_permanent"]))
    )
    return (
        per_point.select(*POINT_KEYS, "first_start", "last_end")
        .join(exclusions, on="family_id")
        .filter((pl.col("event_date") >= pl.col("first_start")) & (pl.col("event_date") <= pl.col("last_end")))
        .group_by(POINT_KEYS)
        .agg(
            (pl.col("event_type") == "exclusion_fixed").sum().alias("fixed"),
            (pl.col("event_type") == "exclusion_permanent").sum().alias("permanent"),
        )
    )


def _attendance_evidence(ctx: Context, enough: pl.Expr, no_missing: pl.Expr, none_high: pl.Expr) -> pl.Expr:
    rule = ctx.rule
    limit = f"{rule['max_absence_percent']}%"
    since = "case closure" if _after_closure(ctx) else "attachment"
    return (
        pl.when(pl.col("anchor").is_null())
        .then(
            pl.lit(
                f"Not yet measurable: the case is not closed by {day_in_words(ctx.records.cutoff)}, and the terms "
                "measured must start after its closure"
            )
        )
        .when(~enough)
        .then(
            pl.lit("Not yet measurable: ")
            + pl.col("terms_since").fill_null(0).cast(pl.String)
            + pl.lit(f" whole term(s) since {since}, {rule['terms']} needed")
            + pl.when(pl.col("term_ids").fill_null("") != "")
            .then(pl.lit(" (the latest: ") + pl.col("term_ids") + pl.lit(")"))
            .otherwise(pl.lit(""))
        )
        .otherwise(
            pl.lit("Terms ")
            + pl.col("term_ids")
            + pl.lit(" (")
            + in_words(pl.col("first_start"))
            + pl.lit(" to ")
            + in_words(pl.col("last_end"))
            + pl.lit("): ")
            + pl.col("records").cast(pl.String)
            + pl.lit(" attendance record(s)")
            + pl.when(no_missing).then(pl.lit("")).otherwise(pl.lit("; no record for ") + pl.col("missing"))
            + pl.when(none_high)
            .then(pl.lit(f"; every one under {limit} absence"))
            .otherwise(pl.lit(f"; at or over {limit} absence: ") + pl.col("high"))
            + pl.lit("; ")
            + pl.col("fixed").cast(pl.String)
            + pl.lit(f" fixed exclusion(s), at most {rule['max_fixed_exclusions']} allowed; ")
            + pl.col("permanent").cast(pl.String)
            + pl.lit(" permanent, none allowed")
        )
    )


def _score_run(ctx: Context, points: pl.DataFrame) -> pl.DataFrame:
    """Per point: the baseline (date, score), the run of assessments at or above target that ends with the
    latest (first and last dates), the day it must be seen again by, and the later assessments as text."""
    rule = ctx.rule
    scores = ctx.records.assessments.filter((pl.col("tool") == rule["tool"]) & (pl.col("domain") == rule["domain"]))
    joined = (
        points.select(*POINT_KEYS, "attachment_date")
        .join(scores, on="family_id")
        .filter(pl.col("assessment_date") <= pl.col("at"))
    )
    in_baseline = (pl.col("assessment_date") > add_months(pl.col("attachment_date"), -ctx.lookback_months)) & (
        pl.col("assessment_date") <= pl.col("attachment_date") + pl.duration(days=rule["baseline_grace_days"])
    )
    baseline = (
        joined.filter(in_baseline)
        .sort("assessment_date")
        .group_by(POINT_KEYS)
        .agg(pl.col("assessment_date").last().alias("baseline_date"), pl.col("score").last().alias("baseline"))
    )
    improvement = pl.lit(rule["min_improvement"]).cast(pl.Decimal(38, 9))
    later = (
        joined.join(baseline, on=POINT_KEYS)
        .filter(pl.col("assessment_date") > pl.col("baseline_date"))
        .with_columns((pl.col("score") >= pl.col("baseline") + improvement).alias("reached"))
    )
    last_below = (
        later.filter(~pl.col("reached")).group_by(POINT_KEYS).agg(pl.col("assessment_date").max().alias("last_below"))
    )
    run = (
        later.join(last_below, on=POINT_KEYS, how="left")
        .filter(pl.col("last_below").is_null() | (pl.col("assessment_date") > pl.col("last_below")))
        .group_by(POINT_KEYS)
        .agg(
            pl.col("assessment_date").min().alias("run_first"),
            pl.col("assessment_date").max().alias("run_last"),
            pl.len().alias("run_length"),
        )
    )
    seen = later.group_by(POINT_KEYS).agg(
        (
            pl.col("score").cast(pl.String).str.strip_chars_end("0").str.strip_chars_end(".")
            + pl.lit(" on ")
            + in_words(pl.col("assessment_date"))
        )
        .sort_by(pl.col("assessment_date"))
        .str.join(", ")
        .alias("seen")
    )
    frame = (
        points.join(baseline, on=POINT_KEYS, how="left")
        .join(run, on=POINT_KEYS, how="left")
        .join(seen, on=POINT_KEYS, how="left")
    )
    if _after_closure(ctx):  # seen again `months` after the case closed, wherever the run began
        return _anchored(ctx, frame).with_columns(add_months(pl.col("anchor"), rule["months"]).alias("again_by"))
    return frame.with_columns(add_months(pl.col("run_first"), rule["months"]).alias("again_by"))


def _score_marks(ctx: Context, points: pl.DataFrame) -> pl.DataFrame:
    """A scored measure looks at days, not a window: its baseline, the first assessment at target, and the day
    the target must be seen again by."""
    run = _score_run(ctx, points)
    marks = [
        ("baseline assessment", "baseline_date"),
        ("target first reached", "run_first"),
        ("target to be seen again by", "again_by"),
    ]
    return pl.concat(
        [
            run.filter(pl.col(column).is_not_null()).select(
                *POINT_KEYS, pl.lit(what).alias("what"), pl.col(column).alias("start"), pl.col(column).alias("end")
            )
            for what, column in marks
        ]
    ).cast(WINDOW_SCHEMA)


@measure("score_improved", _no_days, FIXED, _score_marks)
def score_improved(ctx: Context, points: pl.DataFrame) -> pl.DataFrame:
    rule = ctx.rule
    frame = _score_run(ctx, points)
    again_by = pl.col("again_by")
    met = (
        pl.col("baseline_date").is_not_null()
        & pl.col("run_first").is_not_null()
        & (pl.col("run_last") >= again_by).fill_null(False)
    )
    tool = f"{rule['tool']} {str(rule['domain']).replace('_', ' ')}"
    score_text = pl.col("baseline").cast(pl.String).str.strip_chars_end("0").str.strip_chars_end(".")
    since = (
        pl.lit(f" ({rule['months']} months after the case closed on ") + in_words(pl.col("anchor")) + pl.lit(")")
        if _after_closure(ctx)
        else pl.lit("")
    )
    open_case = pl.col("anchor").is_null() if _after_closure(ctx) else pl.lit(False)
    evidence = (
        pl.when(open_case)
        .then(
            pl.lit(
                f"Not yet measurable: the case is not closed by {day_in_words(ctx.records.cutoff)}, and the "
                f"improvement must be seen again {rule['months']} months after its closure"
            )
        )
        .when(pl.col("baseline_date").is_null())
        .then(
            pl.lit(f"No baseline: no {tool} assessment from ")
            + in_words(add_months(pl.col("attachment_date"), -ctx.lookback_months) + pl.duration(days=1))
            + pl.lit(" to ")
            + in_words(pl.col("attachment_date") + pl.duration(days=rule["baseline_grace_days"]))
        )
        .otherwise(
            pl.lit(f"{tool} baseline ")
            + score_text
            + pl.lit(" on ")
            + in_words(pl.col("baseline_date"))
            + pl.lit(f", an improvement of at least {rule['min_improvement']} needed; later: ")
            + pl.col("seen").fill_null("none")
            + pl.when(pl.col("run_first").is_null())
            .then(pl.lit("; the latest is below the target"))
            .otherwise(
                pl.lit("; the target was reached on ")
                + in_words(pl.col("run_first"))
                + pl.lit(" and must still hold on or after ")
                + in_words(again_by)
                + since
                + pl.lit("; the latest at the target is ")
                + in_words(pl.col("run_last"))
            )
        )
    )
    return frame.select(*POINT_KEYS, met.alias("met"), ctx.evidence(evidence).alias("evidence"))
