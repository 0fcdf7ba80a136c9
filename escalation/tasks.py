"""Packs are generated in the background (Django tasks, django-tasks-db, `manage.py db_worker`).

`request_pack` returns the pack for a request, reusing one that is ready or on its way for the same
document and context (so the second download is instant), retrying a failed or stalled one, or
queueing a new one. `generate_pack` is the task; it never leaves a partial file behind.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.tasks import task
from django.utils import timezone

from escalation.diagram import DiagramError
from escalation.document import canonical_bytes, document_sha256
from escalation.models import Framework, FrameworkVersion, Pack, PackStatus
from escalation.pdf import PackContext, build_pack

logger = logging.getLogger(__name__)


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
            pack.status, pack.progress, pack.error = PackStatus.QUEUED, 0, ""
            pack.created_at, pack.started_at = timezone.now(), None
            pack.save(update_fields=["status", "progress", "error", "created_at", "started_at"])
        # The database backend stores the task in this same transaction: the worker sees the
        # task exactly when it can see the pack.
        generate_pack.enqueue(pack.pk)
    return pack


def _set_progress(pack_id: int, progress: int) -> None:
    Pack.objects.filter(pk=pack_id).update(progress=progress)


@task()
def generate_pack(pack_id: int) -> str:
    started = Pack.objects.filter(pk=pack_id, status=PackStatus.QUEUED).update(
        status=PackStatus.RUNNING,
        progress=10,
        started_at=timezone.now(),
        attempts=F("attempts") + 1,
    )
    if not started:
        return "not queued"
    pack = Pack.objects.defer("pdf").get(pk=pack_id)
    try:
        pdf = build_pack(
            pack.document,
            PackContext.from_json(pack.context),
            on_progress=lambda progress: _set_progress(pack_id, progress),
        )
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
    return "ready"


def _fail(pack_id: int, error: str) -> None:
    Pack.objects.filter(pk=pack_id).update(
        status=PackStatus.FAILED,
        progress=0,
        error=error,
        finished_at=timezone.now(),
    )
