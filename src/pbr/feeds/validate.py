"""Row-level validation of feeds (feeds.md): pandera checks per row, then keys and references across tables.

Every bad row gets one quarantine entry: the columns at fault and a reason a coordinator understands,
quoting the offending value. Good rows come out typed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import polars as pl

from pbr.contract import MAX_INTEGER, ColumnSpec, TableContract, contracts
from pbr.feeds.read import ROW, SOURCE, SourceFile
from pbr.money import pounds
from pbr.resources import vocabularies as shipped_vocabularies

INDEX = "__i"
REPEATED_KEY = "__repeated_key"
NUL = "\x00"
PERSONAL_WITHHELD = "(personal data, not shown)"
FORMULA_START = r"^[=+\-@\t\r]"
DECIMAL = pl.Decimal(38, 9)
QUARANTINE_SCHEMA = {
    "source": pl.String,
    "table": pl.String,
    "row": pl.Int64,
    "column": pl.String,
    "value": pl.String,
    "reason": pl.String,
    "family_id": pl.String,
    "person_id": pl.String,
}

_PATTERNS = {
    "date": r"^\d{4}-\d{2}-\d{2}$",
    "int": r"^\d{1,15}$",
    "decimal": r"^-?\d{1,20}(\.\d{1,9})?$",
    "money": r"^-?\d{1,15}(\.\d{1,2})?$",
    "uprn": r"^\d{1,12}$",
}
# a National Insurance number: two letters (not D, F, I, Q, U or V; the second not O), six digits, A to D
NI_NUMBER = r"^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]$"


@dataclass
class Known:
    """What the database already holds, for references from a partial load."""

    families: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame({"family_id": []}, schema={"family_id": pl.String})
    )
    members: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            {"person_id": [], "family_id": []}, schema={"person_id": pl.String, "family_id": pl.String}
        )
    )
    terms: pl.DataFrame = field(default_factory=lambda: pl.DataFrame({"term_id": []}, schema={"term_id": pl.String}))


@dataclass
class Validated:
    tables: dict[str, pl.DataFrame]  # good rows, typed, with ROW and SOURCE
    quarantine: pl.DataFrame  # QUARANTINE_SCHEMA

    def quarantined_in(self, source: str) -> int:
        return self.quarantine.filter(pl.col("source") == source).height


def _quote(expr: pl.Expr) -> pl.Expr:
    return pl.lit("'") + expr.fill_null("") + pl.lit("'")


def _typed(spec: ColumnSpec) -> pl.Expr:
    raw = pl.col(spec.name)
    if spec.type in _PATTERNS:
        ok = raw.str.contains(_PATTERNS[spec.type])
    if spec.type == "date":  # the calendar starts at year 1: there is no year 0000 to store
        return pl.when(ok & ~raw.str.starts_with("0000")).then(raw.str.to_date("%Y-%m-%d", strict=False))
    if spec.type == "uprn":
        return pl.when(ok).then(raw)
    if spec.type == "ni_number":  # written with or without spaces, in either case
        clean = raw.str.replace_all(r"\s", "").str.to_uppercase()
        return pl.when(clean.str.contains(NI_NUMBER)).then(clean)
    if spec.type == "int":
        value = raw.cast(pl.Int64, strict=False)
        return pl.when(ok & (value <= MAX_INTEGER)).then(value)
    if spec.type == "decimal":
        return pl.when(ok).then(raw.cast(DECIMAL, strict=False))
    if spec.type == "money":
        negative = raw.str.starts_with("-")
        digits = raw.str.strip_prefix("-")
        whole = digits.str.split(".").list.get(0, null_on_oob=True).cast(pl.Int64, strict=False)
        cents = (
            digits.str.split(".")
            .list.get(1, null_on_oob=True)
            .fill_null("0")
            .str.pad_end(2, "0")
            .cast(pl.Int64, strict=False)
        )
        pence = whole * 100 + cents
        return pl.when(ok & (pence <= MAX_INTEGER)).then(pl.when(negative).then(-pence).otherwise(pence))
    return raw


@dataclass(frozen=True)
class RowRule:
    """One check: `ok` is true for a good row; `reason` says why a row is bad (evaluated on bad rows only)."""

    name: str
    column: str
    ok: pl.Expr
    reason: pl.Expr


def _t(name: str) -> str:
    return f"__t_{name}"


def _indicator_rule(spec: ColumnSpec, themes: list[str]) -> RowRule:
    """`<theme>.<detail>`: a theme of the plan in use, then a detail of one word; the reason says which part is
    wrong."""
    raw = pl.col(spec.name)
    known = "|".join(re.escape(t) for t in themes)
    theme = raw.str.extract(r"^([^.]*)\.", 1)
    reason = (
        pl.when(raw.str.contains(rf"^({known})\."))
        .then(
            pl.lit("'s detail after '")
            + theme
            + pl.lit(".' must be one word, without spaces (e.g. ")
            + theme
            + pl.lit(".mental_health)")
        )
        .otherwise(pl.lit(f" must be <theme>.<detail> with a theme of the plan ({', '.join(themes)})"))
    )
    return RowRule(
        f"{spec.name}|indicator",
        spec.name,
        raw.is_null() | raw.str.contains(rf"^({known})\.\S+$"),
        pl.lit(f"{spec.name} ") + _quote(raw) + reason,
    )


def _typed_reason(spec: ColumnSpec) -> pl.Expr | None:
    """Why a value of a parsed type did not parse, or None for a type that is not parsed."""
    raw = pl.col(spec.name)
    said = pl.lit(f"{spec.name} ") + _quote(raw)
    if spec.type == "date":
        return said + pl.when(raw.str.contains(r"^\d{4}-\d{2}-\d{2}[ T]\d")).then(
            pl.lit(" has a time of day: the column takes a date written YYYY-MM-DD")
        ).otherwise(pl.lit(" is not a date written YYYY-MM-DD"))
    if spec.type == "int":
        return said + pl.when(raw.str.contains(_PATTERNS["int"])).then(
            pl.lit(f" is more than {MAX_INTEGER:,}, the most pbr stores")
        ).otherwise(pl.lit(" is not a whole number of 0 or more"))
    if spec.type == "decimal":
        return said + pl.lit(" is not a plain decimal number")
    if spec.type == "money":
        return said + pl.when(raw.str.contains(_PATTERNS["money"])).then(
            pl.lit(f" is more than {pounds(MAX_INTEGER)} either way, the most pbr stores")
        ).otherwise(pl.lit(" is not an amount in pounds with at most 2 decimal places"))
    if spec.type == "uprn":  # an address identifier: personal, so the value is not repeated
        return pl.lit(f"{spec.name} is not a Unique Property Reference Number (1 to 12 digits)")
    if spec.type == "ni_number":  # personal too: the value is not repeated
        return pl.lit(f"{spec.name} is not a National Insurance number (two letters, six digits, a letter A to D)")
    return None


def _type_rules(spec: ColumnSpec, themes: list[str], vocab: dict) -> list[RowRule]:
    """The check that a value is of its column's type (a date, a whole number, a known code, ...)."""
    raw, typed = pl.col(spec.name), pl.col(_t(spec.name))
    found: list[RowRule] = []
    reason = _typed_reason(spec)
    if reason is not None:
        found.append(RowRule(f"{spec.name}|{spec.type}", spec.name, raw.is_null() | typed.is_not_null(), reason))
    elif spec.type == "code":
        codes = vocab[spec.vocabulary]
        found.append(
            RowRule(
                f"{spec.name}|code",
                spec.name,
                raw.is_null() | raw.is_in(codes),
                pl.lit(f"{spec.name} ")
                + _quote(raw)
                + pl.lit(f" is not a known code (one of {', '.join(codes)}; codes are case-sensitive)"),
            )
        )
    elif spec.type == "indicator":
        found.append(_indicator_rule(spec, themes))
    if spec.type == "id":
        # a spreadsheet runs a value beginning with one of these as a formula (feeds.md): an id is a code, not one
        found.append(
            RowRule(
                f"{spec.name}|formula",
                spec.name,
                raw.is_null() | ~raw.str.contains(FORMULA_START),
                pl.lit(f"{spec.name} ")
                + _quote(raw)
                + pl.lit(" begins with ")
                + _quote(raw.str.slice(0, 1))
                + pl.lit(
                    ": an identifier may not begin with =, +, -, @, a tab or a carriage return, which a "
                    "spreadsheet runs as a formula"
                ),
            )
        )
    return found


