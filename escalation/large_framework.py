"""A large generated framework for `make bench` and for tests that need volume: hundreds of rows,
bulk-inserted, consistent but not realistic."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils.text import slugify

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
    SunsetRule,
    Threshold,
)


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
    created_systems = _systems(framework, systems, outputs_per_system)
    thresholds = _thresholds(framework, created_systems, outputs_per_system)
    created_levels = _levels_with_triggers(framework, thresholds, levels)
    _failure_modes(framework, created_levels, failure_modes)
    _triggers_and_schedule(framework, created_systems, drift_triggers)
    _ladder_state(framework, created_systems, created_levels)


def _systems(framework: Framework, systems: int, outputs_per_system: int) -> list[AISystem]:
    return AISystem.objects.bulk_create(
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


def _thresholds(
    framework: Framework, created_systems: list[AISystem], outputs_per_system: int
) -> list[Threshold]:
    return Threshold.objects.bulk_create(
        Threshold(
            framework=framework,
            key=f"{system.key}-output-{o}",
            position=index * outputs_per_system + o,
            ai_system=system,
            output_type=f"output-{o}",
            data_source="Telemetry",
        )
        for index, system in enumerate(created_systems)
        for o in range(outputs_per_system)
    )


def _levels_with_triggers(
    framework: Framework, thresholds: list[Threshold], levels: int
) -> list[EscalationLevel]:
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
            estimated_cost_low=Decimal(5_000 * (number + 1)),
            estimated_cost_high=Decimal(7_500 * (number + 1)),
            timeline_amount=5 * (number + 1),
        )
        for number in range(levels)
    )
    # Several bounds per threshold, as a real register has: a ratio floor, an error ceiling in
    # percent and a latency limit.
    bounds = Bound.objects.bulk_create(
        Bound(
            framework=framework,
            threshold=threshold,
            key=f"{threshold.key}-{kind}",
            position=i * len(LARGE_BOUNDS) + b,
            metric_kind=kind,
            metric_name=name,
            percentile=percentile,
            direction=direction,
            value=Decimal(value),
            unit=unit,
        )
        for i, threshold in enumerate(thresholds)
        for b, (kind, name, percentile, direction, value, unit) in enumerate(LARGE_BOUNDS)
    )
    Link = Bound.escalates_to.through
    Link.objects.bulk_create(
        # A threshold's bounds lead to one level, thresholds spread over the ladder in turn.
        Link(
            bound_id=bound.pk,
            escalationlevel_id=created_levels[(i // len(LARGE_BOUNDS)) % levels].pk,
        )
        for i, bound in enumerate(bounds)
    )
    return created_levels


LARGE_BOUNDS = [
    ("quality", "accuracy", "", "at_least", "0.8000", "ratio"),
    ("error_rate", "", "", "at_most", "5", "percent"),
    ("latency", "", "p95", "at_most", "1500", "ms"),
]


def _failure_modes(
    framework: Framework, created_levels: list[EscalationLevel], failure_modes: int
) -> None:
    levels = len(created_levels)
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


def _triggers_and_schedule(
    framework: Framework, created_systems: list[AISystem], drift_triggers: int
) -> None:
    systems = len(created_systems)
    DriftTrigger.objects.bulk_create(
        DriftTrigger(
            framework=framework,
            key=f"drift-{number:03d}",
            position=number,
            ai_system=created_systems[number % systems],
            metric=list(DriftMetric)[number % len(DriftMetric)],
            comparison=DriftComparison.CHANGE_VS_PREVIOUS,
            operator=DriftOperator.ABOVE,
            value=Decimal("0.1"),
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
    ReviewCadence.objects.bulk_create(
        ReviewCadence(
            framework=framework,
            key=slugify(name),
            position=position,
            name=name,
            frequency=frequency,
            first_date=datetime.date(2027, 3, 1),
        )
        for position, (name, frequency) in enumerate(
            [
                ("Operational review", CadenceFrequency.MONTHLY),
                ("Framework review", CadenceFrequency.QUARTERLY),
                ("Annual re-approval", CadenceFrequency.YEARLY),
            ]
        )
    )
    rule = SunsetRule.objects.create(
        framework=framework, key="sunset", after_days=90, required_improvement=Decimal("0.5")
    )
    rule.levels.set(EscalationLevel.objects.filter(framework=framework)[:2])
    framework.sunset_criteria = "Roll back when thresholds hold for two cycles."
    framework.save()


def _ladder_state(
    framework: Framework, created_systems: list[AISystem], created_levels: list[EscalationLevel]
) -> None:
    """Every rung above the first may be entered directly; the systems stand on the rungs in
    turn (every fourth not escalated), and every third cannot take the top rung."""
    EscalationLevel.objects.filter(framework=framework, position__gt=0).update(
        direct_entry_when="A failure type that maps here", direct_entry_approver="Director"
    )
    levels = len(created_levels)
    for number, system in enumerate(created_systems):
        system.current_level = None if number % 4 == 0 else created_levels[number % levels]
    AISystem.objects.bulk_update(created_systems, ["current_level"])
    Unavailable = AISystem.unavailable_levels.through
    Unavailable.objects.bulk_create(
        Unavailable(aisystem_id=system.pk, escalationlevel_id=created_levels[-1].pk)
        for number, system in enumerate(created_systems)
        if number % 3 == 0 and levels > 1
    )
