"""Packs are generated in the background (Django tasks, django-tasks-db, `manage.py db_worker`).

`request_pack` returns the pack for a request, reusing one that is ready or on its way for the same
document and context (so the second download is instant), retrying a failed or stalled one, or
queueing a new one. `generate_pack` is the task; it never leaves a partial file behind, stops at
its time limit (`PACK_TIME_LIMIT_SECONDS`) and, once a pack is ready, removes the older draft packs
it supersedes. `watch_pack` queues again a pack whose worker died mid-run.

Why a watchdog task: the recovery must not wait for someone to open the pack page (a page read
should not write, and nobody may be looking), and django-tasks-db's worker loop has no hook. Each
run leaves a deferred `watch_pack`, committed with the run's start, due when the run counts as
stalled; whichever worker is alive then (the dead one's restart: compose restarts it) runs it.
"""

from __future__ import annotations

import hashlib
import logging
import signal
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.tasks import task
from django.utils import timezone

from escalation.diagram import DiagramError
from escalation.document import canonical_bytes, document_sha256
from escalation.models import Framework, FrameworkVersion, Pack, PackStatus, pack_stalled_after
from escalation.pdf import PackContext, build_pack

logger = logging.getLogger(__name__)

# Runs of one pack the watchdog starts after the worker died in them, before it gives up: a pack
# that kills its worker every time (out of memory) must not do so forever.
PACK_AUTOMATIC_ATTEMPTS = 3


def request_key(document: dict[str, Any], context: PackContext) -> str:
    stable = {**context.to_json(), "generated_at": None}
    return hashlib.sha256(document_sha256(document).encode() + canonical_bytes(stable)).hexdigest()


def request_pack(
    framework: Framework,
    version: FrameworkVersion | None,
    document: dict[str, Any],
    context: PackContext,
) -> Pack:
    """The pack of `document` with `context`: an existing one, a retried one, or a new one."""
    key = request_key(document, context)
    with transaction.atomic():
        # A row lock cannot cover a pack that does not exist yet: two first requests at once
        # would both create one. A transaction-scoped advisory lock on (framework, version,
        # request key) serializes them, so the second waits and then finds the first's pack.
        # Chosen over a unique constraint: it needs no migration (rows this race already
        # duplicated would make one fail to apply) and no NULL handling for draft packs. A hash
        # collision only makes two unrelated requests wait for each other, never share a pack.
        lock_name = f"pack:{framework.pk}:{version.pk if version else 'draft'}:{key}"
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [lock_name])
        # Lock the latest matching pack so two retries at once cannot both queue it again.
        pack = (
            Pack.objects.of(framework, version)
            .filter(request_key=key)
            .defer("pdf")
            .select_for_update()
            .first()
        )
        if pack is not None and pack.status != PackStatus.FAILED and not pack.is_stalled:
            return pack
        if pack is None:
            pack = Pack.objects.create(
                framework=framework,
                version=version,
                document=document,
                document_sha256=document_sha256(document),
                context=context.to_json(),
                request_key=key,
                signed=context.signed_off,
            )
        else:
            _queue_again(pack)
        # The database backend stores the task in this same transaction: the worker sees the
        # task exactly when it can see the pack.
        generate_pack.enqueue(pack.pk)
    return pack


def _queue_again(pack: Pack) -> None:
    pack.status, pack.progress, pack.error = PackStatus.QUEUED, 0, ""
    pack.created_at, pack.started_at = timezone.now(), None
    pack.save(update_fields=["status", "progress", "error", "created_at", "started_at"])


def _set_progress(pack_id: int, progress: int) -> None:
    Pack.objects.filter(pk=pack_id).update(progress=progress)


