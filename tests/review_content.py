"""A small framework with one item of every kind, for the versions and review tests."""

from __future__ import annotations

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
    LevelKind,
    Threshold,
)


def fill_small_framework(framework: Framework) -> dict[str, Any]:
    system = AISystem.objects.create(
        framework=framework,
        key="claims-bot",
        name="Claims assistant",
        model_name="gpt-4o",
        workflow="Claims triage",
        output_types=["summary"],
    )
    threshold = Threshold.objects.create(
        framework=framework,
        key="claims-bot-all",
        ai_system=system,
        quality_metric="Groundedness",
        quality_floor=Decimal("85.00"),
        error_rate_ceiling_pct=Decimal("2.50"),
        latency_limit_ms=2500,
        throughput_floor_rpm=60,
        confidence_minimum=Decimal("0.700"),
    )
    prompt = EscalationLevel.objects.create(
        framework=framework,
        key="prompt-optimization",
        name="Prompt optimization",
        kind=LevelKind.PROMPT_OPTIMIZATION,
        position=1,
        trigger="Any threshold breach",
        approval_owner_name="Dana Lead",
    )
    prompt.trigger_thresholds.add(threshold)
    fine_tuning = EscalationLevel.objects.create(
        framework=framework,
        key="fine-tuning",
        name="Fine-tuning",
        kind=LevelKind.FINE_TUNING,
        position=2,
        trigger="Prompt changes did not restore quality",
        cost_ceiling=Decimal("40000.00"),
    )
    failure = FailureMode.objects.create(
        framework=framework,
        key="hallucination",
        name="Hallucination",
        kind=FailureKind.HALLUCINATION,
        recommended_level=fine_tuning,
    )
    DriftTrigger.objects.create(
        framework=framework,
        key="quality-drop",
        ai_system=system,
        metric=DriftMetric.QUALITY,
        change="drops by more than 5 points",
    )
    ExternalTrigger.objects.create(
        framework=framework,
        key="model-update",
        event=ExternalEvent.FOUNDATION_MODEL_UPDATE,
        response="Re-run the threshold measurements",
    )
    return {
        "system": system,
        "threshold": threshold,
        "fine_tuning": fine_tuning,
        "failure": failure,
    }
