"""Government returns and the finance reconciliation, from the same records and claims."""

from __future__ import annotations

import datetime as dt

from pbr import periods
from pbr.resources import load_yaml


class ReturnError(ValueError):
    """A return that cannot be made; the message says why."""


def quarter_bounds(text: str) -> tuple[dt.date, dt.date]:
    """'2017-Q3' -> (2017-07-01, 2017-09-30); a quarter pbr cannot read is a ReturnError."""
    try:
        found = periods.quarter(text)
    except periods.PeriodError as error:
        raise ReturnError(str(error)) from None
    return found.start, found.end


def financial_year_bounds(year: int) -> tuple[dt.date, dt.date]:
    """Financial year 2017 runs from 1 April 2017 to 31 March 2018; one outside the calendar is a ReturnError."""
    try:
        found = periods.financial_year(year)
    except periods.PeriodError as error:
        raise ReturnError(str(error)) from None
    return found.start, found.end


def layout(name: str) -> dict:
    return load_yaml("returns.yaml")[name]
