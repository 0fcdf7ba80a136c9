"""The framework document: the one canonical JSON form of a whole framework.

Versions freeze it, hashes are taken over its canonical bytes, diffs compare two of them, the PDF
and the artifact pages render from it, and export / import read and write it. It is deterministic:
items are listed in ladder / display order (position, then key), keys inside objects are sorted
when serialized, decimals are strings with their fixed number of places, dates are ISO 8601.

Reading a document back (`read_document`, strict: checked whole, refused with every problem named
by its place, or written in one transaction) is in `escalation.document_reader`.

Shape: schema_version 2, documented field by field, with a complete example, in
docs/framework-document.md. Version 1 documents (fixed bounds on each threshold) are still read:
`upgrade_document` turns them into version 2 without loss wherever a document is read, so frozen v1
versions keep their stored bytes and hash.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch

from escalation import caching
from escalation.models import (
    DEFAULT_CURRENCY,
    DEFAULT_OVERRUN_RULE,
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

SCHEMA_VERSION = 2

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
    "current_level",
    "unavailable_levels",
]
THRESHOLD_FIELDS = [
    "key",
    "ai_system",
    "output_type",
    "measurement_window_hours",
    "data_source",
    "trigger_breaches",
    "trigger_windows",
]
BOUND_FIELDS = [
    "key",
    "threshold",
    "metric_kind",
    "metric_name",
    "error_definition",
    "percentile",
    "direction",
    "value",
    "unit",
    "counted_thing",
    "scale_max",
    "window_hours",
    "trigger_breaches",
    "trigger_windows",
    "immediate_breach_value",
    "baseline_value",
    "minimum_sample_size",
    "data_source",
    "escalates_to",
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
    "then_levels",
    "applies_to",
    "detected_by",
    "immediate_mitigation",
    "long_term_fix",
    "resolution_owner",
]
# A level's fields as the two steps that edit it split them: the ladder (step 3) and governance
# (step 4). The step forms and the printed sections use these same lists.
LADDER_FIELDS = [
    "name",
    "kind",
    "trigger",
    "entry_criteria",
    "exit_criteria",
    "rollback_rule",
    "direct_entry_when",
    "direct_entry_approver",
]
GOVERNANCE_FIELDS = [
    "approval_owner_name",
    "approval_owner_role",
    "approval_rule",
    "approval_group",
    "approvals_required",
    "deputy_name",
    "deputy_role",
    "currency",
    "cost_ceiling",
    "cost_ceiling_basis",
    "estimated_cost_low",
    "estimated_cost_high",
    "cost_basis",
    "timeline_amount",
    "timeline_unit",
    "overrun_rule",
]
LEVEL_FIELDS = ["key", *LADDER_FIELDS, *GOVERNANCE_FIELDS]
DRIFT_TRIGGER_FIELDS = [
    "key",
    "ai_system",
    "metric",
    "comparison",
    "operator",
    "value",
    "window",
    "window_unit",
    "note",
]
EXTERNAL_TRIGGER_FIELDS = ["key", "event", "ai_systems", "description", "response"]
CADENCE_FIELDS = [
    "key",
    "name",
    "frequency",
    "day_rule",
    "ordinal",
    "weekday",
    "day_of_month",
    "first_date",
    "shift",
]
SUNSET_RULE_FIELDS = ["key", "levels", "after_days", "required_improvement"]


def editable_fields(document_fields: list[str]) -> list[str]:
    """The fields a person edits: the document's, less the key (made from them, never typed)."""
    return [field for field in document_fields if field != "key"]


