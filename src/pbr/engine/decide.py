"""The decision for every family at D, with its evidence (outcome-plan.md, "The decision for a family at D")."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import polars as pl

from pbr.engine.eligibility import dependent_children, emerged_members, flagged_members
from pbr.engine.employment import HORIZON_DAYS, continuous_employment
from pbr.engine.kinds import MEASURES
from pbr.engine.measures import RESULT_SCHEMA, Context
from pbr.engine.reasons import evidence_in_words, reason, reason_kind
from pbr.engine.records import Records, cut
from pbr.periods import add_months
from pbr.plan import Plan
from pbr.plan.model import NEEDS_SINCE

DECISION_COLUMNS = [
    "family_id",
    "attachment_date",
    "eligible",
    "themes_at_attachment",
    "themes_progress_met",
    "ssp_met",
    "ce_met",
    "claimable",
    "claim_route",
    "reason",
    "earliest_claimable_date",
    "quarantined_records",
    "claimed_in",
    # outcome-plan.md: always next, empty unless the plan counts needs that emerge after attachment
    "themes_emerged",
    # pbr's own: the kind of reason, one of engine.reasons.KINDS, for filtering a list of families by it
    "reason_kind",
]
DETAIL_SCHEMA = {
    "family_id": pl.String,
    "theme": pl.String,
    "measure": pl.String,
    "met": pl.Boolean,
    "evidence": pl.String,
    "flagged_members": pl.String,
    "reference": pl.String,
}


@dataclass
class Decisions:
    decisions: pl.DataFrame  # DECISION_COLUMNS, one row per family
    results: pl.DataFrame  # every measure's answer at D, with its evidence
    flagged: pl.DataFrame  # FLAGGED_SCHEMA
    employment: pl.DataFrame  # continuous employment per qualifying member
    plan: Plan | None = None
    records: Records | None = None  # the records as the decision saw them

    @cached_property
    def detail(self) -> pl.DataFrame:
        """DETAIL_SCHEMA, one row per (family, theme present, measure) and CE member; built when first asked for."""
        return _detail(self.plan, self.results, self.flagged, self.employment)

    @cached_property
    def windows(self) -> pl.DataFrame:
        """The spans of days each measure of each family looks at on D (engine.windows); built when first asked
        for, for every family at once."""
        from pbr.engine.windows import measure_windows

        return measure_windows(self.plan, self.records, self.flagged)


def _measure_results(
    plan: Plan,
    records: Records,
    points: pl.DataFrame,
    flagged: pl.DataFrame,
    present: pl.DataFrame,
    with_evidence: bool = True,
) -> pl.DataFrame:
    """(family_id, at, theme, measure, met, evidence, reference) for every measure of every theme present."""
    parts = []
    for theme in plan.themes:
        families = present.filter(pl.col("theme") == theme.code).select("family_id")
        if families.height == 0:
            continue
        theme_points = points.join(families, on="family_id", how="semi")
        theme_flagged = flagged.filter(pl.col("theme") == theme.code).select("family_id", "person_id").unique()
        for rule in theme.progress:
            ctx = Context(rule, theme.code, records, theme_flagged, plan.eligibility_lookback_months, with_evidence)
            result = MEASURES[rule.kind].evaluate(ctx, theme_points).cast(RESULT_SCHEMA)
            parts.append(
                result.with_columns(
                    pl.lit(theme.code).alias("theme"),
                    pl.lit(rule.label("progress")).alias("measure"),
                    pl.lit(rule.reference, pl.String).alias("reference"),
                )
            )
    if not parts:
        return pl.DataFrame(schema={**RESULT_SCHEMA, "theme": pl.String, "measure": pl.String, "reference": pl.String})
    return pl.concat(parts)


def _in_plan_order(plan: Plan, flags: str) -> pl.Expr:
    """The theme codes whose flag column (`<flags>_<i>`, one per theme) is true, in plan order, joined by `;`."""
    return pl.concat_str(
        [pl.when(pl.col(f"{flags}_{i}")).then(pl.lit(code)) for i, code in enumerate(plan.theme_codes)],
        separator=";",
        ignore_nulls=True,
    )


def _themes_per_family(plan: Plan, needed: pl.DataFrame, results: pl.DataFrame) -> pl.DataFrame:
    """Per family: how many themes were present at attachment, whether every measure of every needed theme (those
    present and those that emerged) is met, and the lists in plan order."""
    theme_met = needed.join(
        results.group_by("family_id", "theme").agg(pl.col("met").all()), on=["family_id", "theme"], how="left"
    ).with_columns(pl.col("met").fill_null(True))
    codes = list(enumerate(plan.theme_codes))
    at_attachment = ~pl.col("emerged")
    return (
        theme_met.group_by("family_id")
        .agg(
            *[((pl.col("theme") == code) & at_attachment).any().alias(f"__has_{i}") for i, code in codes],
            *[((pl.col("theme") == code) & pl.col("emerged")).any().alias(f"__new_{i}") for i, code in codes],
            *[((pl.col("theme") == code) & pl.col("met")).any().alias(f"__met_{i}") for i, code in codes],
            at_attachment.sum().alias("theme_count"),
            pl.col("met").all().alias("all_met"),
        )
        .select(
            "family_id",
            "theme_count",
            "all_met",
            _in_plan_order(plan, "__has").alias("themes_at_attachment"),
            _in_plan_order(plan, "__met").alias("themes_progress_met"),
            _in_plan_order(plan, "__new").alias("themes_emerged"),
        )
    )


def _gates(plan: Plan, records: Records) -> pl.DataFrame:
    """Per family: whether the case closed long enough ago (`result_after_closure_months`), and the milestones
    of the way of working it lacks at D (`way_of_working`)."""
    families = records.families.select("family_id", "closure_date")
    if plan.result_after_closure_months is None:
        closure_ok = pl.lit(True)
    else:
        by = add_months(pl.lit(records.cutoff), -plan.result_after_closure_months)
        closure_ok = pl.col("closure_date").is_not_null() & (pl.col("closure_date") <= by)
    gates = families.with_columns(closure_ok.alias("closure_ok"))
    if not plan.way_of_working:
        return gates.with_columns(pl.lit(None, pl.String).alias("missing_milestones"))
    wanted = pl.DataFrame({"milestone": list(plan.way_of_working), "order": range(len(plan.way_of_working))})
    missing = (
        families.select("family_id")
        .join(wanted, how="cross")
        .join(records.milestones.select("family_id", "milestone").unique(), on=["family_id", "milestone"], how="anti")
        .sort("order")
        .group_by("family_id", maintain_order=True)
        .agg(pl.col("milestone").str.join(", ").alias("missing_milestones"))
    )
    return gates.join(missing, on="family_id", how="left")


def _decided(plan: Plan, table: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Eligibility, both routes, claimability and the route, from the themes, the child, employment and gates."""
    attached = pl.col("attachment_date") <= pl.lit(as_of)
    enough = pl.col("theme_count").fill_null(0) >= plan.min_themes
    child_ok = pl.col("has_child").fill_null(False) if plan.require_dependent_child else pl.lit(True)
    eligible = attached & enough & child_ok
    ssp = eligible & pl.col("all_met").fill_null(False) & pl.col("closure_ok")
    ce_met = attached & pl.col("ce_met").fill_null(False)
    way_ok = pl.col("missing_milestones").is_null()
    claimable = eligible & (ssp | ce_met) & way_ok
    route = pl.when(claimable & ce_met).then(pl.lit("ce")).when(claimable).then(pl.lit("ssp")).otherwise(pl.lit(""))
    return table.with_columns(
        eligible.alias("eligible"),
        ssp.alias("ssp_met"),
        ce_met.alias("ce_met"),
        claimable.alias("claimable"),
        route.alias("claim_route"),
        *[
            pl.when(attached).then(pl.col(listed).fill_null("")).otherwise(pl.lit("")).alias(listed)
            for listed in ("themes_at_attachment", "themes_progress_met", "themes_emerged")
        ],
        enough.alias("enough_themes"),
        child_ok.alias("child_ok"),
        attached.alias("attached"),
        way_ok.alias("way_ok"),
    )


