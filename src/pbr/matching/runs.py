"""`pbr match`: partner rows scored against the members held, decided, kept, and the linked ones loaded as records
through the same path as any feed (matching.md).

A row sent before keeps what it became when that was a link or a person's decision; a row whose `partner_ref`
its partner sent before, linked, links to the same member; every other good row is scored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from sqlalchemy import select, text, update

from pbr.feeds.ingest import hold_quarantine, known_ids, store_records
from pbr.matching.decide import decide
from pbr.matching.identity import comparable
from pbr.matching.model import score
from pbr.matching.rows import PartnerRead, read_partner_files
from pbr.matching_config import MatchingConfig
from pbr.store import Store, insert_frame, read_through_cursor
from pbr.store.models import IngestRun, MatchRun, PartnerRow

SYSTEM = "pbr"  # who made an automatic decision
STATUSES = ("linked", "review", "unmatched", "quarantined")
MEMBER_SCHEMA = {
    "person_id": pl.String,
    "given_name": pl.String,
    "family_name": pl.String,
    "date_of_birth": pl.Date,
    "sex": pl.String,
    "postcode": pl.String,
    "uprn": pl.String,
}
CARRIED = ["status", "person_id", "best_person_id", "match_probability", "match_weight", "second_weight"]
CARRIED += ["candidates", "reason", "link_id", "record_key", "decided_by", "decided_at", "note"]


@dataclass
class FileOutcome:
    source: str
    table: str
    rows_read: int = 0
    linked: int = 0
    review: int = 0
    unmatched: int = 0
    quarantined: int = 0
    loaded: int = 0  # records new or changed in the table
    rejected: str | None = None


@dataclass
class MatchReport:
    files: list[FileOutcome]
    ignored: list[str] = field(default_factory=list)
    run_id: int | None = None
    trained: str = ""
    members: int = 0

    def total(self, status: str) -> int:
        return sum(getattr(f, status) for f in self.files if not f.rejected)

    def summary(self) -> str:
        return ", ".join(f"{status} {self.total(status)} rows" for status in STATUSES)


def member_identities(store: Store) -> pl.DataFrame:
    return store.read(
        text("SELECT person_id, given_name, family_name, date_of_birth, sex, postcode, uprn FROM members"),
        schema=MEMBER_SCHEMA,
    )


def _prior(connection, sources: list[str]) -> pl.DataFrame:
    """What the latest load of each source made of its rows, by row digest."""
    rows = PartnerRow.__table__
    query = select(rows.c.row_digest, *[rows.c[c] for c in CARRIED]).where(rows.c.source.in_(sources), rows.c.latest)
    schema = {"row_digest": pl.String, **{c: pl.String for c in CARRIED}}
    schema.update(match_probability=pl.Float64, match_weight=pl.Float64, second_weight=pl.Float64)
    schema["decided_at"] = pl.Datetime("us", "UTC")
    found = connection.execute(query).all()
    return pl.DataFrame([tuple(r) for r in found], schema=schema, orient="row").unique("row_digest", keep="first")


def _sticky(connection, sources: list[str]) -> pl.DataFrame:
    """(source, partner_ref, person_id) where the latest decision under that reference was a link."""
    found = connection.execute(
        text(
            "SELECT source, partner_ref, status, person_id, decided_at, id FROM partner_rows "
            "WHERE partner_ref IS NOT NULL AND decided_at IS NOT NULL"
        )
    ).all()
    frame = pl.DataFrame(
        [tuple(r) for r in found if r[0] in sources],
        schema=["source", "partner_ref", "status", "sticky_person", "decided_at", "id"],
        orient="row",
    )
    if not frame.height:
        return pl.DataFrame(schema={"source": pl.String, "partner_ref": pl.String, "sticky_person": pl.String})
    latest = frame.sort("decided_at", "id").group_by("source", "partner_ref").last()
    return latest.filter(pl.col("status") == "linked").select("source", "partner_ref", "sticky_person")


def _link_id(run_id: int) -> pl.Expr:
    text_ = pl.lit(f"{run_id}\x1f") + pl.col("row_digest") + pl.lit("\x1f") + pl.col("person_id").fill_null("")
    return pl.when(pl.col("status") == "linked").then(
        pl.lit("L") + text_.map_elements(lambda t: hashlib.sha256(t.encode()).hexdigest()[:12], return_dtype=pl.String)
    )


def _scored(rows: pl.DataFrame, members: pl.DataFrame, config: MatchingConfig, train: bool | None):
    """Decided rows (row_digest, status, person_id, ... candidates) for the rows to score, and the model."""
    to_score = rows.with_columns(pl.col("date_of_birth").str.to_date(strict=False))
    left = comparable(members, "person_id", config.variants)
    right = comparable(to_score, "row_digest", config.variants)
    scores = score(left, right, config, train)
    groups = to_score.select(
        pl.col("row_digest").alias("row_id"),
        pl.when(pl.col("partner_ref").is_not_null())
        .then(pl.col("source") + pl.lit("\x1f") + pl.col("partner_ref"))
        .otherwise(pl.col("row_digest"))
        .alias("group"),
    )
    decided = decide(scores.pairs, groups, config)
    return decided.rename({"row_id": "row_digest"}).join(
        candidate_lists(scores.pairs, groups), on="row_digest", how="left"
    ), scores


def candidate_lists(pairs: pl.DataFrame, groups: pl.DataFrame, kept: int = 3) -> pl.DataFrame:
    """(row_digest, candidates): each row's best candidates for its group, as JSON with each field's level."""
    from pbr.matching.decide import candidates

    ranked = candidates(pairs, groups).filter(pl.col("rank") < kept)
    per_group = ranked.group_by("group", maintain_order=True).agg(
        pl.struct(
            "person_id",
            pl.col("match_probability").round(6).alias("probability"),
            pl.col("match_weight").round(3).alias("weight"),
            *[pl.col(c) for c in ranked.columns if c.startswith("gamma_")],
        ).alias("candidates")
    )
    return (
        groups.join(per_group, on="group", how="inner")
        .select(pl.col("row_id").alias("row_digest"), pl.col("candidates").list.eval(pl.element().struct.json_encode()))
        .with_columns((pl.lit("[") + pl.col("candidates").list.join(",") + pl.lit("]")).alias("candidates"))
    )


def _carried(rows: pl.DataFrame, prior: pl.DataFrame, members: pl.DataFrame) -> pl.DataFrame:
    """The good rows that keep what they became before: a link to a member still held, or a person's decision."""
    joined = rows.join(prior, on="row_digest", how="inner")
    kept_link = (pl.col("status") == "linked") & pl.col("person_id").is_in(members["person_id"].implode())
    by_person = pl.col("decided_by").is_not_null() & (pl.col("decided_by") != SYSTEM) & (pl.col("status") != "linked")
    return joined.filter(kept_link | by_person)


