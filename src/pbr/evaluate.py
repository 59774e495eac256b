"""`pbr evaluate`: decisions for every family at an as-of date, from files or the database (outputs.md)."""

from __future__ import annotations

import datetime as dt
import json
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from pbr.contract import DATED_RECORDS
from pbr.engine.decide import DECISION_COLUMNS, Decisions, decide
from pbr.feeds import Dataset, FileReport, read_dataset
from pbr.outputs import written_whole
from pbr.periods import utc_now
from pbr.plan import Plan, load_plan
from pbr.version import VERSION

if TYPE_CHECKING:  # the database layer is imported only by the evaluations that read it: it is slow to import
    from pbr.store import Store

# The date column that makes each feed "dated", for the stale-extract warning.


@dataclass
class Evaluation:
    as_of: dt.date
    plan: Plan
    decisions: pl.DataFrame
    decided: Decisions
    files: list[FileReport] = field(default_factory=list)
    quarantined: int = 0
    warnings: list[str] = field(default_factory=list)
    database: dict | None = None  # Store.load_history(), when the records came from the database

    @property
    def detail(self) -> pl.DataFrame:
        """The evidence behind every decision (outputs.md `--detail`), worked out on first use."""
        return self.decided.detail


def newest_record(tables: dict[str, pl.DataFrame]) -> dt.date | None:
    """The newest date any record carries (the term calendar itself does not count; attendance is dated by its term)."""
    days = []
    for table, column in DATED_RECORDS.items():
        frame = tables.get(table)
        if frame is not None and frame.height:
            days.append(frame.get_column(column).max())
    episodes, attendance, terms = tables.get("episodes"), tables.get("attendance"), tables.get("terms")
    if episodes is not None and episodes.height:
        days.append(episodes.get_column("end_date").max())
    if attendance is not None and attendance.height and terms is not None:
        days.append(attendance.join(terms, on="term_id").get_column("end_date").max())
    days = [d for d in days if d is not None]
    return max(days) if days else None


def default_terms() -> pl.DataFrame:
    """The shipped term calendar (feeds.md: 'a usable default'), for data sets that bring none."""
    from pbr.resources import schema_path

    return pl.read_csv(schema_path("terms.csv"), infer_schema=False).select(
        "term_id", pl.col("start_date").str.to_date(), pl.col("end_date").str.to_date()
    )


def evaluate_tables(
    tables: dict[str, pl.DataFrame],
    quarantine: pl.DataFrame,
    as_of: dt.date,
    plan: Plan,
    files: list[FileReport] | None = None,
) -> Evaluation:
    warnings = []
    if tables["terms"].height == 0:
        tables = {**tables, "terms": default_terms()}
        warnings.append("no term calendar in the data: the shipped default calendar (schemas/terms.csv) is used")
    result = decide(plan, tables, as_of, quarantine)
    foreign = (
        tables["indicators"]
        .select(pl.col("indicator").str.split(".").list.first().alias("theme"))
        .filter(~pl.col("theme").is_in(plan.theme_codes))
    )
    if foreign.height:  # loaded under another plan: ingest checks themes against the plan in use at the time
        themes = ", ".join(foreign["theme"].unique().sort().to_list())
        warnings.append(
            f"{foreign.height} indicator(s) name a theme plan {plan.name} does not have ({themes}): "
            "they take no part in these decisions"
        )
    newest = newest_record(tables)
    if newest is not None and as_of > newest:
        warnings.append(
            f"the as-of date {as_of} is after the newest dated record ({newest}): the decisions assume "
            f"nothing happened since the data was extracted (pass --as-of {newest} to judge them at that day)"
        )
    return Evaluation(as_of, plan, result.decisions, result, files or [], quarantine.height, warnings)


def evaluate(
    data: str | Path | None = None,
    as_of: dt.date | str | None = None,
    plan: Plan | str | Path | None = None,
    database_url: str | None = None,
    today: dt.date | None = None,
    store: Store | None = None,
) -> Evaluation:
    """Evaluate a data set (folder or workbook) or the database (`store`, or the one at `database_url`) at
    `as_of` (default today), by `plan` (a Plan, a file or a shipped plan's name; the shipped plan by default)."""
    as_of = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else (as_of or dt.date.today())
    plan = plan if isinstance(plan, Plan) else load_plan(plan)
    if data is not None:
        dataset: Dataset = read_dataset(data, plan.theme_codes, today=today, vocabularies=plan.vocabularies)
        return evaluate_tables(dataset.tables, dataset.quarantine, as_of, plan, dataset.files)
    if store is None:
        from pbr.store import Store

        store = Store(database_url)
    return evaluate_store(store, as_of, plan)


