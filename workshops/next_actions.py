"""What each person must do next in an engagement, the first thing their dashboard says.

A facilitator moves the framework towards review and answers comments; an approver approves; a
reviewer comments; everyone, once a version is signed off, can take its signed pack away.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Value
from django.urls import reverse

from escalation.models.versions import version_label
from workshops.links import numbered_url
from workshops.models import (
    Approval,
    Capability,
    Engagement,
    Membership,
    Review,
    ReviewState,
    Role,
)


@dataclass(frozen=True)
class NextAction:
    text: str
    url: str
    link: str
    pinned: bool = False  # shown however many actions come before it (the signed pack)


def first_actions(actions: list[NextAction], count: int) -> list[NextAction]:
    """The first `count` of `actions` for a summary, and the pinned ones after them too: the
    signed pack is never behind a "see all", however many versions ask something first."""
    return actions[:count] + [action for action in actions[count:] if action.pinned]


@dataclass(frozen=True)
class ReviewLine:
    """What the next actions read of one review: a row of five values, not a review and its
    version as model instances (250 of each at ten times today's largest engagement)."""

    state: str
    signed_off_at: datetime.datetime | None
    number: int  # its version's
    open_threads: int
    approved_by_me: bool  # the person asking has approved it

    @property
    def label(self) -> str:
        return version_label(self.number)


def next_actions(
    engagement: Engagement,
    membership: Membership,
    problems: list[str],
    reviews: list[ReviewLine] | None = None,
) -> list[NextAction]:
    """The person's next steps, most pressing first (one query: the reviews, with their open
    threads and whether this person approved each; none when the caller passes the
    `reviews_in_play` it has read already, as the dashboard does)."""
    if reviews is None:
        reviews = reviews_in_play(engagement, membership)
    actions: list[NextAction] = []
    detail_url = numbered_url("version_detail", engagement.slug)
    for review in reviews:
        actions += _review_actions(detail_url(review.number), review, membership)
    latest = reviews[0] if reviews else None
    if membership.can(Capability.EDIT):
        actions += _facilitator_actions(engagement, latest, problems)
    signed = next((review for review in reviews if review.signed_off_at), None)
    if signed is not None:
        label = signed.label
        actions.append(
            NextAction(
                f"{label} is signed off: download the signed pack.",
                reverse("version_pack", args=[engagement.slug, signed.number]),
                f"Signed pack of {label}",
                pinned=True,
            )
        )
    return actions


def reviews_in_play(engagement: Engagement, membership: Membership) -> list[ReviewLine]:
    """The engagement's reviews, newest version first, each with its count of open threads and
    whether `membership`'s person approved it (one query, once per review revision of the
    engagement: `engagement` as get_engagement_for returns it). Only a role that acts on them
    has them counted: open threads for those who answer comments, approvals for approvers.

    Superseded reviews are left out: they ask nothing of anyone, and each has a newer signed-off
    one, so neither the latest review nor the newest signed-off one is ever among them. The
    query follows the reviews still in play, not the engagement's whole history."""
    counts_threads = membership.can(Capability.EDIT)
    approver_id = membership.user_id if membership.can(Capability.APPROVE) else None

    def compute() -> list[ReviewLine]:
        reviews = Review.objects.filter(engagement=engagement).in_play()
        if counts_threads:
            reviews = reviews.with_open_threads()
        else:
            reviews = reviews.annotate(open_threads=Value(0))
        if approver_id is not None:
            approved_by_me = Approval.objects.filter(
                review=OuterRef("pk"), approver_id=approver_id, decision=Approval.Decision.APPROVED
            )
            reviews = reviews.annotate(approved_by_me=Exists(approved_by_me))
        else:
            reviews = reviews.annotate(approved_by_me=Value(False))
        rows = reviews.order_by("-version__number").values_list(
            "state", "signed_off_at", "version__number", "open_threads", "approved_by_me"
        )
        return [ReviewLine(*row) for row in rows]

    return engagement.once_per_review_revision(
        "reviews-in-play",
        compute,
        counts_threads,
        approver_id,
    )


def _review_actions(detail: str, review: ReviewLine, membership: Membership) -> list[NextAction]:
    """What one review asks of this person (`detail`: its version's page): an approval,
    comments, or answers to comments."""
    actions: list[NextAction] = []
    label = review.label
    if review.state == ReviewState.IN_REVIEW:
        if membership.can(Capability.APPROVE) and not review.approved_by_me:
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
    engagement: Engagement, latest: ReviewLine | None, problems: list[str]
) -> list[NextAction]:
    slug = engagement.slug
    if latest is not None and latest.state == ReviewState.DRAFT:
        detail = reverse("version_detail", args=[slug, latest.number])
        return [
            NextAction(
                f"{latest.label} is frozen: send it for review.",
                f"{detail}#review-box",
                f"Submit {latest.label} for review",
            )
        ]
    if latest is not None and latest.state == ReviewState.CHANGES_REQUESTED:
        detail = reverse("version_detail", args=[slug, latest.number])
        return [
            NextAction(
                f"Changes were requested on {latest.label}: make them, then freeze a new version.",
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
