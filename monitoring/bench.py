"""`make bench`, the live framework's part: metric intake throughput (JSON and CSV, through the
API in-process, evaluation included) and evaluation time for 40 AI systems × 5 bounds × 90 days
of hourly points (and one drift trigger for every system), full and incremental, then the live
page with its charts of those windows, with query
counts, this process's CPU time and its PostgreSQL backend's.

Everything is seeded inside one transaction that is rolled back at the end: nothing is left.
Each measurement is the median of several runs on the same state (RUNS): every run but the last
is rolled back to a savepoint, and the last one's writes are what the next measurement builds on.
One run on this shared 2-core machine can be a third slower than the next."""

from __future__ import annotations

import datetime
import io
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from escalation.models import AISystem, Bound, DriftTrigger, Framework, Threshold
from escalation.versions import freeze_version
from monitoring.intake import CSV_HEADER
from monitoring.models import ApiToken, Evaluation, MetricPoint, WindowResult
from monitoring.results import evaluate_all, evaluate_touched, version_in_force
from monitoring.views import LIVE_SYSTEMS_PAGE
from workshops.models import Engagement, Membership, Review, ReviewState, Role

SYSTEMS, DAYS, BATCH = 40, 90, 10000
START = datetime.datetime(2026, 8, 1, tzinfo=datetime.UTC)
# (metric kind, name, percentile, direction, value, unit): five bounds a system, 24-hour windows.
BOUNDS = [
    ("quality", "groundedness", "", "at_least", "0.85", "ratio"),
    ("error_rate", "", "", "at_most", "4", "percent"),
    ("latency", "", "p95", "at_most", "1200", "ms"),
    ("throughput", "", "", "at_least", "10", "per_minute"),
    ("confidence", "", "", "at_least", "0.8", "ratio"),
]
METRICS = ["groundedness", "error_rate", "latency", "throughput", "confidence"]
# Runs per measurement, of which the median is reported: fewer where one run is long (an intake
# run sends all 432,000 points in 44 requests, about 15 s).
RUNS = {"intake": 3, "re-send": 3, "full": 3, "live page": 5, "incremental": 5}


class _Rollback(Exception):
    pass


@contextmanager
def rolled_back() -> Iterator[None]:
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


def seed_engagement(slug: str) -> tuple[Engagement, str]:
    """An engagement whose signed-off v1 has SYSTEMS systems of five bounds, and a token."""
    framework = Framework.objects.create(name=f"{slug} framework")
    engagement = Engagement.objects.create(
        slug=slug,
        client_organisation="Bench",
        title="Live bench",
        start_date=datetime.date(2026, 7, 1),
        framework=framework,
    )
    systems = AISystem.objects.bulk_create(
        AISystem(framework=framework, key=f"s{n}", name=f"System {n}", model_name=f"m{n}")
        for n in range(SYSTEMS)
    )
    thresholds = Threshold.objects.bulk_create(
        Threshold(framework=framework, key=f"t{n}", ai_system=system, position=n)
        for n, system in enumerate(systems)
    )
    Bound.objects.bulk_create(
        Bound(
            framework=framework,
            threshold=threshold,
            key=f"{threshold.key}-{kind}",
            metric_kind=kind,
            metric_name=name,
            percentile=percentile,
            direction=direction,
            value=Decimal(value),
            unit=unit,
        )
        for threshold in thresholds
        for kind, name, percentile, direction, value, unit in BOUNDS
    )
    # For every system: groundedness dropping by more than 0.05 from one day to the next.
    DriftTrigger.objects.create(
        framework=framework,
        key="daily-drop",
        metric="quality",
        comparison="change_vs_previous",
        operator="below",
        value=Decimal("-0.05"),
        window=1,
        window_unit="days",
    )
    version = freeze_version(framework, "Bench", "Bench")
    Review.objects.create(
        version=version,
        engagement=engagement,
        state=ReviewState.APPROVED,
        signed_off_at=timezone.now(),
    )
    _, secret = ApiToken.issue(engagement, "bench")
    return engagement, secret


