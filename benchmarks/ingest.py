"""Ingest speed: rows per second and peak memory of `pbr ingest` for 100,000 synthetic families (SQLite),
then `pbr evaluate` from that database.

    python benchmarks/ingest.py [--families N] [--db URL]
"""

from __future__ import annotations

from pathlib import Path

from _common import PYTHON, arguments, make_data, rows_in, run_measured


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--db", default=None, help="database URL (default: a new SQLite file)")
    options = parser.parse_args()
    data = make_data(options.families, options.work / f"data-{options.families}")
    rows = rows_in(data)
    db = options.db or f"sqlite:///{options.work / f'ingest-{options.families}.db'}"
    if db.startswith("sqlite:///"):
        Path(db[len("sqlite:///") :]).unlink(missing_ok=True)
    wall, peak = run_measured([PYTHON, "-m", "pbr.cli", "--db", db, "ingest", str(data)], quiet=True)
    print(
        f"ingest of {options.families:,} families ({rows:,} rows) into {db.split(':')[0]}: "
        f"{wall:.1f} s, {rows / wall:,.0f} rows/s, peak RSS {peak:,.0f} MiB"
    )
    wall, peak = run_measured([PYTHON, "-m", "pbr.cli", "--db", db, "ingest", str(data)], quiet=True)
    print(
        f"re-ingest of the same files (all unchanged): {wall:.1f} s, {rows / wall:,.0f} rows/s, peak RSS {peak:,.0f} MiB"
    )
    out = options.work / f"ingest-{options.families}-decisions.csv"
    wall, peak = run_measured(
        [PYTHON, "-m", "pbr.cli", "--db", db, "evaluate", "--as-of", options.as_of, "--out", str(out)], quiet=True
    )
    print(f"evaluate from the database: {wall:.1f} s, peak RSS {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
