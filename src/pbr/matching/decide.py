"""From candidate scores to what each partner row becomes: linked, review or unmatched (matching.md).

The rows one partner sent under one `partner_ref` are one person as that partner knows them, so they are
decided together: each candidate member keeps the strongest evidence any of those rows gives for it. A link is
made only when the best candidate reaches the link probability and is clearly ahead of the second best.
"""

from __future__ import annotations

import polars as pl

from pbr.matching_config import MatchingConfig

CANDIDATES_KEPT = 3  # shown beside a row in the review queue
DECIDED_SCHEMA = {
    "row_id": pl.String,
    "status": pl.String,
    "person_id": pl.String,
    "best_person_id": pl.String,
    "match_probability": pl.Float64,
    "match_weight": pl.Float64,
    "second_weight": pl.Float64,
    "reason": pl.String,
}


def candidates(pairs: pl.DataFrame, groups: pl.DataFrame) -> pl.DataFrame:
    """Per group (`groups`: row_id, group), each candidate member with its strongest pair, best first, and the
    row that gave it."""
    return (
        pairs.join(groups, on="row_id")
        .sort("match_weight", descending=True)
        .group_by("group", "person_id", maintain_order=True)
        .first()
        .sort(["group", "match_weight"], descending=[False, True])
        .with_columns(pl.int_range(pl.len()).over("group").alias("rank"))
    )


def decide(pairs: pl.DataFrame, groups: pl.DataFrame, config: MatchingConfig) -> pl.DataFrame:
    """DECIDED_SCHEMA for every row of `groups` (row_id, group)."""
    ranked = candidates(pairs, groups)
    best = ranked.filter(pl.col("rank") == 0).select("group", "person_id", "match_probability", "match_weight")
    second = ranked.filter(pl.col("rank") == 1).select("group", pl.col("match_weight").alias("second_weight"))
    per_group = best.join(second, on="group", how="left")
    linked_score = pl.col("match_probability") >= config.link_probability
    clear = pl.col("second_weight").is_null() | (
        pl.col("match_weight") - pl.col("second_weight") >= config.clear_ahead_bits
    )
    likely = pl.col("match_probability") >= config.review_probability
    decided = per_group.with_columns(
        pl.when(linked_score & clear)
        .then(pl.lit("linked"))
        .when(likely)
        .then(pl.lit("review"))
        .otherwise(pl.lit("unmatched"))
        .alias("status"),
        pl.when(linked_score & ~clear)
        .then(pl.lit("two members are close"))
        .when(likely & ~linked_score)
        .then(pl.lit("a member is likely but not certain"))
        .alias("reason"),
    )
    return (
        groups.join(decided, on="group", how="left")
        .with_columns(pl.col("person_id").alias("best_person_id"))
        .with_columns(
            pl.col("status").fill_null("unmatched"),
            pl.when(pl.col("status") == "linked").then(pl.col("person_id")).alias("person_id"),
        )
        .select(list(DECIDED_SCHEMA))
        .cast(DECIDED_SCHEMA)
    )
