"""Plain factories: build what a test needs, with keyword defaults, and nothing more."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

from django.contrib.auth import get_user_model

from escalation.models import Framework
from workshops.models import Engagement, Membership, open_engagement_permission

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


def make_framework(**fields: Any) -> Framework:
    fields.setdefault("name", f"Framework {next(_counter)}")
    return Framework.objects.create(**fields)


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
