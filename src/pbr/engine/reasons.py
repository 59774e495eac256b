"""The reason of a decision, in one sentence for a person, and its kind, for a list of families filtered by it.

Built over the whole decision table from the columns `decide` works out: nothing here decides anything.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from pbr.periods import in_words
from pbr.plan import Plan

# a claim route as people say it (the codes stay in files made for machines)
ROUTE_WORDS = {"ssp": "significant and sustained progress", "ce": "continuous employment"}

ATTACHED_LATER = "attached after the as-of date"
TOO_FEW_NEEDS = "too few needs at attachment"
NO_CHILD = "no dependent child"
CLAIMABLE = "claimable"
PROGRESS = "progress not yet sustained"
EMERGED = "emerged need not yet sustained"
CASE_OPEN = "case still open"
CLOSED_RECENTLY = "case closed too recently"
WAY_OF_WORKING = "way of working not evidenced"
KINDS = (
    CLAIMABLE,
    PROGRESS,
    EMERGED,
    CASE_OPEN,
    CLOSED_RECENTLY,
    WAY_OF_WORKING,
    TOO_FEW_NEEDS,
    NO_CHILD,
    ATTACHED_LATER,
)


def theme_titles(plan: Plan, codes: pl.Expr, separator: str = ", ") -> pl.Expr:
    """`;`-separated theme codes as the plan's titles."""
    titles = {theme.code: theme.title for theme in plan.themes}
    return codes.str.split(";").list.eval(pl.element().filter(pl.element() != "").replace(titles)).list.join(separator)


def evidence_in_words(plan: Plan) -> pl.Expr:
    """A measure's evidence as people read it, led by its theme's title: "Crime: 3 offences in ...".

    The one place the title and the sentence meet: the detail, the workbooks, `pbr explain` and the web app all
    show this. Over columns `theme`, `measure` and `evidence`."""
    titles = {theme.code: theme.title for theme in plan.themes}
    title = (
        pl.when(pl.col("theme") == "continuous_employment")
        .then(pl.lit("Continuous employment (") + pl.col("measure").str.split(":").list.last() + pl.lit(")"))
        .otherwise(pl.col("theme").replace(titles))
    )
    return title + pl.lit(": ") + pl.col("evidence")


def _whole_months(since: pl.Expr, day: dt.date) -> pl.Expr:
    """Whole calendar months from `since` to `day` (a month counts once its day-of-month is reached)."""
    months = (day.year - since.dt.year()) * 12 + (day.month - since.dt.month())
    return months - (pl.lit(day.day) < since.dt.day()).cast(pl.Int32)


def _closure_text(plan: Plan, as_of: dt.date) -> pl.Expr:
    """Why the closure gate of `result_after_closure_months` is not passed yet."""
    months = plan.result_after_closure_months
    closed = pl.col("closure_date")
    return (
        pl.when(closed.is_null())
        .then(pl.lit(f"the case is still open; a result needs it closed at least {months} months"))
        .otherwise(
            pl.lit("the case closed on ")
            + in_words(closed)
            + pl.lit(", ")
            + _whole_months(closed, as_of).cast(pl.String)
            + pl.lit(f" months ago; a result needs {months}")
        )
    )


def _blocks(plan: Plan, as_of: dt.date) -> list[pl.Expr]:
    """What keeps an eligible family from being claimed, each as a clause, null where it does not apply."""
    gap = pl.when(~pl.col("all_met").fill_null(False)).then(pl.col("gap").fill_null("progress not sustained"))
    closure = pl.when(~pl.col("closure_ok")).then(_closure_text(plan, as_of))
    way = pl.when(~pl.col("way_ok")).then(
        pl.lit("no ")
        + pl.col("missing_milestones").str.replace_all("_", " ")
        + pl.lit(" recorded (the way of working)")
    )
    # the closure comes first: no result can be claimed before it is long enough ago, whatever else is met
    return [closure, gap, way]


