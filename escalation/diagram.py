"""The escalation ladder diagram: DOT built from a framework document, drawn by graphviz.

`ladder_dot(document)` is the one DOT builder: a pure function of the document (no database), so
a frozen version draws exactly as frozen. `render_ladder(document, format)` draws it with `dot`,
keeping every drawing in `DiagramRender` under the hash of its DOT source: an unchanged ladder is
never drawn twice, by any process.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import itertools
import logging
import re
import textwrap
import uuid
from typing import Any

import graphviz

from escalation import formatting
from escalation.document import upgrade_document
from escalation.formatting import bound_phrase
from escalation.models import ApprovalRule, DiagramRender, LevelKind, Severity
from escalation.text import visible

logger = logging.getLogger(__name__)

# Line lengths, in characters: a rung, a side entry, an edge's label. Together they keep the
# drawing narrow enough for a page's width at a readable size (escalation.pdf.ladder_parts).
WRAP_COLUMNS = 32
SIDE_COLUMNS = 46
EDGE_COLUMNS = 24
SKIP_COLUMNS = 16
START_NODE = "detected"
DIRECT_ENTRY_NODE = "direct-entry"
NBSP = "\u00a0"
# graphviz measures text up to 3% narrower than browsers and WeasyPrint draw it: every line ends
# in two no-break spaces (drawn as nothing), so no line runs into its box's border.
PAD = NBSP * 2
BREAK = f'{PAD}<BR ALIGN="LEFT"/>'


def _html(text: Any) -> str:
    """Text for a graphviz HTML-like label: markup escaped, and control characters (which
    graphviz refuses, and a frozen version may hold) shown as their code point. Every text of
    the document reaches DOT inside an HTML-like label, where a backslash or a quote is plain."""
    return html.escape(visible(str(text)))


def _wrapped(text: str, columns: int = WRAP_COLUMNS) -> str:
    """Escaped for a graphviz HTML-like label, wrapped so no line runs off the node."""
    lines = textwrap.wrap(" ".join(str(text).split()), columns) or [""]
    return "".join(_html(line) + BREAK for line in lines)


# Raise with any change to what `ladder_dot` draws for an unchanged document. Whatever is kept under
# a document's hash alone (the artifacts page, a frozen version's ladder file and its ETag) adds it
# to its key, and so does the drawing cache, so no drawing by an earlier builder is served again.
LADDER_DRAWING_VERSION = 2

SKIP_COLOR = "#7a1f99"
# Each kind of edge, its look and what the legend says it means, in the legend's order.
EDGE_STYLES: dict[str, dict[str, str]] = {
    "chain": {"color": "#5b6677", "penwidth": "1.2"},
    "entry": {"color": "#1f6f43", "penwidth": "1.2"},
    "path": {"color": "#b35900", "penwidth": "1.6"},
    "skip": {"color": SKIP_COLOR, "penwidth": "2.6", "style": "bold"},
    "rollback": {"color": "#5b6677", "penwidth": "1.2", "style": "dashed"},
}
# The legend's sample of each line, in DejaVu Sans's box-drawing characters.
LEGEND_SAMPLES = {
    "chain": "───▶",
    "entry": "───▶",
    "path": "───▶",
    "skip": "<B>━━━▶</B>",
    "rollback": "╌╌╌▶",
}
EDGE_MEANINGS = {
    "chain": "Next rung, least to most costly",
    "entry": "Failure modes and bounds entering",
    "path": "A failure mode's later step",
    "skip": "Permitted skip and its approver",
    "rollback": "Rollback to the rung below",
}


def _choice_label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return formatting.or_empty(value)


# What a rung shows, each value read in one place: the governance fields are the ones most likely
# to change shape (ranges, currencies, approval groups).
def _kind(level: dict[str, Any]) -> str:
    return _choice_label(LevelKind, level.get("kind"))


def _cost_ceiling(level: dict[str, Any], currency: str | None) -> str:
    """ "EUR 5,000 one-off", "USD 15,000 per month"."""
    return formatting.level_ceiling(level, currency)


def _cost_estimate(level: dict[str, Any], currency: str | None) -> str:
    """ "EUR 8,000–12,000 per month, 10 working days": the estimate and how long the level takes,
    the dash alone when neither is given."""
    parts = [formatting.level_estimate(level, currency), formatting.level_timeline(level)]
    return ", ".join(part for part in parts if part != formatting.EMPTY) or formatting.EMPTY


def _approval(level: dict[str, Any]) -> str:
    """ "Single approver: Dana Lead (CTO)"; "2 of 3: Dana Lead, Sam Risk, Ola. Owner: Dana Lead
    (CTO). Deputy: Sam Risk (CRO)"."""
    owner = formatting.approval_owner(
        level.get("approval_owner_name"), level.get("approval_owner_role")
    )
    deputy = formatting.deputy(level.get("deputy_name"), level.get("deputy_role"))
    deputy_part = f". Deputy: {deputy}" if deputy else ""
    if not level.get("approval_rule"):
        return owner + deputy_part
    rule = formatting.level_approval(level)
    if level["approval_rule"] == ApprovalRule.SINGLE:
        return f"{rule}: {owner}{deputy_part}"
    return f"{rule}. Owner: {owner}{deputy_part}"


