"""Consistency checks across the five steps, and how complete each step is.

"Ready for review" means no blocking problem remains. Everything is computed from one load of the
framework's rows (a constant number of queries however large it is). What the framework needs of
its engagement (the last working day) is passed in, since this app knows nothing of engagements.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import Prefetch

from escalation import formatting, schedule
from escalation.completeness import (
    has_a_way_in,
    has_approval_owner,
    is_defined,
    is_described,
    is_governed,
)
from escalation.document import item_document
from escalation.models import (
    AISystem,
    ApprovalRule,
    Bound,
    DriftTrigger,
    EscalationLevel,
    ExternalEvent,
    ExternalTrigger,
    FailureKind,
    FailureMode,
    Framework,
    LevelKind,
    ReviewCadence,
    Severity,
    Shift,
    SunsetRule,
    Threshold,
    field_label,
)

# Levels whose cost and risk call for more than one approver.
SINGLE_APPROVER_TOO_FEW = {LevelKind.FINE_TUNING, LevelKind.MODEL_REPLACEMENT}


class ProblemSeverity(models.TextChoices):
    BLOCKING = "blocking", "Blocking"
    WARNING = "warning", "Warning"


@dataclass(frozen=True)
class Fix:
    """Where a problem is fixed in its step's editor: a new row of `collection`, prefilled with
    `prefill`, or its row `item_key`. The engagement's pages turn this into a link."""

    collection: str  # a Collection.name of escalation.editors
    item_key: str = ""
    prefill: tuple[tuple[str, str], ...] = ()


def _add(collection: str, **prefill: str) -> Fix:
    return Fix(collection, prefill=tuple(prefill.items()))


def _edit(collection: str, item_key: str) -> Fix:
    return Fix(collection, item_key)


@dataclass(frozen=True)
class Problem:
    severity: str  # ProblemSeverity
    step: str  # a key of escalation.steps.STEPS
    message: str
    fix: Fix | None = None  # None: the step as a whole (a setting, or nothing to open)

    @property
    def blocking(self) -> bool:
        return self.severity == ProblemSeverity.BLOCKING


@dataclass
class FrameworkContent:
    """Every row of a framework, loaded once (nine queries)."""

    framework: Framework
    systems: list[AISystem]
    thresholds: list[Threshold]
    bounds: list[Bound]
    levels: list[EscalationLevel]
    failure_modes: list[FailureMode]
    drift_triggers: list[DriftTrigger]
    external_triggers: list[ExternalTrigger]
    cadences: list[ReviewCadence] = field(default_factory=list)
    sunset_rules: list[SunsetRule] = field(default_factory=list)

    @classmethod
    def load(cls, framework: Framework) -> FrameworkContent:
        return cls(
            framework,
            list(AISystem.objects.filter(framework=framework)),
            list(Threshold.objects.filter(framework=framework)),
            # The bounds with the ids of the levels they escalate to (one more query).
            list(Bound.objects.filter(framework=framework).prefetch_related("escalates_to")),
            list(
                EscalationLevel.objects.filter(framework=framework).prefetch_related(
                    Prefetch("bounds", Bound.objects.only("id", "framework_id"))
                )
            ),
            list(FailureMode.objects.filter(framework=framework)),
            list(DriftTrigger.objects.filter(framework=framework)),
            # With the ids of the AI systems each names (one more query).
            list(
                ExternalTrigger.objects.filter(framework=framework).prefetch_related(
                    Prefetch("ai_systems", AISystem.objects.only("id"))
                )
            ),
            list(ReviewCadence.objects.filter(framework=framework)),
            list(SunsetRule.objects.filter(framework=framework)),
        )


def _blocking(step: str, message: str, fix: Fix | None = None) -> Problem:
    return Problem(ProblemSeverity.BLOCKING, step, message, fix)


def _warning(step: str, message: str, fix: Fix | None = None) -> Problem:
    return Problem(ProblemSeverity.WARNING, step, message, fix)


def run_checks(
    framework: Framework,
    engagement_end: datetime.date | None = None,
    content: FrameworkContent | None = None,
    holidays: Iterable[datetime.date] = (),
) -> list[Problem]:
    """Every problem across the steps, in step order. Pass `content` to reuse rows already
    loaded (the checks page shares one load with step_completion); `holidays` are the
    engagement's, for the review dates."""
    content = content or FrameworkContent.load(framework)
    return [
        *_check_systems_and_thresholds(content),
        *_check_failure_modes(content),
        *_check_ladder(content),
        *_check_governance(content),
        *_check_review_cycle(content, engagement_end, list(holidays)),
    ]


