"""Packs of different versions render at the same time when more than one worker runs (docker
compose runs two): the workers claim tasks with SELECT ... FOR UPDATE SKIP LOCKED
(django-tasks-db) and no lock of ours spans a pack's run."""

from __future__ import annotations

import time

import pytest
from django.db import transaction
from django.urls import reverse

from escalation.models import Pack, PackStatus
from tests.factories import make_version
from tests.framework_content import make_framework_content
from tests.test_pack_worker_crash import start_worker_process

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_workers_render_packs_of_two_versions_at_the_same_time(client, engagement, reviewer):
    make_framework_content(engagement.framework)
    make_version(engagement.framework, 1)
    engagement.framework.sunset_criteria = "Changed for v2."
    engagement.framework.save(update_fields=["sunset_criteria"])
    make_version(engagement.framework, 2)
    client.force_login(reviewer)
    for number in (1, 2):
        client.post(reverse("version_pack_generate", args=["acme", number]))
    first, second = Pack.objects.order_by("version__number")
    workers = [start_worker_process(), start_worker_process()]
    try:
        # The pack a worker starts first cannot finish while this transaction holds its row (its
        # run ends by writing the file there): the other pack is made only if the second worker
        # takes and renders it meanwhile. Packs serialized by any lock would wait here forever.
        started = _first_started(first, second)
        other = second if started == first else first
        with transaction.atomic():
            locked = Pack.objects.select_for_update().defer("pdf").get(pk=started.pk)
            assert locked.status == PackStatus.RUNNING, "rendered before the test held it back"
            _wait_until_ready(other)
        _wait_until_ready(started)
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.started_at < second.finished_at and second.started_at < first.finished_at


def _first_started(*packs: Pack, seconds: float = 120) -> Pack:
    """The first of `packs` a worker starts (its layout takes a second or more from there)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        running = Pack.objects.filter(pk__in=[p.pk for p in packs], status=PackStatus.RUNNING)
        if started := running.defer("pdf").first():
            return started
        time.sleep(0.01)
    raise AssertionError("no worker started either pack")


def _wait_until_ready(pack: Pack, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = Pack.objects.values_list("status", flat=True).get(pk=pack.pk)
        if status == PackStatus.READY:
            return
        assert status != PackStatus.FAILED, f"the pack of {pack.version} failed"
        time.sleep(0.1)
    raise AssertionError(f"the pack of {pack.version} never became ready")