def _direct_entry(level: dict[str, Any]) -> tuple[str, str] | None:
    """(when, who approves) if the level may be entered directly, skipping the rungs below.
    Documents frozen before direct entry was recorded have no such keys: no skip."""
    when = str(level.get("direct_entry_when") or "").strip()
    if not when:
        return None
    return when, str(level.get("direct_entry_approver") or "").strip() or "approver not named"


def _rolls_back(level: dict[str, Any]) -> bool:
    return bool(str(level.get("rollback_rule") or "").strip())


def _row(heading: str, text: str, columns: int = WRAP_COLUMNS) -> str:
    """A cell opening with its heading in bold, the text following on the same line."""
    # textwrap breaks only at spaces and every heading is shorter than a line: it opens the first.
    lines = textwrap.wrap(f"{heading} {' '.join(str(text).split())}", columns)
    rest = lines[0][len(heading) :]
    following = "".join(f"{BREAK}{_html(line)}" for line in lines[1:])
    # A no-break space after the heading: SVG drops a text's leading space, which would glue
    # the text to the heading.
    return (
        f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"><B>{_html(heading)}</B>'
        f"{_html(rest.replace(' ', NBSP, 1))}{following}{BREAK}</TD></TR>"
    )


def _level_label(number: int, level: dict[str, Any], trigger: str, currency: str | None) -> str:
    name, kind = str(level.get("name", "")), _kind(level)
    # The kind is said when the name does not already say it ("Prompt optimization").
    kind_line = (
        f'{BREAK}<FONT COLOR="#ffffff">{_html(kind)}</FONT>'
        if kind.casefold() != name.strip().casefold()
        else ""
    )
    rows = [
        f'<TR><TD ALIGN="LEFT" BALIGN="LEFT" BGCOLOR="#1f4e79"><FONT COLOR="#ffffff"><B>'
        f"{number}. {_html(name)}</B></FONT>{kind_line}{PAD}</TD></TR>",
        _row("Cost ceiling", _cost_ceiling(level, currency)),
        _row("Approval", _approval(level)),
        _row("Estimate", _cost_estimate(level, currency)),
        _row("Entry criteria", formatting.or_empty(level.get("entry_criteria"))),
    ]
    if trigger:
        rows.append(_row("Trigger", trigger))
    if direct_entry := _direct_entry(level):
        when, approver = direct_entry
        rows.append(_row("Direct entry", f"when {when}; approves the skip: {approver}"))
    return _table(rows, color="#5b6677")


def _table(rows: list[str], *, color: str) -> str:
    return (
        f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="6" COLOR="{color}">'
        + "".join(rows)
        + "</TABLE>>"
    )


