"""Evaluating drift triggers against metric points: pure, no ORM, no request (the database side
is monitoring.results).

A drift trigger of the document (`review_cycle.drift_triggers`) names a metric, a comparison, an
operator (above / below), a value and a window (hours or days). One without a value ("needs a
value", upgraded from free text) cannot be evaluated: it is skipped, and the live page says so.
One without an AI system applies to every AI system of the document, each evaluated on its own.

**Which points.** A trigger on metric M of system S reads the metric of S's first bound (in
document order) of kind M, aggregated as that bound aggregates (its percentile and unit, its
minimum sample size): "latency change versus the previous window above 150" compares the same
p95 in milliseconds the latency bound shows. When S has no bound of that kind, the trigger reads
the stored metric named M itself (`input_drift_psi`, `cost_per_request`, `volume`,
`human_override_rate`, or `quality`, `latency` ...): latency as the p50 in milliseconds,
throughput per minute, volume as the sum of the window's points, anything else as the mean
weighted by sample size. Points of every output type count, and intake accepts points for every
metric a trigger reads.

**Windows** are cut as for bounds (monitoring.evaluation), of the trigger's window. The number a
window compares with the trigger's value is, by comparison:
- absolute: the window's metric;
- change versus the previous window: the window's metric minus the one just before it;
- change versus the baseline: the window's metric minus the baseline's. The **baseline** is the
  first window starting at or after the sign-off of the version in force that has enough data:
  the level the metric had when the framework went into force. Windows before it have no
  baseline.
A window below the minimum sample size, or with nothing to compare with (no previous window with
enough data, no baseline yet), is **not enough data**. Otherwise it is breached when the number is
strictly above (or below) the value. A drift trigger has no k-of-n rule: a breached window fires,
calling an unscheduled review.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from escalation.formatting import drift_trigger
from monitoring.evaluation import (
    BoundRule,
    Outcome,
    Points,
    aggregate_columns,
    by_window,
    metric_id,
)

ABSOLUTE, CHANGE_VS_PREVIOUS, CHANGE_VS_BASELINE = (
    "absolute",
    "change_vs_previous",
    "change_vs_baseline",
)
# A metric no bound of the system measures: how its windows are aggregated (metric kind, unit).
OWN_MEASURES = {"latency": ("latency", "ms"), "throughput": ("throughput", "per_minute")}
VOLUME = "volume"

# A window's metric and its sample (the sum of its points' sample sizes).
Measure = tuple[float | None, int]


@dataclass(frozen=True)
class DriftRule:
    """One drift trigger of a frozen document, for one AI system, with how its metric is read."""

    key: str
    ai_system: str
    comparison: str
    operator: str  # "above" / "below"
    value: float
    text: str
    measure: BoundRule  # the metric read, its aggregation, window and minimum sample size

    output_type = ""  # points of every output type
    trigger_windows = 1  # no k-of-n: a breached window fires

    @property
    def metric(self) -> str:
        return self.measure.metric

    @property
    def window_hours(self) -> int:
        return self.measure.window_hours

    @property
    def minimum_sample_size(self) -> int:
        return self.measure.minimum_sample_size

    def covers(self, output_type: str) -> bool:
        return True

    def window_of(self, seconds: int) -> int:
        return self.measure.window_of(seconds)

    def window_start(self, index: int) -> datetime:
        return self.measure.window_start(index)

    def window_index(self, start: datetime) -> int:
        return self.measure.window_index(start)

    def first_window_from(self, moment: datetime) -> int:
        """The index of the first window starting at or after `moment`."""
        index = self.window_index(moment)
        return index if self.window_start(index) >= moment else index + 1


@dataclass(frozen=True)
class DriftWindow:
    """A window of a drift trigger, judged: `value` is the number compared with the trigger's."""

    index: int
    metric_value: float | None
    sample_size: int
    value: float | None
    outcome: Outcome

    @property
    def fired(self) -> bool:
        return self.outcome == Outcome.BREACHED


