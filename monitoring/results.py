"""The framework in force, and storing each window of its bounds evaluated (the database side of
monitoring.evaluation).

The framework in force is the latest signed-off version, never a draft. The first evaluation
against a version reads every stored point; after it, new points re-evaluate only the windows they
touch, and the k-of-n rule of the windows after them that look back at them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from escalation.document import upgrade_document
from escalation.models import FrameworkVersion
from monitoring import cases
from monitoring.evaluation import (
    BoundRule,
    Outcome,
    Window,
    apply_trigger,
    bound_rules,
    evaluate,
    judge_windows,
)
from monitoring.models import Evaluation, WindowResult
from workshops.models import Engagement, Review

# (AI system key, output type, metric, seconds since the epoch): a point as evaluation sees it.
TouchedPoint = tuple[str, str, str, int]
Series = tuple[str, str]  # (AI system key, metric)


def version_in_force(engagement: Engagement) -> FrameworkVersion | None:
    """The latest signed-off version of the engagement: the framework in force (one query)."""
    review = (
        Review.objects.signed_off()
        .filter(engagement=engagement)
        .select_related("version")
        .order_by("-version__number")
        .first()
    )
    return review.version if review else None


def rules_of(version: FrameworkVersion) -> list[BoundRule]:
    return bound_rules(upgrade_document(version.document))


@dataclass(frozen=True)
class _Range:
    start: int
    end: int  # exclusive, seconds since the epoch


def _points(
    engagement: Engagement, ranges: dict[Series, _Range] | None
) -> dict[Series, list[tuple[str, list[Any]]]]:
    """Stored points by series and output type as [seconds, value, sample size]: every point, or
    those of each series in its range. One query, one row per series and output type, its points
    as one JSON array: reading 400,000 points as rows costs seconds in the driver."""
    points = (
        "json_agg(json_build_array(floor(extract(epoch FROM p.time))::bigint, p.value,"
        " p.sample_size))::text"
    )
    if ranges is None:
        sql = (
            f"SELECT p.ai_system, p.metric, p.output_type, {points}"
            " FROM monitoring_metricpoint p WHERE p.engagement_id = %s GROUP BY 1, 2, 3"
        )
        params: list[Any] = [engagement.pk]
    else:
        # LATERAL: one index range scan per series, whatever the planner's statistics say
        # (a join planned without them scanned the whole table).
        sql = (
            f"SELECT r.s, r.m, p.output_type, {points}"
            " FROM json_to_recordset(%s::json) AS r(s text, m text, lo bigint, hi bigint)"
            " CROSS JOIN LATERAL (SELECT * FROM monitoring_metricpoint q"
            "  WHERE q.engagement_id = %s AND q.ai_system = r.s AND q.metric = r.m"
            "  AND q.time >= to_timestamp(r.lo) AND q.time < to_timestamp(r.hi)) AS p"
            " GROUP BY 1, 2, 3"
        )
        spans = [{"s": s, "m": m, "lo": r.start, "hi": r.end} for (s, m), r in ranges.items()]
        params = [json.dumps(spans), engagement.pk]
    found: dict[Series, list[tuple[str, list[Any]]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for system, metric, output_type, encoded in cursor.fetchall():
            found.setdefault((system, metric), []).append((output_type, json.loads(encoded)))
    return found


def _series_points(rule: BoundRule, points: dict[Series, list[tuple[str, list[Any]]]]) -> list[Any]:
    """The points a bound reads: its system's metric, of the output types it covers."""
    found: list[Any] = []
    for output_type, of_type in points.get((rule.ai_system, rule.metric), []):
        if rule.covers(output_type):
            found += of_type
    return found