def _plain(value: Any) -> Any:
    """A model value as JSON: decimals as strings (exact), dates as ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, list):
        return list(value)
    return value


def _key_of(related: Any) -> str | None:
    return related.key if related is not None else None


# Per collection: the model, its document fields, and how its references are written (as keys).
COLLECTIONS: dict[str, tuple[type[Any], list[str], dict[str, Callable[[Any], Any]]]] = {
    "ai_systems": (
        AISystem,
        AI_SYSTEM_FIELDS,
        {
            "current_level": lambda s: _key_of(s.current_level),
            "unavailable_levels": lambda s: [level.key for level in s.unavailable_levels.all()],
        },
    ),
    "thresholds": (Threshold, THRESHOLD_FIELDS, {"ai_system": lambda t: t.ai_system.key}),
    "bounds": (
        Bound,
        BOUND_FIELDS,
        {
            "threshold": lambda b: b.threshold.key,
            "escalates_to": lambda b: [level.key for level in b.escalates_to.all()],
        },
    ),
    "failure_modes": (
        FailureMode,
        FAILURE_MODE_FIELDS,
        {
            "recommended_level": lambda f: _key_of(f.recommended_level),
            "then_levels": lambda f: [level.key for level in f.then_levels.all()],
            "applies_to": lambda f: [system.key for system in f.applies_to.all()],
            "detected_by": lambda f: sorted(bound.key for bound in f.detected_by.all()),
        },
    ),
    "levels": (EscalationLevel, LEVEL_FIELDS, {}),
    "drift_triggers": (
        DriftTrigger,
        DRIFT_TRIGGER_FIELDS,
        {"ai_system": lambda d: _key_of(d.ai_system)},
    ),
    "external_triggers": (
        ExternalTrigger,
        EXTERNAL_TRIGGER_FIELDS,
        {"ai_systems": lambda e: [system.key for system in e.ai_systems.all()]},
    ),
    "cadences": (ReviewCadence, CADENCE_FIELDS, {}),
    "sunset_rules": (
        SunsetRule,
        SUNSET_RULE_FIELDS,
        {"levels": lambda r: [level.key for level in r.levels.all()]},
    ),
}


def item_document(collection: str, instance: Any) -> dict[str, Any]:
    """One item's document form: what versions, diffs and the carried-over marks compare."""
    _model, fields, references = COLLECTIONS[collection]
    item: dict[str, Any] = {}
    for name in fields:
        if name in references:
            item[name] = references[name](instance)
        else:
            item[name] = _plain(getattr(instance, name))
    return item


def build_document(framework: Framework, *, working_days: int | None = None) -> dict[str, Any]:
    """The framework's current content as a document (a constant number of queries).

    `working_days` is the engagement's working length, passed in as data (this app knows nothing
    of engagements), so importing the document elsewhere keeps its plan."""
    ai_systems = list(
        AISystem.objects.filter(framework=framework)
        .select_related("current_level")
        .prefetch_related(
            Prefetch("unavailable_levels", EscalationLevel.objects.order_by("position", "key"))
        )
        .order_by("position", "key")
    )
    thresholds = list(
        Threshold.objects.filter(framework=framework)
        .select_related("ai_system")
        .order_by("ai_system__position", "ai_system__key", "output_type", "key")
    )
    bounds = list(
        Bound.objects.filter(framework=framework)
        .select_related("threshold")
        .prefetch_related(Prefetch("escalates_to", EscalationLevel.objects.order_by("position")))
        .order_by("threshold_id", "position", "key")
    )
    # Bounds follow their thresholds' order, then their own.
    threshold_order = {threshold.pk: index for index, threshold in enumerate(thresholds)}
    bounds.sort(key=lambda b: (threshold_order[b.threshold_id], b.position, b.key))
    levels = list(EscalationLevel.objects.filter(framework=framework).order_by("position", "key"))
    failure_modes = list(
        FailureMode.objects.filter(framework=framework)
        .select_related("recommended_level")
        .prefetch_related(
            Prefetch("then_levels", EscalationLevel.objects.order_by("position", "key")),
            Prefetch("applies_to", AISystem.objects.order_by("position", "key")),
            "detected_by",
        )
        .order_by("position", "key")
    )
    drift_triggers = list(
        DriftTrigger.objects.filter(framework=framework)
        .select_related("ai_system")
        .order_by("position", "key")
    )
    external_triggers = list(
        ExternalTrigger.objects.filter(framework=framework)
        .prefetch_related(Prefetch("ai_systems", AISystem.objects.order_by("position", "key")))
        .order_by("position", "key")
    )
    cadences = list(ReviewCadence.objects.filter(framework=framework).order_by("position", "key"))
    sunset_rules = list(
        SunsetRule.objects.filter(framework=framework)
        .prefetch_related(Prefetch("levels", EscalationLevel.objects.order_by("position", "key")))
        .order_by("position", "key")
    )
    return {
        "schema_version": SCHEMA_VERSION,
        "name": framework.name,
        "working_days": working_days,
        "ai_systems": [item_document("ai_systems", system) for system in ai_systems],
        "thresholds": [item_document("thresholds", t) for t in thresholds],
        "bounds": [item_document("bounds", b) for b in bounds],
        "failure_modes": [item_document("failure_modes", f) for f in failure_modes],
        "levels": [item_document("levels", level) for level in levels],
        "governance": {
            "scope_creep_rule": framework.scope_creep_rule,
            "currency": framework.currency,
            "overrun_rule": framework.overrun_rule,
        },
        "review_cycle": {
            "cadences": [item_document("cadences", cadence) for cadence in cadences],
            "sunset_criteria": framework.sunset_criteria,
            "sunset_rules": [item_document("sunset_rules", rule) for rule in sunset_rules],
            "drift_triggers": [item_document("drift_triggers", d) for d in drift_triggers],
            "external_triggers": [item_document("external_triggers", e) for e in external_triggers],
        },
    }


