"""The review queue and a person's decisions on partner rows: accept for a member, reject, unlink (matching.md).

Each decision is one conditional update of the row (its status and version as the person saw them), the
records it loads or removes, and an audit entry, in one transaction: two people deciding one row at once
cannot both win, and the one who loses is told who did.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import polars as pl
from sqlalchemy import delete, select, text, update

from pbr.contract import contracts
from pbr.feeds.ingest import store_records
from pbr.matching.model import COMPARISONS
from pbr.matching.rows import IDENTITY
from pbr.matching_config import MatchingConfig
from pbr.store import Store
from pbr.store.models import FEED_MODELS, IngestRun, Member, PartnerRow


class ReviewError(ValueError):
    """A decision that cannot be made as asked; the message says why."""


class DecidedMeanwhile(ReviewError):
    """Someone else decided the row first."""


@dataclass(frozen=True)
class Field:
    comparison: str
    kind: str  # agreed, close, disagreed, missing
    words: str


@dataclass(frozen=True)
class Candidate:
    person_id: str
    family_id: str | None
    probability: float
    fields: tuple[Field, ...]
    identity: dict  # the member's name, date of birth, sex, postcode, uprn


@dataclass(frozen=True)
class QueuedRow:
    id: int
    source: str
    row_number: int
    table_name: str
    status: str
    reason: str | None
    probability: float | None
    identity: dict
    record: dict
    candidates: tuple[Candidate, ...]
    version: int


def fields_of(candidate: dict, config: MatchingConfig) -> tuple[Field, ...]:
    """Each comparison's level for one candidate, in words."""
    found = []
    for name in COMPARISONS:
        gamma = candidate.get(f"gamma_{name}")
        if gamma is None:
            continue
        level = config.level(name, int(gamma))
        found.append(Field(name, level.kind, level.words))
    return tuple(found)


def _members(connection, ids: list[str]) -> dict[str, dict]:
    if not ids:
        return {}
    members = Member.__table__
    rows = connection.execute(
        select(members.c.person_id, members.c.family_id, *[members.c[c] for c in IDENTITY if c in members.c]).where(
            members.c.person_id.in_(ids)
        )
    ).mappings()
    return {r["person_id"]: dict(r) for r in rows}


def _queued(row, members: dict[str, dict], config: MatchingConfig) -> QueuedRow:
    candidates = []
    for found in json.loads(row["candidates"] or "[]"):
        member = members.get(found["person_id"], {})
        candidates.append(
            Candidate(
                found["person_id"],
                member.get("family_id"),
                float(found["probability"]),
                fields_of(found, config),
                {c: member.get(c) for c in IDENTITY if c in member},
            )
        )
    return QueuedRow(
        row["id"],
        row["source"],
        row["row_number"],
        row["table_name"],
        row["status"],
        row["reason"],
        row["match_probability"],
        {c: row[c] for c in IDENTITY},
        json.loads(row["payload"] or "{}"),
        tuple(candidates),
        row["version"],
    )


def review_queue(
    store: Store, config: MatchingConfig, source: str | None = None, limit: int | None = None
) -> list[QueuedRow]:
    """The rows waiting for a person, by source, most probable first, each beside its candidates."""
    rows = PartnerRow.__table__
    query = select(rows).where(rows.c.latest, rows.c.status == "review")
    if source:
        query = query.where(rows.c.source == source)
    query = query.order_by(rows.c.source, rows.c.match_probability.desc().nulls_last(), rows.c.row_number)
    if limit:
        query = query.limit(limit)
    with store.engine.connect() as connection:
        found = connection.execute(query).mappings().all()
        ids = sorted({c["person_id"] for r in found for c in json.loads(r["candidates"] or "[]")})
        members = _members(connection, ids)
    return [_queued(r, members, config) for r in found]


def partner_row(store: Store, row_id: int, config: MatchingConfig) -> QueuedRow:
    rows = PartnerRow.__table__
    with store.engine.connect() as connection:
        found = connection.execute(select(rows).where(rows.c.id == row_id)).mappings().first()
        if found is None:
            raise ReviewError(f"no partner row {row_id}")
        ids = [c["person_id"] for c in json.loads(found["candidates"] or "[]")]
        return _queued(found, _members(connection, ids), config)


