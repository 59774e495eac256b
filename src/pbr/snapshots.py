"""What changed between two of the nightly decision snapshots: families that became claimable, stopped being
claimable, changed route, or were held or released by quarantine, so a coordinator sees it before a claim window."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import select

from pbr.store import Store
from pbr.store.models import DecisionSnapshot, DecisionSnapshotRow

SNAPSHOTS = DecisionSnapshot.__table__
ROWS = DecisionSnapshotRow.__table__
STATE = ("eligible", "claimable", "claim_route", "held", "earliest_claimable_date")


class SnapshotError(ValueError):
    """No such snapshot, or too few to compare."""


@dataclass(frozen=True)
class Changes:
    before: dict
    after: dict
    families: pl.DataFrame  # family_id, change, then each STATE column before and after

    @property
    def plan_changed(self) -> bool:
        return self.before["plan_sha256"] != self.after["plan_sha256"]


def list_snapshots(store: Store) -> pl.DataFrame:
    with store.engine.connect() as connection:
        rows = connection.execute(select(SNAPSHOTS).order_by(SNAPSHOTS.c.id)).mappings().all()
    schema = {
        "id": pl.Int64,
        "as_of": pl.Date,
        "taken_at": pl.Datetime("us", "UTC"),
        "plan_sha256": pl.String,
        "families": pl.Int64,
        "eligible": pl.Int64,
        "claimable": pl.Int64,
    }
    return pl.DataFrame([dict(r) for r in rows], schema=schema, orient="row")


def _snapshot(store: Store, snapshot_id: int) -> pl.DataFrame:
    with store.engine.connect() as connection:
        rows = connection.execute(select(ROWS).where(ROWS.c.snapshot_id == snapshot_id)).mappings().all()
    frame = pl.DataFrame(
        [dict(r) for r in rows],
        schema={
            "snapshot_id": pl.Int64,
            "family_id": pl.String,
            "eligible": pl.Boolean,
            "ssp_met": pl.Boolean,
            "ce_met": pl.Boolean,
            "claimable": pl.Boolean,
            "claim_route": pl.String,
            "earliest_claimable_date": pl.Date,
            "quarantined_records": pl.Int64,
        },
        orient="row",
    )
    return frame.select(
        "family_id",
        "eligible",
        "claimable",
        pl.col("claim_route").fill_null(""),
        (pl.col("quarantined_records") > 0).alias("held"),
        "earliest_claimable_date",
    )


def changes(store: Store, before_id: int | None = None, after_id: int | None = None) -> Changes:
    """Families whose decision differs between two snapshots (default: the latest and the one before it)."""
    listed = list_snapshots(store)
    ids = listed["id"].to_list()
    after_id = after_id if after_id is not None else (ids[-1] if ids else None)
    if after_id not in ids:
        raise SnapshotError(
            f"no snapshot {after_id}"
            if after_id is not None
            else "no snapshots yet: the scheduler's nightly evaluation takes one each night"
        )
    if before_id is None:
        earlier = [i for i in ids if i < after_id]
        if not earlier:
            raise SnapshotError(f"snapshot {after_id} is the first: there is nothing before it to compare with")
        before_id = earlier[-1]
    if before_id not in ids:
        raise SnapshotError(f"no snapshot {before_id}")
    old, new = _snapshot(store, before_id), _snapshot(store, after_id)
    both = old.join(new, on="family_id", how="full", suffix="_after", coalesce=True)
    was, now = pl.col("claimable"), pl.col("claimable_after")
    route, route_after = pl.col("claim_route"), pl.col("claim_route_after")
    change = (
        pl.when(pl.col("eligible").is_null())
        .then(pl.lit("new family"))
        .when(pl.col("eligible_after").is_null())
        .then(pl.lit("no longer in the records"))
        .when(~was & now)
        .then(pl.lit("became claimable (") + route_after + pl.lit(")"))
        .when(was & ~now)
        .then(pl.lit("no longer claimable (was ") + route + pl.lit(")"))
        .when(was & now & (route != route_after))
        .then(pl.lit("route ") + route + pl.lit(" -> ") + route_after)
        .when(~pl.col("eligible") & pl.col("eligible_after"))
        .then(pl.lit("became eligible"))
        .when(pl.col("eligible") & ~pl.col("eligible_after"))
        .then(pl.lit("no longer eligible"))
        .when(~pl.col("held") & pl.col("held_after"))
        .then(pl.lit("held by quarantine"))
        .when(pl.col("held") & ~pl.col("held_after"))
        .then(pl.lit("released from quarantine"))
        .when(pl.col("earliest_claimable_date").ne_missing(pl.col("earliest_claimable_date_after")))
        .then(pl.lit("forecast moved"))
    )
    found = (
        both.with_columns(change.alias("change"))
        .filter(pl.col("change").is_not_null())
        .select("family_id", "change", *[c for s in STATE for c in (s, f"{s}_after")])
        .sort("family_id")
    )
    row = {r["id"]: r for r in listed.iter_rows(named=True)}
    return Changes(row[before_id], row[after_id], found)


def family_history(store: Store, family_id: str) -> pl.DataFrame:
    """One family's decision in every stored snapshot, oldest first, with a change marked where it moved."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(
                SNAPSHOTS.c.id,
                SNAPSHOTS.c.as_of,
                ROWS.c.eligible,
                ROWS.c.claimable,
                ROWS.c.claim_route,
                ROWS.c.earliest_claimable_date,
                ROWS.c.quarantined_records,
            )
            .join(ROWS, ROWS.c.snapshot_id == SNAPSHOTS.c.id)
            .where(ROWS.c.family_id == family_id)
            .order_by(SNAPSHOTS.c.id)
        ).all()
    frame = pl.DataFrame(
        rows,
        schema={
            "snapshot": pl.Int64,
            "as_of": pl.Date,
            "eligible": pl.Boolean,
            "claimable": pl.Boolean,
            "claim_route": pl.String,
            "earliest_claimable_date": pl.Date,
            "quarantined_records": pl.Int64,
        },
        orient="row",
    )
    state = pl.concat_str(
        [
            pl.col(c).cast(pl.String).fill_null("")
            for c in ("eligible", "claimable", "claim_route", "earliest_claimable_date", "quarantined_records")
        ],
        separator="|",
    )
    return frame.with_columns(changed=(state != state.shift(1)).fill_null(True))
