"""Government returns and the finance reconciliation, from the same records and claims."""
from __future__ import annotations

import calendar
import datetime as dt
import re

from pbr.resources import load_yaml


class ReturnError(ValueError):
    """A return that cannot be made; the message says why."""


def quarter_bounds(text: str) -> tuple[dt.date, dt.date]:
    """'2017-Q3' -> (2017-07-01, 2017-09-30): calendar quarters."""
    match = re.fullmatch(r"(\d{4})-Q([1-4])", text.strip())
    if not match:
        raise ReturnError(f"quarter {text!r} is not written YYYY-QN (for example 2017-Q3)")
    year, q = int(match[1]), int(match[2])
    if year < 1:
        raise ReturnError(f"quarter {text!r}: the calendar starts at year 1")
    return dt.date(year, 3 * q - 2, 1), dt.date(year, 3 * q, calendar.monthrange(year, 3 * q)[1])


def financial_year_bounds(year: int) -> tuple[dt.date, dt.date]:
    """Financial year 2017 runs from 1 April 2017 to 31 March 2018."""
    if not 1 <= year <= 9998:
        raise ReturnError(f"financial year {year} is not one pbr can work with (1 to 9998, the last ending 9999-03-31)")
    return dt.date(year, 4, 1), dt.date(year + 1, 3, 31)


def layout(name: str) -> dict:
    return load_yaml("returns.yaml")[name]
