"""The review cadences' dates: a pure function of a cadence (its document form) and the
engagement's holidays, passed in as data (this app knows nothing of engagements).

A cadence falls once per period (week, month, quarter, half-year, year) from its first date: on
the first date's day, on a weekday of the month ("first Tuesday"), or on a fixed day of the month
(the month's last day in shorter months). A date on a weekend or holiday moves to the next (or
previous) working day unless the cadence says not to; two dates moved onto the same day count
once. The review step, the artifacts, the PDF and the .ics all read dates from here.
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Iterable, Iterator
from typing import Any

SATURDAY = 5
MONTHS = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}
# How many dates each place shows: the pages and the pack, and the .ics (two years of weekly).
DATES_SHOWN = 4
CALENDAR_HORIZON_DAYS = 2 * 365
CALENDAR_MOST_EVENTS = 104


def is_working_day(day: datetime.date, holidays: set[datetime.date]) -> bool:
    return day.weekday() < SATURDAY and day not in holidays


def _add_months(day: datetime.date, months: int) -> datetime.date:
    """The first day of the month `months` after `day`'s month."""
    month_index = day.month - 1 + months
    return datetime.date(day.year + month_index // 12, month_index % 12 + 1, 1)


def nth_weekday(year: int, month: int, ordinal: int, weekday: int) -> datetime.date:
    """The `ordinal`-th (1–4, or -1 for the last) `weekday` (Monday 0) of a month."""
    if ordinal == -1:
        last = calendar.monthrange(year, month)[1]
        day = datetime.date(year, month, last)
        return day - datetime.timedelta(days=(day.weekday() - weekday) % 7)
    first = datetime.date(year, month, 1)
    return first + datetime.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (ordinal - 1))


def _date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and value:
        return datetime.date.fromisoformat(value)
    return None


def _nominal_dates(cadence: dict[str, Any], first: datetime.date) -> Iterator[datetime.date]:
    """The rule's dates before any shift, from the first date on, in order."""
    rule = cadence.get("day_rule") or "same_day"
    frequency = cadence.get("frequency") or "quarterly"
    weekday = cadence.get("weekday")
    if frequency == "weekly":
        monday = first - datetime.timedelta(days=first.weekday())
        for number in range(100_000):
            if rule == "nth_weekday" and weekday is not None:
                yield monday + datetime.timedelta(days=7 * number + weekday)
            else:
                yield first + datetime.timedelta(days=7 * number)
        return
    months = MONTHS.get(frequency, 3)
    for number in range(100_000):
        month = _add_months(first, months * number)
        length = calendar.monthrange(month.year, month.month)[1]
        if rule == "nth_weekday" and weekday is not None:
            yield nth_weekday(month.year, month.month, cadence.get("ordinal") or 1, weekday)
        elif rule == "day_of_month" and cadence.get("day_of_month"):
            yield month.replace(day=min(cadence["day_of_month"], length))
        else:
            yield month.replace(day=min(first.day, length))


def shifted(day: datetime.date, shift: str, holidays: set[datetime.date]) -> datetime.date:
    """`day`, or the nearest working day after (or before) it, as the shift rule says."""
    if shift not in ("next_working_day", "previous_working_day"):
        return day
    step = datetime.timedelta(days=1 if shift == "next_working_day" else -1)
    while not is_working_day(day, holidays):
        day += step
    return day


def review_dates(
    cadence: dict[str, Any],
    holidays: Iterable[datetime.date | str] = (),
    *,
    count: int = DATES_SHOWN,
    until: datetime.date | None = None,
) -> list[datetime.date]:
    """The cadence's first `count` review dates (those up to `until`, if given), in order,
    never twice the same day; none without a first date."""
    first = _date(cadence.get("first_date"))
    if first is None:
        return []
    days_off = {day for day in (_date(h) for h in holidays) if day is not None}
    shift = cadence.get("shift") or "none"
    dates: list[datetime.date] = []
    try:
        for nominal in _nominal_dates(cadence, first):
            if nominal < first:
                continue
            if until is not None and nominal > until:
                break
            day = shifted(nominal, shift, days_off)
            if not dates or day > dates[-1]:
                dates.append(day)
            if len(dates) >= count:
                break
    except (OverflowError, ValueError):
        pass  # the calendar ends at year 9999; the dates up to it stand
    return dates


def calendar_dates(
    cadence: dict[str, Any], holidays: Iterable[datetime.date | str] = ()
) -> list[datetime.date]:
    """The dates the .ics carries: two years from the first date."""
    first = _date(cadence.get("first_date"))
    if first is None:
        return []
    try:
        until = first + datetime.timedelta(days=CALENDAR_HORIZON_DAYS)
    except OverflowError:
        until = datetime.date.max
    return review_dates(cadence, holidays, count=CALENDAR_MOST_EVENTS, until=until)


def off_days(
    cadence: dict[str, Any], holidays: Iterable[datetime.date | str] = ()
) -> list[datetime.date]:
    """The shown dates that fall on a weekend or holiday (only when the cadence is not moved)."""
    days_off = {day for day in (_date(h) for h in holidays) if day is not None}
    return [day for day in review_dates(cadence, days_off) if not is_working_day(day, days_off)]
