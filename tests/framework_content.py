"""Framework content for tests, built with the ORM: an empty framework, a small one with one item
of every kind, and a full one (two systems, thresholds, a three-level ladder, failure modes, drift
and external triggers, a review cycle) for the artifacts and the pack."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal
from typing import Any

from escalation.models import (
    AISystem,
    Bound,
    CadenceFrequency,
    DriftComparison,
    DriftMetric,
    DriftOperator,
    DriftTrigger,
    EscalationLevel,
    ExternalEvent,
    ExternalTrigger,
    FailureKind,
    FailureMode,
    Framework,
    LevelKind,
    ReviewCadence,
    Shift,
    SunsetRule,
    Threshold,
)

_counter = itertools.count(1)


def make_framework(**fields: Any) -> Framework:
    fields.setdefault("name", f"Framework {next(_counter)}")
    return Framework.objects.create(**fields)


def fill_small_framework(framework: Framework) -> dict[str, Any]:
    """One item of every kind: a system, a threshold, two levels, a failure mode, two triggers."""
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
    )
    bound = make_bound(threshold, metric_name="Groundedness", value="0.85")
    prompt = EscalationLevel.objects.create(
        framework=framework,
        key="prompt-optimization",
        name="Prompt optimization",
        kind=LevelKind.PROMPT_OPTIMIZATION,
        position=1,
        trigger="Any threshold breach",
        approval_owner_name="Dana Lead",
    )
    bound.escalates_to.add(prompt)
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
        comparison=DriftComparison.CHANGE_VS_PREVIOUS,
        operator=DriftOperator.BELOW,
        value=Decimal("-5"),
    )
    ExternalTrigger.objects.create(
        framework=framework,
        key="model-update",
        event=ExternalEvent.FOUNDATION_MODEL_UPDATE,
        response="Re-run the threshold measurements",
    )
    # One of each kind of row the pages load, so their prefetches run (query counts).
    SunsetRule.objects.create(
        framework=framework, key="sunset", after_days=90, required_improvement=Decimal("0.5")
    ).levels.set([fine_tuning])
    return {
        "system": system,
        "threshold": threshold,
        "bound": bound,
        "fine_tuning": fine_tuning,
        "failure": failure,
    }


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
            estimated_cost_low=Decimal(cost),
            estimated_cost_high=Decimal(cost),
            timeline_amount=days,
        )
    levels["prompt"].bounds.set(
        bound for threshold in thresholds[:2] for bound in threshold.bounds.all()
    )
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
        comparison=DriftComparison.CHANGE_VS_PREVIOUS,
        operator=DriftOperator.BELOW,
        value=Decimal("-5"),
    )
    ExternalTrigger.objects.create(
        framework=framework,
        key="new-model",
        event=ExternalEvent.FOUNDATION_MODEL_UPDATE,
        description="The vendor ships a new model generation",
        response="Re-run the evaluation set",
    )
    ReviewCadence.objects.create(
        framework=framework,
        key="framework-review",
        name="Framework review",
        frequency=CadenceFrequency.QUARTERLY,
        first_date=datetime.date(2027, 1, 31),
        shift=Shift.NEXT,
    )
    framework.sunset_criteria = "Retire the framework when the claims workflow is decommissioned"
    framework.save()
    return framework


def _threshold(framework: Framework, system: AISystem, output: str) -> Threshold:
    threshold_ = Threshold.objects.create(
        framework=framework,
        ai_system=system,
        key=f"{system.key}-{output}".replace(" ", "-"),
        output_type=output,
    )
    make_bound(threshold_, metric_name="groundedness", value="0.85")
    make_bound(
        threshold_, metric_kind="error_rate", direction="at_most", value="2.5", unit="percent"
    )
    make_bound(
        threshold_,
        metric_kind="latency",
        percentile="p95",
        direction="at_most",
        value="1200",
        unit="ms",
    )
    return threshold_


def make_bound(threshold: Threshold, **fields: Any) -> Bound:
    """A bound of `threshold`; by default a quality floor on the ratio scale (≥ value)."""
    fields.setdefault("metric_kind", "quality")
    fields.setdefault("direction", "at_least")
    fields.setdefault("unit", "ratio")
    fields["value"] = Decimal(str(fields.get("value", "0.9")))
    name = fields.get("metric_name") or fields["metric_kind"]
    return Bound.objects.create(
        framework_id=threshold.framework_id,
        threshold=threshold,
        key=Bound.free_key(threshold.framework, f"{threshold.key}-{name}"),
        position=Bound.objects.filter(framework_id=threshold.framework_id).count(),
        **fields,
    )