def evaluate_store(store: Store, as_of: dt.date, plan: Plan) -> Evaluation:
    """Every family the database holds, at `as_of`, with the claims they are in."""
    tables, quarantine = store.load_tables(), store.quarantine_frame()
    evaluation = evaluate_tables(tables, quarantine, as_of, plan)
    if tables["families"].height == 0:
        where = store.engine.url.render_as_string(hide_password=True)
        evaluation.warnings.insert(
            0,
            f"the database ({where}) holds no families yet: load the feeds with "
            "`pbr ingest FOLDER`, or evaluate files with --data",
        )
    evaluation.database = store.load_history()
    claimed = store.live_claim_lines().select("family_id", pl.col("claim_ref").alias("claimed_in"))
    if claimed.height:
        evaluation.decisions = (
            evaluation.decisions.drop("claimed_in")
            .join(claimed, on="family_id", how="left")
            .with_columns(pl.col("claimed_in").fill_null(""))
            .select(DECISION_COLUMNS)
        )
    return evaluation


def csv_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """Dates as ISO text and empty text as an empty cell, so minimal quoting leaves no `""`."""
    return frame.with_columns(pl.col(pl.Date).dt.strftime("%Y-%m-%d")).with_columns(pl.col(pl.String).replace("", None))


def write_decisions(
    evaluation: Evaluation,
    out: str | Path,
    detail: str | Path | None = None,
    xlsx: str | Path | None = None,
    progress=lambda step: None,
    council=None,
) -> None:
    """The decisions CSV, its run record, and the detail CSV and workbook when asked; `progress(step)` before each.

    Each file replaces its old copy only once all are written, so a decisions file never stands beside the run
    record of another run.
    """
    out = Path(out)
    with ExitStack() as replaced_together:

        def written(path: str | Path) -> Path:
            return replaced_together.enter_context(written_whole(path))

        progress(f"writing {out.name}")
        csv_ready(evaluation.decisions).write_csv(written(out), quote_style="necessary", null_value="")
        if detail:
            progress(f"writing {Path(detail).name}")
            csv_ready(evaluation.detail).write_csv(written(detail), quote_style="necessary", null_value="")
        if xlsx:
            rows = evaluation.decisions.height + evaluation.detail.height
            progress(f"writing {Path(xlsx).name}: {rows:,} rows")
            write_evaluation_workbook(evaluation, written(xlsx), council)
        if out.is_file() or not out.exists():  # a pipe such as /dev/stdout has no folder to hold a record beside it
            written(f"{out}.json").write_text(json.dumps(run_record(evaluation), indent=2) + "\n", encoding="utf-8")


def run_record(evaluation: Evaluation) -> dict:
    """What a decision was made from (outputs.md, `decisions.csv.json`)."""
    return {
        "pbr_version": VERSION,
        "as_of": evaluation.as_of.isoformat(),
        "plan": {
            "name": evaluation.plan.name,
            "sha256": evaluation.plan.sha256,
            "source": Path(evaluation.plan.source).name,
        },
        "inputs": [
            {
                "file": f.source,
                "table": f.table,
                "sha256": f.sha256,
                "rows_read": f.rows_read,
                "loaded": f.loaded,
                "quarantined": f.quarantined,
            }
            for f in evaluation.files
        ],
        **({"database": evaluation.database} if evaluation.database is not None else {}),
        "families": evaluation.decisions.height,
        "quarantined_rows": evaluation.quarantined,
        "warnings": evaluation.warnings,
        "ran_at": utc_now().isoformat(timespec="seconds"),
    }


def write_evaluation_workbook(evaluation: Evaluation, path: str | Path, council=None) -> Path:
    from pbr.periods import day_in_words
    from pbr.workbooks import document_for, write_streamed

    document = document_for(
        "Decisions and their evidence", f"as of {day_in_words(evaluation.as_of)}", council, evaluation.plan
    )
    return write_streamed(path, {"Decisions": evaluation.decisions, "Detail": evaluation.detail}, document=document)