def typed_record(table: str, payload: dict, person_id: str) -> pl.DataFrame:
    """A partner row's own values (checked when it was read) as one typed record of `table`."""
    contract = contracts()[table]
    values = {**payload, "person_id": person_id}
    frame = pl.DataFrame(
        {c: [values.get(c)] for c in contract.columns}, schema={c: pl.String for c in contract.columns}
    )
    parse = {"date": lambda c: pl.col(c).str.to_date("%Y-%m-%d"), "int": lambda c: pl.col(c).cast(pl.Int64)}
    return frame.with_columns(parse[spec.type](spec.name) for spec in contract.columns.values() if spec.type in parse)


def record_key(source: str, row_digest: str, table: str, person_id: str, payload: dict) -> str:
    """The key of the record a linked row is loaded as (see `runs.record_keys`)."""
    import hashlib

    if table == "attendance":
        return f"{person_id}|{payload.get('term_id')}"
    return hashlib.sha256(f"{source}\x1e{row_digest}".encode()).hexdigest()


def _current(connection, row_id: int, statuses: tuple[str, ...], version: int | None, verb: str):
    rows = PartnerRow.__table__
    row = connection.execute(select(rows).where(rows.c.id == row_id)).mappings().first()
    if row is None:
        raise ReviewError(f"no partner row {row_id}")
    if version is not None and row["version"] != version:
        raise DecidedMeanwhile(
            f"row {row_id} ({row['source']} row {row['row_number']}) was decided by {row['decided_by']} meanwhile: "
            f"it is now {row['status']}"
        )
    if not row["latest"]:
        raise ReviewError(f"row {row_id} is from an earlier load of {row['source']}: decide the row of its latest load")
    if row["status"] not in statuses:
        raise ReviewError(f"row {row_id} is {row['status']}: only a row that is {' or '.join(statuses)} can be {verb}")
    return row


def _decide(connection, row, values: dict, by: str, at: dt.datetime) -> None:
    rows = PartnerRow.__table__
    done = connection.execute(
        update(rows)
        .where(rows.c.id == row["id"], rows.c.version == row["version"], rows.c.status == row["status"])
        .values(**values, decided_by=by, decided_at=at, version=row["version"] + 1)
    )
    if done.rowcount != 1:
        latest = connection.execute(select(rows.c.decided_by, rows.c.status).where(rows.c.id == row["id"])).first()
        raise DecidedMeanwhile(f"row {row['id']} was decided by {latest[0]} meanwhile: it is now {latest[1]}")


def _by(by: str) -> str:
    by = (by or "").strip()
    if not by:
        raise ReviewError("a decision names who made it (--by)")
    return by[:200]


