"""`pbr identify`: the families a council does not work with yet, found in the partner rows that matched nobody.

Unmatched rows become people (a partner's rows under one reference are one person; rows of different partners
that the model scores as one person are one person), people become households (the same UPRN; else the same
postcode and family name), and each household is decided by the plan's eligibility criteria as a family
attached on D would be (matching.md, "Identification").
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import text

from pbr.contract import contracts
from pbr.matching.identity import comparable, plain_name, plain_postcode
from pbr.matching_config import MatchingConfig
from pbr.plan import Plan
from pbr.store import Store

HOUSEHOLD_SCHEMA = {
    "household": pl.String,
    "people": pl.UInt32,
    "themes": pl.String,
    "eligible": pl.Boolean,
    "rows": pl.String,
    "family_name": pl.String,
    "postcode": pl.String,
    "uprn": pl.String,
    "strength": pl.UInt32,
}
HOUSEHOLD_COLUMNS = list(HOUSEHOLD_SCHEMA)[:-1]
EVIDENCE_SCHEMA = {
    "household": pl.String,
    "theme": pl.String,
    "criterion": pl.String,
    "source": pl.String,
    "row": pl.Int64,
    "record": pl.String,
}
RECORD_TABLES = ("indicators", "events", "episodes", "attendance")
IDENTITY = ("given_name", "family_name", "date_of_birth", "sex", "postcode", "uprn")
# each person of a household as the partners' rows most often name them
PEOPLE_SCHEMA = {"household": pl.String, "person": pl.String, **dict.fromkeys(IDENTITY, pl.String)}


@dataclass
class Identification:
    as_of: dt.date
    households: pl.DataFrame  # HOUSEHOLD_COLUMNS and `strength`, eligible first, strongest first
    evidence: pl.DataFrame  # EVIDENCE_SCHEMA: the rows behind each theme each household shows
    people: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PEOPLE_SCHEMA))

    @property
    def eligible(self) -> pl.DataFrame:
        return self.households.filter(pl.col("eligible"))


def components(nodes: pl.Series, edges: pl.DataFrame) -> pl.DataFrame:
    """(node, component) for an undirected graph (edges: a, b): each node takes the least node it reaches."""
    label = pl.DataFrame({"node": nodes.unique()}).with_columns(pl.col("node").alias("component"))
    both = pl.concat([edges.select("a", "b"), edges.select(pl.col("b").alias("a"), pl.col("a").alias("b"))])
    while True:
        reached = (
            both.join(label, left_on="b", right_on="node").group_by("a").agg(pl.col("component").min().alias("via"))
        )
        moved = label.join(reached, left_on="node", right_on="a", how="left").with_columns(
            pl.min_horizontal("component", "via").alias("next")
        )
        if moved.filter(pl.col("next") != pl.col("component")).height == 0:
            return label
        label = moved.select("node", pl.col("next").alias("component"))


def unmatched_rows(store: Store) -> pl.DataFrame:
    return store.read(
        text(
            "SELECT id, source, table_name, row_number, row_digest, given_name, family_name, date_of_birth, sex, "
            "postcode, uprn, partner_ref, payload FROM partner_rows WHERE latest AND status = 'unmatched'"
        ),
        schema={
            "id": pl.Int64,
            "source": pl.String,
            "table_name": pl.String,
            "row_number": pl.Int64,
            "row_digest": pl.String,
            **{c: pl.String for c in ("given_name", "family_name", "date_of_birth", "sex", "postcode", "uprn")},
            "partner_ref": pl.String,
            "payload": pl.String,
        },
    )


def _people(rows: pl.DataFrame, config: MatchingConfig) -> pl.DataFrame:
    """(row_digest, person): one partner's rows under one reference, and rows the model scores as one person."""
    from pbr.matching.model import score

    entity = (
        pl.when(pl.col("partner_ref").is_not_null())
        .then(pl.col("source") + pl.lit("\x1f") + pl.col("partner_ref"))
        .otherwise(pl.col("row_digest"))
    )
    rows = rows.with_columns(entity.alias("entity"))
    entities = rows.unique("entity", keep="first").with_columns(pl.col("date_of_birth").str.to_date(strict=False))
    people = comparable(entities, "entity", config.variants)
    pairs = score(people, people, config, train=False, dedupe=True).pairs if entities.height > 1 else None
    edges = (
        pairs.filter(pl.col("match_probability") >= config.link_probability).select(
            pl.col("person_id").alias("a"), pl.col("row_id").alias("b")
        )
        if pairs is not None
        else pl.DataFrame(schema={"a": pl.String, "b": pl.String})
    )
    found = components(entities["entity"], edges)
    return rows.join(found, left_on="entity", right_on="node").select("row_digest", pl.col("component").alias("person"))