# Version 1 kept five fixed bounds on every threshold; version 2 keeps any number as rows of their
# own. Each v1 column becomes one bound (all five were required, so every one was set), in this
# order: (column, bound key suffix, metric kind, direction, unit, extra fields).
V1_BOUND_COLUMNS: list[tuple[str, str, str, str, str, dict[str, Any]]] = [
    ("quality_floor", "quality", "quality", "at_least", "score", {"scale_max": "100.00"}),
    ("error_rate_ceiling_pct", "error-rate", "error_rate", "at_most", "percent", {}),
    ("latency_limit_ms", "latency", "latency", "at_most", "ms", {}),
    ("throughput_floor_rpm", "throughput", "throughput", "at_least", "per_minute", {}),
    ("confidence_minimum", "confidence", "confidence", "at_least", "ratio", {}),
]
V1_THRESHOLD_ONLY = {"quality_metric", "latency_percentile"} | {c[0] for c in V1_BOUND_COLUMNS}
BOUND_PLACES = Decimal("0.000001")


def _bound_value(value: Any) -> Any:
    """A v1 number as a v2 bound value (six places, as the database returns it); anything that is
    not a number passes through, for the v2 checks to name."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return value
    try:
        return str(Decimal(str(value)).quantize(BOUND_PLACES))
    except ArithmeticError:
        return value


def _v1_bounds(threshold: dict[str, Any], escalates_to: list[str]) -> list[dict[str, Any]]:
    bounds = []
    for column, suffix, kind, direction, unit, extra in V1_BOUND_COLUMNS:
        if column not in threshold:
            continue
        bound: dict[str, Any] = dict.fromkeys(BOUND_FIELDS, "")
        bound.update(
            {
                "key": f"{str(threshold.get('key'))[:66]}-{suffix}",
                "threshold": threshold.get("key"),
                "metric_kind": kind,
                "metric_name": threshold.get("quality_metric", "") if kind == "quality" else "",
                "percentile": threshold.get("latency_percentile", "") if kind == "latency" else "",
                "direction": direction,
                "value": _bound_value(threshold[column]),
                "unit": unit,
                "counted_thing": "requests" if unit == "per_minute" else "",
                "scale_max": None,
                "window_hours": None,
                "trigger_breaches": None,
                "trigger_windows": None,
                "immediate_breach_value": None,
                "baseline_value": None,
                "minimum_sample_size": None,
                "escalates_to": escalates_to,
                **extra,
            }
        )
        bounds.append(bound)
    return bounds


# Keys added to schema 2 after versions were frozen with it: optional when read, each read as
# the value its absence meant. Collection → {key: default}.
OPTIONAL_ITEM_KEYS: dict[str, dict[str, Any]] = {
    "ai_systems": {"current_level": None, "unavailable_levels": []},
    "levels": {
        "direct_entry_when": "",
        "direct_entry_approver": "",
        # The governance keys (November 2026); the currency and ranges are worked out from the
        # level by _upgrade_governance.
        "approvals_required": None,
        "deputy_name": "",
        "deputy_role": "",
        "cost_ceiling_basis": "one_off",
        "cost_basis": "one_off",
        "timeline_unit": "working_days",
        "overrun_rule": "",
    },
}


def _with_optional_keys(document: Any) -> Any:
    """A v2 document with every optional key its items lack set to its default (a copy; the
    document itself is returned when nothing is missing, as most are)."""
    if not isinstance(document, dict) or document.get("schema_version") != SCHEMA_VERSION:
        return document
    filled = None
    for collection, defaults in OPTIONAL_ITEM_KEYS.items():
        items = document.get(collection)
        if not isinstance(items, list) or all(
            not isinstance(item, dict) or defaults.keys() <= item.keys() for item in items
        ):
            continue
        filled = filled or dict(document)
        filled[collection] = [
            {**copy.deepcopy(defaults), **item} if isinstance(item, dict) else item
            for item in items
        ]
    return filled or document


def _framework_currency(levels: list[Any]) -> str:
    """The currency most levels use (ties: the lowest rung's); EUR for a ladder without one."""
    codes = [
        level["currency"]
        for level in levels
        if isinstance(level, dict) and isinstance(level.get("currency"), str) and level["currency"]
    ]
    if not codes:
        return DEFAULT_CURRENCY
    return max(codes, key=lambda code: (codes.count(code), -codes.index(code)))


def _upgrade_governance(document: dict[str, Any]) -> dict[str, Any]:
    """A version 2 document from before the governance keys, read with them and without loss:
    the framework takes the currency its levels share (or most use), and those levels inherit it;
    a single cost estimate is a one-off range whose ends agree; a timeline in days is working
    days (the defaults of OPTIONAL_ITEM_KEYS, applied last). A document that has the keys passes
    through unchanged."""
    governance = document.get("governance", {})
    levels = document.get("levels", [])
    if not isinstance(governance, dict) or "currency" in governance or not isinstance(levels, list):
        return document
    currency = _framework_currency(levels)
    upgraded_levels = []
    for level in levels:
        if isinstance(level, dict) and "estimated_cost_low" not in level:
            level = dict(level)
            estimate = level.pop("estimated_cost_delta", None)
            level["estimated_cost_low"] = level["estimated_cost_high"] = estimate
            level["timeline_amount"] = level.pop("timeline_delta_days", None)
            if level.get("currency") == currency:
                level["currency"] = ""
        upgraded_levels.append(level)
    return {
        **document,
        "governance": {**governance, "currency": currency, "overrun_rule": DEFAULT_OVERRUN_RULE},
        "levels": upgraded_levels,
    }


def upgrade_document(document: Any) -> Any:
    """Any stored or uploaded document in the current schema, without loss: every reader (pages,
    artifacts, diff, PDF, export, import) goes through here, so frozen v1 versions keep their
    stored document and hash and still read as v2, and a v2 document written before a key was
    added (the ladder's direct entries, the governance's ranges and currencies, the review
    cycle's cadences, structured drift triggers and sunset rules) reads with it. Anything else is
    returned as is, for the checks to name."""
    if not isinstance(document, dict) or type(document.get("schema_version")) is not int:
        return document  # True == 1; refuse it as v2 would
    if document["schema_version"] == 1:
        document = _upgrade_v1(document)
    elif document["schema_version"] != SCHEMA_VERSION:
        return document
    return _with_optional_keys(_upgrade_review_cycle(_upgrade_governance(document)))


# Before the cadences, a framework had one review frequency; its dates kept the first date's day
# and were not moved off weekends, so the cadence it becomes says the same.
V1_FREQUENCIES = {
    "monthly": "monthly",
    "quarterly": "quarterly",
    "semiannual": "half_yearly",
    "annual": "yearly",
}
UPGRADED_CADENCE_NAME = "Framework review"


def _upgraded_drift_trigger(trigger: Any) -> Any:
    """A drift trigger written as free text (`change`, `window_days`): its text becomes the note,
    with no comparison, operator or value, which a check names until someone sets them."""
    if not isinstance(trigger, dict) or "change" not in trigger:
        return trigger
    upgraded = {k: v for k, v in trigger.items() if k not in {"change", "window_days"}}
    upgraded.setdefault("comparison", "")
    upgraded.setdefault("operator", "")
    upgraded.setdefault("value", None)
    if "window_days" in trigger:
        upgraded.setdefault("window", trigger["window_days"])
        upgraded.setdefault("window_unit", "days")
    upgraded.setdefault("note", trigger["change"])
    return upgraded


def _upgrade_review_cycle(document: dict[str, Any]) -> dict[str, Any]:
    cycle = document.get("review_cycle")
    if not isinstance(cycle, dict):
        return document
    upgraded = dict(cycle)
    if "cadences" not in cycle and {"frequency", "first_review_date"} & cycle.keys():
        frequency = upgraded.pop("frequency", "quarterly")
        upgraded["cadences"] = [
            {
                "key": "framework-review",
                "name": UPGRADED_CADENCE_NAME,
                "frequency": V1_FREQUENCIES.get(frequency, frequency)
                if isinstance(frequency, str)
                else frequency,
                "day_rule": "same_day",
                "ordinal": None,
                "weekday": None,
                "day_of_month": None,
                "first_date": upgraded.pop("first_review_date", None),
                "shift": "none",
            }
        ]
    upgraded.setdefault("sunset_rules", [])
    if isinstance(cycle.get("drift_triggers"), list):
        upgraded["drift_triggers"] = [
            _upgraded_drift_trigger(trigger) for trigger in cycle["drift_triggers"]
        ]
    if isinstance(cycle.get("external_triggers"), list):
        upgraded["external_triggers"] = [
            {"ai_systems": [], **trigger} if isinstance(trigger, dict) else trigger
            for trigger in cycle["external_triggers"]
        ]
    if upgraded == cycle:
        return document
    return {**document, "review_cycle": upgraded}


def _upgrade_v1(document: dict[str, Any]) -> dict[str, Any]:
    """Version 1 (fixed bounds on each threshold, one level per failure mode) as version 2."""
    upgraded = {key: value for key, value in document.items() if key != "schema_version"}
    upgraded["schema_version"] = SCHEMA_VERSION
    upgraded.setdefault("working_days", None)
    failure_modes = document.get("failure_modes")
    if isinstance(failure_modes, list):
        # v1 named one level per failure mode: the path's first rung, with nothing after it.
        upgraded["failure_modes"] = [
            {"then_levels": [], "applies_to": [], "detected_by": [], **mode}
            if isinstance(mode, dict)
            else mode
            for mode in failure_modes
        ]
    levels = document.get("levels")
    # Which levels each v1 threshold led to (v1 kept the link on the level).
    leads_to: dict[str, list[str]] = {}
    if isinstance(levels, list):
        upgraded_levels = []
        for level in levels:
            if isinstance(level, dict):
                linked = level.get("trigger_thresholds")
                for key in linked if isinstance(linked, list) else []:
                    if isinstance(key, str) and isinstance(level.get("key"), str):
                        leads_to.setdefault(key, []).append(level["key"])
                level = {k: v for k, v in level.items() if k != "trigger_thresholds"}
            upgraded_levels.append(level)
        upgraded["levels"] = upgraded_levels
    thresholds = document.get("thresholds")
    if isinstance(thresholds, list):
        upgraded_thresholds, bounds = [], []
        for threshold in thresholds:
            if isinstance(threshold, dict):
                key = threshold.get("key")
                bounds += _v1_bounds(
                    threshold, leads_to.get(key, []) if isinstance(key, str) else []
                )
                threshold = {k: v for k, v in threshold.items() if k not in V1_THRESHOLD_ONLY}
            upgraded_thresholds.append(threshold)
        upgraded["thresholds"] = upgraded_thresholds
        upgraded["bounds"] = bounds
    return upgraded


def canonical_bytes(document: dict[str, Any]) -> bytes:
    """The bytes a version's hash is taken over: sorted keys, no whitespace, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def document_sha256(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(document)).hexdigest()


def draft_document(framework: Framework, *, working_days: int | None = None) -> dict[str, Any]:
    """`build_document` of the working draft, built once per content revision and kept in
    Django's cache (FrameworkRevision moves with every write, so an entry never goes stale)."""
    return _draft(framework, working_days)[0]


def draft_sha256(framework: Framework, *, working_days: int | None = None) -> str:
    """The working draft's `document_sha256`, kept apart so that comparing it with a version's
    costs a small cache read."""
    return caching.for_revision(
        "sha256", framework, lambda: _draft(framework, working_days)[1], working_days
    )


def _draft(framework: Framework, working_days: int | None) -> tuple[dict[str, Any], str]:
    def compute() -> tuple[dict[str, Any], str]:
        document = build_document(Framework.objects.get(pk=framework.pk), working_days=working_days)
        return document, document_sha256(document)

    return caching.for_revision("document", framework, compute, working_days)


def export_text(document: dict[str, Any]) -> str:
    """The portable file form: the same content, indented for people, ending in a newline."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
