"""What the live page shows: each AI system of the framework in force, its current level, and
each of its bounds and drift triggers with the status of its latest window and its recent
windows."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import F, Window
from django.db.models.functions import RowNumber

from escalation import caching
from escalation.document import upgrade_document
from escalation.models import FrameworkVersion
from monitoring.cases import decided_levels
from monitoring.charts import Chart, chart
from monitoring.drift import DriftRule, drift_rules, triggers_needing_a_value_by_system
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


@dataclass(frozen=True)
class SystemRules:
    """What the frozen version in force says of one AI system, as the live page reads it."""

    key: str
    name: str
    model: str
    document_level: str  # its current level's key in the document
    bounds: list[BoundRule]
    drifts: list[DriftRule]
    drifts_needing_a_value: list[str]


@dataclass(frozen=True)
class LiveRules:
    systems: list[SystemRules]  # those asked for, in the document's order
    level_names: dict[str, str]  # level key: "2. Retrieval augmentation"


def live_systems(version: FrameworkVersion) -> list[tuple[str, str]]:
    """Each AI system of `version` as (key, name), in the document's order (cached under its
    hash; the document is loaded only to fill the cache)."""

    def compute() -> list[tuple[str, str]]:
        systems = upgrade_document(version.document).get("ai_systems", [])
        return [(s["key"], s.get("name") or s["key"]) for s in systems if isinstance(s, dict)]

    return caching.for_hashes("live-systems", [version.sha256], compute)


def live_rules(version: FrameworkVersion, ai_systems: Sequence[str]) -> LiveRules:
    """The bounds and drift triggers of `ai_systems` (a page of them) in `version`, read from
    its frozen document once and cached under its hash and the systems asked for."""
    return caching.for_hashes(
        "live-rules",
        [version.sha256, hashlib.sha256("\n".join(ai_systems).encode()).hexdigest()],
        lambda: _live_rules(upgrade_document(version.document), set(ai_systems)),
    )


def _live_rules(document: dict[str, Any], ai_systems: set[str]) -> LiveRules:
    bounds: dict[str, list[BoundRule]] = {}
    all_bounds = bound_rules(document)
    for rule in all_bounds:
        bounds.setdefault(rule.ai_system, []).append(rule)
    drifts: dict[str, list[DriftRule]] = {}
    for drift in drift_rules(document, all_bounds):
        drifts.setdefault(drift.ai_system, []).append(drift)
    unevaluated = triggers_needing_a_value_by_system(document)
    systems = [
        SystemRules(
            key=system["key"],
            name=str(system.get("name") or system["key"]),
            model=str(system.get("model_name") or ""),
            document_level=str(system.get("current_level") or ""),
            bounds=bounds.get(system["key"], []),
            drifts=drifts.get(system["key"], []),
            drifts_needing_a_value=unevaluated.get(system["key"], []),
        )
        for system in document.get("ai_systems", [])
        if isinstance(system, dict) and system.get("key") in ai_systems
    ]
    level_names = {
        str(level.get("key")): f"{number}. {level.get('name', level.get('key'))}"
        for number, level in enumerate(document.get("levels", []), start=1)
        if isinstance(level, dict)
    }
    return LiveRules(systems, level_names)


# A series of stored windows: (kind, bound or drift trigger key, AI system).
SeriesKey = tuple[str, str, str]


def recent_windows(
    version: FrameworkVersion, ai_systems: Iterable[str] | None = None
) -> dict[SeriesKey, list[WindowResult]]:
    """The latest RECENT_WINDOWS windows of each bound and drift trigger (per AI system) of
    `version`, of `ai_systems` only when given, oldest first (one query)."""
    series = [F("bound_key"), F("ai_system"), F("kind")]
    windows = WindowResult.objects.filter(version=version)
    if ai_systems is not None:
        windows = windows.filter(ai_system__in=list(ai_systems))
    rows = (
        windows.annotate(
            recency=Window(RowNumber(), partition_by=series, order_by=F("window_start").desc())
        )
        .filter(recency__lte=RECENT_WINDOWS)
        .order_by("bound_key", "ai_system", "kind", "window_start")
    )
    found: dict[SeriesKey, list[WindowResult]] = {}
    for row in rows:
        found.setdefault((row.kind, row.bound_key, row.ai_system), []).append(row)
    return found


def system_panels(
    engagement: Engagement,
    version: FrameworkVersion,
    rules: LiveRules,
    cases: dict[str, list[EscalationCase]],
) -> list[SystemPanel]:
    """The panels of the systems of `rules` (a page of them): their recent windows and live
    level (two queries, however many systems the framework has) and `cases` in play."""
    systems = rules.systems
    windows = recent_windows(version, [system.key for system in systems])
    decided = decided_levels(engagement, [system.key for system in systems])
    panels = []
    for system in systems:
        bounds = []
        for rule in system.bounds:
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
        # The live level: a decided case's, else the signed-off document's.
        level = decided.get(system.key) or system.document_level
        panels.append(
            SystemPanel(
                key=system.key,
                name=system.name,
                model=system.model,
                current_level=rules.level_names.get(level, level) if level else "",
                bounds=bounds,
                drifts=[
                    _drift_panel(drift, windows.get((WindowKind.DRIFT, drift.key, drift.ai_system)))
                    for drift in system.drifts
                ],
                drifts_needing_a_value=system.drifts_needing_a_value,
                cases=cases.get(system.key, []),
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
