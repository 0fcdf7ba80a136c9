"""What the live page shows: each AI system of the framework in force, its current level, and
each of its bounds and drift triggers with the status of its latest window and its recent
windows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import F, Window
from django.db.models.functions import RowNumber

from escalation.document import upgrade_document
from escalation.models import FrameworkVersion
from monitoring.cases import cases_by_system, live_levels
from monitoring.charts import Chart, chart
from monitoring.drift import DriftRule, drift_rules, triggers_needing_a_value
from monitoring.evaluation import BoundRule, bound_rules
from monitoring.models import EscalationCase, WindowKind, WindowOutcome, WindowResult
from workshops.models import Engagement

# Windows charted per bound: a day of hourly windows, most of a month of daily ones.
RECENT_WINDOWS = 24


class Status(models.TextChoices):
    FIRED = "fired", "Fired"
    BREACHED = "breached", "Breached"
    NOT_ENOUGH_DATA = "not_enough_data", "Not enough data"
    OK = "ok", "OK"
    NO_DATA = "no_data", "No data yet"


def status_of(latest: WindowResult | None) -> Status:
    if latest is None:
        return Status.NO_DATA
    if latest.fired:
        return Status.FIRED
    return {
        WindowOutcome.BREACHED: Status.BREACHED,
        WindowOutcome.NOT_ENOUGH_DATA: Status.NOT_ENOUGH_DATA,
    }.get(WindowOutcome(latest.outcome), Status.OK)


@dataclass(frozen=True)
class BoundPanel:
    rule: BoundRule
    status: Status
    windows: list[WindowResult]  # oldest first
    chart: Chart

    is_drift = False
    against = "the bound"

    @property
    def chart_id(self) -> str:
        return f"chart-{self.rule.key}"


@dataclass(frozen=True)
class DriftPanel:
    rule: DriftRule
    status: Status
    windows: list[WindowResult]  # oldest first
    chart: Chart
    fired: int  # of the windows shown

    is_drift = True
    against = "the trigger's value"

    @property
    def chart_id(self) -> str:
        return f"chart-drift-{self.rule.ai_system}-{self.rule.key}"


@dataclass(frozen=True)
class SystemPanel:
    key: str
    name: str
    model: str
    current_level: str
    bounds: list[BoundPanel]
    drifts: list[DriftPanel]
    drifts_needing_a_value: list[str]  # not evaluated: their sentences
    cases: list[EscalationCase]  # in play: open, or approved with the sunset clock running


# A series of stored windows: (kind, bound or drift trigger key, AI system).
SeriesKey = tuple[str, str, str]


def recent_windows(version: FrameworkVersion) -> dict[SeriesKey, list[WindowResult]]:
    """The latest RECENT_WINDOWS windows of each bound and drift trigger (per AI system) of
    `version`, oldest first (one query)."""
    series = [F("bound_key"), F("ai_system"), F("kind")]
    rows = (
        WindowResult.objects.filter(version=version)
        .annotate(
            recency=Window(RowNumber(), partition_by=series, order_by=F("window_start").desc())
        )
        .filter(recency__lte=RECENT_WINDOWS)
        .order_by("bound_key", "ai_system", "kind", "window_start")
    )
    found: dict[SeriesKey, list[WindowResult]] = {}
    for row in rows:
        found.setdefault((row.kind, row.bound_key, row.ai_system), []).append(row)
    return found


def _level_name(document: dict[str, Any], key: Any) -> str:
    if not key:
        return ""
    for number, level in enumerate(document.get("levels", []), start=1):
        if level.get("key") == key:
            return f"{number}. {level.get('name', key)}"
    return str(key)


def system_panels(engagement: Engagement, version: FrameworkVersion) -> list[SystemPanel]:
    document = upgrade_document(version.document)
    windows = recent_windows(version)
    levels = live_levels(engagement, document)
    cases = cases_by_system(engagement)
    rules: dict[str, list[BoundRule]] = {}
    all_bounds = bound_rules(document)
    for rule in all_bounds:
        rules.setdefault(rule.ai_system, []).append(rule)
    drifts: dict[str, list[DriftRule]] = {}
    for drift in drift_rules(document, all_bounds):
        drifts.setdefault(drift.ai_system, []).append(drift)
    panels = []
    for system in document.get("ai_systems", []):
        bounds = []
        for rule in rules.get(system["key"], []):
            recent = windows.get((WindowKind.BOUND, rule.key, rule.ai_system), [])
            points = [(w.value, w.outcome, w.fired) for w in recent]
            bounds.append(
                BoundPanel(
                    rule,
                    status_of(recent[-1] if recent else None),
                    recent,
                    chart(points, rule.value),
                )
            )
        panels.append(
            SystemPanel(
                key=system["key"],
                name=system.get("name", system["key"]),
                model=system.get("model_name", ""),
                # The live level: a decided case's, else the signed-off document's.
                current_level=_level_name(document, levels.get(system["key"])),
                bounds=bounds,
                drifts=[
                    _drift_panel(drift, windows.get((WindowKind.DRIFT, drift.key, drift.ai_system)))
                    for drift in drifts.get(system["key"], [])
                ],
                drifts_needing_a_value=triggers_needing_a_value(document, system["key"]),
                cases=cases.get(system["key"], []),
            )
        )
    return panels


def _drift_panel(rule: DriftRule, recent: list[WindowResult] | None) -> DriftPanel:
    """A drift trigger's recent windows, charted against the trigger's value."""
    recent = recent or []
    points = [(w.value, w.outcome, w.fired) for w in recent]
    return DriftPanel(
        rule,
        status_of(recent[-1] if recent else None),
        recent,
        chart(points, rule.value),
        sum(1 for w in recent if w.fired),
    )
