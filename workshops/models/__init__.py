"""The engagement app's models: the engagement and its people (`engagements`), and the review of
its frozen versions (`reviews`). Roles and review states are re-exported: they are these models'
choices."""

from workshops.models.engagements import (
    DAY_NOTE_FIELDS,
    OPEN_ENGAGEMENT,
    STATUS_MOVES,
    Activity,
    DayNote,
    Engagement,
    EngagementQuerySet,
    EngagementStatus,
    Invitation,
    Member,
    Membership,
    ReviewRevision,
    SignoffRule,
    StaleNotesError,
    get_engagement_for,
    invitation_expiry,
    new_invitation_token,
    open_engagement_permission,
    validate_timezone,
)
from workshops.models.evidence import LedgerEntry, SignoffRecord
from workshops.models.reviews import (
    Approval,
    Comment,
    CommentResolution,
    RequiredApprover,
    Review,
    ReviewEvent,
    ReviewQuerySet,
)
from workshops.roles import Capability, Role
from workshops.signoff import ReviewState

__all__ = [
    "DAY_NOTE_FIELDS",
    "OPEN_ENGAGEMENT",
    "STATUS_MOVES",
    "Activity",
    "Approval",
    "Capability",
    "Comment",
    "CommentResolution",
    "DayNote",
    "Engagement",
    "EngagementQuerySet",
    "EngagementStatus",
    "Invitation",
    "LedgerEntry",
    "Member",
    "Membership",
    "RequiredApprover",
    "Review",
    "ReviewEvent",
    "ReviewQuerySet",
    "ReviewRevision",
    "ReviewState",
    "Role",
    "SignoffRecord",
    "SignoffRule",
    "StaleNotesError",
    "get_engagement_for",
    "invitation_expiry",
    "new_invitation_token",
    "open_engagement_permission",
    "validate_timezone",
]
