"""The method's four artifacts, read from a framework document, and their file exports.

Pages and the PDF pack both render these rows, so a frozen version shows exactly as frozen: the
document is the only input, and references (system keys, level keys) resolve to names here.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable
from typing import Any

import icalendar

from escalation import formatting, schedule
from escalation.diagram import level_triggers
from escalation.document import upgrade_document
from escalation.formatting import bound_phrase
from escalation.models import (
    AISystem,
    ApprovalRule,
    Bound,
    EscalationLevel,
    ExternalEvent,
    FailureKind,
    FailureMode,
    LevelKind,
    Severity,
    Threshold,
    field_label,
)
from escalation.presentation import cadence_sentence, drift_sentence, sunset_sentence
from escalation.text import one_line, visible


def _label(choices: Any, value: str | None) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or ""


def ai_systems(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The AI systems in scope: what each is, who owns it, what it produces, where it stands on
    the ladder and which rungs it cannot take."""
    levels = {row["key"]: f"{row['number']}. {row['name']}" for row in _rungs(document)}
    return [
        {
            "key": system["key"],
            "name": system["name"],
            "vendor": system.get("vendor", ""),
            "model": " ".join(
                part for part in (system.get("model_name"), system.get("model_version")) if part
            ),
            "workflow": system.get("workflow", ""),
            "business_owner": system.get("business_owner", ""),
            "output_types": ", ".join(system.get("output_types", [])),
            "current_level": _current_level(system, levels),
            "unavailable_levels": ", ".join(
                levels.get(key, key) for key in system.get("unavailable_levels") or []
            ),
        }
        for system in document.get("ai_systems", [])
    ]


NOT_ESCALATED = "Not escalated"


def _current_level(system: dict[str, Any], levels: dict[str, str]) -> str:
    key = system.get("current_level")
    return levels.get(key, key) if key else NOT_ESCALATED


def _rungs(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"number": number, "key": level["key"], "name": level["name"]}
        for number, level in enumerate(document.get("levels", []), start=1)
    ]