def _mode(column: pl.Expr) -> pl.Expr:
    return column.drop_nulls().mode().sort().first()


def _households(rows: pl.DataFrame) -> pl.DataFrame:
    """(person, household, family_name, postcode, uprn): people at one property, or one postcode and family name,
    or (for someone without a property number) one postcode district and family name."""
    per_person = rows.group_by("person").agg(
        _mode(pl.col("uprn").str.strip_chars_start("0")).alias("uprn"),
        _mode(plain_postcode("postcode")).alias("postcode_key"),
        _mode(plain_name("family_name")).alias("family_key"),
        _mode(pl.col("family_name").str.to_titlecase()).alias("family_name"),
        _mode(pl.col("postcode").str.to_uppercase()).alias("postcode"),
    )
    per_person = per_person.with_columns(
        pl.when(pl.col("postcode_key").str.len_chars() > 4)
        .then(pl.col("postcode_key").str.slice(0, pl.col("postcode_key").str.len_chars() - 3))
        .alias("district")
    )
    links = []
    for keys in (["uprn"], ["postcode_key", "family_key"]):
        grouped = per_person.drop_nulls(keys).group_by(keys).agg(pl.col("person").min().alias("a"), pl.col("person"))
        links.append(grouped.explode("person").select("a", pl.col("person").alias("b")))
    # someone no partner gave a property number for, at another postcode of the district, under the family name
    # of a household there: a child the police saw at a relative's, an old address on a school roll
    unplaced = per_person.filter(pl.col("uprn").is_null()).drop_nulls(["district", "family_key"])
    links.append(
        unplaced.join(per_person.drop_nulls(["district", "family_key"]), on=["district", "family_key"]).select(
            pl.col("person").alias("a"), pl.col("person_right").alias("b")
        )
    )
    found = components(per_person["person"], pl.concat(links))
    return per_person.join(found, left_on="person", right_on="node").rename({"component": "household"})


def _stable_ids(rows: pl.DataFrame) -> pl.DataFrame:
    """(household, household_id): an id made of the rows a household holds, the same on the same records."""
    held = rows.group_by("household").agg(pl.col("row_digest").sort().str.join(","))
    return held.with_columns(
        pl.col("row_digest")
        .map_elements(lambda t: "H" + hashlib.sha256(t.encode()).hexdigest()[:10].upper(), return_dtype=pl.String)
        .alias("household_id")
    ).drop("row_digest")


def _records(rows: pl.DataFrame, table: str) -> pl.DataFrame:
    """The unmatched rows of one table as its typed records, keyed to their person."""
    contract = contracts()[table]
    own = [c for c in contract.columns if c != "person_id"]
    dtypes = {"date": pl.Date, "int": pl.Int64}
    mine = rows.filter(pl.col("table_name") == table)
    decoded = mine.select(
        pl.col("person").alias("person_id"),
        "source",
        "row_number",
        pl.col("payload").str.json_decode(pl.Struct({c: pl.String for c in own})).alias("__p"),
    ).unnest("__p")
    return decoded.with_columns(
        pl.col(c).str.to_date("%Y-%m-%d", strict=False)
        if contract.columns[c].type == "date"
        else pl.col(c).cast(dtypes.get(contract.columns[c].type, pl.String), strict=False)
        for c in own
    )


