"""What the live page shows: each AI system of the framework in force, its current level, and
each of its bounds and drift triggers with the status of its latest window and a chart of its
recent windows; the same windows as a table on a page of their own (the chart's link)."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable, Sequence
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
from workshops.links import url_of
from workshops.models import Engagement

# Windows charted per bound: a day of hourly windows, most of a month of daily ones.
RECENT_WINDOWS = 24


class Status(models.TextChoices):
    FIRED = "fired", "Fired"
    BREACHED = "breached", "Breached"
    NOT_ENOUGH_DATA = "not_enough_data", "Not enough data"
    OK = "ok", "OK"
    NO_DATA = "no_data", "No data yet"


class ChartPoint(NamedTuple):
    """A stored window as the live page charts it: the three columns a chart and a status read
    (a page of ten AI systems charts up to 1,440 of them)."""

    value: float | None
    outcome: str
    fired: bool


class RecentWindow(NamedTuple):
    """A stored window as its series' table lists it: a row, not a model instance."""

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


def status_of(latest: ChartPoint | RecentWindow | None) -> Status:
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
    windows: Sequence[ChartPoint | RecentWindow]  # oldest first
    chart: Chart
    table_url: str = ""  # the windows as a table, on a page of their own

    is_drift = False
    kind = WindowKind.BOUND
    against = "the bound"

    @property
    def chart_id(self) -> str:
        return f"chart-{self.rule.key}"

    @property
    def html(self) -> SafeString:
        return window_chart_html(self)


@dataclass(frozen=True)
class DriftPanel:
    rule: DriftRule
    status: Status
    windows: Sequence[ChartPoint | RecentWindow]  # oldest first
    chart: Chart
    fired: int  # of the windows shown
    table_url: str = ""

    is_drift = True
    kind = WindowKind.DRIFT
    against = "the trigger's value"

    @property
    def chart_id(self) -> str:
        return f"chart-drift-{self.rule.ai_system}-{self.rule.key}"

    @property
    def html(self) -> SafeString:
        return window_chart_html(self)


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


def live_system_options(version: FrameworkVersion) -> list[tuple[str, str, str]]:
    """The AI systems of `version` as a drop-down's options: (key, key as HTML, name as HTML),
    escaped as Django's select escapes them (cached under its hash)."""

    def compute() -> list[tuple[str, str, str]]:
        return [(key, str(escape(key)), str(escape(name))) for key, name in live_systems(version)]

    return caching.for_hashes("live-system-options", [version.sha256], compute)


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


def recent_windows[Row: (ChartPoint, RecentWindow)](
    version: FrameworkVersion, series: Sequence[SeriesKey], row: type[Row]
) -> dict[SeriesKey, list[Row]]:
    """The latest RECENT_WINDOWS windows of each of `series` (bounds and drift triggers of a page
    of AI systems) in `version`, oldest first, as `row`s: the chart's columns or the table's
    (the fields it names). One query,
    reading each series' newest windows down the unique index (version, bound, AI system, kind,
    window start) and no others: its cost follows the series shown, not the months of history
    stored."""
    if not series:
        return {}
    kinds, keys, systems = (list(column) for column in zip(*series, strict=True))
    columns = ", ".join(f"w.{name}" for name in row._fields)
    found: dict[SeriesKey, list[Row]] = {}
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
            found.setdefault((kind, bound_key, ai_system), []).append(row(*shown))
    for windows in found.values():
        windows.reverse()  # read newest first
    return found


def system_panels(
    engagement: Engagement,
    version: FrameworkVersion,
    rules: LiveRules,
    cases: dict[str, list[EscalationCase]],
    *,
    evaluated: bool,
    has_decided_levels: bool,
) -> list[SystemPanel]:
    """The panels of the systems of `rules` (a page of them): their recent windows and live
    level (two queries, however many systems the framework has) and `cases` in play. The
    windows are read only once the engagement's points were `evaluated` against `version` (the
    evaluation writes them, and marks it in the same transaction), the levels only when it
    `has_decided_levels`."""
    systems = rules.systems
    series = [
        (WindowKind.BOUND.value, rule.key, rule.ai_system) for s in systems for rule in s.bounds
    ]
    series += [
        (WindowKind.DRIFT.value, drift.key, drift.ai_system) for s in systems for drift in s.drifts
    ]
    windows = recent_windows(version, series, ChartPoint) if evaluated else {}
    decided = (
        decided_levels(engagement, [system.key for system in systems]) if has_decided_levels else {}
    )
    table_url = windows_table_url(engagement.slug)
    panels = []
    for system in systems:
        bounds = [
            bound_panel(
                rule,
                windows.get((WindowKind.BOUND, rule.key, rule.ai_system), []),
                table_url(WindowKind.BOUND, rule.ai_system, rule.key),
            )
            for rule in system.bounds
        ]
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
                    drift_panel(
                        drift,
                        windows.get((WindowKind.DRIFT, drift.key, drift.ai_system), []),
                        table_url(WindowKind.DRIFT, drift.ai_system, drift.key),
                    )
                    for drift in system.drifts
                ],
                drifts_needing_a_value=system.drifts_needing_a_value,
                cases=cases.get(system.key, []),
            )
        )
    return panels


