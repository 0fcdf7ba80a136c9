"""Evaluation of a bound's windows, checked against a direct reference computation on random
series: missing windows, windows below the minimum sample, immediate breaches, floors and
ceilings (lower-is-better metrics), latency percentiles and throughput sums. And re-evaluating
only the windows new points touch gives what evaluating everything again gives."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from monitoring.evaluation import (
    WINDOW_ORIGIN,
    BoundRule,
    Columns,
    Outcome,
    apply_trigger,
    bound_rules,
    by_window,
    evaluate,
    judge_windows,
    metric_id,
)

KINDS = {
    "quality": "ratio",
    "error_rate": "percent",
    "latency": "ms",
    "throughput": "per_minute",
}


@st.composite
def rules(draw) -> BoundRule:
    kind = draw(st.sampled_from(sorted(KINDS)))
    windows = draw(st.integers(1, 6))
    return BoundRule(
        key="b",
        ai_system="s",
        output_type="",
        metric=kind,
        metric_kind=kind,
        percentile=draw(st.sampled_from(["p50", "p90", "p95", "p99", ""])),
        direction=draw(st.sampled_from(["at_least", "at_most"])),
        value=draw(st.integers(0, 10)) / 2,
        unit=KINDS[kind],
        window_hours=draw(st.sampled_from([1, 6, 24])),
        trigger_breaches=draw(st.integers(1, windows)),
        trigger_windows=windows,
        immediate_breach_value=draw(st.none() | st.integers(0, 10).map(lambda v: v / 2)),
        minimum_sample_size=draw(st.integers(1, 30)),
        text="",
    )


# Up to 30 windows' worth of time, sparse enough that some windows have no point at all.
points = st.lists(
    st.tuples(
        st.integers(0, 30 * 24 * 3600),
        st.integers(0, 10).map(lambda v: v / 2),
        st.integers(1, 12),
    ),
    max_size=60,
    unique_by=lambda point: point[0],
)


def reference(rule: BoundRule, series: list[tuple[int, float, int]]) -> dict[int, tuple]:
    """Each window's (value, outcome, breaches in the last n, fired), computed directly."""
    width = rule.window_hours * 3600
    windows: dict[int, list[tuple[float, int]]] = {}
    for seconds, value, sample in series:
        windows.setdefault((seconds - WINDOW_ORIGIN) // width, []).append((value, sample))
    judged = {}
    for index, members in windows.items():
        sample = sum(s for _, s in members)
        if rule.metric_kind == "latency":
            expanded = sorted(v for v, s in members for _ in range(s))
            rank = math.ceil(
                {"p90": 90, "p95": 95, "p99": 99}.get(rule.percentile, 50) / 100 * sample
            )
            value = expanded[max(rank, 1) - 1]
        elif rule.metric_kind == "throughput":
            value = sum(v for v, _ in members) / (rule.window_hours * 60)
        else:
            value = sum(v * s for v, s in members) / sample
        if sample < rule.minimum_sample_size:
            judged[index] = (value, Outcome.NOT_ENOUGH_DATA, False)
            continue
        floor = rule.direction == "at_least"
        immediate = rule.immediate_breach_value is not None and (
            value <= rule.immediate_breach_value if floor else value >= rule.immediate_breach_value
        )
        breached = (value < rule.value if floor else value > rule.value) or immediate
        judged[index] = (value, Outcome.BREACHED if breached else Outcome.MET, immediate)
    expected = {}
    for index, (value, outcome, immediate) in judged.items():
        last_n = range(index - rule.trigger_windows + 1, index + 1)
        breaches = sum(1 for i in last_n if i in judged and judged[i][1] == Outcome.BREACHED)
        expected[index] = (value, outcome, breaches, immediate or breaches >= rule.trigger_breaches)
    return expected


def _as_tuples(windows) -> dict[int, tuple]:
    return {w.index: (w.value, w.outcome, w.breaches_in_last_n, w.fired) for w in windows}


@settings(max_examples=300, deadline=None)
@given(rules(), points)
def test_windows_match_the_reference_computation(rule, series):
    assert _as_tuples(evaluate(rule, series)) == reference(rule, series)


@settings(max_examples=200, deadline=None)
@given(rules(), points)
def test_points_read_as_columns_are_judged_as_points_given_one_by_one(rule, series):
    """The database gives each series as three lists (Columns): the same windows, judged the
    same, as from one (seconds, value, sample) tuple a point, in any order."""
    columns = Columns([p[0] for p in series], [p[1] for p in series], [p[2] for p in series])
    assert judge_windows(rule, columns) == judge_windows(rule, iter(series))


def test_late_points_of_an_earlier_window_join_its_points_in_the_order_they_came():
    rule = bound_rules(_demo_document())[0]
    day = rule.window_hours * 3600
    first = WINDOW_ORIGIN + 10 * day
    points = [(first, 1.0, 1), (first + day, 5.0, 1), (first + 60, 3.0, 2)]
    assert by_window(rule.window_hours, points) == {10: ([1.0, 3.0], [1, 2]), 11: ([5.0], [1])}


@given(rules(), points, points)
def test_reevaluating_touched_windows_gives_the_full_evaluation(rule, earlier, late):
    late = [point for point in late if point[0] not in {p[0] for p in earlier}]
    judged = judge_windows(rule, earlier)
    touched = {rule.window_of(seconds) for seconds, _, _ in late}
    fresh = judge_windows(rule, earlier + late)
    merged = judged | {index: fresh[index] for index in touched}
    affected = {i for index in touched for i in range(index, index + rule.trigger_windows)}
    reevaluated = _as_tuples(apply_trigger(rule, merged, affected))
    full = _as_tuples(evaluate(rule, earlier + late))
    untouched = _as_tuples(evaluate(rule, earlier))
    assert reevaluated == {index: full[index] for index in affected if index in full}
    assert {i: w for i, w in untouched.items() if i not in affected} == {
        i: w for i, w in full.items() if i not in affected
    }


def test_a_window_below_the_minimum_sample_never_passes_nor_breaches():
    rule = _demo_rule("document-extraction-extraction-calibration-error-ece")  # 200 a window
    window = evaluate(rule, [(WINDOW_ORIGIN, 0.0, rule.minimum_sample_size - 1)])[0]
    assert (window.outcome, window.fired) == (Outcome.NOT_ENOUGH_DATA, False)


def test_an_immediate_breach_fires_at_once():
    rule = _demo_rule("document-extraction-extraction-field-accuracy")  # ≥ 0.985, at once at 0.95
    (window,) = evaluate(rule, [(WINDOW_ORIGIN, 0.95, 100)])
    assert (window.immediate, window.fired, window.breaches_in_last_n) == (True, True, 1)


def test_a_lower_is_better_bound_breaches_above_its_value():
    rule = _demo_rule("document-extraction-extraction-calibration-error-ece")  # ≤ 0.05
    met, breached = evaluate(rule, [(WINDOW_ORIGIN, 0.05, 200), (WINDOW_ORIGIN + 86400, 0.06, 200)])
    assert (met.outcome, breached.outcome) == (Outcome.MET, Outcome.BREACHED)


def test_a_bound_names_its_metric_by_name_or_else_by_kind():
    assert metric_id("CSAT rating", "quality") == "csat_rating"
    assert metric_id("calibration error (ECE)", "custom") == "calibration_error_ece"
    assert metric_id("", "latency") == "latency"


def _demo_rule(key: str) -> BoundRule:
    return next(rule for rule in bound_rules(_demo_document()) if rule.key == key)


def _demo_document() -> dict:
    """A document with the demo's extraction bounds, as the frozen version holds them."""
    threshold = {
        "key": "document-extraction-extraction",
        "ai_system": "document-extraction",
        "output_type": "extraction",
        "measurement_window_hours": 24,
        "trigger_breaches": 3,
        "trigger_windows": 5,
    }
    bound = {"threshold": threshold["key"], "percentile": "", "window_hours": None}
    return {
        "thresholds": [threshold],
        "bounds": [
            bound
            | {
                "key": "document-extraction-extraction-field-accuracy",
                "metric_kind": "quality",
                "metric_name": "field accuracy",
                "direction": "at_least",
                "value": "0.985000",
                "unit": "ratio",
                "immediate_breach_value": "0.950000",
                "minimum_sample_size": None,
            },
            bound
            | {
                "key": "document-extraction-extraction-calibration-error-ece",
                "metric_kind": "custom",
                "metric_name": "calibration error (ECE)",
                "direction": "at_most",
                "value": "0.050000",
                "unit": "ratio",
                "immediate_breach_value": None,
                "minimum_sample_size": 200,
            },
        ],
    }
