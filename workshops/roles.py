"""Who may do what in an engagement: the roles, the capabilities, and the table between them."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    FACILITATOR = "facilitator", "Facilitator"
    APPROVER = "approver", "Approver"
    REVIEWER = "reviewer", "Reviewer"
    OBSERVER = "observer", "Observer"


class Capability(models.TextChoices):
    VIEW = "view", "read the engagement"
    COMMENT = "comment", "comment on drafts"
    APPROVE = "approve", "approve or request changes"
    EDIT = "edit", "edit the framework and the plan"
    MANAGE_PEOPLE = "manage_people", "invite people and change roles"


# Who may do what, in one place. Every view asks get_engagement_for(user, slug, capability).
ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.FACILITATOR: frozenset(
        {Capability.VIEW, Capability.COMMENT, Capability.EDIT, Capability.MANAGE_PEOPLE}
    ),
    Role.APPROVER: frozenset({Capability.VIEW, Capability.COMMENT, Capability.APPROVE}),
    Role.REVIEWER: frozenset({Capability.VIEW, Capability.COMMENT}),
    Role.OBSERVER: frozenset({Capability.VIEW}),
}


# Which roles a member may offer in an invitation, by their own role: never more than they hold.
# Only facilitators invite, and a facilitator may grant any role (facilitator included, since an
# engagement may need a co-facilitator); the table makes that rule explicit rather than implied.
GRANTABLE_ROLES: dict[str, frozenset[str]] = {
    Role.FACILITATOR: frozenset(Role),
    Role.APPROVER: frozenset(),
    Role.REVIEWER: frozenset(),
    Role.OBSERVER: frozenset(),
}
