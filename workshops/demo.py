"""The demo: an engagement (slug `demo`) with one account per role, and `outsider`, who facilitates a
second, small engagement and has no part in `demo`. Loading it twice changes nothing."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.db import transaction

from escalation.defaults import fill_demo_framework
from escalation.models import Framework
from workshops.models import Engagement, EngagementStatus, Membership, Role

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

    other, _ = _engagement(
        "pilot",
        client_organisation="Contoso Bank",
        title="Chat assistant escalation pilot",
        scope_summary="A one-week pilot for the retail chat assistant.",
        start_date=monday,
        working_days=5,
    )
    Membership.objects.get_or_create(
        engagement=other, user=users["outsider"], defaults={"role": Role.FACILITATOR}
    )
    return [(username, str(role or "facilitator of `pilot`")) for username, *_, role in DEMO_PEOPLE]
