"""The Prometheus rule file of a signed-off framework, and the promtool unit tests proving it.

What the rules expect (docs/monitoring-exports.md says it for the people deploying them): the
monitoring pipeline exposes, per bound, the bound's metric aggregated over its latest complete
measurement window, in the bound's unit, as

    escalation_window_value{ai_system="<system key>", bound="<bound key>"}
    escalation_window_samples{ai_system="<system key>", bound="<bound key>"}   (measurements in it)

From those, per bound, one recording rule and one or two alerts:

- `escalation:window_breached` is 1 for a window that breaches the bound, 0 for one that meets it,
  and absent for a window with fewer measurements than the bound's minimum sample size ("not
  enough data": neither a breach nor a pass);
- `EscalationTriggerRule` fires while k of the last n windows breached (`sum_over_time` of the
  indicator sampled once per window by a subquery aligned to the window length);
- `EscalationImmediateBreach` fires as soon as one window is at or beyond the immediate-breach
  value.

A window's value meets a floor when it is at least the bound (≥) and a ceiling when at most (≤):
the bound itself is a pass, as it reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from math import gcd
from typing import Any

from escalation import formatting
from escalation.exports.monitored import (
    MonitoredBound,
    Stamp,
    header,
    plain_number,
    yaml_text,
)

WINDOW_VALUE = "escalation_window_value"
WINDOW_SAMPLES = "escalation_window_samples"
BREACH_INDICATOR = "escalation:window_breached"
TRIGGER_ALERT = "EscalationTriggerRule"
IMMEDIATE_ALERT = "EscalationImmediateBreach"
RULES_FILE = "prometheus-rules.yml"
TESTS_FILE = "prometheus-rules.test.yml"
# The smallest step a generated test moves a value past the bound: the bounds' own precision.
STEP = Decimal("0.000001")


def promql_string(text: str) -> str:
    """`text` as a PromQL double-quoted string: quotes, backslashes and control characters
    escaped as Go reads them; everything printable, any script, passes as UTF-8."""
    out = []
    for character in text:
        code = ord(character)
        if character in '"\\':
            out.append("\\" + character)
        elif code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF:
            # Go accepts no surrogate code point at all: those show as the replacement character.
            out.append(f"\\u{code:04x}" if not 0xD800 <= code <= 0xDFFF else "\\ufffd")
        else:
            out.append(character)
    return '"' + "".join(out) + '"'


def template_literal(text: str) -> str:
    """Text that Prometheus' alert templating (Go text/template, applied to alert labels and
    annotations) prints exactly as written: every "{{" is printed by a template action."""
    return text.replace("{{", '{{ "{{" }}')


def selector(bound: MonitoredBound) -> str:
    return f"{{ai_system={promql_string(bound.system_key)},bound={promql_string(bound.key)}}}"


def _enough_data(bound: MonitoredBound, expression: str) -> str:
    if bound.minimum_sample_size is None:
        return expression
    return f"({expression}) and ({WINDOW_SAMPLES}{selector(bound)} >= {bound.minimum_sample_size})"


def breach_expression(bound: MonitoredBound) -> str:
    """1 for a breached window, 0 for a met one, nothing without enough data."""
    operator = "<" if bound.at_least else ">"
    return _enough_data(
        bound, f"{WINDOW_VALUE}{selector(bound)} {operator} bool {plain_number(bound.value)}"
    )


def last_windows_range(bound: MonitoredBound) -> str:
    """n windows back, less one millisecond. Prometheus 2 includes both ends of a range: a range
    of exactly n windows would hold n + 1 window-aligned points when evaluated on a boundary."""
    hours = bound.windows * bound.window_hours
    return f"{hours - 1}h59m59s999ms" if hours > 1 else "59m59s999ms"


def trigger_expression(bound: MonitoredBound) -> str:
    breached = (
        f"sum_over_time({BREACH_INDICATOR}{selector(bound)}"
        f"[{last_windows_range(bound)}:{bound.window_hours}h])"
    )
    return f"{breached} >= {bound.breaches}"


def immediate_expression(bound: MonitoredBound) -> str:
    assert bound.immediate_breach_value is not None
    operator = "<=" if bound.at_least else ">="
    return _enough_data(
        bound,
        f"{WINDOW_VALUE}{selector(bound)} {operator} {plain_number(bound.immediate_breach_value)}",
    )


def series_labels(bound: MonitoredBound) -> dict[str, str]:
    """The input's own labels, repeated on each rule: Prometheus would keep them anyway, and
    `promtool check rules` tells two rules apart only by their name and written labels."""
    return {"ai_system": bound.system_key, "bound": bound.key}


def alert_labels(bound: MonitoredBound) -> dict[str, str]:
    """An alert's labels: the system and bound, and what Alertmanager routes on."""
    labels = series_labels(bound)
    if bound.output_type:
        labels["output_type"] = bound.output_type
    if bound.level:
        labels["escalation_level"] = bound.level.key
        labels["owner"] = bound.level.owner
    return labels


