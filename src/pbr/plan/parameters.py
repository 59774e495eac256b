"""Dated parameters (OpenFisca's idea): each value applies from its date until the next, and names its source.

The money of each programme (financial_parameters.yaml, in pence; a plan's `programme` picks one) and the
internal audit's numbers (audit_parameters.yaml) are read the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from pbr.plan.model import DEFAULT_PROGRAMME, PlanError
from pbr.resources import parse_yaml, schema_path

MONEY = ("attachment_fee_pence", "results_payment_pence")
AUDIT = ("sample_percent", "sample_minimum", "full_review_one_in")
AUDIT_SECTION = "internal_audit"  # a council's file may carry its own


class ParametersError(PlanError):
    """A parameters file that cannot be used, or a programme it does not price."""


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

    @property
    def first_day(self) -> dt.date:
        return self.values[0][0]


@dataclass(frozen=True)
class Parameters:
    """The money of each programme and the internal audit's numbers, all dated, each with its source."""

    programmes: dict[str, dict[str, DatedParameter]]
    audit: dict[str, DatedParameter]
    source: str

    def money(self, programme: str = DEFAULT_PROGRAMME) -> dict[str, DatedParameter]:
        """The attachment fee and results payment a plan of this programme is priced by."""
        if programme not in self.programmes:
            raise ParametersError(
                f"{self.source}: no money parameters for programme {programme!r} (it has {', '.join(self.programmes)})"
            )
        return self.programmes[programme]


def _dated(name: str, body: Any, unit: str) -> DatedParameter:
    if not isinstance(body, dict) or "values" not in body:
        raise PlanError(f"{name}.values: missing")
    if not body.get("reference"):
        raise PlanError(f"{name}.reference: every parameter needs its source")
    if not isinstance(body["values"], dict):
        raise PlanError(f"{name}.values: must map each date YYYY-MM-DD to a whole number of {unit}")
    values = []
    for start, value in body["values"].items():
        if not isinstance(start, dt.date):
            raise PlanError(f"{name}.values.{start}: the key must be a date YYYY-MM-DD")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise PlanError(f"{name}.values.{start}: must be a whole number of {unit} >= 0")
        values.append((start, value))
    if not values:
        raise PlanError(f"{name}.values: give at least one date and value")
    return DatedParameter(name.rsplit(".", 1)[-1], body["reference"], tuple(sorted(values)))


def _group(data: Any, where: str, required: tuple[str, ...], unit: str, source: str) -> dict[str, DatedParameter]:
    if not isinstance(data, dict):
        raise ParametersError(f"{where}: must be a mapping of parameters")
    group = {name: _dated(f"{where}.{name}" if where else name, body, unit) for name, body in data.items()}
    missing = [name for name in required if name not in group]
    if missing:
        raise ParametersError(f"{source}: {where + ': ' if where else ''}missing {', '.join(missing)}")
    return group


def _read(source: Path) -> Any:
    try:
        return parse_yaml(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise PlanError(f"{source.name}: {error}") from None


def load_parameters(path: str | Path | None = None) -> Parameters:
    """The dated parameters: a council's file (`pbr --parameters`, PBR_FINANCIAL_PARAMETERS), else the shipped
    ones. A file of one programme's money without programme names (the older shape) prices the 2015 programme;
    the internal audit's numbers are the shipped ones unless the file has an `internal_audit` section."""
    source = Path(path) if path else schema_path("financial_parameters.yaml")
    try:
        data = _read(source)
    except PlanError as error:
        raise ParametersError(str(error)) from None
    if not isinstance(data, dict):
        raise ParametersError(f"{source.name}: must be a mapping of parameters")
    try:
        audit_data = data.pop(AUDIT_SECTION) if AUDIT_SECTION in data else _read(schema_path("audit_parameters.yaml"))
        audit = _group(audit_data, AUDIT_SECTION, AUDIT, "", source.name)
        if any(isinstance(body, dict) and "values" in body for body in data.values()):  # one programme's money
            programmes = {DEFAULT_PROGRAMME: _group(data, "", MONEY, "pence", source.name)}
        else:
            programmes = {
                str(name): _group(body, str(name), MONEY, "pence", source.name) for name, body in data.items()
            }
    except ParametersError:
        raise
    except PlanError as error:
        raise ParametersError(str(error)) from None
    if not programmes:
        raise ParametersError(f"{source.name}: no programme's money parameters")
    return Parameters(programmes, audit, source.name)
