"""Emails to people of an engagement: invitations and review requests. A review request is sent
after the action has committed and never undoes it: a failure is logged and reported back, so the
page can say who was not told."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage, send_mail
from django.urls import reverse

from escalation.text import one_line
from workshops.people import display_name
from workshops.roles import Role

if TYPE_CHECKING:
    from workshops.models import Invitation, Review

logger = logging.getLogger(__name__)


def send_invitation(invitation: Invitation) -> None:
    """Mail the invitation's link to the invited address."""
    engagement = invitation.engagement
    inviter = display_name(invitation.invited_by, absent="A facilitator")
    send_mail(
        # A header must be one line: stored titles may hold line breaks.
        subject=one_line(f"Invitation: {engagement.title} ({engagement.client_organisation})"),
        message=(
            f"{inviter} invites you to the engagement "
            f'"{engagement.title}" for {engagement.client_organisation} as '
            f"{invitation.get_role_display().lower()}.\n\nAccept it here (valid until "
            f"{invitation.expires_at:%-d %b %Y %H:%M} UTC):\n{invitation.url}\n"
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )


def send_review_request(review: Review) -> bool:
    """Ask the engagement's reviewers and approvers to review `review`; False if sending failed."""
    engagement = review.engagement
    members = engagement.memberships.filter(role__in=[Role.APPROVER, Role.REVIEWER]).select_related(
        "user"
    )
    url = settings.SITE_URL + reverse(
        "version_detail", args=[engagement.slug, review.version.number]
    )
    # A header must be one line: a stored client name may hold line breaks.
    subject = one_line(
        f"{engagement.client_organisation}: {review.version.label} is ready for review"
    )
    try:
        for member in members:
            if not member.user.email:
                continue
            action = "review and approve" if member.role == Role.APPROVER else "review"
            body = (
                f"Hello {display_name(member.user)},\n\n"
                f"{review.version.label} of the escalation framework for "
                f"{engagement.client_organisation} is ready for you to {action}.\n\n"
                f"What changed: {review.version.summary or '(no summary)'}\n\n{url}\n"
            )
            EmailMessage(subject, body, to=[member.user.email]).send()
    except Exception:
        # The review has been submitted either way; the facilitator is warned to tell people.
        logger.exception("Could not send the review request for %s of %s", review, engagement)
        return False
    return True
