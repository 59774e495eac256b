"""Reconciliation by financial year (programme.md): expected attachment fees and results against money received."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from openpyxl.chart import BarChart, Reference
from sqlalchemy import text

from pbr.evaluate import evaluate
from pbr.plan import Parameters, Plan, PlanError, load_parameters
from pbr.returns import ReturnError, financial_year_bounds, layout
from pbr.returns.bridge import ReferenceForm, bridge
from pbr.store import Store
from pbr.workbooks import Document, new_workbook, save, write_rows
from pbr.workbooks import chart_sheet as add_chart_sheet


@dataclass
class Reconciliation:
    year: int
    summary: pl.DataFrame  # kind, expected, received, variance (pence)
    by_claim: pl.DataFrame  # claim_ref, evidence_date, expected, recovered, received, variance
    unallocated: pl.DataFrame  # payment_date, amount, reference, why
    by_quarter: pl.DataFrame  # quarter, expected, received
    attachments: pl.DataFrame  # family_id, attachment_date, fee
    bridge: pl.DataFrame  # bridge.BRIDGE_SCHEMA: lines adding up to the variance

    @property
    def variance(self) -> int:
        return int(self.summary["variance"].sum() or 0)


def _quarter(day: pl.Expr, start: dt.date) -> pl.Expr:
    months = (day.dt.year() - start.year) * 12 + day.dt.month() - start.month
    return pl.lit("Q") + (months // 3 + 1).cast(pl.String)


def _attached_fees(store: Store, plan: Plan, year: int, as_of: dt.date, parameters: Parameters | None) -> pl.DataFrame:
    """(family_id, attachment_date, fee, eligible): the families attached in the year, each with the fee in force
    on its attachment day; the expected fees are those of the eligible ones."""
    start, end = financial_year_bounds(year)
    try:
        fee = (parameters or load_parameters()).money(plan.programme)["attachment_fee_pence"]
    except PlanError as error:
        raise ReturnError(str(error)) from None
    decisions = evaluate(as_of=as_of, plan=plan, store=store).decisions
    attached = decisions.filter(pl.col("attachment_date").is_between(pl.lit(start), pl.lit(end)))
    attached = attached.select(
        "family_id", "attachment_date", fee.lookup(pl.col("attachment_date")).alias("fee"), "eligible"
    )
    missing = attached.filter(pl.col("fee").is_null() & pl.col("eligible"))
    if missing.height:
        raise ReturnError(
            f"no attachment fee in force on the attachment date of family "
            f"{', '.join(missing['family_id'].head(10).to_list())}"
        )
    return attached.sort("attachment_date", "family_id")


def _claims_in(store: Store, start: dt.date, end: dt.date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Live lines of submitted claims whose evidence date falls in the period, summed per claim; and the
    recoveries booked in the period."""
    lines = store.read(
        text(
            "SELECT c.ref AS claim_ref, c.evidence_date, SUM(l.amount_pence) AS expected FROM claims c "
            "JOIN claim_lines l ON l.claim_ref = c.ref WHERE l.status = 'live' AND c.status IN ('submitted', 'paid') "
            "AND c.evidence_date BETWEEN :start AND :end GROUP BY c.ref, c.evidence_date"
        ).bindparams(start=start, end=end),
        schema={"claim_ref": pl.String, "evidence_date": pl.Date, "expected": pl.Int64},
    )
    recoveries = store.read(
        text("SELECT claim_ref, amount_pence, booked_on AS day FROM recoveries"),
        schema={"claim_ref": pl.String, "amount_pence": pl.Int64, "day": pl.Date},
    )
    return lines, recoveries.filter(pl.col("day").is_between(pl.lit(start), pl.lit(end)))


def _by_claim(store: Store, lines: pl.DataFrame, recoveries: pl.DataFrame, allocated: pl.DataFrame) -> pl.DataFrame:
    recovered = recoveries.group_by("claim_ref").agg(pl.col("amount_pence").sum().alias("recovered"))
    received = (
        allocated.group_by("reference").agg(pl.col("amount").sum().alias("received")).rename({"reference": "claim_ref"})
    )
    refs = pl.concat([lines.select("claim_ref"), recovered.select("claim_ref"), received.select("claim_ref")]).unique()
    evidence_dates = store.read(
        text("SELECT ref AS claim_ref, evidence_date FROM claims"),
        schema={"claim_ref": pl.String, "evidence_date": pl.Date},
    )
    return (
        refs.join(evidence_dates, on="claim_ref", how="left")
        .join(lines.select("claim_ref", "expected"), on="claim_ref", how="left")
        .join(recovered, on="claim_ref", how="left")
        .join(received, on="claim_ref", how="left")
        .with_columns(pl.col("expected", "recovered", "received").fill_null(0))
        .with_columns((pl.col("received") - (pl.col("expected") + pl.col("recovered"))).alias("variance"))
        .sort("claim_ref")
    )


def _by_quarter(start: dt.date, attached, lines, recoveries, payments) -> pl.DataFrame:
    expected = (
        pl.concat(
            [
                attached.select(
                    _quarter(pl.col("attachment_date"), start).alias("quarter"), pl.col("fee").alias("amount")
                ),
                lines.select(
                    _quarter(pl.col("evidence_date"), start).alias("quarter"), pl.col("expected").alias("amount")
                ),
                recoveries.select(
                    _quarter(pl.col("day"), start).alias("quarter"), pl.col("amount_pence").alias("amount")
                ),
            ]
        )
        .group_by("quarter")
        .agg(pl.col("amount").sum().alias("expected"))
    )
    received = (
        payments.select(_quarter(pl.col("payment_date"), start).alias("quarter"), "amount")
        .group_by("quarter")
        .agg(pl.col("amount").sum().alias("received"))
    )
    quarters = pl.DataFrame({"quarter": ["Q1", "Q2", "Q3", "Q4"]})
    by_quarter = quarters.join(expected, on="quarter", how="left").join(received, on="quarter", how="left")
    return by_quarter.fill_null(0).with_columns(pl.col("quarter").replace(_with_months(start)))


