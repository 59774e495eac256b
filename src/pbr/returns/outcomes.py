"""The quarterly outcomes report: each indicator of schemas/outcomes_report.yaml, with its trend by quarter."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from openpyxl.chart import LineChart, Reference

from pbr import periods
from pbr.evaluate import evaluate
from pbr.plan import Plan
from pbr.resources import load_yaml
from pbr.returns import quarter_bounds
from pbr.settings import Council
from pbr.store import Store
from pbr.workbooks import chart_sheet, document_for, new_workbook, save, set_value, span_in_words, write_rows


def _quarters(last: str, count: int) -> list[str]:
    return [found.name for found in periods.quarters_ending(periods.quarter(last), count)]


def _years_begun(day: dt.date, start: dt.date) -> int:
    return max(0, (day.year - start.year) + (1 if (day.month, day.day) >= (start.month, start.day) else 0))


def indicators_at(
    store: Store, plan: Plan, quarter: str, tables: dict[str, pl.DataFrame], council: Council | None = None
) -> dict[str, float | int]:
    spec = load_yaml("outcomes_report.yaml")
    start, end = quarter_bounds(quarter)
    programme_start = spec["programme_start"]
    starts_in = periods.financial_year_of(end)  # the programme year (from 1 April) holding the quarter's end
    year_start = dt.date(starts_in, 4, 1) if starts_in >= 1 else dt.date.min
    next_end = _next_end(quarter)
    target = (council or Council()).target_per_year
    decisions = evaluate(as_of=end, plan=plan, store=store).decisions
    attached = decisions.filter(pl.col("attachment_date") <= pl.lit(end))
    eligible = attached.filter(pl.col("eligible"))
    claimed = store.live_claim_lines(as_at=end)
    values: dict[str, float | int] = {
        "attached_in_quarter": attached.filter(pl.col("attachment_date") >= pl.lit(start)).height,
        "attached_to_date": attached.height,
        "attached_in_programme_year": attached.filter(pl.col("attachment_date") >= pl.lit(year_start)).height,
        "programme_year_target": target,
        "eligible": eligible.height,
        "results_claimed_to_date": claimed.height,
    }
    for theme in plan.theme_codes:
        has = pl.col("themes_at_attachment").str.split(";").list.contains(theme)
        met = pl.col("themes_progress_met").str.split(";").list.contains(theme)
        values[f"eligible_by_theme:{theme}"] = eligible.filter(has).height
        values[f"progress_by_theme:{theme}"] = eligible.filter(has & met).height
    begun = _years_begun(end, programme_start)
    values["results_share_of_target"] = round(100 * claimed.height / (target * begun), 1) if target and begun else 0.0
    values["claimable_now"] = decisions.filter(pl.col("claimable")).join(claimed, on="family_id", how="anti").height
    values["forecast_by_next_window"] = eligible.filter(
        ~pl.col("claimable") & (pl.col("earliest_claimable_date") <= pl.lit(next_end))
    ).height

    families = tables["families"].filter(pl.col("closure_date").is_not_null() & (pl.col("closure_date") <= pl.lit(end)))
    members = tables["members"].select("person_id", "family_id")
    episodes = tables["episodes"].filter(pl.col("episode_type").is_in(["cin", "cp"])).join(members, on="person_id")
    reopened = episodes.join(families.select("family_id", "closure_date"), on="family_id").filter(
        (pl.col("start_date") > pl.col("closure_date"))
        & (pl.col("start_date") <= pl.col("closure_date").dt.offset_by("12mo"))
        & (pl.col("start_date") <= pl.lit(end))
    )
    values["re_referrals"] = reopened.select("family_id").n_unique()

    people = members.join(
        tables["families"].filter(pl.col("attachment_date") <= pl.lit(end)).select("family_id", "attachment_date"),
        on="family_id",
    )
    offences = (
        tables["events"]
        .filter((pl.col("event_type") == "offence") & (pl.col("event_date") <= pl.lit(end)))
        .join(people, on="person_id")
    )
    before = offences.filter(pl.col("event_date") <= pl.col("attachment_date")).select("person_id").unique()
    after = offences.filter(pl.col("event_date") > pl.col("attachment_date")).select("person_id").unique()
    values["first_time_offenders"] = after.join(before, on="person_id", how="anti").height
    return values


def _next_end(quarter: str) -> dt.date:
    """The last day of the quarter after `quarter` (the last day a date can hold, after 9999-Q4)."""
    following = periods.quarter_after(periods.quarter(quarter))
    return dt.date.max if following is None else following.end


def _with_months(name: str) -> str:
    """'2017-Q3' as '2017-Q3 (Jul to Sep)': a quarter labelled with its months."""
    found = periods.quarter(name)
    return f"{name} ({found.start:%b} to {found.end:%b})"


def rows_for(plan: Plan) -> list[tuple[str, str, str]]:
    """(key, title, definition) for every figure, theme indicators expanded."""
    spec = load_yaml("outcomes_report.yaml")["indicators"]
    rows = []
    for key, body in spec.items():
        if "{theme}" in body["title"]:
            rows += [(f"{key}:{t.code}", body["title"].format(theme=t.title), body["definition"]) for t in plan.themes]
        else:
            rows.append((key, body["title"], body["definition"]))
    return rows


def write_outcomes_report(
    store: Store, plan: Plan, quarter: str, path: str | Path, council: Council | None = None
) -> Path:
    spec = load_yaml("outcomes_report.yaml")
    quarter_bounds(quarter)
    quarters = _quarters(quarter, spec["trend_quarters"])
    tables = store.load_tables()
    who = council or Council()
    series = {q: indicators_at(store, plan, q, tables, who) for q in quarters}
    rows = rows_for(plan)
    book = new_workbook()
    sheet = book.create_sheet("Outcomes")
    set_value(sheet.cell(row=1, column=1), f"{who.name}: outcomes report for {quarter}")
    header = ["indicator", *(_with_months(q) for q in quarters), "definition"]
    for c, name in enumerate(header, start=1):
        set_value(sheet.cell(row=3, column=c), name)
    for r, (key, title, definition) in enumerate(rows, start=4):
        set_value(sheet.cell(row=r, column=1), title)
        for c, q in enumerate(quarters, start=2):
            set_value(sheet.cell(row=r, column=c), series[q][key])
        set_value(sheet.cell(row=r, column=len(quarters) + 2), definition)
    sheet.freeze_panes = "B4"
    sheet.column_dimensions["A"].width = 48
    chart = LineChart()
    chart.title = "Attached and results claimed to date, by quarter"
    keys = [k for k, _, _ in rows]
    for key in ("attached_to_date", "results_claimed_to_date", "claimable_now"):
        r = 4 + keys.index(key)
        chart.add_data(
            Reference(sheet, min_col=1, max_col=len(quarters) + 1, min_row=r, max_row=r),
            from_rows=True,
            titles_from_data=True,
        )
    chart.set_categories(Reference(sheet, min_col=2, max_col=len(quarters) + 1, min_row=3, max_row=3))
    chart.y_axis.title, chart.x_axis.title = "families", "quarter"
    chart.y_axis.scaling.min = 0
    chart.width, chart.height = 26, 12
    chart_sheet(book, "Outcomes picture", chart)
    write_rows(
        book.create_sheet("Definitions"),
        ["indicator", "definition"],
        ((t, d) for _, t, d in rows),
        widths={"definition": 90, "indicator": 48},
    )
    span = periods.quarter(quarter)
    document = document_for("Outcomes report", span_in_words(quarter, span.start, span.end), council=who, plan=plan)
    return save(book, path, document=document)


__all__ = ["indicators_at", "rows_for", "write_outcomes_report"]