def _needs(plan: Plan, families: pl.DataFrame, records: Records) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The flagged members of every needed theme, and the needed themes per family (`emerged` telling which
    emerged after attachment)."""
    flagged = flagged_members(plan, families, records)
    present = flagged.select("family_id", "theme").unique()
    if plan.needs == NEEDS_SINCE:
        emerged = emerged_members(plan, families, present, records).with_columns(
            pl.col("criterion") + pl.lit(" since attachment")
        )
        flagged = pl.concat([flagged, emerged])
    else:
        emerged = flagged.clear()
    needed = pl.concat(
        [
            present.with_columns(pl.lit(False).alias("emerged")),
            emerged.select("family_id", "theme").unique().with_columns(pl.lit(True).alias("emerged")),
        ]
    )
    return flagged, needed


def decide(
    plan: Plan,
    tables: dict[str, pl.DataFrame],
    as_of: dt.date,
    quarantine: pl.DataFrame | None = None,
    forecast: bool = True,
) -> Decisions:
    """Every family's decision at `as_of` by `plan`, with the answers and evidence it rests on."""
    from pbr.engine.forecast import earliest_claimable

    records = cut(tables, as_of)
    families = records.families.filter(pl.col("attachment_date") <= pl.lit(as_of))
    flagged, needed = _needs(plan, families, records)
    points = families.with_columns(pl.lit(as_of).alias("at"))
    results = _measure_results(plan, records, points, flagged, needed)
    children = dependent_children(plan, families, records).with_columns(pl.lit(True).alias("has_child"))
    employment = continuous_employment(plan, families, records)
    ce = employment.group_by("family_id").agg(
        pl.col("met").any().alias("ce_met"),
        pl.col("person_id").filter(pl.col("met")).sort().first().alias("ce_person"),
    )
    table = (
        records.families.join(_themes_per_family(plan, needed, results), on="family_id", how="left")
        .join(children, on="family_id", how="left")
        .join(ce, on="family_id", how="left")
        .join(_gates(plan, records).drop("closure_date"), on="family_id", how="left")
    )
    table = _decided(plan, table, as_of)
    if forecast:
        pending = table.filter(pl.col("eligible") & ~pl.col("claimable") & pl.col("way_ok"))
        earliest = earliest_claimable(
            plan, records, pending.select("family_id", "attachment_date"), flagged, needed, employment, results
        )
        table = table.join(earliest, on="family_id", how="left")
    else:
        table = table.with_columns(pl.lit(None, pl.Date).alias("earliest_claimable_date"))
    table = table.join(_held_counts(quarantine), on="family_id", how="left").with_columns(
        pl.col("quarantined_records").fill_null(0)
    )
    table = table.join(_first_gap(plan, results, needed), on="family_id", how="left")
    table = table.with_columns(
        reason(plan, as_of).alias("reason"), reason_kind(plan).alias("reason_kind"), pl.lit("").alias("claimed_in")
    )
    return Decisions(table.select(DECISION_COLUMNS).sort("family_id"), results, flagged, employment, plan, records)


