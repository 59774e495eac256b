"""Identities as the matcher compares them: names without case, accents or punctuation, known short forms,
dates of birth with their day and month swapped, postcodes without spaces and their district, whole-table."""

from __future__ import annotations

import polars as pl

# the columns the model compares, in the frame `comparable` returns
COMPARED = (
    "unique_id",
    "given",
    "family",
    "family_tokens",
    "given_full",
    "dob",
    "dob_swapped",
    "birth_year",
    "postcode",
    "district",
    "uprn",
    "sex",
)


def plain_name(column: str) -> pl.Expr:
    """Lower case ASCII letters and single spaces: `Zoë O'Brien-Smith` -> `zoe obrien smith`."""
    return (
        pl.col(column)
        .str.normalize("NFKD")
        .str.replace_all(r"\p{Mn}", "")
        .str.to_lowercase()
        .str.replace_all(r"[^a-z\s-]", "")
        .str.replace_all(r"[\s-]+", " ")
        .str.strip_chars()
        .replace("", None)
    )


def plain_postcode(column: str) -> pl.Expr:
    return pl.col(column).str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "").replace("", None)


def _full_names(given: pl.Expr, variants: dict[str, tuple[str, ...]]) -> pl.Expr:
    """Every full name a given name may stand for (itself when it is in no entry), as a list."""
    if not variants:
        return pl.concat_list(given)
    names = list(variants)
    looked_up = given.replace_strict(
        names, [list(variants[n]) for n in names], default=None, return_dtype=pl.List(pl.String)
    )
    return pl.when(looked_up.is_null()).then(pl.concat_list(given)).otherwise(looked_up)


def comparable(frame: pl.DataFrame, id_column: str, variants: dict[str, tuple[str, ...]]) -> pl.DataFrame:
    """The compared columns of people with given_name, family_name, date_of_birth (a date or null), sex,
    postcode and uprn (either may be absent)."""
    present = set(frame.columns)

    def text(name: str) -> pl.Expr:
        return pl.col(name).cast(pl.String) if name in present else pl.lit(None, pl.String)

    prepared = frame.lazy().select(
        pl.col(id_column).cast(pl.String).alias("unique_id"),
        plain_name("given_name").alias("__given"),
        plain_name("family_name").alias("__family"),
        pl.col("date_of_birth").cast(pl.Date).alias("__dob"),
        text("postcode").alias("__postcode"),
        text("uprn").alias("__uprn"),
        text("sex").alias("__sex"),
    )
    dob = pl.col("__dob")
    first_given = pl.col("__given").str.split(" ").list.first()
    swapped = pl.when((dob.dt.day() <= 12) & (dob.dt.day() != dob.dt.month())).then(
        pl.date(dob.dt.year(), dob.dt.day(), dob.dt.month()).dt.to_string("%Y-%m-%d")
    )
    postcode = plain_postcode("__postcode")
    return (
        prepared.with_columns(first_given.alias("given"))
        .select(
            "unique_id",
            "given",
            pl.col("__family").str.replace_all(" ", "").replace("", None).alias("family"),
            pl.col("__family").str.split(" ").alias("family_tokens"),
            _full_names(pl.col("given"), variants).alias("given_full"),
            dob.dt.to_string("%Y-%m-%d").alias("dob"),
            swapped.alias("dob_swapped"),
            dob.dt.year().cast(pl.String).alias("birth_year"),
            postcode.alias("postcode"),
            pl.when(postcode.str.len_chars() > 4)
            .then(postcode.str.slice(0, postcode.str.len_chars() - 3))
            .alias("district"),
            pl.col("__uprn").str.strip_chars_start("0").replace("", None).alias("uprn"),
            pl.when(pl.col("__sex").is_in(["F", "M", "X"])).then(pl.col("__sex")).alias("sex"),
        )
        .collect()
    )