def _tables(rows: pl.DataFrame, households: pl.DataFrame, terms: pl.DataFrame, as_of: dt.date) -> dict:
    """The households as families attached on `as_of`, with their people and records, as the engine reads them."""
    contract = contracts()
    families = (
        households.select(pl.col("household").alias("family_id"))
        .unique()
        .with_columns(
            pl.lit(as_of).alias("attachment_date"),
            pl.lit(None, pl.String).alias("keyworker_id"),
            pl.lit(None, pl.Date).alias("closure_date"),
        )
    )
    members = (
        rows.group_by("person")
        .agg(
            _mode(pl.col("date_of_birth").str.to_date(strict=False)).alias("date_of_birth"),
            _mode(pl.col("sex")).alias("sex"),
        )
        .join(households.select("person", "household"), on="person")
        .select(pl.col("person").alias("person_id"), pl.col("household").alias("family_id"), "date_of_birth", "sex")
    )
    tables = {"families": families, "members": members, "terms": terms}
    for table in RECORD_TABLES:
        tables[table] = _records(rows, table).select(list(contract[table].columns))
    for table in ("assessments", "milestones", "grant_payments"):
        tables[table] = pl.DataFrame(schema={c: pl.String for c in contract[table].columns})
    tables["assessments"] = tables["assessments"].with_columns(
        pl.col("assessment_date").cast(pl.Date), pl.col("score").cast(pl.Decimal(38, 9))
    )
    tables["milestones"] = tables["milestones"].with_columns(pl.col("milestone_date").cast(pl.Date))
    return tables


def identify(store: Store, plan: Plan, config: MatchingConfig, as_of: dt.date) -> Identification:
    """The households of people no member matched, each decided as a family attached on `as_of` would be."""
    from pbr.engine.decide import decide

    rows = unmatched_rows(store)
    if not rows.height:
        return Identification(as_of, pl.DataFrame(schema=HOUSEHOLD_SCHEMA), pl.DataFrame(schema=EVIDENCE_SCHEMA))
    rows = rows.join(_people(rows, config), on="row_digest")
    households = _households(rows)
    rows = rows.join(households.select("person", "household"), on="person")
    ids = _stable_ids(rows)
    households = households.join(ids, on="household").with_columns(pl.col("household_id").alias("household"))
    rows = rows.join(ids, on="household").with_columns(pl.col("household_id").alias("household"))
    terms = store.read(
        text("SELECT term_id, start_date, end_date FROM terms"),
        schema={"term_id": pl.String, "start_date": pl.Date, "end_date": pl.Date},
    )
    tables = _tables(rows, households, terms, as_of)
    decided = decide(plan, tables, as_of, forecast=False)
    people = (
        rows.group_by("household", "person")
        .agg(*[_mode(pl.col(c)).alias(c) for c in IDENTITY])
        .select(list(PEOPLE_SCHEMA))
        .cast(PEOPLE_SCHEMA)
        .sort("household", "person")
    )
    return Identification(
        as_of,
        _listed(rows, households, decided.decisions),
        _evidence(rows, decided.flagged, plan, as_of, terms),
        people,
    )


def _listed(rows: pl.DataFrame, households: pl.DataFrame, decisions: pl.DataFrame) -> pl.DataFrame:
    """One row per household, the would-be-eligible first, strongest (most themes, then most rows) first."""
    held = (
        rows.sort("source", "row_number")
        .group_by("household")
        .agg(
            pl.col("person").n_unique().alias("people"),
            (pl.col("source") + pl.lit(":") + pl.col("row_number").cast(pl.String)).str.join(";").alias("rows"),
            pl.len().alias("row_count"),
        )
    )
    labels = households.group_by("household").agg(
        _mode(pl.col("family_name")).alias("family_name"),
        _mode(pl.col("postcode")).alias("postcode"),
        _mode(pl.col("uprn")).alias("uprn"),
    )
    decided = decisions.select(pl.col("family_id").alias("household"), "eligible", "themes_at_attachment")
    return (
        held.join(labels, on="household")
        .join(decided, on="household", how="left")
        .with_columns(
            pl.col("eligible").fill_null(False),
            pl.col("themes_at_attachment").fill_null("").alias("themes"),
        )
        .with_columns(
            pl.when(pl.col("themes") == "")
            .then(0)
            .otherwise(pl.col("themes").str.count_matches(";") + 1)
            .alias("strength")
        )
        .sort(["eligible", "strength", "row_count", "household"], descending=[True, True, True, False])
        .select(*HOUSEHOLD_COLUMNS, "strength")
        .cast(HOUSEHOLD_SCHEMA)
    )


