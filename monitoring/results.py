"""The framework in force, and storing each window of its bounds evaluated (the database side of
monitoring.evaluation).

The framework in force is the latest signed-off version, never a draft. The first evaluation
against a version reads every stored point; after it, new points re-evaluate only the windows they
touch, and the k-of-n rule of the windows after them that look back at them. Drift triggers
(monitoring.drift) are evaluated alongside, their windows stored as rows of kind "drift"; new
points re-evaluate the windows they touch and the window after each (its change versus the
previous one), and every window of a trigger whose baseline they may move.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from escalation import caching
from escalation.document import upgrade_document
from escalation.models import FrameworkVersion
from monitoring import cases
from monitoring.drift import (
    CHANGE_VS_BASELINE,
    CHANGE_VS_PREVIOUS,
    DriftRule,
    DriftWindow,
    Measure,
    drift_rules,
    evaluate_drift,
    judge_drift,
    measure_windows,
)
from monitoring.evaluation import (
    WINDOW_ORIGIN,
    BoundRule,
    Columns,
    Outcome,
    Window,
    WindowValue,
    apply_trigger,
    bound_rules,
    evaluate,
    judge_windows,
)
from monitoring.models import (
    CaseEvidence,
    EscalationCase,
    Evaluation,
    MetricPoint,
    SystemLevel,
    WindowKind,
    WindowResult,
)
from workshops.models import Engagement, Review

# (AI system key, output type, metric, seconds since the epoch): a point as evaluation sees it.
TouchedPoint = tuple[str, str, str, int]
Series = tuple[str, str]  # (AI system key, metric)


def _signed_off_latest_first(engagement: Engagement) -> QuerySet[Review]:
    return (
        Review.objects.signed_off()
        .filter(engagement=engagement)
        .select_related("version")
        .defer("version__document")
        .order_by("-version__number")
    )


def version_in_force(engagement: Engagement) -> FrameworkVersion | None:
    """The latest signed-off version of the engagement: the framework in force (one query; its
    document, large, is loaded when first read: what is derived from it is mostly cached under
    its hash)."""
    review = _signed_off_latest_first(engagement).first()
    return review.version if review else None


@dataclass(frozen=True)
class InForce:
    version: FrameworkVersion | None
    has_points: bool  # the engagement has stored points (known only with a version in force)
    evaluated: bool  # they were evaluated against `version`
    has_cases_in_play: bool  # open, or approved with the sunset clock running
    has_decided_levels: bool  # a decided case moved an AI system to another level


def in_force(engagement: Engagement) -> InForce:
    """`version_in_force`, whether the engagement's points are stored and evaluated against
    it, and whether it has cases in play and levels decided: what the live page says first, and
    which of its further queries it needs, in the same one query."""
    review = (
        _signed_off_latest_first(engagement)
        .annotate(
            has_points=Exists(MetricPoint.objects.filter(engagement=engagement)),
            evaluated=Exists(
                Evaluation.objects.filter(engagement=engagement, version=OuterRef("version"))
            ),
            has_cases_in_play=Exists(EscalationCase.objects.active().filter(engagement=engagement)),
            has_decided_levels=Exists(SystemLevel.objects.filter(engagement=engagement)),
        )
        .first()
    )
    if review is None:
        return InForce(None, False, False, False, False)
    return InForce(
        review.version,
        review.has_points,
        review.evaluated,
        review.has_cases_in_play,
        review.has_decided_levels,
    )


def rules_of(version: FrameworkVersion) -> list[BoundRule]:
    return all_rules_of(version)[0]


def all_rules_of(version: FrameworkVersion) -> tuple[list[BoundRule], list[DriftRule]]:
    """The version's bounds and its drift triggers with a value (one per AI system), cached
    under its hash: every intake batch evaluates against them, and reading them from the frozen
    document is a query and a tenth of an incremental evaluation."""

    def compute() -> tuple[list[BoundRule], list[DriftRule]]:
        document = upgrade_document(version.document)
        bounds = bound_rules(document)
        return bounds, drift_rules(document, bounds)

    return caching.for_hashes("evaluation-rules", [version.sha256], compute)


def signed_off_at(engagement: Engagement, version: FrameworkVersion) -> datetime | None:
    """When `version` was signed off for the engagement: where drift baselines start (one
    query)."""
    return (
        Review.objects.signed_off()
        .filter(engagement=engagement, version=version)
        .order_by("signed_off_at")
        .values_list("signed_off_at", flat=True)
        .first()
    )


def _baseline_start(
    engagement: Engagement, version: FrameworkVersion, drifts: list[DriftRule]
) -> datetime | None:
    """The sign-off time, asked of the database only when a trigger compares with a baseline."""
    if any(rule.comparison == CHANGE_VS_BASELINE for rule in drifts):
        return signed_off_at(engagement, version)
    return None


@dataclass(frozen=True)
class _Range:
    start: int
    end: int  # exclusive, seconds since the epoch


def _points(
    engagement: Engagement, ranges: dict[Series, _Range] | None
) -> dict[Series, list[tuple[str, Columns]]]:
    """Stored points by series and output type as columns (seconds, value, sample size): every
    point, or those of each series in its range. One query, one row per series and output type, its points
    as three arrays read in binary: reading 400,000 points as rows costs seconds in the driver,
    as one JSON array a second, as binary arrays a quarter of that."""
    points = (
        "array_agg(floor(extract(epoch FROM p.time))::bigint), array_agg(p.value),"
        " array_agg(p.sample_size)"
    )
    if ranges is None:
        sql = (
            f"SELECT p.ai_system, p.metric, p.output_type, {points}"
            " FROM monitoring_metricpoint p WHERE p.engagement_id = %s GROUP BY 1, 2, 3"
        )
        params: list[Any] = [engagement.pk]
    else:
        # LATERAL with OFFSET 0: one index range scan per series. Without the OFFSET the planner
        # flattens the subquery into a hash join over a scan of every point of the engagement
        # (86 ms rather than 7 for a day of 200 series among 432,000 points).
        sql = (
            f"SELECT r.s, r.m, p.output_type, {points}"
            " FROM json_to_recordset(%s::json) AS r(s text, m text, lo bigint, hi bigint)"
            " CROSS JOIN LATERAL (SELECT * FROM monitoring_metricpoint q"
            "  WHERE q.engagement_id = %s AND q.ai_system = r.s AND q.metric = r.m"
            "  AND q.time >= to_timestamp(r.lo) AND q.time < to_timestamp(r.hi) OFFSET 0) AS p"
            " GROUP BY 1, 2, 3"
        )
        spans = [{"s": s, "m": m, "lo": r.start, "hi": r.end} for (s, m), r in ranges.items()]
        params = [json.dumps(spans), engagement.pk]
    found: dict[Series, list[tuple[str, Columns]]] = {}
    for system, metric, output_type, seconds, values, samples in fetch_binary(sql, params):
        found.setdefault((system, metric), []).append(
            (output_type, Columns(seconds, values, samples))
        )
    return found


def fetch_binary(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """The rows of `sql` read in binary (Django's cursor reads text), on Django's connection and
    in its transaction; logged as Django logs its queries, so query counts include it."""
    connection.ensure_connection()
    started = time.monotonic()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, binary=True)
        rows = cursor.fetchall()
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
    return rows


def _series_points(
    rule: BoundRule | DriftRule, points: dict[Series, list[tuple[str, Columns]]]
) -> Columns:
    """The points a bound reads: its system's metric, of the output types it covers."""
    covered = [
        of_type
        for output_type, of_type in points.get((rule.ai_system, rule.metric), [])
        if rule.covers(output_type)
    ]
    if len(covered) == 1:
        return covered[0]
    return Columns(
        [moment for of_type in covered for moment in of_type.seconds],
        [value for of_type in covered for value in of_type.values],
        [sample for of_type in covered for sample in of_type.samples],
    )


def _bound_row(rule: BoundRule, window: Window) -> list[Any]:
    return [
        WindowKind.BOUND,
        rule.key,
        rule.ai_system,
        WINDOW_ORIGIN + window.index * rule.window_hours * 3600,  # its start, as the database's
        rule.window_hours,
        window.value,
        None,
        window.sample_size,
        str(window.outcome),
        window.immediate,
        window.breaches_in_last_n,
        window.fired,
    ]


def _drift_row(rule: DriftRule, window: DriftWindow) -> list[Any]:
    return [
        WindowKind.DRIFT,
        rule.key,
        rule.ai_system,
        WINDOW_ORIGIN + window.index * rule.window_hours * 3600,  # its start, as the database's
        rule.window_hours,
        window.value,
        window.metric_value,
        window.sample_size,
        str(window.outcome),
        False,
        int(window.fired),
        window.fired,
    ]


def _save(
    engagement: Engagement,
    version: FrameworkVersion,
    judged: list[tuple[BoundRule, Window]],
    drift_judged: list[tuple[DriftRule, DriftWindow]],
) -> None:
    """Insert or update each window's result: COPY into a temporary table of this connection,
    then one INSERT ... ON CONFLICT from it (a full evaluation's 18,000 windows in a fifth of
    the time of one JSON parameter). Each window's start goes as seconds since the epoch, made
    a time by the database: a datetime and its text a window were a tenth of a full
    evaluation's Python."""
    rows = [_bound_row(rule, window) for rule, window in judged]
    rows += [_drift_row(rule, window) for rule, window in drift_judged]
    if not rows:
        return
    with connection.cursor() as cursor:
        # TRUNCATE, not DELETE: no vacuum of temporary tables. Both statements in one round trip
        # (Django's cursor sends them as one simple query): an incremental evaluation is mostly
        # round trips.
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS monitoring_window_rows (kind text,"
            " bound_key text, ai_system text, window_start bigint, window_hours int,"
            " value float8, metric_value float8, sample_size int, outcome text,"
            " immediate_breach bool, breaches_in_last_n int, fired bool);"
            " TRUNCATE monitoring_window_rows"
        )
        copy_rows("monitoring_window_rows", rows)
        cursor.execute(
            """
            INSERT INTO monitoring_windowresult (engagement_id, version_id, kind, bound_key,
              ai_system, window_start, window_hours, value, metric_value, sample_size, outcome,
              immediate_breach, breaches_in_last_n, fired, evaluated_at)
            SELECT %s, %s, kind, bound_key, ai_system, to_timestamp(window_start), window_hours,
              value, metric_value, sample_size, outcome, immediate_breach, breaches_in_last_n,
              fired, now()
            FROM monitoring_window_rows
            ON CONFLICT (version_id, bound_key, ai_system, kind, window_start) DO UPDATE SET
              value = EXCLUDED.value, metric_value = EXCLUDED.metric_value,
              sample_size = EXCLUDED.sample_size, outcome = EXCLUDED.outcome,
              immediate_breach = EXCLUDED.immediate_breach,
              breaches_in_last_n = EXCLUDED.breaches_in_last_n, fired = EXCLUDED.fired,
              evaluated_at = EXCLUDED.evaluated_at
            """,
            [engagement.pk, version.pk],
        )


def copy_rows(table: str, rows: Iterable[Sequence[Any]]) -> None:
    """COPY the rows into `table` (every column, in order) on Django's connection and in its
    transaction: psycopg writes them in C. Logged as Django logs its queries."""
    connection.ensure_connection()
    started = time.monotonic()
    sql = f"COPY {table} FROM STDIN"
    with psycopg.Cursor(connection.connection) as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})


