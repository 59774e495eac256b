"""Where `pbr evaluate --data` spends its time: each stage's wall time, in seconds and in plain reads.

A plain read is a separate process that only reads every CSV with polars (all columns as strings), the
yardstick of `evaluate_scale.py`. Stages run in this process, one after another, as the command runs them.
The floor is another separate process doing the least any evaluation must do before its first decision: read
every CSV, type its dates and numbers, and find each person's record's family.

    python benchmarks/evaluate_stages.py [--families 100000]
"""

from __future__ import annotations

import datetime as dt
import time

from _common import PYTHON, arguments, make_data, rows_in, run_measured
from evaluate_scale import PLAIN_READ

from pbr.engine.decide import decide
from pbr.evaluate import csv_ready
from pbr.feeds import read_path, validate
from pbr.plan import load_plan

FLOOR = """\
import sys, pathlib, polars as pl
tables = {p.stem: pl.read_csv(p, infer_schema=False) for p in sorted(pathlib.Path(sys.argv[1]).glob('*.csv'))}
day = lambda column: pl.col(column).str.to_date('%Y-%m-%d', strict=False)
whole = lambda column: pl.col(column).cast(pl.Int64, strict=False)
typed = {
    'families': [day('attachment_date'), day('closure_date')], 'members': [day('date_of_birth')],
    'events': [day('event_date')], 'episodes': [day('start_date'), day('end_date')],
    'indicators': [day('identified_date')], 'terms': [day('start_date'), day('end_date')],
    'attendance': [whole('possible_sessions'), whole('authorised_absence'), whole('unauthorised_absence')],
    'assessments': [day('assessment_date'), pl.col('score').cast(pl.Decimal(38, 9), strict=False)],
}
tables = {name: frame.with_columns(typed.get(name, [])) for name, frame in tables.items()}
person_family = tables['members'].select('person_id', 'family_id')
for name in ['events', 'episodes', 'indicators', 'attendance']:
    tables[name] = tables[name].join(person_family, on='person_id', how='left')
"""


def main() -> None:
    parser = arguments(__doc__)
    options = parser.parse_args()
    data = make_data(options.families, options.work / f"data-{options.families}")
    as_of = dt.date.fromisoformat(options.as_of)
    plan = load_plan(None)

    plain, _ = run_measured([PYTHON, "-c", PLAIN_READ, str(data)])
    floor, _ = run_measured([PYTHON, "-c", FLOOR, str(data)])
    polars_only, _ = run_measured([PYTHON, "-c", "import polars"])
    with_cli, _ = run_measured([PYTHON, "-c", "import pbr.cli"])
    stages: list[tuple[str, float]] = [("imports beyond polars (pbr, typer, rich, yaml)", with_cli - polars_only)]

    def timed(name: str, work):
        started = time.perf_counter()
        value = work()
        stages.append((name, time.perf_counter() - started))
        return value

    read = timed("read and trim every CSV, SHA-256 of each file", lambda: read_path(data))
    validated = timed(
        "validate: types, rules (pandera), keys, references", lambda: validate(read.files, plan.theme_codes)
    )
    timed(
        "decide without the forecast",
        lambda: decide(plan, validated.tables, as_of, validated.quarantine, forecast=False),
    )
    decided = timed("decide with the forecast", lambda: decide(plan, validated.tables, as_of, validated.quarantine))
    timed(
        "write the decisions CSV",
        lambda: csv_ready(decided.decisions).write_csv(
            options.work / "stages-decisions.csv", quote_style="necessary", null_value=""
        ),
    )

    print(
        f"{options.families:,} families, {rows_in(data):,} records; a plain read takes {plain:.2f} s "
        f"(of which {polars_only:.2f} s starting Python and importing polars)"
    )
    for name, seconds in stages:
        print(f"  {name:<58} {seconds:6.2f} s  {seconds / plain:5.2f} plain reads")
    before_deciding = stages[0][1] + stages[1][1] + stages[2][1] + polars_only
    print(
        f"  up to the first decision (start, imports, read, validate): {before_deciding:.2f} s, "
        f"{before_deciding / plain:.2f} plain reads"
    )
    print(
        f"  the floor (a process that reads, types, and finds each record's family): {floor:.2f} s, "
        f"{floor / plain:.2f} plain reads"
    )


if __name__ == "__main__":
    main()
