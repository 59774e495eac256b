"""The linkage model: splink on DuckDB, its comparisons built from the configuration's levels.

Members are the left side, partner rows the right; every candidate pair that shares a blocking key is scored
by each comparison, and the model (its m- and u-probabilities, trained or as shipped) comes back with the
scores so every link can be explained later.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass

import polars as pl

from pbr.matching_config import Level, MatchingConfig

COMPARISONS = ("name", "date_of_birth", "address", "sex")
# telling people apart among a few rows still needs the evidence it needs among many: the prior of one in a hundred
DEDUPE_LEAST_PEOPLE = 100
MEMBERS, ROWS = "a_members", "b_partner_rows"


@dataclass
class Scores:
    """Every candidate pair (person_id, row_id, match_weight, match_probability, gamma_<comparison>...), the
    model that scored them (splink's settings as JSON) and how its parameters were found."""

    pairs: pl.DataFrame
    model_json: str
    trained: str
    blocked_pairs: int


def _two_slips(cll, column: str):
    """Two typing slips in a name of four letters or more (in a shorter one they make another name), or names
    Jaro-Winkler finds close."""
    long_enough = cll.CustomLevel(f"least(length({column}_l), length({column}_r)) >= 4")
    return cll.Or(cll.And(cll.DamerauLevenshteinLevel(column, 2), long_enough), cll.JaroWinklerLevel(column, 0.9))


def _name_levels(cll) -> dict:
    exact_given_or_full = cll.Or(cll.ExactMatchLevel("given"), cll.ArrayIntersectLevel("given_full", 1))
    return {
        "missing": lambda: cll.CustomLevel(
            "given_l is null or given_r is null or family_l is null or family_r is null"
        ).configure(is_null_level=True),
        "exact": lambda: cll.And(cll.ExactMatchLevel("given"), cll.ExactMatchLevel("family")).configure(
            tf_adjustment_column="family", tf_minimum_u_value=0.001
        ),
        "swapped": lambda: cll.CustomLevel("given_l = family_r and family_l = given_r"),
        "short_form": lambda: cll.And(cll.ExactMatchLevel("family"), cll.ArrayIntersectLevel("given_full", 1)),
        "part_family": lambda: cll.And(cll.ArrayIntersectLevel("family_tokens", 1), exact_given_or_full),
        "given_slip": lambda: cll.And(cll.ExactMatchLevel("family"), cll.DamerauLevenshteinLevel("given", 1)),
        "family_slip": lambda: cll.And(exact_given_or_full, cll.DamerauLevenshteinLevel("family", 1)),
        "given_slips": lambda: cll.And(cll.ExactMatchLevel("family"), _two_slips(cll, "given")),
        "family_slips": lambda: cll.And(exact_given_or_full, _two_slips(cll, "family")),
        "swapped_slip": lambda: cll.CustomLevel(
            "jaro_winkler_similarity(given_l, family_r) >= 0.88 and jaro_winkler_similarity(family_l, given_r) >= 0.88"
        ),
        "both_slips": lambda: cll.And(cll.JaroWinklerLevel("given", 0.85), cll.JaroWinklerLevel("family", 0.85)),
        "family_initial": lambda: cll.CustomLevel(
            "(list_has_any(family_tokens_l, family_tokens_r) or jaro_winkler_similarity(family_l, family_r) >= 0.88)"
            " and substr(given_l, 1, 1) = substr(given_r, 1, 1)"
        ),
        "family_only": lambda: cll.ExactMatchLevel("family"),
    }


def _other_levels(cll) -> dict[str, dict]:
    return {
        "date_of_birth": {
            "missing": lambda: cll.NullLevel("dob"),
            "exact": lambda: cll.ExactMatchLevel("dob"),
            "day_month_swapped": lambda: cll.CustomLevel("dob_l = dob_swapped_r or dob_swapped_l = dob_r"),
            "one_digit": lambda: cll.LevenshteinLevel("dob", 1),
        },
        "address": {
            "missing": lambda: cll.CustomLevel(
                "(uprn_l is null or uprn_r is null) and (postcode_l is null or postcode_r is null)"
            ).configure(is_null_level=True),
            "uprn": lambda: cll.ExactMatchLevel("uprn"),
            "postcode": lambda: cll.ExactMatchLevel("postcode"),
            "district": lambda: cll.ExactMatchLevel("district"),
        },
        "sex": {"missing": lambda: cll.NullLevel("sex"), "exact": lambda: cll.ExactMatchLevel("sex")},
    }


def _comparison(name: str, levels: tuple[Level, ...], sql: dict):
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    built = []
    for level in levels:
        creator = cll.ElseLevel() if level.level == "other" else sql[level.level]()
        values = {"label_for_charts": level.words}
        if level.m is not None:
            values.update(m_probability=level.m, u_probability=level.u, fix_m_probability=level.fixed)
        built.append(creator.configure(**values))
    return cl.CustomComparison(output_column_name=name, comparison_levels=built)


def _blocking_rules(names: tuple[str, ...]) -> list:
    from splink import block_on

    rules = {
        "date_of_birth": lambda: [block_on("dob")],
        "date_of_birth_swapped": lambda: ["l.dob = r.dob_swapped", "l.dob_swapped = r.dob"],
        "names": lambda: [block_on("family", "given")],
        "names_swapped": lambda: ["l.given = r.family and l.family = r.given"],
        "uprn": lambda: [block_on("uprn")],
        "postcode": lambda: [block_on("postcode")],
        "family_token_year": lambda: [block_on("family_tokens", "birth_year", arrays_to_explode=["family_tokens"])],
    }
    unknown = [n for n in names if n not in rules]
    if unknown:
        raise ValueError(f"unknown blocking rule {', '.join(unknown)} (known: {', '.join(rules)})")
    return [rule for name in names for rule in rules[name]()]


def settings(config: MatchingConfig, members: int, dedupe: bool = False):
    """splink's settings for these comparisons, with the prior of `expected_member_share` over `members` (for
    `dedupe`, the people of one table, each seen about once by each partner)."""
    import splink.comparison_level_library as cll
    from splink import SettingsCreator

    sql = {"name": _name_levels(cll), **_other_levels(cll)}
    # one person seen by several partners is the same name and date of birth: an address is shared by a household
    compared = [c for c in COMPARISONS if not (dedupe and c == "address")]
    prior = 1 / max(members, DEDUPE_LEAST_PEOPLE) if dedupe else config.expected_member_share / max(members, 1)
    return SettingsCreator(
        link_type="dedupe_only" if dedupe else "link_only",
        comparisons=[_comparison(name, config.comparisons[name], sql[name]) for name in compared],
        blocking_rules_to_generate_predictions=_blocking_rules(config.blocking),
        probability_two_random_records_match=min(0.5, prior),
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=[],
    )


def _train(linker, config: MatchingConfig) -> None:
    from splink import block_on

    em = {"date_of_birth": ("dob",), "names": ("family", "given")}
    linker.training.estimate_u_using_random_sampling(max_pairs=config.u_sample_pairs, seed=config.seed)
    for block in config.em_blocks:
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on(*em[block]), fix_probability_two_random_records_match=True
        )