# What leads to a level, as the ladder table under the drawing prints it ("Triggered by",
# escalation.artifacts.ladder). The drawing itself says it with side entries and edges.
def bounds_summary(
    threshold_key: str, bounds: list[dict[str, Any]], document: dict[str, Any]
) -> str:
    """ "Claims triage · all outputs: ≥ 0.985 field accuracy; p99 ≤ 8 s. Breached in 3 of the
    last 5 24-hour windows": the bounds of one threshold leading to a level, on one line."""
    systems = {system["key"]: system["name"] for system in document.get("ai_systems", [])}
    thresholds = {t["key"]: t for t in document.get("thresholds", [])}
    threshold = thresholds.get(threshold_key, {})
    system = systems.get(threshold.get("ai_system"), threshold.get("ai_system", ""))
    output = threshold.get("output_type") or "all outputs"
    phrases = "; ".join(bound_phrase(bound) for bound in bounds)
    rules = {
        formatting.trigger_rule(
            bound.get("trigger_breaches") or threshold.get("trigger_breaches"),
            bound.get("trigger_windows") or threshold.get("trigger_windows"),
            bound.get("window_hours") or threshold.get("measurement_window_hours"),
        )
        for bound in bounds
    }
    return f"{system} · {output}: {phrases}. " + "; ".join(sorted(rules))


def level_triggers(document: dict[str, Any], level: dict[str, Any]) -> list[str]:
    """What sends a model to `level`: its trigger, the bounds escalating to it (grouped by their
    threshold) and the failure modes routed to it."""
    triggers = [level["trigger"]] if level.get("trigger") else []
    by_threshold: dict[str, list[dict[str, Any]]] = {}
    for bound in document.get("bounds", []):
        if level["key"] in bound.get("escalates_to", []):
            by_threshold.setdefault(bound["threshold"], []).append(bound)
    triggers += [bounds_summary(key, bounds, document) for key, bounds in by_threshold.items()]
    failure_modes = [
        mode["name"]
        for mode in document.get("failure_modes", [])
        if mode.get("recommended_level") == level["key"]
    ]
    if failure_modes:
        triggers.append("Failure modes: " + ", ".join(failure_modes))
    return triggers


def ladder_title(document: dict[str, Any]) -> str:
    return f"Escalation ladder: {document.get('name', 'framework')}"


@dataclasses.dataclass
class _Entries:
    """What enters the ladder at one rung from the side: failure modes whose response path starts
    there, and bounds whose first escalation level it is (grouped by their trigger rule)."""

    failure_modes: list[str] = dataclasses.field(default_factory=list)
    # Trigger rule → (threshold, its bounds' phrases) for each threshold with bounds entering.
    bounds: dict[str, list[tuple[str, str]]] = dataclasses.field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.failure_modes or self.bounds)


def _then(later: list[str], numbers: dict[str, int]) -> str:
    """ "then 2, 3": the later rungs, by number."""
    return f"then {', '.join(str(numbers[key]) for key in later)}" if later else ""


def _noted(text: str, *notes: str) -> str:
    """ "Hallucination (critical; then 3)": notes in brackets, the empty ones left out."""
    said = "; ".join(note for note in notes if note)
    return f"{text} ({said})" if said else text


def failure_paths(document: dict[str, Any]) -> list[tuple[dict[str, Any], list[str]]]:
    """Each failure mode with its response path as the keys of existing levels, first to last:
    the recommended level, then the later rungs (a v1 document has none)."""
    known = {level.get("key") for level in document.get("levels", [])}
    paths = []
    for mode in document.get("failure_modes", []):
        path: list[str] = []
        for key in [mode.get("recommended_level"), *(mode.get("then_levels") or [])]:
            if key in known and (not path or path[-1] != key):
                path.append(key)
        paths.append((mode, path))
    return paths


def _trigger_rule(bound: dict[str, Any], threshold: dict[str, Any]) -> str:
    """The bound's own k-of-n rule, else its threshold's; none if either number is missing."""
    breaches = bound.get("trigger_breaches") or threshold.get("trigger_breaches")
    windows = bound.get("trigger_windows") or threshold.get("trigger_windows")
    hours = bound.get("window_hours") or threshold.get("measurement_window_hours")
    if breaches is None or windows is None or hours is None:
        return ""
    return formatting.trigger_rule(breaches, windows, hours)


def _threshold_names(document: dict[str, Any]) -> dict[str, str]:
    """Each threshold's key → "Claims triage · classification" ("· all outputs" for none)."""
    systems = {system.get("key"): system.get("name") for system in document.get("ai_systems", [])}
    return {
        str(threshold.get("key")): (
            f"{systems.get(threshold.get('ai_system')) or threshold.get('ai_system') or ''}"
            f" · {threshold.get('output_type') or 'all outputs'}"
        )
        for threshold in document.get("thresholds", [])
    }