def _value_rules(spec: ColumnSpec, with_nul: frozenset[str], too_long: frozenset[str]) -> list[RowRule]:
    """A value's text: no NUL character, not longer than the database keeps, present where required."""
    raw = pl.col(spec.name)
    found = []
    if spec.name in with_nul:  # a damaged export; PostgreSQL stores no text holding one
        found.append(
            RowRule(
                f"{spec.name}|nul",
                spec.name,
                raw.is_null() | ~raw.str.contains(NUL, literal=True),
                pl.lit(
                    f"{spec.name} holds a NUL character (byte 0), which no text may hold: the file may be damaged, "
                    "so export it again"
                ),
            )
        )
    if spec.name in too_long:
        found.append(
            RowRule(
                f"{spec.name}|length",
                spec.name,
                raw.is_null() | (raw.str.len_chars() <= spec.max_length),
                pl.lit(f"{spec.name} is ")
                + raw.str.len_chars().cast(pl.String)
                + pl.lit(f" characters long; at most {spec.max_length} are kept"),
            )
        )
    if spec.required:
        found.append(
            RowRule(
                f"{spec.name}|required", spec.name, raw.is_not_null(), pl.lit(f"{spec.name} is empty but is required")
            )
        )
    return found


def _bound_rules(spec: ColumnSpec, today: dt.date) -> list[RowRule]:
    """A typed value's bounds: not after the day of loading, not before another column, not below a minimum."""
    raw, typed = pl.col(spec.name), pl.col(_t(spec.name))
    found = []
    if spec.not_future:
        found.append(
            RowRule(
                f"{spec.name}|not_future",
                spec.name,
                typed.is_null() | (typed <= pl.lit(today)),
                pl.lit(f"{spec.name} ") + raw + pl.lit(f" is after the day of loading ({today.isoformat()})"),
            )
        )
    if spec.min_column:
        other = pl.col(_t(spec.min_column))
        found.append(
            RowRule(
                f"{spec.name}|min_column",
                spec.name,
                typed.is_null() | other.is_null() | (typed >= other),
                pl.lit(f"{spec.name} ") + raw + pl.lit(f" is before {spec.min_column} ") + pl.col(spec.min_column),
            )
        )
    if spec.minimum is not None:
        found.append(
            RowRule(
                f"{spec.name}|minimum",
                spec.name,
                typed.is_null() | (typed >= spec.minimum),
                pl.lit(f"{spec.name} ") + raw + pl.lit(f" must be at least {spec.minimum}"),
            )
        )
    return found


