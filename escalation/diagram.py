"""The escalation ladder diagram: DOT built from a framework document, drawn by graphviz.

`ladder_dot(document)` is the one DOT builder: a pure function of the document (no database), so
a frozen version draws exactly as frozen. `render_ladder(document, format)` draws it with `dot`,
keeping every drawing in `DiagramRender` under the hash of its DOT source: an unchanged ladder is
never drawn twice, by any process.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import textwrap
import uuid
from typing import Any

import graphviz

from escalation import formatting
from escalation.document import upgrade_document
from escalation.formatting import bound_phrase
from escalation.models import DiagramRender
from escalation.text import visible

logger = logging.getLogger(__name__)

WRAP_COLUMNS = 44
START_NODE = "detected"


def _html(text: Any) -> str:
    """Text for a graphviz HTML-like label: markup escaped, and control characters (which
    graphviz refuses, and a frozen version may hold) shown as their code point. Every text of
    the document reaches DOT inside an HTML-like label, where a backslash or a quote is plain."""
    return html.escape(visible(str(text)))


def _wrapped(text: str, columns: int = WRAP_COLUMNS) -> str:
    """Escaped for a graphviz HTML-like label, wrapped so no line runs off the node."""
    lines = textwrap.wrap(" ".join(str(text).split()), columns) or [""]
    return '<BR ALIGN="LEFT"/>'.join(_html(line) for line in lines) + '<BR ALIGN="LEFT"/>'


def _level_label(number: int, level: dict[str, Any], currency: str | None) -> str:
    owner = formatting.approval_owner(
        level.get("approval_owner_name"), level.get("approval_owner_role")
    )
    owner += f"; {formatting.level_approval(level)}"
    timeline = formatting.level_timeline(level)
    cost = formatting.level_estimate(level, currency)
    rows = [
        f'<TR><TD ALIGN="LEFT" BGCOLOR="#1f4e79"><FONT COLOR="#ffffff"><B>'
        f"{number}. {_html(level['name'])}</B></FONT></TD></TR>",
        f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"><B>Entry criteria</B><BR ALIGN="LEFT"/>'
        f"{_wrapped(formatting.or_empty(level.get('entry_criteria')))}</TD></TR>",
        f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"><B>Approval owner</B><BR ALIGN="LEFT"/>'
        f"{_wrapped(owner)}</TD></TR>",
        f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"><B>Estimated cost</B> '
        f"{_html(cost)}"
        f'<BR ALIGN="LEFT"/><B>Timeline</B> {_html(timeline)}<BR ALIGN="LEFT"/></TD></TR>',
    ]
    return (
        '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="6" COLOR="#5b6677">'
        + "".join(rows)
        + "</TABLE>>"
    )


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


def _edge_label(triggers: list[str]) -> str:
    if not triggers:
        return "<<I>no trigger stated</I>>"
    return "<" + "".join(_wrapped(f"• {trigger}", 52) for trigger in triggers) + ">"


def ladder_title(document: dict[str, Any]) -> str:
    return f"Escalation ladder: {document.get('name', 'framework')}"


def ladder_dot(document: dict[str, Any]) -> str:
    """The ladder as DOT: levels top to bottom, each edge labelled with what leads to the level."""
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
        nodesep="0.4",
    )
    graph.attr("node", shape="plain", fontname="DejaVu Sans", fontsize="10")
    graph.attr("edge", fontname="DejaVu Sans", fontsize="9", color="#5b6677")
    levels = document.get("levels", [])
    if not levels:
        graph.node("empty", label="No escalation levels defined yet", shape="box", id="empty")
        return graph.source
    graph.node(
        START_NODE,
        label="Threshold breach or failure detected",
        shape="box",
        style="rounded,filled",
        fillcolor="#f4f6f9",
        id="node-detected",
    )
    previous = START_NODE
    for number, level in enumerate(levels, start=1):
        node = f"level-{level['key']}"
        graph.node(
            node,
            label=_level_label(number, level, document.get("governance", {}).get("currency")),
            id=node,
        )
        graph.edge(
            previous,
            node,
            label=_edge_label(level_triggers(document, level)),
            id=f"edge-to-{level['key']}",
        )
        previous = node
    return graph.source


def diagram_sha256(dot_source: str, format: str) -> str:
    return hashlib.sha256(f"{format}\n{dot_source}".encode()).hexdigest()


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
    """The level whose label graphviz refused, from its error ("in label of node level-x")."""
    text = stderr.decode(errors="replace") if isinstance(stderr, bytes) else (stderr or "")
    match = re.search(r"(?:node|edge)[^\n]*?(?:level-|edge-to-)([a-z0-9-]+)", text)
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
