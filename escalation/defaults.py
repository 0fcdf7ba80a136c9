"""Framework content that is not typed in: the method's standard starting point for a new
engagement, the demo client's realistic framework, and a large generated one for tests and bench.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction

from escalation.models import (
    AISystem,
    ApprovalRule,
    DriftMetric,
    DriftTrigger,
    EscalationLevel,
    ExternalEvent,
    ExternalTrigger,
    FailureKind,
    FailureMode,
    Framework,
    LatencyPercentile,
    LevelKind,
    Severity,
    Threshold,
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
        "A vendor changes prices by more than 20 %.",
        "Recompute cost ceilings and the cost deltas of each level.",
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


# The demo client's governance: owner, role, rule, group, ceiling (EUR), cost delta, days.
DEMO_GOVERNANCE: dict[str, tuple[str, str, str, str, int, int, int]] = {
    LevelKind.PROMPT_OPTIMIZATION: (
        "Priya Natarajan",
        "AI product owner",
        ApprovalRule.SINGLE,
        "",
        5_000,
        2_000,
        5,
    ),
    LevelKind.RETRIEVAL_AUGMENTATION: (
        "Priya Natarajan",
        "AI product owner",
        ApprovalRule.SINGLE,
        "",
        25_000,
        15_000,
        15,
    ),
    LevelKind.FEW_SHOT_ENRICHMENT: (
        "Tomás Lindqvist",
        "Head of data science",
        ApprovalRule.SINGLE,
        "",
        40_000,
        20_000,
        15,
    ),
    LevelKind.FINE_TUNING: (
        "Tomás Lindqvist",
        "Head of data science",
        ApprovalRule.ALL_OF_GROUP,
        "Head of data science, Chief risk officer",
        120_000,
        80_000,
        45,
    ),
    LevelKind.HYBRID_ROUTING: (
        "Helen Okoro",
        "Chief technology officer",
        ApprovalRule.ALL_OF_GROUP,
        "CTO, Chief risk officer",
        200_000,
        110_000,
        60,
    ),
    LevelKind.MODEL_REPLACEMENT: (
        "Helen Okoro",
        "Chief technology officer",
        ApprovalRule.ALL_OF_GROUP,
        "AI steering committee (CTO, CRO, COO)",
        500_000,
        350_000,
        120,
    ),
}


@transaction.atomic  # the demo is skipped once it has content, so it must not be left half-filled
def fill_demo_framework(framework: Framework, engagement_end: datetime.date) -> bool:
    """Northwind Insurance's framework: three AI systems with thresholds, the five failure types,
    the six levels with owners and ceilings, and a review protocol. Only fills an empty framework
    (returns False otherwise), so loading the demo twice changes nothing."""
    if AISystem.objects.filter(framework=framework).exists():
        return False
    apply_method_defaults(framework)
    support = AISystem.objects.create(
        framework=framework,
        key="support-assistant",
        position=0,
        name="Customer-support assistant",
        vendor="OpenAI",
        model_name="gpt-4o",
        model_version="2024-08-06",
        workflow="Answers policyholders' questions in the web chat and drafts agent replies.",
        business_owner="Maria Schultz, Head of customer service",
        output_types=["chat answer", "summary"],
    )
    extraction = AISystem.objects.create(
        framework=framework,
        key="document-extraction",
        position=1,
        name="Document-extraction pipeline",
        vendor="Anthropic",
        model_name="claude-sonnet",
        model_version="4.5",
        workflow="Reads claim forms, invoices and medical reports into structured claim data.",
        business_owner="Jonas Berg, Claims operations lead",
        output_types=["extraction", "summary"],
    )
    triage = AISystem.objects.create(
        framework=framework,
        key="claims-triage",
        position=2,
        name="Claims-triage classifier",
        vendor="In-house",
        model_name="triage-xgb-llm-hybrid",
        model_version="3.2",
        workflow="Routes new claims to fast-track, standard or specialist handling.",
        business_owner="Aisha Rahman, Claims director",
        output_types=["classification"],
    )
    rows = [
        # system, output type, metric, floor, error %, pct, ms, rpm, confidence, data source
        (support, "chat answer", "answer groundedness", "85", "4", "p95", 3_500, 120, "0.70"),
        (support, "summary", "summary faithfulness", "90", "3", "p95", 6_000, 30, "0.75"),
        (extraction, "extraction", "field-level F1", "95", "2", "p99", 20_000, 40, "0.85"),
        (extraction, "summary", "summary faithfulness", "90", "3", "p95", 8_000, 20, "0.75"),
        (triage, "classification", "macro F1", "88", "5", "p99", 800, 300, "0.80"),
    ]
    thresholds = {}
    for position, (system, output, metric, floor, error, pct, ms, rpm, conf) in enumerate(rows):
        thresholds[(system.key, output)] = Threshold.objects.create(
            framework=framework,
            key=Threshold.free_key(framework, f"{system.key}-{output}"),
            position=position,
            ai_system=system,
            output_type=output,
            quality_metric=metric,
            quality_floor=Decimal(floor),
            error_rate_ceiling_pct=Decimal(error),
            latency_percentile=LatencyPercentile(pct),
            latency_limit_ms=ms,
            throughput_floor_rpm=rpm,
            confidence_minimum=Decimal(conf),
            measurement_window_hours=24,
            data_source="Weekly labelled sample of 400 cases; production telemetry",
            trigger_breaches=3,
            trigger_windows=5,
        )
    levels = {level.kind: level for level in EscalationLevel.objects.filter(framework=framework)}
    triggers = {
        LevelKind.PROMPT_OPTIMIZATION: [("support-assistant", "chat answer")],
        LevelKind.RETRIEVAL_AUGMENTATION: [
            ("support-assistant", "chat answer"),
            ("support-assistant", "summary"),
        ],
        LevelKind.FEW_SHOT_ENRICHMENT: [("claims-triage", "classification")],
        LevelKind.FINE_TUNING: [("document-extraction", "extraction")],
        LevelKind.HYBRID_ROUTING: [("claims-triage", "classification")],
        LevelKind.MODEL_REPLACEMENT: [("document-extraction", "extraction")],
    }
    for kind, level in levels.items():
        owner, role, rule, group, ceiling, delta, days = DEMO_GOVERNANCE[kind]
        level.trigger = (
            "A threshold breached by the trigger rule, or a failure type that maps here, "
            "with the levels below tried or skipped."
        )
        level.exit_criteria = "Every threshold of the system met for 4 consecutive windows."
        level.approval_owner_name, level.approval_owner_role = owner, role
        level.approval_rule, level.approval_group = rule, group
        level.cost_ceiling, level.currency = Decimal(ceiling), "EUR"
        level.estimated_cost_delta, level.timeline_delta_days = Decimal(delta), days
        level.save()
        level.trigger_thresholds.set([thresholds[pair] for pair in triggers[LevelKind(kind)]])
    owners = {
        FailureKind.FACTUAL_ERROR: ("Claims knowledge team", Severity.HIGH),
        FailureKind.HALLUCINATION: ("AI platform team", Severity.CRITICAL),
        FailureKind.FORMAT_VIOLATION: ("AI platform team", Severity.MEDIUM),
        FailureKind.DOMAIN_MISAPPLICATION: ("Claims knowledge team", Severity.HIGH),
        FailureKind.CONFIDENCE_MISCALIBRATION: ("Data science team", Severity.MEDIUM),
    }
    for failure in FailureMode.objects.filter(framework=framework):
        owner, severity = owners[FailureKind(failure.kind)]
        failure.resolution_owner, failure.severity = owner, severity
        failure.example = {
            FailureKind.FACTUAL_ERROR: "Tells a customer their policy covers flood damage; it does not.",
            FailureKind.HALLUCINATION: "Extracts an invoice number that appears nowhere in the scan.",
            FailureKind.FORMAT_VIOLATION: "Returns the claim amount as text instead of a number.",
            FailureKind.DOMAIN_MISAPPLICATION: "Applies car-insurance excess rules to a home claim.",
            FailureKind.CONFIDENCE_MISCALIBRATION: "Fast-tracks claims at 0.95 confidence that are right 70 % of the time.",
        }[FailureKind(failure.kind)]
        failure.immediate_mitigation = "Route affected cases to human review; notify the owner."
        failure.long_term_fix = "Fix at the recommended level; add the cases to the test set."
        failure.save()
    for position, (watched_system, metric, change, days) in enumerate(
        [
            (support, DriftMetric.QUALITY, "groundedness drops by more than 5 points", 7),
            (extraction, DriftMetric.ERROR_RATE, "rises above 1.5 % for a week", 7),
            (triage, DriftMetric.CONFIDENCE, "mean confidence shifts by more than 0.1", 14),
            (None, DriftMetric.LATENCY, "p95 doubles against the previous month", 30),
        ]
    ):
        DriftTrigger.objects.create(
            framework=framework,
            key=DriftTrigger.free_key(
                framework, f"{metric}-{watched_system.key if watched_system else 'all'}"
            ),
            position=position,
            ai_system=watched_system,
            metric=metric,
            change=change,
            window_days=days,
        )
    framework.review_frequency = "quarterly"
    framework.first_review_date = engagement_end + datetime.timedelta(days=90)
    framework.sunset_criteria = (
        "An escalation is rolled back when its system has met every threshold for two review "
        "cycles at the level below, or when its running cost exceeds the level's ceiling; it is "
        "retired when the system it serves is decommissioned."
    )
    framework.save()
    return True


@transaction.atomic  # one consistent large framework or none
def fill_large_framework(
    framework: Framework,
    *,
    systems: int = 40,
    outputs_per_system: int = 3,
    failure_modes: int = 30,
    levels: int = 12,
    drift_triggers: int = 40,
) -> None:
    """A large, consistent framework for tests and `make bench` (bulk inserts, a few seconds)."""
    created_systems = AISystem.objects.bulk_create(
        AISystem(
            framework=framework,
            key=f"system-{number:03d}",
            position=number,
            name=f"AI system {number:03d}",
            vendor="Vendor",
            model_name=f"model-{number % 7}",
            model_version=f"{number % 4}.0",
            workflow=f"Workflow {number:03d} of the large bench client",
            business_owner=f"Owner {number % 9}",
            output_types=[f"output-{o}" for o in range(outputs_per_system)],
        )
        for number in range(systems)
    )
    thresholds = Threshold.objects.bulk_create(
        Threshold(
            framework=framework,
            key=f"{system.key}-output-{o}",
            position=index * outputs_per_system + o,
            ai_system=system,
            output_type=f"output-{o}",
            quality_metric="accuracy",
            quality_floor=Decimal("80.00") + o,
            error_rate_ceiling_pct=Decimal("5.00"),
            latency_limit_ms=1000 + o * 500,
            throughput_floor_rpm=60,
            confidence_minimum=Decimal("0.750"),
            data_source="Telemetry",
        )
        for index, system in enumerate(created_systems)
        for o in range(outputs_per_system)
    )
    kinds = [kind for kind in LevelKind if kind != LevelKind.CUSTOM]
    created_levels = EscalationLevel.objects.bulk_create(
        EscalationLevel(
            framework=framework,
            key=f"level-{number:02d}",
            position=number,
            name=f"Level {number + 1:02d}",
            kind=kinds[number] if number < len(kinds) else LevelKind.CUSTOM,
            trigger="Breach of a linked threshold",
            entry_criteria="Lower levels tried",
            exit_criteria="Thresholds met for 4 windows",
            rollback_rule="Revert",
            approval_owner_name=f"Approver {number}",
            approval_owner_role="Director",
            cost_ceiling=Decimal(10_000 * (number + 1)),
            estimated_cost_delta=Decimal(5_000 * (number + 1)),
            timeline_delta_days=5 * (number + 1),
        )
        for number in range(levels)
    )
    Link = EscalationLevel.trigger_thresholds.through
    Link.objects.bulk_create(
        Link(escalationlevel_id=created_levels[i % levels].pk, threshold_id=threshold.pk)
        for i, threshold in enumerate(thresholds)
    )
    failure_kinds = [kind for kind in FailureKind if kind != FailureKind.CUSTOM]
    FailureMode.objects.bulk_create(
        FailureMode(
            framework=framework,
            key=f"failure-{number:02d}",
            position=number,
            name=f"Failure type {number:02d}",
            kind=failure_kinds[number] if number < len(failure_kinds) else FailureKind.CUSTOM,
            description="A way the model fails",
            detection_signal="Monitoring",
            recommended_level=created_levels[number % levels],
            resolution_owner="Platform team",
        )
        for number in range(failure_modes)
    )
    DriftTrigger.objects.bulk_create(
        DriftTrigger(
            framework=framework,
            key=f"drift-{number:03d}",
            position=number,
            ai_system=created_systems[number % systems],
            metric=list(DriftMetric)[number % len(DriftMetric)],
            change="moves by more than 10 %",
        )
        for number in range(drift_triggers)
    )
    external = [
        ExternalTrigger(
            framework=framework,
            key=event.value.replace("_", "-"),
            position=position,
            event=event,
            description=f"{event.label} affecting any system",
            response="Review the affected thresholds",
        )
        for position, event in enumerate(ExternalEvent)
    ]
    ExternalTrigger.objects.bulk_create(external)
    framework.first_review_date = datetime.date(2027, 3, 1)
    framework.sunset_criteria = "Roll back when thresholds hold for two cycles."
    framework.save()