def is_ready_for_review(problems: list[Problem]) -> bool:
    return not any(problem.blocking for problem in problems)


def _check_systems_and_thresholds(content: FrameworkContent) -> list[Problem]:
    problems = []
    if not content.systems:
        problems.append(_blocking("systems", "No AI system is in scope yet.", _add("ai-systems")))
    systems = {system.pk: system for system in content.systems}
    with_thresholds = {threshold.ai_system_id for threshold in content.thresholds}
    for system in content.systems:
        if system.pk not in with_thresholds:
            problems.append(
                _blocking(
                    "thresholds",
                    f"{system.name} has no performance thresholds.",
                    _add("thresholds", ai_system=system.key),
                )
            )
    problems += _check_bounds(content)
    for threshold in content.thresholds:
        threshold_system = systems.get(threshold.ai_system_id)
        if threshold_system is None:
            problems.append(
                _blocking(
                    "thresholds",
                    f"Threshold {threshold.key} belongs to an AI system outside this framework.",
                    _edit("thresholds", threshold.key),
                )
            )
        elif threshold.output_type and threshold.output_type not in threshold_system.output_types:
            problems.append(
                _blocking(
                    "thresholds",
                    f"A threshold of {threshold_system.name} names the output type "
                    f"“{threshold.output_type}”, which the system does not list.",
                    _edit("thresholds", threshold.key),
                )
            )
    return problems


def _check_bounds(content: FrameworkContent) -> list[Problem]:
    """Every output type has at least one bound, and every bound escalates somewhere."""
    problems = []
    thresholds = {threshold.pk: threshold for threshold in content.thresholds}
    bounded = {bound.threshold_id for bound in content.bounds}
    # (system, output type) pairs with a bound; "" stands for all of a system's outputs.
    covered = {
        (threshold.ai_system_id, threshold.output_type)
        for threshold in content.thresholds
        if threshold.pk in bounded
    }
    for system in content.systems:
        if (system.pk, "") in covered:
            continue
        for output_type in system.output_types:
            if (system.pk, output_type) not in covered:
                problems.append(
                    _blocking(
                        "thresholds",
                        f"The output type “{output_type}” of {system.name} has no bound.",
                        _add("bounds"),
                    )
                )
    level_ids = {level.pk for level in content.levels}
    for bound in content.bounds:
        if any(level.pk not in level_ids for level in bound.escalates_to.all()):
            problems.append(
                _blocking(
                    "thresholds",
                    f"The bound “{bound.text}” escalates to a level outside this framework.",
                    _edit("bounds", bound.key),
                )
            )
        if not bound.escalates_to.all():
            threshold = thresholds.get(bound.threshold_id)
            owner = next(
                (s for s in content.systems if threshold and s.pk == threshold.ai_system_id), None
            )
            where = (
                f"{owner.name} · {threshold.output_type or 'all outputs'}"
                if owner and threshold
                else bound.key
            )
            problems.append(
                _warning(
                    "thresholds",
                    f"The bound “{bound.text}” of {where} escalates to no level.",
                    _edit("bounds", bound.key),
                )
            )
    return problems


def _check_failure_modes(content: FrameworkContent) -> list[Problem]:
    problems = []
    level_ids = {level.pk for level in content.levels}
    present = {failure.kind for failure in content.failure_modes}
    for kind in FailureKind:
        if kind != FailureKind.CUSTOM and kind not in present:
            problems.append(
                _warning(
                    "failure-modes",
                    f"The standard failure type “{kind.label}” is not in the taxonomy.",
                    _add("failure-modes"),
                )
            )
    for failure in content.failure_modes:
        fix = _edit("failure-modes", failure.key)
        if failure.severity == Severity.CRITICAL and not failure.immediate_mitigation.strip():
            problems.append(
                _blocking(
                    "failure-modes",
                    f"The critical failure type “{failure.name}” has no immediate mitigation.",
                    fix,
                )
            )
        missing = [
            label
            for label, value in [
                ("resolution owner", failure.resolution_owner),
                ("immediate mitigation", failure.immediate_mitigation),
                ("long-term fix", failure.long_term_fix),
            ]
            if not value.strip()
            and not (label == "immediate mitigation" and failure.severity == Severity.CRITICAL)
        ]
        if missing:
            problems.append(
                _warning(
                    "failure-modes",
                    f"The failure type “{failure.name}” has no {' and no '.join(missing)}.",
                    fix,
                )
            )
        if failure.recommended_level_id is None:
            problems.append(
                _blocking(
                    "failure-modes",
                    f"The failure type “{failure.name}” maps to no escalation level.",
                    _edit("failure-modes", failure.key),
                )
            )
        elif failure.recommended_level_id not in level_ids:
            problems.append(
                _blocking(
                    "failure-modes",
                    f"The failure type “{failure.name}” maps to a level outside this framework.",
                    _edit("failure-modes", failure.key),
                )
            )
    return problems


