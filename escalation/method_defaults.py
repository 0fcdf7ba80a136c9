"""The method's standard starting point for a new engagement's framework: the five failure
types, the six escalation levels and the standard external review triggers."""

from __future__ import annotations

from django.db import transaction

from escalation.models import (
    CadenceFrequency,
    EscalationLevel,
    ExternalEvent,
    ExternalTrigger,
    FailureKind,
    FailureMode,
    Framework,
    LevelKind,
    ReviewCadence,
)

# The method's five failure types, with the level each usually calls for first.
STANDARD_FAILURE_TYPES: list[tuple[str, str, str, str]] = [
    # kind, description, detection signal, recommended level kind
    (
        FailureKind.FACTUAL_ERROR,
        "The output states something about the world or the case that is wrong.",
        "Spot checks against source records; user corrections.",
        LevelKind.RETRIEVAL_AUGMENTATION,
    ),
    (
        FailureKind.HALLUCINATION,
        "The output invents facts, sources or fields that are not in the input.",
        "Groundedness score below floor; citations that do not resolve.",
        LevelKind.RETRIEVAL_AUGMENTATION,
    ),
    (
        FailureKind.FORMAT_VIOLATION,
        "The output breaks the expected structure (schema, length, tone, language).",
        "Schema validation failures in the consuming system.",
        LevelKind.PROMPT_OPTIMIZATION,
    ),
    (
        FailureKind.DOMAIN_MISAPPLICATION,
        "The output applies general knowledge where domain rules or policy govern.",
        "Reviewer overrides citing policy; complaint tags.",
        LevelKind.FEW_SHOT_ENRICHMENT,
    ),
    (
        FailureKind.CONFIDENCE_MISCALIBRATION,
        "The model's confidence does not match how often it is right.",
        "Calibration error on the weekly labelled sample.",
        LevelKind.FINE_TUNING,
    ),
]

# The six standard rungs, bottom to top: (kind, entry criteria, rollback rule).
STANDARD_LEVELS: list[tuple[str, str, str]] = [
    (
        LevelKind.PROMPT_OPTIMIZATION,
        "A threshold breach or failure pattern traced to instructions or output format.",
        "Revert to the previous prompt version if the next window is worse.",
    ),
    (
        LevelKind.RETRIEVAL_AUGMENTATION,
        "Failures traced to missing or stale knowledge; prompt changes tried.",
        "Switch retrieval off behind its flag; keep the index for analysis.",
    ),
    (
        LevelKind.FEW_SHOT_ENRICHMENT,
        "Failures on recognisable case patterns that examples can teach.",
        "Remove the added examples; restore the previous example set.",
    ),
    (
        LevelKind.FINE_TUNING,
        "Lower levels tried or skipped with approval; a labelled set of at least 2,000 cases.",
        "Route traffic back to the base model; keep the tuned weights for a month.",
    ),
    (
        LevelKind.HYBRID_ROUTING,
        "A segment of traffic the current model cannot serve within thresholds.",
        "Send all traffic back to the single model.",
    ),
    (
        LevelKind.MODEL_REPLACEMENT,
        "Every lower level tried or skipped with approval; a business case signed off.",
        "Keep the previous model warm for one review cycle.",
    ),
]

# The rungs the standard failure types enter directly (see STANDARD_FAILURE_TYPES), skipping the
# ones below: when that is allowed and who approves it, as the scope-creep rule asks.
SKIP_APPROVER = "The level's approval owner"
STANDARD_DIRECT_ENTRY: dict[str, str] = {
    LevelKind.RETRIEVAL_AUGMENTATION: (
        "The failure is traced to missing or stale knowledge, which no prompt change can supply."
    ),
    LevelKind.FEW_SHOT_ENRICHMENT: (
        "The failure is a recognisable case pattern that instructions alone have not taught."
    ),
    LevelKind.FINE_TUNING: (
        "The model's confidence is miscalibrated on the labelled sample: prompts, retrieval and "
        "examples do not change how it scores itself."
    ),
}

STANDARD_EXTERNAL_EVENTS: list[tuple[str, str, str]] = [
    (
        ExternalEvent.FOUNDATION_MODEL_UPDATE,
        "The vendor releases a new version of a model in scope.",
        "Re-run the threshold evaluation; reconsider levels above prompt optimization.",
    ),
    (
        ExternalEvent.MODEL_DEPRECATION,
        "The vendor announces the end of life of a model in scope.",
        "Plan the replacement; the model replacement level's approval applies.",
    ),
    (
        ExternalEvent.REGULATORY_CHANGE,
        "A regulation or supervisory guidance touching an AI system changes.",
        "Review thresholds and failure severities against the new rules.",
    ),
    (
        ExternalEvent.VENDOR_PRICING_CHANGE,
        "A vendor changes the prices a level's cost estimate rests on.",
        "Recompute the cost estimates and ceilings of each level.",
    ),
]


@transaction.atomic  # a framework with half its standard rows would look complete but is not
def apply_method_defaults(framework: Framework) -> None:
    """Give a new framework the method's starting point: the five standard failure types mapped
    to the six standard levels, and the standard external review triggers. Adds only what is
    missing, so running it twice changes nothing."""
    levels = {level.kind: level for level in EscalationLevel.objects.filter(framework=framework)}
    next_position = max((level.position for level in levels.values()), default=-1) + 1
    for kind, entry_criteria, rollback_rule in STANDARD_LEVELS:
        if kind in levels:
            continue
        levels[kind] = EscalationLevel.objects.create(
            framework=framework,
            key=EscalationLevel.free_key(framework, kind),
            position=next_position,
            name=LevelKind(kind).label,
            kind=kind,
            entry_criteria=entry_criteria,
            rollback_rule=rollback_rule,
            direct_entry_when=STANDARD_DIRECT_ENTRY.get(kind, ""),
            direct_entry_approver=SKIP_APPROVER if kind in STANDARD_DIRECT_ENTRY else "",
        )
        next_position += 1
    present = set(FailureMode.objects.filter(framework=framework).values_list("kind", flat=True))
    for position, (kind, description, signal, level_kind) in enumerate(STANDARD_FAILURE_TYPES):
        if kind in present:
            continue
        FailureMode.objects.create(
            framework=framework,
            key=FailureMode.free_key(framework, kind),
            position=position,
            name=FailureKind(kind).label,
            kind=kind,
            description=description,
            detection_signal=signal,
            recommended_level=levels[level_kind],
        )
    events = set(
        ExternalTrigger.objects.filter(framework=framework).values_list("event", flat=True)
    )
    for position, (event, description, response) in enumerate(STANDARD_EXTERNAL_EVENTS):
        if event not in events:
            ExternalTrigger.objects.create(
                framework=framework,
                key=ExternalTrigger.free_key(framework, event),
                position=position,
                event=event,
                description=description,
                response=response,
            )
    # The method's scheduled review, without a date: the client names the first one (a check
    # asks for it); nothing else about it is assumed beyond the method's quarterly rhythm.
    if not ReviewCadence.objects.filter(framework=framework).exists():
        ReviewCadence.objects.create(
            framework=framework,
            key="framework-review",
            name="Framework review",
            frequency=CadenceFrequency.QUARTERLY,
        )
