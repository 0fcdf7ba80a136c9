"""The background worker in tests, as production runs it: `manage.py db_worker`, here in batch
mode (every task that is due, then return).

The worker closes its database connection between tasks, which a test wrapped in a transaction
cannot survive: tests that run it commit for real (`django_db(transaction=True)`), so what they
queue after commit (mail) is queued as in production."""

from __future__ import annotations

from django.core.management import call_command


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