def _sum_rule(contract: TableContract) -> RowRule:
    parts, limit = contract.sum_at_most["columns"], contract.sum_at_most["limit"]
    total = pl.sum_horizontal([pl.col(_t(c)) for c in parts])
    any_null = pl.any_horizontal([pl.col(_t(c)).is_null() for c in [*parts, limit]])
    return RowRule(
        f"{parts[0]}|sum_at_most",
        parts[0],
        any_null | (total <= pl.col(_t(limit))),
        pl.concat_str([pl.lit(f"{c} ") + pl.col(c) for c in parts], separator=" + ")
        + pl.lit(" = ")
        + total.cast(pl.String)
        + pl.lit(f" is more than {limit} ")
        + pl.col(limit),
    )


def _scale_rule(contract: TableContract, vocab: dict) -> RowRule:
    tool, score = contract.scale["tool"], contract.scale["score"]
    tools = vocab["assessment_tools"]

    def bound(end: str) -> pl.Expr:
        return (
            pl.col(tool)
            .replace_strict({k: v[end] for k, v in tools.items()}, default=None, return_dtype=pl.Float64)
            .cast(DECIMAL)
        )

    low, high, value = bound("min"), bound("max"), pl.col(_t(score))
    return RowRule(
        f"{score}|scale",
        score,
        value.is_null() | low.is_null() | value.is_between(low, high),
        pl.lit(f"{score} ")
        + pl.col(score)
        + pl.lit(" is outside the scale of ")
        + pl.col(tool)
        + pl.lit(" (")
        + low.cast(pl.Int64).cast(pl.String)
        + pl.lit(" to ")
        + high.cast(pl.Int64).cast(pl.String)
        + pl.lit(")"),
    )


