"""`make bench`: every page a facilitator can reach, on the production path, for the demo and for
an engagement ten times today's largest (`bench-large`, seeded in bulk and removed afterwards).

Latency is measured from outside, over HTTP against gunicorn started with the production
configuration (config/gunicorn.py, whatever DEBUG the command runs with: `make bench` sets
DEBUG=false), each page interleaved with a trivial page (the floor) so that load from elsewhere on
the machine shows in both. In-process, through the test client, each page's query count and its
time in SQL, in template rendering and in the rest of Python. Never a timed test.
"""

from __future__ import annotations

import cProfile
import gc
import http.client
import io
import math
import os
import pstats
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.template import base as template_base
from django.test import Client
from django.test.utils import override_settings

from escalation.document import build_document
from escalation.document_reader import read_document
from escalation.signing import development_pair
from workshops.bench import (
    BENCH_SLUG,
    FLOORS,
    artifact_measurements,
    pack_ratio,
    pages_to_measure,
    remove_large_engagement,
    seed_large_engagement,
)
from workshops.models import Engagement, Membership, Role

BENCH_PORT = 8002


@dataclass
class Split:
    """One in-process request: its queries and where its time went (ms)."""

    queries: int
    sql: float
    template: float
    python: float


class Command(BaseCommand):
    help = "p50/p95 per page over HTTP (ratio to a trivial page), queries, SQL/template/Python."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rounds", type=int, default=60, help="HTTP fetches of each page (60: p95 is the 57th)"
        )
        parser.add_argument("--keep", action="store_true", help="keep bench-large afterwards")
        parser.add_argument("--skip-large", action="store_true", help="the demo only")
        parser.add_argument("--only", default="", help="only pages whose name contains this")
        parser.add_argument(
            "--in-process", action="store_true", help="no HTTP, no pack: queries and splits only"
        )
        parser.add_argument(
            "--profile", type=int, default=0, help="print each page's N costliest functions"
        )

    def handle(
        self,
        *args: object,
        rounds: int,
        keep: bool,
        skip_large: bool,
        only: str,
        in_process: bool,
        profile: int,
        **_: Any,
    ) -> None:
        engagements = ["demo"]
        if not skip_large:
            if not (keep and Engagement.objects.filter(slug=BENCH_SLUG).exists()):
                remove_large_engagement()
                started = time.perf_counter()
                seed_large_engagement()
                with connection.cursor() as cursor:
                    # As autovacuum does within a minute of a bulk load (PostgreSQL 13 and later
                    # vacuum after inserts too): without statistics the planner takes the 20,000
                    # audit rows for one and sorts them all per page, and without the visibility
                    # map an index-only scan (thread_by_review) reads the rows all the same.
                    cursor.execute("VACUUM (ANALYZE)")
                seeded = time.perf_counter() - started
                self.stdout.write(f"Seeded {BENCH_SLUG} (ten times the largest) in {seeded:.1f} s")
            engagements.append(BENCH_SLUG)
        try:
            if in_process or profile:
                for slug in engagements:
                    self._in_process(slug, only, profile)
                return
            self.stdout.write(machine_pauses())
            with _gunicorn() as port:
                for slug in engagements:
                    self._engagement(slug, port, rounds, only)
            if only:
                return
            with _signing_key():
                for slug in engagements:
                    self.stdout.write(f"\nOther work on {slug} (in-process)")
                    cpu_ms = {
                        name: self._time(name, action, most_rounds)
                        for name, action, most_rounds in _other_work(slug)
                    }
                    self.stdout.write(pack_ratio(cpu_ms))
        finally:
            if not skip_large and not keep:
                remove_large_engagement()

    def _in_process(self, slug: str, only: str, profile: int) -> None:
        """Each page through the test client, warm: its split and, with `profile`, its costliest
        functions by cumulative time (cProfile over five requests)."""
        user = Membership.objects.filter(engagement__slug=slug, role=Role.FACILITATOR).first()
        if user is None:
            self.stderr.write(f"No engagement {slug!r} with a facilitator: run `make demo`.")
            return
        client = Client()
        client.force_login(user.user)
        self.stdout.write(
            f"\n{slug}, in-process\n{'page':<40} {'queries':>7} {'SQL ms':>7} "
            f"{'tmpl ms':>7} {'py ms':>7}"
        )
        for name, url in _chosen(pages_to_measure(slug), only):
            with override_settings(ALLOWED_HOSTS=["testserver"]):
                client.get(url)  # fills the caches
            split = _split(client, url)
            self.stdout.write(
                f"{name:<40} {split.queries:>7} {split.sql:>7.1f} {split.template:>7.1f} "
                f"{split.python:>7.1f}"
            )
            if profile:
                profiler = cProfile.Profile()
                with override_settings(ALLOWED_HOSTS=["testserver"]):
                    profiler.enable()
                    for _ in range(5):
                        client.get(url)
                    profiler.disable()
                report = io.StringIO()
                stats = pstats.Stats(profiler, stream=report)
                stats.sort_stats("cumulative").print_stats(profile)
                self.stdout.write(report.getvalue())

    def _engagement(self, slug: str, port: int, rounds: int, only: str = "") -> None:
        user = Membership.objects.filter(engagement__slug=slug, role=Role.FACILITATOR).first()
        if user is None:
            self.stderr.write(f"No engagement {slug!r} with a facilitator: run `make demo`.")
            return
        pages = _chosen(pages_to_measure(slug), only)
        client = Client()
        client.force_login(user.user)
        cookie = f"{settings.SESSION_COOKIE_NAME}={_session_key(user.user)}"
        floors, measured = pages[: len(FLOORS)], pages[len(FLOORS) :]
        if not measured:
            return
        floor_times: dict[str, list[float]] = {name: [] for name, _ in floors}
        results = []
        with closing(http.client.HTTPConnection("127.0.0.1", port, timeout=60)) as http_connection:
            for name, url in measured:
                _fetch(http_connection, url, cookie)  # a first fetch fills the caches
                times = []
                for _ in range(rounds):
                    for floor_name, floor_url in floors:
                        floor_times[floor_name].append(_fetch(http_connection, floor_url, cookie))
                    times.append(_fetch(http_connection, url, cookie))
                results.append((name, times, _split(client, url)))
        healthz_p95, login_p95 = (_percentile(floor_times[name], 95) for name in FLOORS)
        self.stdout.write(
            f"\n{slug}: {len(measured)} pages, {rounds} rounds over HTTP, each after the floors\n"
            f"{'page':<40} {'p50 ms':>7} {'p95 ms':>7} {'×login':>7} {'×healthz':>8} "
            f"{'queries':>7} {'SQL ms':>7} {'tmpl ms':>7} {'py ms':>7}"
        )
        floor_results = [(name, floor_times[name], _split(client, url)) for name, url in floors]
        for name, times, split in floor_results + results:
            p95 = _percentile(times, 95)
            self.stdout.write(
                f"{name:<40} {statistics.median(times):>7.1f} {p95:>7.1f} "
                f"{p95 / login_p95:>7.1f} {p95 / healthz_p95:>8.1f} {split.queries:>7} "
                f"{split.sql:>7.1f} {split.template:>7.1f} {split.python:>7.1f}"
            )

    def _time(self, name: str, action: Callable[[], object], rounds: int) -> float:
        """Print the wall time's p50 and p95 and the CPU time's p50 (this process's, steadier
        on a shared machine); return the CPU time's p50 in ms."""
        timings, cpu_timings = [], []
        for _ in range(rounds):
            gc.collect()  # the garbage of the last action is not this one's to collect
            started, cpu_started = time.perf_counter(), time.process_time()
            action()
            timings.append((time.perf_counter() - started) * 1000)
            cpu_timings.append((time.process_time() - cpu_started) * 1000)
        cpu = statistics.median(cpu_timings)
        self.stdout.write(
            f"{name:<40} p50 {statistics.median(timings):>8.1f} ms  "
            f"p95 {_percentile(timings, 95):>8.1f} ms  CPU p50 {cpu:>8.1f} ms  "
            f"(load {os.getloadavg()[0]:.1f})"
        )
        return cpu