def _rule_records(rule, theme: str, terms: pl.DataFrame, as_of: dt.date) -> pl.Expr:
    """Which of a person's records a criterion of a theme looks at: those that can make it fire."""
    if rule.kind == "attendance_below":
        measured = terms.filter(pl.col("end_date") <= as_of).sort("end_date").tail(rule["terms"])["term_id"]
        absent = pl.col("unauthorised") + (pl.col("authorised") if rule["absence"] != "unauthorised" else 0)
        high = absent * 100 >= pl.col("possible") * float(rule["min_absence_percent"])
        return (pl.col("table_name") == "attendance") & pl.col("term").is_in(measured.implode()) & high
    kinds = {
        "recorded_indicator": ("indicators", pl.col("what").str.starts_with(theme + ".")),
        "event_count": ("events", pl.col("what").is_in(list(rule.params.get("event_types") or []))),
        "episode_open": ("episodes", pl.col("what").is_in(list(rule.params.get("episode_types") or []))),
    }
    table, matches = kinds.get(rule.kind, ("", pl.lit(False)))
    return (pl.col("table_name") == table) & matches


def _evidence(
    rows: pl.DataFrame, flagged: pl.DataFrame, plan: Plan, as_of: dt.date, terms: pl.DataFrame
) -> pl.DataFrame:
    """For each theme a household shows, the partner rows of its flagged people that the theme's criteria read,
    from the lookback window up to `as_of`, each in words."""
    from pbr.periods import add_months

    described = rows.with_columns(
        pl.col("payload")
        .str.json_path_match("$.event_type")
        .fill_null(pl.col("payload").str.json_path_match("$.episode_type"))
        .fill_null(pl.col("payload").str.json_path_match("$.indicator"))
        .alias("what"),
        pl.coalesce(
            [pl.col("payload").str.json_path_match(f"$.{c}") for c in ("event_date", "start_date", "identified_date")]
        )
        .str.to_date(strict=False)
        .alias("day"),
        pl.col("payload").str.json_path_match("$.term_id").alias("term"),
        *[
            pl.col("payload").str.json_path_match(f"$.{c}").cast(pl.Int64, strict=False).alias(name)
            for c, name in (
                ("possible_sessions", "possible"),
                ("authorised_absence", "authorised"),
                ("unauthorised_absence", "unauthorised"),
            )
        ],
    )
    since = dt.date.fromordinal(1) if plan.eligibility_lookback_months is None else None
    window_start = (
        pl.lit(as_of).pipe(lambda d: add_months(d, -plan.eligibility_lookback_months))
        if since is None
        else pl.lit(since)
    )
    parts = []
    for theme in plan.themes:
        chosen = flagged.filter(pl.col("theme") == theme.code)
        if not chosen.height:
            continue
        for rule in theme.eligibility:
            mine = described.join(
                chosen.select(pl.col("family_id").alias("household"), pl.col("person_id").alias("person")).unique(),
                on=["household", "person"],
            )
            found = mine.filter(
                _rule_records(rule, theme.code, terms, as_of)
                & (pl.col("day").is_null() | ((pl.col("day") > window_start) & (pl.col("day") <= pl.lit(as_of))))
            )
            parts.append(
                found.select(
                    "household",
                    pl.lit(theme.code).alias("theme"),
                    pl.lit(rule.label("eligibility")).alias("criterion"),
                    "source",
                    pl.col("row_number").alias("row"),
                    pl.when(pl.col("term").is_not_null())
                    .then(
                        pl.format(
                            "term {}: {} of {} sessions missed",
                            "term",
                            pl.col("authorised") + pl.col("unauthorised"),
                            "possible",
                        )
                    )
                    .otherwise(pl.col("what") + pl.lit(" on ") + pl.col("day").cast(pl.String))
                    .alias("record"),
                )
            )
    if not parts:
        return pl.DataFrame(schema=EVIDENCE_SCHEMA)
    return pl.concat(parts).unique().sort("household", "theme", "source", "row").cast(EVIDENCE_SCHEMA)