def _row_rules(
    contract: TableContract,
    themes: list[str],
    today: dt.date,
    with_nul: frozenset[str] = frozenset(),
    too_long: frozenset[str] = frozenset(),
    vocab: dict | None = None,
) -> list[RowRule]:
    """The checks of each row. `with_nul` and `too_long` name the columns found to need those checks at all."""
    vocab = vocab or shipped_vocabularies()
    rules: list[RowRule] = []
    for spec in contract.columns.values():
        rules += _value_rules(spec, with_nul, too_long) + _type_rules(spec, themes, vocab) + _bound_rules(spec, today)
    if contract.sum_at_most:
        rules.append(_sum_rule(contract))
    if contract.scale:
        rules.append(_scale_rule(contract, vocab))
    return rules


def _pandera_failures(frame: pl.DataFrame, rules: list[RowRule]) -> pl.DataFrame:
    """Run every rule through pandera (lazy, all failures collected); returns (INDEX, rule) pairs.

    pandera runs its checks one after another over the rows it is given, so it is given only the rows that
    fail at least one rule, found first in one pass of every rule at once: a rule looks at its own row only.
    """
    none = pl.DataFrame(schema={INDEX: pl.Int64, "rule": pl.String})
    if not rules:
        return none
    frame = frame.filter(~pl.all_horizontal([rule.ok.fill_null(False) for rule in rules]))
    if frame.height == 0:
        return none
    import pandera.polars as pa  # here, so that commands validating nothing, or only good rows, start without it

    checks = [
        pa.Check(lambda data, ok=rule.ok: data.lazyframe.select(ok.fill_null(False)), name=rule.name) for rule in rules
    ]
    schema = pa.DataFrameSchema(checks=checks)
    try:
        schema.validate(frame, lazy=True)
        failures = none
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases.select(
            pl.col("index").cast(pl.Int64).alias("__position"), pl.col("check").alias("rule")
        )
        positions = frame.select(INDEX).with_row_index("__position").with_columns(pl.col("__position").cast(pl.Int64))
        failures = cases.drop_nulls().join(positions, on="__position").select(INDEX, "rule")
    # every row handed over fails some rule: one pandera did not name would otherwise pass as good
    if frame.height != failures.get_column(INDEX).n_unique():
        raise RuntimeError("pandera named no failing rule for some rows that fail one")
    return failures


def _failure_reasons(frame: pl.DataFrame, failures: pl.DataFrame, rules: list[RowRule]) -> pl.DataFrame:
    """(INDEX, column, reason) for each failing (row, rule)."""
    parts = []
    for rule in rules:
        rows = failures.filter(pl.col("rule") == rule.name).select(INDEX)
        if rows.height == 0:
            continue
        bad = frame.join(rows, on=INDEX, how="semi")
        parts.append(bad.select(INDEX, pl.lit(rule.column).alias("column"), rule.reason.alias("reason")))
    if not parts:
        return pl.DataFrame(schema={INDEX: pl.Int64, "column": pl.String, "reason": pl.String})
    return pl.concat(parts)


def _duplicate_keys(frame: pl.DataFrame, key: tuple[str, ...]) -> pl.DataFrame:
    """Rows whose key appears more than once; `frame` marks them REPEATED_KEY (a null key part counts as a value)."""
    # the listing of rows is built for repeated keys only: they are few, and a listing over every key is not cheap
    keyed = frame.filter(pl.col(REPEATED_KEY)).select(INDEX, ROW, SOURCE, *key)
    keyed = keyed.filter(pl.all_horizontal([pl.col(k).is_not_null() for k in key]))
    where = pl.when(pl.col("__sources") > 1).then(pl.col(SOURCE) + pl.lit(" row ")).otherwise(pl.lit("")) + pl.col(
        ROW
    ).cast(pl.String)
    counted = (
        keyed.with_columns(pl.len().over(key).alias("__n"), pl.col(SOURCE).n_unique().over(key).alias("__sources"))
        .with_columns(where.implode().over(key).list.join(", ").alias("__rows"))
        .filter(pl.col("__n") > 1)
    )
    label = pl.concat_str([pl.lit(f"{k}=") + pl.col(k) for k in key], separator=", ")
    return counted.select(
        INDEX,
        pl.lit(", ".join(key)).alias("column"),
        (
            pl.lit("duplicate key (")
            + label
            + pl.lit(") appears ")
            + pl.col("__n").cast(pl.String)
            + pl.lit(" times in this load (")
            + pl.when(pl.col("__sources") > 1).then(pl.lit("")).otherwise(pl.lit("rows "))
            + pl.col("__rows")
            + pl.lit("); every copy is held because pbr never guesses which is right")
        ).alias("reason"),
    )


