"""How a value reads, wherever it shows: step pages (through the template filters of the same
names), the artifacts and their CSV files, the ladder diagram and the PDF pack. One format each,
so the same figure never reads two ways.

Plain functions over plain values (numbers, strings, dates), so frozen documents and live rows
format alike.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

EMPTY = "—"


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


def or_empty(value: Any) -> str:
    """The value as text, or the dash when there is nothing."""
    return EMPTY if is_empty(value) else str(value)


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def number(value: Any) -> str:
    """Thousands separated, with decimals only where they say something: 1,500 and 0.85."""
    amount = _decimal(value)
    if amount is None:
        return str(value)
    if amount == amount.to_integral_value():
        return f"{amount:,.0f}"
    return f"{amount.normalize():,f}"


def money(amount: Any, currency: str | None) -> str:
    """ "EUR 500,000", "EUR 1,250.50": the ISO code first, cents only when there are some."""
    if is_empty(amount):
        return EMPTY
    decimal = _decimal(amount)
    if decimal is None:
        return f"{currency or ''} {amount}".strip()
    text = f"{decimal:,.0f}" if decimal == decimal.to_integral_value() else f"{decimal:,.2f}"
    return f"{currency or ''} {text}".strip()


def percent(value: Any) -> str:
    """ "2.5%", "100%": no trailing zeros, no space."""
    if is_empty(value):
        return EMPTY
    return f"{number(value)}%"


def days(count: int | None, *, signed: bool = False) -> str:
    """ "7 days", "1 day"; signed for a delta ("+7 days")."""
    if count is None:
        return EMPTY
    text = f"{count:,} day{'s' if count != 1 else ''}"
    return f"+{text}" if signed else text


def hours(count: int | None) -> str:
    if count is None:
        return EMPTY
    return f"{count:,} hour{'s' if count != 1 else ''}"


def milliseconds(count: int | None) -> str:
    return EMPTY if count is None else f"{count:,} ms"


def per_minute(count: int | None) -> str:
    return EMPTY if count is None else f"{count:,} requests/min"


def date(value: datetime.date | str | None) -> str:
    """ "2 Nov 2026"; accepts the ISO text of a framework document too."""
    if is_empty(value):
        return EMPTY
    if isinstance(value, str):
        value = datetime.date.fromisoformat(value)
    assert value is not None
    return f"{value:%-d %b %Y}"


def moment(value: datetime.datetime | None) -> str:
    """ "2 Nov 2026 14:05 CET": a point in time, in the zone `value` carries."""
    if value is None:
        return EMPTY
    return f"{value:%-d %b %Y %H:%M %Z}".rstrip()


def weekday_date(value: datetime.date) -> str:
    """ "Mon 2 Nov": a day of an engagement's plan, as its dashboard lists them (Django's date
    format "D j M")."""
    return f"{value:%a %-d %b}"


def day_time(value: datetime.datetime) -> str:
    """ "2 Nov 14:05": when something happened during an engagement, in the zone `value`
    carries (Django's date format "j M H:i")."""
    return f"{value:%-d %b %H:%M}"


def date_time(value: datetime.datetime) -> str:
    """ "2 Nov 2026, 14:05": when something happened, as pages print it, in the zone `value`
    carries (the filter of the same name gives it in the active zone). It reads as Django's
    date format "j M Y, H:i" at a tenth of its cost: a page of fifty versions or threads
    prints a hundred."""
    return f"{value:%-d %b %Y, %H:%M}"


def date_time_seconds(value: datetime.datetime) -> str:
    """ "2 Nov 2026, 14:05:09": when a change was recorded, as the audit trail prints it, in the
    zone `value` carries (Django's date format "j M Y, H:i:s")."""
    return f"{value:%-d %b %Y, %H:%M:%S}"


def trigger_rule(breaches: int, windows: int, window_hours: int) -> str:
    """When breaching a threshold escalates: the one sentence every page and file uses."""
    return f"Breached in {breaches} of the last {windows} {window_hours}-hour windows"


def approval_owner(name: str | None, role: str | None) -> str:
    """ "Dana Lead (CTO)"; "Not named (CTO)" when only the role is known."""
    owner = (name or "").strip() or "Not named"
    return f"{owner} ({role.strip()})" if role and role.strip() else owner


def direct_entry(when: str | None, approver: str | None) -> str:
    """When a level may be entered directly, skipping the levels below it, and who approves:
    "A regulator orders it. Approved by: CTO"; "" when no skip is stated."""
    when, approver = (when or "").strip(), (approver or "").strip()
    if not when:
        return ""
    sentence = when if when.endswith((".", "!", "?")) else f"{when}."
    return f"{sentence} Approved by: {approver}" if approver else sentence


def names(text: str | None) -> list[str]:
    """The people a group names: "Dana Lead, Sam Risk; Ola" → three names."""
    return [name.strip() for name in (text or "").replace(";", ",").split(",") if name.strip()]


COST_BASES = {"one_off": "one-off", "monthly": "per month"}


def cost(amount: Any, currency: str | None, basis: str | None) -> str:
    """ "EUR 40,000 one-off", "EUR 2,500 per month"."""
    if is_empty(amount):
        return EMPTY
    return f"{money(amount, currency)} {COST_BASES.get(basis or 'one_off', basis)}"


def cost_range(low: Any, high: Any, currency: str | None, basis: str | None) -> str:
    """ "EUR 10,000–15,000 per month"; one figure when both ends agree ("EUR 5,000 one-off")."""
    if is_empty(low) and is_empty(high):
        return EMPTY
    if is_empty(high) or is_empty(low) or _decimal(low) == _decimal(high):
        return cost(low if not is_empty(low) else high, currency, basis)
    top = money(high, None)
    return f"{money(low, currency)}–{top} {COST_BASES.get(basis or 'one_off', basis)}"


TIMELINE_UNITS = {
    "working_days": ("working day", "working days"),
    "calendar_days": ("calendar day", "calendar days"),
    "weeks": ("week", "weeks"),
    "months": ("month", "months"),
}


def timeline(amount: int | None, unit: str | None) -> str:
    """ "10 working days", "1 week", "3 months": as entered."""
    if amount is None:
        return EMPTY
    one, many = TIMELINE_UNITS.get(unit or "working_days", (unit or "", unit or ""))
    return f"{amount:,} {one if amount == 1 else many}"


def approval_rule(rule: str | None, group: str | None, required: int | None) -> str:
    """ "Single approver", "All 3 of: A, B, C", "2 of 3: A, B, C"."""
    members = names(group)
    listed = ", ".join(members)
    if rule == "all_of_group":
        return f"All {len(members)} of: {listed}" if members else "All of a group not named"
    if rule == "k_of_group":
        k = required if required is not None else "?"
        return f"{k} of {len(members)}: {listed}" if members else f"{k} of a group not named"
    return "Single approver"


def deputy(name: str | None, role: str | None) -> str:
    """The deputy approver as the owner reads ("Sam Risk (CRO)"); "" when there is none."""
    if not (name or "").strip() and not (role or "").strip():
        return ""
    return approval_owner(name, role)


# What an unnamed metric of each kind is called after its value ("≤ 2% errors").
DEFAULT_METRIC_NAMES = {
    "quality": "quality",
    "error_rate": "errors",
    "latency": "",
    "throughput": "",
    "confidence": "confidence",
    "custom": "",
}
UNIT_SUFFIXES = {"ratio": "", "percent": "%", "ms": " ms", "s": " s"}


def bound(
    *,
    metric_kind: str,
    metric_name: str = "",
    percentile: str = "",
    direction: str,
    value: Any,
    unit: str,
    counted_thing: str = "",
    scale_max: Any = None,
) -> str:
    """A bound as one phrase: "≥ 0.985 field accuracy", "p99 ≤ 8 s", "≤ 2% errors",
    "≥ 4.2/5 CSAT rating", "≥ 60 documents/min"."""
    symbol = "≥" if direction == "at_least" else "≤"
    amount = number(value)
    if unit == "score":
        amount = f"{amount}/{number(scale_max)}" if not is_empty(scale_max) else amount
    elif unit in ("per_minute", "per_hour"):
        amount = (
            f"{amount} {counted_thing or 'requests'}/{'min' if unit == 'per_minute' else 'hour'}"
        )
    else:
        amount += UNIT_SUFFIXES.get(unit, "")
    name = metric_name or DEFAULT_METRIC_NAMES.get(metric_kind, "")
    prefix = f"{percentile} " if metric_kind == "latency" and percentile else ""
    return f"{prefix}{symbol} {amount} {name}".strip()


def bound_phrase(item: dict[str, Any]) -> str:
    """A bound of a framework document as one phrase (see `bound`)."""
    return bound(
        metric_kind=item.get("metric_kind", ""),
        metric_name=item.get("metric_name", ""),
        percentile=item.get("percentile", ""),
        direction=item.get("direction", ""),
        value=item.get("value"),
        unit=item.get("unit", ""),
        counted_thing=item.get("counted_thing", ""),
        scale_max=item.get("scale_max"),
    )


# A level of a framework document, read with its framework's currency (a level's own currency
# is "" when it inherits it): the one reading of its governance every artifact prints.
def level_currency(level: dict[str, Any], framework_currency: str | None) -> str:
    return level.get("currency") or framework_currency or ""


def level_estimate(level: dict[str, Any], framework_currency: str | None) -> str:
    return cost_range(
        level.get("estimated_cost_low"),
        level.get("estimated_cost_high"),
        level_currency(level, framework_currency),
        level.get("cost_basis"),
    )


def level_ceiling(level: dict[str, Any], framework_currency: str | None) -> str:
    return cost(
        level.get("cost_ceiling"),
        level_currency(level, framework_currency),
        level.get("cost_ceiling_basis"),
    )


def level_timeline(level: dict[str, Any]) -> str:
    return timeline(level.get("timeline_amount"), level.get("timeline_unit"))


def level_approval(level: dict[str, Any]) -> str:
    return approval_rule(
        level.get("approval_rule"), level.get("approval_group"), level.get("approvals_required")
    )


# What a drift trigger's metric is called in its sentence ("PSI of input features above 0.2").
DRIFT_METRIC_PHRASES = {
    "quality": "quality",
    "error_rate": "error rate",
    "latency": "latency",
    "throughput": "throughput",
    "confidence": "confidence",
    "input_drift_psi": "PSI of input features",
    "cost_per_request": "cost per request",
    "volume": "volume",
    "human_override_rate": "human override rate",
}
DRIFT_COMPARISON_PHRASES = {
    "absolute": "",
    "change_vs_previous": " change versus the previous window",
    "change_vs_baseline": " change versus the baseline",
}
NEEDS_VALUE = "needs a value"


def window_span(length: int | None, unit: str | None) -> str:
    """ "7 days", "24 hours"."""
    return hours(length) if unit == "hours" else days(length)


def drift_trigger(
    *,
    metric: str,
    comparison: str,
    operator: str,
    value: Any,
    window: int | None,
    window_unit: str | None,
    note: str = "",
) -> str:
    """A drift trigger as one sentence: "PSI of input features above 0.2 over 7 days", "Quality
    change versus the previous window below -0.02 over 24 hours". One upgraded from free text
    and not yet given a value reads as its text, marked "(needs a value)"."""
    name = DRIFT_METRIC_PHRASES.get(metric, metric.replace("_", " "))
    span = window_span(window, window_unit)
    if is_empty(value):
        text = f"{name}: {note.strip()}" if note.strip() else name
        return _capitalized(f"{text} over {span} ({NEEDS_VALUE})")
    comparing = DRIFT_COMPARISON_PHRASES.get(comparison, "")
    sentence = f"{name}{comparing} {operator} {number(value)} over {span}"
    return _capitalized(f"{sentence}; {note.strip()}" if note.strip() else sentence)


def _capitalized(text: str) -> str:
    # "PSI ..." stays as written; "quality ..." starts a sentence.
    return text[:1].upper() + text[1:]


def fraction_as_percent(value: Any) -> str:
    """A fraction 0–1 as a percentage: 0.5 → "50%"."""
    if is_empty(value):
        return EMPTY
    amount = _decimal(value)
    return percent(amount * 100) if amount is not None else str(value)


def sunset_rule(*, level_names: list[str], after_days: int | None, improvement: Any) -> str:
    """ "Fine-tuning, Hybrid routing: rolled back when, after 90 days, it has closed less than
    50% of the gap to the threshold"."""
    levels = ", ".join(level_names) or "Every level"
    return (
        f"{levels}: rolled back when, after {days(after_days)}, it has closed less than "
        f"{fraction_as_percent(improvement)} of the gap to the threshold"
    )


ORDINAL_WORDS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
FREQUENCY_WORDS = {
    "weekly": "Weekly",
    "monthly": "Monthly",
    "quarterly": "Quarterly",
    "half_yearly": "Half-yearly",
    "yearly": "Yearly",
}
SHIFT_PHRASES = {
    "next_working_day": "moved to the next working day off weekends and holidays",
    "previous_working_day": "moved to the previous working day off weekends and holidays",
    "none": "not moved off weekends and holidays",
}


def _day_of_month(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def cadence_rule(
    *,
    frequency: str,
    day_rule: str,
    ordinal: int | None,
    weekday: int | None,
    day_of_month: int | None,
    first_date: Any,
    shift: str,
) -> str:
    """ "Monthly, on the first Tuesday of the month, from 5 Jan 2027; moved to the next working
    day off weekends and holidays"."""
    period = "week" if frequency == "weekly" else "month"
    if day_rule == "nth_weekday" and weekday is not None and 0 <= weekday <= 6:
        if frequency == "weekly":
            on = f"on {WEEKDAY_NAMES[weekday]}s"
        else:
            on = f"on the {ORDINAL_WORDS.get(ordinal or 1, '')} {WEEKDAY_NAMES[weekday]} of the {period}"
    elif day_rule == "day_of_month" and day_of_month is not None:
        on = f"on the {_day_of_month(day_of_month)} of the month"
    else:
        on = "on the first date's day"
    start = f"from {date(first_date)}" if not is_empty(first_date) else "no first date set"
    frequency_word = FREQUENCY_WORDS.get(frequency, frequency)
    return f"{frequency_word}, {on}, {start}; {SHIFT_PHRASES.get(shift, shift)}"
