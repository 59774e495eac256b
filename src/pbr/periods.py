"""Calendar arithmetic in one place: months with clamping, ISO weeks, quarters, financial years, UTC timestamps.

outcome-plan.md, "Dates and windows", fixes the month rule; quarters are calendar quarters (`2017-Q3` is July
to September 2017) and a financial year runs from 1 April (programme.md, "Reconciliation").
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import polars as pl

# A Monday: ISO week numbers below count whole weeks from it.
EPOCH_MONDAY = dt.date(1970, 1, 5)
SCHOOL_AGE_FROM_MONTHS = 60  # 5 years: outcome-plan.md, attendance_sustained
SCHOOL_AGE_UNTIL_MONTHS = 192  # 16 years
FIRST_MONTH_OF_FINANCIAL_YEAR = 4  # April
LAST_FINANCIAL_YEAR = 9998  # its last day, 9999-03-31, is near the last a date can hold
_QUARTER = re.compile(r"(\d{4})-Q([1-4])")


class PeriodError(ValueError):
    """A period written in a way pbr cannot read, or one outside the calendar."""


# ---- months -------------------------------------------------------------------------------------------------
def add_months(day: pl.Expr, months: int) -> pl.Expr:
    """Same day-of-month `months` later (earlier when negative), clamped to the month's last day."""
    return day.dt.offset_by(f"{months}mo")


def add_months_to(day: dt.date, months: int) -> dt.date:
    """`add_months` for one date."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def add_years_to(day: dt.date, years: int) -> dt.date:
    """The same day-of-month `years` later (earlier when negative); 29 February falls back to the 28th."""
    return add_months_to(day, 12 * years)


def add_days(day: pl.Expr, days: int) -> pl.Expr:
    return day + pl.duration(days=days)


def first_day_window_starts_from(earliest_start: pl.Expr, months: int) -> pl.Expr:
    """The first D with add_months(D, -months) >= earliest_start (D's window (S, D] then starts on or after it)."""
    candidate = add_months(earliest_start, months)
    return pl.when(add_months(candidate, -months) >= earliest_start).then(candidate).otherwise(add_days(candidate, 1))


def school_age(born: pl.Expr, on: pl.Expr) -> pl.Expr:
    """Of school age on a day (outcome-plan.md): 5 or over and under 16."""
    return (born <= add_months(on, -SCHOOL_AGE_FROM_MONTHS)) & (born > add_months(on, -SCHOOL_AGE_UNTIL_MONTHS))


# ---- ISO weeks ------------------------------------------------------------------------------------------------
def week_number(day: pl.Expr) -> pl.Expr:
    """Whole ISO weeks since EPOCH_MONDAY of the week holding `day`."""
    return (day - pl.lit(EPOCH_MONDAY)).dt.total_days().floordiv(7)


def monday_of(week: pl.Expr) -> pl.Expr:
    return pl.lit(EPOCH_MONDAY) + pl.duration(days=week * 7)


def sunday_of(week: pl.Expr) -> pl.Expr:
    return pl.lit(EPOCH_MONDAY) + pl.duration(days=week * 7 + 6)


# ---- exact numbers and text -----------------------------------------------------------------------------------
def ratio(percent: Decimal | int) -> tuple[int, int]:
    """A percentage as an exact integer fraction num/den, for comparisons without floats."""
    value = Fraction(Decimal(str(percent)))
    return value.numerator, value.denominator


def iso(day: pl.Expr) -> pl.Expr:
    return day.dt.strftime("%Y-%m-%d")


DAY_IN_WORDS = "%-d %b %Y"  # 2 Mar 2017: the way a day is written for people


def in_words(day: pl.Expr) -> pl.Expr:
    """A day as people read it (2 Mar 2017)."""
    return day.dt.strftime(DAY_IN_WORDS)


def day_in_words(day: dt.date | None) -> str:
    return "" if day is None else f"{day.day} {day.strftime('%b %Y')}"


def words_list(items) -> str:
    """Codes as words joined by "or": ['offence', 'asb'] -> "offence or asb"."""
    words = [str(item).replace("_", " ") for item in items]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


# ---- quarters and financial years -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """A span of days with the name people use for it."""

    name: str
    start: dt.date
    end: dt.date

    def __contains__(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def quarter(text: str) -> Period:
    """'2017-Q3' -> 1 July to 30 September 2017: calendar quarters."""
    match = _QUARTER.fullmatch(text.strip())
    if not match:
        raise PeriodError(f"quarter {text!r} is not written YYYY-QN (for example 2017-Q3)")
    year, number = int(match[1]), int(match[2])
    if year < 1:
        raise PeriodError(f"quarter {text!r}: the calendar starts at year 1")
    last_month = 3 * number
    return Period(
        f"{year:04d}-Q{number}",
        dt.date(year, last_month - 2, 1),
        dt.date(year, last_month, calendar.monthrange(year, last_month)[1]),
    )


def quarter_of(day: dt.date) -> Period:
    """The calendar quarter holding `day`."""
    return quarter(f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}")


def quarter_before(day: dt.date) -> Period:
    """The last calendar quarter that ended before `day`'s quarter began."""
    return quarter_of(quarter_of(day).start - dt.timedelta(days=1))


def quarter_after(period: Period) -> Period | None:
    """The next calendar quarter; None after 9999-Q4, the last a date can hold."""
    if period.end == dt.date(9999, 12, 31):
        return None
    return quarter_of(period.end + dt.timedelta(days=1))


def quarters_ending(last: Period, count: int) -> list[Period]:
    """`count` calendar quarters up to and including `last`, oldest first (fewer near year 1)."""
    found = [last]
    while len(found) < count and found[-1].start != dt.date.min:  # the calendar starts at year 1
        found.append(quarter_of(found[-1].start - dt.timedelta(days=1)))
    return found[::-1]


def financial_year(year: int) -> Period:
    """Financial year 2017 runs from 1 April 2017 to 31 March 2018."""
    if not 1 <= year <= LAST_FINANCIAL_YEAR:
        raise PeriodError(
            f"financial year {year} is not one pbr can work with (1 to {LAST_FINANCIAL_YEAR}, the last "
            f"ending {LAST_FINANCIAL_YEAR + 1}-03-31)"
        )
    return Period(
        f"{year}-{(year + 1) % 100:02d}",
        dt.date(year, FIRST_MONTH_OF_FINANCIAL_YEAR, 1),
        dt.date(year + 1, FIRST_MONTH_OF_FINANCIAL_YEAR, 1) - dt.timedelta(days=1),
    )


def financial_year_of(day: dt.date) -> int:
    """The financial year holding `day`, named by the year it starts in."""
    return day.year - (day.month < FIRST_MONTH_OF_FINANCIAL_YEAR)


# ---- timestamps -----------------------------------------------------------------------------------------------
def utc_now() -> dt.datetime:
    """Now, as an aware UTC timestamp: every timestamp pbr writes is one of these."""
    return dt.datetime.now(dt.UTC)


def as_utc(moment: dt.datetime | None) -> dt.datetime | None:
    """A timestamp read back from a database as an aware UTC one (SQLite keeps no zone; pbr writes UTC only)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