def _check_ladder(content: FrameworkContent) -> list[Problem]:
    if not content.levels:
        return [_blocking("ladder", "The escalation ladder has no levels.", _add("levels"))]
    problems = []
    mapped_levels = {failure.recommended_level_id for failure in content.failure_modes}
    for level in content.levels:
        if not level.entry_criteria.strip():
            problems.append(
                _warning(
                    "ladder",
                    f"“{level.name}” states no entry criteria.",
                    _edit("levels", level.key),
                )
            )
        if not has_a_way_in(level) and level.pk not in mapped_levels:
            problems.append(
                _warning(
                    "ladder",
                    f"Nothing leads to “{level.name}”: give it a trigger, a bound or a "
                    "failure type.",
                    _edit("levels", level.key),
                )
            )
    return problems


def _check_governance(content: FrameworkContent) -> list[Problem]:
    problems = []
    highest: EscalationLevel | None = None
    for level in content.levels:
        fix = _edit("levels", level.key)
        money = formatting.money
        if level.estimated_cost_delta is None:
            problems.append(_warning("governance", f"“{level.name}” has no cost estimate.", fix))
        elif level.cost_ceiling is not None and level.estimated_cost_delta > level.cost_ceiling:
            problems.append(
                _warning(
                    "governance",
                    f"The cost estimate of “{level.name}” "
                    f"({money(level.estimated_cost_delta, level.currency)}) is above its ceiling "
                    f"({money(level.cost_ceiling, level.currency)}).",
                    fix,
                )
            )
        if level.kind in SINGLE_APPROVER_TOO_FEW and level.approval_rule == ApprovalRule.SINGLE:
            problems.append(
                _warning(
                    "governance",
                    f"“{level.name}” is approved by a single person: {level.get_kind_display()} "
                    "usually needs a group.",
                    fix,
                )
            )
        if not has_approval_owner(level):
            problems.append(_blocking("governance", f"“{level.name}” has no approval owner.", fix))
        if level.cost_ceiling is None:
            problems.append(_blocking("governance", f"“{level.name}” has no cost ceiling.", fix))
            continue
        if highest is not None and level.currency != highest.currency:
            problems.append(
                _warning(
                    "governance",
                    f"The cost ceiling of “{level.name}” is in {level.currency} and that of "
                    f"“{highest.name}” below it in {highest.currency}: they cannot be compared.",
                    fix,
                )
            )
        elif (
            highest is not None
            and highest.cost_ceiling is not None
            and level.cost_ceiling < highest.cost_ceiling
        ):
            problems.append(
                _warning(
                    "governance",
                    f"The cost ceiling of “{level.name}” "
                    f"({formatting.money(level.cost_ceiling, level.currency)}) is below that of "
                    f"“{highest.name}” lower on the ladder "
                    f"({formatting.money(highest.cost_ceiling, highest.currency)}).",
                    fix,
                )
            )
            continue
        highest = level
    return problems


def _check_review_cycle(
    content: FrameworkContent, engagement_end: datetime.date | None, holidays: list[datetime.date]
) -> list[Problem]:
    framework = content.framework
    problems = _check_review_dates(content, engagement_end)
    problems += _check_review_triggers(content)
    problems += _check_drift_coverage(content)
    problems += _check_vendor_triggers(content)
    problems += _check_text_drift_triggers(content)
    problems += _check_review_days_off(content, holidays)
    if not framework.sunset_criteria.strip() and not content.sunset_rules:
        problems.append(_warning("review-cycle", "No sunset criteria are written."))
    return problems


