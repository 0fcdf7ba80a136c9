"""The worker's upkeep: a pack render stops at its time limit, the watchdog of a run gives up on
a pack that keeps killing its worker and leaves finished ones alone, and drawings and superseded
draft packs are pruned, never a signed pack nor anything of a frozen version."""

from __future__ import annotations

import datetime
import io
import os
import time
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from escalation.diagram import diagram_sha256, ladder_dot, render_ladder
from escalation.document import upgrade_document
from escalation.models import DiagramRender, FrameworkVersion, Pack, PackStatus
from escalation.tasks import PACK_AUTOMATIC_ATTEMPTS, watch_pack
from tests.factories import make_version, sign_off
from tests.framework_content import make_framework_content
from tests.worker import run_worker
from workshops.models import Engagement

PDF = b"%PDF-1.7 stand-in"


@pytest.fixture
def version(engagement: Any) -> FrameworkVersion:
    make_framework_content(engagement.framework)
    return make_version(engagement.framework)


def generate(client, user, number: int | None = 1) -> None:
    client.force_login(user)
    name, args = (
        ("version_pack_generate", ["acme", number]) if number else ("pack_generate", ["acme"])
    )
    client.post(reverse(name, args=args))


def stored_pack(engagement: Engagement, version: FrameworkVersion | None, **fields: Any) -> Pack:
    """A finished pack row, as the worker leaves one; `minutes_ago` sets when it was made."""
    made = timezone.now() - datetime.timedelta(minutes=fields.pop("minutes_ago", 0))
    fields.setdefault("status", PackStatus.READY)
    return Pack.objects.create(
        framework=engagement.framework,
        version=version,
        pdf=PDF if fields["status"] == PackStatus.READY else None,
        request_key="k" * 64,
        created_at=made,
        **fields,
    )


# The time limit


@pytest.fixture
def hanging_graphviz(tmp_path, monkeypatch) -> None:
    """graphviz is an outside program: this `dot` hangs, as one laying out a huge ladder would."""
    dot = tmp_path / "dot"
    dot.write_text("#!/bin/sh\nexec sleep 60\n")
    dot.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("hanging_graphviz")
def test_a_pack_still_rendering_at_its_time_limit_is_stopped_and_marked_failed(
    client, reviewer, version
):
    generate(client, reviewer)
    started = time.monotonic()
    with override_settings(PACK_TIME_LIMIT_SECONDS=1):
        run_worker()
    pack = Pack.objects.get()
    assert time.monotonic() - started < 30
    assert (pack.status, pack.error) == (
        PackStatus.FAILED,
        "it took longer than the time limit of 1 seconds (PACK_TIME_LIMIT_SECONDS) and was stopped.",
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("hanging_graphviz")
def test_the_failure_at_the_time_limit_is_shown_on_the_pack_page(client, reviewer, version):
    generate(client, reviewer)
    with override_settings(PACK_TIME_LIMIT_SECONDS=1):
        run_worker()
    page = client.get(reverse("version_pack", args=["acme", 1])).content.decode()
    assert "took longer than the time limit of 1 seconds" in page


# The watchdog of a run


@pytest.mark.django_db(transaction=True)
def test_the_watchdog_of_a_finished_run_leaves_the_pack_alone(client, reviewer, version):
    generate(client, reviewer)
    run_worker()
    watchdog = DBTaskResult.objects.get(task_path="escalation.tasks.watch_pack")
    DBTaskResult.objects.filter(pk=watchdog.pk).update(run_after=timezone.now())
    run_worker()
    pack = Pack.objects.get()
    assert (pack.status, pack.attempts) == (PackStatus.READY, 1)


def test_a_pack_whose_worker_died_in_every_run_is_failed_not_queued_again(engagement, version):
    pack = stored_pack(
        engagement,
        version,
        status=PackStatus.RUNNING,
        attempts=PACK_AUTOMATIC_ATTEMPTS,
        started_at=timezone.now() - datetime.timedelta(hours=1),
    )
    watch_pack.call(pack.pk, PACK_AUTOMATIC_ATTEMPTS)
    pack.refresh_from_db()
    assert (pack.status, pack.error) == (
        PackStatus.FAILED,
        f"the worker stopped while generating it, {PACK_AUTOMATIC_ATTEMPTS} times.",
    )


# Pruning


def backdate_drawings(days: int) -> None:
    DiagramRender.objects.update(created_at=timezone.now() - datetime.timedelta(days=days))


def prune() -> str:
    output = io.StringIO()
    call_command("prune", stdout=output)
    return output.getvalue()


def test_prune_keeps_the_drawings_of_frozen_versions_and_current_drafts_only(engagement, version):
    render_ladder(upgrade_document(version.document))
    render_ladder(engagement.draft_document(), DiagramRender.Format.PNG)
    render_ladder({**engagement.draft_document(), "name": "A draft since edited"})
    backdate_drawings(days=2)
    assert prune().startswith("Removed 1 ladder drawing(s)")
    kept = set(DiagramRender.objects.values_list("sha256", flat=True))
    assert kept == {
        diagram_sha256(ladder_dot(upgrade_document(version.document)), "svg"),
        diagram_sha256(ladder_dot(engagement.draft_document()), "png"),
    }


def test_prune_spares_a_drawing_made_today_that_a_page_may_be_showing(engagement, version):
    render_ladder({**engagement.draft_document(), "name": "A draft edited a minute ago"})
    prune()
    assert DiagramRender.objects.count() == 1


def test_prune_removes_draft_packs_a_newer_ready_one_supersedes(engagement, version):
    old_draft = stored_pack(engagement, None, minutes_ago=30)
    old_failed = stored_pack(engagement, None, minutes_ago=20, status=PackStatus.FAILED)
    newest_draft = stored_pack(engagement, None, minutes_ago=10)
    only_of_v1 = stored_pack(engagement, version, minutes_ago=40)
    prune()
    assert set(Pack.objects.all()) == {newest_draft, only_of_v1}
    assert not {old_draft, old_failed} & set(Pack.objects.all())


def test_prune_keeps_the_packs_still_on_their_way_and_the_latest_finished_one(engagement, version):
    ready = stored_pack(engagement, None, minutes_ago=30)
    queued = stored_pack(engagement, None, minutes_ago=10, status=PackStatus.QUEUED)
    prune()
    assert set(Pack.objects.all()) == {ready, queued}


def test_prune_never_removes_a_signed_pack(engagement, version, approver):
    sign_off(engagement, version, [approver])
    signed = stored_pack(engagement, version, minutes_ago=30, signed=True)
    newer_signed = stored_pack(engagement, version, minutes_ago=10, signed=True)
    newer_draft = stored_pack(engagement, version, minutes_ago=5)
    prune()
    assert set(Pack.objects.all()) == {signed, newer_signed, newer_draft}


@pytest.mark.django_db(transaction=True)
def test_the_worker_removes_the_draft_pack_a_newly_ready_one_supersedes(
    client, engagement, reviewer, version
):
    generate(client, reviewer, number=None)
    run_worker()
    first = Pack.objects.get()
    engagement.framework.sunset_criteria = "Retire it once the rules engine covers every case."
    engagement.framework.save()
    generate(client, reviewer, number=None)
    run_worker()
    remaining = list(Pack.objects.all())
    assert len(remaining) == 1 and remaining[0].pk != first.pk