def _overlapping_terms(frame: pl.DataFrame, start: str, end: str) -> pl.DataFrame:
    dated = frame.filter(pl.col(_t(start)).is_not_null() & pl.col(_t(end)).is_not_null()).sort(_t(start), _t(end))
    s, e = pl.col(_t(start)), pl.col(_t(end))
    marked = dated.with_columns(
        (s <= e.cum_max().shift(1)).fill_null(False).alias("__prev"),
        (e >= s.shift(-1)).fill_null(False).alias("__next"),
        pl.col("term_id").shift(1).alias("__prev_id"),
        pl.col("term_id").shift(-1).alias("__next_id"),
    ).filter(pl.col("__prev") | pl.col("__next"))
    other = pl.when(pl.col("__prev")).then(pl.col("__prev_id")).otherwise(pl.col("__next_id"))
    return marked.select(
        INDEX,
        pl.lit(f"{start}, {end}").alias("column"),
        (
            pl.lit("term ")
            + pl.col("term_id")
            + pl.lit(" (")
            + pl.col(start)
            + pl.lit(" to ")
            + pl.col(end)
            + pl.lit(") overlaps term ")
            + other.fill_null("?")
            + pl.lit("; both are held")
        ).alias("reason"),
    )


@dataclass
class _Parents:
    """Per referenced table: ids that loaded or are stored (good) and ids held in this load (bad, with where)."""

    good: dict[str, pl.DataFrame] = field(default_factory=dict)
    held: dict[str, pl.DataFrame] = field(default_factory=dict)


def _reference_failures(frame: pl.DataFrame, contract: TableContract, parents: _Parents) -> pl.DataFrame:
    parts = []
    for spec in contract.columns.values():
        if not spec.references:
            continue
        table, column = spec.references
        good, held = parents.good[table], parents.held[table]
        present = frame.select(INDEX, pl.col(spec.name).alias(column)).drop_nulls(column)
        dangling = present.join(good, on=column, how="anti")
        if held.height:  # a held parent holds its children even where an older good copy is stored
            in_held = present.join(held, on=column, how="inner")
            parts.append(
                in_held.select(
                    INDEX,
                    pl.lit(spec.name).alias("column"),
                    (
                        pl.lit(f"{spec.name} '")
                        + pl.col(column)
                        + pl.lit("' is in quarantine (")
                        + pl.col("__where")
                        + pl.lit("), so this row is held too")
                    ).alias("reason"),
                )
            )
            dangling = dangling.join(held, on=column, how="anti")
        parts.append(
            dangling.select(
                INDEX,
                pl.lit(spec.name).alias("column"),
                (pl.lit(f"{spec.name} '") + pl.col(column) + pl.lit(f"' does not exist in {table}")).alias("reason"),
            )
        )
    if not parts:
        return pl.DataFrame(schema={INDEX: pl.Int64, "column": pl.String, "reason": pl.String})
    return pl.concat(parts)


def _problem_rows(frame: pl.DataFrame, problems: list[pl.DataFrame]) -> pl.DataFrame:
    """(INDEX, column, reason) for the rows found bad while reading."""
    return (
        frame.select(INDEX, ROW, SOURCE).join(pl.concat(problems), on=[SOURCE, ROW]).select(INDEX, "column", "reason")
    )


def _empty_quarantine() -> pl.DataFrame:
    return pl.DataFrame(schema=QUARANTINE_SCHEMA)


