"""One way into the audit trail: every change of framework content and every review action."""

from __future__ import annotations

from typing import Any

from workshops.models import Activity, Engagement


def record_activity(
    engagement: Engagement,
    actor: Any,
    verb: str,
    summary: str,
    *,
    item: str = "",
    changes: dict[str, Any] | None = None,
) -> Activity:
    """Record that `actor` did `verb`. `item` names a framework item ("levels/fine-tuning");
    `changes` maps a field to {"before": ..., "after": ...} (JSON-ready values)."""
    return Activity.objects.create(
        engagement=engagement,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        verb=verb,
        item=item,
        summary=summary[:300],
        changes=changes or {},
    )
