"""The framework document as a stakeholder reads it: per step, items with titles, human field
names and values (level names instead of keys, choice labels instead of codes).

Pure functions over a document dict, so a frozen version renders from its snapshot alone, never
from today's tables. `escalation.diff` compares two documents through the same reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models

from escalation import formatting
from escalation.document import (
    AI_SYSTEM_FIELDS,
    BOUND_FIELDS,
    CADENCE_FIELDS,
    DRIFT_TRIGGER_FIELDS,
    EXTERNAL_TRIGGER_FIELDS,
    FAILURE_MODE_FIELDS,
    GOVERNANCE_FIELDS,
    LADDER_FIELDS,
    LEVEL_FIELDS,
    SUNSET_RULE_FIELDS,
    THRESHOLD_FIELDS,
    editable_fields,
    upgrade_document,
)
from escalation.formatting import EMPTY, bound_phrase, is_empty
from escalation.models import (
    AISystem,
    ApprovalRule,
    Bound,
    CadenceFrequency,
    CostBasis,
    DayRule,
    Direction,
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
    LatencyPercentile,
    LevelKind,
    MetricKind,
    Ordinal,
    ReviewCadence,
    Severity,
    Shift,
    SunsetRule,
    Threshold,
    TimelineUnit,
    Unit,
    Weekday,
    WindowUnit,
    field_label,
)
from escalation.steps import STEPS_BY_KEY


def _same(names: list[str]) -> dict[str, str]:
    return {name: name for name in editable_fields(names)}


# Which model and field each document field comes from (where the names differ, as the review
# cycle's "frequency"), so every label is the model field's verbose_name.
_SOURCES: dict[str, tuple[type[models.Model], dict[str, str]]] = {
    "framework": (Framework, {"name": "name"}),
    "ai_systems": (AISystem, _same(AI_SYSTEM_FIELDS)),
    "thresholds": (Threshold, _same(THRESHOLD_FIELDS)),
    "bounds": (Bound, _same(BOUND_FIELDS)),
    "failure_modes": (FailureMode, _same(FAILURE_MODE_FIELDS)),
    "levels": (EscalationLevel, _same(LEVEL_FIELDS)),
    "governance": (
        Framework,
        {
            "scope_creep_rule": "scope_creep_rule",
            "currency": "currency",
            "overrun_rule": "overrun_rule",
        },
    ),
    "review_cycle": (Framework, {"sunset_criteria": "sunset_criteria"}),
    "cadences": (ReviewCadence, _same(CADENCE_FIELDS)),
    "drift_triggers": (DriftTrigger, _same(DRIFT_TRIGGER_FIELDS)),
    "external_triggers": (ExternalTrigger, _same(EXTERNAL_TRIGGER_FIELDS)),
    "sunset_rules": (SunsetRule, _same(SUNSET_RULE_FIELDS)),
}

# Human names of every field, by document collection.
FIELD_LABELS: dict[str, dict[str, str]] = {
    collection: {name: field_label(model, field) for name, field in fields.items()}
    for collection, (model, fields) in _SOURCES.items()
}

CHOICES: dict[tuple[str, str], dict[Any, str]] = {
    ("bounds", "percentile"): dict(LatencyPercentile.choices),
    ("bounds", "metric_kind"): dict(MetricKind.choices),
    ("bounds", "direction"): dict(Direction.choices),
    ("bounds", "unit"): dict(Unit.choices),
    ("failure_modes", "kind"): dict(FailureKind.choices),
    ("failure_modes", "severity"): dict(Severity.choices),
    ("levels", "kind"): dict(LevelKind.choices),
    ("levels", "approval_rule"): dict(ApprovalRule.choices),
    ("levels", "cost_basis"): dict(CostBasis.choices),
    ("levels", "cost_ceiling_basis"): dict(CostBasis.choices),
    ("levels", "timeline_unit"): dict(TimelineUnit.choices),
    ("cadences", "frequency"): dict(CadenceFrequency.choices),
    ("cadences", "day_rule"): dict(DayRule.choices),
    ("cadences", "ordinal"): dict(Ordinal.choices),
    ("cadences", "weekday"): dict(Weekday.choices),
    ("cadences", "shift"): dict(Shift.choices),
    ("drift_triggers", "metric"): dict(DriftMetric.choices),
    ("drift_triggers", "comparison"): dict(DriftComparison.choices),
    ("drift_triggers", "operator"): dict(DriftOperator.choices),
    ("drift_triggers", "window_unit"): dict(WindowUnit.choices),
    ("external_triggers", "event"): dict(ExternalEvent.choices),
}


# A level's fields that, left empty, take the framework's value.
INHERITED = {"currency", "overrun_rule"}


@dataclass(frozen=True)
class Part:
    """One collection of items as one step shows it (the ladder and governance share levels)."""

    collection: str
    fields: tuple[str, ...]


def _all_fields(collection: str) -> tuple[str, ...]:
    return tuple(FIELD_LABELS[collection])


# Each section in reading order: (key, number, title, parts). The framework's own name first,
# then the method's steps as `escalation.steps` names them.
SECTIONS: list[tuple[str, str, list[Part]]] = [
    ("framework", "The framework", [Part("framework", _all_fields("framework"))]),
    ("systems", "", [Part("ai_systems", _all_fields("ai_systems"))]),
    (
        "thresholds",
        "",
        [Part("thresholds", _all_fields("thresholds")), Part("bounds", _all_fields("bounds"))],
    ),
    ("failure-modes", "", [Part("failure_modes", _all_fields("failure_modes"))]),
    ("ladder", "", [Part("levels", tuple(LADDER_FIELDS))]),
    (
        "governance",
        "",
        [
            Part("levels", tuple(GOVERNANCE_FIELDS)),
            Part("governance", ("currency", "scope_creep_rule", "overrun_rule")),
        ],
    ),
    (
        "review-cycle",
        "",
        [
            Part("cadences", _all_fields("cadences")),
            Part("drift_triggers", _all_fields("drift_triggers")),
            Part("external_triggers", _all_fields("external_triggers")),
            Part("sunset_rules", _all_fields("sunset_rules")),
            Part("review_cycle", ("sunset_criteria",)),
        ],
    ),
]


def section_title(key: str, title: str) -> str:
    if title:
        return title
    step = STEPS_BY_KEY[key]
    return f"Step {step.number}: {step.title}" if step.number else step.title


REVIEW_CYCLE_COLLECTIONS = {"cadences", "drift_triggers", "external_triggers", "sunset_rules"}


def items_of(document: dict[str, Any], collection: str) -> list[dict[str, Any]]:
    """The items of a collection; the scalar parts read as one item each, so they can be
    compared and commented on like the others."""
    if collection == "framework":
        return [{"key": "name", "name": document.get("name", "")}]
    if collection == "governance":
        return [{"key": "rules", **document.get("governance", {})}]
    if collection == "review_cycle":
        cycle = document.get("review_cycle", {})
        scalars = {k: v for k, v in cycle.items() if k not in REVIEW_CYCLE_COLLECTIONS}
        return [{"key": "schedule", **scalars}]
    if collection in REVIEW_CYCLE_COLLECTIONS:
        return list(document.get("review_cycle", {}).get(collection, []))
    return list(document.get(collection, []))


class DocumentTexts:
    """Titles and value texts for one document (references resolve within that document)."""

    def __init__(self, document: dict[str, Any]) -> None:
        document = upgrade_document(document)
        self.system_names = {s["key"]: s["name"] for s in document.get("ai_systems", [])}
        self.level_names = {lv["key"]: lv["name"] for lv in document.get("levels", [])}
        self.threshold_titles = {
            t["key"]: self._threshold_title(t) for t in document.get("thresholds", [])
        }
        self.bound_titles = {
            b["key"]: f"{self.threshold_titles.get(b['threshold'], b['threshold'])}: "
            f"{bound_phrase(b)}"
            for b in document.get("bounds", [])
        }

    def _threshold_title(self, threshold: dict[str, Any]) -> str:
        system = self.system_names.get(threshold["ai_system"], threshold["ai_system"])
        return f"{system} · {threshold['output_type'] or 'all outputs'}"

    def title(self, collection: str, item: dict[str, Any]) -> str:
        if collection == "framework":
            return FIELD_LABELS["framework"]["name"]
        if collection == "governance":
            return "Currency and governance rules"
        if collection == "review_cycle":
            return FIELD_LABELS["review_cycle"]["sunset_criteria"]
        if collection == "thresholds":
            return self._threshold_title(item)
        if collection == "bounds":
            return self.bound_titles.get(item["key"]) or bound_phrase(item)
        if collection == "drift_triggers":
            system = self.system_names.get(item["ai_system"] or "", "every AI system")
            return f"{drift_sentence(item)} ({system})"
        if collection == "sunset_rules":
            return sunset_sentence(item, self.level_names)
        if collection == "external_triggers":
            return CHOICES[("external_triggers", "event")].get(item["event"], item["event"])
        return str(item.get("name") or item["key"])

    def value(self, collection: str, field: str, value: Any) -> str:
        if collection == "levels" and field in INHERITED and is_empty(value):
            return "The framework's"
        if is_empty(value):
            return EMPTY
        if (collection, field) in CHOICES:
            return CHOICES[(collection, field)].get(value, str(value))
        if field == "ai_system":
            return self.system_names.get(value, value)
        if field in {"recommended_level", "current_level"}:
            return self.level_names.get(value, value)
        if field == "threshold":
            return self.threshold_titles.get(value, value)
        if field in {"escalates_to", "then_levels", "unavailable_levels"}:
            return ", ".join(self.level_names.get(key, key) for key in value)
        if field == "levels":
            return ", ".join(self.level_names.get(key, key) for key in value)
        if field in {"applies_to", "ai_systems"}:
            return ", ".join(self.system_names.get(key, key) for key in value)
        if field == "required_improvement":
            return formatting.fraction_as_percent(value)
        if field == "detected_by":
            return "; ".join(self.bound_titles.get(key, key) for key in value)
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return str(value)


def drift_sentence(item: dict[str, Any]) -> str:
    """A drift trigger of a document as its sentence (escalation.formatting.drift_trigger)."""
    return formatting.drift_trigger(
        metric=item.get("metric", ""),
        comparison=item.get("comparison", ""),
        operator=item.get("operator", ""),
        value=item.get("value"),
        window=item.get("window"),
        window_unit=item.get("window_unit"),
        note=item.get("note", ""),
    )


def sunset_sentence(item: dict[str, Any], level_names: dict[str, str]) -> str:
    return formatting.sunset_rule(
        level_names=[level_names.get(key, key) for key in item.get("levels", [])],
        after_days=item.get("after_days"),
        improvement=item.get("required_improvement"),
    )


def cadence_sentence(item: dict[str, Any]) -> str:
    return formatting.cadence_rule(
        frequency=item.get("frequency", ""),
        day_rule=item.get("day_rule", ""),
        ordinal=item.get("ordinal"),
        weekday=item.get("weekday"),
        day_of_month=item.get("day_of_month"),
        first_date=item.get("first_date"),
        shift=item.get("shift", ""),
    )


@dataclass(frozen=True)
class ReadableField:
    label: str
    value: str


@dataclass(frozen=True)
class ReadableItem:
    anchor: str  # "levels/fine-tuning": what comments and the audit trail name an item by
    title: str
    fields: list[ReadableField]
    first_showing: bool  # a level shows in the ladder and in governance; its thread shows once

    @property
    def element_id(self) -> str:
        return "item-" + self.anchor.replace("/", "-")


@dataclass(frozen=True)
class ReadableSection:
    key: str
    title: str
    items: list[ReadableItem]


def readable_sections(document: dict[str, Any]) -> list[ReadableSection]:
    document = upgrade_document(document)
    texts = DocumentTexts(document)
    seen: set[str] = set()
    sections = []
    for key, title, parts in SECTIONS:
        items = []
        for part in parts:
            for item in items_of(document, part.collection):
                anchor = f"{part.collection}/{item['key']}"
                fields = [
                    ReadableField(
                        FIELD_LABELS[part.collection][name],
                        texts.value(part.collection, name, item.get(name)),
                    )
                    for name in part.fields
                ]
                items.append(
                    ReadableItem(
                        anchor, texts.title(part.collection, item), fields, anchor not in seen
                    )
                )
                seen.add(anchor)
        sections.append(ReadableSection(key, section_title(key, title), items))
    return sections


def item_anchors(document: dict[str, Any]) -> dict[str, str]:
    """Every item a comment may name in this document: anchor → title."""
    document = upgrade_document(document)
    texts = DocumentTexts(document)
    return {
        f"{part.collection}/{item['key']}": texts.title(part.collection, item)
        for _key, _title, parts in SECTIONS
        for part in parts
        for item in items_of(document, part.collection)
    }