def _record_cases(
    engagement: Engagement,
    version: FrameworkVersion,
    judged: list[tuple[BoundRule, Window]],
    drift_judged: list[tuple[DriftRule, DriftWindow]],
) -> None:
    """Fired bound windows open or feed breach cases; fired drift windows, review cases."""
    cases.record_fired_windows(engagement, version, cases.fired_results(version, judged))
    cases.record_fired_drift(engagement, version, cases.fired_results(version, drift_judged))


def evaluate_all(engagement: Engagement, version: FrameworkVersion) -> int:
    """Evaluate every stored point against `version`, replacing its results; the number of
    windows. Atomic: the live page never shows half of a version's history."""
    judged = []
    points = _points(engagement, None)
    bounds, drifts = all_rules_of(version)
    for rule in bounds:
        judged += [(rule, window) for window in evaluate(rule, _series_points(rule, points))]
    drift_judged = []
    baseline_from = _baseline_start(engagement, version, drifts)
    for drift in drifts:
        series = _series_points(drift, points)
        drift_judged += [(drift, w) for w in evaluate_drift(drift, series, baseline_from)]
    with transaction.atomic():
        _delete_windows(engagement, version)
        _save(engagement, version, judged, drift_judged)
        _record_cases(engagement, version, judged, drift_judged)
        Evaluation.objects.update_or_create(
            engagement=engagement, version=version, defaults={"evaluated_at": timezone.now()}
        )
    return len(judged) + len(drift_judged)


