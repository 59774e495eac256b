"""Dated money parameters (financial_parameters.yaml): the value in force on a date, in pence."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml

from pbr.plan.model import PlanError
from pbr.resources import PARAMETERS_ENV, parse_yaml, schema_path


@dataclass(frozen=True)
class DatedParameter:
    name: str
    reference: str
    values: tuple[tuple[dt.date, int], ...]  # sorted by date

    def at(self, day: dt.date) -> int:
        in_force = [value for start, value in self.values if start <= day]
        if not in_force:
            raise PlanError(f"{self.name}: no value in force on {day.isoformat()} (first from {self.values[0][0]})")
        return in_force[-1]

    def lookup(self, days: pl.Expr) -> pl.Expr:
        """Vectorised value in force on each day (null before the first date)."""
        expr = pl.lit(None, dtype=pl.Int64)
        for start, value in self.values:
            expr = pl.when(days >= pl.lit(start)).then(pl.lit(value, dtype=pl.Int64)).otherwise(expr)
        return expr


REQUIRED = ("attachment_fee_pence", "results_payment_pence")


def load_parameters(path: str | Path | None = None) -> dict[str, DatedParameter]:
    """The dated money parameters: the council's file named by PBR_FINANCIAL_PARAMETERS (`pbr --parameters`),
    else the shipped ones."""
    named = path or os.environ.get(PARAMETERS_ENV)
    source = Path(named) if named else schema_path("financial_parameters.yaml")
    try:
        data = parse_yaml(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise PlanError(f"{source.name}: {error}") from None
    if not isinstance(data, dict):
        raise PlanError(f"{source.name}: must be a mapping of parameters")
    parameters = {}
    for name, body in data.items():
        if not isinstance(body, dict) or "values" not in body:
            raise PlanError(f"{name}.values: missing")
        if not body.get("reference"):
            raise PlanError(f"{name}.reference: every parameter needs its source")
        if not isinstance(body["values"], dict):
            raise PlanError(f"{name}.values: must map each date YYYY-MM-DD to a whole number of pence")
        values = []
        for start, value in body["values"].items():
            if not isinstance(start, dt.date):
                raise PlanError(f"{name}.values.{start}: the key must be a date YYYY-MM-DD")
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise PlanError(f"{name}.values.{start}: must be a whole number of pence >= 0")
            values.append((start, value))
        if not values:
            raise PlanError(f"{name}.values: give at least one date and value")
        parameters[name] = DatedParameter(name, body["reference"], tuple(sorted(values)))
    missing = [name for name in REQUIRED if name not in parameters]
    if missing:
        raise PlanError(f"{source.name}: missing {', '.join(missing)}")
    return parameters
