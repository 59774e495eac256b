"""Build one small data set and evaluate it through the public API."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import yaml

import pbr
from conftest import write_dataset


def evaluate_rows(
    folder: Path, as_of: str, plan=None, **tables
) -> tuple[dict[str, dict], pl.DataFrame, pbr.Evaluation]:
    write_dataset(folder, **tables)
    evaluation = pbr.evaluate(data=folder, as_of=dt.date.fromisoformat(as_of), plan=plan)
    rows = {r["family_id"]: r for r in evaluation.decisions.iter_rows(named=True)}
    return rows, evaluation.detail, evaluation


def measure_met(detail: pl.DataFrame, family: str, theme: str, measure_prefix: str = "progress[0]") -> bool:
    row = detail.filter(
        (pl.col("family_id") == family) & (pl.col("theme") == theme) & pl.col("measure").str.starts_with(measure_prefix)
    )
    assert row.height == 1, f"expected one {theme} {measure_prefix} row for {family}, got {row.height}"
    return row.get_column("met")[0]


def family(fid: str, attached: str, **extra) -> dict:
    return {"family_id": fid, "attachment_date": attached, **extra}


def member(pid: str, fid: str, born: str | None) -> dict:
    return {"person_id": pid, "family_id": fid, "date_of_birth": born or ""}


def plan_file(folder: Path, themes: dict, **top) -> pbr.Plan:
    """A small plan written for one test: one theme is enough, no dependent-child rule."""
    body = {
        "name": "test-plan",
        "min_themes": 1,
        "require_dependent_child": False,
        "eligibility_lookback_months": 12,
        "themes": themes,
        **top,
    }
    path = folder / "plan.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(body))
    return pbr.load_plan(path)