def _delete_windows(engagement: Engagement, version: FrameworkVersion) -> None:
    """Every stored window of `version`, gone in two statements: the evidence of cases unlinked
    from them (the evidence keeps its copy of each window), then the windows. Django's delete()
    did the same by reading all of them into Python first (25,000 windows at 40 AI systems ×
    90 days: most of a full evaluation's time)."""
    windows = WindowResult.objects.filter(engagement=engagement, version=version)
    CaseEvidence.objects.filter(window__in=windows).update(window=None)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {WindowResult._meta.db_table} WHERE engagement_id = %s AND version_id = %s",
            [engagement.pk, version.pk],
        )


# A stored series of windows: (kind, bound or drift trigger key, AI system).
SpanKey = tuple[str, str, str]
# A stored window: value, metric value, sample size, outcome, immediate breach, breaches in the
# last n, fired.
StoredRow = tuple[float | None, float | None, int, str, bool, int, bool]


@dataclass(frozen=True)
class _Span:
    rule: BoundRule | DriftRule
    first: int
    last: int
    baseline_from: datetime | None = None  # a drift trigger's baseline: its first window from


def _stored(
    version: FrameworkVersion, spans: dict[SpanKey, _Span]
) -> tuple[dict[SpanKey, dict[int, StoredRow]], dict[SpanKey, tuple[int, StoredRow]]]:
    """Stored windows of each series from index `first` to `last`, and each drift trigger's
    stored baseline window (the first with enough data from `baseline_from` on), in one query."""
    ranges = [
        {
            "kind": kind,
            "k": key,
            "s": system,
            "lo": span.rule.window_start(span.first).isoformat(),
            "hi": span.rule.window_start(span.last).isoformat(),
            "base": span.baseline_from.isoformat() if span.baseline_from else None,
            "least": span.rule.minimum_sample_size,
        }
        for (kind, key, system), span in spans.items()
    ]
    stored: dict[SpanKey, dict[int, StoredRow]] = {key: {} for key in spans}
    baselines: dict[SpanKey, tuple[int, StoredRow]] = {}
    series = "v.version_id = %s AND v.bound_key = r.k AND v.ai_system = r.s AND v.kind = r.kind"
    with connection.cursor() as cursor:
        # OFFSET 0 and LIMIT keep each subquery a nested loop of index range scans.
        cursor.execute(
            "SELECT r.kind, r.k, r.s, w.is_base, w.window_start, w.value, w.metric_value,"
            " w.sample_size, w.outcome, w.immediate_breach, w.breaches_in_last_n, w.fired"
            " FROM json_to_recordset(%s::json) AS r(kind text, k text, s text, lo timestamptz,"
            "  hi timestamptz, base timestamptz, least int)"
            " CROSS JOIN LATERAL ("
            f" (SELECT false AS is_base, v.* FROM monitoring_windowresult v WHERE {series}"
            "   AND v.window_start >= r.lo AND v.window_start <= r.hi OFFSET 0)"
            " UNION ALL"
            f" (SELECT true, v.* FROM monitoring_windowresult v WHERE {series}"
            "   AND r.base IS NOT NULL AND v.window_start >= r.base"
            "   AND v.metric_value IS NOT NULL AND v.sample_size >= r.least"
            "   ORDER BY v.window_start LIMIT 1)) AS w",
            [json.dumps(ranges), version.pk, version.pk],
        )
        for kind, key, system, is_base, start, *row in cursor.fetchall():
            span_key = (kind, key, system)
            index = spans[span_key].rule.window_index(start)
            if is_base:
                baselines[span_key] = (index, tuple(row))
            else:
                stored[span_key][index] = tuple(row)
    return stored, baselines


