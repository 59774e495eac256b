"""The quarterly progress return (no names) and the impact-study return (the only output with names)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from openpyxl.chart import BarChart, Reference

from pbr.evaluate import evaluate
from pbr.plan import Plan
from pbr.returns import ReturnError, layout, quarter_bounds
from pbr.store import Store
from pbr.workbooks import Document, new_workbook, save, write_rows
from pbr.workbooks import chart_sheet as add_chart_sheet


def _columns(spec: list[dict], themes: list[str]) -> list[tuple[str, str]]:
    out = []
    for column in spec:
        if "{theme}" in column["header"]:
            out += [(column["header"].format(theme=t), column["field"].format(theme=t)) for t in themes]
        else:
            out.append((column["header"], column["field"]))
    return out


def progress_frame(store: Store, plan: Plan, quarter: str) -> tuple[pl.DataFrame, pl.DataFrame, dt.date]:
    _, end = quarter_bounds(quarter)
    evaluation = evaluate(as_of=end, plan=plan, store=store)
    decisions = evaluation.decisions.filter(pl.col("attachment_date") <= pl.lit(end))
    flags = []
    for theme in plan.theme_codes:
        present = pl.col("themes_at_attachment").str.split(";").list.contains(theme)
        met = pl.col("themes_progress_met").str.split(";").list.contains(theme)
        flags += [
            present.alias(f"theme_at_attachment:{theme}"),
            met.alias(f"theme_progress:{theme}"),
        ]
    families = decisions.select("family_id", "attachment_date", *flags).join(
        store.live_claim_lines(as_at=end), on="family_id", how="left"
    )
    members = (
        store.load_tables()["members"]
        .join(families.select("family_id"), on="family_id", how="semi")
        .select("person_id", "family_id", "date_of_birth", "sex")
        .sort("family_id", "person_id")
    )
    return families.sort("family_id"), members, end


def write_progress_return(
    store: Store, plan: Plan, quarter: str, path: str | Path, document: Document | None = None
) -> Path:
    spec = layout("progress_return")
    families, members, end = progress_frame(store, plan, quarter)
    book = new_workbook()
    family_columns = _columns(spec["family_columns"], plan.theme_codes)
    write_rows(
        book.create_sheet(spec["families_sheet"]),
        [h for h, _ in family_columns],
        families.select([f for _, f in family_columns]).iter_rows(),
    )
    member_columns = _columns(spec["member_columns"], plan.theme_codes)
    write_rows(
        book.create_sheet(spec["members_sheet"]),
        [h for h, _ in member_columns],
        members.select([f for _, f in member_columns]).iter_rows(),
    )
    chart_sheet = book.create_sheet(spec["chart_sheet"])
    counts = [
        (t, int(families[f"theme_at_attachment:{t}"].sum()), int(families[f"theme_progress:{t}"].sum()))
        for t in plan.theme_codes
    ]
    write_rows(chart_sheet, ["theme", "families with the problem", "progress met"], counts)
    chart = BarChart()
    chart.title = f"Families by headline problem and progress, {quarter} (as at {end})"
    chart.y_axis.title, chart.x_axis.title = "families", "headline problem"
    chart.add_data(
        Reference(chart_sheet, min_col=2, max_col=3, min_row=1, max_row=len(counts) + 1), titles_from_data=True
    )
    chart.set_categories(Reference(chart_sheet, min_col=1, min_row=2, max_row=len(counts) + 1))
    chart.width, chart.height = 24, 12
    add_chart_sheet(book, f"{spec['chart_sheet']} picture", chart)
    return save(book, path, document=document)


@dataclass
class ImpactStudy:
    """The return written: where, how many families and comparison households, and the people it could not
    complete (no date of birth), listed on its fix-list sheet."""

    path: Path
    families: int
    comparison: int
    incomplete: pl.DataFrame  # cohort, family_id, person_id, what is missing


def write_impact_study_return(
    store: Store,
    start: dt.date,
    end: dt.date,
    path: str | Path,
    document: Document | None = None,
    comparison: pl.DataFrame | None = None,
) -> ImpactStudy:
    """Personal details of the people of families attached in [start, end], and of the comparison households
    (`comparison`: household, person and identity columns), written owner-only."""
    if end < start:
        raise ReturnError(f"--to {end} is before --from {start}")
    spec = layout("impact_study_return")
    fields = [c["field"] for c in spec["columns"]]
    tables = store.load_tables()
    families = tables["families"].filter(pl.col("attachment_date").is_between(pl.lit(start), pl.lit(end)))
    attached = (
        tables["members"]
        .join(families.select("family_id", "attachment_date", "keyworker_id"), on="family_id")
        .with_columns(pl.lit("attached").alias("cohort"))
        .sort("family_id", "person_id")
    )
    people = [attached.select(fields)]
    if comparison is not None and comparison.height:
        people.append(
            comparison.select(
                pl.lit("comparison").alias("cohort"),
                pl.col("household").alias("family_id"),
                pl.lit(None, pl.Date).alias("attachment_date"),
                pl.lit(None, pl.String).alias("keyworker_id"),
                pl.lit(None, pl.String).alias("person_id"),
                "given_name",
                "family_name",
                pl.col("date_of_birth").str.to_date(strict=False),
                "sex",
                pl.lit(None, pl.String).alias("address"),
                "postcode",
                "uprn",
                pl.lit(None, pl.String).alias("ni_number"),
            ).select(fields)
        )
    everyone = pl.concat(people, how="vertical_relaxed")
    incomplete = everyone.filter(pl.col("date_of_birth").is_null()).select(
        "cohort", "family_id", "person_id", "given_name", "family_name", pl.lit("date of birth").alias("missing")
    )
    book = new_workbook()
    write_rows(
        book.create_sheet(spec["sheet"]),
        [c["header"] for c in spec["columns"]],
        everyone.iter_rows(),
        empty="No family was attached in the period.",
    )
    if incomplete.height:
        write_rows(book.create_sheet(spec["fix_list_sheet"]), incomplete.columns, incomplete.iter_rows())
    written = save(book, path, private=True, document=document)
    households = comparison["household"].n_unique() if comparison is not None and comparison.height else 0
    return ImpactStudy(written, families.height, households, incomplete)
