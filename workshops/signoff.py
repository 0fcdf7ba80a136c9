"""The sign-off state machine of a frozen version, on its own: the states a review passes
through, the moves between them, who may make each move from which state, and why any other move
is refused. The Review model (workshops.models.reviews) makes the moves; this module decides them.
"""

from __future__ import annotations

from typing import Protocol

from django.core.exceptions import PermissionDenied
from django.db import models

from workshops.roles import Capability


class ReviewState(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    SUPERSEDED = "superseded", "Superseded"


class ReviewAction(models.TextChoices):
    FREEZE = "freeze", "Frozen"
    SUBMIT = "submit", "Submitted for review"
    WITHDRAW = "withdraw", "Withdrawn from review"
    APPROVE = "approve", "Approved"
    REQUEST_CHANGES = "request_changes", "Requested changes"
    SIGN_OFF = "sign_off", "Signed off"
    SUPERSEDE = "supersede", "Superseded"
    COMMENT = "comment", "Commented"


class IllegalReviewMoveError(Exception):
    """A move the review's state does not allow; the message says why, and what to do instead."""


# The state machine in one place: who may make each move, and from which states. Every other
# (move, state) pair is refused with its message in REFUSALS.
MOVES: dict[str, tuple[str, frozenset[str]]] = {
    ReviewAction.SUBMIT: (Capability.EDIT, frozenset({ReviewState.DRAFT})),
    ReviewAction.WITHDRAW: (Capability.EDIT, frozenset({ReviewState.IN_REVIEW})),
    ReviewAction.APPROVE: (Capability.APPROVE, frozenset({ReviewState.IN_REVIEW})),
    ReviewAction.REQUEST_CHANGES: (Capability.APPROVE, frozenset({ReviewState.IN_REVIEW})),
    ReviewAction.COMMENT: (
        Capability.COMMENT,
        frozenset({ReviewState.DRAFT, ReviewState.IN_REVIEW, ReviewState.CHANGES_REQUESTED}),
    ),
}

_SUPERSEDED = "{version} is superseded by a newer signed-off version."
REFUSALS: dict[tuple[str, str], str] = {
    (ReviewAction.SUBMIT, ReviewState.IN_REVIEW): "{version} is in review already.",
    (ReviewAction.SUBMIT, ReviewState.CHANGES_REQUESTED): (
        "Changes were requested on {version}: fix the working draft, freeze a new version "
        "and submit that."
    ),
    (ReviewAction.SUBMIT, ReviewState.APPROVED): (
        "{version} is approved already: to change it, freeze a new version."
    ),
    (ReviewAction.SUBMIT, ReviewState.SUPERSEDED): _SUPERSEDED,
    (ReviewAction.WITHDRAW, ReviewState.DRAFT): (
        "{version} is not in review, so there is nothing to withdraw."
    ),
    (ReviewAction.WITHDRAW, ReviewState.CHANGES_REQUESTED): (
        "{version} is back with the facilitator already: changes were requested."
    ),
    (ReviewAction.WITHDRAW, ReviewState.APPROVED): (
        "{version} is signed off: a sign-off cannot be withdrawn. Freeze a new version instead."
    ),
    (ReviewAction.WITHDRAW, ReviewState.SUPERSEDED): _SUPERSEDED,
    (ReviewAction.APPROVE, ReviewState.DRAFT): "{version} has not been submitted for review.",
    (ReviewAction.APPROVE, ReviewState.CHANGES_REQUESTED): (
        "Changes were requested on {version}: approve the new version that makes them."
    ),
    (ReviewAction.APPROVE, ReviewState.APPROVED): "{version} is signed off already.",
    (ReviewAction.APPROVE, ReviewState.SUPERSEDED): _SUPERSEDED,
    (ReviewAction.REQUEST_CHANGES, ReviewState.DRAFT): (
        "{version} has not been submitted for review."
    ),
    (ReviewAction.REQUEST_CHANGES, ReviewState.CHANGES_REQUESTED): (
        "Changes were requested on {version} already."
    ),
    (ReviewAction.REQUEST_CHANGES, ReviewState.APPROVED): (
        "{version} is signed off: raise the change on the next version instead."
    ),
    (ReviewAction.REQUEST_CHANGES, ReviewState.SUPERSEDED): _SUPERSEDED,
    (ReviewAction.COMMENT, ReviewState.APPROVED): (
        "{version} is signed off and its discussion is closed: comment on a newer version."
    ),
    (ReviewAction.COMMENT, ReviewState.SUPERSEDED): _SUPERSEDED,
}


class Member(Protocol):
    """What the state machine needs of a membership: its role and what that role may do."""

    def can(self, capability: str) -> bool: ...

    def get_role_display(self) -> str: ...


def check_move[M: Member](member: M | None, state: str, action: str, version_label: str) -> M:
    """Return `member` when they may make `action` now; raise PermissionDenied if they may never
    (not a member, or a role without the capability), IllegalReviewMoveError if the review's
    `state` does not allow it now."""
    if member is None:
        raise PermissionDenied("Only members of this engagement can do that.")
    capability, states = MOVES[action]
    if not member.can(capability):
        raise PermissionDenied(
            f"As {member.get_role_display().lower()} you cannot {Capability(capability).label}."
        )
    if state not in states:
        raise IllegalReviewMoveError(REFUSALS[(action, state)].format(version=version_label))
    return member
