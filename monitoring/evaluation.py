"""Evaluating metric points against a frozen framework document: pure, no ORM, no request.

A bound of the document measures one **metric** of one AI system, named by `metric_id`: the bound's
metric name in lower case with words joined by `_` ("field accuracy" → `field_accuracy`, "CSAT
rating" → `csat_rating`), or its metric kind when it has no name (`latency`, `error_rate`,
`throughput`, `confidence`). A point counts toward a bound when its AI system is the bound's, its
metric is the bound's, and its output type is the bound's threshold's (a threshold for all outputs
takes the points of every output type).

Time is cut into **windows** of the bound's `window_hours` (the threshold's when the bound has
none), counted from Monday 1970-01-05 00:00 UTC: daily windows start at midnight UTC, weekly ones
on Mondays. Times here are whole seconds since the Unix epoch; a window is named by its index.

Each window's points are **aggregated** by what the bound measures:
- latency: the bound's percentile (p50 when it names none) of the points' values, each point
  weighted by its sample size (nearest rank). Latency points are in milliseconds; the aggregate is
  given in the bound's unit (seconds or milliseconds);
- throughput: the sum of the points' values (things counted) over the window's length, per minute
  or per hour as the bound's unit says;
- everything else (ratios, percents, scores, error rates, confidences, custom metrics): the mean
  of the points' values weighted by their sample sizes, in the bound's unit.

The window's sample is the sum of its points' sample sizes. A window whose sample is below the
bound's minimum sample size is **not enough data**: never passing, never breaching. Otherwise it
is **breached** when its value is below an "at least" bound or above an "at most" one (a value
equal to the bound meets it), and an **immediate breach** when the value reaches the immediate-
breach value (at or below it for "at least", at or above for "at most"), which also breaches.

A window **fires** when it is an immediate breach, or when k of the last n windows (this one and
the n − 1 before it, by index) are breached. Windows with no points at all count as not breached.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import compress, pairwise
from operator import mul, ne
from typing import Any, NamedTuple

from escalation.formatting import bound_phrase

# Monday 1970-01-05 00:00 UTC, in seconds since the epoch.
WINDOW_ORIGIN = 4 * 24 * 3600
WINDOW_ORIGIN_TIME = datetime(1970, 1, 5, tzinfo=UTC)

PERCENTILES = {"p50": 50, "p90": 90, "p95": 95, "p99": 99}
LATENCY_DIVISORS = {"ms": 1.0, "s": 1000.0}


class Outcome(StrEnum):
    MET = "met"
    BREACHED = "breached"
    NOT_ENOUGH_DATA = "not_enough_data"


def metric_id(metric_name: str, metric_kind: str) -> str:
    """How a point names a bound's metric: its name as a lower-case identifier, else its kind."""
    words = re.findall(r"[a-z0-9]+", metric_name.lower())
    return "_".join(words) if words else metric_kind


def _number(value: Any) -> float | None:
    return None if value in (None, "") else float(value)


@dataclass(frozen=True)
class BoundRule:
    """One bound of a frozen document with its threshold's defaults filled in."""

    key: str
    ai_system: str
    output_type: str  # "" = every output type
    metric: str
    metric_kind: str
    percentile: str
    direction: str  # "at_least" / "at_most"
    value: float
    unit: str
    window_hours: int
    trigger_breaches: int
    trigger_windows: int
    immediate_breach_value: float | None
    minimum_sample_size: int
    text: str

    @property
    def window_seconds(self) -> int:
        return self.window_hours * 3600

    def covers(self, output_type: str) -> bool:
        return self.output_type in ("", output_type)

    def window_of(self, seconds: int) -> int:
        """The index of the window holding the time `seconds` (since the epoch)."""
        return (seconds - WINDOW_ORIGIN) // self.window_seconds

    def window_start(self, index: int) -> datetime:
        return WINDOW_ORIGIN_TIME + timedelta(hours=index * self.window_hours)

    def window_index(self, start: datetime) -> int:
        return (start - WINDOW_ORIGIN_TIME) // timedelta(hours=self.window_hours)


def bound_rules(document: Mapping[str, Any]) -> list[BoundRule]:
    """Every bound of `document` (schema version 2) as a rule, in document order."""
    thresholds = {t["key"]: t for t in document.get("thresholds", [])}
    rules = []
    for bound in document.get("bounds", []):
        threshold = thresholds[bound["threshold"]]
        rules.append(
            BoundRule(
                key=bound["key"],
                ai_system=threshold["ai_system"],
                output_type=threshold.get("output_type") or "",
                metric=metric_id(bound.get("metric_name") or "", bound["metric_kind"]),
                metric_kind=bound["metric_kind"],
                percentile=bound.get("percentile") or "",
                direction=bound["direction"],
                value=float(bound["value"]),
                unit=bound["unit"],
                window_hours=bound.get("window_hours") or threshold["measurement_window_hours"],
                trigger_breaches=bound.get("trigger_breaches") or threshold["trigger_breaches"],
                trigger_windows=bound.get("trigger_windows") or threshold["trigger_windows"],
                immediate_breach_value=_number(bound.get("immediate_breach_value")),
                minimum_sample_size=bound.get("minimum_sample_size") or 1,
                text=bound_phrase(bound),
            )
        )
    return rules


@dataclass(frozen=True)
class WindowValue:
    """A window's aggregate and its judgement against the bound."""

    value: float | None
    sample_size: int
    outcome: Outcome
    immediate: bool


@dataclass(frozen=True)
class Window(WindowValue):
    """A judged window with the trigger rule applied."""

    index: int
    breaches_in_last_n: int
    fired: bool


