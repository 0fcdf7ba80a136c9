"""A pack worker killed mid-render leaves no partial file, and the pack is retried: on request,
or unasked by the next worker once the run counts as stalled."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from config.database import connected_libpq_url
from escalation.models import Pack, PackStatus, pack_stalled_after
from tests.factories import make_version
from tests.framework_content import make_framework_content

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parent.parent


def start_worker_process() -> subprocess.Popen[bytes]:
    """A real `manage.py db_worker`, as docker compose runs it, on the test database."""
    environment = {**os.environ, "DATABASE_URL": connected_libpq_url(connection), "DEBUG": "true"}
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for_status(status: str, seconds: float = 60) -> Pack:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pack = Pack.objects.defer("pdf").get()
        if pack.status == status:
            return pack
        time.sleep(0.05)
    raise AssertionError(f"the pack never became {status}")


def test_a_worker_killed_mid_pack_serves_no_file_and_the_pack_is_retried(
    client, engagement, reviewer
):
    make_framework_content(engagement.framework)
    make_version(engagement.framework)
    client.force_login(reviewer)
    client.post(reverse("version_pack_generate", args=["acme", 1]))
    worker = start_worker_process()
    try:
        wait_for_status(PackStatus.RUNNING)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    pack = Pack.objects.get()
    download = reverse("pack_download", args=["acme", pack.public_id])
    assert (pack.status, pack.pdf, client.get(download).status_code) == (
        PackStatus.RUNNING,
        None,
        404,
    )

    # Once the run counts as stalled, asking for the pack again queues it for a healthy worker.
    Pack.objects.update(started_at=timezone.now() - datetime.timedelta(hours=1))
    client.post(reverse("version_pack_generate", args=["acme", 1]))
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    pack.refresh_from_db()
    assert (pack.status, pack.attempts, bytes(pack.pdf)[:5]) == (PackStatus.READY, 2, b"%PDF-")


def test_a_pack_whose_worker_died_is_queued_again_by_the_next_worker_unasked(
    client, engagement, reviewer
):
    make_framework_content(engagement.framework)
    make_version(engagement.framework)
    client.force_login(reviewer)
    client.post(reverse("version_pack_generate", args=["acme", 1]))
    worker = start_worker_process()
    try:
        wait_for_status(PackStatus.RUNNING)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()

    # The stall timeout passes; nobody opens the pack page. The next worker finds the run's
    # watchdog due and the pack still marked running: it queues the pack and generates it.
    stalled_since = timezone.now() - pack_stalled_after() - datetime.timedelta(seconds=1)
    Pack.objects.update(started_at=stalled_since)
    DBTaskResult.objects.filter(task_path="escalation.tasks.watch_pack").update(
        run_after=timezone.now()
    )
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    pack = Pack.objects.get()
    assert (pack.status, pack.attempts, bytes(pack.pdf)[:5]) == (PackStatus.READY, 2, b"%PDF-")
