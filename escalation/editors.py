"""The step editors' framework side: which rows each step edits, the columns its tables show and
the query that loads them. Plain data; the pages that serve the editors live in
workshops/views/steps.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet

from escalation import formatting
from escalation.forms import (
    AISystemForm,
    BoundForm,
    DriftTriggerForm,
    ExternalTriggerForm,
    FailureModeForm,
    FrameworkSettingsForm,
    GovernanceLevelForm,
    GovernanceRulesForm,
    ItemForm,
    LadderLevelForm,
    ReviewCadenceForm,
    ReviewCycleForm,
    SunsetRuleForm,
    ThresholdForm,
)
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
    field_label,
)

NOT_SET = formatting.EMPTY


@dataclass(frozen=True)
class Column:
    heading: str
    value: Callable[[Any], Any]
    numeric: bool = False


@dataclass(frozen=True)
class Collection:
    """One kind of row a step edits, and how its table shows it."""

    name: str  # URL segment
    document_name: str  # the framework document's collection (and the audit item prefix)
    title: str
    singular: str
    form_class: type[ItemForm]
    columns: list[Column]
    rows: Callable[[Framework], QuerySet[Any]]
    can_add: bool = True
    can_delete: bool = True
    can_move: bool = True
    hint: str = ""
    delete_warning: str = ""  # what else goes or changes when a row is deleted


@dataclass(frozen=True)
class StepEditor:
    collections: list[Collection]
    settings_form: type[FrameworkSettingsForm] | None = None
    settings_title: str = ""


def _bounds_text(level: EscalationLevel) -> str:
    return "; ".join(f"{b.threshold}: {b.text}" for b in level.bounds.all()) or NOT_SET


def _response_path(failure: FailureMode) -> str:
    """ "Few-shot enrichment → Fine-tuning": the first rung, then the later ones."""
    first = [failure.recommended_level] if failure.recommended_level else []
    return " → ".join(level.name for level in [*first, *failure.then_levels.all()]) or NOT_SET


AI_SYSTEMS = Collection(
    "ai-systems",
    "ai_systems",
    "AI systems in scope",
    "AI system",
    AISystemForm,
    [
        Column(field_label(AISystem, "name"), lambda s: s.name),
        Column("Vendor and model", lambda s: " ".join(filter(None, [s.vendor, s.model_name]))),
        Column(field_label(AISystem, "model_version"), lambda s: s.model_version or NOT_SET),
        Column(field_label(AISystem, "workflow"), lambda s: s.workflow),
        Column(field_label(AISystem, "business_owner"), lambda s: s.business_owner or NOT_SET),
        Column(
            field_label(AISystem, "output_types"), lambda s: ", ".join(s.output_types) or NOT_SET
        ),
        Column(
            field_label(AISystem, "current_level"),
            lambda s: s.current_level.name if s.current_level else "Not escalated",
        ),
        Column(
            field_label(AISystem, "unavailable_levels"),
            lambda s: ", ".join(level.name for level in s.unavailable_levels.all()) or NOT_SET,
        ),
    ],
    lambda framework: (
        AISystem.objects.filter(framework=framework)
        .select_related("current_level")
        .prefetch_related("unavailable_levels")
    ),
    delete_warning="Its thresholds and drift triggers are deleted with it.",
)
THRESHOLDS = Collection(
    "thresholds",
    "thresholds",
    "Performance thresholds",
    "threshold",
    ThresholdForm,
    [
        Column(field_label(Threshold, "output_type"), lambda t: t.output_type or "All outputs"),
        Column(
            "Bounds",
            lambda t: "; ".join(bound.text for bound in t.bounds.all()) or NOT_SET,
        ),
        Column("Trigger rule", lambda t: t.trigger_rule),
        Column(field_label(Threshold, "data_source"), lambda t: t.data_source or NOT_SET),
    ],
    lambda framework: (
        Threshold.objects.filter(framework=framework)
        .select_related("ai_system")
        .prefetch_related("bounds")
        .order_by("ai_system__position", "ai_system__key", "output_type", "key")
    ),
    can_move=False,
    delete_warning="Its bounds are deleted with it.",
)


def _bound_trigger(bound: Bound) -> str:
    threshold = bound.threshold
    return formatting.trigger_rule(
        bound.trigger_breaches or threshold.trigger_breaches,
        bound.trigger_windows or threshold.trigger_windows,
        bound.window_hours or threshold.measurement_window_hours,
    )


BOUNDS = Collection(
    "bounds",
    "bounds",
    "Bounds (one row each: metric, direction, value and unit)",
    "bound",
    BoundForm,
    [
        Column(field_label(Bound, "threshold"), lambda b: b.threshold),
        Column("Bound", lambda b: b.text),
        Column(field_label(Bound, "error_definition"), lambda b: b.error_definition or NOT_SET),
        Column("Trigger rule", _bound_trigger),
        Column(
            field_label(Bound, "immediate_breach_value"),
            lambda b: formatting.or_empty(
                None
                if b.immediate_breach_value is None
                else formatting.number(b.immediate_breach_value)
            ),
            numeric=True,
        ),
        Column(
            field_label(Bound, "baseline_value"),
            lambda b: formatting.or_empty(
                None if b.baseline_value is None else formatting.number(b.baseline_value)
            ),
            numeric=True,
        ),
        Column(
            field_label(Bound, "escalates_to"),
            lambda b: ", ".join(level.name for level in b.escalates_to.all()) or NOT_SET,
        ),
    ],
    lambda framework: (
        Bound.objects.filter(framework=framework)
        .select_related("threshold__ai_system")
        .prefetch_related("escalates_to")
    ),
    hint="A bound that is not set is not printed: add only the bounds the client has set.",
)
FAILURE_MODES = Collection(
    "failure-modes",
    "failure_modes",
    "Failure-mode taxonomy",
    "failure type",
    FailureModeForm,
    [
        Column(field_label(FailureMode, "name"), lambda f: f.name),
        Column(field_label(FailureMode, "severity"), lambda f: f.get_severity_display()),
        Column(
            field_label(FailureMode, "detection_signal"), lambda f: f.detection_signal or NOT_SET
        ),
        Column("Response path", _response_path),
        Column(
            field_label(FailureMode, "applies_to"),
            lambda f: ", ".join(s.name for s in f.applies_to.all()) or "Every AI system",
        ),
        Column(
            field_label(FailureMode, "immediate_mitigation"),
            lambda f: f.immediate_mitigation or NOT_SET,
        ),
        Column(field_label(FailureMode, "long_term_fix"), lambda f: f.long_term_fix or NOT_SET),
        Column(
            field_label(FailureMode, "resolution_owner"), lambda f: f.resolution_owner or NOT_SET
        ),
    ],
    lambda framework: (
        FailureMode.objects.filter(framework=framework)
        .select_related("recommended_level")
        .prefetch_related("then_levels", "applies_to")
    ),
)


def _entry(level: EscalationLevel) -> str:
    """The entry criteria, then when the level may be entered directly (a line of its own)."""
    direct = formatting.direct_entry(level.direct_entry_when, level.direct_entry_approver)
    return (level.entry_criteria or NOT_SET) + (f"\n\nDirect entry: {direct}" if direct else "")


# What a level's row prints of each bound leading to it: "System · output: the bound".
BOUND_TEXT_FIELDS = [
    "threshold__output_type",
    "threshold__ai_system__name",
    *["metric_kind", "metric_name", "percentile", "direction", "value", "unit"],
    *["counted_thing", "scale_max"],
]


def _levels(framework: Framework) -> QuerySet[EscalationLevel]:
    # Only the columns printed: a level of a large framework is reached from dozens of bounds.
    bounds = Bound.objects.select_related("threshold__ai_system").only(*BOUND_TEXT_FIELDS)
    return EscalationLevel.objects.filter(framework=framework).prefetch_related(
        Prefetch("bounds", bounds),
        Prefetch("failure_modes", FailureMode.objects.only("name", "recommended_level")),
    )


LADDER = Collection(
    "levels",
    "levels",
    "Escalation ladder (bottom rung first)",
    "level",
    LadderLevelForm,
    [
        Column(field_label(EscalationLevel, "name"), lambda lv: lv.name),
        Column(field_label(EscalationLevel, "trigger"), lambda lv: lv.trigger or NOT_SET),
        Column("Bounds whose breach leads here", _bounds_text),
        Column(
            "Failure types leading here",
            lambda lv: ", ".join(f.name for f in lv.failure_modes.all()) or NOT_SET,
        ),
        Column("Entry criteria and direct entry", _entry),
        Column(
            field_label(EscalationLevel, "exit_criteria"), lambda lv: lv.exit_criteria or NOT_SET
        ),
        Column(
            field_label(EscalationLevel, "rollback_rule"), lambda lv: lv.rollback_rule or NOT_SET
        ),
    ],
    _levels,
    delete_warning="Failure types that recommend it will map to no level.",
)
GOVERNANCE = Collection(
    "levels",
    "levels",
    "Approval and cost per level",
    "level",
    GovernanceLevelForm,
    [
        Column(field_label(EscalationLevel, "name"), lambda lv: lv.name),
        Column(
            "Approval owner",
            lambda lv: formatting.approval_owner(lv.approval_owner_name, lv.approval_owner_role),
        ),
        Column(
            field_label(EscalationLevel, "approval_rule"),
            lambda lv: formatting.approval_rule(
                lv.approval_rule, lv.approval_group, lv.approvals_required
            ),
        ),
        Column(
            "Deputy",
            lambda lv: formatting.deputy(lv.deputy_name, lv.deputy_role) or NOT_SET,
        ),
        Column(
            field_label(EscalationLevel, "cost_ceiling"),
            lambda lv: formatting.cost(
                lv.cost_ceiling, lv.currency_in(lv.framework), lv.cost_ceiling_basis
            ),
            numeric=True,
        ),
        Column(
            "Estimated cost",
            lambda lv: formatting.cost_range(
                lv.estimated_cost_low,
                lv.estimated_cost_high,
                lv.currency_in(lv.framework),
                lv.cost_basis,
            ),
            numeric=True,
        ),
        Column(
            field_label(EscalationLevel, "timeline_amount"),
            lambda lv: formatting.timeline(lv.timeline_amount, lv.timeline_unit),
            numeric=True,
        ),
        Column(
            field_label(EscalationLevel, "overrun_rule"),
            lambda lv: lv.overrun_rule or "The framework's",
        ),
    ],
    # The framework rides along: a level's currency may be the framework's.
    lambda framework: EscalationLevel.objects.filter(framework=framework).select_related(
        "framework"
    ),
    can_add=False,
    can_delete=False,
    can_move=False,
    hint="Levels are added, removed and reordered on the escalation ladder step.",
)
DRIFT_TRIGGERS = Collection(
    "drift-triggers",
    "drift_triggers",
    "Drift and alert triggers",
    "drift trigger",
    DriftTriggerForm,
    [
        Column(field_label(DriftTrigger, "ai_system"), lambda d: d.ai_system or "Every AI system"),
        Column("Trigger", lambda d: d.sentence),
    ],
    lambda framework: DriftTrigger.objects.filter(framework=framework).select_related("ai_system"),
    hint="Each trigger is data a program can evaluate: metric, comparison, operator, value and "
    "window. One kept from free text says “needs a value” until it is given one.",
)
EXTERNAL_TRIGGERS = Collection(
    "external-triggers",
    "external_triggers",
    "External trigger events",
    "external trigger",
    ExternalTriggerForm,
    [
        Column(field_label(ExternalTrigger, "event"), lambda e: e.get_event_display()),
        Column(
            field_label(ExternalTrigger, "ai_systems"),
            lambda e: ", ".join(s.name for s in e.ai_systems.all()) or "Every AI system",
        ),
        Column(field_label(ExternalTrigger, "description"), lambda e: e.description or NOT_SET),
        Column(field_label(ExternalTrigger, "response"), lambda e: e.response or NOT_SET),
    ],
    lambda framework: ExternalTrigger.objects.filter(framework=framework).prefetch_related(
        "ai_systems"
    ),
)


def _cadence_rule(cadence: ReviewCadence) -> str:
    return formatting.cadence_rule(
        frequency=cadence.frequency,
        day_rule=cadence.day_rule,
        ordinal=cadence.ordinal,
        weekday=cadence.weekday,
        day_of_month=cadence.day_of_month,
        first_date=cadence.first_date,
        shift=cadence.shift,
    )


CADENCES = Collection(
    "cadences",
    "cadences",
    "Scheduled reviews",
    "review cadence",
    ReviewCadenceForm,
    [
        Column(field_label(ReviewCadence, "name"), lambda c: c.name),
        Column("Schedule", _cadence_rule),
    ],
    lambda framework: ReviewCadence.objects.filter(framework=framework),
    hint="E.g. a monthly operational review on the first Tuesday, a quarterly framework review "
    "and an annual re-approval. The next dates are listed below the table.",
)
SUNSET_RULES = Collection(
    "sunset-rules",
    "sunset_rules",
    "Sunset rules",
    "sunset rule",
    SunsetRuleForm,
    [
        Column(
            "Rule",
            lambda r: formatting.sunset_rule(
                level_names=[level.name for level in r.levels.all()],
                after_days=r.after_days,
                improvement=r.required_improvement,
            ),
        ),
    ],
    lambda framework: SunsetRule.objects.filter(framework=framework).prefetch_related("levels"),
)

STEP_EDITORS: dict[str, StepEditor] = {
    "systems": StepEditor([AI_SYSTEMS]),
    "thresholds": StepEditor([THRESHOLDS, BOUNDS]),
    "failure-modes": StepEditor([FAILURE_MODES]),
    "ladder": StepEditor([LADDER]),
    "governance": StepEditor([GOVERNANCE], GovernanceRulesForm, "Currency and governance rules"),
    "review-cycle": StepEditor(
        [CADENCES, DRIFT_TRIGGERS, EXTERNAL_TRIGGERS, SUNSET_RULES],
        ReviewCycleForm,
        "Sunset criteria (in words)",
    ),
}