def machine_pauses(seconds: float = 5.0) -> str:
    """How often the machine itself stalls: a loop of about a millisecond of Python, run for
    `seconds` with nothing else to do, and the runs that took far longer than the usual one. A
    page's p95 of sixty fetches takes in its slowest fetches, and on a shared virtual machine
    a stall of 10-15 ms about twice a second (measured so on 2026-12-01) lands in some of them."""
    taken = []
    end = time.perf_counter() + seconds
    while (start := time.perf_counter()) < end:
        sum(range(20_000))
        taken.append((time.perf_counter() - start) * 1000)
    return stalls_summary(taken, seconds)


def stalls_summary(taken: list[float], seconds: float) -> str:
    """`taken`: each run's milliseconds; a stall is a run 5 ms longer than the median run."""
    usual = statistics.median(taken)
    stalls = [ms - usual for ms in taken if ms - usual > 5]
    longest = f", the longest {max(stalls):.1f} ms" if stalls else ""
    return (
        f"A loop of Python on this machine: {len(stalls)} stalls of over 5 ms in "
        f"{seconds:.0f} s ({len(stalls) / seconds:.1f} a second){longest}; a fetch meeting one "
        "is that much slower."
    )


def _chosen(pages: list[tuple[str, str]], only: str) -> list[tuple[str, str]]:
    """The floors, then the pages whose name contains `only` (every page when it is empty)."""
    floors = pages[: len(FLOORS)]
    return [*floors, *[page for page in pages[len(FLOORS) :] if only in page[0]]]


