"""National scale: `pbr evaluate --data` on 100,000 and 400,000 synthetic families.

Prints wall time, peak memory (maximum RSS of the process) and the ratio of the whole evaluate process's
wall time to that of a process that only reads every CSV with polars (all columns as strings).

    python benchmarks/evaluate_scale.py [--sizes 100000 400000]
"""

from __future__ import annotations

from _common import PYTHON, arguments, make_data, rows_in, run_measured

PLAIN_READ = (
    "import sys, pathlib, polars as pl\n"
    "for p in sorted(pathlib.Path(sys.argv[1]).glob('*.csv')): pl.read_csv(p, infer_schema=False)\n"
)


def main() -> None:
    parser = arguments(__doc__, families=False)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 400_000])
    options = parser.parse_args()
    for size in options.sizes:
        data = make_data(size, options.work / f"data-{size}")
        rows = rows_in(data)
        out = options.work / f"decisions-{size}.csv"
        wall, peak = run_measured(
            [PYTHON, "-m", "pbr.cli", "evaluate", "--data", str(data), "--as-of", options.as_of, "--out", str(out)],
            quiet=True,
        )
        read_wall, read_peak = run_measured([PYTHON, "-c", PLAIN_READ, str(data)])
        print(
            f"{size:,} families, {rows:,} records: evaluate {wall:.1f} s, peak RSS {peak:,.0f} MiB; "
            f"plain read {read_wall:.1f} s ({read_peak:,.0f} MiB); ratio {wall / read_wall:.2f}x",
            flush=True,
        )


if __name__ == "__main__":
    main()