def weighted_percentile(points: Sequence[tuple[float, int]], percentile: float) -> float:
    """The nearest-rank percentile of values each repeated by its weight."""
    ordered = sorted(points)
    total = sum(weight for _, weight in ordered)
    rank = max(1, math.ceil(percentile / 100 * total))
    seen = 0
    for value, weight in ordered:
        seen += weight
        if seen >= rank:
            return value
    return ordered[-1][0]


def aggregate(rule: BoundRule, points: Sequence[tuple[float, int]]) -> tuple[float | None, int]:
    """A window's value in the bound's unit, and its sample, from its (value, sample) points."""
    return aggregate_columns(rule, [value for value, _ in points], [weight for _, weight in points])


def aggregate_columns(
    rule: BoundRule, values: Sequence[float], weights: Sequence[int]
) -> tuple[float | None, int]:
    """`aggregate` of the points given as their values and their samples, in the same order:
    the sums run in C (`map`), the same additions in the same order, so the same floats."""
    sample = sum(weights)
    if not values or sample == 0:
        return None, sample
    if rule.metric_kind == "latency":
        percentile = PERCENTILES.get(rule.percentile, 50)
        return weighted_percentile(list(zip(values, weights, strict=True)), percentile) / (
            LATENCY_DIVISORS.get(rule.unit, 1.0)
        ), sample
    if rule.metric_kind == "throughput":
        minutes = rule.window_hours * 60 if rule.unit == "per_minute" else rule.window_hours
        return sum(values) / minutes, sample
    return sum(map(mul, values, weights)) / sample, sample


def judge(rule: BoundRule, value: float | None, sample_size: int) -> WindowValue:
    """Whether a window's aggregate meets the bound."""
    if value is None or sample_size < rule.minimum_sample_size:
        return WindowValue(value, sample_size, Outcome.NOT_ENOUGH_DATA, False)
    at_least = rule.direction == "at_least"
    breached = value < rule.value if at_least else value > rule.value
    limit = rule.immediate_breach_value
    immediate = limit is not None and (value <= limit if at_least else value >= limit)
    outcome = Outcome.BREACHED if breached or immediate else Outcome.MET
    return WindowValue(value, sample_size, outcome, immediate)


class Columns(NamedTuple):
    """Points as three lists (seconds since the epoch, value, sample size), as the database
    gives them: a full evaluation reads 432,000 points, and a tuple per point is most of the
    time of cutting them into windows."""

    seconds: list[int]
    values: list[float]
    samples: list[int]

    @classmethod
    def of(cls, points: Points) -> Columns:
        if isinstance(points, Columns):
            return points
        rows = list(points)
        return cls([row[0] for row in rows], [row[1] for row in rows], [row[2] for row in rows])


# Points as (seconds, value, sample) tuples, or as columns.
Points = Columns | Iterable[tuple[int, float, int]]


def by_window(window_hours: int, points: Points) -> dict[int, tuple[list[float], list[int]]]:
    """The values and samples of each window of `window_hours` holding some of the points, in
    the points' order. Points come mostly in time order: the windows are found as runs of
    equal indexes, compared in C, so the Python here runs once per run, not once per point."""
    seconds, values, samples = Columns.of(points)
    width = window_hours * 3600
    indexes = [(moment - WINDOW_ORIGIN) // width for moment in seconds]
    runs = [0, *compress(range(1, len(indexes)), map(ne, indexes[1:], indexes)), len(indexes)]
    found: dict[int, tuple[list[float], list[int]]] = {}
    for start, end in pairwise(runs) if indexes else ():
        index = indexes[start]
        if index in found:  # a window whose points are not all together (late points)
            found[index][0].extend(values[start:end])
            found[index][1].extend(samples[start:end])
        else:
            found[index] = (values[start:end], samples[start:end])
    return found


def judge_windows(rule: BoundRule, points: Points) -> dict[int, WindowValue]:
    """Each window holding one of the (seconds, value, sample) points, aggregated and judged."""
    return {
        index: judge(rule, *aggregate_columns(rule, values, samples))
        for index, (values, samples) in by_window(rule.window_hours, points).items()
    }


def apply_trigger(
    rule: BoundRule, judged: Mapping[int, WindowValue], indexes: Iterable[int] | None = None
) -> list[Window]:
    """The k-of-n rule over judged windows, for `indexes` (every judged window by default).

    `judged` must hold every judged window in the n − 1 windows before the first index asked for,
    so a caller re-evaluating a few windows passes the stored neighbours along."""
    wanted = sorted(judged if indexes is None else set(indexes) & judged.keys())
    if not wanted:
        return []
    n, k = rule.trigger_windows, rule.trigger_breaches
    ordered = sorted(judged)
    # Walk the judged windows once, keeping the breached ones among the last n in a queue.
    position = bisect_left(ordered, wanted[0] - n + 1)
    breached: deque[int] = deque()
    windows = []
    for index in wanted:
        while position < len(ordered) and ordered[position] <= index:
            if judged[ordered[position]].outcome == Outcome.BREACHED:
                breached.append(ordered[position])
            position += 1
        while breached and breached[0] <= index - n:
            breached.popleft()
        current = judged[index]
        windows.append(
            Window(
                value=current.value,
                sample_size=current.sample_size,
                outcome=current.outcome,
                immediate=current.immediate,
                index=index,
                breaches_in_last_n=len(breached),
                fired=current.immediate or len(breached) >= k,
            )
        )
    return windows


def evaluate(rule: BoundRule, points: Points) -> list[Window]:
    """Every window of a bound's points, judged, with the trigger rule applied."""
    return apply_trigger(rule, judge_windows(rule, points))
