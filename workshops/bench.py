"""The large engagement `make bench` measures, and the pages it visits."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse

from escalation.diagram import diagram_sha256, ladder_dot, render_ladder
from escalation.models import (
    AISystem,
    DiagramRender,
    DriftMetric,
    DriftTrigger,
    EscalationLevel,
    ExternalEvent,
    ExternalTrigger,
    FailureKind,
    FailureMode,
    Framework,
    LevelKind,
    Threshold,
)
from escalation.pdf import SignOff, build_pack
from workshops.models import Engagement, Membership, Role
from workshops.packs import artifact_source, pack_context

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
    seed_large_framework(framework)
    return facilitator


def seed_large_framework(framework: Framework) -> None:
    """A large framework for the artifacts and the pack (unless another seeder filled it)."""
    if framework.levels.exists():
        return
    systems = [
        AISystem.objects.create(
            framework=framework,
            key=f"system-{n}",
            name=f"AI system {n}",
            model_name=f"model-{n}",
            workflow=f"Workflow {n}: " + "a long description of the business process " * 3,
            output_types=["summary", "classification", "extraction"],
            position=n,
        )
        for n in range(12)
    ]
    thresholds = [
        Threshold.objects.create(
            framework=framework,
            ai_system=system,
            key=f"{system.key}-{output}",
            output_type=output,
            quality_metric="groundedness",
            quality_floor=Decimal("85"),
            error_rate_ceiling_pct=Decimal("2.5"),
            latency_limit_ms=1500,
            throughput_floor_rpm=120,
            confidence_minimum=Decimal("0.75"),
        )
        for system in systems
        for output in system.output_types
    ]
    levels = []
    for n, kind in enumerate(list(LevelKind)[:6]):
        level = EscalationLevel.objects.create(
            framework=framework,
            key=f"level-{n}",
            name=f"{kind.label} (level {n + 1})",
            kind=kind,
            position=n,
            trigger="The level below did not restore the thresholds within its window",
            entry_criteria="Evidence from two consecutive weekly reports " * 2,
            approval_owner_name=f"Owner {n}",
            approval_owner_role="Head of AI",
            estimated_cost_delta=Decimal(5000 * (n + 1) ** 2),
            timeline_delta_days=5 * (n + 1),
        )
        level.trigger_thresholds.set(thresholds[n * 6 : n * 6 + 6])
        levels.append(level)
    for n in range(24):
        FailureMode.objects.create(
            framework=framework,
            key=f"failure-{n}",
            name=f"Failure mode {n}",
            kind=list(FailureKind)[n % 5],
            position=n,
            recommended_level=levels[n % len(levels)],
            immediate_mitigation="Route affected cases to a human reviewer " * 2,
            long_term_fix="Address the root cause in the next model iteration " * 2,
            resolution_owner=f"Owner {n % 6}",
        )
    for n, system in enumerate(systems):
        DriftTrigger.objects.create(
            framework=framework,
            key=f"drift-{n}",
            ai_system=system,
            metric=DriftMetric.QUALITY,
            change="drops by more than 5 points",
        )
    for n, event in enumerate(ExternalEvent):
        ExternalTrigger.objects.create(
            framework=framework, key=f"event-{n}", event=event, response="Re-run the evaluation"
        )
    framework.first_review_date = datetime.date(2027, 1, 15)
    framework.sunset_criteria = "When every system is retired"
    framework.save()


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
        ("artifacts (working draft)", reverse("artifacts", args=[BENCH_SLUG])),
        ("pack page (working draft)", reverse("pack", args=[BENCH_SLUG])),
    ]


def artifact_measurements() -> list[tuple[str, Callable[[], object], int]]:
    """The ladder drawn cold and from the cache, and the pack rendered as draft and signed."""
    engagement = Engagement.objects.get(slug=BENCH_SLUG)
    source = artifact_source(engagement, None)
    document = source.document
    draft = pack_context(source)
    signed = dataclasses.replace(
        draft,
        signed_off=True,
        status="Signed off",
        approvals=[
            SignOff(f"Approver {n}", "Approver", draft.generated_at, draft.version_sha256)
            for n in range(5)
        ],
    )
    dot = ladder_dot(document)

    def draw_cold() -> bytes:
        DiagramRender.objects.filter(sha256=diagram_sha256(dot, "svg")).delete()
        return render_ladder(document)

    return [
        ("diagram svg, cold (dot runs)", draw_cold, 30),
        ("diagram svg, cached", lambda: render_ladder(document), 30),
        ("pack pdf, draft (render)", lambda: build_pack(document, draft), 3),
        ("pack pdf, signed (render + sign)", lambda: build_pack(document, signed), 3),
    ]