def side_entries(document: dict[str, Any]) -> tuple[dict[str, _Entries], _Entries]:
    """What enters at each rung (by level key), and what is routed to no rung at all."""
    numbers = {level["key"]: n for n, level in enumerate(document.get("levels", []), start=1)}
    entries = {key: _Entries() for key in numbers}
    unrouted = _Entries()
    for mode, path in failure_paths(document):
        severity = _choice_label(Severity, mode.get("severity")) if mode.get("severity") else ""
        line = _noted(str(mode.get("name", "")), severity.lower(), _then(path[1:], numbers))
        (entries[path[0]] if path else unrouted).failure_modes.append(line)
    thresholds = {t.get("key"): t for t in document.get("thresholds", [])}
    # (first rung, rule, threshold, later rungs) → the phrases of the bounds sharing them.
    groups: dict[tuple[str, str, str, tuple[str, ...]], list[str]] = {}
    for bound in document.get("bounds", []):
        rungs = sorted(
            (key for key in bound.get("escalates_to") or [] if key in numbers),
            key=lambda key: numbers[key],
        )
        rule = _trigger_rule(bound, thresholds.get(bound.get("threshold"), {}))
        group = (rungs[0] if rungs else "", rule, str(bound.get("threshold")), tuple(rungs[1:]))
        groups.setdefault(group, []).append(bound_phrase(bound))
    names = _threshold_names(document)
    for (first, rule, threshold, later), phrases in groups.items():
        item = (
            names.get(threshold, threshold),
            _noted("; ".join(phrases), _then(list(later), numbers)),
        )
        (entries[first] if first else unrouted).bounds.setdefault(rule, []).append(item)
    return entries, unrouted


def _lines(text: str, width: int) -> list[str]:
    """`text` wrapped to `width`, broken after a "; " where it can be: a bound's phrases
    ("≥ 0.8 accuracy; p95 ≤ 1,500 ms") stay whole."""
    lines: list[str] = []
    for piece in re.split(r"(?<=;) ", " ".join(text.split())):
        if lines and len(lines[-1]) + 1 + len(piece) <= width:
            lines[-1] += " " + piece
        else:
            lines += textwrap.wrap(piece, width) or [""]
    return lines


def _item(*parts: str) -> str:
    """A bulleted item of a side entry, each part starting a line, the lines after the first
    indented under it."""
    lines = [line for part in parts for line in _lines(part, SIDE_COLUMNS - 2)]
    return "".join(
        f"{'• ' if number == 0 else NBSP * 2}{_html(line)}{BREAK}"
        for number, line in enumerate(lines)
    )


def _entries_rows(entries: _Entries) -> list[str]:
    rows = []
    if entries.failure_modes:
        lines = "".join(_item(name) for name in entries.failure_modes)
        rows.append(
            f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"><B>Failure modes</B>{BREAK}{lines}</TD></TR>'
        )
    for rule, bounds in entries.bounds.items():
        lines = "".join(_item(f"{threshold}:", phrases) for threshold, phrases in bounds)
        rule_line = f"<I>{_wrapped(rule + ':', SIDE_COLUMNS)}</I>" if rule else ""
        rows.append(
            f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"><B>Bounds</B>{BREAK}{rule_line}{lines}</TD></TR>'
        )
    return rows


def _shared_trigger(levels: list[dict[str, Any]]) -> str:
    """The trigger every rung states alike (a method default), said once, not on every rung."""
    triggers = {str(level.get("trigger") or "").strip() for level in levels}
    return triggers.pop() if len(levels) > 1 and len(triggers) == 1 else ""


def _edge(graph: graphviz.Digraph, kind: str, tail: str, head: str, **attrs: str) -> None:
    graph.edge(tail, head, **{"class": kind, **EDGE_STYLES[kind], **attrs})


