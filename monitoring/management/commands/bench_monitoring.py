"""`manage.py bench_monitoring` (run by `make bench`): intake throughput and evaluation time of
the live framework, with query counts. See monitoring/bench.py."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from monitoring.bench import run, throughput


class Command(BaseCommand):
    help = "Measure metric intake (JSON, CSV) and evaluation (full, incremental)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(
            "\nLive framework (in-process, one transaction rolled back afterwards)\n"
            f"{'measurement':<46} {'wall ms':>9} {'cpu ms':>8} {'pg ms':>8} {'queries':>7}  detail"
        )
        for measured in run():
            rate = f" ({throughput(measured)})" if measured.name.startswith("intake") else ""
            pg = measured.pg_cpu_seconds
            pg_ms = "–" if pg is None else f"{pg * 1000:.0f}"
            self.stdout.write(
                f"{measured.name:<46} {measured.seconds * 1000:>9.1f} "
                f"{measured.cpu_seconds * 1000:>8.1f} {pg_ms:>8} {measured.queries:>7}"
                f"  {measured.detail}{rate}"
            )
