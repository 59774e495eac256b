"""Calendar arithmetic for windows and ISO weeks (outcome-plan.md, "Dates and windows")."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import polars as pl

# A Monday: ISO week numbers below count whole weeks from it.
EPOCH_MONDAY = dt.date(1970, 1, 5)


def add_months(day: pl.Expr, months: int) -> pl.Expr:
    """Same day-of-month `months` later (earlier when negative), clamped to the month's last day."""
    return day.dt.offset_by(f"{months}mo")


def school_age(born: pl.Expr, on: pl.Expr) -> pl.Expr:
    """Of school age on a day (outcome-plan.md): 5 or over and under 16."""
    return (born <= add_months(on, -60)) & (born > add_months(on, -192))


def add_days(day: pl.Expr, days: int) -> pl.Expr:
    return day + pl.duration(days=days)


def first_day_window_starts_from(earliest_start: pl.Expr, months: int) -> pl.Expr:
    """The first D with add_months(D, -months) >= earliest_start (D's window (S, D] then starts on or after it)."""
    candidate = add_months(earliest_start, months)
    return pl.when(add_months(candidate, -months) >= earliest_start).then(candidate).otherwise(add_days(candidate, 1))


def week_number(day: pl.Expr) -> pl.Expr:
    """Whole ISO weeks since EPOCH_MONDAY of the week holding `day`."""
    return (day - pl.lit(EPOCH_MONDAY)).dt.total_days().floordiv(7)


def monday_of(week: pl.Expr) -> pl.Expr:
    return pl.lit(EPOCH_MONDAY) + pl.duration(days=week * 7)


def sunday_of(week: pl.Expr) -> pl.Expr:
    return pl.lit(EPOCH_MONDAY) + pl.duration(days=week * 7 + 6)


def ratio(percent: Decimal | int) -> tuple[int, int]:
    """A percentage as an exact integer fraction num/den, for comparisons without floats."""
    value = Fraction(Decimal(str(percent)))
    return value.numerator, value.denominator


def iso(day: pl.Expr) -> pl.Expr:
    return day.dt.strftime("%Y-%m-%d")
