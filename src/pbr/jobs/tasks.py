"""What each scheduled job does. Each takes the configuration and the application context, returns counts for
the run log, and calls the layers below."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from pathlib import Path

import polars as pl
from sqlalchemy import delete, insert, select

from pbr import periods
from pbr.context import AppContext
from pbr.contract import contracts, table_for_stem
from pbr.feeds.read import file_sha256, is_lock_file, is_partner_file
from pbr.jobs.config import JobsConfig
from pbr.outputs import remove_stale_partials
from pbr.store import insert_frame
from pbr.store.models import DecisionSnapshot, DecisionSnapshotRow, IngestRun

FEED_SUFFIXES = {".csv", ".xlsx"}
STALE_PARTIAL_SECONDS = 600  # older than any write of a return takes


def ready_files(folder: Path, stable_seconds: float) -> list[Path]:
    """Complete files only: not `.part`, not hidden, and unchanged in size and time for `stable_seconds`."""
    if not folder.is_dir():
        return []
    now = time.time()
    ready = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        if path.name.startswith(".") or is_lock_file(path) or path.suffix.lower() not in FEED_SUFFIXES:
            continue
        first = path.stat()
        if now - first.st_mtime < stable_seconds:
            continue
        time.sleep(0.05)
        second = path.stat()
        if (first.st_size, first.st_mtime) == (second.st_size, second.st_mtime):
            ready.append(path)
    order = list(contracts())
    # the council's own feeds first, in load order; partner files after them, matched against the members loaded
    return sorted(
        ready,
        key=lambda p: (
            is_partner_file(p),
            order.index(table_for_stem(p.stem)) if table_for_stem(p.stem) in order else 99,
            p.name,
        ),
    )


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{periods.utc_now():%Y%m%dT%H%M%S}-{path.name}"
    shutil.move(str(path), target)
    return target


def _already_loaded(store, sha: str) -> bool:
    runs = IngestRun.__table__
    with store.engine.connect() as connection:
        return (
            connection.execute(
                select(runs.c.id).where((runs.c.sha256 == sha) & runs.c.status.in_(("loaded", "matched")))
            ).first()
            is not None
        )


def _reject(config: JobsConfig, path: Path, reasons: list[str]) -> None:
    moved = _move(path, config.inbox / "rejected")
    Path(str(moved) + ".reason.txt").write_text("\n".join(reasons) + "\n", encoding="utf-8")


def _match_partner_file(config: JobsConfig, ctx: AppContext, path: Path, counts: dict) -> None:
    from pbr.services import match_partner_files

    report = match_partner_files(ctx, path, actor="scheduler")
    counts["files"] += 1
    rejected = [f"{f.source}: {f.rejected}" for f in report.files if f.rejected]
    if rejected or not report.files:
        counts["rejected"] += 1
        _reject(config, path, rejected or [f"{path.name}: not a partner file"])
        return
    counts["matched"] += 1
    for name in ("linked", "review", "unmatched", "quarantined"):
        counts[name] += report.total(name)
    _move(path, config.inbox / "archive")


def inbox(config: JobsConfig, ctx: AppContext) -> dict:
    """Load every complete file of the inbox: the council's feeds by `ingest`, partner files by `match`."""
    from pbr.feeds.ingest import ingest

    store = ctx.store
    counts = {"files": 0, "loaded": 0, "quarantined": 0, "unchanged": 0, "retired": 0, "rejected": 0, "duplicates": 0}
    counts.update(matched=0, linked=0, review=0, unmatched=0)
    for path in ready_files(config.inbox, config.stable_seconds):
        if _already_loaded(store, file_sha256(path)):
            counts["duplicates"] += 1
            _move(path, config.inbox / "archive" / "duplicates")
            continue
        if is_partner_file(path):
            _match_partner_file(config, ctx, path, counts)
            continue
        result = ingest(
            path,
            store,
            ctx.plan.theme_codes,
            today=ctx.today(),
            complete=config.complete_extracts,
            vocabularies=ctx.vocabularies,
        )
        counts["files"] += 1
        if result.rejected or not result.files:
            counts["rejected"] += 1
            _reject(
                config,
                path,
                [f"{f.source}: {f.rejected}" for f in result.rejected] or [f"{path.name}: not a feed file"],
            )
            continue
        for name in ("loaded", "quarantined", "unchanged", "retired"):
            counts[name] += result.total(name)
        _move(path, config.inbox / "archive")
    return counts