def _by_reference(rows: pl.DataFrame, sticky: pl.DataFrame, members: pl.DataFrame) -> pl.DataFrame:
    """Rows whose partner linked the same reference before: linked to that member again."""
    again = rows.join(sticky, on=["source", "partner_ref"], how="inner").filter(
        pl.col("sticky_person").is_in(members["person_id"].implode())
    )
    return again.select(
        pl.exclude("sticky_person"),
        pl.lit("linked").alias("status"),
        pl.col("sticky_person").alias("person_id"),
        pl.col("sticky_person").alias("best_person_id"),
        pl.lit("linked before under the partner's reference for the person").alias("reason"),
    )


def _attendance_conflicts(connection, linked: pl.DataFrame, typed: pl.DataFrame) -> pl.DataFrame:
    """(row_digest, conflict) for linked attendance rows that would replace another source's term of attendance
    with other values, or that give a term another row of the load gives too."""
    rows = linked.filter(pl.col("table_name") == "attendance")
    if not rows.height:
        return pl.DataFrame(schema={"row_digest": pl.String, "conflict": pl.String})
    mine = rows.select("row_digest", "source", "row_number", "person_id").join(
        typed.select(
            "source", "row_number", "term_id", "possible_sessions", "authorised_absence", "unauthorised_absence"
        ),
        on=["source", "row_number"],
    )
    held = read_through_cursor(
        connection,
        text(
            "SELECT person_id, term_id, source AS held_source, possible_sessions AS p, authorised_absence AS a, "
            "unauthorised_absence AS u FROM attendance"
        ),
        {
            "person_id": pl.String,
            "term_id": pl.String,
            "held_source": pl.String,
            "p": pl.Int64,
            "a": pl.Int64,
            "u": pl.Int64,
        },
    )
    clash = (
        mine.join(held, on=["person_id", "term_id"], how="inner")
        .filter(
            (pl.col("held_source") != pl.col("source"))
            & (
                (pl.col("p") != pl.col("possible_sessions"))
                | (pl.col("a") != pl.col("authorised_absence"))
                | (pl.col("u") != pl.col("unauthorised_absence"))
            )
        )
        .select(
            "row_digest",
            (
                pl.lit("the member's attendance for this term is held from ")
                + pl.col("held_source")
                + pl.lit(" with other values: a person decides which stands")
            ).alias("conflict"),
        )
    )
    twice = (
        mine.sort("row_number")
        .filter(pl.int_range(pl.len()).over("person_id", "term_id") > 0)
        .select(
            "row_digest",
            pl.lit("another row of this load gives the member's attendance for this term").alias("conflict"),
        )
    )
    return pl.concat([clash, twice]).unique("row_digest", keep="first")