@dataclass
class _Load:
    """The rows of one load by table, with what reading found out about them."""

    by_table: dict[str, list[pl.DataFrame]] = field(default_factory=dict)
    read_problems: dict[str, list[pl.DataFrame]] = field(default_factory=dict)
    may_hold_nul: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, files: list[SourceFile]) -> _Load:
        load = cls()
        for f in files:
            if f.rejected is not None or f.frame is None:
                continue
            load.by_table.setdefault(f.table, []).append(f.frame)
            if f.may_hold_nul:
                load.may_hold_nul.add(f.table)
            if f.row_problems is not None and f.row_problems.height:
                load.read_problems.setdefault(f.table, []).append(
                    f.row_problems.with_columns(pl.lit(f.source).alias(SOURCE))
                )
        return load

    def typing(self, name: str, contract: TableContract) -> pl.LazyFrame:
        frames = self.by_table.get(name)
        frame = (
            pl.concat(frames, how="vertical")
            if frames
            else pl.DataFrame(schema={**{c: pl.String for c in contract.columns}, ROW: pl.Int64, SOURCE: pl.String})
        )
        repeated = [(pl.len().over(list(contract.key)) > 1).alias(REPEATED_KEY)] if contract.key else []
        return (
            frame.lazy()
            .with_row_index(INDEX)
            .with_columns(pl.col(INDEX).cast(pl.Int64))
            .with_columns([_typed(spec).alias(_t(spec.name)) for spec in contract.columns.values()] + repeated)
        )


def _failures(
    load: _Load,
    name: str,
    contract: TableContract,
    frame: pl.DataFrame,
    parents: _Parents,
    checks: tuple[list[str], dt.date, dict],
) -> pl.DataFrame | None:
    """(INDEX, column, reason) for every fault of every row of one table, or None when there is none."""
    themes, today, codes = checks
    # each looked for in one pass first: a rule in every file would cost a pass each for what is rare
    with_nul = frozenset(
        c
        for c in contract.columns
        if name in load.may_hold_nul and frame.get_column(c).str.contains(NUL, literal=True).any()
    )
    too_long = frozenset(
        c.name
        for c in contract.columns.values()
        if c.max_length is not None and (frame.get_column(c.name).str.len_bytes().max() or 0) > c.max_length
    )  # bytes >= chars
    rules = _row_rules(contract, themes, today, with_nul, too_long, codes)
    found = []
    read = _problem_rows(frame, load.read_problems[name]) if name in load.read_problems else None
    if read is not None:  # first: a row's own shape explains its other faults
        found.append(read)
    if frame.height:
        failures = _failure_reasons(frame, _pandera_failures(frame, rules), rules)
        if read is not None:  # a value reading found at fault (a formula never saved) is told once, as that
            failures = failures.join(read.select(INDEX, "column"), on=[INDEX, "column"], how="anti")
        found.append(failures)
    if contract.key:
        found.append(_duplicate_keys(frame, contract.key))
    if contract.no_overlap:
        found.append(_overlapping_terms(frame, *contract.no_overlap))
    found.append(_reference_failures(frame, contract, parents))
    found = [f for f in found if f.height]
    return pl.concat(found) if found else None


def _bad_rows(frame: pl.DataFrame, failures: pl.DataFrame | None) -> pl.DataFrame:
    """The rows at fault, each once, with its columns and reasons joined."""
    if failures is None:
        return frame.clear().with_columns(
            pl.lit(None, pl.String).alias("column"),
            pl.lit(None, pl.String).alias("reason"),
            pl.lit(None, pl.String).alias("__first"),
        )
    per_row = failures.group_by(INDEX, maintain_order=True).agg(
        pl.col("column").unique(maintain_order=True).str.join(", ").alias("column"),
        pl.col("reason").unique(maintain_order=True).str.join("; ").alias("reason"),
        pl.col("column").first().alias("__first"),
    )
    return frame.join(per_row, on=INDEX, how="inner").sort(INDEX)