def _held_counts(quarantine: pl.DataFrame | None) -> pl.DataFrame:
    if quarantine is None or quarantine.height == 0:
        return pl.DataFrame(schema={"family_id": pl.String, "quarantined_records": pl.Int64})
    return (
        quarantine.filter(pl.col("family_id").is_not_null())
        .group_by("family_id")
        .agg(pl.len().cast(pl.Int64).alias("quarantined_records"))
    )


def _first_gap(plan: Plan, results: pl.DataFrame, needed: pl.DataFrame) -> pl.DataFrame:
    """Per family: the first measure not met, as `gap` text, and whether its theme emerged after attachment."""
    first_unmet = (
        results.filter(~pl.col("met"))
        .group_by("family_id", maintain_order=True)
        .agg(pl.col("theme", "measure", "evidence").first())
        .join(needed, on=["family_id", "theme"], how="left")
    )
    label = pl.when(pl.col("emerged")).then(pl.lit("emerged need ")).otherwise(pl.lit(""))
    return first_unmet.select(
        "family_id",
        (label + evidence_in_words(plan)).alias("gap"),
        pl.col("emerged").fill_null(False).alias("gap_emerged"),
    )


def _detail(plan: Plan, results: pl.DataFrame, flagged: pl.DataFrame, employment: pl.DataFrame) -> pl.DataFrame:
    who = flagged.group_by("family_id", "theme").agg(
        (pl.col("person_id") + pl.lit(" (") + pl.col("criterion") + pl.lit(")"))
        .unique()
        .sort()
        .str.join(", ")
        .alias("flagged_members")
    )
    theme_rows = results.join(who, on=["family_id", "theme"], how="left").select(list(DETAIL_SCHEMA))
    ce_rows = employment.select(
        "family_id",
        pl.lit("continuous_employment").alias("theme"),
        (pl.lit("continuous_employment:") + pl.col("person_id")).alias("measure"),
        "met",
        "evidence",
        pl.lit(None, pl.String).alias("flagged_members"),
        pl.lit(None, pl.String).alias("reference"),
    )
    detail = pl.concat([theme_rows.cast(DETAIL_SCHEMA), ce_rows.cast(DETAIL_SCHEMA)])
    return detail.with_columns(evidence_in_words(plan).alias("evidence")).sort("family_id", "theme", "measure")


__all__ = ["DECISION_COLUMNS", "DETAIL_SCHEMA", "HORIZON_DAYS", "Decisions", "decide"]