def _check_review_dates(
    content: FrameworkContent, engagement_end: datetime.date | None
) -> list[Problem]:
    problems = []
    if not content.cadences:
        problems.append(
            _blocking("review-cycle", "No scheduled review cadence is set.", _add("cadences"))
        )
    for cadence in content.cadences:
        first = cadence.first_date
        if first is None:
            problems.append(
                _blocking(
                    "review-cycle",
                    f"The review cadence “{cadence.name}” has no first date.",
                    _edit("cadences", cadence.key),
                )
            )
        elif engagement_end is not None and first <= engagement_end:
            problems.append(
                _blocking(
                    "review-cycle",
                    f"The review cadence “{cadence.name}” starts ({formatting.date(first)}) "
                    f"before the engagement ends ({formatting.date(engagement_end)}).",
                    _edit("cadences", cadence.key),
                )
            )
    return problems


def _check_review_triggers(content: FrameworkContent) -> list[Problem]:
    problems = []
    systems = {system.pk for system in content.systems}
    for trigger in content.drift_triggers:
        if trigger.ai_system_id is not None and trigger.ai_system_id not in systems:
            problems.append(
                _blocking(
                    "review-cycle",
                    f"Drift trigger {trigger.key} names an AI system outside this framework.",
                    _edit("drift-triggers", trigger.key),
                )
            )
    if not content.drift_triggers:
        problems.append(
            _warning(
                "review-cycle", "No drift or alert trigger is defined.", _add("drift-triggers")
            )
        )
    if not content.external_triggers:
        problems.append(
            _warning(
                "review-cycle", "No external trigger event is defined.", _add("external-triggers")
            )
        )
    return problems


def _check_drift_coverage(content: FrameworkContent) -> list[Problem]:
    """Every AI system is watched by a drift trigger of its own or one for every system."""
    watched = {trigger.ai_system_id for trigger in content.drift_triggers}
    if not content.drift_triggers or None in watched:
        return []  # none at all is said once, above
    return [
        _warning(
            "review-cycle",
            f"{system.name} has no drift trigger.",
            _add("drift-triggers", ai_system=system.key),
        )
        for system in content.systems
        if system.pk not in watched
    ]


MODEL_CHANGE_EVENTS = {ExternalEvent.FOUNDATION_MODEL_UPDATE, ExternalEvent.MODEL_DEPRECATION}


def _check_vendor_triggers(content: FrameworkContent) -> list[Problem]:
    """A vendor-hosted system (one with a vendor that is not "in-house") is covered by a
    model-update or deprecation trigger naming it, or naming no system (every system)."""
    covering = [t for t in content.external_triggers if t.event in MODEL_CHANGE_EVENTS]
    covers_all = any(not trigger.ai_systems.all() for trigger in covering)
    named = {system.pk for trigger in covering for system in trigger.ai_systems.all()}
    return [
        _warning(
            "review-cycle",
            f"{system.name} is hosted by {system.vendor}, but no model-update or deprecation "
            "trigger covers it.",
            _add("external-triggers"),
        )
        for system in content.systems
        if system.vendor.strip()
        and system.vendor.strip().lower() != "in-house"
        and not covers_all
        and system.pk not in named
    ]


def _check_text_drift_triggers(content: FrameworkContent) -> list[Problem]:
    """A drift trigger kept from free text has no value: no program can evaluate it."""
    return [
        _warning(
            "review-cycle",
            f"The drift trigger “{trigger.note}” is text only: give it a comparison, operator "
            "and value.",
            _edit("drift-triggers", trigger.key),
        )
        for trigger in content.drift_triggers
        if trigger.needs_value
    ]


def _check_review_days_off(
    content: FrameworkContent, holidays: list[datetime.date]
) -> list[Problem]:
    """Review dates on a weekend or holiday: possible only for a cadence not moved off them."""
    problems = []
    for cadence in content.cadences:
        if cadence.shift != Shift.NONE:
            continue
        off = schedule.off_days(item_document("cadences", cadence), holidays)
        if off:
            listed = ", ".join(f"{formatting.date(day)} ({day:%A})" for day in off)
            problems.append(
                _warning(
                    "review-cycle",
                    f"The review cadence “{cadence.name}” falls on days off: {listed}.",
                    _edit("cadences", cadence.key),
                )
            )
    return problems


def _percent(done: int, total: int) -> int:
    return round(100 * done / total) if total else 0


