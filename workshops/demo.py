"""The demo: an engagement (slug `demo`) with one account per role, and `outsider`, who facilitates a
second, small engagement and has no part in `demo`. Loading it twice changes nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from escalation.demo_framework import fill_demo_framework
from escalation.method_defaults import apply_method_defaults
from escalation.models import CadenceFrequency, EscalationLevel, Framework, ReviewCadence
from workshops.audit import AuditVerb, record_activity
from workshops.models import (
    Engagement,
    EngagementStatus,
    Membership,
    Role,
    open_engagement_permission,
)
from workshops.stepup import Authentication

DEMO_PASSWORD = "workshop-demo"

DEMO_PEOPLE = [
    # username, first name, last name, role in `demo` (None: not a member)
    ("facilitator", "Fiona", "Fairbanks", Role.FACILITATOR),
    ("approver", "Arjun", "Appleby", Role.APPROVER),
    ("reviewer", "Rosa", "Reyes", Role.REVIEWER),
    ("observer", "Omar", "Okafor", Role.OBSERVER),
    ("outsider", "Olga", "Outram", None),
]


def _engagement(slug: str, **fields: object) -> tuple[Engagement, bool]:
    existing = Engagement.objects.filter(slug=slug).first()
    if existing:
        return existing, False
    framework = Framework.objects.create(
        name=f"{fields['client_organisation']} escalation framework"
    )
    return Engagement.objects.create(slug=slug, framework=framework, **fields), True


@transaction.atomic  # a half-loaded demo would be skipped by the next, idempotent run
def load_demo(today: datetime.date | None = None) -> list[tuple[str, str]]:
    """Create the demo once; return (username, role) pairs for the login hint."""
    today = today or datetime.date.today()
    users = {}
    User = get_user_model()
    for username, first_name, last_name, _role in DEMO_PEOPLE:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "email": f"{username}@demo.example",
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        if _role in (Role.FACILITATOR, None):  # the consultants: they may open engagements
            user.user_permissions.add(open_engagement_permission())
        users[username] = user

    monday = today - datetime.timedelta(days=today.weekday())
    demo, _ = _engagement(
        "demo",
        client_organisation="Northwind Insurance",
        title="AI escalation framework 2026",
        scope_summary=(
            "Escalation rules for the three production AI systems of the claims and service "
            "organisation: when a model's current configuration is no longer good enough, "
            "what to do next, who approves it and what it may cost."
        ),
        start_date=monday,
        status=EngagementStatus.RUNNING,
    )
    # The framework content; skipped when the demo framework already has content.
    fill_demo_framework(
        demo.framework, engagement_end=demo.start_date + datetime.timedelta(days=11)
    )
    for username, _first, _last, role in DEMO_PEOPLE:
        if role is not None:
            Membership.objects.get_or_create(
                engagement=demo, user=users[username], defaults={"role": role}
            )

    # After the framework content is in place: versions freeze whatever content exists.
    load_demo_versions(demo, users)

    other, other_is_new = _engagement(
        "pilot",
        client_organisation="Contoso Bank",
        title="Chat assistant escalation pilot",
        scope_summary="A one-week pilot for the retail chat assistant.",
        start_date=monday,
        working_days=5,
    )
    if other_is_new:
        apply_method_defaults(other.framework)
    Membership.objects.get_or_create(
        engagement=other, user=users["outsider"], defaults={"role": Role.FACILITATOR}
    )
    return [(username, str(role or "facilitator of `pilot`")) for username, *_, role in DEMO_PEOPLE]


def load_demo_versions(demo: Engagement, users: dict[str, Any]) -> None:
    """A signed-off v1, a v2 in review with a discussion, and a working draft beyond v2.

    Runs only while the demo has no version, so loading twice changes nothing. It works on whatever
    content the framework has, an empty one included: the changes between versions are made to a
    level when there is one, and to the review protocol otherwise.
    """
    if demo.framework.versions.exists():
        return
    facilitator, approver, reviewer = users["facilitator"], users["approver"], users["reviewer"]
    framework = demo.framework

    first = demo.freeze_version(facilitator, "First complete draft after the ladder workshop")
    first.submit(facilitator, notify=False)
    for member in demo.signoff_approvers():
        first.approve(
            member.user,
            "Matches what we agreed on day 7.",
            authentication=Authentication.seeded(),
        )

    level = EscalationLevel.objects.filter(framework=framework).order_by("-position").first()
    if level is not None:
        before = str(level.cost_ceiling) if level.cost_ceiling is not None else None
        level.cost_ceiling = (level.cost_ceiling or Decimal(40000)) + Decimal(10000)
        level.save_edited(loaded_row_version=level.row_version, update_fields=["cost_ceiling"])
        anchor, field, after = f"levels/{level.key}", "cost_ceiling", str(level.cost_ceiling)
    else:
        before = framework.sunset_criteria
        framework.sunset_criteria = "Retire a rule that has not fired in four review cycles."
        framework.save(update_fields=["sunset_criteria"])
        anchor, field, after = "review_cycle/schedule", "sunset_criteria", framework.sunset_criteria
    record_activity(
        demo,
        facilitator,
        AuditVerb.UPDATED,
        f"Changed {field} of {anchor}",
        anchor=anchor,
        changes={field: {"before": before, "after": after}},
    )
    second = demo.freeze_version(facilitator, f"Updated {field.replace('_', ' ')} after review")
    second.submit(facilitator, notify=False)
    thread = second.add_comment(reviewer, "Was this agreed with finance?", anchor=anchor)
    second.add_comment(facilitator, "Yes, in the budget call on day 8.", parent=thread)
    second.add_comment(approver, "I will approve once the ladder diagram is in the pack.")

    # The working draft moves on after v2 was frozen.
    cadence = ReviewCadence.objects.filter(
        framework=framework, frequency=CadenceFrequency.QUARTERLY
    ).first()
    if cadence is not None:
        cadence.frequency = CadenceFrequency.MONTHLY
        cadence.save_edited(loaded_row_version=cadence.row_version, update_fields=["frequency"])
        record_activity(
            demo,
            facilitator,
            AuditVerb.UPDATED,
            f"Changed the frequency of {cadence.name}",
            anchor=f"cadences/{cadence.key}",
            changes={"frequency": {"before": "quarterly", "after": "monthly"}},
        )
