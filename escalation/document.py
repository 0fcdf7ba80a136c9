"""The framework document: the one canonical JSON form of a whole framework.

Versions freeze it, hashes are taken over its canonical bytes, diffs compare two of them, the PDF
and the artifact pages render from it, and export / import read and write it. It is deterministic:
items are listed in ladder / display order (position, then key), keys inside objects are sorted
when serialized, decimals are strings with their fixed number of places, dates are ISO 8601.

Shape (schema_version 1):

    {
      "schema_version": 1,
      "name": "...",
      "ai_systems":     [{"key", "name", "vendor", "model_name", "model_version", "workflow",
                          "business_owner", "output_types": [...]}],
      "thresholds":     [{"key", "ai_system": <ai_system key>, "output_type", "quality_metric",
                          "quality_floor", "error_rate_ceiling_pct", "latency_percentile",
                          "latency_limit_ms", "throughput_floor_rpm", "confidence_minimum",
                          "measurement_window_hours", "data_source", "trigger_breaches",
                          "trigger_windows"}],
      "failure_modes":  [{"key", "name", "kind", "description", "example", "detection_signal",
                          "severity", "recommended_level": <level key or null>,
                          "immediate_mitigation", "long_term_fix", "resolution_owner"}],
      "levels":         [{"key", "name", "kind", "trigger", "trigger_thresholds": [<keys>],
                          "entry_criteria", "exit_criteria", "rollback_rule",
                          "approval_owner_name", "approval_owner_role", "approval_rule",
                          "approval_group", "cost_ceiling", "currency", "estimated_cost_delta",
                          "timeline_delta_days"}],
      "governance":     {"scope_creep_rule"},
      "review_cycle":   {"frequency", "first_review_date", "sunset_criteria",
                         "drift_triggers": [{"key", "ai_system", "metric", "change", "window_days"}],
                         "external_triggers": [{"key", "event", "description", "response"}]}
    }
"""

from __future__ import annotations

import datetime
import hashlib
import json
from decimal import Decimal
from typing import Any

from escalation.models import (
    AISystem,
    DriftTrigger,
    EscalationLevel,
    ExternalTrigger,
    FailureMode,
    Framework,
    Threshold,
)

SCHEMA_VERSION = 1

# The fields of each item, in document order. Foreign keys and many-to-many fields are written as
# the referenced items' keys. Import (read_document) and export (build_document) share these lists.
AI_SYSTEM_FIELDS = [
    "key",
    "name",
    "vendor",
    "model_name",
    "model_version",
    "workflow",
    "business_owner",
    "output_types",
]
THRESHOLD_FIELDS = [
    "key",
    "ai_system",
    "output_type",
    "quality_metric",
    "quality_floor",
    "error_rate_ceiling_pct",
    "latency_percentile",
    "latency_limit_ms",
    "throughput_floor_rpm",
    "confidence_minimum",
    "measurement_window_hours",
    "data_source",
    "trigger_breaches",
    "trigger_windows",
]
FAILURE_MODE_FIELDS = [
    "key",
    "name",
    "kind",
    "description",
    "example",
    "detection_signal",
    "severity",
    "recommended_level",
    "immediate_mitigation",
    "long_term_fix",
    "resolution_owner",
]
LEVEL_FIELDS = [
    "key",
    "name",
    "kind",
    "trigger",
    "trigger_thresholds",
    "entry_criteria",
    "exit_criteria",
    "rollback_rule",
    "approval_owner_name",
    "approval_owner_role",
    "approval_rule",
    "approval_group",
    "cost_ceiling",
    "currency",
    "estimated_cost_delta",
    "timeline_delta_days",
]
DRIFT_TRIGGER_FIELDS = ["key", "ai_system", "metric", "change", "window_days"]
EXTERNAL_TRIGGER_FIELDS = ["key", "event", "description", "response"]


def _plain(value: Any) -> Any:
    """A model value as JSON: decimals as strings (exact), dates as ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, list):
        return list(value)
    return value


def _item(instance: Any, fields: list[str], references: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for name in fields:
        if name in references:
            item[name] = references[name](instance)
        else:
            item[name] = _plain(getattr(instance, name))
    return item


def _key_of(related: Any) -> str | None:
    return related.key if related is not None else None


def build_document(framework: Framework) -> dict[str, Any]:
    """The framework's current content as a document (a constant number of queries)."""
    ai_systems = list(AISystem.objects.filter(framework=framework).order_by("position", "key"))
    thresholds = list(
        Threshold.objects.filter(framework=framework)
        .select_related("ai_system")
        .order_by("ai_system__position", "ai_system__key", "output_type", "key")
    )
    levels = list(
        EscalationLevel.objects.filter(framework=framework)
        .prefetch_related("trigger_thresholds")
        .order_by("position", "key")
    )
    failure_modes = list(
        FailureMode.objects.filter(framework=framework)
        .select_related("recommended_level")
        .order_by("position", "key")
    )
    drift_triggers = list(
        DriftTrigger.objects.filter(framework=framework)
        .select_related("ai_system")
        .order_by("position", "key")
    )
    external_triggers = list(
        ExternalTrigger.objects.filter(framework=framework).order_by("position", "key")
    )
    return {
        "schema_version": SCHEMA_VERSION,
        "name": framework.name,
        "ai_systems": [_item(system, AI_SYSTEM_FIELDS, {}) for system in ai_systems],
        "thresholds": [
            _item(t, THRESHOLD_FIELDS, {"ai_system": lambda t: t.ai_system.key}) for t in thresholds
        ],
        "failure_modes": [
            _item(
                f,
                FAILURE_MODE_FIELDS,
                {"recommended_level": lambda f: _key_of(f.recommended_level)},
            )
            for f in failure_modes
        ],
        "levels": [
            _item(
                level,
                LEVEL_FIELDS,
                {
                    "trigger_thresholds": lambda lv: sorted(
                        t.key for t in lv.trigger_thresholds.all()
                    )
                },
            )
            for level in levels
        ],
        "governance": {"scope_creep_rule": framework.scope_creep_rule},
        "review_cycle": {
            "frequency": framework.review_frequency,
            "first_review_date": _plain(framework.first_review_date),
            "sunset_criteria": framework.sunset_criteria,
            "drift_triggers": [
                _item(d, DRIFT_TRIGGER_FIELDS, {"ai_system": lambda d: _key_of(d.ai_system)})
                for d in drift_triggers
            ],
            "external_triggers": [_item(e, EXTERNAL_TRIGGER_FIELDS, {}) for e in external_triggers],
        },
    }


def canonical_bytes(document: dict[str, Any]) -> bytes:
    """The bytes a version's hash is taken over: sorted keys, no whitespace, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def document_sha256(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(document)).hexdigest()


def export_text(document: dict[str, Any]) -> str:
    """The portable file form: the same content, indented for people, ending in a newline."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