def _escalation_words(bound: MonitoredBound) -> str:
    level = bound.level
    if level is None:
        return "The framework names no level this bound escalates to."
    return (
        f"Escalate to level {level.rung}, {level.name}: approval by {level.approval}; "
        f"cost ceiling {level.cost_ceiling}."
    )


def trigger_annotations(bound: MonitoredBound) -> dict[str, str]:
    return {
        "summary": f"{bound.where}: {bound.phrase}. {bound.trigger_rule}.",
        "description": _escalation_words(bound),
    }


def immediate_annotations(bound: MonitoredBound) -> dict[str, str]:
    assert bound.immediate_breach_value is not None
    return {
        "summary": (
            f"{bound.where}: {bound.phrase}. Immediate breach at "
            f"{formatting.number(bound.immediate_breach_value)}: escalate without waiting "
            "for the trigger rule."
        ),
        "description": _escalation_words(bound),
    }


def _templated(values: dict[str, str]) -> dict[str, str]:
    return {name: template_literal(value) for name, value in values.items()}


def bound_rules(bound: MonitoredBound) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = [
        {
            "record": BREACH_INDICATOR,
            "expr": breach_expression(bound),
            "labels": series_labels(bound),
        },
        {
            "alert": TRIGGER_ALERT,
            "expr": trigger_expression(bound),
            "labels": _templated(alert_labels(bound)),
            "annotations": _templated(trigger_annotations(bound)),
        },
    ]
    if bound.immediate_breach_value is not None:
        rules.append(
            {
                "alert": IMMEDIATE_ALERT,
                "expr": immediate_expression(bound),
                "labels": _templated(alert_labels(bound)),
                "annotations": _templated(immediate_annotations(bound)),
            }
        )
    return rules


def rules_file(bounds: list[MonitoredBound], stamp: Stamp, framework_name: str) -> str:
    """One rule group per bound, named by its key: its recording rule is evaluated before the
    alerts that read it."""
    groups = [
        {"name": f"escalation/{bound.system_key}/{bound.key}", "rules": bound_rules(bound)}
        for bound in bounds
    ]
    notes = [
        "",
        f"Input, per bound, for its latest complete window, in the bound's unit: {WINDOW_VALUE}",
        f"and {WINDOW_SAMPLES} (measurements), labelled ai_system=<system key>, bound=<bound key>.",
        f"{BREACH_INDICATOR}: 1 breached, 0 met, absent below the minimum sample size.",
        f"{TRIGGER_ALERT}: k of the last n windows breached. {IMMEDIATE_ALERT}: one window at or",
        "beyond the immediate-breach value. Keep Prometheus' retention above n windows.",
        "See docs/monitoring-exports.md.",
    ]
    return header(stamp, framework_name, "Prometheus rules", notes) + yaml_text({"groups": groups})


# The generated unit tests. Each bound gets its own test groups, with its window as the input
# series' interval, so window i is the i-th value and is read at i windows after the start.


def _breaching(bound: MonitoredBound) -> Decimal:
    return bound.value - STEP if bound.at_least else bound.value + STEP


