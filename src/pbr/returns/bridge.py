"""The reconciliation's bridge: lines that add up exactly to the year's variance, each naming what is behind it.

Expected money belongs to the period it is for (an attachment fee to its family's attachment date, a claim to its
evidence date); received money is counted by the day it arrived. The bridge says, pound for pound, why the two
differ: money that arrived in this year for another year's periods, money for this year's periods that arrived
after the year ended, recoveries, unallocated payments, what is still outstanding, and what was paid above or
below what was expected.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import polars as pl

from pbr.periods import financial_year

BRIDGE_SCHEMA = {"line": pl.String, "kind": pl.String, "amount": pl.Int64, "behind": pl.String}


@dataclass(frozen=True)
class ReferenceForm:
    """How a council's payment references name the period an attachment payment is for."""

    pattern: str
    means: str  # calendar_quarter (year, quarter), financial_year (year), or date (yyyy-mm-dd)


def period_start(reference: str | None, forms: list[ReferenceForm]) -> dt.date | None:
    """The first day of the period a payment reference names, by the first form that matches; else None."""
    for form in forms:
        found = re.search(form.pattern, reference or "")
        if found is None:
            continue
        parts = found.groups()
        if form.means == "calendar_quarter":
            return dt.date(int(parts[0]), 3 * int(parts[1]) - 2, 1)
        if form.means == "financial_year":
            return dt.date(int(parts[0]), 4, 1)
        if form.means == "date":
            return dt.date.fromisoformat(parts[0])
        raise ValueError(f"a reference form means calendar_quarter, financial_year or date, not {form.means!r}")
    return None


