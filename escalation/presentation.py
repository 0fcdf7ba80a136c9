"""The framework document as a stakeholder reads it: per step, items with titles, human field
names and values (level names instead of keys, choice labels instead of codes).

Pure functions over a document dict, so a frozen version renders from its snapshot alone, never
from today's tables. `escalation.diff` compares two documents through the same reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from escalation.document import GOVERNANCE_FIELDS, LADDER_FIELDS
from escalation.formatting import EMPTY, is_empty
from escalation.models import (
    ApprovalRule,
    DriftMetric,
    ExternalEvent,
    FailureKind,
    LatencyPercentile,
    LevelKind,
    ReviewFrequency,
    Severity,
)
from escalation.steps import STEPS_BY_KEY

# Human names of every field, by document collection.
FIELD_LABELS: dict[str, dict[str, str]] = {
    "framework": {"name": "Framework name"},
    "ai_systems": {
        "name": "Name",
        "vendor": "Vendor",
        "model_name": "Model",
        "model_version": "Model version",
        "workflow": "Workflow served",
        "business_owner": "Business owner",
        "output_types": "Output types",
    },
    "thresholds": {
        "ai_system": "AI system",
        "output_type": "Output type",
        "quality_metric": "Quality metric",
        "quality_floor": "Quality floor (0–100)",
        "error_rate_ceiling_pct": "Error-rate ceiling (%)",
        "latency_percentile": "Latency percentile",
        "latency_limit_ms": "Latency limit (ms)",
        "throughput_floor_rpm": "Throughput floor (requests/min)",
        "confidence_minimum": "Confidence minimum (0–1)",
        "measurement_window_hours": "Measurement window (hours)",
        "data_source": "Data source",
        "trigger_breaches": "Breaches that trigger a review",
        "trigger_windows": "Out of the last windows",
    },
    "failure_modes": {
        "name": "Name",
        "kind": "Failure type",
        "description": "Description",
        "example": "Example",
        "detection_signal": "Detection signal",
        "severity": "Severity",
        "recommended_level": "Recommended escalation level",
        "immediate_mitigation": "Immediate mitigation",
        "long_term_fix": "Long-term fix",
        "resolution_owner": "Resolution owner",
    },
    "levels": {
        "name": "Name",
        "kind": "Kind of level",
        "trigger": "Trigger",
        "trigger_thresholds": "Triggered by thresholds",
        "entry_criteria": "Entry criteria",
        "exit_criteria": "Exit criteria",
        "rollback_rule": "Rollback rule",
        "approval_owner_name": "Approval owner",
        "approval_owner_role": "Approval owner's role",
        "approval_rule": "Approval rule",
        "approval_group": "Approval group",
        "cost_ceiling": "Cost ceiling",
        "currency": "Currency",
        "estimated_cost_delta": "Estimated cost delta",
        "timeline_delta_days": "Timeline delta (days)",
    },
    "governance": {"scope_creep_rule": "Scope-creep rule"},
    "review_cycle": {
        "frequency": "Scheduled review frequency",
        "first_review_date": "First review date",
        "sunset_criteria": "Sunset criteria",
    },
    "drift_triggers": {
        "ai_system": "AI system",
        "metric": "Metric",
        "change": "Change that triggers a review",
        "window_days": "Window (days)",
    },
    "external_triggers": {
        "event": "Event",
        "description": "Description",
        "response": "What the review must reconsider",
    },
}

CHOICES: dict[tuple[str, str], dict[str, str]] = {
    ("thresholds", "latency_percentile"): dict(LatencyPercentile.choices),
    ("failure_modes", "kind"): dict(FailureKind.choices),
    ("failure_modes", "severity"): dict(Severity.choices),
    ("levels", "kind"): dict(LevelKind.choices),
    ("levels", "approval_rule"): dict(ApprovalRule.choices),
    ("review_cycle", "frequency"): dict(ReviewFrequency.choices),
    ("drift_triggers", "metric"): dict(DriftMetric.choices),
    ("external_triggers", "event"): dict(ExternalEvent.choices),
}


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
    ("thresholds", "", [Part("thresholds", _all_fields("thresholds"))]),
    ("failure-modes", "", [Part("failure_modes", _all_fields("failure_modes"))]),
    ("ladder", "", [Part("levels", tuple(LADDER_FIELDS))]),
    (
        "governance",
        "",
        [Part("levels", tuple(GOVERNANCE_FIELDS)), Part("governance", ("scope_creep_rule",))],
    ),
    (
        "review-cycle",
        "",
        [
            Part("review_cycle", ("frequency", "first_review_date", "sunset_criteria")),
            Part("drift_triggers", _all_fields("drift_triggers")),
            Part("external_triggers", _all_fields("external_triggers")),
        ],
    ),
]


def section_title(key: str, title: str) -> str:
    if title:
        return title
    step = STEPS_BY_KEY[key]
    return f"Step {step.number}: {step.title}" if step.number else step.title


def items_of(document: dict[str, Any], collection: str) -> list[dict[str, Any]]:
    """The items of a collection; the scalar parts read as one item each, so they can be
    compared and commented on like the others."""
    if collection == "framework":
        return [{"key": "name", "name": document.get("name", "")}]
    if collection == "governance":
        return [{"key": "rules", **document.get("governance", {})}]
    if collection == "review_cycle":
        cycle = document.get("review_cycle", {})
        scalars = {
            k: v for k, v in cycle.items() if k not in {"drift_triggers", "external_triggers"}
        }
        return [{"key": "schedule", **scalars}]
    if collection in {"drift_triggers", "external_triggers"}:
        return list(document.get("review_cycle", {}).get(collection, []))
    return list(document.get(collection, []))


class Reader:
    """Titles and value texts for one document (references resolve within that document)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.system_names = {s["key"]: s["name"] for s in document.get("ai_systems", [])}
        self.level_names = {lv["key"]: lv["name"] for lv in document.get("levels", [])}
        self.threshold_titles = {
            t["key"]: self._threshold_title(t) for t in document.get("thresholds", [])
        }

    def _threshold_title(self, threshold: dict[str, Any]) -> str:
        system = self.system_names.get(threshold["ai_system"], threshold["ai_system"])
        return f"{system} · {threshold['output_type'] or 'all outputs'}"

    def title(self, collection: str, item: dict[str, Any]) -> str:
        if collection == "framework":
            return "Framework name"
        if collection == "governance":
            return "Scope-creep rule"
        if collection == "review_cycle":
            return "Review schedule"
        if collection == "thresholds":
            return self._threshold_title(item)
        if collection == "drift_triggers":
            metric = CHOICES[("drift_triggers", "metric")].get(item["metric"], item["metric"])
            system = self.system_names.get(item["ai_system"] or "", "every AI system")
            return f"{metric} {item['change']} ({system})"
        if collection == "external_triggers":
            return CHOICES[("external_triggers", "event")].get(item["event"], item["event"])
        return str(item.get("name") or item["key"])

    def value(self, collection: str, field: str, value: Any) -> str:
        if is_empty(value):
            return EMPTY
        if (collection, field) in CHOICES:
            return CHOICES[(collection, field)].get(value, str(value))
        if field == "ai_system":
            return self.system_names.get(value, value)
        if field == "recommended_level":
            return self.level_names.get(value, value)
        if field == "trigger_thresholds":
            return "; ".join(self.threshold_titles.get(key, key) for key in value)
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return str(value)


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
    reader = Reader(document)
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
                        reader.value(part.collection, name, item.get(name)),
                    )
                    for name in part.fields
                ]
                items.append(
                    ReadableItem(
                        anchor, reader.title(part.collection, item), fields, anchor not in seen
                    )
                )
                seen.add(anchor)
        sections.append(ReadableSection(key, section_title(key, title), items))
    return sections


def item_anchors(document: dict[str, Any]) -> dict[str, str]:
    """Every item a comment may name in this document: anchor → title."""
    reader = Reader(document)
    return {
        f"{part.collection}/{item['key']}": reader.title(part.collection, item)
        for _key, _title, parts in SECTIONS
        for part in parts
        for item in items_of(document, part.collection)
    }
