"""What the live page shows: each AI system of the framework in force, its current level, and
each of its bounds and drift triggers with the status of its latest window and its recent
windows."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db import connection, models
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from escalation import caching
from escalation.document import upgrade_document
from escalation.models import FrameworkVersion
from monitoring.cases import decided_levels
from monitoring.charts import Chart, chart
from monitoring.drift import DriftRule, drift_rules, triggers_needing_a_value_by_system
from monitoring.evaluation import BoundRule, bound_rules
from monitoring.models import (
    EscalationCase,
    WindowKind,
    WindowOutcome,
    four_significant_digits,
)
from workshops.models import Engagement

# Windows charted per bound: a day of hourly windows, most of a month of daily ones.
RECENT_WINDOWS = 24


class Status(models.TextChoices):
    FIRED = "fired", "Fired"
    BREACHED = "breached", "Breached"
    NOT_ENOUGH_DATA = "not_enough_data", "Not enough data"
    OK = "ok", "OK"
    NO_DATA = "no_data", "No data yet"


class RecentWindow(NamedTuple):
    """A stored window as the live page shows it: a row, not a model instance (a page of ten
    AI systems charts up to 1,440 of them)."""

    window_start: datetime.datetime
    value: float | None
    sample_size: int
    outcome: str
    immediate_breach: bool
    breaches_in_last_n: int
    fired: bool

    @property
    def value_shown(self) -> str:
        return four_significant_digits(self.value)


def status_of(latest: RecentWindow | None) -> Status:
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
    windows: list[RecentWindow]  # oldest first
    chart: Chart

    is_drift = False
    against = "the bound"

    @property
    def chart_id(self) -> str:
        return f"chart-{self.rule.key}"

    @property
    def html(self) -> SafeString:
        return window_panel_html(self)


@dataclass(frozen=True)
class DriftPanel:
    rule: DriftRule
    status: Status
    windows: list[RecentWindow]  # oldest first
    chart: Chart
    fired: int  # of the windows shown

    is_drift = True
    against = "the trigger's value"

    @property
    def chart_id(self) -> str:
        return f"chart-drift-{self.rule.ai_system}-{self.rule.key}"

    @property
    def html(self) -> SafeString:
        return window_panel_html(self)


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
    version: FrameworkVersion, series: Sequence[SeriesKey]
) -> dict[SeriesKey, list[RecentWindow]]:
    """The latest RECENT_WINDOWS windows of each of `series` (bounds and drift triggers of a page
    of AI systems) in `version`, oldest first. One query, reading each series' newest windows
    down the unique index (version, bound, AI system, kind, window start) and no others: its
    cost follows the series shown, not the months of history stored."""
    if not series:
        return {}
    kinds, keys, systems = (list(column) for column in zip(*series, strict=True))
    columns = ", ".join(f"w.{name}" for name in RecentWindow._fields)
    found: dict[SeriesKey, list[RecentWindow]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT s.kind, s.bound_key, s.ai_system, {columns}
            FROM unnest(%s::text[], %s::text[], %s::text[]) AS s(kind, bound_key, ai_system)
            CROSS JOIN LATERAL (
              SELECT {columns} FROM monitoring_windowresult w
              WHERE w.version_id = %s AND w.bound_key = s.bound_key
                AND w.ai_system = s.ai_system AND w.kind = s.kind
              ORDER BY w.window_start DESC LIMIT %s
            ) w
            """,
            [kinds, keys, systems, version.pk, RECENT_WINDOWS],
        )
        for kind, bound_key, ai_system, *shown in cursor.fetchall():
            found.setdefault((kind, bound_key, ai_system), []).append(RecentWindow(*shown))
    for windows in found.values():
        windows.reverse()  # read newest first
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
    series = [
        (WindowKind.BOUND.value, rule.key, rule.ai_system) for s in systems for rule in s.bounds
    ]
    series += [
        (WindowKind.DRIFT.value, drift.key, drift.ai_system) for s in systems for drift in s.drifts
    ]
    windows = recent_windows(version, series)
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


def _drift_panel(rule: DriftRule, recent: list[RecentWindow] | None) -> DriftPanel:
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


def window_panel_html(panel: BoundPanel | DriftPanel) -> SafeString:
    """A bound's or drift trigger's chart of its recent windows and, as its text alternative,
    the same windows as a table. Printed in Python, not by the template engine: a page of ten
    AI systems has sixty of them and 1,440 rows, about 150 ms as a template partial."""
    c = panel.chart
    chart_id = escape(panel.chart_id)
    count = len(panel.windows)
    title = (
        f"{escape(panel.rule.text)}: the last {count} windows against {escape(panel.against)}, "
        f"latest {escape(panel.status.label.lower())}. The table below lists them."
    )
    parts = [
        f'<svg class="live-chart" width="{c.width}" height="{c.height}" '
        f'viewBox="0 0 {c.width} {c.height}" role="img" aria-labelledby="{chart_id}-title">'
        f'<title id="{chart_id}-title">{title}</title>'
        f'<line class="live-chart-bound" x1="0" x2="{c.width}" y1="{c.bound_y}" y2="{c.bound_y}"/>'
    ]
    if c.line:
        parts.append(f'<polyline class="live-chart-line" points="{escape(c.line)}"/>')
    for dot in c.dots:
        fired = " live-dot-fired" if dot.fired else ""
        radius = "4.5" if dot.fired else "3"
        parts.append(
            f'<circle class="live-dot-{escape(dot.outcome)}{fired}" cx="{dot.x}" cy="{dot.y}" '
            f'r="{radius}"/>'
        )
    breaches_heading = (
        ""
        if panel.is_drift
        else f'<th scope="col" class="num">Breaches in last {panel.rule.trigger_windows}</th>'
    )
    parts.append(
        f'</svg><details class="live-windows"><summary>The {count} windows as a table</summary>'
        '<table class="table"><thead><tr><th scope="col">Window from (UTC)</th>'
        '<th scope="col" class="num">Value</th><th scope="col" class="num">Sample</th>'
        f'<th scope="col">Outcome</th>{breaches_heading}<th scope="col">Fired</th></tr></thead>'
        "<tbody>"
    )
    for window in panel.windows:
        start = window.window_start.astimezone(datetime.UTC)
        outcome = WindowOutcome(window.outcome).label
        immediate = " (immediate)" if window.immediate_breach else ""
        breaches = "" if panel.is_drift else f'<td class="num">{window.breaches_in_last_n}</td>'
        parts.append(
            f"<tr><td>{start.year:04}-{start.month:02}-{start.day:02} "
            f"{start.hour:02}:{start.minute:02}</td>"
            f'<td class="num">{window.value_shown}</td><td class="num">{window.sample_size}</td>'
            f"<td>{outcome}{immediate}</td>{breaches}"
            f"<td>{'Fired' if window.fired else '–'}</td></tr>"
        )
    parts.append("</tbody></table></details>")
    return mark_safe("".join(parts))  # the framework's text is escaped; labels are ours
