"""Consistency checks across the five steps, and how complete each step is.

"Ready for review" means no blocking problem remains. Everything is computed from one load of the
framework's rows (a constant number of queries however large it is). What the framework needs of
its engagement (the last working day) is passed in, since this app knows nothing of engagements.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import Prefetch

from escalation import caching, formatting, schedule
from escalation.completeness import (
    has_a_way_in,
    has_approval_owner,
    is_defined,
    is_described,
    is_governed,
)
from escalation.document import item_document
from escalation.models import (
    GROUP_RULES,
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


def add_threshold_fix(system_key: str, output_type: str) -> Fix:
    """Thresholds for an output type that has none: the threshold form with the system and the
    output type filled in (the checks page and the step editors' "Add thresholds for …")."""
    return _add("thresholds", ai_system=system_key, output_type=output_type)


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
    """Every row of a framework, loaded once (twelve queries)."""

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
            # The systems with the ids of the levels not available to them (one more query).
            list(
                AISystem.objects.filter(framework=framework).prefetch_related(
                    Prefetch("unavailable_levels", EscalationLevel.objects.only("id"))
                )
            ),
            list(Threshold.objects.filter(framework=framework)),
            # The bounds with the ids of the levels they escalate to (one more query).
            list(Bound.objects.filter(framework=framework).prefetch_related("escalates_to")),
            list(
                EscalationLevel.objects.filter(framework=framework).prefetch_related(
                    Prefetch("bounds", Bound.objects.only("id", "framework_id"))
                )
            ),
            # The failure modes with their later rungs and systems (two more queries).
            list(
                FailureMode.objects.filter(framework=framework).prefetch_related(
                    Prefetch("then_levels", EscalationLevel.objects.only("id")),
                    Prefetch("applies_to", AISystem.objects.only("id")),
                )
            ),
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
    members: Collection[str] | None = None,
    holidays: Iterable[datetime.date] = (),
) -> list[Problem]:
    """Every problem across the steps, in step order. Pass `content` to reuse rows already
    loaded (the checks page shares one load with step_completion), `members` (the names and
    emails of the engagement's people) to check approver groups against them, and `holidays`
    (the engagement's) for the review dates."""
    content = content or FrameworkContent.load(framework)
    return [
        *_check_systems_and_thresholds(content),
        *_check_failure_modes(content),
        *_check_ladder(content),
        *_check_governance(content),
        *_check_approvers(content, members),
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
    problems += _check_current_levels(content)
    return problems


def _check_current_levels(content: FrameworkContent) -> list[Problem]:
    """A system cannot stand on a rung it cannot take: one of the two is wrong."""
    levels = {level.pk: level for level in content.levels}
    return [
        _blocking(
            "systems",
            f"{system.name} is recorded at “{levels[system.current_level_id].name}”, "
            "which is marked as not available to it.",
            _edit("ai-systems", system.key),
        )
        for system in content.systems
        if system.current_level_id in levels
        and any(level.pk == system.current_level_id for level in system.unavailable_levels.all())
    ]


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
    # The output type's threshold, when it has one (without a bound): the fix adds a bound to it.
    unbounded = {
        (threshold.ai_system_id, threshold.output_type): threshold.key
        for threshold in content.thresholds
        if threshold.pk not in bounded
    }
    for system in content.systems:
        if (system.pk, "") in covered:
            continue
        for output_type in system.output_types:
            if (system.pk, output_type) not in covered:
                threshold_key = unbounded.get((system.pk, output_type)) or unbounded.get(
                    (system.pk, "")
                )
                problems.append(
                    _blocking(
                        "thresholds",
                        f"The output type “{output_type}” of {system.name} has no bound.",
                        _add("bounds", threshold=threshold_key)
                        if threshold_key
                        else add_threshold_fix(system.key, output_type),
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
    problems += _check_skips(content)
    problems += _check_unavailable_routes(content)
    return problems


def _check_skips(content: FrameworkContent) -> list[Problem]:
    """A failure path that enters the ladder above its first rung skips the rungs below: the
    level it enters must say when that is allowed (and who approves it)."""
    problems = []
    levels = {level.pk: level for level in content.levels}
    first = min(content.levels, key=lambda level: (level.position, level.pk))
    for failure in content.failure_modes:
        entry = levels.get(failure.recommended_level_id or 0)
        if entry is None or entry.pk == first.pk or entry.direct_entry_when.strip():
            continue
        problems.append(
            _warning(
                "ladder",
                f"The failure type “{failure.name}” enters the ladder at “{entry.name}”, "
                f"skipping “{first.name}” below it, but “{entry.name}” states no direct entry.",
                _edit("levels", entry.key),
            )
        )
    return problems


def _check_unavailable_routes(content: FrameworkContent) -> list[Problem]:
    """A failure path or a bound that sends a system to a level not available to it. A warning,
    as a bound escalating nowhere is: the path's other rungs (or the bound's other levels) may
    still serve the system, and the response to a breach is still decided by people."""
    problems = []
    levels = {level.pk: level for level in content.levels}
    unavailable = {
        system.pk: {level.pk for level in system.unavailable_levels.all()}
        for system in content.systems
    }
    for failure in content.failure_modes:
        first = [failure.recommended_level_id] if failure.recommended_level_id else []
        path = [*first, *(level.pk for level in failure.then_levels.all())]
        concerned = {system.pk for system in failure.applies_to.all()}
        for system in content.systems:
            if concerned and system.pk not in concerned:
                continue
            for level_id in path:
                if level_id in unavailable[system.pk] and level_id in levels:
                    problems.append(
                        _warning(
                            "failure-modes",
                            f"The response path of “{failure.name}” sends {system.name} to "
                            f"“{levels[level_id].name}”, which is not available to it.",
                            _edit("failure-modes", failure.key),
                        )
                    )
    thresholds = {threshold.pk: threshold for threshold in content.thresholds}
    systems = {system.pk: system for system in content.systems}
    for bound in content.bounds:
        threshold = thresholds.get(bound.threshold_id)
        owner = systems.get(threshold.ai_system_id) if threshold else None
        if owner is None:
            continue
        for level in bound.escalates_to.all():
            if level.pk in unavailable[owner.pk]:
                problems.append(
                    _warning(
                        "thresholds",
                        f"The bound “{bound.text}” of {owner.name} escalates to "
                        f"“{level.name}”, which is not available to it.",
                        _edit("bounds", bound.key),
                    )
                )
    return problems


def _check_governance(content: FrameworkContent) -> list[Problem]:
    problems = []
    framework = content.framework
    # The highest ceiling so far per basis: a monthly running cost and a one-off budget are not
    # one scale, so each ceiling is compared with those below it on its own basis.
    highest_on: dict[str, EscalationLevel] = {}
    for level in content.levels:
        fix = _edit("levels", level.key)
        currency = level.currency_in(framework)
        problems += _check_estimate(level, currency)
        if level.kind in SINGLE_APPROVER_TOO_FEW and level.approvers_needed <= 1:
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
        highest = highest_on.get(level.cost_ceiling_basis)
        below = highest.currency_in(framework) if highest is not None else currency
        if highest is not None and currency != below:
            problems.append(
                _warning(
                    "governance",
                    f"The cost ceiling of “{level.name}” is in {currency} and that of "
                    f"“{highest.name}” below it in {below}: they cannot be compared.",
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
                    f"({formatting.money(level.cost_ceiling, currency)}) is below that of "
                    f"“{highest.name}” lower on the ladder "
                    f"({formatting.money(highest.cost_ceiling, below)}).",
                    fix,
                )
            )
            continue
        highest_on[level.cost_ceiling_basis] = level
    return problems


def _check_estimate(level: EscalationLevel, currency: str) -> list[Problem]:
    """A level's cost estimate: stated, and its high end within the ceiling of the same basis."""
    fix = _edit("levels", level.key)
    high = level.estimated_cost_high
    if level.estimated_cost_low is None or high is None:
        return [_warning("governance", f"“{level.name}” has no cost estimate.", fix)]
    if level.cost_ceiling is None:
        return []
    estimate = formatting.cost_range(level.estimated_cost_low, high, currency, level.cost_basis)
    ceiling = formatting.cost(level.cost_ceiling, currency, level.cost_ceiling_basis)
    if level.cost_basis != level.cost_ceiling_basis:
        return [
            _warning(
                "governance",
                f"The cost estimate of “{level.name}” ({estimate}) and its ceiling ({ceiling}) "
                "are on different bases: they cannot be compared.",
                fix,
            )
        ]
    if high > level.cost_ceiling:
        return [
            _warning(
                "governance",
                f"The cost estimate of “{level.name}” ({estimate}) is above its ceiling "
                f"({ceiling}).",
                fix,
            )
        ]
    return []


def _check_approvers(content: FrameworkContent, members: Collection[str] | None) -> list[Problem]:
    """An approver group that can approve: no more approvals asked than it has names, and at
    least one of them in the engagement (`members`: its people's names and emails, passed in as
    data; None when the framework stands alone, and the second rule is not checked)."""
    problems = []
    known = {member.strip().casefold() for member in members or ()}
    for level in content.levels:
        if level.approval_rule not in GROUP_RULES:
            continue
        fix = _edit("levels", level.key)
        names = level.approval_group_names
        required = level.approvals_required
        if level.approval_rule == ApprovalRule.K_OF_GROUP and required and required > len(names):
            problems.append(
                _blocking(
                    "governance",
                    f"“{level.name}” asks for {required} approvals from a group that names "
                    f"{len(names)}.",
                    fix,
                )
            )
        if members is not None and names and not any(n.casefold() in known for n in names):
            problems.append(
                _warning(
                    "governance",
                    f"The approver group of “{level.name}” ({', '.join(names)}) names nobody "
                    "in the engagement.",
                    fix,
                )
            )
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
    """How far each step is, 0–100, from its content (twelve queries, or none given `content`)."""
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


def item_counts(content: FrameworkContent) -> dict[str, int]:
    """How many items each step holds (a level counts for governance once it is governed)."""
    return {
        "systems": len(content.systems),
        "thresholds": len(content.thresholds),
        "failure-modes": len(content.failure_modes),
        "ladder": len(content.levels),
        "governance": sum(1 for level in content.levels if is_governed(level)),
        "review-cycle": len(content.cadences)
        + len(content.drift_triggers)
        + len(content.external_triggers),
    }


@dataclass(frozen=True)
class DraftReport:
    """What the pages show of the working draft's state: its problems, each step's completion
    and gaps, and how many items each step holds."""

    problems: list[Problem]
    completion: dict[str, int]
    gaps: dict[str, list[str]]
    counts: dict[str, int]


def report_on_draft(
    framework: Framework,
    engagement_end: datetime.date | None = None,
    members: Collection[str] | None = None,
    holidays: Iterable[datetime.date] = (),
) -> DraftReport:
    """`run_checks`, `step_completion`, `step_gaps` and `item_counts` of the working draft,
    computed once per content revision and inputs and kept in Django's cache: a page showing
    them costs two queries (the revision, the cache), not a load of every row. The key names
    the framework's revision (moved by every write, FrameworkRevision) and every input, so an
    entry never goes stale."""
    holidays = sorted(holidays)

    def compute() -> DraftReport:
        fresh = Framework.objects.get(pk=framework.pk)
        content = FrameworkContent.load(fresh)
        return DraftReport(
            problems=run_checks(fresh, engagement_end, content, members, holidays),
            completion=step_completion(fresh, content),
            gaps=step_gaps(fresh, content),
            counts=item_counts(content),
        )

    people = None if members is None else sorted(members)
    return caching.for_revision("report", framework, compute, engagement_end, people, holidays)