def _value(metric: str, hour: int, system: int) -> float:
    wobble = ((hour * 7 + system * 13) % 10) / 100
    return {
        "groundedness": 0.82 + wobble,
        "error_rate": 2 + wobble * 30,
        "latency": 900 + wobble * 5000,
        "throughput": 700 + wobble * 100,
        "confidence": 0.78 + wobble,
    }[metric]


def hourly_points(hours: range) -> list[dict[str, Any]]:
    return [
        {
            "time": (START + datetime.timedelta(hours=hour)).isoformat(),
            "ai_system": f"s{system}",
            "output_type": "",
            "metric": metric,
            "value": round(_value(metric, hour, system), 4),
            "sample_size": 50,
        }
        for hour in hours
        for system in range(SYSTEMS)
        for metric in METRICS
    ]


def _csv(points: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    out.write(",".join(CSV_HEADER) + "\n")
    for p in points:
        out.write(
            f"{p['time']},{p['ai_system']},{p['output_type']},{p['metric']},{p['value']},"
            f"{p['sample_size']}\n"
        )
    return out.getvalue()


@dataclass
class Measured:
    name: str
    seconds: float
    cpu_seconds: float  # this process's CPU (PostgreSQL's is in its own): contention shows apart
    queries: int
    detail: str = ""
    pg_cpu_seconds: float | None = None  # the PostgreSQL backend's CPU, when /proc shows it
    runs: int = 1  # the numbers above are the median of this many runs


def _backend_cpu(pid: int) -> float | None:
    """The CPU time (user and system) of the PostgreSQL backend `pid`, from /proc; None where
    it cannot be read (another host, another user). Parallel workers are not counted."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(
    name: str, action: Callable[[], Any], detail: Callable[[Any], str], runs: int = 1
) -> Measured:
    """`action` run `runs` times on the same state, each run but the last rolled back to a
    savepoint: the median of each number (the query count is the same in every run)."""
    taken = []
    for run in range(runs):
        if run < runs - 1:
            with rolled_back():
                taken.append(_measure_once(name, action, detail))
        else:
            taken.append(_measure_once(name, action, detail))
    pg = [m.pg_cpu_seconds for m in taken if m.pg_cpu_seconds is not None]
    return Measured(
        name,
        statistics.median(m.seconds for m in taken),
        statistics.median(m.cpu_seconds for m in taken),
        max(m.queries for m in taken),
        taken[-1].detail,
        statistics.median(pg) if len(pg) == runs else None,
        runs,
    )


def _measure_once(name: str, action: Callable[[], Any], detail: Callable[[Any], str]) -> Measured:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    backend_started = _backend_cpu(backend)
    with CaptureQueriesContext(connection) as captured:
        started, cpu_started = time.perf_counter(), time.process_time()
        result = action()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    backend_now = _backend_cpu(backend)
    pg_cpu = (
        backend_now - backend_started
        if backend_now is not None and backend_started is not None
        else None
    )
    return Measured(name, seconds, cpu, len(captured), detail(result), pg_cpu)


def _send_all(
    client: Client, url: str, secret: str, batches: list[str], content_type: str
) -> list[int]:
    stored = []
    for body in batches:
        response = client.post(
            url, body, content_type=content_type, headers={"Authorization": f"Bearer {secret}"}
        )
        assert response.status_code == 200, response.content[:300]
        stored.append(response.json()["stored"])
    return stored


def run(runs: int | None = None) -> list[Measured]:
    """Every measurement, inside a transaction rolled back at the end; `runs` of each when
    given, else as RUNS says."""

    def runs_of(kind: str) -> int:
        return runs or RUNS[kind]

    results: list[Measured] = []
    with rolled_back():
        engagement, secret = seed_engagement("bench-live")
        url = reverse("api_metrics", args=[engagement.slug])
        client = Client(SERVER_NAME="127.0.0.1")
        points = hourly_points(range(DAYS * 24))
        point_count = len(points)
        chunks = [points[i : i + BATCH] for i in range(0, len(points), BATCH)]
        json_batches = [json.dumps(chunk) for chunk in chunks]
        csv_batches = [_csv(chunk) for chunk in chunks]
        per_batch = f"{len(chunks)} requests of {BATCH}"
        # The bench's own 432,000 dicts, gone: every full garbage collection in the measured
        # code would walk them (a tenth of a full evaluation), which a server never holds.
        del points, chunks

        def rate(stored: list[int]) -> str:
            return f"{sum(stored):,} points, {per_batch}"

        results.append(
            _measure(
                "intake JSON (evaluation included)",
                lambda: _send_all(client, url, secret, json_batches, "application/json"),
                rate,
                runs_of("intake"),
            )
        )
        with connection.cursor() as cursor:
            # What autovacuum's analyze does for a table that grew; the bench's rows never commit,
            # so it cannot, and plans without statistics scan whole tables.
            cursor.execute("ANALYZE monitoring_metricpoint, monitoring_windowresult")
        results.append(
            _measure(
                "re-send JSON (idempotent, nothing written)",
                lambda: _send_all(client, url, secret, json_batches[:10], "application/json"),
                lambda stored: f"{sum(stored)} stored of {10 * BATCH:,}",
                runs_of("re-send"),
            )
        )
        MetricPoint.objects.filter(engagement=engagement).delete()
        WindowResult.objects.filter(engagement=engagement).delete()
        Evaluation.objects.filter(engagement=engagement).delete()
        results.append(
            _measure(
                "intake CSV (evaluation included)",
                lambda: _send_all(client, url, secret, csv_batches, "text/csv"),
                rate,
                runs_of("intake"),
            )
        )
        version = version_in_force(engagement)
        assert version is not None
        results.append(
            _measure(
                f"full evaluation ({SYSTEMS}×{len(BOUNDS)} bounds × {DAYS} days)",
                lambda: evaluate_all(engagement, version),
                lambda windows: f"{windows:,} windows from {point_count:,} points",
                runs_of("full"),
            )
        )
        results.append(_measure_live_page(engagement, runs_of("live page")))
        next_hour = hourly_points(range(DAYS * 24, DAYS * 24 + 1))
        results.append(
            _measure(
                "incremental: the next hour through the API",
                lambda: _send_all(client, url, secret, [json.dumps(next_hour)], "application/json"),
                lambda stored: f"{sum(stored)} points",
                runs_of("incremental"),
            )
        )
        late = hourly_points(range(24 * 30, 24 * 30 + 1))
        touched = [
            (p["ai_system"], "", p["metric"], int(START.timestamp()) + 24 * 30 * 3600) for p in late
        ]
        results.append(
            _measure(
                "incremental: re-evaluating one late hour",
                lambda: evaluate_touched(engagement, version, touched),
                lambda windows: f"{windows} windows",
                runs_of("incremental"),
            )
        )
    return results


def _measure_live_page(engagement: Engagement, runs: int) -> Measured:
    """The live page as its facilitator sees it after the full evaluation: its first page of
    AI systems, each bound and drift trigger with its chart of recent windows (warm: the
    version's rules are cached after the first fetch, as on a running server)."""
    facilitator = get_user_model().objects.create_user("bench-live-facilitator")
    Membership.objects.create(engagement=engagement, user=facilitator, role=Role.FACILITATOR)
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(facilitator)
    url = reverse("live", args=[engagement.slug])

    def fetch() -> bytes:
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        return response.content

    fetch()
    charts = fetch().count(b"<svg")
    return _measure(
        f"live page, {LIVE_SYSTEMS_PAGE} systems of {SYSTEMS} with charts",
        fetch,
        lambda content: f"{charts} charts, {len(content):,} bytes",
        runs,
    )


def throughput(measured: Measured) -> str:
    points = int(measured.detail.split(" points")[0].replace(",", ""))
    return f"{points / measured.seconds:,.0f} points/s"