@dataclass
class _Run:
    """One match run being decided: its rows so far and what scored them."""

    read: PartnerRead
    members: pl.DataFrame
    trained: str = "no row needed scoring"
    model_json: str = "{}"
    thresholds: dict = field(default_factory=dict)


def _decide_rows(connection, run: _Run, config: MatchingConfig, train: bool | None) -> pl.DataFrame:
    """Every row read with what it becomes now (the CARRIED columns)."""
    rows = run.read.rows
    sources = rows["source"].unique().to_list()
    bad = rows.filter(pl.col("reason").is_not_null()).with_columns(pl.lit("quarantined").alias("status"))
    good = rows.filter(pl.col("reason").is_null()).drop("reason")
    carried = _carried(good, _prior(connection, sources), run.members)
    rest = good.join(carried.select("row_digest"), on="row_digest", how="anti")
    again = _by_reference(rest, _sticky(connection, sources), run.members)
    rest = rest.join(again.select("row_digest"), on="row_digest", how="anti")
    parts = [bad, carried, again]
    if rest.height:
        decided, scores = _scored(rest, run.members, config, train)
        run.trained, run.model_json = scores.trained, scores.model_json
        parts.append(rest.join(decided, on="row_digest", how="left"))
    every = pl.concat(parts, how="diagonal_relaxed")
    new_links = every.filter((pl.col("status") == "linked") & pl.col("record_key").is_null())
    typed = run.read.typed.get("attendance")
    if typed is not None and new_links.height:
        conflicts = _attendance_conflicts(connection, new_links, typed)
        every = (
            every.join(conflicts, on="row_digest", how="left")
            .with_columns(
                pl.when(pl.col("conflict").is_not_null())
                .then(pl.lit("review"))
                .otherwise(pl.col("status"))
                .alias("status"),
                pl.coalesce("conflict", "reason").alias("reason"),
            )
            .with_columns(
                pl.when(pl.col("conflict").is_not_null()).then(None).otherwise(pl.col("person_id")).alias("person_id")
            )
            .drop("conflict")
        )
    return every


def _record_keys(every: pl.DataFrame) -> pl.Expr:
    """The key of the record a linked row is loaded as: its own digest (keyless tables), or member and term."""
    keyless = (pl.col("source") + pl.lit("\x1e") + pl.col("row_digest")).map_elements(
        lambda t: hashlib.sha256(t.encode()).hexdigest(), return_dtype=pl.String
    )
    own_key = (
        pl.when(pl.col("table_name") == "attendance")
        .then(pl.col("person_id") + pl.lit("|") + pl.col("payload").str.json_path_match("$.term_id"))
        .otherwise(keyless)
    )
    return pl.when(pl.col("status") == "linked").then(pl.coalesce("record_key", own_key))


def _records_of(every: pl.DataFrame, typed: dict[str, pl.DataFrame], table: str, source: str) -> pl.DataFrame:
    """The linked rows of one source as typed records of its table, each with its person and record key."""
    from pbr.contract import contracts

    linked = every.filter((pl.col("source") == source) & (pl.col("status") == "linked"))
    columns = list(contracts()[table].columns)
    records = typed[table].join(
        linked.select("source", "row_number", "person_id", "record_key"), on=["source", "row_number"], how="inner"
    )
    if table == "attendance":
        return records.select(columns)
    return records.select(*columns, "record_key")