def _save(
    engagement: Engagement, version: FrameworkVersion, judged: list[tuple[BoundRule, Window]]
) -> None:
    """Insert or update each window's result in one statement (the rows as one JSON parameter:
    Django's cursor quotes parameters in Python, slow for thousands of array items)."""
    if not judged:
        return
    rows = [
        [
            rule.key,
            rule.ai_system,
            rule.window_start(window.index).isoformat(),
            rule.window_hours,
            window.value,
            window.sample_size,
            str(window.outcome),
            window.immediate,
            window.breaches_in_last_n,
            window.fired,
        ]
        for rule, window in judged
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO monitoring_windowresult (engagement_id, version_id, bound_key, ai_system,
              window_start, window_hours, value, sample_size, outcome, immediate_breach,
              breaches_in_last_n, fired, evaluated_at)
            SELECT %s, %s, r->>0, r->>1, (r->>2)::timestamptz, (r->>3)::int, (r->>4)::float8,
              (r->>5)::int, r->>6, (r->>7)::bool, (r->>8)::int, (r->>9)::bool, now()
            FROM json_array_elements(%s::json) AS r
            ON CONFLICT (version_id, bound_key, window_start) DO UPDATE SET
              value = EXCLUDED.value, sample_size = EXCLUDED.sample_size,
              outcome = EXCLUDED.outcome, immediate_breach = EXCLUDED.immediate_breach,
              breaches_in_last_n = EXCLUDED.breaches_in_last_n, fired = EXCLUDED.fired,
              evaluated_at = EXCLUDED.evaluated_at
            """,
            [engagement.pk, version.pk, json.dumps(rows)],
        )


def evaluate_all(engagement: Engagement, version: FrameworkVersion) -> int:
    """Evaluate every stored point against `version`, replacing its results; the number of
    windows. Atomic: the live page never shows half of a version's history."""
    judged = []
    points = _points(engagement, None)
    for rule in rules_of(version):
        judged += [(rule, window) for window in evaluate(rule, _series_points(rule, points))]
    with transaction.atomic():
        WindowResult.objects.filter(engagement=engagement, version=version).delete()
        _save(engagement, version, judged)
        cases.record_fired_windows(engagement, version, cases.fired_results(version, judged))
        Evaluation.objects.update_or_create(
            engagement=engagement, version=version, defaults={"evaluated_at": timezone.now()}
        )
    return len(judged)


def _stored(
    version: FrameworkVersion, spans: dict[str, tuple[BoundRule, int, int]]
) -> dict[str, dict[int, Window]]:
    """Stored windows of each bound from index `first` to `last` (one query)."""
    ranges = [
        {
            "k": key,
            "lo": rule.window_start(first).isoformat(),
            "hi": rule.window_start(last).isoformat(),
        }
        for key, (rule, first, last) in spans.items()
    ]
    stored: dict[str, dict[int, Window]] = {key: {} for key in spans}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT w.bound_key, w.window_start, w.value, w.sample_size, w.outcome,"
            " w.immediate_breach, w.breaches_in_last_n, w.fired"
            " FROM json_to_recordset(%s::json) AS r(k text, lo timestamptz, hi timestamptz)"
            " CROSS JOIN LATERAL (SELECT * FROM monitoring_windowresult v"
            "  WHERE v.version_id = %s AND v.bound_key = r.k"
            "  AND v.window_start >= r.lo AND v.window_start <= r.hi) AS w",
            [json.dumps(ranges), version.pk],
        )
        for key, start, value, sample, outcome, immediate, breaches, fired in cursor.fetchall():
            index = spans[key][0].window_index(start)
            stored[key][index] = Window(
                value, sample, Outcome(outcome), immediate, index, breaches, fired
            )
    return stored


def evaluate_touched(
    engagement: Engagement, version: FrameworkVersion, touched: Iterable[TouchedPoint]
) -> int:
    """Re-evaluate the windows holding the `touched` points, and the trigger rule of the windows
    up to n − 1 after each; the number of windows written (those that changed). A constant
    number of queries."""
    rules = rules_of(version)
    by_series: dict[Series, list[BoundRule]] = {}
    for rule in rules:
        by_series.setdefault((rule.ai_system, rule.metric), []).append(rule)
    windows: dict[str, set[int]] = {}
    ranges: dict[Series, _Range] = {}
    for system, output_type, metric, seconds in touched:
        for rule in by_series.get((system, metric), []):
            if not rule.covers(output_type):
                continue
            index = rule.window_of(seconds)
            windows.setdefault(rule.key, set()).add(index)
            start = int(rule.window_start(index).timestamp())
            known = ranges.get((system, metric))
            end = start + rule.window_seconds
            ranges[(system, metric)] = (
                _Range(min(known.start, start), max(known.end, end))
                if known
                else _Range(start, end)
            )
    if not windows:
        return 0
    by_key = {rule.key: rule for rule in rules}
    spans = {
        key: (
            by_key[key],
            min(indexes) - by_key[key].trigger_windows + 1,
            max(indexes) + by_key[key].trigger_windows - 1,
        )
        for key, indexes in windows.items()
    }
    points = _points(engagement, ranges)
    stored = _stored(version, spans)
    judged: list[tuple[BoundRule, Window]] = []
    for key, indexes in windows.items():
        rule = by_key[key]
        fresh = judge_windows(rule, _series_points(rule, points))
        merged = stored[key] | {index: fresh[index] for index in indexes if index in fresh}
        # A touched window changes the k-of-n count of itself and the n − 1 windows after it.
        n = rule.trigger_windows
        affected = {later for index in indexes for later in range(index, index + n)}
        # Written: the touched windows, and those after them whose k-of-n count moved.
        judged += [
            (rule, window)
            for window in apply_trigger(rule, merged, affected)
            if window.index in indexes or stored[key].get(window.index) != window
        ]
    _save(engagement, version, judged)
    cases.record_fired_windows(engagement, version, cases.fired_results(version, judged))
    return len(judged)


def evaluate_new_points(engagement: Engagement, touched: list[TouchedPoint]) -> int:
    """Bring the evaluation against the version in force up to date after points were stored."""
    version = version_in_force(engagement)
    if version is None:
        return 0
    if not Evaluation.objects.filter(engagement=engagement, version=version).exists():
        return evaluate_all(engagement, version)
    return evaluate_touched(engagement, version, touched) if touched else 0


def seconds_of(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp() // 1)
