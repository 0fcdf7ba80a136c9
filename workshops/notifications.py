"""Emails to people of an engagement: invitations and review requests.

A page never talks to the mail server: it composes the messages and queues one `deliver_mail` task
per message once its transaction has committed (nothing is sent for an action that rolled back,
and the worker never looks for a row it cannot see yet). The background worker sends them; a
failed send is tried again later (`MAIL_RETRY_SECONDS`, doubled each time) up to
`MAIL_SEND_ATTEMPTS` times in all, then logged as failed. A slow or unreachable mail server
delays only the worker, never a page, and never undoes the action that wrote the mail."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.tasks import task
from django.urls import reverse
from django.utils import timezone

from escalation.text import one_line
from workshops.people import display_name
from workshops.roles import Role

if TYPE_CHECKING:
    from workshops.models import Invitation, Review

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str
    to: str


def send_invitation(invitation: Invitation) -> None:
    """Mail the invitation's link to the invited address, once the invitation is committed."""
    engagement = invitation.engagement
    inviter = display_name(invitation.invited_by, absent="A facilitator")
    mail = Mail(
        # A header must be one line: stored titles may hold line breaks.
        subject=one_line(f"Invitation: {engagement.title} ({engagement.client_organisation})"),
        body=(
            f"{inviter} invites you to the engagement "
            f'"{engagement.title}" for {engagement.client_organisation} as '
            f"{invitation.get_role_display().lower()}.\n\nAccept it here (valid until "
            f"{invitation.expires_at:%-d %b %Y %H:%M} UTC):\n{invitation.url}\n"
        ),
        to=invitation.email,
    )
    # robust: a failure to queue is logged; it never turns a committed action into an error page.
    transaction.on_commit(lambda: queue_mail([mail]), robust=True)


def send_review_request(review: Review) -> None:
    """Ask the engagement's reviewers and approvers to review `review`, once the submission is
    committed: the people asked are the members at that moment."""
    transaction.on_commit(lambda: queue_mail(review_request_mails(review)), robust=True)


def review_request_mails(review: Review) -> list[Mail]:
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
    mails = []
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
        mails.append(Mail(subject, body, member.user.email))
    return mails


def queue_mail(mails: list[Mail]) -> None:
    # One task per message: a retry resends only the message that failed.
    for mail in mails:
        deliver_mail.enqueue(mail.subject, mail.body, mail.to)


# Ahead of queued packs: a message takes milliseconds, a pack seconds.
@task(priority=10)
def deliver_mail(subject: str, body: str, to: str, attempt: int = 1) -> str:
    """Send one message; on failure, queue the next attempt after a growing delay, or give up."""
    try:
        EmailMessage(subject, body, to=[to]).send()
    except Exception:
        if attempt >= settings.MAIL_SEND_ATTEMPTS:
            logger.exception(
                "Mail %r to %s failed after %d attempts: not sent", subject, to, attempt
            )
            raise  # the task's result records the failure too
        delay = datetime.timedelta(seconds=settings.MAIL_RETRY_SECONDS * 2 ** (attempt - 1))
        logger.warning(
            "Mail %r to %s failed (attempt %d of %d): trying again in %s",
            subject,
            to,
            attempt,
            settings.MAIL_SEND_ATTEMPTS,
            delay,
            exc_info=True,
        )
        deliver_mail.using(run_after=timezone.now() + delay).enqueue(subject, body, to, attempt + 1)
        return f"attempt {attempt} failed, retrying"
    return "sent"
