"""How much invitation mail one person and one engagement may send: every invitation and resend
goes out through the company's mail server with text the facilitator chose, so an account (or a
stolen session) must not turn it into a mass mailer. Counted from the audit trail, which records
every invitation and resend with who sent it and when."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from workshops.audit import AuditVerb
from workshops.models import Activity, Engagement

PER_INVITER_PER_HOUR = 30
PER_ENGAGEMENT_PER_DAY = 100
# The audit verbs of a mail carrying an invitation link (see views/people.py).
INVITATION_VERBS = (AuditVerb.INVITED, AuditVerb.INVITATION_RESENT)


def invitation_refusal(engagement: Engagement, inviter: Any) -> str:
    """Why no invitation may be sent now ("" while one may). Two requests at the very limit may
    both pass: the limit is a brake on abuse, not an exact quota."""
    now = timezone.now()
    sent = Activity.objects.filter(verb__in=INVITATION_VERBS)
    if sent.filter(actor=inviter, created_at__gte=now - timedelta(hours=1)).count() >= (
        PER_INVITER_PER_HOUR
    ):
        return (
            f"You have sent {PER_INVITER_PER_HOUR} invitations in the last hour, the most "
            "allowed: try again later."
        )
    if sent.filter(engagement=engagement, created_at__gte=now - timedelta(days=1)).count() >= (
        PER_ENGAGEMENT_PER_DAY
    ):
        return (
            f"This engagement has sent {PER_ENGAGEMENT_PER_DAY} invitations in the last day, the "
            "most allowed: try again tomorrow."
        )
    return ""
