"""One way into the audit trail: every change of framework content, of the engagement and its
people, and every review action, each named by one verb."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from workshops.models import Activity, Engagement


class AuditVerb(models.TextChoices):
    """What happened. The values are stored in Activity.verb: keep them when a label changes."""

    # Framework content, row by row (the step editors) and the engagement's own settings.
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    DELETED = "deleted", "Deleted"
    REORDERED = "moved", "Reordered"
    IMPORTED = "imported", "Imported"
    # The engagement and its people.
    STATUS_CHANGED = "changed status", "Changed status"
    NOTED = "noted", "Noted the day"
    INVITED = "invited", "Invited"
    INVITATION_RESENT = "resent invitation", "Resent an invitation"
    INVITATION_CANCELLED = "cancelled invitation", "Cancelled an invitation"
    ROLE_CHANGED = "changed role", "Changed a role"
    MEMBER_REMOVED = "removed", "Removed a member"
    SIGNOFF_RULE_CHANGED = "changed sign-off rule", "Changed the sign-off rule"
    # Versions and their review.
    VERSION_FROZEN = "version.freeze", "Froze a version"
    REVIEW_SUBMITTED = "review.submit", "Submitted for review"
    REVIEW_WITHDRAWN = "review.withdraw", "Withdrew from review"
    REVIEW_APPROVED = "review.approve", "Approved"
    REVIEW_CHANGES_REQUESTED = "review.request_changes", "Requested changes"
    REVIEW_SIGNED_OFF = "review.sign_off", "Signed off"
    REVIEW_SUPERSEDED = "review.supersede", "Superseded"
    REVIEW_COMMENTED = "review.comment", "Commented"
    REVIEW_THREAD_RESOLVED = "review.resolve", "Resolved a thread"
    # The live framework's API tokens.
    API_TOKEN_CREATED = "api_token.create", "Created an API token"
    API_TOKEN_REVOKED = "api_token.revoke", "Revoked an API token"
    # The live framework's escalation cases.
    CASE_OPENED = "case.open", "Opened an escalation case"
    CASE_EVIDENCE_ADDED = "case.evidence", "Added evidence to a case"
    CASE_APPROVED = "case.approve", "Approved an escalation"
    CASE_DECLINED = "case.decline", "Declined an escalation"
    CASE_CLOSED = "case.close", "Closed an escalation case"
    CASE_ROLLED_BACK = "case.roll_back", "Rolled an escalation back"
    EXTERNAL_EVENT_RECORDED = "case.external_event", "Recorded an external event"


def record_activity(
    engagement: Engagement,
    actor: Any,
    verb: AuditVerb,
    summary: str,
    *,
    anchor: str = "",
    changes: dict[str, Any] | None = None,
) -> Activity:
    """Record that `actor` did `verb`. `anchor` names the framework item touched
    ("levels/fine-tuning"); `changes` maps a field to {"before": ..., "after": ...} (JSON-ready
    values)."""
    return engagement.activities.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        verb=AuditVerb(verb),
        anchor=anchor,
        summary=summary[:300],
        changes=changes or {},
    )


def record_activities(
    engagement: Engagement, actor: Any, entries: list[tuple[AuditVerb, str, str]]
) -> None:
    """Record many (verb, summary, anchor) entries of one actor in one query: what an automatic
    step touching many items at once (the metrics opening escalation cases) writes."""
    engagement.activities.bulk_create(
        engagement.activities.model(
            engagement=engagement,
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            verb=AuditVerb(verb),
            anchor=anchor,
            summary=summary[:300],
            changes={},
        )
        for verb, summary, anchor in entries
    )
