"""Gunicorn's settings, one place for production (Dockerfile, docker compose) and `make load`.

The app is imported once in the master and every page module with it (WeasyPrint, pyHanko), then
the workers fork: a fresh worker answers its first request at once. Without this each new worker
imported them on its first request (the load test saw a p99 of 4 s from cold workers).
Command-line options override these (`make load` runs on its own port).
"""

import os
from typing import Any

from gunicorn.arbiter import Arbiter

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# One worker per core, two threads each: pages are Python-bound, so more workers than cores only
# queue for the cores. On 2 cores under `make load`, in each back-to-back pair of runs the fewer
# workers served more requests at a lower p99 (4x2: 837-928 requests, p99 4.3-5.6 s; 2x2:
# 836-1,786, p99 0.9-6.2 s, the machine's load varying; README, Performance). The second
# thread covers a worker's waits on the database.
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 2))
worker_class = "gthread"
threads = 2
# Keep-alive outlasts the users' think time, or gunicorn closes a connection as a request arrives.
keepalive = 10
timeout = 60
preload_app = True


def when_ready(server: Arbiter) -> None:
    """In the master, after the app is loaded and before any worker forks."""
    from django.db import connections
    from django.urls import get_resolver, reverse

    get_resolver().url_patterns  # noqa: B018  (imports every view module)
    reverse("home")  # builds the resolver's reverse lookup tables (150 ms on a first request)
    warm_templates()
    warm_middleware()
    # A connection opened while loading (the preflight check) must not be shared by the forks.
    connections.close_all()
    freeze_what_is_loaded()


def freeze_what_is_loaded() -> None:
    """Move every object the master has loaded (Django, WeasyPrint, compiled templates: about a
    million objects) out of the garbage collector's sight. Without this a worker's full
    collection walked all of them, tens of milliseconds in the middle of some request: the p95
    outliers `make bench` saw. The forks also stop touching (and so copying) those pages."""
    import gc

    gc.collect()
    gc.freeze()


def post_worker_init(worker: Any) -> None:
    """In a fresh worker: each request thread opens its database connection now, not on the
    worker's first request (Django's connections are per thread)."""
    from django.db import connection

    def connect() -> None:
        connection.ensure_connection()  # this thread's connection

    for _ in range(worker.cfg.threads):
        worker.tpool.submit(connect)


def warm_middleware() -> None:
    """One request for the trivial page through the whole stack, in the master: what middleware
    imports on first use (the messages storage, the session engine) is imported before forking."""
    from django.test import RequestFactory

    from config.wsgi import application

    request = RequestFactory().get("/healthz", secure=True, HTTP_HOST=settings_allowed_host())
    application.get_response(request)


def settings_allowed_host() -> str:
    from django.conf import settings

    hosts = [host.lstrip(".") for host in settings.ALLOWED_HOSTS if host != "*"]
    return hosts[0] if hosts else "localhost"


def warm_templates() -> None:
    """Compile every project template once in the master: with DEBUG off Django keeps compiled
    templates in memory (the cached loader), so forked workers start with them compiled."""
    from pathlib import Path
    from typing import cast

    from django.conf import settings
    from django.template.loader import get_template

    directories = cast(list[Path], settings.TEMPLATES[0]["DIRS"])
    for directory in directories:
        for path in sorted(Path(directory).rglob("*.html")):
            get_template(path.relative_to(directory).as_posix())