def _series(
    bound: MonitoredBound, values: list[Decimal], samples: list[int] | None = None
) -> list[dict[str, str]]:
    series = [
        {
            "series": f"{WINDOW_VALUE}{selector(bound)}",
            "values": " ".join(plain_number(value) for value in values),
        }
    ]
    if bound.minimum_sample_size is not None:
        counts = samples or [bound.minimum_sample_size] * len(values)
        series.append(
            {
                "series": f"{WINDOW_SAMPLES}{selector(bound)}",
                "values": " ".join(str(count) for count in counts),
            }
        )
    return series


def _expected(bound: MonitoredBound, annotations: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "exp_labels": alert_labels(bound),
            "exp_annotations": annotations,
        }
    ]


def _check(bound: MonitoredBound, window: int, alert: str, fires: Any) -> dict[str, Any]:
    return {
        "eval_time": f"{window * bound.window_hours}h",
        "alertname": alert,
        "exp_alerts": fires or [],
    }


def _trigger_tests(bound: MonitoredBound) -> Iterator[dict[str, Any]]:
    k, n = bound.breaches, bound.windows
    fired = _expected(bound, trigger_annotations(bound))
    # Windows 0..k-1 breach, the rest meet the bound exactly: at window n-1 the last n windows
    # hold k breaches; one window later the oldest breach has left them and k-1 remain.
    values = [_breaching(bound)] * k + [bound.value] * (n - k + 1)
    yield {
        "name": f"{bound.key}: fires at {k} breached windows of the last {n}",
        "interval": f"{bound.window_hours}h",
        "input_series": _series(bound, values),
        "alert_rule_test": [
            _check(bound, n - 1, TRIGGER_ALERT, fired),
            _check(bound, n, TRIGGER_ALERT, None),
        ],
    }
    values = [_breaching(bound)] * (k - 1) + [bound.value] * (n - k + 1)
    yield {
        "name": f"{bound.key}: silent at {k - 1} breached windows of the last {n}",
        "interval": f"{bound.window_hours}h",
        "input_series": _series(bound, values),
        "alert_rule_test": [_check(bound, n - 1, TRIGGER_ALERT, None)],
    }
    if bound.minimum_sample_size is not None:
        # The same k breaches, one of them measured on too few samples: not enough data.
        samples = [bound.minimum_sample_size] * n
        samples[0] = bound.minimum_sample_size - 1
        values = [_breaching(bound)] * k + [bound.value] * (n - k)
        yield {
            "name": f"{bound.key}: a window below the minimum sample size is not a breach",
            "interval": f"{bound.window_hours}h",
            "input_series": _series(bound, values, samples),
            "alert_rule_test": [_check(bound, n - 1, TRIGGER_ALERT, None)],
        }


def _immediate_tests(bound: MonitoredBound) -> Iterator[dict[str, Any]]:
    immediate = bound.immediate_breach_value
    if immediate is None:
        return
    short_of_it = immediate + STEP if bound.at_least else immediate - STEP
    yield {
        "name": f"{bound.key}: the immediate breach fires in the window that reaches it",
        "interval": f"{bound.window_hours}h",
        "input_series": _series(bound, [short_of_it, immediate]),
        "alert_rule_test": [
            _check(bound, 0, IMMEDIATE_ALERT, None),
            _check(bound, 1, IMMEDIATE_ALERT, _expected(bound, immediate_annotations(bound))),
        ],
    }


def tests_file(bounds: list[MonitoredBound], stamp: Stamp, framework_name: str) -> str:
    tests = []
    for bound in bounds:
        tests += [*_trigger_tests(bound), *_immediate_tests(bound)]
    notes = [
        "",
        f"Run beside {RULES_FILE}: promtool test rules {TESTS_FILE}",
        "Each bound: its trigger rule fires at exactly k breached windows of the last n, not at",
        "k-1, and its immediate breach (if any) in the window that reaches it.",
    ]
    body = {"rule_files": [RULES_FILE], "evaluation_interval": _evaluation_interval(bounds)}
    return header(stamp, framework_name, "promtool unit tests", notes) + yaml_text(
        {**body, "tests": tests}
    )


def _evaluation_interval(bounds: list[MonitoredBound]) -> str:
    """Every window's end is an evaluation: the largest interval that divides every window."""
    hours = 0
    for bound in bounds:
        hours = gcd(hours, bound.window_hours)
    return f"{hours or 1}h"
