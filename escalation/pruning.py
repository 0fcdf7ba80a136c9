"""What can be removed without losing anything: drawings of the ladder nobody will ask for again,
and draft packs a newer one supersedes. Never a signed pack, never anything a frozen version
shows (its drawings stay, even though a new `dot` would draw them again)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from escalation.diagram import diagram_sha256, ladder_dot
from escalation.document import upgrade_document
from escalation.models import DiagramRender, FrameworkVersion, Pack


def prune_diagrams(current_drafts: Iterable[dict[str, Any]], older_than: datetime.timedelta) -> int:
    """Delete the drawings older than `older_than` that are not of a frozen version nor of one of
    `current_drafts` (each working draft's document as it stands); how many went. The age spares
    a drawing a page may be showing right now of a draft edited since."""
    documents = (
        upgrade_document(document)
        for document in FrameworkVersion.objects.values_list("document", flat=True).iterator()
    )
    kept = set()
    for document in [*documents, *current_drafts]:
        dot = ladder_dot(document)
        kept |= {diagram_sha256(dot, format) for format in DiagramRender.Format}
    stale = DiagramRender.objects.filter(created_at__lt=timezone.now() - older_than)
    deleted, _ = stale.exclude(sha256__in=kept).delete()
    return deleted


def prune_packs() -> int:
    """Delete the draft packs a newer ready draft pack of the same version supersedes (the worker
    does this as each pack becomes ready; this catches the rest); how many went."""
    deleted, _ = Pack.objects.superseded_drafts().delete()
    return deleted
