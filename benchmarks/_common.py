"""Helpers for the benchmark scripts: synthetic data on disk, and timing a whole process with its peak memory."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from pbr.demo import generate, write_csvs


def arguments(description: str | None, families: bool = True) -> argparse.ArgumentParser:
    """The options every benchmark takes: how many families, the as-of date, and where data is kept."""
    parser = argparse.ArgumentParser(description=description)
    if families:
        parser.add_argument("--families", type=int, default=100_000)
    parser.add_argument("--as-of", default="2018-12-31")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "pbr-bench")
    return parser


def make_data(families: int, folder: Path, seed: int = 2017, plan: str = "troubled-families-2015") -> Path:
    """The synthetic council of `pbr demo` for a shipped plan, written once and kept in `folder`."""
    if (folder / "families.csv").exists():
        return folder
    started = time.perf_counter()
    write_csvs(generate(families, seed, plan=plan), folder)
    print(f"  generated {families:,} families in {time.perf_counter() - started:.1f} s ({folder})", flush=True)
    return folder


def run_measured(args: list[str], env: dict | None = None, quiet: bool = False) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of a child process run to completion (fork + wait4 gives its own rusage)."""
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child
        try:
            if quiet:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
            os.execvpe(args[0], args, {**os.environ, **(env or {})})
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed with {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_maxrss / 1024  # ru_maxrss is KiB on Linux


def rows_in(folder: Path) -> int:
    return sum(max(0, sum(1 for _ in open(p, "rb")) - 1) for p in folder.glob("*.csv"))


PYTHON = sys.executable
