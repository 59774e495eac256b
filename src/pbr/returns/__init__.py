"""Government returns and the finance reconciliation, from the same records and claims."""
from __future__ import annotations

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
    start = dt.date(year, 3 * q - 2, 1)
    end = dt.date(year + (q == 4), (3 * q) % 12 + 1, 1) - dt.timedelta(days=1)
    return start, end


def financial_year_bounds(year: int) -> tuple[dt.date, dt.date]:
    """Financial year 2017 runs from 1 April 2017 to 31 March 2018."""
    return dt.date(year, 4, 1), dt.date(year + 1, 3, 31)


def layout(name: str) -> dict:
    return load_yaml("returns.yaml")[name]