def _store_run(connection, store: Store, run: _Run, every: pl.DataFrame, actor: str, started) -> MatchReport:
    """The run, its rows and its linked records written in the caller's transaction; the report of it."""
    runs = MatchRun.__table__
    counts = {s: every.filter(pl.col("status") == s).height for s in STATUSES}
    run_id = connection.execute(
        runs.insert().values(
            started_at=started,
            actor=actor,
            members=run.members.height,
            trained=run.trained,
            model_json=run.model_json,
            thresholds=json.dumps(run.thresholds),
            rows_read=every.height,
            **counts,
        )
    ).inserted_primary_key[0]
    every = (
        every.with_columns(_record_keys(every).alias("record_key"))
        .with_columns(_link_id(run_id).alias("new_link_id"))
        .with_columns(
            pl.coalesce("link_id", "new_link_id").alias("link_id"),
            pl.when(pl.col("decided_by").is_null() & (pl.col("status") != "quarantined"))
            .then(pl.lit(SYSTEM))
            .otherwise(pl.col("decided_by"))
            .alias("decided_by"),
        )
        .with_columns(
            pl.when(pl.col("decided_at").is_null() & pl.col("decided_by").is_not_null())
            .then(pl.lit(started))
            .otherwise(pl.col("decided_at"))
            .alias("decided_at")
        )
    )
    sources = every["source"].unique().to_list()
    table = PartnerRow.__table__
    connection.execute(update(table).where(table.c.source.in_(sources), table.c.latest).values(latest=False))
    columns = [c.name for c in table.columns if c.name not in ("id", "run_id", "latest", "read_at", "version")]
    absent = [pl.lit(None, pl.String).alias(c) for c in columns if c not in every.columns]
    insert_frame(
        connection,
        table,
        every.with_columns(absent).select(columns),
        {"run_id": run_id, "latest": True, "read_at": started, "version": 0},
    )
    outcomes = []
    for report in run.read.files:
        outcome = FileOutcome(report.source, report.table, report.rows_read, rejected=report.rejected)
        if not report.rejected:
            mine = every.filter(pl.col("source") == report.source)
            for status in STATUSES:
                setattr(outcome, status, mine.filter(pl.col("status") == status).height)
            outcome.loaded = _load_source(connection, run, every, report, run_id, started)
        outcomes.append(outcome)
    store.audit(
        connection,
        actor,
        "match",
        "match_run",
        str(run_id),
        json.dumps({"files": [o.source for o in outcomes], **counts}),
    )
    return MatchReport(outcomes, run.read.ignored, run_id, run.trained, run.members.height)


def _load_source(connection, run: _Run, every: pl.DataFrame, report, run_id: int, started) -> int:
    """A source's linked rows loaded as records, its bad rows held, under an ingest run of its own."""
    runs = IngestRun.__table__
    mine = every.filter(pl.col("source") == report.source)
    load_id = connection.execute(
        runs.insert().values(
            batch=f"match-{run_id}",
            source=report.source,
            table_name=report.table,
            file_path=report.source,
            sha256=report.sha256,
            started_at=started,
            finished_at=started,
            rows_read=report.rows_read,
            status="matched",
            quarantined=mine.filter(pl.col("status") == "quarantined").height,
        )
    ).inserted_primary_key[0]
    records = _records_of(every, run.read.typed, report.table, report.source)
    loaded = store_records(connection, load_id, report.table, report.source, records) if records.height else 0
    linked = mine.filter(pl.col("status") == "linked").height
    connection.execute(update(runs).where(runs.c.id == load_id).values(loaded=loaded, unchanged=linked - loaded))
    hold_quarantine(connection, load_id, report.source, run.read.quarantine)
    return loaded


def match_files(
    store: Store,
    path: str | Path,
    config: MatchingConfig,
    themes: list[str],
    today,
    vocabularies: dict,
    actor: str = SYSTEM,
    train: bool | None = None,
    now: Callable | None = None,
) -> MatchReport:
    """Match the partner files at `path` against the members held, and keep what each row became."""
    from pbr.periods import utc_now

    started = (now or utc_now)()
    read = read_partner_files(path, themes, today, known_ids(store), vocabularies)
    run = _Run(read, member_identities(store))
    run.thresholds = {
        "link_probability": config.link_probability,
        "clear_ahead_bits": config.clear_ahead_bits,
        "review_probability": config.review_probability,
        "configuration": config.source,
    }
    if not read.rows.height:
        return MatchReport(
            [FileOutcome(f.source, f.table, f.rows_read, rejected=f.rejected) for f in read.files],
            read.ignored,
            None,
            run.trained,
            run.members.height,
        )
    with store.writing() as connection:
        every = _decide_rows(connection, run, config, train)
        return _store_run(connection, store, run, every, actor, started)
