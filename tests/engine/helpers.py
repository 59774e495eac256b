"""Build one small data set and evaluate it through the public API."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

import pbr
from conftest import write_dataset


def evaluate_rows(folder: Path, as_of: str, plan=None, **tables) -> tuple[dict[str, dict], pl.DataFrame, "pbr.Evaluation"]:
    write_dataset(folder, **tables)
    evaluation = pbr.evaluate(data=folder, as_of=dt.date.fromisoformat(as_of), plan=plan)
    rows = {r["family_id"]: r for r in evaluation.decisions.iter_rows(named=True)}
    return rows, evaluation.detail, evaluation


def measure_met(detail: pl.DataFrame, family: str, theme: str, measure_prefix: str = "progress[0]") -> bool:
    row = detail.filter((pl.col("family_id") == family) & (pl.col("theme") == theme)
                        & pl.col("measure").str.starts_with(measure_prefix))
    assert row.height == 1, f"expected one {theme} {measure_prefix} row for {family}, got {row.height}"
    return row.get_column("met")[0]


def family(fid: str, attached: str, **extra) -> dict:
    return {"family_id": fid, "attachment_date": attached, **extra}


def member(pid: str, fid: str, born: str | None) -> dict:
    return {"person_id": pid, "family_id": fid, "date_of_birth": born or ""}