class PackTimeLimitExceeded(Exception):
    pass


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise PackTimeLimitExceeded in the block once `seconds` have passed. By SIGALRM, which only
    a process's main thread receives: there `db_worker` and `manage.py export_pack` run packs. A
    pack made inline by a page (`signed_pack`, in a server thread) has the request's timeout."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise PackTimeLimitExceeded

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _start(pack_id: int) -> int | None:
    """Mark a queued pack running; its attempt number, or None if it was not queued. The start
    and its watchdog commit together: a worker that dies after this always leaves one behind."""
    with transaction.atomic():
        started = Pack.objects.filter(pk=pack_id, status=PackStatus.QUEUED).update(
            status=PackStatus.RUNNING,
            progress=10,
            started_at=timezone.now(),
            attempts=F("attempts") + 1,
        )
        if not started:
            return None
        attempt = Pack.objects.values_list("attempts", flat=True).get(pk=pack_id)
        due = timezone.now() + pack_stalled_after()
        watch_pack.using(run_after=due).enqueue(pack_id, attempt)
    return attempt


@task()
def generate_pack(pack_id: int) -> str:
    if _start(pack_id) is None:
        return "not queued"
    pack = Pack.objects.defer("pdf").get(pk=pack_id)
    limit = settings.PACK_TIME_LIMIT_SECONDS
    try:
        with time_limit(limit):
            pdf = build_pack(
                pack.document,
                PackContext.from_json(pack.context),
                on_progress=lambda progress: _set_progress(pack_id, progress),
            )
    except PackTimeLimitExceeded:
        # The alarm may have interrupted a query half-way: go on with a fresh connection.
        if not connection.in_atomic_block:
            connection.close()
        logger.error("Pack %s stopped at its time limit of %s seconds", pack.public_id, limit)
        _fail(
            pack_id,
            f"it took longer than the time limit of {limit} seconds "
            "(PACK_TIME_LIMIT_SECONDS) and was stopped.",
        )
        return "failed"
    except DiagramError as error:
        # Already logged with its reference; its message names the level and hides the rest.
        _fail(pack_id, str(error))
        return "failed"
    except Exception:
        # The exception quotes paths and programs' stderr: logged under a reference, which is
        # all the pack page shows.
        reference = uuid.uuid4().hex[:12]
        logger.exception("Pack %s failed (reference %s)", pack.public_id, reference)
        _fail(pack_id, f"an unexpected error. Reference {reference} in the log.")
        return "failed"
    # Bytes and the ready flag land in one UPDATE: a reader sees no file or the whole file.
    Pack.objects.filter(pk=pack_id).update(
        status=PackStatus.READY, pdf=pdf, progress=100, finished_at=timezone.now(), error=""
    )
    # The older draft packs of the same version (or working draft) are offered no more.
    superseded = Pack.objects.filter(framework_id=pack.framework_id, version_id=pack.version_id)
    superseded.superseded_drafts().delete()
    return "ready"


@task()
def watch_pack(pack_id: int, attempt: int) -> str:
    """Due when run `attempt` of the pack counts as stalled. If that run is still marked running,
    its worker died: queue the pack again, or fail it after PACK_AUTOMATIC_ATTEMPTS runs."""
    with transaction.atomic():  # the row lock keeps a retry from the pack page out meanwhile
        pack = (
            Pack.objects.defer("pdf", "document")
            .select_for_update()
            .filter(pk=pack_id, status=PackStatus.RUNNING, attempts=attempt)
            .first()
        )
        if pack is None:
            return "finished"
        if attempt >= PACK_AUTOMATIC_ATTEMPTS:
            logger.error("Pack %s: its worker stopped in each of %d runs", pack.public_id, attempt)
            _fail(pack_id, f"the worker stopped while generating it, {attempt} times.")
            return "failed"
        logger.warning(
            "Pack %s: its worker stopped in run %d; queued again", pack.public_id, attempt
        )
        _queue_again(pack)
        generate_pack.enqueue(pack_id)
    return "queued again"


def _fail(pack_id: int, error: str) -> None:
    Pack.objects.filter(pk=pack_id).update(
        status=PackStatus.FAILED,
        progress=0,
        error=error,
        finished_at=timezone.now(),
    )