def score(
    members: pl.DataFrame, rows: pl.DataFrame, config: MatchingConfig, train: bool | None = None, dedupe: bool = False
) -> Scores:
    """Score partner rows against members, both as `identity.comparable` gives them (`unique_id` each); with
    `dedupe`, the rows of `members` against each other (`rows` is not used).

    With `train` None the model is trained when the data is at least the configuration's minimum size."""
    import duckdb
    from splink import DuckDBAPI, Linker

    for name in ("splink", "duckdb"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if train is None:
        train = members.height >= config.min_members and rows.height >= config.min_rows
    connection = duckdb.connect(config={"memory_limit": config.memory_limit})
    db = DuckDBAPI(connection=connection)
    tables = [db.register(members.to_arrow(), dataset_display_name=MEMBERS)]
    if not dedupe:
        tables.append(db.register(rows.to_arrow(), dataset_display_name=ROWS))
    linker = Linker(tables, settings(config, members.height, dedupe), log_level=logging.ERROR)
    trained = "shipped starting values (schemas/matching.yaml)"
    if train and members.height and rows.height:
        _train(linker, config)
        trained = f"estimated from {members.height} members and {rows.height} partner rows"
    predicted = linker.inference.predict(threshold_match_weight=floor_weight(config))
    pairs = pl.from_arrow(predicted.as_duckdbpyrelation().to_arrow_table())
    model_json = json.dumps(linker.misc.save_model_to_json(), sort_keys=True)
    connection.close()
    return Scores(_oriented(pairs, dedupe), model_json, trained, pairs.height)


def _oriented(pairs: pl.DataFrame, dedupe: bool = False) -> pl.DataFrame:
    """person_id (the member) and row_id (the partner row) whichever side splink put them (for `dedupe`, the two
    rows of a pair)."""
    gammas = [f"gamma_{name}" for name in COMPARISONS]
    if not pairs.height:
        schema = {"person_id": pl.String, "row_id": pl.String, "match_weight": pl.Float64}
        return pl.DataFrame(schema={**schema, "match_probability": pl.Float64, **{g: pl.Int32 for g in gammas}})
    left_is_member = pl.lit(True) if dedupe else pl.col("source_dataset_l") == MEMBERS
    return pairs.select(
        pl.when(left_is_member).then(pl.col("unique_id_l")).otherwise(pl.col("unique_id_r")).alias("person_id"),
        pl.when(left_is_member).then(pl.col("unique_id_r")).otherwise(pl.col("unique_id_l")).alias("row_id"),
        "match_weight",
        "match_probability",
        *[pl.col(g).cast(pl.Int32) if g in pairs.columns else pl.lit(None, pl.Int32).alias(g) for g in gammas],
    )


def probability(weight: float) -> float:
    return 1 - 1 / (1 + math.pow(2, weight))


def weight(probability_: float) -> float:
    return math.log2(probability_ / (1 - probability_)) if probability_ < 1 else math.inf


def floor_weight(config: MatchingConfig) -> float:
    """Pairs below this weight are nobody's candidate: too weak to be reviewed, and too far behind any best
    candidate that could be linked to stop it (the margin is measured only against a candidate above it)."""
    return min(weight(config.review_probability), weight(config.link_probability) - config.clear_ahead_bits) - 1
