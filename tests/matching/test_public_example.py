"""The public matching example against its true links: the targets of the matching issue, asserted.

Of the rows linked automatically at least 99.9% go to the right member; at least 98.5% of the rows whose person is
a member are linked; at most 3% of rows wait for review; at most 0.1% of strangers' rows are linked; every broken
row is quarantined; decisions after matching equal those of perfectly keyed data for at least 99% of families; and
identification finds at least 90% of the would-be-eligible stranger households, at least 90% of those it lists
being strangers'.
"""

from __future__ import annotations

import datetime as dt

import openpyxl
import polars as pl

from matching.conftest import MATCHING, D, truth
from pbr import matching, services

DECISION_COLUMNS = ["eligible", "themes_at_attachment", "ssp_met", "ce_met", "claimable", "claim_route"]


def _outcomes(ctx) -> pl.DataFrame:
    return matching.links(ctx.store).join(truth().rename({"person_id": "true_id"}), on=["source", "row"])


def test_links_meet_the_targets_on_the_public_example(matched_sqlite):
    ctx, report = matched_sqlite
    found = _outcomes(ctx)
    assert (
        found.height
        == truth().height
        == report.total("linked") + report.total("review") + report.total("unmatched") + report.total("quarantined")
    )
    linked = found.filter(pl.col("status") == "linked")
    right = linked.filter(pl.col("person_id") == pl.col("true_id")).height
    members = found.filter(pl.col("expect") == "member").height
    strangers = found.filter(pl.col("expect") == "stranger")
    assert right / linked.height >= 0.999
    assert right / members >= 0.985
    assert found.filter(pl.col("status") == "review").height / found.height <= 0.03
    assert strangers.filter(pl.col("status") == "linked").height / strangers.height <= 0.001
    broken = found.filter(pl.col("expect") == "quarantine")
    assert broken.height and set(broken["status"]) == {"quarantined"}
    assert found.filter(pl.col("status") == "quarantined").height == broken.height  # nothing good held


def test_decisions_after_matching_equal_those_of_keyed_data(matched_sqlite):
    ctx, _ = matched_sqlite
    got = services.decisions(ctx, D).decisions
    expected = pl.read_csv(MATCHING / "expected_matched_decisions_2019-03-31.csv", infer_schema=False).with_columns(
        pl.col(pl.String).fill_null("")
    )
    shown = got.select(
        "family_id",
        *[
            pl.col(c).cast(pl.String).str.to_lowercase() if got.schema[c] == pl.Boolean else pl.col(c).fill_null("")
            for c in DECISION_COLUMNS
        ],
    )
    joined = expected.join(shown, on="family_id", suffix="_got")
    same = joined.filter(pl.all_horizontal(pl.col(c) == pl.col(f"{c}_got") for c in DECISION_COLUMNS))
    assert joined.height == expected.height == 150
    assert same.height / expected.height >= 0.99


def test_identify_finds_the_stranger_households(matched_sqlite):
    ctx, _ = matched_sqlite
    found = services.identify_households(ctx, D)
    rows = (
        found.households.select("household", "eligible", pl.col("rows").str.split(";"))
        .explode("rows")
        .with_columns(
            pl.col("rows").str.split(":").list.get(0).alias("source"),
            pl.col("rows").str.split(":").list.get(1).cast(pl.Int64).alias("row"),
        )
        .join(truth(), on=["source", "row"], how="left")
    )
    listed = (
        rows.filter(pl.col("eligible"))
        .group_by("household")
        .agg(pl.col("stranger_household").drop_nulls().mode().first(), pl.col("expect").mode().first())
    )
    expected = pl.read_csv(MATCHING / "expected_strangers_2019-03-31.csv", infer_schema=False).filter(
        pl.col("eligible_2019-03-31") == "true"
    )
    listed_strangers = listed.filter(pl.col("expect") == "stranger")
    assert expected.join(listed, on="stranger_household", how="semi").height / expected.height >= 0.9
    assert listed_strangers.height / listed.height >= 0.9
    evidence = found.evidence
    first = found.eligible["household"][0]
    assert set(evidence.filter(pl.col("household") == first)["theme"]) == set(
        found.eligible["themes"][0].split(";")
    )  # each theme shown has the partner rows behind it


def test_the_impact_study_return_carries_the_comparison_cohort_identify_finds(matched_sqlite, tmp_path):
    ctx, _ = matched_sqlite
    start, end = dt.date(2015, 4, 1), D
    written = services.write_impact_study_return(ctx, start, end, tmp_path / "impact.xlsx")
    found = services.identify_households(ctx, end)
    eligible = set(found.eligible["household"])
    sheet = openpyxl.load_workbook(written.path)["Impact study"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)]
    comparison = [r for r in rows if r["cohort"] == "comparison"]
    assert written.comparison == len(eligible) > 0
    assert {r["family_id"] for r in comparison} == eligible  # every would-be-eligible household, and only those
    people = found.people.filter(pl.col("household").is_in(list(eligible)))
    assert len(comparison) == people.height
    for row in comparison:  # each person as the partners' rows name them, cell by cell
        person = people.filter(
            (pl.col("household") == row["family_id"])
            & (pl.col("given_name").eq_missing(row["given_name"]))
            & (pl.col("family_name").eq_missing(row["family_name"]))
        )
        assert person.height >= 1, row
        assert row["postcode"] == person["postcode"][0] and row["uprn"] == person["uprn"][0]
        assert row["attachment_date"] is None and row["person_id"] is None
    # the stranger households of the example, found at their postcodes
    strangers = pl.read_csv(MATCHING / "expected_strangers_2019-03-31.csv", infer_schema=False).filter(
        pl.col("eligible_2019-03-31") == "true"
    )
    postcodes = {r["postcode"] for r in comparison}
    assert sum(postcode in postcodes for postcode in strangers["postcode"]) / strangers.height >= 0.9
    attached = [r for r in rows if r["cohort"] == "attached"]
    assert attached and all(r["attachment_date"] is not None for r in attached)
