"""`pbr match` and `pbr identify`: partner records without a person_id (matching.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click
import typer
from rich.table import Table
from typer.core import TyperGroup

from pbr.cli import _context, _date, _plan, _store, app, distinct_outputs, fail, output_file, working
from pbr.terminal import out


class _PathOrVerb(TyperGroup):
    """`pbr match PATH` runs the group's default verb on PATH; `pbr match review` runs the verb named."""

    default = "files"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = [self.default, *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "PATH [--plan PLAN] | COMMAND [ARGS]...")


match_app = typer.Typer(
    cls=_PathOrVerb,
    help="Partner records without a person_id: `pbr match PATH` matches a partner file, a folder of them or a "
    "workbook against the members held (police__events.csv, schools__attendance.csv, dwp__episodes.csv: the "
    "identity columns of matching.md instead of person_id); the commands below review what it could not "
    "decide alone.",
    no_args_is_help=True,
)
app.add_typer(match_app, name="match")


def _matching_call(fn, *args, **kwargs):
    from pbr.matching import MatchingConfigError, ReviewError

    try:
        return fn(*args, **kwargs)
    except ReviewError as error:
        fail(str(error), code=1)
    except MatchingConfigError as error:
        fail(f"matching configuration refused: {error}")


@match_app.command("files", hidden=True)
def match_files(
    path: Path = typer.Argument(..., help="a partner file, a folder of them, or an .xlsx workbook"),
    plan: Optional[Path] = typer.Option(None, help="outcome plan whose themes indicators must use"),
    by: str = typer.Option("pbr", "--by", help="who runs the match, for the audit log"),
) -> None:
    """Match partner files against the members held."""
    from pbr.services import match_partner_files

    if not path.exists():
        fail(f"{path}: no such file or folder")
    the_plan = _plan(plan)
    ctx = _context().with_plan(the_plan)
    _store()
    with working(f"matching {path}"):
        report = _matching_call(match_partner_files, ctx, path, actor=by)
    table = Table(title=f"Match of {path}", title_justify="left")
    for column in ("file", "table", "rows read", "linked", "review", "unmatched", "quarantined", "records loaded"):
        table.add_column(column, justify="left" if column in ("file", "table") else "right")
    for f in report.files:
        if f.rejected:
            table.add_row(f.source, f.table, str(f.rows_read), "rejected whole", "", "", "", "")
        else:
            counts = (f.rows_read, f.linked, f.review, f.unmatched, f.quarantined, f.loaded)
            table.add_row(f.source, f.table, *(f"{n:,}" for n in counts))
    out.print(table)
    for name in report.ignored:
        out.print(
            f"ignored: {name}" + ("" if name.endswith(")") else " (not named like a partner file)"), highlight=False
        )
    for f in report.files:
        if f.rejected:
            out.print(f"rejected whole: {f.source}: {f.rejected}", highlight=False, markup=False)
    if report.run_id is not None:
        out.print(f"model: {report.trained}; {report.members:,} members held", highlight=False)
    if report.total("review"):
        out.print("decide the rows waiting for review with: pbr match review", highlight=False)
    print(report.summary(), flush=True)
    if any(f.rejected for f in report.files):
        raise typer.Exit(1)


@match_app.command("review")
def match_review(
    csv: Optional[Path] = typer.Option(None, "--csv", callback=output_file, help="write the queue to this CSV"),
    source: Optional[str] = typer.Option(None, "--source", help="only this partner file's rows"),
    limit: int = typer.Option(20, help="rows to show on screen"),
) -> None:
    """The rows waiting for a person, each beside its candidates, with what agreed and what did not."""
    from pbr.matching import review_queue

    ctx = _context()
    queue = review_queue(_store(create=False), ctx.matching, source=source)
    if csv:
        _write_queue(queue, csv)
        out.print(f"wrote {len(queue)} rows waiting for review to {csv}", highlight=False)
    if not queue:
        out.print("nothing waits for review", highlight=False)
        return
    for row in queue[:limit]:
        _print_queued(row)
    if len(queue) > limit:
        out.print(f"... {len(queue) - limit} more; write them all with --csv FILE", highlight=False)
    out.print("decide with: pbr match accept ROW_ID --person PERSON_ID --by NAME, or pbr match reject ROW_ID --by NAME")


def _identity_line(identity: dict) -> str:
    names = " ".join(v for v in (identity.get("given_name"), identity.get("family_name")) if v)
    parts = [names or "(no name)", f"born {identity.get('date_of_birth') or '?'}"]
    parts += [f"{k} {identity[k]}" for k in ("sex", "postcode", "uprn") if identity.get(k)]
    return ", ".join(str(p) for p in parts)


def _print_queued(row) -> None:
    record = ", ".join(f"{k} {v}" for k, v in row.record.items() if v)
    out.print(
        f"[bold]row {row.id}[/] {row.source} row {row.row_number} ({row.table_name}: {record})",
        highlight=False,
    )
    out.print(f"  sent as: {_identity_line(row.identity)}", highlight=False, markup=False)
    if row.reason:
        out.print(f"  why it waits: {row.reason}", highlight=False, markup=False)
    for candidate in row.candidates:
        out.print(
            f"  candidate {candidate.person_id} (family {candidate.family_id}), probability "
            f"{candidate.probability:.4f}: {_identity_line(candidate.identity)}",
            highlight=False,
            markup=False,
        )
        for field in candidate.fields:
            out.print(f"    {field.comparison}: {field.kind}: {field.words}", highlight=False, markup=False)