def bound_panel(
    rule: BoundRule, recent: Sequence[ChartPoint | RecentWindow], table_url: str = ""
) -> BoundPanel:
    """A bound's recent windows, charted against the bound."""
    points = [(w.value, w.outcome, w.fired) for w in recent]
    status = status_of(recent[-1] if recent else None)
    return BoundPanel(rule, status, recent, chart(points, rule.value), table_url)


def drift_panel(
    rule: DriftRule, recent: Sequence[ChartPoint | RecentWindow], table_url: str = ""
) -> DriftPanel:
    """A drift trigger's recent windows, charted against the trigger's value."""
    points = [(w.value, w.outcome, w.fired) for w in recent]
    return DriftPanel(
        rule,
        status_of(recent[-1] if recent else None),
        recent,
        chart(points, rule.value),
        sum(1 for w in recent if w.fired),
        table_url,
    )


def series_panel(
    version: FrameworkVersion, kind: str, ai_system: str, key: str
) -> tuple[SystemRules, BoundPanel | DriftPanel, list[RecentWindow]] | None:
    """One bound's or drift trigger's panel in `version`, with its recent windows as the table
    lists them (one query); None when the version has no such series."""
    system = next(iter(live_rules(version, [ai_system]).systems), None)
    if system is None:
        return None
    by_kind: dict[str, Sequence[BoundRule | DriftRule]] = {
        WindowKind.BOUND: system.bounds,
        WindowKind.DRIFT: system.drifts,
    }
    rules = by_kind.get(kind, [])
    rule = next((rule for rule in rules if rule.key == key), None)
    if rule is None:
        return None
    recent = recent_windows(version, [(kind, key, ai_system)], RecentWindow)
    windows = recent.get((kind, key, ai_system), [])
    if isinstance(rule, BoundRule):
        return system, bound_panel(rule, windows), windows
    return system, drift_panel(rule, windows), windows


def windows_table_url(slug: str) -> Callable[[str, str, str], str]:
    """The address of a series' table (the `live_windows` page) as a function of its kind, AI
    system and key: one reverse() a system and kind, not one for each of a page's charts."""
    by_system: dict[tuple[str, str], Callable[[object], str]] = {}

    def url(kind: str, ai_system: str, key: str) -> str:
        if (kind, ai_system) not in by_system:
            by_system[kind, ai_system] = url_of(
                "live_windows", slug, "key", kind=kind, ai_system=ai_system
            )
        return by_system[kind, ai_system](key)

    return url


def window_chart_html(panel: BoundPanel | DriftPanel) -> SafeString:
    """A bound's or drift trigger's chart of its recent windows and, as its text alternative,
    a link to the same windows as a table (htmx shows the table in place of the link). Printed
    in Python, not by the template engine: a page of ten AI systems has sixty of them."""
    c = panel.chart
    chart_id = escape(panel.chart_id)
    count = len(panel.windows)
    table = "The table linked below lists them." if panel.table_url else ""
    title = (
        f"{escape(panel.rule.text)}: the last {count} windows against {escape(panel.against)}, "
        f"latest {escape(panel.status.label.lower())}. {table}"
    ).rstrip()
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
    parts.append("</svg>")
    if panel.table_url:
        url = escape(panel.table_url)
        parts.append(
            f'<div class="live-windows" id="{chart_id}-windows"><a href="{url}" '
            f'data-hx-get="{url}" data-hx-target="#{chart_id}-windows" data-hx-swap="innerHTML">'
            f"The {count} windows as a table</a></div>"
        )
    return mark_safe("".join(parts))  # the framework's text is escaped; labels are ours


def system_panels_html(
    panels: Sequence[SystemPanel], case_url: Callable[[object], str]
) -> SafeString:
    """The live page's panel of each AI system: its level, cases in play, and each bound's and
    drift trigger's status and chart (`case_url`: a case's page from its public id). Printed in
    Python, not by the template engine: a page of five AI systems holds some forty bounds and
    triggers, each a dozen values through the engine."""
    return mark_safe("".join(_system_panel_html(panel, case_url) for panel in panels))


