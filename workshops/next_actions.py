"""What each person must do next in an engagement, the first thing their dashboard says.

A facilitator moves the framework towards review and answers comments; an approver approves; a
reviewer comments; everyone, once a version is signed off, can take its signed pack away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, Q
from django.urls import reverse

from workshops.models import (
    Approval,
    Capability,
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
    for review in reviews:
        actions += _review_actions(engagement.slug, review, membership, approved)
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


def _reviews_with_open_threads(
    engagement: Engagement,
) -> list[WithAnnotations[Review, _OpenThreads]]:
    """The engagement's reviews, newest version first, each with its count of open threads."""
    return list(
        Review.objects.filter(engagement=engagement)
        .select_related("version")
        .defer("version__document")
        .annotate(
            open_threads=Count(
                "comments",
                filter=Q(comments__parent__isnull=True, comments__resolution__isnull=True),
            )
        )
        .order_by("-version__number")
    )


def _review_actions(
    slug: str,
    review: WithAnnotations[Review, _OpenThreads],
    membership: Membership,
    approved: set[int],
) -> list[NextAction]:
    """What one review asks of this person: an approval, comments, or answers to comments."""
    actions: list[NextAction] = []
    label = review.version.label
    detail = reverse("version_detail", args=[slug, review.version.number])
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
