"""`manage.py bench_monitoring` (run by `make bench`): intake throughput and evaluation time of
the live framework, with query counts. See monitoring/bench.py."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from monitoring.bench import run, throughput


class Command(BaseCommand):
    help = "Measure metric intake (JSON, CSV) and evaluation (full, incremental)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--runs",
            type=int,
            help="Run each measurement this many times (default: 3 for the intake and the full"
            " evaluation, 5 for the rest), reporting the median.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(
            "\nLive framework (in-process, one transaction rolled back afterwards; wall, cpu and"
            " pg ms are the median of `runs` runs on the same state)\n"
            f"{'measurement':<46} {'runs':>4} {'wall ms':>9} {'cpu ms':>8} {'pg ms':>8}"
            f" {'queries':>7}  detail"
        )
        for measured in run(options["runs"]):
            rate = f" ({throughput(measured)})" if measured.name.startswith("intake") else ""
            pg = measured.pg_cpu_seconds
            pg_ms = "–" if pg is None else f"{pg * 1000:.0f}"
            self.stdout.write(
                f"{measured.name:<46} {measured.runs:>4} {measured.seconds * 1000:>9.1f} "
                f"{measured.cpu_seconds * 1000:>8.1f} {pg_ms:>8} {measured.queries:>7}"
                f"  {measured.detail}{rate}"
            )
