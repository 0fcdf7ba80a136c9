"""The step editors' framework side: which rows each step edits, the columns its tables show and
the query that loads them. Plain data; the pages that serve the editors live in
workshops/views/steps.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet

from escalation.forms import (
    AISystemForm,
    DriftTriggerForm,
    ExternalTriggerForm,
    FailureModeForm,
    FrameworkSettingsForm,
    GovernanceLevelForm,
    ItemForm,
    LadderLevelForm,
    ReviewCycleForm,
    ScopeCreepRuleForm,
    ThresholdForm,
)
from escalation.models import (
    AISystem,
    DriftTrigger,
    EscalationLevel,
    ExternalTrigger,
    FailureMode,
    Framework,
    Threshold,
)

NOT_SET = "—"


def _money(amount: Any, currency: str) -> str:
    return f"{amount:,.0f} {currency}" if amount is not None else NOT_SET


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


def _thresholds_text(level: EscalationLevel) -> str:
    return ", ".join(str(threshold) for threshold in level.trigger_thresholds.all()) or NOT_SET


AI_SYSTEMS = Collection(
    "ai-systems",
    "ai_systems",
    "AI systems in scope",
    "AI system",
    AISystemForm,
    [
        Column("Name", lambda s: s.name),
        Column("Vendor and model", lambda s: " ".join(filter(None, [s.vendor, s.model_name]))),
        Column("Version", lambda s: s.model_version or NOT_SET),
        Column("Workflow", lambda s: s.workflow),
        Column("Business owner", lambda s: s.business_owner or NOT_SET),
        Column("Output types", lambda s: ", ".join(s.output_types) or NOT_SET),
    ],
    lambda framework: AISystem.objects.filter(framework=framework),
    delete_warning="Its thresholds and drift triggers are deleted with it.",
)
THRESHOLDS = Collection(
    "thresholds",
    "thresholds",
    "Performance thresholds",
    "threshold",
    ThresholdForm,
    [
        Column("Output type", lambda t: t.output_type or "All outputs"),
        Column("Quality floor", lambda t: f"{t.quality_metric} ≥ {t.quality_floor}"),
        Column("Error rate ≤", lambda t: f"{t.error_rate_ceiling_pct} %", numeric=True),
        Column("Latency ≤", lambda t: f"{t.latency_percentile} {t.latency_limit_ms:,} ms", True),
        Column("Throughput ≥", lambda t: f"{t.throughput_floor_rpm:,} rpm", numeric=True),
        Column("Confidence ≥", lambda t: t.confidence_minimum, numeric=True),
        Column("Trigger rule", lambda t: t.trigger_rule),
        Column("Data source", lambda t: t.data_source or NOT_SET),
    ],
    lambda framework: (
        Threshold.objects.filter(framework=framework)
        .select_related("ai_system")
        .order_by("ai_system__position", "ai_system__key", "output_type", "key")
    ),
    can_move=False,
)
FAILURE_MODES = Collection(
    "failure-modes",
    "failure_modes",
    "Failure-mode taxonomy",
    "failure type",
    FailureModeForm,
    [
        Column("Failure type", lambda f: f.name),
        Column("Severity", lambda f: f.get_severity_display()),
        Column("Detection signal", lambda f: f.detection_signal or NOT_SET),
        Column("Recommended level", lambda f: f.recommended_level or NOT_SET),
        Column("Immediate mitigation", lambda f: f.immediate_mitigation or NOT_SET),
        Column("Long-term fix", lambda f: f.long_term_fix or NOT_SET),
        Column("Resolution owner", lambda f: f.resolution_owner or NOT_SET),
    ],
    lambda framework: FailureMode.objects.filter(framework=framework).select_related(
        "recommended_level"
    ),
)


def _levels(framework: Framework) -> QuerySet[EscalationLevel]:
    return EscalationLevel.objects.filter(framework=framework).prefetch_related(
        Prefetch("trigger_thresholds", Threshold.objects.select_related("ai_system")),
        "failure_modes",
    )


LADDER = Collection(
    "levels",
    "levels",
    "Escalation ladder (bottom rung first)",
    "level",
    LadderLevelForm,
    [
        Column("Level", lambda lv: lv.name),
        Column("Trigger", lambda lv: lv.trigger or NOT_SET),
        Column("Threshold breaches leading here", _thresholds_text),
        Column(
            "Failure types leading here",
            lambda lv: ", ".join(f.name for f in lv.failure_modes.all()) or NOT_SET,
        ),
        Column("Entry criteria", lambda lv: lv.entry_criteria or NOT_SET),
        Column("Exit / success criteria", lambda lv: lv.exit_criteria or NOT_SET),
        Column("Rollback rule", lambda lv: lv.rollback_rule or NOT_SET),
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
        Column("Level", lambda lv: lv.name),
        Column(
            "Approval owner",
            lambda lv: (
                ", ".join(filter(None, [lv.approval_owner_name, lv.approval_owner_role])) or NOT_SET
            ),
        ),
        Column(
            "Approval rule",
            lambda lv: (
                lv.get_approval_rule_display()
                + (f": {lv.approval_group}" if lv.approval_group else "")
            ),
        ),
        Column("Cost ceiling", lambda lv: _money(lv.cost_ceiling, lv.currency), numeric=True),
        Column("Cost delta", lambda lv: _money(lv.estimated_cost_delta, lv.currency), numeric=True),
        Column(
            "Timeline delta",
            lambda lv: (
                f"{lv.timeline_delta_days} days" if lv.timeline_delta_days is not None else NOT_SET
            ),
            numeric=True,
        ),
    ],
    lambda framework: EscalationLevel.objects.filter(framework=framework),
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
        Column("AI system", lambda d: d.ai_system or "Every AI system"),
        Column("Metric", lambda d: d.get_metric_display()),
        Column("Change", lambda d: d.change),
        Column("Window", lambda d: f"{d.window_days} days", numeric=True),
    ],
    lambda framework: DriftTrigger.objects.filter(framework=framework).select_related("ai_system"),
)
EXTERNAL_TRIGGERS = Collection(
    "external-triggers",
    "external_triggers",
    "External trigger events",
    "external trigger",
    ExternalTriggerForm,
    [
        Column("Event", lambda e: e.get_event_display()),
        Column("Description", lambda e: e.description or NOT_SET),
        Column("What the review reconsiders", lambda e: e.response or NOT_SET),
    ],
    lambda framework: ExternalTrigger.objects.filter(framework=framework),
)

STEP_EDITORS: dict[str, StepEditor] = {
    "systems": StepEditor([AI_SYSTEMS]),
    "thresholds": StepEditor([THRESHOLDS]),
    "failure-modes": StepEditor([FAILURE_MODES]),
    "ladder": StepEditor([LADDER]),
    "governance": StepEditor([GOVERNANCE], ScopeCreepRuleForm, "Scope-creep rule"),
    "review-cycle": StepEditor(
        [DRIFT_TRIGGERS, EXTERNAL_TRIGGERS], ReviewCycleForm, "Scheduled reviews and sunset"
    ),
}
