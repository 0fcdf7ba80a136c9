"""The large engagement `make bench` measures, and the pages it visits."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse

from escalation.defaults import apply_method_defaults
from escalation.models import Framework
from workshops.models import Activity, DayNote, Engagement, Membership, Role

BENCH_SLUG = "bench-large"
BENCH_MEMBERS = 60


@transaction.atomic
def seed_large_engagement() -> Any:
    """An engagement with many people (and, as features land, a large framework)."""
    User = get_user_model()
    framework = Framework.objects.create(name="Bench framework")
    engagement = Engagement.objects.create(
        slug=BENCH_SLUG,
        client_organisation="Bench Corp",
        title="Large engagement",
        start_date="2026-11-02",
        framework=framework,
    )
    facilitator = User.objects.create_user(username=f"{BENCH_SLUG}-facilitator")
    Membership.objects.create(engagement=engagement, user=facilitator, role=Role.FACILITATOR)
    for number in range(BENCH_MEMBERS):
        user = User.objects.create_user(username=f"{BENCH_SLUG}-member-{number}")
        Membership.objects.create(engagement=engagement, user=user, role=Role.REVIEWER)
    _seed_days_and_activity(engagement, facilitator)
    return facilitator


def _seed_days_and_activity(engagement: Engagement, facilitator: Any) -> None:
    """Notes on every day, a long audit trail and the method's default content (workshops)."""
    apply_method_defaults(engagement.framework)
    for day in range(1, engagement.working_days + 1):
        DayNote.objects.create(
            engagement=engagement,
            day_number=day,
            attendees="\n".join(f"Person {n}" for n in range(12)),
            decisions="\n".join(f"Decision {n}" for n in range(20)),
        )
    Activity.objects.bulk_create(
        Activity(engagement=engagement, actor=facilitator, verb="noted", summary=f"Change {n}")
        for n in range(2000)
    )


def remove_large_engagement() -> None:
    engagement = Engagement.objects.filter(slug=BENCH_SLUG).first()
    if engagement:
        framework = engagement.framework
        engagement.delete()
        framework.delete()
    get_user_model().objects.filter(username__startswith=f"{BENCH_SLUG}-").delete()


def pages_to_measure() -> list[tuple[str, str]]:
    return [
        ("floor: /healthz (trivial view)", reverse("healthz")),
        ("home", reverse("home")),
        ("dashboard", reverse("dashboard", args=[BENCH_SLUG])),
        ("days", reverse("days", args=[BENCH_SLUG])),
        ("day 4", reverse("day", args=[BENCH_SLUG, 4])),
        ("people", reverse("people", args=[BENCH_SLUG])),
        ("settings", reverse("engagement_settings", args=[BENCH_SLUG])),
        ("new engagement", reverse("engagement_new")),
    ]