def _write_queue(queue, path: Path) -> None:
    import polars as pl

    from pbr.outputs import written_whole

    lines = []
    for row in queue:
        base = {
            "row_id": row.id,
            "source": row.source,
            "row": row.row_number,
            "table": row.table_name,
            "reason": row.reason,
            **{f"sent_{k}": v for k, v in row.identity.items()},
        }
        for rank, candidate in enumerate(row.candidates or [None], start=1):
            line = dict(base, candidate=rank)
            if candidate is not None:
                line.update(
                    person_id=candidate.person_id,
                    family_id=candidate.family_id,
                    probability=round(candidate.probability, 6),
                )
                line.update({f.comparison: f"{f.kind}: {f.words}" for f in candidate.fields})
            lines.append(line)
    frame = pl.DataFrame(lines, infer_schema_length=None) if lines else pl.DataFrame({"row_id": []})
    with written_whole(path, private=True) as partial:
        frame.write_csv(partial)


@match_app.command("accept")
def match_accept(
    row_id: int = typer.Argument(..., help="the row's id, as `pbr match review` shows it"),
    person: str = typer.Option(..., "--person", help="the member the row belongs to"),
    by: str = typer.Option(..., "--by", help="who decides, for the audit log"),
    note: Optional[str] = typer.Option(None, "--note", help="why"),
) -> None:
    """Link a row waiting for review to a member, and load it as that member's record."""
    from pbr.matching import accept

    _matching_call(accept, _store(create=False), row_id, person, by, note, at=_context().now())
    out.print(f"row {row_id} linked to {person} by {by}", highlight=False)


@match_app.command("reject")
def match_reject(
    row_id: int = typer.Argument(...),
    by: str = typer.Option(..., "--by", help="who decides, for the audit log"),
    note: Optional[str] = typer.Option(None, "--note", help="why"),
) -> None:
    """A row waiting for review belongs to none of its candidates: it becomes unmatched."""
    from pbr.matching import reject

    _matching_call(reject, _store(create=False), row_id, by, note, at=_context().now())
    out.print(f"row {row_id} rejected by {by}: it is unmatched", highlight=False)


@match_app.command("unlink")
def match_unlink(
    row_id: int = typer.Argument(...),
    by: str = typer.Option(..., "--by", help="who decides, for the audit log"),
    reason: str = typer.Option(..., "--reason", help="why the link was wrong"),
) -> None:
    """Remove the records loaded from a linked row, and return it to review."""
    from pbr.matching import unlink

    removed = _matching_call(unlink, _store(create=False), row_id, by, reason, at=_context().now())
    out.print(f"row {row_id} unlinked by {by}: {removed} record(s) removed; it waits for review", highlight=False)


@match_app.command("links")
def match_links(
    csv: Path = typer.Option(..., "--csv", callback=output_file, help="the CSV to write"),
) -> None:
    """Every partner row of the latest load of each source, and what it became."""
    from pbr.matching import links
    from pbr.outputs import written_whole

    frame = links(_store(create=False))
    with written_whole(csv) as partial:
        frame.write_csv(partial)
    counts = frame.group_by("status").len().sort("status")
    out.print(
        f"wrote {frame.height} partner rows to {csv} (" + ", ".join(f"{s} {n}" for s, n in counts.iter_rows()) + ")",
        highlight=False,
    )


@match_app.command("retention")
def match_retention(
    by: str = typer.Option("pbr", "--by", help="who runs it, for the audit log"),
    dry_run: bool = typer.Option(False, "--dry-run", help="count what would go, remove nothing"),
) -> None:
    """Remove the unmatched partner rows whose retention period has ended (matching configuration)."""
    from pbr.services import forget_unmatched_rows

    ctx = _context()
    _store(create=False)
    done = forget_unmatched_rows(ctx, by, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    out.print(
        f"{verb} {done.rows} unmatched partner rows read before {done.before.date()} "
        f"({ctx.matching.unmatched_days} days)",
        highlight=False,
    )


@app.command()
def identify(
    as_of: Optional[str] = typer.Option(
        None, "--as-of", help="the day D the households are decided on (default today)"
    ),
    out_path: Path = typer.Option(..., "--out", callback=output_file, help="the workbook to write (.xlsx)"),
    csv: Optional[Path] = typer.Option(None, "--csv", callback=output_file, help="the same list as CSV"),
    plan: Optional[Path] = typer.Option(None, help="outcome plan whose eligibility criteria decide"),
) -> None:
    """Families not yet known: unmatched partner rows as people and households, the would-be-eligible first."""
    from pbr.services import identify_households

    distinct_outputs({"--out": out_path, "--csv": csv})
    day = _date(as_of, "--as-of") or _context().today()
    _store(create=False)
    with working("identifying households"):
        found = identify_households(_context(), day, plan=_plan(plan))
    from pbr.matching.workbook import write_identification

    write_identification(found, out_path, _plan(plan))
    if csv:
        from pbr.outputs import written_whole

        with written_whole(csv, private=True) as partial:
            found.households.drop("strength").write_csv(partial)
    out.print(
        f"{found.eligible.height} of {found.households.height} households of unmatched people would be eligible "
        f"if attached on {day}; written to {out_path}" + (f" and {csv}" if csv else ""),
        highlight=False,
    )