def _legend_label(kinds: list[str]) -> str:
    """What each kind of edge drawn means, beside a sample of its colour and line."""
    rows = ['<TR><TD ALIGN="LEFT" COLSPAN="2"><B>Legend</B></TD></TR>']
    for kind in kinds:
        color = EDGE_STYLES[kind]["color"]
        rows.append(
            f'<TR><TD ALIGN="LEFT"><FONT COLOR="{color}">{LEGEND_SAMPLES[kind]}</FONT></TD>'
            f'<TD ALIGN="LEFT">{_html(EDGE_MEANINGS[kind])}{PAD}</TD></TR>'
        )
    return (
        '<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="4" COLOR="#d9dee6">'
        + "".join(rows)
        + "</TABLE>>"
    )


def _start_label(shared_trigger: str, unrouted: _Entries) -> str:
    rows = [f'<TR><TD ALIGN="LEFT"><B>Threshold breach or failure detected</B>{PAD}</TD></TR>']
    if shared_trigger:
        rows.append(_row("On every rung", shared_trigger))
    if unrouted:
        rows += [f'<TR><TD ALIGN="LEFT"><B>Not routed to a rung yet</B>{PAD}</TD></TR>']
        rows += _entries_rows(unrouted)
    return _table(rows, color="#5b6677")


