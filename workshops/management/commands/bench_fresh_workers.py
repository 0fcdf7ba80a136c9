"""`make bench`, a step of its own: the first request of a freshly forked gunicorn worker.

gunicorn runs with the production configuration (config/gunicorn.py: the app preloaded in the
master, templates compiled, then the workers forked) and `--max-requests 1`, so every worker
serves one request and is replaced by a new fork: each fetch below is the first request of a
fresh worker, as after a deploy, a restart or a worker killed at its timeout. The same pages are
then fetched from a server whose workers have warmed up. Never a timed test.
"""

from __future__ import annotations

import http.client
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from workshops.bench import pages_to_measure
from workshops.management.commands.bench import _fetch, _percentile, _session_key
from workshops.models import Membership, Role

PORT = 8003
WORKERS = 2
# What a forked worker does before it accepts (its hooks): 5 ms when idle, more under load.
BOOT_SECONDS = 0.3
# The pages whose first request was slowest from a cold worker (imports, resolver, templates,
# WeasyPrint and graphviz on first use), and the floor.
PAGES = [
    "floor: /healthz",
    "dashboard",
    "step: thresholds, a row open",
    "version page (v2)",
    "artifacts (working draft)",
    "pack page (working draft)",
    "v2 ladder png",
]


class Command(BaseCommand):
    help = "The first request of each fresh gunicorn worker, against the same page warm."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rounds", type=int, default=3, help="fresh workers per page")

    def handle(self, *args: object, rounds: int, **_: Any) -> None:
        member = Membership.objects.filter(engagement__slug="demo", role=Role.FACILITATOR).first()
        if member is None:
            self.stderr.write("No demo engagement with a facilitator: run `make demo`.")
            return
        cookie = f"sessionid={_session_key(member.user)}"
        pages = [(name, url) for name, url in pages_to_measure("demo") if name in PAGES]
        first: dict[str, list[float]] = {name: [] for name, _url in pages}
        with _gunicorn("--max-requests", "1") as (port, master):
            workers = _fresh_workers(master, previous=set())
            for _round in range(rounds):
                for name, url in pages:
                    with closing(http.client.HTTPConnection("127.0.0.1", port, timeout=60)) as c:
                        first[name].append(_fetch(c, url, cookie))
                    # Its worker exits: the next fetch waits for no fork.
                    workers = _fresh_workers(master, previous=workers)
        warm: dict[str, list[float]] = {name: [] for name, _url in pages}
        with (
            _gunicorn() as (port, _master),
            closing(http.client.HTTPConnection("127.0.0.1", port, timeout=60)) as c,
        ):
            for _round in range(3):  # new connections, spread over both workers
                for _name, url in pages:
                    _fetch(c, url, cookie)
                    c.close()
            for _round in range(rounds * 2):
                for name, url in pages:
                    warm[name].append(_fetch(c, url, cookie))
        load = os.getloadavg()
        self.stdout.write(
            f"\nFirst request of a fresh gunicorn worker (demo, {rounds} workers per page, "
            f"load average {load[0]:.1f})\n"
            f"{'page':<36} {'first p50':>9} {'first max':>9} {'warm p50':>9} {'×warm':>6}"
        )
        for name, _url in pages:
            first_p50, warm_p50 = statistics.median(first[name]), statistics.median(warm[name])
            self.stdout.write(
                f"{name:<36} {first_p50:>9.1f} {max(first[name]):>9.1f} {warm_p50:>9.1f} "
                f"{first_p50 / warm_p50:>6.1f}"
            )
        every_first = [ms for times in first.values() for ms in times]
        self.stdout.write(
            f"{'every first request':<36} {statistics.median(every_first):>9.1f} "
            f"{max(every_first):>9.1f}   (p95 {_percentile(every_first, 95):.1f} ms)"
        )


def _fresh_workers(master: int, previous: set[int]) -> set[int]:
    """The master's workers, once it runs all of them again and has replaced one of `previous`
    (the one a fetch retired)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        workers = {int(pid) for pid in children}
        if len(workers) == WORKERS and (not previous or workers != previous):
            time.sleep(BOOT_SECONDS)
            return workers
        time.sleep(0.01)
    raise RuntimeError("gunicorn did not replace its worker")


@contextmanager
def _gunicorn(*options: str) -> Iterator[tuple[int, int]]:
    """gunicorn with the production configuration and two workers, until the block ends. Ready
    once it accepts a connection: no request is spent on checking it."""
    command = [sys.executable, "-m", "gunicorn", "--config", "config/gunicorn.py"]
    command += ["config.wsgi:application", "--bind", f"127.0.0.1:{PORT}", "--workers", str(WORKERS)]
    command += ["--log-level", "warning", *options]
    server = subprocess.Popen(command, env={**os.environ, "ALLOWED_HOSTS": "127.0.0.1"})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with closing(http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)) as probe:
                    probe.connect()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield PORT, server.pid
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