def _when(payments: pl.DataFrame, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Each payment with `arrived` (before / in / after the year) and `belongs` (the same, for the period it is
    for; a payment naming no period belongs to the period it arrived in)."""

    def side(day: pl.Expr) -> pl.Expr:
        return pl.when(day < pl.lit(start)).then(pl.lit("before")).when(day > pl.lit(end)).then(pl.lit("after"))

    return payments.with_columns(
        side(pl.col("payment_date")).otherwise(pl.lit("in")).alias("arrived"),
        side(pl.col("period_start").fill_null(pl.col("payment_date"))).otherwise(pl.lit("in")).alias("belongs"),
    )


def _sum(frame: pl.DataFrame, column: str = "amount") -> int:
    return int(frame[column].sum() or 0) if frame.height else 0


def _refs(frame: pl.DataFrame, column: str = "reference", most: int = 12) -> str:
    found = sorted({str(value) for value in frame[column].to_list() if value})
    shown = ", ".join(found[:most]) + (f" and {len(found) - most} more" if len(found) > most else "")
    return shown or "payments naming no reference"


def _attachment_lines(payments: pl.DataFrame, attached: pl.DataFrame, year: str) -> list[tuple]:
    fees = payments.filter(pl.col("kind") == "attachment")
    earlier = fees.filter((pl.col("arrived") == "in") & (pl.col("belongs") == "before"))
    ahead = fees.filter((pl.col("arrived") == "in") & (pl.col("belongs") == "after"))
    later = fees.filter((pl.col("arrived") == "after") & (pl.col("belongs") == "in"))
    this = fees.filter((pl.col("arrived").is_in(["in", "after"])) & (pl.col("belongs") == "in"))
    eligible, others = attached.filter(pl.col("eligible")), attached.filter(~pl.col("eligible"))
    expected, unearned = _sum(eligible, "fee"), _sum(others, "fee")
    listed = ", ".join(others["family_id"].head(12).to_list()) + (" and more" if others.height > 12 else "")
    # money paid above the expected fees goes first to the families attached but not eligible, up to their fees
    not_eligible = min(unearned, max(_sum(this) - expected, 0))
    return [
        ("Paid this year for an earlier year's attachments", "attachment", _sum(earlier), _refs(earlier)),
        ("Paid this year in advance for a later year's attachments", "attachment", _sum(ahead), _refs(ahead)),
        (f"Paid after {year} ended for its attachments", "attachment", -_sum(later), _refs(later)),
        (
            f"The fee for each family attached in {year} that pbr finds not eligible",
            "attachment",
            not_eligible,
            f"{others.height} families ({listed or 'none'}): paid for as attached, no fee is expected for them",
        ),
        (
            f"Paid for {year}'s attachments above (+) or below (-) the fee for every family attached",
            "attachment",
            _sum(this) - expected - not_eligible,
            f"{eligible.height} eligible families attached, fees expected {expected / 100:,.2f}; paid "
            f"{_sum(this) / 100:,.2f} for the year's periods ({_refs(this)}): an advance against an agreed "
            "number of families, or fees not yet paid",
        ),
    ]


def _results_lines(
    payments: pl.DataFrame, lines: pl.DataFrame, recoveries: pl.DataFrame, claims: pl.DataFrame, year: str
) -> list[tuple]:
    results = payments.filter(pl.col("kind") == "results").join(
        claims.rename({"claim_ref": "reference", "evidence_date": "claim_date"}), on="reference", how="left"
    )
    unknown = results.filter(pl.col("claim_date").is_null() & (pl.col("arrived") == "in"))
    known = results.filter(pl.col("claim_date").is_not_null())
    earlier = known.filter((pl.col("arrived") == "in") & (pl.col("belongs") == "before"))
    ahead = known.filter((pl.col("arrived") == "in") & (pl.col("belongs") == "after"))
    later = known.filter((pl.col("arrived") == "after") & (pl.col("belongs") == "in"))
    paid = (
        known.filter(pl.col("arrived").is_in(["in", "after"]) & (pl.col("belongs") == "in"))
        .group_by("reference")
        .agg(pl.col("amount").sum().alias("paid"))
    )
    per_claim = (
        lines.select("claim_ref", "expected")
        .join(paid.rename({"reference": "claim_ref"}), on="claim_ref", how="full", coalesce=True)
        .with_columns(pl.col("expected", "paid").fill_null(0))
        .with_columns((pl.col("paid") - pl.col("expected")).alias("difference"))
    )
    short = per_claim.filter(pl.col("difference") < 0)
    over = per_claim.filter(pl.col("difference") > 0)
    return [
        ("Paid this year for an earlier year's claims", "results", _sum(earlier), _refs(earlier)),
        ("Paid this year for a later year's claims", "results", _sum(ahead), _refs(ahead)),
        (f"Paid after {year} ended for its claims", "results", -_sum(later), _refs(later)),
        ("Paid this year naming no known claim (unallocated)", "results", _sum(unknown), _refs(unknown)),
        (
            "Recovered: recoveries booked this year lower what is expected",
            "results",
            -_sum(recoveries, "amount_pence"),
            _refs(recoveries, "claim_ref"),
        ),
        (
            f"Outstanding: {year}'s claims not yet paid in full",
            "results",
            _sum(short, "difference"),
            _refs(short, "claim_ref"),
        ),
        (f"Paid above what {year}'s claims asked for", "results", _sum(over, "difference"), _refs(over, "claim_ref")),
    ]


def bridge(
    year: int,
    payments: pl.DataFrame,
    attached: pl.DataFrame,
    lines: pl.DataFrame,
    recoveries: pl.DataFrame,
    claims: pl.DataFrame,
    forms: list[ReferenceForm],
) -> pl.DataFrame:
    """BRIDGE_SCHEMA: lines whose amounts (pence) add up to received less expected for financial year `year`.

    `payments`: every payment known (payment_date, amount, kind, reference), later years' too; `attached`: the
    year's eligible attachments with their fee; `lines`: the year's claims (claim_ref, expected); `recoveries`:
    booked in the year (claim_ref, amount_pence, negative); `claims`: every claim (claim_ref, evidence_date)."""
    span = financial_year(year)
    name = span.name
    starts = [period_start(reference, forms) for reference in payments["reference"].to_list()]
    dated = payments.with_columns(pl.Series("period_start", starts, dtype=pl.Date))
    by_claim = claims.select("claim_ref", "evidence_date")
    claim_days = dict(by_claim.iter_rows())
    dated = dated.with_columns(
        pl.when(pl.col("kind") == "results")
        .then(pl.col("reference").replace_strict(claim_days, default=None, return_dtype=pl.Date))
        .otherwise(pl.col("period_start"))
        .alias("period_start")
    )
    dated = _when(dated, span.start, span.end)
    other = dated.filter((pl.col("kind") == "other") & (pl.col("arrived") == "in"))
    rows = [
        *_attachment_lines(dated, attached, name),
        *_results_lines(dated, lines, recoveries, by_claim, name),
        ("Other money received", "other", _sum(other), _refs(other)),
    ]
    return pl.DataFrame(rows, schema=BRIDGE_SCHEMA, orient="row").filter(pl.col("amount") != 0)