def _system_panel_html(panel: SystemPanel, case_url: Callable[[object], str]) -> str:
    name = escape(panel.name)
    level = (
        f"<strong>{escape(panel.current_level)}</strong>"
        if panel.current_level
        else '<span class="muted">not recorded</span>'
    )
    parts = [
        f'\n<section class="card live-system" id="system-{escape(panel.key)}">\n'
        f'  <h2>{name} <span class="muted">{escape(panel.model)}</span></h2>\n'
        f"  <p>Current level: {level}</p>\n"
    ]
    if panel.cases:
        parts.append(f'  <ul class="live-cases" aria-label="Escalation cases of {name}">\n    ')
        for case in panel.cases:
            about = f": {escape(case.bound_text)}" if case.bound_text else ""
            parts.append(
                f'<li><a href="{escape(case_url(case.public_id))}">'
                f"{escape(case.get_kind_display())}{about}</a> · proposes "
                f"{escape(case.proposed_level_name or 'no level')} · "
                f'<span class="badge case-{escape(case.status)}">'
                f"{escape(case.get_status_display())}</span></li>"
            )
        parts.append("\n  </ul>\n")
    for bound in panel.bounds:
        rule = bound.rule
        output_type = (
            f' <span class="muted">· {escape(rule.output_type)}</span>' if rule.output_type else ""
        )
        samples = (
            f" · at least {escape(rule.minimum_sample_size)} samples a window"
            if rule.minimum_sample_size > 1
            else ""
        )
        shown = (
            bound.html if bound.windows else '<p class="empty">No points for this bound yet.</p>'
        )
        parts.append(
            f'    <div class="live-bound" id="bound-{escape(rule.key)}">\n'
            f"      <h3>{escape(rule.text)}{output_type}\n"
            f'        <span class="badge live-{escape(bound.status)}">'
            f"{escape(bound.status.label)}</span></h3>\n"
            f'      <p class="muted">Metric <code>{escape(rule.metric)}</code> · '
            f"{escape(rule.window_hours)}-hour windows · escalate when breached in "
            f"{escape(rule.trigger_breaches)} of the last {escape(rule.trigger_windows)}"
            f"{samples}</p>\n      {shown}\n    </div>\n"
        )
    if not panel.bounds:
        parts.append('  <p class="empty">No bound is set for this system.</p>\n')
    if panel.drifts or panel.drifts_needing_a_value:
        parts.append("  <h3>Drift triggers</h3>\n")
    for drift in panel.drifts:
        trigger = drift.rule
        fired = f" · fired in {drift.fired} of the last {len(drift.windows)}" if drift.fired else ""
        shown = (
            drift.html if drift.windows else '<p class="empty">No points for this trigger yet.</p>'
        )
        parts.append(
            f'    <div class="live-bound live-drift" id="drift-{escape(panel.key)}-'
            f'{escape(trigger.key)}">\n'
            f'      <h4>{escape(trigger.text)} <span class="badge live-{escape(drift.status)}">'
            f"{escape(drift.status.label)}</span></h4>\n"
            f'      <p class="muted">Metric <code>{escape(trigger.metric)}</code> · '
            f"{escape(trigger.window_hours)}-hour windows{fired}</p>\n      {shown}\n    </div>\n"
        )
    for sentence in panel.drifts_needing_a_value:
        parts.append(
            f'    <p class="muted live-drift-unevaluated">{escape(sentence)}: not evaluated.</p>\n'
        )
    parts.append("</section>")
    return "".join(parts)


def window_table_html(panel: BoundPanel | DriftPanel, windows: list[RecentWindow]) -> SafeString:
    """The windows of `panel` as a table, oldest first: the chart's text alternative."""
    breaches_heading = (
        ""
        if panel.is_drift
        else f'<th scope="col" class="num">Breaches in last {panel.rule.trigger_windows}</th>'
    )
    parts = [
        f'<table class="table"><caption>{escape(panel.rule.text)}: the last {len(windows)} '
        'windows</caption><thead><tr><th scope="col">Window from (UTC)</th>'
        '<th scope="col" class="num">Value</th><th scope="col" class="num">Sample</th>'
        f'<th scope="col">Outcome</th>{breaches_heading}<th scope="col">Fired</th></tr></thead>'
        "<tbody>"
    ]
    for window in windows:
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
    parts.append("</tbody></table>")
    return mark_safe("".join(parts))  # the framework's text is escaped; labels are ours
