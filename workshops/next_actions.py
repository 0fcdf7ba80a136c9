"""What each person must do next in an engagement, the first thing their dashboard says.

A facilitator moves the framework towards review and answers comments; an approver approves; a
reviewer comments; everyone, once a version is signed off, can take its signed pack away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse

from workshops.links import numbered_url
from workshops.models import (
    Approval,
    Capability,
    Comment,
    Engagement,
    Membership,
    Review,
    ReviewState,
    Role,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class _OpenThreads(TypedDict):
        """The annotation `_reviews_with_open_threads` adds to each review."""

        open_threads: int


@dataclass(frozen=True)
class NextAction:
    text: str
    url: str
    link: str


def next_actions(
    engagement: Engagement, membership: Membership, problems: list[str]
) -> list[NextAction]:
    """The person's next steps, most pressing first (two queries: the reviews, their approvals)."""
    reviews = _reviews_with_open_threads(engagement)
    approved = set(
        Approval.objects.filter(
            review__engagement=engagement,
            approver_id=membership.user_id,
            decision=Approval.Decision.APPROVED,
        ).values_list("review_id", flat=True)
    )
    actions: list[NextAction] = []
    detail_url = numbered_url("version_detail", engagement.slug)
    for review in reviews:
        actions += _review_actions(detail_url(review.version.number), review, membership, approved)
    latest = reviews[0] if reviews else None
    if membership.can(Capability.EDIT):
        actions += _facilitator_actions(engagement, latest, problems)
    signed = next((review for review in reviews if review.signed_off_at), None)
    if signed is not None:
        label = signed.version.label
        actions.append(
            NextAction(
                f"{label} is signed off: download the signed pack.",
                reverse("version_pack", args=[engagement.slug, signed.version.number]),
                f"Signed pack of {label}",
            )
        )
    return actions


# What the next actions read of a review and its version: not the frozen document, summary or hash.
REVIEW_FIELDS = ("state", "signed_off_at", "version", "version__number")


def _reviews_with_open_threads(
    engagement: Engagement,
) -> list[WithAnnotations[Review, _OpenThreads]]:
    """The engagement's reviews, newest version first, each with its count of open threads.

    The count is a subquery per review over its first comments only (the index comment_by_review):
    joining every comment of every review and grouping costs three times as much at 250 versions."""
    open_threads = (
        Comment.objects.filter(review=OuterRef("pk"), parent__isnull=True, resolution__isnull=True)
        .order_by()
        .values("review")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return list(
        Review.objects.filter(engagement=engagement)
        .select_related("version")
        .only(*REVIEW_FIELDS)
        .annotate(open_threads=Coalesce(Subquery(open_threads), 0))
        .order_by("-version__number")
    )


def _review_actions(
    detail: str,
    review: WithAnnotations[Review, _OpenThreads],
    membership: Membership,
    approved: set[int],
) -> list[NextAction]:
    """What one review asks of this person (`detail`: its version's page): an approval,
    comments, or answers to comments."""
    actions: list[NextAction] = []
    label = review.version.label
    if review.state == ReviewState.IN_REVIEW:
        if membership.can(Capability.APPROVE) and review.pk not in approved:
            actions.append(
                NextAction(
                    f"{label} awaits your approval.",
                    f"{detail}#review-box",
                    f"Review and approve {label}",
                )
            )
        elif membership.role == Role.REVIEWER:
            actions.append(
                NextAction(
                    f"{label} is open for your comments.",
                    detail,
                    f"Read and comment on {label}",
                )
            )
    if (
        membership.can(Capability.EDIT)
        and review.open_threads
        and review.state != ReviewState.SUPERSEDED
    ):
        count = review.open_threads
        actions.append(
            NextAction(
                f"{count} comment{'s' if count != 1 else ''} to answer on {label}.",
                detail,
                f"Answer the comments on {label}",
            )
        )
    return actions


def _facilitator_actions(
    engagement: Engagement, latest: Review | None, problems: list[str]
) -> list[NextAction]:
    slug = engagement.slug
    if latest is not None and latest.state == ReviewState.DRAFT:
        detail = reverse("version_detail", args=[slug, latest.version.number])
        return [
            NextAction(
                f"{latest.version.label} is frozen: send it for review.",
                f"{detail}#review-box",
                f"Submit {latest.version.label} for review",
            )
        ]
    if latest is not None and latest.state == ReviewState.CHANGES_REQUESTED:
        detail = reverse("version_detail", args=[slug, latest.version.number])
        return [
            NextAction(
                f"Changes were requested on {latest.version.label}: make them, then freeze a new version.",
                detail,
                "Read what must change",
            )
        ]
    if latest is not None and latest.state in (ReviewState.IN_REVIEW, ReviewState.APPROVED):
        return []  # the approvers' turn, or nothing left until the next review cycle
    if problems:
        count = len(problems)
        return [
            NextAction(
                f"{count} problem{'s' if count != 1 else ''} block{'' if count != 1 else 's'} review.",
                reverse("checks", args=[slug]),
                "Fix them from the consistency checks",
            )
        ]
    return [
        NextAction(
            "The framework is ready to be frozen and sent for review.",
            reverse("versions", args=[slug]) + "#freeze-heading",
            "Freeze a version",
        )
    ]