def _with_months(start: dt.date) -> dict[str, str]:
    """Q1 to Q4 of the year starting on `start`, each labelled with its months: "Q1 (Apr to Jun)"."""
    labels = {}
    for n in range(4):
        first = dt.date(start.year + (start.month + 3 * n - 1) // 12, (start.month + 3 * n - 1) % 12 + 1, 1)
        last = dt.date(first.year + (first.month + 1) // 12, (first.month + 1) % 12 + 1, 1)
        labels[f"Q{n + 1}"] = f"Q{n + 1} ({first:%b} to {last:%b})"
    return labels


def reconcile(
    store: Store, plan: Plan, year: int, today: dt.date | None = None, parameters: Parameters | None = None
) -> Reconciliation:
    """Expected against received for the financial year `year`, priced by the money of the plan's programme."""
    start, end = financial_year_bounds(year)
    every_attached = _attached_fees(store, plan, year, min(end, today or dt.date.today()), parameters)
    attached = every_attached.filter(pl.col("eligible")).drop("eligible")
    lines, recoveries = _claims_in(store, start, end)
    claims = store.read(
        text("SELECT ref AS claim_ref, evidence_date FROM claims"),
        schema={"claim_ref": pl.String, "evidence_date": pl.Date},
    )
    known_refs = claims["claim_ref"].implode()
    every_payment = store.load_tables()["grant_payments"]
    payments = every_payment.filter(pl.col("payment_date").is_between(pl.lit(start), pl.lit(end)))
    results_paid = payments.filter(pl.col("kind") == "results")
    allocated = results_paid.filter(pl.col("reference").is_in(known_refs))
    unallocated = results_paid.filter(~pl.col("reference").is_in(known_refs) | pl.col("reference").is_null()).select(
        "payment_date",
        "amount",
        "reference",
        pl.when(pl.col("reference").is_null())
        .then(pl.lit("names no claim"))
        .otherwise(pl.lit("names an unknown claim"))
        .alias("why"),
    )
    expected = {
        "attachment": int(attached["fee"].sum() or 0),
        "results": int(lines["expected"].sum() or 0) + int(recoveries["amount_pence"].sum() or 0),
        "other": 0,
    }
    kinds = layout("reconciliation")["kinds"]
    received = [int(payments.filter(pl.col("kind") == kind)["amount"].sum() or 0) for kind in kinds]
    summary = pl.DataFrame(
        {"kind": kinds, "expected": [expected[k] for k in kinds], "received": received}
    ).with_columns((pl.col("received") - pl.col("expected")).alias("variance"))
    return Reconciliation(
        year,
        summary,
        _by_claim(store, lines, recoveries, allocated),
        unallocated,
        _by_quarter(start, attached, lines, recoveries, payments),
        attached,
        bridge(
            year,
            every_payment.select("payment_date", "amount", "kind", "reference"),
            every_attached,
            lines,
            recoveries,
            claims,
            [ReferenceForm(**form) for form in layout("reconciliation").get("attachment_reference_forms", [])],
        ),
    )


def write_reconciliation(result: Reconciliation, path: str | Path, document: Document | None = None) -> Path:
    spec = layout("reconciliation")
    book = new_workbook()
    money = {"expected", "received", "variance", "recovered", "amount", "fee"}
    write_rows(
        book.create_sheet(spec["summary_sheet"]),
        ["kind", "expected", "received", "variance"],
        result.summary.iter_rows(),
        money=money,
    )
    write_rows(
        book.create_sheet(spec["bridge_sheet"]),
        ["line", "kind", "amount", "behind"],
        [*result.bridge.iter_rows(), ("Variance: received less expected", "all", result.variance, "the lines' sum")],
        money=money,
        widths={"line": 60, "behind": 80},
    )
    write_rows(
        book.create_sheet(spec["by_claim_sheet"]),
        ["claim_ref", "evidence_date", "expected", "recovered", "received", "variance"],
        result.by_claim.select(
            "claim_ref", "evidence_date", "expected", "recovered", "received", "variance"
        ).iter_rows(),
        money=money,
    )
    write_rows(
        book.create_sheet(spec["unallocated_sheet"]),
        ["payment_date", "amount", "reference", "why"],
        result.unallocated.iter_rows(),
        money=money,
        empty="Every results payment in the year names a known claim.",
    )
    sheet = book.create_sheet(spec["by_quarter_sheet"])
    write_rows(sheet, ["quarter", "expected", "received"], result.by_quarter.iter_rows(), money=money)
    chart = BarChart()
    chart.title = f"Expected against received, financial year {result.year}-{(result.year + 1) % 100:02d}"
    chart.y_axis.title, chart.x_axis.title = "pounds (£)", "quarter of the financial year"
    chart.add_data(Reference(sheet, min_col=2, max_col=3, min_row=1, max_row=5), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=5))
    add_chart_sheet(book, f"{spec['by_quarter_sheet']} picture", chart)
    write_rows(
        book.create_sheet(spec["attachments_sheet"]),
        ["family_id", "attachment_date", "fee"],
        result.attachments.iter_rows(),
        money=money,
        total="Total",
        empty="No eligible family was attached in the year.",
    )
    return save(book, path, document=document)
