"""What the live page shows: each AI system of the framework in force, its current level, and
each of its bounds with the status of its latest window and its recent windows."""

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
from monitoring.evaluation import BoundRule, bound_rules
from monitoring.models import EscalationCase, WindowOutcome, WindowResult
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


@dataclass(frozen=True)
class SystemPanel:
    key: str
    name: str
    model: str
    current_level: str
    bounds: list[BoundPanel]
    cases: list[EscalationCase]  # in play: open, or approved with the sunset clock running


def recent_windows(version: FrameworkVersion) -> dict[str, list[WindowResult]]:
    """The latest RECENT_WINDOWS windows of each bound of `version`, oldest first (one query)."""
    rows = (
        WindowResult.objects.filter(version=version)
        .annotate(
            recency=Window(
                RowNumber(), partition_by=[F("bound_key")], order_by=F("window_start").desc()
            )
        )
        .filter(recency__lte=RECENT_WINDOWS)
        .order_by("bound_key", "window_start")
    )
    found: dict[str, list[WindowResult]] = {}
    for row in rows:
        found.setdefault(row.bound_key, []).append(row)
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
    for rule in bound_rules(document):
        rules.setdefault(rule.ai_system, []).append(rule)
    panels = []
    for system in document.get("ai_systems", []):
        bounds = []
        for rule in rules.get(system["key"], []):
            recent = windows.get(rule.key, [])
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
                cases=cases.get(system["key"], []),
            )
        )
    return panels