def threshold_register(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Performance threshold register: one row per bound, grouped by model, workflow and output
    type. Only the bounds a framework has are listed: a bound never set is never printed."""
    systems = {system["key"]: system for system in document.get("ai_systems", [])}
    thresholds = {threshold["key"]: threshold for threshold in document.get("thresholds", [])}
    levels = {level["key"]: level["name"] for level in document.get("levels", [])}
    rows = []
    for bound in document.get("bounds", []):
        threshold = thresholds.get(bound["threshold"], {})
        system = systems.get(threshold.get("ai_system"), {})
        model = " ".join(
            part for part in (system.get("model_name"), system.get("model_version")) if part
        )
        window = bound.get("window_hours") or threshold.get("measurement_window_hours")
        rungs = {row["key"]: f"{row['number']}. {row['name']}" for row in _rungs(document)}
        rows.append(
            {
                "key": bound["key"],
                "threshold": bound["threshold"],
                "system": system.get("name", threshold.get("ai_system", "")),
                "model": model,
                "workflow": system.get("workflow", ""),
                "output_type": threshold.get("output_type") or "All outputs",
                "bound": bound_phrase(bound),
                "error_definition": bound.get("error_definition", ""),
                "window": formatting.hours(window),
                "trigger_rule": formatting.trigger_rule(
                    bound.get("trigger_breaches") or threshold.get("trigger_breaches"),
                    bound.get("trigger_windows") or threshold.get("trigger_windows"),
                    window,
                ),
                "immediate_breach": (
                    formatting.number(bound["immediate_breach_value"])
                    if not formatting.is_empty(bound.get("immediate_breach_value"))
                    else ""
                ),
                "baseline": (
                    formatting.number(bound["baseline_value"])
                    if not formatting.is_empty(bound.get("baseline_value"))
                    else ""
                ),
                "minimum_sample": (
                    formatting.number(bound["minimum_sample_size"])
                    if bound.get("minimum_sample_size") is not None
                    else ""
                ),
                "escalates_to": ", ".join(levels.get(key, key) for key in bound["escalates_to"]),
                "data_source": bound.get("data_source") or threshold.get("data_source", ""),
                "current_level": _current_level(system, rungs) if system else "",
                "unavailable_levels": ", ".join(
                    rungs.get(key, key) for key in system.get("unavailable_levels") or []
                ),
            }
        )
    return rows


def ladder(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The escalation ladder's levels in order, with what leads to each (the diagram's edges)
    and their governance, figures in the level's currency (else the framework's)."""
    currency = document.get("governance", {}).get("currency")
    rows = []
    for number, level in enumerate(document.get("levels", []), start=1):
        owner = formatting.approval_owner(
            level.get("approval_owner_name"), level.get("approval_owner_role")
        )
        rows.append(
            {
                "number": number,
                "key": level["key"],
                "name": level["name"],
                "kind": _label(LevelKind, level.get("kind")),
                "triggers": level_triggers(document, level),
                "entry_criteria": level.get("entry_criteria", ""),
                "exit_criteria": level.get("exit_criteria", ""),
                "rollback_rule": level.get("rollback_rule", ""),
                "direct_entry": formatting.direct_entry(
                    level.get("direct_entry_when"), level.get("direct_entry_approver")
                ),
                "approval_owner": owner,
                "approval_rule": _label(ApprovalRule, level.get("approval_rule")),
                "approval_group": level.get("approval_group", ""),
                "approval": formatting.level_approval(level),
                "deputy": formatting.deputy(level.get("deputy_name"), level.get("deputy_role")),
                "currency": formatting.level_currency(level, currency),
                "estimated_cost": formatting.level_estimate(level, currency),
                "cost_ceiling": formatting.level_ceiling(level, currency),
                "timeline": formatting.level_timeline(level),
                "overrun_rule": level.get("overrun_rule", ""),
            }
        )
    return rows


def response_matrix(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Failure mode response matrix: each failure type, its level, mitigation, fix and owner."""
    levels = {row["key"]: row for row in ladder(document)}
    systems = {system["key"]: system["name"] for system in document.get("ai_systems", [])}
    bounds = {bound["key"]: bound for bound in document.get("bounds", [])}
    rows = []
    for mode in document.get("failure_modes", []):
        level = levels.get(mode.get("recommended_level") or "")
        rows.append(
            {
                "key": mode["key"],
                "name": mode["name"],
                "kind": _label(FailureKind, mode.get("kind")),
                "description": mode.get("description", ""),
                "example": mode.get("example", ""),
                "detection_signal": mode.get("detection_signal", ""),
                "severity": _label(Severity, mode.get("severity")),
                "recommended_level": (
                    f"{level['number']}. {level['name']}" if level else formatting.EMPTY
                ),
                "direct_entry": level["direct_entry"] if level and level["number"] > 1 else "",
                "response_path": " → ".join(
                    f"{rung['number']}. {rung['name']}"
                    for rung in [level, *(levels.get(key) for key in mode.get("then_levels", []))]
                    if rung
                )
                or formatting.EMPTY,
                "applies_to": ", ".join(systems.get(key, key) for key in mode.get("applies_to", []))
                or "Every AI system",
                "detected_by": "; ".join(
                    bound_phrase(bounds[key])
                    for key in mode.get("detected_by", [])
                    if key in bounds
                ),
                "immediate_mitigation": mode.get("immediate_mitigation", ""),
                "long_term_fix": mode.get("long_term_fix", ""),
                "resolution_owner": mode.get("resolution_owner", ""),
            }
        )
    return rows


Holidays = Iterable[datetime.date | str]


def review_schedule(document: dict[str, Any], holidays: Holidays = ()) -> list[dict[str, Any]]:
    """Each review cadence with its rule in words and its next dates (escalation.schedule), the
    engagement's `holidays` passed in as data."""
    days_off = list(holidays)
    return [
        {
            "key": cadence["key"],
            "name": cadence["name"],
            "rule": cadence_sentence(cadence),
            "dates": schedule.review_dates(cadence, days_off),
        }
        for cadence in document.get("review_cycle", {}).get("cadences", [])
    ]


def review_cycle_protocol(document: dict[str, Any], holidays: Holidays = ()) -> dict[str, Any]:
    """Review cadence protocol: the cadences and their dates, drift and external triggers,
    sunset rules and criteria."""
    cycle = document.get("review_cycle", {})
    systems = {system["key"]: system["name"] for system in document.get("ai_systems", [])}
    levels = {level["key"]: level["name"] for level in document.get("levels", [])}
    return {
        "cadences": review_schedule(document, holidays),
        "drift_triggers": [
            {
                "system": systems.get(trigger.get("ai_system") or "", "Every AI system"),
                "trigger": drift_sentence(trigger),
                "needs_value": formatting.is_empty(trigger.get("value")),
            }
            for trigger in cycle.get("drift_triggers", [])
        ],
        "external_triggers": [
            {
                "event": _label(ExternalEvent, trigger["event"]),
                "systems": ", ".join(systems.get(key, key) for key in trigger.get("ai_systems", []))
                or "Every AI system",
                "description": trigger.get("description", ""),
                "response": trigger.get("response", ""),
            }
            for trigger in cycle.get("external_triggers", [])
        ],
        "sunset_rules": [sunset_sentence(rule, levels) for rule in cycle.get("sunset_rules", [])],
        "sunset_criteria": cycle.get("sunset_criteria", ""),
    }


def governance_rules(document: dict[str, Any]) -> dict[str, str]:
    """The framework-wide part of step 4: its currency and its overrun rule."""
    governance = document.get("governance", {})
    return {
        "currency": governance.get("currency", ""),
        "overrun_rule": governance.get("overrun_rule", ""),
    }


LADDER_COLUMNS = [
    ("number", "Rung"),
    ("name", field_label(EscalationLevel, "name")),
    ("kind", field_label(EscalationLevel, "kind")),
    ("entry_criteria", field_label(EscalationLevel, "entry_criteria")),
    ("exit_criteria", field_label(EscalationLevel, "exit_criteria")),
    ("rollback_rule", field_label(EscalationLevel, "rollback_rule")),
    ("approval_owner", "Approval owner"),
    ("approval", field_label(EscalationLevel, "approval_rule")),
    ("deputy", "Deputy approver"),
    ("currency", field_label(EscalationLevel, "currency")),
    ("cost_ceiling", field_label(EscalationLevel, "cost_ceiling")),
    ("estimated_cost", "Estimated cost"),
    ("timeline", field_label(EscalationLevel, "timeline_amount")),
    ("overrun_rule", field_label(EscalationLevel, "overrun_rule")),
]


def sections(document: dict[str, Any], holidays: Holidays = ()) -> dict[str, Any]:
    """Everything the artifact pages and the pack print of a framework, section by section."""
    document = upgrade_document(document)
    return {
        "systems": ai_systems(document),
        "register": threshold_register(document),
        "ladder": ladder(document),
        "scope_creep_rule": document.get("governance", {}).get("scope_creep_rule", ""),
        "governance": governance_rules(document),
        "matrix": response_matrix(document),
        "protocol": review_cycle_protocol(document, holidays),
    }


# CSV headings: a column showing one field carries that field's label; the rest say what they
# combine.
REGISTER_COLUMNS = [
    ("system", field_label(Threshold, "ai_system")),
    ("model", field_label(AISystem, "model_name")),
    ("workflow", field_label(AISystem, "workflow")),
    ("output_type", field_label(Threshold, "output_type")),
    ("bound", "Bound"),
    ("error_definition", field_label(Bound, "error_definition")),
    ("window", field_label(Bound, "window_hours")),
    ("trigger_rule", "Trigger rule"),
    ("immediate_breach", field_label(Bound, "immediate_breach_value")),
    ("baseline", field_label(Bound, "baseline_value")),
    ("minimum_sample", field_label(Bound, "minimum_sample_size")),
    ("escalates_to", field_label(Bound, "escalates_to")),
    ("data_source", field_label(Bound, "data_source")),
    ("current_level", field_label(AISystem, "current_level")),
    ("unavailable_levels", field_label(AISystem, "unavailable_levels")),
]
MATRIX_COLUMNS = [
    ("name", field_label(FailureMode, "name")),
    ("kind", field_label(FailureMode, "kind")),
    ("severity", field_label(FailureMode, "severity")),
    ("recommended_level", field_label(FailureMode, "recommended_level")),
    ("response_path", "Response path"),
    ("direct_entry", "Direct entry at its first rung"),
    ("applies_to", field_label(FailureMode, "applies_to")),
    ("detected_by", field_label(FailureMode, "detected_by")),
    ("immediate_mitigation", field_label(FailureMode, "immediate_mitigation")),
    ("long_term_fix", field_label(FailureMode, "long_term_fix")),
    ("resolution_owner", field_label(FailureMode, "resolution_owner")),
]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    # Typed text opened in a spreadsheet must stay text: a leading "=" would run as a formula.
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(heading for _, heading in columns)
    for row in rows:
        writer.writerow(_cell(row[name]) for name, _ in columns)
    return out.getvalue()


def register_csv(document: dict[str, Any]) -> str:
    return _csv(threshold_register(upgrade_document(document)), REGISTER_COLUMNS)


def matrix_csv(document: dict[str, Any]) -> str:
    return _csv(response_matrix(upgrade_document(document)), MATRIX_COLUMNS)


def ladder_csv(document: dict[str, Any]) -> str:
    """The ladder with its governance, one row per level; the overrun rule of a level that
    states none is the framework's."""
    document = upgrade_document(document)
    rules = governance_rules(document)
    rows = [
        {**row, "overrun_rule": row["overrun_rule"] or rules["overrun_rule"]}
        for row in ladder(document)
    ]
    return _csv(rows, LADDER_COLUMNS)


# The review cadence protocol as one table: what each row is, whom or what it concerns, the
# rule in words and, for a scheduled review, its next dates.
REVIEW_COLUMNS = [
    ("kind", "Kind"),
    ("concerns", "Name or AI systems"),
    ("rule", "Rule"),
    ("dates", "Next dates"),
]


def review_cycle_rows(document: dict[str, Any], holidays: Holidays = ()) -> list[dict[str, Any]]:
    protocol = review_cycle_protocol(upgrade_document(document), holidays)
    rows = [
        {
            "kind": "Scheduled review",
            "concerns": cadence["name"],
            "rule": cadence["rule"],
            "dates": ", ".join(day.isoformat() for day in cadence["dates"]),
        }
        for cadence in protocol["cadences"]
    ]
    rows += [
        {"kind": "Drift trigger", "concerns": t["system"], "rule": t["trigger"], "dates": ""}
        for t in protocol["drift_triggers"]
    ]
    rows += [
        {
            "kind": "External trigger",
            "concerns": t["systems"],
            "rule": " ".join(part for part in (f"{t['event']}:", t["description"]) if part),
            "dates": "",
        }
        for t in protocol["external_triggers"]
    ]
    rows += [
        {"kind": "Sunset rule", "concerns": "", "rule": rule, "dates": ""}
        for rule in protocol["sunset_rules"]
    ]
    if protocol["sunset_criteria"]:
        rows.append(
            {
                "kind": "Sunset criteria",
                "concerns": "",
                "rule": protocol["sunset_criteria"],
                "dates": "",
            }
        )
    return rows


def review_cycle_csv(document: dict[str, Any], holidays: Holidays = ()) -> str:
    return _csv(review_cycle_rows(document, holidays), REVIEW_COLUMNS)


def review_cycle_calendar(
    document: dict[str, Any],
    *,
    title: str,
    uid_prefix: str,
    holidays: Holidays = (),
    stamp: datetime.datetime | None = None,
) -> bytes:
    """The scheduled reviews as iCalendar all-day events: every cadence's dates over two years
    from its first date, one event each (explicit dates, not an RRULE: a rule cannot say "moved
    off the engagement's holidays"). Each event is stamped `stamp` (when its content was last
    revised, as RFC 5545 has DTSTAMP in a calendar without METHOD), or now.

    icalendar escapes TEXT values (backslash, semicolon, comma, new line) and folds long lines
    as RFC 5545 says; the calendar's name is an X- property it does not escape, so it and the
    summaries built from it are made one line first, and controls shown as code points."""
    title = one_line(title)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Escalation Workshop//Review cadence//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", title)
    document = upgrade_document(document)
    protocol = review_cycle_protocol(document, holidays)
    days_off = list(holidays)
    stamp = stamp or datetime.datetime.now(datetime.UTC)
    for cadence in document.get("review_cycle", {}).get("cadences", []):
        name = one_line(cadence["name"])
        for number, day in enumerate(schedule.calendar_dates(cadence, days_off), start=1):
            if day >= datetime.date.max:  # an all-day event ends the next day
                break
            event = icalendar.Event()
            # Stable per framework, cadence and review number, so re-importing updates
            # instead of duplicating.
            event.add("uid", f"{uid_prefix}-{cadence['key']}-{number}@escalation-workshop")
            event.add("dtstamp", stamp)
            event.add("dtstart", day)
            event.add("dtend", day + datetime.timedelta(days=1))
            event.add("summary", f"{title}: {name} {number}")
            event.add(
                "description",
                visible(
                    f"{cadence_sentence(cadence)}. "
                    f"Sunset criteria: {protocol['sunset_criteria'] or 'none stated'}"
                ),
            )
            cal.add_component(event)
    return cal.to_ical()
