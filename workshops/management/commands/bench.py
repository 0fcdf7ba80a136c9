"""`make bench`: latency and SQL query count of each page on a large engagement.

Runs in-process through Django's test client against the real database (a throwaway engagement
`bench-large` is created and removed), beside a trivial view as the floor. Never a timed test.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from functools import partial

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, reset_queries, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from escalation.document import build_document, read_document
from workshops.bench import (
    BENCH_SLUG,
    artifact_measurements,
    pages_to_measure,
    remove_large_engagement,
    seed_large_engagement,
)
from workshops.models import Engagement


class Command(BaseCommand):
    help = "Measure median / p95 latency and query counts per page on a large engagement."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rounds", type=int, default=30)

    def handle(self, *args: object, rounds: int = 30, **options: object) -> None:
        remove_large_engagement()
        started = time.perf_counter()
        user = seed_large_engagement()
        self.stdout.write(f"Seeded {BENCH_SLUG} in {time.perf_counter() - started:.1f} s")
        client = Client()
        client.force_login(user)
        self.stdout.write(f"{'page':<40} {'median ms':>10} {'p95 ms':>10} {'queries':>8}")
        try:
            with override_settings(ALLOWED_HOSTS=["testserver"]):
                for name, url in pages_to_measure():
                    self._measure(name, partial(client.get, url), rounds)
                for name, action, *most_rounds in extra_measurements():
                    self._measure(name, action, min([rounds, *most_rounds]))
        finally:
            remove_large_engagement()

    def _measure(self, name: str, action: Callable[[], object], rounds: int) -> None:
        timings = []
        queries = 0
        for _ in range(rounds):
            # The query log is a bounded deque: once full, captured counts go wrong (and warn).
            reset_queries()
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = action()
                timings.append((time.perf_counter() - started) * 1000)
            queries = len(captured)
            status = getattr(response, "status_code", 200)
            if status >= 400:
                self.stderr.write(f"{name}: HTTP {status}")
                return
        timings.sort()
        p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
        self.stdout.write(
            f"{name:<40} {statistics.median(timings):>10.1f} {p95:>10.1f} {queries:>8}"
        )


def extra_measurements() -> list[tuple[str, Callable[[], object], int]]:
    """Non-page work worth tracking; the third item caps the rounds for slow work (a PDF)."""
    framework = Engagement.objects.get(slug=BENCH_SLUG).framework
    document = build_document(framework)

    def import_rolled_back() -> None:
        with transaction.atomic():  # measure the import without leaving a framework behind
            read_document(document)
            transaction.set_rollback(True)

    return [
        ("build_document (large framework)", lambda: build_document(framework), 30),
        ("read_document (large, rolled back)", import_rolled_back, 30),
        *artifact_measurements(),
    ]
