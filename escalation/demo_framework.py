"""The demo client's framework (Northwind Insurance): realistic content for `load_demo` and for
tests that need a complete, plausible framework."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction

from escalation.method_defaults import apply_method_defaults
from escalation.models import (
    AISystem,
    ApprovalRule,
    Bound,
    CadenceFrequency,
    CostBasis,
    DayRule,
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
    Ordinal,
    ReviewCadence,
    Severity,
    Shift,
    SunsetRule,
    Threshold,
    TimelineUnit,
    Weekday,
)

# The demo client's governance: owner, role, rule, group, ceiling, cost estimate (both in the
# framework's EUR unless DEMO_GOVERNANCE_DETAILS says), timeline in working days.
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
        "Tomás Lindqvist, Arjun Appleby",
        120_000,
        80_000,
        45,
    ),
    LevelKind.HYBRID_ROUTING: (
        "Helen Okoro",
        "Chief technology officer",
        ApprovalRule.K_OF_GROUP,
        "Helen Okoro, Arjun Appleby, Tomás Lindqvist",
        13_000,
        6_500,
        2,
    ),
    LevelKind.MODEL_REPLACEMENT: (
        "Helen Okoro",
        "Chief technology officer",
        ApprovalRule.ALL_OF_GROUP,
        "Helen Okoro, Arjun Appleby, Priya Natarajan",
        500_000,
        350_000,
        120,
    ),
}
# What the demo client's ladder says beyond one figure per level: estimate ranges, timelines in
# the unit the client gave, and hybrid routing, which runs a US vendor's second model: a monthly
# cost range and ceiling in USD in a EUR framework, approved by 2 of 3 with a deputy.
DEMO_GOVERNANCE_DETAILS: dict[str, dict[str, object]] = {
    LevelKind.RETRIEVAL_AUGMENTATION: {"estimated_cost_high": Decimal(18_000)},
    LevelKind.FEW_SHOT_ENRICHMENT: {
        "estimated_cost_high": Decimal(28_000),
        "timeline_amount": 3,
        "timeline_unit": TimelineUnit.WEEKS,
    },
    LevelKind.FINE_TUNING: {"estimated_cost_high": Decimal(95_000)},
    LevelKind.HYBRID_ROUTING: {
        "currency": "USD",
        "estimated_cost_high": Decimal(9_500),
        "cost_basis": CostBasis.MONTHLY,
        "cost_ceiling_basis": CostBasis.MONTHLY,
        "approvals_required": 2,
        "deputy_name": "Arjun Appleby",
        "deputy_role": "Chief risk officer",
        "timeline_unit": TimelineUnit.MONTHS,
        "overrun_rule": (
            "A month whose routing spend would pass the ceiling switches the fallback model off "
            "until two of the group approve a new ceiling."
        ),
    },
    LevelKind.MODEL_REPLACEMENT: {
        "estimated_cost_high": Decimal(420_000),
        "timeline_unit": TimelineUnit.CALENDAR_DAYS,
    },
}


# The demo client's three systems: support assistant, document extraction, claims triage.
type DemoSystems = tuple[AISystem, AISystem, AISystem]


@transaction.atomic  # the demo is skipped once it has content, so it must not be left half-filled
def fill_demo_framework(framework: Framework, engagement_end: datetime.date) -> bool:
    """Northwind Insurance's framework: three AI systems with thresholds, the five failure types,
    the six levels with owners and ceilings, and a review protocol. Only fills an empty framework
    (returns False otherwise), so loading the demo twice changes nothing."""
    if AISystem.objects.filter(framework=framework).exists():
        return False
    apply_method_defaults(framework)
    systems = _create_systems(framework)
    bounds = _create_thresholds(framework, systems)
    _govern_levels(framework, bounds)
    _describe_failure_modes(framework)
    _create_drift_triggers(framework, systems)
    _schedule_review_cycle(framework, engagement_end)
    _place_on_the_ladder(framework, systems)
    return True


def _create_systems(framework: Framework) -> DemoSystems:
    """The support assistant, the extraction pipeline and the triage classifier, in that order."""
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
    return support, extraction, triage


# The demo client's bounds as a real client states them: mixed scales (ratios, a 5-point rating,
# percent, seconds and milliseconds), a lower-is-better metric (calibration error), an
# immediate-breach value and today's baselines, and only the bounds the client actually set.
# (metric kind, name, percentile, direction, value, unit, extra fields)
DEMO_BOUNDS: dict[tuple[str, str], list[tuple[str, str, str, str, str, str, dict[str, object]]]] = {
    ("support-assistant", "chat answer"): [
        (
            "quality",
            "answer groundedness",
            "",
            "at_least",
            "0.85",
            "ratio",
            {"baseline_value": Decimal("0.91")},
        ),
        (
            "error_rate",
            "",
            "",
            "at_most",
            "4",
            "percent",
            {"error_definition": "An answer that contradicts the policy documents."},
        ),
        ("latency", "", "p95", "at_most", "3.5", "s", {}),
        (
            "quality",
            "CSAT rating",
            "",
            "at_least",
            "4.2",
            "score",
            {"scale_max": Decimal(5), "window_hours": 168, "minimum_sample_size": 200},
        ),
    ],
    ("support-assistant", "summary"): [
        ("quality", "summary faithfulness", "", "at_least", "0.90", "ratio", {}),
        ("latency", "", "p95", "at_most", "6", "s", {}),
    ],
    ("document-extraction", "extraction"): [
        (
            "quality",
            "field accuracy",
            "",
            "at_least",
            "0.985",
            "ratio",
            {"immediate_breach_value": Decimal("0.95"), "baseline_value": Decimal("0.991")},
        ),
        (
            "error_rate",
            "",
            "",
            "at_most",
            "2",
            "percent",
            {"error_definition": "A wrong amount, date or policy number in an extracted field."},
        ),
        (
            "custom",
            "calibration error (ECE)",
            "",
            "at_most",
            "0.05",
            "ratio",
            {"baseline_value": Decimal("0.031")},
        ),
        ("latency", "", "p99", "at_most", "20", "s", {}),
        ("throughput", "", "", "at_least", "40", "per_minute", {"counted_thing": "documents"}),
    ],
    ("document-extraction", "summary"): [
        ("quality", "summary faithfulness", "", "at_least", "0.90", "ratio", {}),
    ],
    ("claims-triage", "classification"): [
        (
            "quality",
            "macro F1",
            "",
            "at_least",
            "0.88",
            "ratio",
            {"immediate_breach_value": Decimal("0.80")},
        ),
        (
            "error_rate",
            "",
            "",
            "at_most",
            "5",
            "percent",
            {"error_definition": "A claim routed to the wrong queue."},
        ),
        ("latency", "", "p99", "at_most", "800", "ms", {}),
        ("throughput", "", "", "at_least", "300", "per_minute", {"counted_thing": "claims"}),
        ("confidence", "", "", "at_least", "0.80", "ratio", {}),
    ],
}


def _create_thresholds(
    framework: Framework, systems: Sequence[AISystem]
) -> dict[tuple[str, str], list[Bound]]:
    by_key = {system.key: system for system in systems}
    bounds: dict[tuple[str, str], list[Bound]] = {}
    position = 0
    for index, ((system_key, output), rows) in enumerate(DEMO_BOUNDS.items()):
        system = by_key[system_key]
        threshold = Threshold.objects.create(
            framework=framework,
            key=Threshold.free_key(framework, f"{system.key}-{output}"),
            position=index,
            ai_system=system,
            output_type=output,
            measurement_window_hours=24,
            data_source="Weekly labelled sample of 400 cases; production telemetry",
            trigger_breaches=3,
            trigger_windows=5,
        )
        bounds[(system_key, output)] = []
        for kind, name, percentile, direction, value, unit, extra in rows:
            bound = Bound(
                framework=framework,
                threshold=threshold,
                position=position,
                metric_kind=kind,
                metric_name=name,
                percentile=percentile,
                direction=direction,
                value=Decimal(value),
                unit=unit,
                **extra,
            )
            bound.key = Bound.free_key(framework, f"{threshold.key}-{name or kind}")
            bound.save()
            bounds[(system_key, output)].append(bound)
            position += 1
    return bounds


def _govern_levels(framework: Framework, bounds: dict[tuple[str, str], list[Bound]]) -> None:
    levels = {level.kind: level for level in EscalationLevel.objects.filter(framework=framework)}
    triggers = {
        LevelKind.PROMPT_OPTIMIZATION: [("support-assistant", "chat answer")],
        LevelKind.RETRIEVAL_AUGMENTATION: [
            ("support-assistant", "chat answer"),
            ("support-assistant", "summary"),
            ("document-extraction", "summary"),
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
        level.cost_ceiling = Decimal(ceiling)
        level.estimated_cost_low = level.estimated_cost_high = Decimal(delta)
        level.timeline_amount = days
        for name, value in DEMO_GOVERNANCE_DETAILS.get(kind, {}).items():
            setattr(level, name, value)
        level.save()
        for pair in triggers[LevelKind(kind)]:
            level.bounds.add(*bounds[pair])


def _describe_failure_modes(framework: Framework) -> None:
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
        failure.immediate_mitigation = DEMO_MITIGATIONS[FailureKind(failure.kind)]
        failure.long_term_fix = "Fix at the recommended level; add the cases to the test set."
        failure.save()
        _route_failure_mode(framework, failure)


# What each failure type is stopped with today, before any escalation.
DEMO_MITIGATIONS = {
    FailureKind.FACTUAL_ERROR: "Answers citing a coverage limit go to an agent before sending.",
    FailureKind.HALLUCINATION: "Reject extracted references not found in the scan; queue for a human.",
    FailureKind.FORMAT_VIOLATION: "Validate against the claims schema; retry once, then queue.",
    FailureKind.DOMAIN_MISAPPLICATION: "Block answers mixing product lines; hand over to an agent.",
    FailureKind.CONFIDENCE_MISCALIBRATION: "Suspend fast-tracking; every claim to manual triage.",
}
# The systems each failure type applies to (all when absent) and the bounds that detect it.
DEMO_APPLIES_TO = {
    FailureKind.FORMAT_VIOLATION: ["document-extraction"],
    FailureKind.CONFIDENCE_MISCALIBRATION: ["claims-triage", "document-extraction"],
}
DEMO_DETECTED_BY = {
    FailureKind.FACTUAL_ERROR: ["support-assistant-chat-answer-error-rate"],
    FailureKind.HALLUCINATION: ["document-extraction-extraction-field-accuracy"],
    FailureKind.CONFIDENCE_MISCALIBRATION: [
        "claims-triage-classification-confidence",
        "document-extraction-extraction-calibration-error-ece",
    ],
}


def _route_failure_mode(framework: Framework, failure: FailureMode) -> None:
    """A multi-step path for the failures one rung rarely fixes; applies-to and detecting bounds."""
    kind = FailureKind(failure.kind)
    if kind in {FailureKind.HALLUCINATION, FailureKind.CONFIDENCE_MISCALIBRATION}:
        first = failure.recommended_level
        later = EscalationLevel.objects.filter(framework=framework)
        if first is not None:
            later = later.filter(position__gt=first.position)
        failure.then_levels.set(later.order_by("position")[:1])
    failure.applies_to.set(
        AISystem.objects.filter(framework=framework, key__in=DEMO_APPLIES_TO.get(kind, []))
    )
    failure.detected_by.set(
        Bound.objects.filter(framework=framework, key__in=DEMO_DETECTED_BY.get(kind, []))
    )


def _create_drift_triggers(framework: Framework, systems: DemoSystems) -> None:
    support, extraction, triage = systems
    absolute, previous = DriftComparison.ABSOLUTE, DriftComparison.CHANGE_VS_PREVIOUS
    above, below = DriftOperator.ABOVE, DriftOperator.BELOW
    for position, (watched_system, metric, comparison, operator, value, days, note) in enumerate(
        [
            (support, DriftMetric.QUALITY, previous, below, "-0.05", 7, "groundedness"),
            (extraction, DriftMetric.ERROR_RATE, absolute, above, "1.5", 7, "percent of fields"),
            (
                triage,
                DriftMetric.CONFIDENCE,
                DriftComparison.CHANGE_VS_BASELINE,
                below,
                "-0.1",
                14,
                "",
            ),
            (support, DriftMetric.HUMAN_OVERRIDE_RATE, absolute, above, "0.15", 7, ""),
            (None, DriftMetric.INPUT_DRIFT_PSI, absolute, above, "0.2", 7, ""),
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
            comparison=comparison,
            operator=operator,
            value=Decimal(value),
            window=days,
            note=note,
        )
    # The vendor's model updates concern the two hosted systems, not the in-house classifier.
    hosted = [system for system in systems if system.vendor != "In-house"]
    for trigger in ExternalTrigger.objects.filter(
        framework=framework, event=ExternalEvent.FOUNDATION_MODEL_UPDATE
    ):
        trigger.ai_systems.set(hosted)


def _schedule_review_cycle(framework: Framework, engagement_end: datetime.date) -> None:
    """A monthly operational review on the first Tuesday, a quarterly framework review and an
    annual re-approval, all moved off weekends and holidays; a sunset rule for the costly
    levels."""
    start = engagement_end + datetime.timedelta(days=1)
    quarterly = engagement_end + datetime.timedelta(days=90)
    ReviewCadence.objects.filter(framework=framework).delete()  # the method's dateless one
    for position, (name, frequency, day_rule, ordinal, weekday, first) in enumerate(
        [
            (
                "Operational review",
                CadenceFrequency.MONTHLY,
                DayRule.NTH_WEEKDAY,
                Ordinal.FIRST,
                Weekday.TUESDAY,
                start,
            ),
            (
                "Framework review",
                CadenceFrequency.QUARTERLY,
                DayRule.SAME_DAY,
                None,
                None,
                quarterly,
            ),
            (
                "Annual re-approval",
                CadenceFrequency.YEARLY,
                DayRule.SAME_DAY,
                None,
                None,
                engagement_end + datetime.timedelta(days=365),
            ),
        ]
    ):
        ReviewCadence.objects.create(
            framework=framework,
            key=ReviewCadence.free_key(framework, name),
            position=position,
            name=name,
            frequency=frequency,
            day_rule=day_rule,
            ordinal=ordinal,
            weekday=weekday,
            first_date=first,
            shift=Shift.NEXT,
        )
    rule = SunsetRule.objects.create(
        framework=framework,
        key="sunset-after-90-days",
        after_days=90,
        required_improvement=Decimal("0.5"),
    )
    rule.levels.set(
        EscalationLevel.objects.filter(
            framework=framework, kind__in=[LevelKind.FINE_TUNING, LevelKind.HYBRID_ROUTING]
        )
    )
    framework.sunset_criteria = (
        "An escalation is rolled back when its system has met every threshold for two review "
        "cycles at the level below, or when its running cost exceeds the level's ceiling; it is "
        "retired when the system it serves is decommissioned."
    )
    framework.save()


def _place_on_the_ladder(framework: Framework, systems: DemoSystems) -> None:
    """Where each system stands today, what it cannot take, and the client's own skip: a
    deprecated model goes straight to replacement."""
    support, extraction, _triage = systems
    levels = {level.kind: level for level in EscalationLevel.objects.filter(framework=framework)}
    replacement = levels[LevelKind.MODEL_REPLACEMENT]
    replacement.direct_entry_when = (
        "The vendor retires the model with less than 90 days' notice: no lower rung can keep "
        "the system running."
    )
    replacement.direct_entry_approver = "AI steering committee (CTO, CRO, COO)"
    replacement.save()
    # The assistant runs on the vendor's hosted model; the client's data agreement forbids
    # training it on policyholders' chats, so fine-tuning is not an option for it.
    support.current_level = levels[LevelKind.PROMPT_OPTIMIZATION]
    support.save()
    support.unavailable_levels.set([levels[LevelKind.FINE_TUNING]])
    extraction.current_level = levels[LevelKind.RETRIEVAL_AUGMENTATION]
    extraction.save()
