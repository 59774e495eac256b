"""Documents and start-up: spot-check evidence packs for 50 families, and how long the CLI takes to start.

Runs `pbr demo` once (kept in --work), then times `pbr claim pack` for 50 families of the demo's claim (target:
under 30 seconds on a 2-core machine), and the median of five runs of `pbr --help` (target: under 0.5 s) and of
`pbr claim list` on the demo's database (target: under 1 s).

    python benchmarks/documents.py [--families 2000] [--packs 50]
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import time

from _common import PYTHON, arguments

PACK_TARGET, HELP_TARGET, LIST_TARGET = 30.0, 0.5, 1.0


def pbr(*args: str, check: bool = True) -> float:
    started = time.perf_counter()
    subprocess.run([PYTHON, "-m", "pbr.cli", *args], check=check, capture_output=True)
    return time.perf_counter() - started


def median_of(runs: int, *args: str) -> float:
    return statistics.median(pbr(*args) for _ in range(runs))


def main() -> None:
    parser = arguments(__doc__.splitlines()[0], families=False)
    parser.add_argument("--families", type=int, default=2000)
    parser.add_argument("--packs", type=int, default=50)
    options = parser.parse_args()
    folder = options.work / f"documents-{options.families}"
    database = f"sqlite:///{folder / 'pbr.db'}"
    if not (folder / "pbr.db").exists():
        pbr("demo", "--families", str(options.families), "--folder", str(folder))
    import polars as pl
    from sqlalchemy import text

    from pbr.store import Store

    store = Store(database)
    ref = store.read(text("SELECT ref FROM claims ORDER BY ref DESC LIMIT 1"), schema={"ref": pl.String})["ref"][0]
    lines = store.read(
        text("SELECT family_id FROM claim_lines WHERE claim_ref = :ref ORDER BY family_id").bindparams(ref=ref),
        schema={"family_id": pl.String},
    )["family_id"].head(options.packs)
    out = folder / "packs"
    shutil.rmtree(out, ignore_errors=True)
    chosen = [part for family in lines for part in ("--family", family)]
    seconds = pbr("--db", database, "claim", "pack", "--claim", ref, "--out", str(out), *chosen)
    pages = len(list(out.glob("*.pdf")))
    print(f"evidence packs: {pages} families of claim {ref} in {seconds:.1f} s (target {PACK_TARGET:.0f} s)")
    help_seconds = median_of(5, "--help")
    list_seconds = median_of(5, "--db", database, "claim", "list")
    print(f"pbr --help: {help_seconds:.2f} s (target {HELP_TARGET} s)")
    print(f"pbr claim list: {list_seconds:.2f} s (target {LIST_TARGET} s)")


if __name__ == "__main__":
    main()
