"""Framework content for the artifact tests, built with the ORM: models, thresholds, a ladder,
failure modes and a review cycle, plus frozen versions and sign-off."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from escalation.models import (
    AISystem,
    DriftMetric,
    DriftTrigger,
    EscalationLevel,
    ExternalEvent,
    ExternalTrigger,
    FailureKind,
    FailureMode,
    Framework,
    FrameworkVersion,
    LevelKind,
    ReviewFrequency,
    Threshold,
)
from escalation.versions import freeze_version
from tests.factories import make_member
from workshops.models import Engagement, Review, Role

SYSTEMS = [
    (
        "claims-summariser",
        "Claims summariser",
        "gpt-4o",
        "Claims triage",
        ["summary", "extraction"],
    ),
    ("policy-assistant", "Policy assistant", "claude-sonnet", "Broker questions", ["chat answer"]),
]
LEVELS = [
    ("prompt", "Prompt optimization", LevelKind.PROMPT_OPTIMIZATION, "Pat Prompt", "5000", 5),
    (
        "retrieval",
        "Retrieval augmentation",
        LevelKind.RETRIEVAL_AUGMENTATION,
        "Rita Rag",
        "25000",
        20,
    ),
    ("fine-tuning", "Fine-tuning", LevelKind.FINE_TUNING, "Finn Tuner", "120000", 60),
]
FAILURES = [
    ("factual", "Wrong policy limit quoted", FailureKind.FACTUAL_ERROR, "prompt"),
    ("invented", "Invented claim reference", FailureKind.HALLUCINATION, "retrieval"),
    ("jargon", "Misread underwriting jargon", FailureKind.DOMAIN_MISAPPLICATION, "fine-tuning"),
]


def make_framework_content(framework: Framework, *, extra_thresholds: int = 0) -> Framework:
    systems = [
        AISystem.objects.create(
            framework=framework,
            key=key,
            name=name,
            model_name=model,
            workflow=workflow,
            output_types=outputs,
            position=position,
        )
        for position, (key, name, model, workflow, outputs) in enumerate(SYSTEMS)
    ]
    thresholds = []
    for system in systems:
        for output in system.output_types:
            thresholds.append(_threshold(framework, system, output))
    for number in range(extra_thresholds):
        thresholds.append(_threshold(framework, systems[0], f"extra output {number}"))
    levels = {}
    for position, (key, name, kind, owner, cost, days) in enumerate(LEVELS):
        levels[key] = EscalationLevel.objects.create(
            framework=framework,
            key=key,
            name=name,
            kind=kind,
            position=position,
            trigger=f"Escalate to {name.lower()} when the level below is exhausted",
            entry_criteria=f"Entry into {name.lower()} needs evidence from two weekly reports",
            approval_owner_name=owner,
            approval_owner_role="Head of AI",
            estimated_cost_delta=Decimal(cost),
            timeline_delta_days=days,
        )
    levels["prompt"].trigger_thresholds.set(thresholds[:2])
    for position, (key, name, kind, level) in enumerate(FAILURES):
        FailureMode.objects.create(
            framework=framework,
            key=key,
            name=name,
            kind=kind,
            position=position,
            recommended_level=levels[level],
            immediate_mitigation=f"Route {name.lower()} cases to a human",
            long_term_fix=f"Fix {name.lower()} at the root",
            resolution_owner="ML lead",
        )
    DriftTrigger.objects.create(
        framework=framework,
        key="quality-drop",
        ai_system=systems[0],
        metric=DriftMetric.QUALITY,
        change="drops by more than 5 points",
    )
    ExternalTrigger.objects.create(
        framework=framework,
        key="new-model",
        event=ExternalEvent.FOUNDATION_MODEL_UPDATE,
        description="The vendor ships a new model generation",
        response="Re-run the evaluation set",
    )
    framework.review_frequency = ReviewFrequency.QUARTERLY
    framework.first_review_date = datetime.date(2027, 1, 31)
    framework.sunset_criteria = "Retire the framework when the claims workflow is decommissioned"
    framework.save()
    return framework


def _threshold(framework: Framework, system: AISystem, output: str) -> Threshold:
    return Threshold.objects.create(
        framework=framework,
        ai_system=system,
        key=f"{system.key}-{output}".replace(" ", "-"),
        output_type=output,
        quality_metric="groundedness",
        quality_floor=Decimal("85"),
        error_rate_ceiling_pct=Decimal("2.5"),
        latency_limit_ms=1200,
        throughput_floor_rpm=60,
        confidence_minimum=Decimal("0.8"),
    )


def make_version(framework: Framework, number: int = 1) -> FrameworkVersion:
    """Freeze the framework as the app does (the same numbering, hash and trigger)."""
    version = freeze_version(framework, f"Frozen for the test as v{number}", "Test facilitator")
    assert version.number == number, f"expected to freeze v{number}, froze {version.label}"
    return version


def sign_off(engagement: Engagement, version: FrameworkVersion, approvers: list[Any]) -> Review:
    """Take `version` through the real review: submitted by a facilitator, approved by each of
    `approvers`, who must satisfy the engagement's sign-off rule."""
    review, _ = Review.objects.get_or_create(version=version, engagement=engagement)
    membership = engagement.memberships.filter(role=Role.FACILITATOR).first()
    facilitator = membership.user if membership else make_member(engagement, Role.FACILITATOR)
    review.submit(facilitator, notify=False)
    signed_off = [review.approve(approver) for approver in approvers][-1]
    assert signed_off, "these approvers do not meet the engagement's sign-off rule"
    return review