def step_completion(
    framework: Framework, content: FrameworkContent | None = None
) -> dict[str, int]:
    """How far each step is, 0–100, from its content (nine queries, or none given `content`)."""
    content = content or FrameworkContent.load(framework)
    systems, levels = content.systems, content.levels
    with_thresholds = {threshold.ai_system_id for threshold in content.thresholds}
    mapped = sum(1 for failure in content.failure_modes if failure.recommended_level_id)
    review_parts: list[Any] = [
        content.cadences and all(cadence.first_date for cadence in content.cadences),
        framework.sunset_criteria.strip() or content.sunset_rules,
        content.drift_triggers,
        content.external_triggers,
    ]
    return {
        "systems": _percent(sum(1 for system in systems if is_described(system)), len(systems)),
        "thresholds": _percent(sum(1 for s in systems if s.pk in with_thresholds), len(systems)),
        "failure-modes": _percent(mapped, max(len(content.failure_modes), 5)),
        "ladder": _percent(sum(1 for level in levels if is_defined(level)), len(levels)),
        "governance": _percent(sum(1 for level in levels if is_governed(level)), len(levels)),
        "review-cycle": _percent(sum(1 for part in review_parts if part), len(review_parts)),
    }


def _lacking(name: str, parts: dict[str, Any]) -> list[str]:
    missing = [label for label, value in parts.items() if not value]
    return [f"{name}: no {' and no '.join(missing)}."] if missing else []


def _label(model: type[models.Model], field: str) -> str:
    return field_label(model, field).lower()


def _system_gaps(content: FrameworkContent) -> dict[str, list[str]]:
    """Steps 1 and 2: systems not yet described, systems without thresholds."""
    systems = content.systems
    with_thresholds = {threshold.ai_system_id for threshold in content.thresholds}
    return {
        "systems": [
            gap
            for s in systems
            if not is_described(s)
            for gap in _lacking(
                s.name,
                {
                    _label(AISystem, "workflow"): s.workflow,
                    _label(AISystem, "business_owner"): s.business_owner,
                    _label(AISystem, "output_types"): s.output_types,
                },
            )
        ]
        or ([] if systems else ["No AI system yet."]),
        "thresholds": [
            f"{s.name} has no thresholds yet." for s in systems if s.pk not in with_thresholds
        ]
        or ([] if systems else ["Add the AI systems in scope first."]),
    }


def _level_gaps(content: FrameworkContent) -> dict[str, list[str]]:
    """The ladder and its governance: levels not yet defined, levels not yet governed."""
    levels = content.levels
    return {
        "ladder": [
            gap
            for level in levels
            if not is_defined(level)
            for gap in _lacking(
                level.name,
                {
                    _label(EscalationLevel, "trigger"): has_a_way_in(level),
                    _label(EscalationLevel, "entry_criteria"): level.entry_criteria.strip(),
                    _label(EscalationLevel, "exit_criteria"): level.exit_criteria.strip(),
                },
            )
        ]
        or ([] if levels else ["No level yet."]),
        "governance": [
            gap
            for level in levels
            if not is_governed(level)
            for gap in _lacking(
                level.name,
                {
                    _label(EscalationLevel, "approval_owner_name"): has_approval_owner(level),
                    _label(EscalationLevel, "cost_ceiling"): level.cost_ceiling is not None,
                },
            )
        ]
        or ([] if levels else ["Add the levels of the ladder first."]),
    }


def step_gaps(
    framework: Framework, content: FrameworkContent | None = None
) -> dict[str, list[str]]:
    """What keeps each step under 100 %, in words: the rows `step_completion` does not count
    (the rules of escalation/completeness.py), each naming its empty fields by their labels."""
    content = content or FrameworkContent.load(framework)
    failure_modes = [
        f"{failure.name} has no recommended level."
        for failure in content.failure_modes
        if not failure.recommended_level_id
    ]
    if len(content.failure_modes) < 5:
        failure_modes.insert(
            0, f"Describe at least five failure modes ({len(content.failure_modes)} so far)."
        )
    systems = _system_gaps(content)
    levels = _level_gaps(content)
    return {
        "systems": systems["systems"],
        "thresholds": systems["thresholds"],
        "failure-modes": failure_modes,
        "ladder": levels["ladder"],
        "governance": levels["governance"],
        "review-cycle": _lacking(
            "The review cycle",
            {
                "review cadence with a first date": content.cadences
                and all(cadence.first_date for cadence in content.cadences),
                _label(Framework, "sunset_criteria"): framework.sunset_criteria.strip()
                or content.sunset_rules,
                "drift trigger": content.drift_triggers,
                "external trigger": content.external_triggers,
            },
        ),
    }
