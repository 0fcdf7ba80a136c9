"""A framework copied for the next review cycle.

Every copied item keeps its key and stores its document form from the source in `carried_over`,
so the step pages can show what changed against the previous cycle.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from escalation.document import build_document
from escalation.models import (
    AISystem,
    Bound,
    DriftTrigger,
    EscalationLevel,
    ExternalTrigger,
    FailureMode,
    Framework,
    ReviewCadence,
    SunsetRule,
    Threshold,
)

# Fields that are identity or bookkeeping of a row, never content to copy.
_NOT_COPIED = {"id", "framework", "row_version", "carried_over", "updated_at"}


def _content(item: Any, **replaced: Any) -> dict[str, Any]:
    values = {
        field.name: getattr(item, field.attname)
        for field in item._meta.concrete_fields
        if field.name not in _NOT_COPIED and not field.is_relation
    }
    values.update(replaced)
    return values


def _by_key(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {entry["key"]: entry for entry in entries}


@transaction.atomic  # a half-copied framework would silently lose part of the previous cycle
def copy_framework(source: Framework, name: str | None = None) -> Framework:
    """A new framework with every item of `source`, each marked as carried over."""
    document = build_document(source)
    framework = Framework.objects.create(
        name=name or source.name,
        scope_creep_rule=source.scope_creep_rule,
        sunset_criteria=source.sunset_criteria,
        currency=source.currency,
        overrun_rule=source.overrun_rule,
    )

    carried = _by_key(document["ai_systems"])
    # Keyed by old id; an unset reference (None) finds nothing and stays unset in the copy.
    systems: dict[int | None, AISystem] = {
        old.pk: AISystem.objects.create(
            framework=framework, carried_over=carried[old.key], **_content(old)
        )
        for old in AISystem.objects.filter(framework=source)
    }

    carried = _by_key(document["thresholds"])
    thresholds = {
        old.pk: Threshold.objects.create(
            framework=framework,
            ai_system=systems[old.ai_system_id],
            carried_over=carried[old.key],
            **_content(old),
        )
        for old in Threshold.objects.filter(framework=source)
    }

    carried = _by_key(document["levels"])
    levels: dict[int | None, EscalationLevel] = {}
    for old in EscalationLevel.objects.filter(framework=source):
        levels[old.pk] = EscalationLevel.objects.create(
            framework=framework, carried_over=carried[old.key], **_content(old)
        )

    _copy_ladder_state(source, systems, levels)
    _copy_bounds(source, framework, document, thresholds, levels)
    _copy_failure_modes(source, framework, document, systems, levels)
    _copy_review_triggers(source, framework, document, systems)
    _copy_review_schedule(source, framework, document, levels)
    return framework


def _copy_bounds(
    source: Framework,
    framework: Framework,
    document: dict[str, Any],
    thresholds: dict[int, Threshold],
    levels: dict[int | None, EscalationLevel],
) -> None:
    carried = _by_key(document["bounds"])
    for old_bound in Bound.objects.filter(framework=source).prefetch_related("escalates_to"):
        bound = Bound.objects.create(
            framework=framework,
            threshold=thresholds[old_bound.threshold_id],
            carried_over=carried[old_bound.key],
            **_content(old_bound),
        )
        bound.escalates_to.set([levels[level.pk] for level in old_bound.escalates_to.all()])


def _copy_failure_modes(
    source: Framework,
    framework: Framework,
    document: dict[str, Any],
    systems: dict[int | None, AISystem],
    levels: dict[int | None, EscalationLevel],
) -> None:
    """Failure modes, after the bounds: a mode's detecting bounds are found by key in the copy."""
    carried = _by_key(document["failure_modes"])
    bounds = {bound.key: bound for bound in Bound.objects.filter(framework=framework)}
    for old_mode in FailureMode.objects.filter(framework=source).prefetch_related(
        "then_levels", "applies_to", "detected_by"
    ):
        mode = FailureMode.objects.create(
            framework=framework,
            recommended_level=levels.get(old_mode.recommended_level_id),
            carried_over=carried[old_mode.key],
            **_content(old_mode),
        )
        mode.then_levels.set([levels[level.pk] for level in old_mode.then_levels.all()])
        mode.applies_to.set([systems[system.pk] for system in old_mode.applies_to.all()])
        mode.detected_by.set([bounds[bound.key] for bound in old_mode.detected_by.all()])


def _copy_review_triggers(
    source: Framework,
    framework: Framework,
    document: dict[str, Any],
    systems: dict[int | None, AISystem],
) -> None:
    carried = _by_key(document["review_cycle"]["drift_triggers"])
    DriftTrigger.objects.bulk_create(
        DriftTrigger(
            framework=framework,
            ai_system=systems.get(old.ai_system_id),
            carried_over=carried[old.key],
            **_content(old),
        )
        for old in DriftTrigger.objects.filter(framework=source)
    )

    carried = _by_key(document["review_cycle"]["external_triggers"])
    for old_trigger in ExternalTrigger.objects.filter(framework=source).prefetch_related(
        "ai_systems"
    ):
        trigger = ExternalTrigger.objects.create(
            framework=framework, carried_over=carried[old_trigger.key], **_content(old_trigger)
        )
        trigger.ai_systems.set([systems[system.pk] for system in old_trigger.ai_systems.all()])


def _copy_review_schedule(
    source: Framework,
    framework: Framework,
    document: dict[str, Any],
    levels: dict[int | None, EscalationLevel],
) -> None:
    carried = _by_key(document["review_cycle"]["cadences"])
    ReviewCadence.objects.bulk_create(
        ReviewCadence(framework=framework, carried_over=carried[old.key], **_content(old))
        for old in ReviewCadence.objects.filter(framework=source)
    )
    carried = _by_key(document["review_cycle"]["sunset_rules"])
    for old_rule in SunsetRule.objects.filter(framework=source).prefetch_related("levels"):
        rule = SunsetRule.objects.create(
            framework=framework, carried_over=carried[old_rule.key], **_content(old_rule)
        )
        rule.levels.set([levels[level.pk] for level in old_rule.levels.all()])


def _copy_ladder_state(
    source: Framework,
    systems: dict[int | None, AISystem],
    levels: dict[int | None, EscalationLevel],
) -> None:
    """Where each system stands on the ladder and the rungs it cannot take, once the copy's
    levels exist (the systems are copied before them)."""
    for old in AISystem.objects.filter(framework=source).prefetch_related("unavailable_levels"):
        system = systems[old.pk]
        if old.current_level_id is not None:
            system.current_level = levels[old.current_level_id]
            system.save(update_fields=["current_level"])
        system.unavailable_levels.set([levels[level.pk] for level in old.unavailable_levels.all()])