def accept(
    store: Store,
    row_id: int,
    person_id: str,
    by: str,
    note: str | None = None,
    version: int | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Link a row waiting for review (or unmatched) to a member, and load it as that member's record."""
    by, at = _by(by), at or dt.datetime.now(dt.UTC)
    with store.writing() as connection:
        row = _current(connection, row_id, ("review", "unmatched"), version, "accepted")
        members = Member.__table__
        if connection.execute(select(members.c.person_id).where(members.c.person_id == person_id)).first() is None:
            raise ReviewError(f"no member {person_id}: accept a row for a member the database holds")
        payload = json.loads(row["payload"] or "{}")
        key = record_key(row["source"], row["row_digest"], row["table_name"], person_id, payload)
        _decide(
            connection,
            row,
            {
                "status": "linked",
                "person_id": person_id,
                "record_key": key,
                "note": note,
                "link_id": f"A{row_id}",
                "reason": None,
            },
            by,
            at,
        )
        runs = IngestRun.__table__
        load_id = connection.execute(
            runs.insert().values(
                batch=f"accept-{row_id}",
                source=row["source"],
                table_name=row["table_name"],
                file_path=row["source"],
                sha256=row["row_digest"],
                started_at=at,
                finished_at=at,
                rows_read=1,
                status="matched",
            )
        ).inserted_primary_key[0]
        record = typed_record(row["table_name"], payload, person_id)
        if row["table_name"] != "attendance":
            record = record.with_columns(pl.lit(key).alias("record_key"))
        loaded = store_records(connection, load_id, row["table_name"], row["source"], record)
        connection.execute(update(runs).where(runs.c.id == load_id).values(loaded=loaded, unchanged=1 - loaded))
        store.audit(
            connection,
            by,
            "match accept",
            "partner_row",
            str(row_id),
            json.dumps({"source": row["source"], "row": row["row_number"], "person_id": person_id, "note": note}),
        )


def reject(
    store: Store,
    row_id: int,
    by: str,
    note: str | None = None,
    version: int | None = None,
    at: dt.datetime | None = None,
) -> None:
    """A row waiting for review belongs to none of its candidates: it becomes unmatched."""
    by, at = _by(by), at or dt.datetime.now(dt.UTC)
    with store.writing() as connection:
        row = _current(connection, row_id, ("review",), version, "rejected")
        _decide(connection, row, {"status": "unmatched", "person_id": None, "note": note}, by, at)
        store.audit(
            connection,
            by,
            "match reject",
            "partner_row",
            str(row_id),
            json.dumps({"source": row["source"], "row": row["row_number"], "note": note}),
        )


def unlink(
    store: Store, row_id: int, by: str, reason: str, version: int | None = None, at: dt.datetime | None = None
) -> int:
    """A linked row's records removed and the row returned to review; returns how many records went."""
    by, at = _by(by), at or dt.datetime.now(dt.UTC)
    if not (reason or "").strip():
        raise ReviewError("an unlink says why (--reason)")
    with store.writing() as connection:
        row = _current(connection, row_id, ("linked",), version, "unlinked")
        removed = _remove_record(connection, row)
        _decide(
            connection,
            row,
            {
                "status": "review",
                "person_id": None,
                "record_key": None,
                "note": reason,
                "reason": f"unlinked from {row['person_id']} by {by}",
            },
            by,
            at,
        )
        store.audit(
            connection,
            by,
            "match unlink",
            "partner_row",
            str(row_id),
            json.dumps(
                {
                    "source": row["source"],
                    "row": row["row_number"],
                    "person_id": row["person_id"],
                    "reason": reason,
                    "records_removed": removed,
                }
            ),
        )
    return removed


def _remove_record(connection, row) -> int:
    """Delete the record a linked row was loaded as, keeping what it held in the corrections log."""
    from pbr.store.models import Correction

    model = FEED_MODELS[row["table_name"]].__table__
    if row["table_name"] == "attendance":
        person, term = (row["record_key"] or "|").split("|", 1)
        where = [model.c.person_id == person, model.c.term_id == term, model.c.source == row["source"]]
    else:
        where = [model.c.record_key == row["record_key"], model.c.source == row["source"]]
    held = connection.execute(select(model).where(*where)).mappings().all()
    for record in held:
        before = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in record.items()}
        connection.execute(
            Correction.__table__.insert().values(
                load_id=record["load_id"] or 0,
                table_name=row["table_name"],
                record_key=row["record_key"],
                before=json.dumps(before),
                after=json.dumps(None),
            )
        )
    connection.execute(delete(model).where(*where))
    return len(held)


def links(store: Store) -> pl.DataFrame:
    """One row per partner row of the latest load of each source, and what it became (matching.md)."""
    return store.read(
        text(
            "SELECT source, row_number AS row, status, person_id, match_probability, id AS row_id, table_name, "
            "link_id, decided_by, reason FROM partner_rows WHERE latest ORDER BY source, row_number"
        ),
        schema={
            "source": pl.String,
            "row": pl.Int64,
            "status": pl.String,
            "person_id": pl.String,
            "match_probability": pl.Float64,
            "row_id": pl.Int64,
            "table_name": pl.String,
            "link_id": pl.String,
            "decided_by": pl.String,
            "reason": pl.String,
        },
    )