def _quarantine_entries(
    bad: pl.DataFrame, name: str, contract: TableContract, member_families: list[pl.DataFrame]
) -> pl.DataFrame:
    """QUARANTINE_SCHEMA rows of one table, each linked to its family so a held family can be found."""
    if "family_id" in contract.columns:
        bad = bad.with_columns(pl.col("family_id").alias("__fam"))
    elif "person_id" in contract.columns:
        person_family = (
            pl.concat(member_families).unique(subset="person_id", keep="last")
            if bad.height
            else pl.DataFrame(schema={"person_id": pl.String, "family_id": pl.String})
        )
        bad = bad.join(person_family.rename({"family_id": "__fam"}), on="person_id", how="left")
    else:
        bad = bad.with_columns(pl.lit(None, pl.String).alias("__fam"))
    first_value = pl.lit(None, pl.String)
    for column, spec in contract.columns.items():
        # names and postcodes go only into the returns that need them, never into the quarantine
        value = pl.lit(PERSONAL_WITHHELD) if spec.personal else pl.col(column)
        first_value = pl.when(pl.col("__first") == column).then(value).otherwise(first_value)
    return bad.select(
        pl.col(SOURCE).alias("source"),
        pl.lit(name).alias("table"),
        pl.col(ROW).alias("row"),
        "column",
        first_value.alias("value"),
        "reason",
        pl.col("__fam").alias("family_id"),
        (pl.col("person_id") if "person_id" in contract.columns else pl.lit(None, pl.String)).alias("person_id"),
    )


def _remember_parents(
    parents: _Parents, name: str, contract: TableContract, typed: pl.DataFrame, bad: pl.DataFrame, known: Known
) -> None:
    """A table's good and held ids, for the tables that refer to it."""
    if not (contract.key and len(contract.key) == 1):
        return
    key = contract.key[0]
    known_ids = getattr(known, name, None) if name in ("families", "members", "terms") else None
    stored = known_ids.select(key) if known_ids is not None else pl.DataFrame(schema={key: pl.String})
    parents.good[name] = pl.concat([typed.select(key), stored]).unique()
    parents.held[name] = (
        bad.filter(pl.col(key).is_not_null())
        .group_by(key)
        .agg((pl.col(SOURCE).first() + pl.lit(" row ") + pl.col(ROW).first().cast(pl.String)).alias("__where"))
    )


def validate(
    files: list[SourceFile],
    themes: list[str],
    today: dt.date | None = None,
    known: Known | None = None,
    vocabularies: dict | None = None,
    tables_read: dict[str, TableContract] | None = None,
) -> Validated:
    """Validate every readable file of a load together (keys and references cross files), codes against the
    code lists given (the shipped ones by default), by the feed contracts (or `tables_read`: the partner
    contracts, say)."""
    checks = (themes, today or dt.date.today(), vocabularies or shipped_vocabularies())
    known = known or Known()
    load = _Load.of(files)
    # every table's values are typed, and its repeated keys found, side by side: neither needs another table
    book = tables_read or contracts()
    typed_frames = dict(zip(book, pl.collect_all([load.typing(n, c) for n, c in book.items()]), strict=True))
    parents = _Parents()
    member_families = [known.members]  # person -> family, for linking quarantined rows to families
    tables: dict[str, pl.DataFrame] = {}
    quarantine_parts: list[pl.DataFrame] = []
    for name, contract in book.items():
        frame = typed_frames[name]
        bad = _bad_rows(frame, _failures(load, name, contract, frame, parents, checks))
        good = frame.filter(~pl.col(INDEX).is_in(bad.get_column(INDEX).implode())) if bad.height else frame
        if name == "members":
            member_families.append(frame.select("person_id", "family_id").drop_nulls())
        quarantine_parts.append(_quarantine_entries(bad, contract.name, contract, member_families))
        typed = good.select([pl.col(_t(c)).alias(c) for c in contract.columns] + [ROW, SOURCE])
        tables[name] = typed
        _remember_parents(parents, name, contract, typed, bad, known)
    quarantine = pl.concat(quarantine_parts) if quarantine_parts else _empty_quarantine()
    shown = [
        pl.col(c).str.replace_all(NUL, "\u2400", literal=True) for c in ("value", "reason", "family_id", "person_id")
    ]
    # an identifier too long to be stored links the entry to no family or member
    linked = [
        pl.when(pl.col(c).str.len_chars() <= contracts()["members"].columns[c].max_length).then(pl.col(c)).alias(c)
        for c in ("family_id", "person_id")
    ]
    return Validated(
        tables=tables, quarantine=quarantine.cast(QUARANTINE_SCHEMA).with_columns(shown).with_columns(linked)
    )
