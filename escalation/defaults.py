"""The method's starting point for a new framework: its five failure kinds, six ladder levels and
the standard outside events that call a review. A facilitator then adapts them to the client.

Minimal version written for engagement creation; the steps work may extend it.
"""

from __future__ import annotations

from django.db import transaction

from escalation.models import (
    EscalationLevel,
    ExternalEvent,
    ExternalTrigger,
    FailureKind,
    FailureMode,
    Framework,
    LevelKind,
)

# key, kind, description
DEFAULT_LEVELS: list[tuple[str, str, str]] = [
    (
        "prompt-optimization",
        LevelKind.PROMPT_OPTIMIZATION,
        "Rewrite instructions, constraints and output formats of the current model.",
    ),
    (
        "retrieval-augmentation",
        LevelKind.RETRIEVAL_AUGMENTATION,
        "Ground answers in the client's own sources through retrieval.",
    ),
    (
        "few-shot-enrichment",
        LevelKind.FEW_SHOT_ENRICHMENT,
        "Add curated worked examples of good outputs to the prompt.",
    ),
    (
        "fine-tuning",
        LevelKind.FINE_TUNING,
        "Train the model further on the client's labelled data.",
    ),
    (
        "hybrid-routing",
        LevelKind.HYBRID_ROUTING,
        "Route hard or risky requests to another model or to people.",
    ),
    (
        "model-replacement",
        LevelKind.MODEL_REPLACEMENT,
        "Replace the model with another foundation model or a custom build.",
    ),
]

# key, kind, description, the level it normally starts at
DEFAULT_FAILURE_MODES: list[tuple[str, str, str, str]] = [
    (
        "factual-error",
        FailureKind.FACTUAL_ERROR,
        "A statement that contradicts the facts the model was given or should know.",
        "retrieval-augmentation",
    ),
    (
        "hallucination",
        FailureKind.HALLUCINATION,
        "Invented content: sources, figures or entities that do not exist.",
        "retrieval-augmentation",
    ),
    (
        "format-violation",
        FailureKind.FORMAT_VIOLATION,
        "Output that breaks the required structure, length or schema.",
        "prompt-optimization",
    ),
    (
        "domain-misapplication",
        FailureKind.DOMAIN_MISAPPLICATION,
        "Correct-sounding output that applies the wrong domain rules or terminology.",
        "few-shot-enrichment",
    ),
    (
        "confidence-miscalibration",
        FailureKind.CONFIDENCE_MISCALIBRATION,
        "Confidence scores that do not match how often the model is actually right.",
        "hybrid-routing",
    ),
]

# key, event, what the review must reconsider
DEFAULT_EXTERNAL_TRIGGERS: list[tuple[str, str, str]] = [
    (
        "foundation-model-update",
        ExternalEvent.FOUNDATION_MODEL_UPDATE,
        "Re-measure every threshold on the new model before relying on past escalation decisions.",
    ),
    (
        "model-deprecation",
        ExternalEvent.MODEL_DEPRECATION,
        "Plan the replacement and re-check which levels still apply.",
    ),
    (
        "regulatory-change",
        ExternalEvent.REGULATORY_CHANGE,
        "Check thresholds, approvals and documentation against the new rules.",
    ),
    (
        "vendor-pricing-change",
        ExternalEvent.VENDOR_PRICING_CHANGE,
        "Recompute the cost ceilings and cost deltas of every level.",
    ),
]


@transaction.atomic  # a framework with half of its defaults would look finished but is not
def apply_method_defaults(framework: Framework) -> None:
    """Add the method's standard levels, failure modes and external triggers that are missing."""
    levels = {level.key: level for level in EscalationLevel.objects.filter(framework=framework)}
    next_position = max((level.position for level in levels.values()), default=-1) + 1
    for key, kind, description in DEFAULT_LEVELS:
        if key not in levels:
            levels[key] = EscalationLevel.objects.create(
                framework=framework,
                key=key,
                kind=kind,
                name=LevelKind(kind).label,
                entry_criteria=description,
                position=next_position,
            )
            next_position += 1
    existing_modes = set(
        FailureMode.objects.filter(framework=framework).values_list("key", flat=True)
    )
    FailureMode.objects.bulk_create(
        FailureMode(
            framework=framework,
            key=key,
            kind=kind,
            name=FailureKind(kind).label,
            description=description,
            recommended_level=levels.get(level_key),
            position=position,
        )
        for position, (key, kind, description, level_key) in enumerate(DEFAULT_FAILURE_MODES)
        if key not in existing_modes
    )
    existing_triggers = set(
        ExternalTrigger.objects.filter(framework=framework).values_list("key", flat=True)
    )
    ExternalTrigger.objects.bulk_create(
        ExternalTrigger(
            framework=framework, key=key, event=event, response=response, position=position
        )
        for position, (key, event, response) in enumerate(DEFAULT_EXTERNAL_TRIGGERS)
        if key not in existing_triggers
    )