def path_steps(document: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    """The later steps of the failure modes' response paths, (from level, to level) → the names
    of the failure modes taking that step, in the document's order."""
    steps: dict[tuple[str, str], list[str]] = {}
    for mode, path in failure_paths(document):
        for tail, head in itertools.pairwise(path):
            steps.setdefault((tail, head), []).append(str(mode.get("name", "")))
    return steps


@dataclasses.dataclass
class _Ladder:
    """What the drawing shows of a document, read once."""

    levels: list[dict[str, Any]]
    entries: dict[str, _Entries]
    unrouted: _Entries
    steps: dict[tuple[str, str], list[str]]
    skips: list[tuple[dict[str, Any], str]]  # (level, who approves the skip)
    rollbacks: list[tuple[dict[str, Any], dict[str, Any]]]  # (rung below, level)
    shared_trigger: str
    currency: str  # the framework's; a level without its own uses it

    @classmethod
    def read(cls, document: dict[str, Any]) -> _Ladder:
        levels = document.get("levels", [])
        entries, unrouted = side_entries(document)
        return cls(
            levels=levels,
            entries=entries,
            unrouted=unrouted,
            steps=path_steps(document),
            # Entering the first rung directly skips nothing: its condition shows on the rung.
            skips=[(level, entry[1]) for level in levels[1:] if (entry := _direct_entry(level))],
            rollbacks=[
                (below, level) for below, level in itertools.pairwise(levels) if _rolls_back(level)
            ],
            shared_trigger=_shared_trigger(levels),
            currency=str((document.get("governance") or {}).get("currency") or ""),
        )

    def edge_kinds(self) -> list[str]:
        """The kinds of edge drawn, in the legend's order."""
        drawn = {
            "chain": True,
            "entry": any(self.entries.values()),
            "path": bool(self.steps),
            "skip": bool(self.skips),
            "rollback": bool(self.rollbacks),
        }
        return [kind for kind in EDGE_STYLES if drawn[kind]]


def ladder_dot(document: dict[str, Any]) -> str:
    """The ladder as DOT: the rungs top to bottom with their ceilings and approval rules; failure
    modes and bounds entering from the side at their first rung; each failure mode's later steps,
    the permitted skips and the rollbacks as edges of their own; a legend of the edges."""
    document = upgrade_document(document)
    title = ladder_title(document)
    # The graph's name becomes the SVG's <title>: a quoted DOT string, where a backslash is an
    # escape (a name ending in one would swallow the closing quote), so it is escaped.
    graph = graphviz.Digraph(name=graphviz.escape(visible(title)), graph_attr={"rankdir": "TB"})
    graph.attr(
        label=f"<{_html(title)}>",
        labelloc="t",
        fontsize="16",
        fontname="DejaVu Sans",
        nodesep="0.3",
        ranksep="0.35",
    )
    graph.attr("node", shape="plain", fontname="DejaVu Sans", fontsize="10")
    # No text under 10 pt: a drawing up to 720 pt wide, shrunk to a page's width in the pack,
    # still prints it at 7 pt or more.
    graph.attr("edge", fontname="DejaVu Sans", fontsize="10", arrowsize="0.7")
    if not document.get("levels"):
        graph.node("empty", label="No escalation levels defined yet", shape="box", id="empty")
        return graph.source
    ladder = _Ladder.read(document)
    _draw_top(graph, ladder)
    _draw_rungs(graph, ladder)
    _draw_steps_and_rollbacks(graph, ladder)
    _draw_skips(graph, ladder)
    return graph.source


def _draw_top(graph: graphviz.Digraph, ladder: _Ladder) -> None:
    """The legend, the start and (when there are skips) the direct entry, side by side."""
    with graph.subgraph() as top:
        top.attr(rank="same")
        # Left of the start, above the side entries, where the drawing is as wide already.
        top.node("legend", label=_legend_label(ladder.edge_kinds()), id="legend", group="side")
        top.node(
            START_NODE,
            label=_start_label(ladder.shared_trigger, ladder.unrouted),
            id="node-detected",
            group="rungs",
        )
        # Flat edges keep their tail on the left: the legend left of the start, the skips'
        # entry point right of it, so their long edges run down the right-hand side.
        top.edge("legend", START_NODE, style="invis")
        if ladder.skips:
            top.node(
                DIRECT_ENTRY_NODE,
                label=_table(
                    [f"<TR><TD><B>Direct entry</B>{PAD}<BR/>skipping rungs{PAD}</TD></TR>"],
                    color=SKIP_COLOR,
                ),
                id="node-direct-entry",
            )
            top.edge(START_NODE, DIRECT_ENTRY_NODE, style="invis")


def _draw_rungs(graph: graphviz.Digraph, ladder: _Ladder) -> None:
    previous, side = START_NODE, "legend"
    for number, level in enumerate(ladder.levels, start=1):
        trigger = "" if ladder.shared_trigger else str(level.get("trigger") or "").strip()
        entries = ladder.entries[level["key"]]
        label = _level_label(number, level, trigger, ladder.currency)
        _rung(graph, level, label, entries, previous)
        previous = f"level-{level['key']}"
        if entries:
            # An unseen column from the legend down through the side entries keeps them all on
            # the left, clear of the skips on the right.
            graph.edge(side, f"entries-{level['key']}", style="invis")
            side = f"entries-{level['key']}"


def _draw_steps_and_rollbacks(graph: graphviz.Digraph, ladder: _Ladder) -> None:
    numbers = {level["key"]: number for number, level in enumerate(ladder.levels, start=1)}
    for (tail, head), names in ladder.steps.items():
        label = "".join(_wrapped(name, EDGE_COLUMNS) for name in names)
        _edge(
            graph,
            "path",
            f"level-{tail}",
            f"level-{head}",
            label=f"<{label}>",
            id=f"path-{tail}-to-{head}",
            # A step down the ladder must not pull the rungs out of their order.
            constraint="true" if numbers[tail] < numbers[head] else "false",
        )
    for below, level in ladder.rollbacks:
        # Drawn along the chain, its arrow at the rung below: it lies beside the chain edge.
        _edge(
            graph,
            "rollback",
            f"level-{below['key']}",
            f"level-{level['key']}",
            id=f"rollback-from-{level['key']}",
            dir="back",
        )


def _draw_skips(graph: graphviz.Digraph, ladder: _Ladder) -> None:
    """The permitted skips: one rail down the right from the direct entry, branching into each
    rung that may be entered directly, the branch labelled with who approves the skip. One rail,
    not an edge each, keeps the drawing as narrow with six skips as with one."""
    rail = DIRECT_ENTRY_NODE
    for level, approver in ladder.skips:
        key = level["key"]
        junction = f"skip-junction-{key}"
        with graph.subgraph() as rank:
            rank.attr(rank="same")
            rank.node(junction, label="", shape="point", width="0.06", color=SKIP_COLOR)
            # Drawn from the rung to the rail with its arrow at the rung: a flat edge keeps its
            # tail on the left, and the rail stays right of the ladder.
            _edge(
                rank,
                "skip",
                f"level-{key}",
                junction,
                dir="back",
                label=f"<{_wrapped(approver, SKIP_COLUMNS)}>",
                id=f"skip-to-{key}",
            )
        _edge(
            graph,
            "skip",
            rail,
            junction,
            arrowhead="none",
            id=f"skip-rail-to-{key}",
            **{"class": "skip-rail"},
        )
        rail = junction


def _rung(
    graph: graphviz.Digraph,
    level: dict[str, Any],
    label: str,
    entries: _Entries,
    previous: str,
) -> None:
    """One rung, the chain edge reaching it, and what enters it from the side, on its rank."""
    node = f"level-{level['key']}"
    with graph.subgraph() as rank:
        rank.attr(rank="same")
        if entries:
            rank.node(
                f"entries-{level['key']}",
                label=_table(_entries_rows(entries), color="#1f6f43"),
                id=f"entries-{level['key']}",
                group="side",
            )
            _edge(rank, "entry", f"entries-{level['key']}", node, id=f"entry-{level['key']}")
        rank.node(node, label=label, id=node, group="rungs")
    _edge(graph, "chain", previous, node, id=f"edge-to-{level['key']}")


def diagram_sha256(dot_source: str, format: str) -> str:
    # A changed DOT source has a new hash already; the version also retires drawings whose
    # source is unchanged but drawn differently (`render_dot`'s engine or options).
    return hashlib.sha256(f"{LADDER_DRAWING_VERSION}\n{format}\n{dot_source}".encode()).hexdigest()


def render_dot(dot_source: str, format: str) -> bytes:
    """The drawing of `dot_source`, from the cache or drawn now by `dot` and cached."""
    digest = diagram_sha256(dot_source, format)
    cached = DiagramRender.objects.filter(sha256=digest, format=format).first()
    if cached is not None:
        return bytes(cached.content)
    content = graphviz.Source(dot_source).pipe(format=format)
    # Two processes may draw the same ladder at once; the unique constraint keeps one row.
    DiagramRender.objects.bulk_create(
        [DiagramRender(sha256=digest, format=format, content=content)], ignore_conflicts=True
    )
    return content


class DiagramError(Exception):
    """graphviz refused to draw a ladder. The message is for the page and the pack task: it
    names the level graphviz choked on where known, and a reference to the logged details
    (graphviz's own error quotes paths and the DOT source, which a page must not show)."""

    def __init__(self, place: str, reference: str) -> None:
        where = f" (graphviz refused {place})" if place else ""
        super().__init__(
            f"The ladder diagram could not be drawn{where}. Reference {reference} in the log."
        )
        self.place, self.reference = place, reference


def _refused_place(document: dict[str, Any], stderr: bytes | str | None) -> str:
    """The level whose label graphviz refused, from its error ("in label of node level-x"; a
    rung's side entries are "entries-x")."""
    text = stderr.decode(errors="replace") if isinstance(stderr, bytes) else (stderr or "")
    match = re.search(r"(?:node|edge)[^\n]*?(?:level-|edge-to-|entries-)([a-z0-9-]+)", text)
    if match is None:
        return ""
    for number, level in enumerate(document.get("levels", []), start=1):
        if level.get("key") == match.group(1):
            return f"the label of level {number}, “{visible(str(level.get('name', '')))}”"
    return ""


def render_ladder(document: dict[str, Any], format: str = DiagramRender.Format.SVG) -> bytes:
    """The ladder drawn; DiagramError (never graphviz's raw error) if graphviz refuses it."""
    try:
        return render_dot(ladder_dot(document), format)
    except (graphviz.CalledProcessError, graphviz.ExecutableNotFound) as error:
        reference = uuid.uuid4().hex[:12]
        logger.exception("Ladder diagram refused by graphviz (reference %s)", reference)
        stderr = getattr(error, "stderr", None)
        raise DiagramError(_refused_place(document, stderr), reference) from error


def inline_svg(svg: bytes, title: str) -> str:
    """SVG ready to sit inside HTML: no XML prolog or DOCTYPE, labelled for screen readers."""
    text = svg.decode()
    text = text[text.index("<svg") :]
    return text.replace(
        "<svg", f'<svg role="img" aria-label="{_html(title)}" class="ladder-svg"', 1
    )