def _triggers(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    cycle = document.get("review_cycle")
    triggers = cycle.get("drift_triggers") if isinstance(cycle, dict) else None
    return [t for t in triggers or [] if isinstance(t, dict)]


def _systems_of(document: Mapping[str, Any], trigger: Mapping[str, Any]) -> list[str]:
    if trigger.get("ai_system"):
        return [trigger["ai_system"]]
    return [system["key"] for system in document.get("ai_systems", [])]


def _first_bounds(document: Mapping[str, Any]) -> dict[tuple[str, str], Mapping[str, Any]]:
    """Each system's first bound of each metric kind, in document order."""
    systems = {t["key"]: t.get("ai_system") for t in document.get("thresholds", [])}
    first: dict[tuple[str, str], Mapping[str, Any]] = {}
    for bound in document.get("bounds", []):
        first.setdefault((systems.get(bound.get("threshold")) or "", bound["metric_kind"]), bound)
    return first


def trigger_metric(
    first_bounds: Mapping[tuple[str, str], Mapping[str, Any]], system: str, drift_metric: str
) -> str:
    """The stored metric a trigger on `drift_metric` of `system` reads."""
    bound = first_bounds.get((system, drift_metric))
    if bound is None:
        return drift_metric
    return metric_id(bound.get("metric_name") or "", bound["metric_kind"])


def read_metrics(document: Mapping[str, Any]) -> set[tuple[str, str]]:
    """Every (AI system, metric) a drift trigger of `document` reads, with or without a value:
    intake accepts their points. Reads only systems, thresholds' systems, bounds' metric names
    and kinds, and the triggers' systems and metrics."""
    first = _first_bounds(document)
    return {
        (system, trigger_metric(first, system, trigger["metric"]))
        for trigger in _triggers(document)
        if trigger.get("metric")
        for system in _systems_of(document, trigger)
    }


def _window_hours(trigger: Mapping[str, Any]) -> int:
    return int(trigger.get("window") or 1) * (24 if trigger.get("window_unit") != "hours" else 1)


def drift_rules(document: Mapping[str, Any], bounds: Sequence[BoundRule]) -> list[DriftRule]:
    """Every drift trigger of `document` that has a value, one rule per AI system it applies to,
    in document order; `bounds` are the document's bound rules."""
    first = _first_bounds(document)
    by_key = {rule.key: rule for rule in bounds}
    rules = []
    for trigger in _triggers(document):
        if trigger.get("value") in (None, "") or not trigger.get("metric"):
            continue
        hours = _window_hours(trigger)
        text = drift_trigger(
            metric=trigger["metric"],
            comparison=trigger.get("comparison") or "",
            operator=trigger.get("operator") or "",
            value=trigger["value"],
            window=trigger.get("window"),
            window_unit=trigger.get("window_unit"),
        )
        for system in _systems_of(document, trigger):
            bound = first.get((system, trigger["metric"]))
            rule = by_key.get(bound["key"]) if bound is not None else None
            if rule is not None:
                measure = replace(rule, key=trigger["key"], output_type="", window_hours=hours)
            else:
                kind, unit = OWN_MEASURES.get(trigger["metric"], (trigger["metric"], ""))
                measure = BoundRule(
                    key=trigger["key"],
                    ai_system=system,
                    output_type="",
                    metric=trigger["metric"],
                    metric_kind=kind,
                    percentile="",
                    direction="at_most",
                    value=0.0,
                    unit=unit,
                    window_hours=hours,
                    trigger_breaches=1,
                    trigger_windows=1,
                    immediate_breach_value=None,
                    minimum_sample_size=1,
                    text=text,
                )
            rules.append(
                DriftRule(
                    key=trigger["key"],
                    ai_system=system,
                    comparison=trigger.get("comparison") or ABSOLUTE,
                    operator=trigger.get("operator") or "above",
                    value=float(trigger["value"]),
                    text=text,
                    measure=measure,
                )
            )
    return rules


def triggers_needing_a_value_by_system(document: Mapping[str, Any]) -> dict[str, list[str]]:
    """The sentences of the drift triggers that cannot be evaluated (no value), by AI system."""
    found: dict[str, list[str]] = {}
    for trigger in _triggers(document):
        if trigger.get("value") not in (None, ""):
            continue
        sentence = drift_trigger(
            metric=trigger.get("metric") or "",
            comparison=trigger.get("comparison") or "",
            operator=trigger.get("operator") or "",
            value=None,
            window=trigger.get("window"),
            window_unit=trigger.get("window_unit"),
            note=trigger.get("note") or "",
        )
        for system in _systems_of(document, trigger):
            found.setdefault(system, []).append(sentence)
    return found


def measure_window(rule: DriftRule, points: Sequence[tuple[float, int]]) -> Measure:
    """A window's metric and sample from its (value, sample) points."""
    return measure_columns(rule, [value for value, _ in points], [weight for _, weight in points])


def measure_columns(rule: DriftRule, values: Sequence[float], weights: Sequence[int]) -> Measure:
    """`measure_window` of the points given as their values and their samples, in order."""
    if rule.measure.metric_kind == VOLUME:
        return (sum(values) if values else None), sum(weights)
    return aggregate_columns(rule.measure, values, weights)


def measure_windows(rule: DriftRule, points: Points) -> dict[int, Measure]:
    """Each window holding one of the (seconds, value, sample) points, measured."""
    return {
        index: measure_columns(rule, values, samples)
        for index, (values, samples) in by_window(rule.window_hours, points).items()
    }


def has_enough_data(rule: DriftRule, measured: Measure | None) -> bool:
    return (
        measured is not None
        and measured[0] is not None
        and (measured[1] >= rule.minimum_sample_size)
    )


def baseline_index(
    rule: DriftRule, measured: Mapping[int, Measure], first_index: int | None
) -> int | None:
    """The baseline window: the first with enough data from `first_index` (the first window
    after sign-off) on; None without one."""
    if first_index is None:
        return None
    found = [i for i, m in measured.items() if i >= first_index and has_enough_data(rule, m)]
    return min(found, default=None)


def judge_drift(
    rule: DriftRule,
    measured: Mapping[int, Measure],
    baseline: int | None,
    indexes: Iterable[int] | None = None,
) -> list[DriftWindow]:
    """The windows `indexes` (every measured window by default) judged. `measured` must hold the
    window before each one asked for (when it has points) and the baseline window."""
    wanted = sorted(measured if indexes is None else set(indexes) & measured.keys())
    windows = []
    for index in wanted:
        metric, sample = measured[index]
        compared: float | None = None
        if has_enough_data(rule, (metric, sample)):
            assert metric is not None
            if rule.comparison == CHANGE_VS_PREVIOUS:
                before = measured.get(index - 1)
                if has_enough_data(rule, before):
                    assert before is not None and before[0] is not None
                    compared = metric - before[0]
            elif rule.comparison == CHANGE_VS_BASELINE:
                if baseline is not None and index >= baseline:
                    base = measured[baseline][0]
                    assert base is not None
                    compared = metric - base
            else:
                compared = metric
        if compared is None:
            outcome = Outcome.NOT_ENOUGH_DATA
        elif compared > rule.value if rule.operator == "above" else compared < rule.value:
            outcome = Outcome.BREACHED
        else:
            outcome = Outcome.MET
        shown = metric if rule.comparison == ABSOLUTE else compared
        windows.append(DriftWindow(index, metric, sample, shown, outcome))
    return windows


def evaluate_drift(
    rule: DriftRule, points: Points, signed_off: datetime | None
) -> list[DriftWindow]:
    """Every window of a drift trigger's points, judged; `signed_off` is when the version in
    force was signed off (the baseline is the first window with enough data from then on)."""
    measured = measure_windows(rule, points)
    first = rule.first_window_from(signed_off) if signed_off is not None else None
    return judge_drift(rule, measured, baseline_index(rule, measured, first))