def reason(plan: Plan, as_of: dt.date) -> pl.Expr:
    """One sentence: why not eligible, what is still missing, or what was met."""
    need = plan.min_themes
    count = pl.col("theme_count").fill_null(0)
    child = "dependent child or expectant parent" if plan.pregnancy_counts else "dependent child"
    needed = pl.concat_str([pl.col("themes_at_attachment"), pl.col("themes_emerged")], separator=";")
    needed = theme_titles(plan, needed.str.strip_chars(";"))
    blocks = pl.concat_str(_blocks(plan, as_of), separator="; ", ignore_nulls=True)
    forecast = (
        pl.when(pl.col("earliest_claimable_date").is_not_null())
        .then(
            pl.lit(" Forecast claimable on ")
            + in_words(pl.col("earliest_claimable_date"))
            + pl.lit(" if nothing changes.")
        )
        .otherwise(pl.lit(""))
    )
    return (
        pl.when(~pl.col("attached"))
        .then(pl.lit("Attached after the as-of date: nothing evaluated yet."))
        .when(~pl.col("enough_themes"))
        .then(
            pl.lit("Not eligible: ")
            + count.cast(pl.String)
            + pl.lit(f" headline problem(s) at attachment, needs {need}")
            + pl.when(count > 0)
            .then(pl.lit(" (") + theme_titles(plan, pl.col("themes_at_attachment")) + pl.lit(")."))
            .otherwise(pl.lit("."))
        )
        .when(~pl.col("child_ok"))
        .then(pl.lit(f"Not eligible: no {child} on the attachment day."))
        .when(pl.col("claim_route") == "ce")
        .then(
            pl.lit("Claimable by continuous employment (")
            + pl.col("ce_person").fill_null("")
            + pl.lit(")")
            + pl.when(pl.col("ssp_met"))
            .then(pl.lit("; progress is also sustained on every problem."))
            .otherwise(pl.lit("."))
        )
        .when(pl.col("claim_route") == "ssp")
        .then(pl.lit("Claimable: significant and sustained progress on ") + needed + pl.lit("."))
        .when((pl.col("ssp_met") | pl.col("ce_met")) & ~pl.col("way_ok"))
        .then(
            pl.lit("Not claimable: ")
            + pl.when(pl.col("ssp_met"))
            .then(pl.lit("progress is sustained on every need"))
            .otherwise(pl.lit("continuous employment is met"))
            + pl.lit(", but ")
            + pl.col("missing_milestones").str.replace_all("_", " ")
            + pl.lit(" is not recorded (the way of working).")
        )
        .otherwise(pl.lit("Not yet claimable: ") + blocks + pl.lit(".") + forecast)
    )


def reason_kind(plan: Plan) -> pl.Expr:
    """The reason's kind (one of KINDS): the first thing that holds the family back."""
    return (
        pl.when(~pl.col("attached"))
        .then(pl.lit(ATTACHED_LATER))
        .when(~pl.col("enough_themes"))
        .then(pl.lit(TOO_FEW_NEEDS))
        .when(~pl.col("child_ok"))
        .then(pl.lit(NO_CHILD))
        .when(pl.col("claimable"))
        .then(pl.lit(CLAIMABLE))
        .when((pl.col("ssp_met") | pl.col("ce_met")) & ~pl.col("way_ok"))
        .then(pl.lit(WAY_OF_WORKING))
        .when(~pl.col("closure_ok") & pl.col("closure_date").is_null())
        .then(pl.lit(CASE_OPEN))
        .when(~pl.col("closure_ok"))
        .then(pl.lit(CLOSED_RECENTLY))
        .when(~pl.col("all_met").fill_null(False) & pl.col("gap_emerged").fill_null(False))
        .then(pl.lit(EMERGED))
        .when(~pl.col("all_met").fill_null(False))
        .then(pl.lit(PROGRESS))
        .otherwise(pl.lit(WAY_OF_WORKING))
    )
