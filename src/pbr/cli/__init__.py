"""The `pbr` command: one verb per job, each calling one function of the layers below."""

from __future__ import annotations

import datetime as dt
import os
import sys
from functools import partial
from importlib import import_module
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pbr.money import pounds
from pbr.settings import NEW_PASSWORD_ENV
from pbr.terminal import console, out, print_file_table

app = typer.Typer(
    help="pbr: outcomes tracking and payment-by-results claims.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
state: dict = {"settings": None, "context": None}


def say_error(message: str) -> None:
    console.print("[bold red]error:[/] " + escape(message), highlight=False)  # a file name may hold [brackets]


def fail(message: str, code: int = 2) -> None:
    say_error(message)
    raise typer.Exit(code)


def output_file(param: typer.CallbackParam, path: Optional[Path]) -> Optional[Path]:
    """Callback of every option naming a file to write: refuse, before any work, a path pbr could not write."""
    if path is None:
        return None
    option = param.opts[0]
    if path.is_dir():
        fail(f"{option} {path} is a folder: name the file to write")
    if path.exists() and not path.is_file():  # a device or a pipe, such as /dev/stdout, is written in place
        if not os.access(path, os.W_OK):
            fail(f"{option} {path}: permission denied")
        return path
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        fail(f"{option} {path}: cannot make the folder {folder}: a file stands in its place")
    except OSError as error:
        fail(f"{option} {path}: cannot make its folder {folder}: {error.strerror or error}")
    if not os.access(folder, os.W_OK):  # the file is written beside its final name, then renamed
        fail(f"{option} {path}: permission denied in the folder {folder}")
    return path


def distinct_outputs(outputs: dict[str, Optional[Path]], inputs: tuple[Path, ...] = ()) -> None:
    """Refuse, before any work, two outputs naming one file or an output that would overwrite an input."""
    read = {p.resolve() for p in inputs}
    seen: dict[Path, str] = {}
    for label, path in outputs.items():
        if path is None:
            continue
        where = path.resolve()
        if where in read:
            fail(f"{label} {path} would overwrite an input file: name another file")
        if where in seen:
            fail(f"{seen[where]} and {label} both name {path}: give each output its own file")
        seen[where] = label


PLAN_HELP = (
    "outcome plan: a YAML file or a shipped plan's name, see `pbr plan list` (default: pbr --plan or "
    "PBR_PLAN, else the shipped plan)"
)


@app.callback()
def main(
    context: typer.Context,
    db: Optional[str] = typer.Option(
        None, "--db", help="SQLAlchemy database URL (default: PBR_DATABASE_URL, else sqlite:///pbr.db)"
    ),
    vocabularies: Optional[Path] = typer.Option(
        None,
        "--vocabularies",
        help="the council's own event types, episode types and assessment scales, added to the shipped ones "
        "(a YAML file like schemas/vocabularies.yaml; default: PBR_VOCABULARIES)",
    ),
    plan: Optional[Path] = typer.Option(
        None,
        "--plan",
        help="the council's outcome plan, a file or a shipped plan's name: the default of every command's "
        "--plan, the scheduler's jobs and the web app (default: PBR_PLAN, else the shipped plan)",
    ),
    parameters: Optional[Path] = typer.Option(
        None,
        "--parameters",
        help="the council's dated money parameters, in place of the shipped ones (a YAML file like "
        "schemas/financial_parameters.yaml; default: PBR_FINANCIAL_PARAMETERS)",
    ),
) -> None:
    from pbr.resources import plan_location
    from pbr.settings import Settings, SettingsError

    try:
        settings = Settings.from_environ()
    except SettingsError as error:
        fail(str(error))
    # paths made absolute here: the scheduler and the web app read them again from another working folder
    state["settings"] = settings.overridden(
        database_url=db,
        vocabularies=str(vocabularies.resolve()) if vocabularies else None,
        plan=str(plan_location(plan).resolve()) if plan else None,
        parameters=str(parameters.resolve()) if parameters else None,
    )
    state["context"] = None
    if context.invoked_subcommand != "doctor":  # doctor reports what cannot be used instead of stopping on it
        _context()


def _context(create_database: bool = True):
    """The application context of this command, built once from the settings; a plan, code list or money file
    that cannot be used is refused here, before any work."""
    from pbr.context import AppContext
    from pbr.plan import ParametersError, PlanError
    from pbr.resources import VocabularyError

    if state["context"] is None:
        try:
            state["context"] = AppContext.from_settings(state["settings"], create_database=create_database)
        except VocabularyError as error:
            fail(str(error))
        except ParametersError as error:
            fail(f"financial parameters refused: {error}")
        except PlanError as error:
            fail(f"plan refused: {error}")
    return state["context"]


def _date(value: Optional[str], name: str) -> Optional[dt.date]:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{name} {value!r} is not a date written YYYY-MM-DD")


def _plan(path: Optional[Path]):
    """The plan a verb's --plan names, checked against the code lists in use; else the context's plan."""
    from pbr.plan import PlanError, load_plan

    ctx = _context()
    if path is None:
        return ctx.plan
    try:
        return load_plan(path, vocabularies=ctx.vocabularies)
    except PlanError as error:
        fail(f"plan refused: {error}")


def _store(create: bool = True):
    """The database; with `create` false a command that only reads refuses a database that is not there."""
    from pbr.store import StoreMissing

    ctx = _context()
    ctx.create_database = create
    try:
        return ctx.store
    except StoreMissing as error:
        fail(str(error), code=1)
    except Exception as error:  # a database that cannot be opened is a one-line error, not a trace
        fail(f"cannot open the database: {str(error).splitlines()[0]}")


@app.command()
def ingest(
    path: Path = typer.Argument(..., help="a folder of CSV files, one CSV file, or an .xlsx workbook"),
    plan: Optional[Path] = typer.Option(None, help="outcome plan whose themes indicators must use"),
    complete_extract: bool = typer.Option(
        False,
        "--complete-extract",
        help="each file is its source's complete extract: the source's incidents, episodes, indicators and "
        "payments it no longer holds are retired (kept in the corrections log)",
    ),
) -> None:
    """Load feed files into the database; bad rows go to quarantine with their reasons."""
    from pbr.services import load_feeds

    if not path.exists():
        fail(f"{path}: no such file or folder")
    the_plan = _plan(plan)
    _store()  # opened, and migrated, before the progress bar shows
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[rows]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("reading and validating", total=None, rows="")

        def progress(source: str, done: int, total: int) -> None:
            bar.update(
                task,
                description=f"loading {source}" if source else "loaded",
                completed=done,
                total=total,
                rows=f"{done:,}/{total:,} rows",
            )

        result = load_feeds(_context(), path, progress=progress, complete=complete_extract, plan=the_plan)
    print_file_table(result.files, f"Ingest of {path}")
    for name in result.ignored:
        out.print(
            f"ignored: {name}" + ("" if name.endswith(")") else " (not named like a feed table)"), highlight=False
        )
    for f in result.rejected:
        out.print(f"rejected whole: {f.source}: {f.rejected}", highlight=False, markup=False)
    if any(f.quarantined for f in result.files):
        out.print("see the reasons with: pbr quarantine", highlight=False)
    if not result.files:
        console.print(
            f"[yellow]warning:[/] no feed file in {path}: feeds are CSV files named after their table "
            "(families.csv, members.csv, police__events.csv, ...) or .xlsx workbooks with such sheets",
            highlight=False,
        )
    print(result.summary(), flush=True)
    if result.rejected:
        raise typer.Exit(1)


@app.command()
def quarantine(
    csv: Optional[Path] = typer.Option(
        None, "--csv", callback=output_file, help="write the entries to this CSV for the sender"
    ),
    xlsx: Optional[Path] = typer.Option(
        None,
        "--xlsx",
        callback=output_file,
        help="write the entries to this workbook for the sender (values stay text in Excel)",
    ),
    source: Optional[str] = typer.Option(
        None, "--source", help="only this file's entries (a workbook's name covers all its sheets)"
    ),
    limit: int = typer.Option(50, help="rows to show on screen"),
) -> None:
    """List what is in quarantine, per source, with file, row, column and reason."""
    distinct_outputs({"--csv": csv, "--xlsx": xlsx})
    store = _store(create=False)
    frame = store.quarantine_frame(source=source).sort("source", "row")
    if csv:
        from pbr.outputs import written_whole

        with written_whole(csv) as partial:
            frame.write_csv(partial)
        out.print(f"wrote {frame.height} quarantine entries to {csv}", highlight=False)
    if xlsx:
        from pbr.workbooks import write_streamed

        write_streamed(xlsx, {"Quarantine": frame})
        out.print(f"wrote {frame.height} quarantine entries to {xlsx}", highlight=False)
    if frame.height == 0:
        out.print(f"nothing from {source} is in quarantine" if source else "quarantine is empty", highlight=False)
        return
    table = Table(title=f"Quarantine: {frame.height} rows", title_justify="left")
    for column in ("source", "row", "column", "value", "reason", "family_id"):
        table.add_column(column, overflow="fold")
    for row in frame.head(limit).iter_rows(named=True):
        table.add_row(
            row["source"], str(row["row"]), row["column"], row["value"] or "", row["reason"], row["family_id"] or ""
        )
    out.print(table)
    if frame.height > limit:
        out.print(f"... {frame.height - limit} more; write them all with --csv FILE", highlight=False)


@app.command()
def evaluate(
    as_of: Optional[str] = typer.Option(None, "--as-of", help="the as-of date D (default today)"),
    out_path: Path = typer.Option(..., "--out", callback=output_file, help="decisions CSV to write"),
    data: Optional[Path] = typer.Option(None, "--data", help="CSV folder or .xlsx workbook (default: the database)"),
    plan: Optional[Path] = typer.Option(None, "--plan", help=PLAN_HELP),
    detail: Optional[Path] = typer.Option(
        None, "--detail", callback=output_file, help="evidence CSV, one row per measure"
    ),
    xlsx: Optional[Path] = typer.Option(
        None, "--xlsx", callback=output_file, help="decisions and detail as a workbook"
    ),
) -> None:
    """Decide eligibility, progress, continuous employment and claimability for every family at D."""
    from pbr.evaluate import write_decisions
    from pbr.periods import day_in_words

    day = _date(as_of, "--as-of") or dt.date.today()
    if as_of is None:
        console.print(f"as of today, {day_in_words(day)}, as no --as-of was given", highlight=False)
    the_plan = _plan(plan)
    if data is not None and not data.exists():
        fail(f"{data}: no such file or folder")
    distinct_outputs(
        {"--out": out_path, "the run record of --out": Path(f"{out_path}.json"), "--detail": detail, "--xlsx": xlsx},
        inputs=(*feed_files(data), *([plan] if plan else [])),
    )
    with working("evaluating") as status:
        evaluation = _evaluation(data, day, the_plan)
        write_decisions(
            evaluation, out_path, detail=detail, xlsx=xlsx, progress=status.update, council=_context().council
        )
    for warning in evaluation.warnings:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    d = evaluation.decisions
    claimable = d.filter(d["claimable"]).height
    console.print(
        f"{d.height} families evaluated as of {day}: {d.filter(d['eligible']).height} eligible, "
        f"{claimable} claimable; {evaluation.quarantined} rows quarantined",
        highlight=False,
    )
    print(f"wrote {out_path}")


def _evaluation(data: Optional[Path], day: dt.date, plan):
    """Every family's decisions at `day`, from `data` or the database; a data set that cannot be used ends the run."""
    from pbr.feeds import DatasetError
    from pbr.services import decisions

    ctx = _context()
    if data is None:
        _store(create=False)
    try:
        return decisions(ctx, day, data=data, plan=plan)
    except DatasetError as error:
        fail(str(error))


@app.command()
def explain(
    family_id: str = typer.Argument(..., help="the family to explain"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="the as-of date D (default today)"),
    data: Optional[Path] = typer.Option(None, "--data", help="CSV folder or .xlsx workbook (default: the database)"),
    plan: Optional[Path] = typer.Option(None, "--plan", help=PLAN_HELP),
    history: bool = typer.Option(
        False, "--history", help="also the family's decision in every stored nightly snapshot"
    ),
) -> None:
    """One family's decision at D with the evidence of every measure, as an auditor would check it."""
    day = _date(as_of, "--as-of") or dt.date.today()
    the_plan = _plan(plan)
    if data is not None and not data.exists():
        fail(f"{data}: no such file or folder")
    with working(f"evaluating as of {day}"):
        evaluation = _evaluation(data, day, the_plan)
    found = evaluation.decisions.filter(evaluation.decisions["family_id"] == family_id)
    if found.height == 0:
        fail(
            f"no family {family_id!r} among the {evaluation.decisions.height} evaluated; a family row held in "
            "quarantine is not evaluated (see pbr quarantine)",
            code=1,
        )
    from pbr.engine.reasons import ROUTE_WORDS
    from pbr.periods import day_in_words

    decision = found.row(0, named=True)
    yes = _yes
    titles = {theme.code: theme.title for theme in the_plan.themes}

    def listed(themes: str) -> str:
        return "; ".join(titles.get(code, code) for code in themes.split(";") if code) or "none"

    lines = [
        f"[bold]Family {escape(family_id)}[/] as of {day_in_words(day)}, plan {escape(the_plan.name)}",
        f"attached {day_in_words(decision['attachment_date'])}; eligible: {yes(decision['eligible'])}; "
        f"problems at attachment: {escape(listed(decision['themes_at_attachment']))}",
        f"progress sustained on: {escape(listed(decision['themes_progress_met']))}; continuous employment: "
        f"{yes(decision['ce_met'])}; claimable: {yes(decision['claimable'])}"
        + (f", by {ROUTE_WORDS.get(decision['claim_route'])}" if decision["claim_route"] else ""),
        f"reason: {escape(decision['reason'])}",
    ]
    if decision["themes_emerged"]:
        lines.append(f"needs emerged since attachment: {escape(listed(decision['themes_emerged']))}")
    if the_plan.way_of_working:
        lines.append(_way_of_working_line(evaluation, the_plan, family_id))
    if decision["quarantined_records"]:
        lines.append(
            f"[yellow]held from claims[/]: {decision['quarantined_records']} of its rows are in quarantine "
            "(see pbr quarantine)"
        )
    if decision["claimed_in"]:
        lines.append(f"claimed in {escape(decision['claimed_in'])}")
    out.print("\n".join(lines), highlight=False)
    table = Table(title="Evidence, one row per measure", title_justify="left")
    for column in ("theme", "plan entry", "met", "evidence", "flagged members"):
        table.add_column(column, overflow="fold")
    for row in evaluation.detail.filter(evaluation.detail["family_id"] == family_id).iter_rows(named=True):
        table.add_row(
            escape(row["theme"]),
            escape(row["measure"]),
            yes(row["met"]),
            escape(row["evidence"]),
            escape(row["flagged_members"] or ""),
        )
    out.print(table)
    if history:
        _print_history(family_id)


def _way_of_working_line(evaluation, plan, family_id: str) -> str:
    """Each milestone the plan asks for, with the day it was recorded by D, or missing."""
    import polars as pl

    milestones = evaluation.decided.records.milestones.filter(pl.col("family_id") == family_id)
    recorded = dict(milestones.group_by("milestone").agg(pl.col("milestone_date").min()).iter_rows())
    listed = [
        f"{m.replace('_', ' ')} {recorded[m]}" if m in recorded else f"{m.replace('_', ' ')} [red]missing[/]"
        for m in plan.way_of_working
    ]
    return "way of working: " + "; ".join(listed)


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _print_history(family_id: str) -> None:
    """The family's decision in every stored nightly snapshot, marking where it changed."""
    from pbr.snapshots import family_history

    past = family_history(_store(create=False), family_id)
    if past.height == 0:
        out.print(
            "no stored snapshot holds this family (the scheduler's nightly evaluation takes them)", highlight=False
        )
        return
    table = Table(title="In the nightly snapshots (* where it changed)", title_justify="left")
    for column in ("as of", "eligible", "claimable", "route", "earliest claimable", "held"):
        table.add_column(column)
    for row in past.iter_rows(named=True):
        table.add_row(
            ("* " if row["changed"] else "  ") + str(row["as_of"]),
            _yes(row["eligible"]),
            _yes(row["claimable"]),
            row["claim_route"] or "",
            str(row["earliest_claimable_date"] or ""),
            str(row["quarantined_records"] or ""),
        )
    out.print(table)


def working(text: str):
    """A spinner saying what is being done, on a terminal; nothing where output goes to a log or a pipe."""
    return console.status(text, spinner="dots") if console.is_terminal else _Null()


def feed_files(data: Optional[Path]) -> list[Path]:
    """The files `--data` names that pbr reads as feeds: none of them may be overwritten by an output."""
    from pbr.contract import table_for_stem

    if data is None:
        return []
    if not data.is_dir():
        return [data]
    return [
        p
        for p in data.iterdir()
        if p.is_file()
        and (p.suffix.lower() == ".xlsx" or (p.suffix.lower() == ".csv" and table_for_stem(p.stem) is not None))
    ]


class _Null:
    """Stands in for a status display where the console is not a terminal."""

    def __enter__(self):
        return self

    def update(self, *args, **kwargs) -> None:
        pass

    def __exit__(self, *exc):
        return False


@app.command()
def template(
    out_file: Path = typer.Option(..., "--out", callback=output_file, help="the .xlsx workbook to write"),
) -> None:
    """Write an Excel workbook keyworkers can fill in and `pbr ingest` reads back."""
    from pbr.feeds.template import write_template

    ctx = _context()
    write_template(out_file, ctx.plan.theme_codes, codes=ctx.vocabularies)
    print(f"wrote {out_file}")


@app.command()
def demo(
    families: int = typer.Option(2000, help="how many synthetic families"),
    seed: int = typer.Option(2017, help="random seed: the same seed gives the same council"),
    folder: Path = typer.Option(Path("pbr-demo"), help="where the demo's data, database and reports go"),
    as_of: Optional[str] = typer.Option(
        None, "--as-of", help="the as-of date for the demo's decisions (default: the day of the council's extract)"
    ),
    plan: str = typer.Option(
        "troubled-families-2015",
        "--plan",
        help="the shipped plan the synthetic council works to: troubled-families-2015 or supporting-families-2022",
    ),
) -> None:
    """A synthetic council end to end: ingest, evaluate, claim, returns and reports."""
    from pbr.demo import DEMO_PLANS, PERIODS, run_demo

    if plan not in DEMO_PLANS:
        fail(f"the demo's synthetic council is made for a shipped plan: {', '.join(DEMO_PLANS)} (not {plan!r})")
    from pbr.context import AppContext
    from pbr.resources import shipped_plans

    settings = state["settings"]
    # the synthetic council is made for a shipped plan, whatever the council's own plan is
    settings = settings.overridden(
        plan=str(shipped_plans()[plan]), database_url=settings.database_url or f"sqlite:///{folder / 'pbr.db'}"
    )
    state["settings"], state["context"] = settings, None
    ctx: AppContext = _context()
    _store()
    run_demo(ctx, folder, families, seed, _date(as_of, "--as-of") or PERIODS[plan][2], out)


plan_app = typer.Typer(help="Outcome plans: the shipped ones, and checking a council's own.", no_args_is_help=True)
app.add_typer(plan_app, name="plan")


@plan_app.command("list")
def plan_list() -> None:
    """The plans pbr ships: name one with --plan, or start the council's own from one (`pbr plan show`)."""
    from pbr.resources import SHIPPED_PLAN, shipped_plans

    table = Table(title="Shipped outcome plans", title_justify="left")
    for column in ("name", "themes", "needs", "continuous employment", "description"):
        table.add_column(column)
    for name, path in shipped_plans().items():
        plan = _plan(Path(path))
        table.add_row(
            name + (" (default)" if name == SHIPPED_PLAN else ""),
            str(len(plan.themes)),
            str(plan.min_themes),
            "yes" if plan.benefit_rules else "no",
            plan.description,
        )
    out.print(table)


@plan_app.command("check")
def plan_check(
    plan: Optional[Path] = typer.Argument(
        None, help="a plan file or a shipped plan's name (default: pbr --plan or PBR_PLAN, else the shipped plan)"
    ),
) -> None:
    """Check a plan and say what it decides; a plan that cannot be used is refused with the path of the mistake."""
    from pbr.plan import summary

    lines = summary(_plan(plan))
    out.print("\n".join(escape(line) for line in lines), highlight=False)
    out.print("plan ok", highlight=False)


@plan_app.command("show")
def plan_show(plan: str = typer.Argument(..., help="a shipped plan's name, e.g. supporting-families-2022")) -> None:
    """Print a plan's YAML, to start the council's own: `pbr plan show NAME > our-plan.yaml`."""
    from pbr.resources import shipped_plans

    shipped = shipped_plans()
    if plan not in shipped:
        fail(f"pbr ships no plan named {plan!r} (it ships: {', '.join(shipped)})")
    sys.stdout.write(shipped[plan].read_text(encoding="utf-8"))


claim_app = typer.Typer(
    help="Claims: prepare, sample, verdicts, submit, payment, recovery, workbook.", no_args_is_help=True
)
app.add_typer(claim_app, name="claim")


def _service_call(fn, *args, refused: str, **kwargs):
    """A service called with this command's context; the refusal it raises (`refused`, the error's module and
    name, imported only here) ends the command with its reason."""
    module, name = refused.rsplit(".", 1)
    error_type = getattr(import_module(module), name)
    try:
        return fn(_context(), *args, **kwargs)
    except error_type as error:
        fail(str(error), code=1)


# a claim step the claim rules refuse, or a return a period or record cannot be made for, ends with why
_claim_call = partial(_service_call, refused="pbr.claims.ClaimError")
_returns_call = partial(_service_call, refused="pbr.returns.ReturnError")


@claim_app.command("prepare")
def claim_prepare(
    window: str = typer.Option(..., "--window", help="claim window id, e.g. 2017-Q3"),
    evidence_date: str = typer.Option(..., "--evidence-date"),
    opens: Optional[str] = typer.Option(None, "--opens"),
    closes: Optional[str] = typer.Option(None, "--closes"),
    plan: Optional[Path] = typer.Option(None, "--plan", help=PLAN_HELP),
    by: str = typer.Option("pbr", "--by", help="who prepares it (audit log)"),
) -> None:
    """Build (or rebuild) the draft claim for a window from the decisions at its evidence date."""
    from pbr.services import prepare_claim

    day, the_plan = _date(evidence_date, "--evidence-date"), _plan(plan)
    _store()
    with working(f"evaluating every family as of {day} for window {window}"):
        result = _claim_call(
            prepare_claim,
            window,
            day,
            actor=by,
            opens=_date(opens, "--opens"),
            closes=_date(closes, "--closes"),
            plan=the_plan,
        )
    from pbr.engine.reasons import ROUTE_WORDS

    routes = ", ".join(f"{n} by {ROUTE_WORDS.get(route, route)}" for route, n in result.by_route.items()) or "none"
    out.print(
        f"{'rebuilt' if result.rebuilt else 'prepared'} claim {result.ref}: families claimed: {routes}; "
        f"held by quarantine: {result.held}; "
        + (f"held after a recovery: {result.recovered}; " if result.recovered else "")
        + f"total {pounds(result.total_pence)}",
        highlight=False,
        soft_wrap=True,  # one line, whatever the terminal's width: scripts read the total from it
    )
    print(result.ref)


@claim_app.command("sample")
def claim_sample(
    claim: str = typer.Option(..., "--claim"),
    seed: Optional[int] = typer.Option(None, "--seed"),
    by: str = typer.Option("pbr", "--by"),
) -> None:
    """Draw the internal-audit sample (10%, at least 5, split by route, from a recorded seed)."""
    from pbr.services import sample_claim

    _store(create=False)
    chosen = _claim_call(sample_claim, claim, seed, actor=by)
    out.print(f"sampled {len(chosen)} lines of claim {claim}:", highlight=False)
    for family in chosen:
        print(family)


@claim_app.command("verdict")
def claim_verdict(
    claim: str = typer.Option(..., "--claim"),
    family: str = typer.Option(..., "--family"),
    passed: bool = typer.Option(..., "--pass/--fail"),
    by: str = typer.Option(..., "--by"),
    note: Optional[str] = typer.Option(None, "--note"),
) -> None:
    """Record the auditor's verdict on a sampled line (a failed line is withdrawn)."""
    from pbr.claims import verdict

    _store(create=False)
    _claim_call(lambda ctx, *args: verdict(ctx.store, *args), claim, family, passed, by, note)
    print(f"{claim} {family}: {'pass' if passed else 'fail (withdrawn)'}")


@claim_app.command("review")
def claim_review(
    claim: str = typer.Option(..., "--claim"),
    by: str = typer.Option(..., "--by"),
    note: str = typer.Option(..., "--note"),
) -> None:
    """Record the coordinator's full review of a claim whose sample failed too often."""
    from pbr.claims import review

    _store(create=False)
    _claim_call(lambda ctx, *args: review(ctx.store, *args), claim, by, note)
    print(f"full review of {claim} recorded")


@claim_app.command("submit")
def claim_submit(
    claim: str = typer.Option(..., "--claim"),
    by: str = typer.Option(..., "--by"),
    late: Optional[str] = typer.Option(None, "--late", help="reason for submitting outside the window"),
) -> None:
    """Submit the claim, once each line is still claimable with the records as they stand: then it is immutable."""
    from pbr.services import submit_claim

    _store(create=False)
    with working(f"checking every line of claim {claim} against the records as they stand"):
        live = _claim_call(submit_claim, claim, by, late)
    print(f"submitted {claim}: {live} families")


@claim_app.command("paid")
def claim_paid(
    claim: str = typer.Option(..., "--claim"),
    amount: str = typer.Option(..., "--amount", help="pounds"),
    reference: str = typer.Option(..., "--reference"),
) -> None:
    """Record the payment received for a submitted claim."""
    from pbr.services import record_payment

    _store(create=False)
    pence = _claim_call(record_payment, claim, amount, reference, actor="pbr")
    print(f"{claim} paid {pounds(pence)} ({reference})")


@claim_app.command("recover")
def claim_recover(
    claim: str = typer.Option(..., "--claim"),
    family: str = typer.Option(..., "--family"),
    reason: str = typer.Option(..., "--reason"),
    by: str = typer.Option(..., "--by"),
    booked_on: Optional[str] = typer.Option(None, "--booked-on", help="booking day (default today)"),
) -> None:
    """Book a recovery against a line found invalid after submission; the family may be claimed afresh later."""
    from pbr.services import recover_line

    _store(create=False)
    amount = _claim_call(recover_line, claim, family, reason, by, _date(booked_on, "--booked-on"))
    print(f"recovered {pounds(-amount)} for {family} in {claim}")


@claim_app.command("workbook")
def claim_workbook(
    claim: str = typer.Option(..., "--claim"), out_file: Path = typer.Option(..., "--out", callback=output_file)
) -> None:
    """Write the claim workbook: summary, claims, audit sample, held families, declaration, audit log."""
    from pbr.services import write_claim_workbook

    _store(create=False)
    _claim_call(write_claim_workbook, claim, out_file)
    print(f"wrote {out_file}")


@claim_app.command("pack")
def claim_pack(
    claim: str = typer.Option(..., "--claim"),
    out_dir: Path = typer.Option(..., "--out", help="folder for the PDFs and their index workbook"),
    family: Optional[list[str]] = typer.Option(None, "--family", help="a family of the claim (repeat for more)"),
    sample: bool = typer.Option(False, "--sample", help="the families of the internal-audit sample"),
) -> None:
    """Spot-check evidence packs: one PDF per family of the claim (eligibility, way of working, validity of the
    result, each fact citing its file, load and row), and an index workbook listing them."""
    from pbr.services import write_evidence_packs

    if family and sample:
        fail("name families with --family or ask for the audit sample with --sample, not both")
    if out_dir.exists() and not out_dir.is_dir():
        fail(f"--out {out_dir} is a file: give a folder for the packs")
    _store(create=False)
    with working("writing evidence packs") as status:
        index = _claim_call(
            write_evidence_packs,
            claim,
            out_dir,
            families=family or None,
            sample=sample,
            progress=lambda n, total: status.update(f"writing evidence packs: {n} of {total}"),
        )
    named = "with names (PBR_PACKS_SECURE_ROUTE is set)" if _context().settings.packs_secure_route else "without names"
    print(f"wrote the evidence packs of claim {claim} {named} to {out_dir}; index {index}")


@claim_app.command("list")
def claim_list() -> None:
    """Every claim with its status, live lines and total, and its audit log."""
    import pbr.claims as claims

    store = _store(create=False)
    frame = claims.claims_frame(store)
    table = Table(title="Claims", title_justify="left")
    for column in ("ref", "window", "evidence date", "status", "families", "total (£)", "plan (SHA-256)"):
        table.add_column(column)
    for row in frame.iter_rows(named=True):
        plan = f"{row['plan_name']} ({row['plan_sha256'][:12]})" if row["plan_name"] else "not recorded"
        table.add_row(
            row["ref"],
            row["window_id"],
            str(row["evidence_date"]),
            row["status"],
            str(row["live_lines"]),
            pounds(row["total_pence"]),
            plan,
        )
    out.print(table)
    log = Table(title="Audit log", title_justify="left")
    for column in ("at", "who", "action", "claim", "detail"):
        log.add_column(column, overflow="fold")
    for entry in claims.audit_log(store):
        log.add_row(str(entry["at"])[:19], entry["actor"], entry["action"], entry["entity_id"], entry["detail"] or "")
    out.print(log)


returns_app = typer.Typer(help="Government returns.", no_args_is_help=True)
app.add_typer(returns_app, name="returns")


@returns_app.command("progress")
def returns_progress(
    quarter: str = typer.Option(..., "--quarter", help="e.g. 2017-Q3 (calendar quarters)"),
    out_file: Path = typer.Option(..., "--out", callback=output_file),
    plan: Optional[Path] = typer.Option(None, "--plan", help=PLAN_HELP),
) -> None:
    """The quarterly progress return: one row per family worked with and per member; no names."""
    from pbr.services import write_progress_return

    the_plan = _plan(plan)
    _store(create=False)
    with working(f"writing the progress return for {quarter}"):
        _returns_call(write_progress_return, quarter, out_file, plan=the_plan)
    print(f"wrote {out_file}")


@returns_app.command("impact-study")
def returns_impact(
    start: str = typer.Option(..., "--from"),
    end: str = typer.Option(..., "--to"),
    out_file: Path = typer.Option(..., "--out", callback=output_file),
    allow_incomplete: bool = typer.Option(
        False, "--allow-incomplete", help="succeed even when some people have no date of birth (see its Fix list)"
    ),
) -> None:
    """Personal details of the people of the families attached in the period, and of the comparison households
    `pbr identify` found eligible that the council did not work with, for linking to national data."""
    from pbr.services import write_impact_study_return

    arguments = (_date(start, "--from"), _date(end, "--to"), out_file)
    _store(create=False)
    with working("writing the impact-study return"):
        written = _returns_call(write_impact_study_return, *arguments)
    console.print(
        f"[bold yellow]warning:[/] {written.path} holds personal data (names, dates of birth, addresses, National "
        f"Insurance numbers) of {written.families} families and {written.comparison} comparison households: it is "
        "readable by its owner only; send it only over a secure route",
        highlight=False,
    )
    print(f"wrote {written.path}")
    if written.incomplete.height:
        listed = ", ".join(
            f"{c} {f} {p or ''}".strip()
            for c, f, p in written.incomplete.head(10).select("cohort", "family_id", "person_id").iter_rows()
        )
        message = (
            f"{written.incomplete.height} people have no date of birth, so the study cannot match them ({listed}"
            f"{' ...' if written.incomplete.height > 10 else ''}): see the sheet Fix list"
        )
        if not allow_incomplete:
            fail(message + "; correct the records, or pass --allow-incomplete to send the return as it is", code=1)
        console.print(f"[yellow]warning:[/] {message}", highlight=False)


@app.command()
def reconcile(
    financial_year: int = typer.Option(..., "--financial-year", help="2017 = 1 April 2017 to 31 March 2018"),
    out_file: Path = typer.Option(..., "--out", callback=output_file),
    plan: Optional[Path] = typer.Option(None, "--plan", help=PLAN_HELP),
) -> None:
    """Expected attachment fees and results against the grant received, by kind and by claim."""
    from pbr.services import write_reconciliation

    the_plan = _plan(plan)
    _store(create=False)
    with working(f"reconciling financial year {financial_year}"):
        result = _returns_call(write_reconciliation, financial_year, out_file, plan=the_plan)
    table = Table(title=f"Reconciliation, financial year {financial_year}", title_justify="left")
    for column in ("kind", "expected (£)", "received (£)", "variance (£)"):
        table.add_column(column, justify="right" if column != "kind" else "left")
    for kind, expected, received, variance in result.summary.iter_rows():
        table.add_row(kind, pounds(expected), pounds(received), pounds(variance))
    out.print(table)
    if result.unallocated.height:
        out.print(
            f"{result.unallocated.height} results payment(s) name no known claim: see sheet 'Unallocated payments'",
            highlight=False,
        )
    print(f"wrote {out_file}")


report_app = typer.Typer(help="Reports for the council's board.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("outcomes")
def report_outcomes(
    quarter: str = typer.Option(..., "--quarter", help="e.g. 2017-Q3 (calendar quarters)"),
    out_file: Path = typer.Option(..., "--out", callback=output_file),
    plan: Optional[Path] = typer.Option(None, "--plan", help=PLAN_HELP),
) -> None:
    """The quarterly outcomes report: every indicator with its quarter-by-quarter trend."""
    from pbr.services import write_outcomes_report

    the_plan = _plan(plan)
    _store(create=False)
    with working(f"writing the outcomes report for {quarter}"):
        _returns_call(write_outcomes_report, quarter, out_file, plan=the_plan)
    print(f"wrote {out_file}")


scheduler_app = typer.Typer(help="The scheduler that runs pbr's jobs unattended.", no_args_is_help=True)
app.add_typer(scheduler_app, name="scheduler")
jobs_app = typer.Typer(help="Scheduled jobs: list, run now, history.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
CONFIG_HELP = "scheduler configuration YAML (see schemas/scheduler.example.yaml)"


def _jobs_config(config: Optional[Path]):
    from pbr.jobs import ConfigError, load_config

    try:
        return load_config(config)
    except ConfigError as error:
        fail(f"configuration refused: {error}")


@scheduler_app.command("run")
def scheduler_run(config: Optional[Path] = typer.Option(None, "--config", help=CONFIG_HELP)) -> None:
    """Run the scheduler in the foreground until SIGTERM or SIGINT."""
    from pbr.jobs import run_scheduler

    _jobs_config(config)
    run_scheduler(
        _context().settings,
        _store(),
        str(config.resolve()) if config else None,
        say=lambda text: print(text, flush=True),
    )


@jobs_app.command("list")
def jobs_list(config: Optional[Path] = typer.Option(None, "--config", help=CONFIG_HELP)) -> None:
    """The configured jobs, their schedules and their next runs in the job store."""
    from sqlalchemy import inspect
    from sqlalchemy import text as sql

    settings = _jobs_config(config)
    store = _store()
    stored = {}
    if inspect(store.engine).has_table("apscheduler_jobs"):
        with store.engine.connect() as connection:
            stored = dict(connection.execute(sql("SELECT id, next_run_time FROM apscheduler_jobs")).all())
    table = Table(title="Jobs", title_justify="left")
    for column in ("job", "schedule", "next run (UTC)"):
        table.add_column(column)
    for job_id, schedule in settings.schedules.items():
        next_run = stored.get(job_id)
        when = dt.datetime.fromtimestamp(next_run, dt.UTC).strftime("%Y-%m-%d %H:%M:%S") if next_run else "-"
        table.add_row(job_id, schedule.describe(), when)
    out.print(table)


@jobs_app.command("run")
def jobs_run(
    job_id: str = typer.Argument(..., help="inbox, nightly-evaluation, claim-preparation, progress-return, retention"),
    config: Optional[Path] = typer.Option(None, "--config", help=CONFIG_HELP),
) -> None:
    """Run one job now, recorded in the history like a scheduled run."""
    from pbr.jobs.runner import run_job
    from pbr.jobs.tasks import TASKS

    if job_id not in TASKS:
        fail(f"no job {job_id!r} (jobs: {', '.join(TASKS)})")
    _jobs_config(config)
    store = _store()
    outcome = run_job(job_id, str(config.resolve()) if config else None, store.url, configured=_context().settings)
    print(f"{job_id}: {outcome}")
    if outcome == "failed":
        raise typer.Exit(1)


@jobs_app.command("history")
def jobs_history(limit: int = typer.Option(20, "--limit")) -> None:
    """The latest job runs: start, end, outcome, counts, error."""
    from pbr.jobs import history

    frame = history(_store(create=False), limit)
    table = Table(title="Job runs", title_justify="left")
    for column in ("id", "job", "attempt", "started", "finished", "outcome", "counts", "error"):
        table.add_column(column, overflow="fold")
    for row in frame.iter_rows(named=True) if frame.height else []:
        table.add_row(
            str(row["id"]),
            row["job_id"],
            str(row["attempt"]),
            str(row["started_at"])[:19],
            str(row["finished_at"] or "")[:19],
            row["outcome"],
            row["counts"] or "",
            (row["error"] or "").splitlines()[0] if row["error"] else "",
        )
    out.print(table)


@app.command()
def redact(
    closed_before: str = typer.Option(
        ..., "--closed-before", help="families whose case closed before this day YYYY-MM-DD"
    ),
    by: str = typer.Option(..., "--by", help="who does it (audit log)"),
    yes: bool = typer.Option(False, "--yes", help="do not ask for confirmation"),
) -> None:
    """Remove names and postcodes of families whose case closed before a day (the council's retention period)."""
    from pbr.store.retention import personal_columns, redact_closed_before

    day = _date(closed_before, "--closed-before")
    store = _store(create=False)
    planned = redact_closed_before(store, day, by, dry_run=True)
    what = ", ".join(personal_columns())
    if planned.people == 0:
        print(f"nothing to remove: no named member in the {planned.families} families closed before {day}")
        return
    if not yes and not typer.confirm(
        f"Remove {what} of {planned.people} people in the {planned.families} families "
        f"closed before {day}? This cannot be undone",
        err=True,
    ):
        fail("nothing removed", code=1)
    done = redact_closed_before(store, day, by)
    print(
        f"removed {what} of {done.people} people in {done.families} families closed before {day}; "
        "their records, decisions and claims stay"
    )


@app.command()
def doctor(
    config: Optional[Path] = typer.Option(None, "--config", help="a scheduler configuration to check too"),
) -> None:
    """Is this installation ready? The database, plan, money parameters, users, jobs and web settings, checked."""
    from pbr.doctor import FAULT, OK, run_checks

    checks = run_checks(state["settings"], config)
    marks = {OK: "[green]ok[/]     ", FAULT: "[red]FAULT[/]  "}
    for check in checks:
        out.print(
            f"{marks.get(check.status, '[yellow]warning[/]')} {check.name}: {escape(check.message)}", highlight=False
        )
    faults = [c.name for c in checks if c.status == FAULT]
    if faults:
        fail(f"not ready: {', '.join(faults)}", code=1)
    out.print("ready" + (" (see the warnings)" if any(c.status != OK for c in checks) else ""), highlight=False)


snapshots_app = typer.Typer(help="The nightly decision snapshots, and what changed between them.", no_args_is_help=True)
app.add_typer(snapshots_app, name="snapshots")


@snapshots_app.command("list")
def snapshots_list() -> None:
    """Every stored snapshot: its as-of day, when it was taken and its counts."""
    from pbr.snapshots import list_snapshots

    table = Table(title="Decision snapshots", title_justify="left")
    for column in ("id", "as of", "taken", "plan", "families", "eligible", "claimable"):
        table.add_column(column, justify="right" if column in ("id", "families", "eligible", "claimable") else "left")
    for row in list_snapshots(_store(create=False)).iter_rows(named=True):
        table.add_row(
            str(row["id"]),
            str(row["as_of"]),
            f"{row['taken_at']:%Y-%m-%d %H:%M}",
            row["plan_sha256"][:12],
            str(row["families"]),
            str(row["eligible"]),
            str(row["claimable"]),
        )
    out.print(table)


@snapshots_app.command("changes")
def snapshots_changes(
    before: Optional[int] = typer.Option(None, "--from", help="snapshot id (default: the one before --to)"),
    after: Optional[int] = typer.Option(None, "--to", help="snapshot id (default: the latest)"),
    csv: Optional[Path] = typer.Option(
        None, "--csv", callback=output_file, help="write every changed family to this CSV"
    ),
) -> None:
    """Families that became claimable, stopped being claimable, changed route, or were held or released."""
    import polars as pl

    from pbr.outputs import written_whole
    from pbr.snapshots import SnapshotError, changes

    try:
        found = changes(_store(create=False), before, after)
    except SnapshotError as error:
        fail(str(error), code=1)
    was, now = found.before, found.after
    out.print(
        f"snapshot {was['id']} (as of {was['as_of']}) to snapshot {now['id']} (as of {now['as_of']}): "
        f"claimable {was['claimable']} -> {now['claimable']}, {found.families.height} families changed",
        highlight=False,
    )
    if found.plan_changed:
        console.print(
            "[yellow]warning:[/] the outcome plan changed between these snapshots: some changes may come "
            "from the plan, not the records",
            highlight=False,
        )
    counts = (
        found.families.group_by(pl.col("change").str.replace(r" \(.*| ->.*", "")).len().sort("len", descending=True)
    )
    for change, n in counts.iter_rows():
        out.print(f"  {change}: {n}", highlight=False)
    table = Table(title="Changed families", title_justify="left")
    for column in ("family", "change", "earliest claimable now"):
        table.add_column(column)
    for row in found.families.head(50).iter_rows(named=True):
        table.add_row(escape(row["family_id"]), row["change"], str(row["earliest_claimable_date_after"] or ""))
    out.print(table)
    if found.families.height > 50:
        out.print(f"... {found.families.height - 50} more; write them all with --csv FILE", highlight=False)
    if csv is not None:
        with written_whole(csv) as partial:
            found.families.with_columns(pl.col(pl.String).replace("", None)).write_csv(partial)
        print(f"wrote {csv}")


users_app = typer.Typer(help="Web app accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(
    name: str = typer.Argument(...),
    role: str = typer.Option(..., "--role", help="keyworker, coordinator, finance or auditor"),
    password: str = typer.Option(
        ..., "--password", prompt=True, hide_input=True, confirmation_prompt=True, envvar=NEW_PASSWORD_ENV
    ),
    keyworker_id: Optional[str] = typer.Option(
        None, "--keyworker-id", help="the families' keyworker_id (default: NAME)"
    ),
) -> None:
    """Add a web app user; the password is stored as an argon2 hash."""
    from pbr.web.auth import UserError, add_user

    try:
        add_user(_store(), name, role, password, keyworker_id)
    except UserError as error:
        fail(str(error), code=1)
    print(f"added {name} ({role})")


@users_app.command("list")
def users_list() -> None:
    """Every account: role, keyworker id, when it was added and whether it is disabled."""
    from pbr.web.auth import list_users

    table = Table(title="Web app users", title_justify="left")
    for column in ("name", "role", "keyworker id", "added", "disabled"):
        table.add_column(column)
    for user in list_users(_store(create=False)):
        table.add_row(
            escape(user["name"]),
            user["role"],
            escape(user["keyworker_id"] or ""),
            f"{user['created_at']:%Y-%m-%d}",
            f"{user['disabled_at']:%Y-%m-%d %H:%M}" if user["disabled_at"] else "",
        )
    out.print(table)


def _user_call(fn, name: str, *args) -> None:
    from pbr.web.auth import UserError

    try:
        fn(_store(), name, *args)
    except UserError as error:
        fail(str(error), code=1)


@users_app.command("password")
def users_password(
    name: str = typer.Argument(...),
    password: str = typer.Option(
        ..., "--password", prompt="New password", hide_input=True, confirmation_prompt=True, envvar=NEW_PASSWORD_ENV
    ),
) -> None:
    """Set a user's password; the sessions signed in with the old one end."""
    from pbr.web.auth import set_password

    _user_call(set_password, name, password)
    print(f"password changed for {name}; their open sessions have ended")


@users_app.command("disable")
def users_disable(name: str = typer.Argument(...)) -> None:
    """Stop a user signing in (someone who left); their open sessions end, their history stays."""
    from pbr.web.auth import disable_user

    _user_call(disable_user, name)
    print(f"disabled {name}; their open sessions have ended")


@users_app.command("enable")
def users_enable(name: str = typer.Argument(...)) -> None:
    """Let a disabled user sign in again."""
    from pbr.web.auth import enable_user

    _user_call(enable_user, name)
    print(f"enabled {name}")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="default decision date for pages (default today)"),
) -> None:
    """Serve the web app for keyworkers, coordinators, auditors and finance."""
    import uvicorn

    from pbr.periods import day_in_words
    from pbr.web.app import create_app

    ctx = _context()
    store = _store(create=False)
    day = _date(as_of, "--as-of")
    if day is None:
        newest = store.newest_record_date()
        told = f"pages open at today, {day_in_words(dt.date.today())}, as no --as-of was given"
        if newest is not None and newest < dt.date.today():
            told += f"; the records end {day_in_words(newest)}: pass --as-of {newest} to open them at that day"
        console.print(told, highlight=False)
    application = create_app(ctx, as_of=day)
    console.print(f"pbr web app on http://{host}:{port}/ (database {store.url.split('://')[0]})", highlight=False)
    _log_requests()
    uvicorn.run(application, host=host, port=port, log_level="warning")


def _log_requests() -> None:
    """The app's access log (one line per request, no personal data) on standard output, with the time."""
    import logging

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    access = logging.getLogger("pbr.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False


def run() -> None:
    """The console entry point: an operating-system error while working (a full disk, a file another program
    holds open), or a database that refuses the work, ends the command with one line, as every other refusal
    does."""
    try:
        app()
    except OSError as error:
        say_error(f"{error.filename}: {error.strerror or error}" if error.filename else str(error.strerror or error))
        sys.unraisablehook = lambda unraisable: None  # a half-written file failing again as it is closed adds nothing
        sys.exit(1)
    except Exception as error:
        database_errors = sys.modules.get("sqlalchemy.exc")  # loaded only where a database was used
        if database_errors is None or not isinstance(error, database_errors.SQLAlchemyError):
            raise
        cause = str(getattr(error, "orig", None) or error).strip().splitlines()
        say_error(
            f"the database refused the work ({cause[0] if cause else type(error).__name__}); what was not "
            "committed was rolled back: try again, and see pbr doctor if it recurs"
        )
        sys.exit(1)


from pbr.cli import matching as _matching_verbs  # noqa: E402,F401  (registers `pbr match` and `pbr identify`)

if __name__ == "__main__":  # pragma: no cover
    run()
