"""National scale: `pbr evaluate --data` on 100,000 and 400,000 synthetic families.

Prints wall time, peak memory (maximum RSS of the process) and the ratio of the whole evaluate process's
wall time to that of a process that only reads every CSV with polars (all columns as strings). With `--plans`,
each size is evaluated under each shipped plan, its council generated for that plan (a Supporting Families
council has closures, milestones and follow-up scores; it is decided as of the end of 2024).

    python benchmarks/evaluate_scale.py [--sizes 100000 400000] [--plans troubled-families-2015 supporting-families-2022]
"""

from __future__ import annotations

from _common import PYTHON, arguments, make_data, rows_in, run_measured

from pbr.demo import PERIODS

PLAIN_READ = (
    "import sys, pathlib, polars as pl\n"
    "for p in sorted(pathlib.Path(sys.argv[1]).glob('*.csv')): pl.read_csv(p, infer_schema=False)\n"
)


def main() -> None:
    parser = arguments(__doc__, families=False)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 400_000])
    parser.add_argument("--plans", nargs="+", default=["troubled-families-2015"])
    options = parser.parse_args()
    for size in options.sizes:
        for plan in options.plans:
            default = plan == "troubled-families-2015"
            data = make_data(size, options.work / (f"data-{size}" if default else f"data-{plan}-{size}"), plan=plan)
            as_of = options.as_of if default else str(PERIODS[plan][2])
            rows = rows_in(data)
            out = options.work / f"decisions-{plan}-{size}.csv"
            command = [PYTHON, "-m", "pbr.cli", "evaluate", "--data", str(data), "--as-of", as_of, "--out", str(out)]
            wall, peak = run_measured([*command, "--plan", plan], quiet=True)
            read_wall, read_peak = run_measured([PYTHON, "-c", PLAIN_READ, str(data)])
            print(
                f"{plan}, {size:,} families, {rows:,} records: evaluate {wall:.1f} s, peak RSS {peak:,.0f} MiB; "
                f"plain read {read_wall:.1f} s ({read_peak:,.0f} MiB); ratio {wall / read_wall:.2f}x",
                flush=True,
            )


if __name__ == "__main__":
    main()
