"""The identification workbook: households of unmatched people who would be eligible, strongest first, with the
evidence per theme, and no more personal data than a coordinator needs to make contact."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pbr.matching.identify import Identification
from pbr.periods import day_in_words
from pbr.plan import Plan
from pbr.workbooks import document_for, new_workbook, save, write_frame, write_rows


def write_identification(found: Identification, path: str | Path, plan: Plan) -> Path:
    """Households (would-be-eligible first), the evidence behind each theme, and how the list was made."""
    book = new_workbook()
    households = found.households.select(
        "household",
        "eligible",
        "themes",
        "people",
        "family_name",
        "postcode",
        "uprn",
        pl.col("rows").str.count_matches(";").add(1).alias("partner_rows"),
    )
    write_frame(book.create_sheet("Households"), households)
    write_frame(book.create_sheet("Evidence"), found.evidence)
    write_rows(
        book.create_sheet("About"),
        ["", ""],
        [
            ("As of", found.as_of),
            ("Outcome plan", plan.name),
            ("Households", found.households.height),
            ("Would be eligible if attached on the as-of date", found.eligible.height),
            (
                "People",
                "partner rows that matched no member: one partner's rows under one reference are one person, "
                "and rows of different partners the matching model scores as one person are one person",
            ),
            (
                "Households are",
                "people at one property (UPRN); else at one postcode under one family name; someone "
                "no partner gave a property number for joins a household of their family name in "
                "the same postcode district",
            ),
            (
                "Eligible",
                "the plan's eligibility criteria, applied to the household as a family attached on the "
                "as-of date, from the partners' records alone",
            ),
            (
                "Personal data",
                "names, postcodes and property numbers are here to make contact: keep this workbook "
                "with the coordinators, and delete it when contact is made",
            ),
        ],
        widths={"": 40},
    )
    document = document_for("Households not yet known", f"as of {day_in_words(found.as_of)}", plan=plan, personal=True)
    return save(book, path, private=True, document=document)