def nightly_evaluation(config: JobsConfig, ctx: AppContext) -> dict:
    from pbr.evaluate import evaluate

    day, plan, store = ctx.today(), ctx.plan, ctx.store
    decisions = evaluate(as_of=day, plan=plan, store=store).decisions
    with store.engine.begin() as connection:
        snapshot = connection.execute(
            insert(DecisionSnapshot.__table__).values(
                as_of=day,
                taken_at=ctx.now(),
                plan_sha256=plan.sha256,
                families=decisions.height,
                eligible=decisions.filter(decisions["eligible"]).height,
                claimable=decisions.filter(decisions["claimable"]).height,
            )
        ).inserted_primary_key[0]
        rows = decisions.select(
            "family_id",
            "eligible",
            "ssp_met",
            "ce_met",
            "claimable",
            pl.col("claim_route").replace("", None),
            "earliest_claimable_date",
            "quarantined_records",
        )
        insert_frame(connection, DecisionSnapshotRow.__table__, rows, {"snapshot_id": snapshot})
        pruned = prune_snapshots(connection, day - dt.timedelta(days=config.snapshot_keep_days))
    return {"snapshot": snapshot, "families": decisions.height, **({"pruned": pruned} if pruned else {})}


def prune_snapshots(connection, before: dt.date) -> int:
    """Remove the snapshots taken as of a day before `before`, keeping the first of each month: a year of nightly
    snapshots of every family would otherwise grow without end. Returns how many went."""
    snapshots = DecisionSnapshot.__table__
    taken = pl.DataFrame(
        connection.execute(select(snapshots.c.id, snapshots.c.as_of)).all(),
        schema={"id": pl.Int64, "as_of": pl.Date},
        orient="row",
    )
    first_of_month = taken.group_by(pl.col("as_of").dt.truncate("1mo")).agg(pl.col("id").min())["id"]
    old = taken.filter((pl.col("as_of") < before) & ~pl.col("id").is_in(first_of_month.to_list()))["id"].to_list()
    if old:
        connection.execute(
            delete(DecisionSnapshotRow.__table__).where(DecisionSnapshotRow.__table__.c.snapshot_id.in_(old))
        )
        connection.execute(delete(snapshots).where(snapshots.c.id.in_(old)))
    return len(old)


def claim_preparation(config: JobsConfig, ctx: AppContext) -> dict:
    import pbr.claims as claims

    day, store = ctx.today(), ctx.store
    counts = {"prepared": 0, "sampled_kept": 0, "evidence_date_ahead": 0}
    for window in config.windows:
        if not window.closes - dt.timedelta(days=config.days_before_close) <= day <= window.closes:
            continue
        if window.evidence_date > day:  # a claim rests on results already seen
            counts["evidence_date_ahead"] += 1
            continue
        statuses = set(claims.claims_frame(store).filter(claims.pl.col("window_id") == window.window)["status"])
        if statuses & {"submitted", "paid"}:
            continue
        if "sampled" in statuses:  # the auditor is at work on its sample: rebuilding would discard it
            counts["sampled_kept"] += 1
            continue
        claims.prepare(
            store,
            window.window,
            window.evidence_date,
            ctx.plan,
            actor="scheduler",
            opens=window.opens,
            closes=window.closes,
            parameters=ctx.parameters,
            today=day,
        )
        counts["prepared"] += 1
    return counts


def progress_return(config: JobsConfig, ctx: AppContext) -> dict:
    from pbr.returns.progress import write_progress_return

    quarter = periods.quarter_before(ctx.today())  # the quarter just ended
    path = config.reports / f"progress-return-{quarter.name}.xlsx"
    # a run the scheduler's stop cut short left its temporary file; the job's lease means no other run is writing
    cleared = remove_stale_partials(path, older_than_seconds=STALE_PARTIAL_SECONDS)
    counts = {"cleared": cleared} if cleared else {}
    if path.exists():
        return {"written": 0, **counts}
    write_progress_return(ctx.store, ctx.plan, quarter.name, path)
    return {"written": 1, "file": os.fspath(path.name), **counts}


def retention(config: JobsConfig, ctx: AppContext) -> dict:
    from pbr.store.retention import redact_closed_before

    if config.retention_years is None:
        raise ValueError("retention is not configured: give retention.years_after_closure in the configuration")
    closed_before = periods.add_years_to(ctx.today(), -config.retention_years)
    done = redact_closed_before(ctx.store, closed_before, actor="scheduler")
    return {"closed_before": closed_before.isoformat(), "families": done.families, "people": done.people}


def match_retention(config: JobsConfig, ctx: AppContext) -> dict:
    from pbr.services import forget_unmatched_rows

    done = forget_unmatched_rows(ctx, actor="scheduler")
    return {"read_before": done.before.date().isoformat(), "removed": done.rows}


TASKS = {
    "inbox": inbox,
    "nightly-evaluation": nightly_evaluation,
    "claim-preparation": claim_preparation,
    "progress-return": progress_return,
    "retention": retention,
    "match-retention": match_retention,
}