def _stored_window(index: int, row: StoredRow) -> Window:
    value, _, sample, outcome, immediate, breaches, fired = row
    return Window(value, sample, Outcome(outcome), immediate, index, breaches, fired)


def _stored_drift(index: int, row: StoredRow) -> DriftWindow:
    value, metric, sample, outcome, *_ = row
    return DriftWindow(index, metric, sample, value, Outcome(outcome))


def _widen(ranges: dict[Series, _Range], series: Series, start: int, end: int) -> None:
    known = ranges.get(series)
    ranges[series] = (
        _Range(min(known.start, start), max(known.end, end)) if known else _Range(start, end)
    )


# A whole series, for a drift trigger whose baseline may move (the intake's time limits).
WHOLE_SERIES = (int(datetime(2000, 1, 1, tzinfo=UTC).timestamp()), 2**32)


def evaluate_touched(
    engagement: Engagement, version: FrameworkVersion, touched: Iterable[TouchedPoint]
) -> int:
    """Re-evaluate the windows holding the `touched` points, and the trigger rule of the windows
    up to n − 1 after each; the number of windows written (those that changed). A constant
    number of queries (one more when a touched drift trigger compares with a baseline)."""
    bounds, drifts = all_rules_of(version)
    by_series: dict[Series, list[BoundRule | DriftRule]] = {}
    every: list[BoundRule | DriftRule] = [*bounds, *drifts]
    for rule in every:
        by_series.setdefault((rule.ai_system, rule.metric), []).append(rule)
    # The loop below runs once per touched point: grouped by series first, kept to arithmetic.
    seconds_by_series: dict[tuple[str, str, str], set[int]] = {}
    for system, output_type, metric, seconds in touched:
        key = (system, output_type, metric)
        if key in seconds_by_series:
            seconds_by_series[key].add(seconds)
        else:
            seconds_by_series[key] = {seconds}
    windows: dict[SpanKey, set[int]] = {}
    rules: dict[SpanKey, BoundRule | DriftRule] = {}
    ranges: dict[Series, _Range] = {}
    for (system, output_type, metric), moments in seconds_by_series.items():
        for rule in by_series.get((system, metric), []):
            if not rule.covers(output_type):
                continue
            kind = WindowKind.DRIFT if isinstance(rule, DriftRule) else WindowKind.BOUND
            span_key = (str(kind), rule.key, rule.ai_system)
            rules[span_key] = rule
            width = rule.window_hours * 3600
            indexes = {(moment - WINDOW_ORIGIN) // width for moment in moments}
            windows.setdefault(span_key, set()).update(indexes)
            start = WINDOW_ORIGIN + min(indexes) * width
            _widen(ranges, (system, metric), start, WINDOW_ORIGIN + (max(indexes) + 1) * width)
    if not windows:
        return 0
    baseline_from = _baseline_start(
        engagement, version, [rule for rule in rules.values() if isinstance(rule, DriftRule)]
    )
    spans = {}
    for span_key, indexes in windows.items():
        rule = rules[span_key]
        if isinstance(rule, DriftRule):
            # The window before each (its change's base) and after each (whose change moves).
            base = baseline_from if rule.comparison == CHANGE_VS_BASELINE else None
            spans[span_key] = _Span(rule, min(indexes) - 1, max(indexes) + 1, base)
        else:
            n = rule.trigger_windows
            spans[span_key] = _Span(rule, min(indexes) - n + 1, max(indexes) + n - 1)
    stored, baselines = _stored(version, spans)
    # A drift trigger whose baseline the points may move (a point in or before its baseline
    # window, or the first after sign-off) is evaluated again in full.
    whole: set[SpanKey] = set()
    for span_key, span in spans.items():
        if isinstance(span.rule, DriftRule) and span.baseline_from is not None:
            first = span.rule.first_window_from(span.baseline_from)
            after = [index for index in windows[span_key] if index >= first]
            known = baselines.get(span_key)
            if after and (known is None or min(after) <= known[0]):
                whole.add(span_key)
                _widen(ranges, (span.rule.ai_system, span.rule.metric), *WHOLE_SERIES)
    points = _points(engagement, ranges)
    judged: list[tuple[BoundRule, Window]] = []
    drift_judged: list[tuple[DriftRule, DriftWindow]] = []
    for span_key, indexes in windows.items():
        rule = rules[span_key]
        series = _series_points(rule, points)
        if isinstance(rule, DriftRule):
            drift_judged += [
                (rule, window)
                for window in _drift_touched(
                    rule,
                    series,
                    indexes,
                    stored[span_key],
                    baselines.get(span_key),
                    baseline_from if span_key in whole else None,
                    whole=span_key in whole,
                )
            ]
            continue
        fresh = judge_windows(rule, series)
        merged: dict[int, WindowValue] = {
            index: _stored_window(index, row) for index, row in stored[span_key].items()
        }
        merged |= {index: fresh[index] for index in indexes if index in fresh}
        # A touched window changes the k-of-n count of itself and the n − 1 windows after it.
        n = rule.trigger_windows
        affected = {later for index in indexes for later in range(index, index + n)}
        # Written: the touched windows, and those after them whose k-of-n count moved.
        judged += [
            (rule, window)
            for window in apply_trigger(rule, merged, affected)
            if window.index in indexes or merged.get(window.index) != window
        ]
    _save(engagement, version, judged, drift_judged)
    _record_cases(engagement, version, judged, drift_judged)
    return len(judged) + len(drift_judged)


def _drift_touched(
    rule: DriftRule,
    series: Columns,
    indexes: set[int],
    stored: dict[int, StoredRow],
    baseline: tuple[int, StoredRow] | None,
    signed_off: datetime | None,
    *,
    whole: bool,
) -> list[DriftWindow]:
    """A drift trigger's windows to write after points touched `indexes`: every window when
    `whole` (its baseline may have moved; `series` is every point), else the touched windows and,
    for a change versus the previous window, the window after each."""
    if whole:
        return evaluate_drift(rule, series, signed_off)
    fresh = measure_windows(rule, series)
    measured: dict[int, Measure] = {index: (row[1], row[2]) for index, row in stored.items()}
    if baseline is not None:
        measured[baseline[0]] = (baseline[1][1], baseline[1][2])
    measured |= {index: fresh[index] for index in indexes if index in fresh}
    affected = set(indexes)
    if rule.comparison == CHANGE_VS_PREVIOUS:
        affected |= {index + 1 for index in indexes}
    return [
        window
        for window in judge_drift(rule, measured, baseline[0] if baseline else None, affected)
        if window.index in indexes
        or (window.index in stored and _stored_drift(window.index, stored[window.index]) != window)
    ]


def evaluate_new_points(engagement: Engagement, touched: list[TouchedPoint]) -> int:
    """Bring the evaluation against the version in force up to date after points were stored."""
    found = in_force(engagement)
    if found.version is None:
        return 0
    if not found.evaluated:
        return evaluate_all(engagement, found.version)
    return evaluate_touched(engagement, found.version, touched) if touched else 0


def seconds_of(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp() // 1)