def _percentile(values: list[float], percent: int) -> float:
    """The nearest-rank percentile: the smallest value with `percent`% of the values at or
    below it (of 60 values, p95 is the 57th; of 20, the 19th, not the largest)."""
    ordered = sorted(values)
    rank = math.ceil(len(ordered) * percent / 100)
    return ordered[max(rank, 1) - 1]


def _fetch(http_connection: http.client.HTTPConnection, url: str, cookie: str) -> float:
    started = time.perf_counter()
    http_connection.request("GET", url, headers={"Cookie": cookie, "Host": "127.0.0.1"})
    response = http_connection.getresponse()
    response.read()
    if response.status >= 400:
        raise RuntimeError(f"{url}: HTTP {response.status}")
    return (time.perf_counter() - started) * 1000


def _session_key(user: Any) -> str:
    """A signed-in session for `user`, as the login view would leave it."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return str(store.session_key)


def _split(client: Client, url: str, rounds: int = 9) -> Split:
    """The request of median time among `rounds` in-process ones: its queries, and its time in
    SQL, in templates (SQL run while rendering excluded: a lazy queryset evaluated by a template
    counts as SQL), and the rest."""
    splits = []
    clock = _Clock()
    with (
        override_settings(ALLOWED_HOSTS=["testserver"]),
        connection.execute_wrapper(clock.time_query),
        _timed_templates(clock),
    ):
        for _ in range(rounds):
            clock.reset()
            started = time.perf_counter()
            client.get(url)
            total = (time.perf_counter() - started) * 1000
            template = clock.rendering_ms - clock.sql_while_rendering_ms
            splits.append(
                Split(clock.queries, clock.sql_ms, template, total - clock.sql_ms - template)
            )
    splits.sort(key=lambda split: split.sql + split.template + split.python)
    return splits[len(splits) // 2]


class _Clock:
    """Each query's time as `time.perf_counter` measures it around the database call (Django's
    query log rounds it to the millisecond: eight queries of half a millisecond summed to 0 or
    to 8), and the time inside outermost template renders."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.queries = 0
        self.sql_ms = 0.0
        self.rendering_ms = 0.0
        self.sql_while_rendering_ms = 0.0
        self.rendering = False

    def time_query(self, execute: Callable[..., Any], *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(*args)
        finally:
            took = (time.perf_counter() - started) * 1000
            self.queries += 1
            self.sql_ms += took
            if self.rendering:
                self.sql_while_rendering_ms += took


@contextmanager
def _timed_templates(clock: _Clock) -> Iterator[None]:
    """Adds the time spent inside outermost Template.render calls to `clock`."""
    original = template_base.Template.render

    def render(self: template_base.Template, context: Any) -> Any:
        if clock.rendering:
            return original(self, context)
        clock.rendering = True
        started = time.perf_counter()
        try:
            return original(self, context)
        finally:
            clock.rendering = False
            clock.rendering_ms += (time.perf_counter() - started) * 1000

    template_base.Template.render = render  # type: ignore[method-assign]
    try:
        yield
    finally:
        template_base.Template.render = original  # type: ignore[method-assign]


@contextmanager
def _signing_key() -> Iterator[None]:
    """The configured signing key, or the development pair: production settings without a key
    refuse to sign, and the bench measures signing all the same."""
    if settings.SIGNING_KEY_FILE and settings.SIGNING_CERT_FILE:
        yield
        return
    key, certificate = development_pair(Path(settings.SIGNING_DEVELOPMENT_DIR))
    with override_settings(SIGNING_KEY_FILE=str(key), SIGNING_CERT_FILE=str(certificate)):
        yield


@contextmanager
def _gunicorn() -> Iterator[int]:
    """gunicorn with the production configuration on a port of its own, until the block ends."""
    command = [sys.executable, "-m", "gunicorn", "--config", "config/gunicorn.py"]
    command += ["config.wsgi:application", "--bind", f"127.0.0.1:{BENCH_PORT}", "--workers", "2"]
    command += ["--log-level", "warning"]
    server = subprocess.Popen(command, env={**os.environ, "ALLOWED_HOSTS": "127.0.0.1"})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with closing(
                    http.client.HTTPConnection("127.0.0.1", BENCH_PORT, timeout=5)
                ) as probe:
                    probe.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
                    if probe.getresponse().status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.3)
        yield BENCH_PORT
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _other_work(slug: str) -> list[tuple[str, Callable[[], object], int]]:
    """Work besides pages: reading and writing the framework document, the diagram, the pack."""
    framework = Engagement.objects.get(slug=slug).framework
    document = build_document(framework)

    def import_rolled_back() -> None:
        with transaction.atomic():  # measure the import without leaving a framework behind
            read_document(document)
            transaction.set_rollback(True)

    return [
        ("build_document", lambda: build_document(framework), 10),
        ("read_document (rolled back)", import_rolled_back, 5),
        *artifact_measurements(slug),
    ]
