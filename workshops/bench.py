"""The large engagement `make bench` measures, and the pages it visits."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse

from escalation.defaults import fill_large_framework
from escalation.models import Framework
from escalation.steps import STEPS
from workshops.models import Engagement, Membership, Role

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
    fill_large_framework(framework)
    facilitator = User.objects.create_user(username=f"{BENCH_SLUG}-facilitator")
    Membership.objects.create(engagement=engagement, user=facilitator, role=Role.FACILITATOR)
    for number in range(BENCH_MEMBERS):
        user = User.objects.create_user(username=f"{BENCH_SLUG}-member-{number}")
        Membership.objects.create(engagement=engagement, user=user, role=Role.REVIEWER)
    return facilitator


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
        *[(f"step: {step.key}", reverse("step", args=[BENCH_SLUG, step.key])) for step in STEPS],
        ("checks", reverse("checks", args=[BENCH_SLUG])),
        ("framework.json", reverse("framework_json", args=[BENCH_SLUG])),
    ]
