"""Plain factories for users, engagements, members and versions: build what a test needs, with
keyword defaults, and nothing more. Framework content lives in tests/framework_content.py."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

from django.contrib.auth import get_user_model

from escalation.models import Framework, FrameworkVersion
from escalation.versions import freeze_version
from tests.framework_content import make_framework
from workshops.models import Engagement, Membership, Review, Role, open_engagement_permission
from workshops.models.evidence import LedgerEntry, version_payload
from workshops.stepup import Authentication

# Decisions the tests make on the model directly, not through the views' step-up.
SEEDED = Authentication.seeded()

_counter = itertools.count(1)


def make_user(username: str | None = None, **fields: Any) -> Any:
    number = next(_counter)
    username = username or f"user{number}"
    fields.setdefault("email", f"{username}@example.com")
    fields.setdefault("first_name", username.title())
    user = get_user_model().objects.create_user(username=username, password="pass-word-1", **fields)
    return user


def make_consultant(user: Any) -> Any:
    """A user who may open engagements (the site permission of consultants)."""
    user.user_permissions.add(open_engagement_permission())
    return user


def make_engagement(**fields: Any) -> Engagement:
    number = next(_counter)
    fields.setdefault("slug", f"engagement-{number}")
    fields.setdefault("client_organisation", f"Client {number}")
    fields.setdefault("title", "Escalation framework")
    fields.setdefault("start_date", datetime.date(2026, 11, 2))
    if "framework" not in fields:
        fields["framework"] = make_framework(name=f"{fields['client_organisation']} framework")
    return Engagement.objects.create(**fields)


def make_member(engagement: Engagement, role: str, user: Any = None, **fields: Any) -> Any:
    user = user or make_user(f"{role}{next(_counter)}")
    Membership.objects.create(engagement=engagement, user=user, role=role, **fields)
    return user


def make_version(framework: Framework, number: int = 1) -> FrameworkVersion:
    """Freeze the framework as the app does (the same numbering, hash and trigger)."""
    version = freeze_version(framework, f"Frozen for the test as v{number}", "Test facilitator")
    assert version.number == number, f"expected to freeze v{number}, froze {version.label}"
    engagement = Engagement.objects.filter(framework=framework).first()
    if engagement is not None:  # chained into the register as Engagement.freeze_version does
        LedgerEntry.objects.append(
            engagement, LedgerEntry.Kind.VERSION, version.pk, version_payload(version)
        )
    return version


def sign_off(engagement: Engagement, version: FrameworkVersion, approvers: list[Any]) -> Review:
    """Take `version` through the real review: submitted by a facilitator, approved by each of
    `approvers`, who must satisfy the engagement's sign-off rule."""
    review, _ = Review.objects.get_or_create(version=version, engagement=engagement)
    membership = engagement.memberships.filter(role=Role.FACILITATOR).first()
    facilitator = membership.user if membership else make_member(engagement, Role.FACILITATOR)
    review.submit(facilitator, notify=False)
    signed_off = [review.approve(a, authentication=SEEDED) for a in approvers][-1]
    assert signed_off, "these approvers do not meet the engagement's sign-off rule"
    return review
