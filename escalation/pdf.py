"""The PDF pack: every PDF goes through `render_pack`, with a fetcher that reads nothing remote.

The caller passes what the pack needs of the engagement (cover, decisions, sign-off) as a
`PackContext`; this module knows nothing of people and roles. `build_pack` is the one path from a
document to the file handed out: render, then sign when the version is signed off.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import weasyprint
from django.conf import settings
from django.template.loader import render_to_string

from escalation import artifacts
from escalation.diagram import ladder_title, render_ladder
from escalation.diff import SectionChanges, sections_from_json, sections_to_json
from escalation.signing import sign_pdf


@dataclasses.dataclass(frozen=True)
class SignOff:
    approver: str
    role: str
    approved_at: str
    sha256: str
    # As recorded at approval time: who the approver was and how they proved it.
    email: str = ""
    authenticated: str = ""


@dataclasses.dataclass(frozen=True)
class Decision:
    date: str
    author: str
    text: str


@dataclasses.dataclass(frozen=True)
class ChangesSince:
    """What changed since the last version signed off before this one, item by item: the
    "Changes since vN" section a re-approver reads first."""

    version_label: str
    version_sha256: str
    sections: list[SectionChanges]

    def to_json(self) -> dict[str, Any]:
        return {
            "version_label": self.version_label,
            "version_sha256": self.version_sha256,
            "sections": sections_to_json(self.sections),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChangesSince:
        return cls(
            data["version_label"], data["version_sha256"], sections_from_json(data["sections"])
        )


@dataclasses.dataclass(frozen=True)
class PackContext:
    """What the pack shows about the engagement, as plain, JSON-ready data."""

    client: str
    engagement: str
    version_label: str
    status: str
    signed_off: bool
    version_sha256: str
    generated_at: str
    dates: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    decisions: list[Decision] = dataclasses.field(default_factory=list)
    approvals: list[SignOff] = dataclasses.field(default_factory=list)
    # A signed-off pack is rendered from a sign-off record: its SHA-256 and the register's ledger
    # head at sign-off, so the file names the evidence it was made from.
    record_sha256: str = ""
    ledger_head: str = ""
    # For a version after the first sign-off; None before (and for a signed-off version whose
    # sign-off record predates recording the version it followed).
    changes_since: ChangesSince | None = None
    # The engagement's holidays (ISO dates) the review dates are moved off; a record frozen
    # before they were carried has none, and its dates are moved off weekends only.
    holidays: list[str] = dataclasses.field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        # Each left out when there is none: a pack requested before the section existed keeps
        # its request key, so its stored file is still the one returned.
        del data["changes_since"]
        if self.changes_since is not None:
            data["changes_since"] = self.changes_since.to_json()
        if not self.holidays:
            del data["holidays"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PackContext:
        return cls(
            **{
                **data,
                "dates": [tuple(pair) for pair in data.get("dates", [])],
                "decisions": [Decision(**d) for d in data.get("decisions", [])],
                "approvals": [SignOff(**a) for a in data.get("approvals", [])],
                "changes_since": (
                    ChangesSince.from_json(data["changes_since"])
                    if data.get("changes_since")
                    else None
                ),
            }
        )

    @property
    def signature_reason(self) -> str:
        return f"Approved escalation framework {self.version_label}, SHA-256 {self.version_sha256}"


def static_roots() -> list[Path]:
    roots = [Path(directory).resolve() for directory in settings.STATICFILES_DIRS]
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT).resolve())
    return roots


class StaticOnlyFetcher(weasyprint.URLFetcher):
    """Fetches our own static files and `data:` URLs; refuses everything else.

    A pack renders text that workshop participants typed; nothing in it may make the server
    read a local file outside `static/` or reach out to the network.
    """

    def fetch(self, url: str, headers: Any = None) -> Any:
        parsed = urlparse(url)
        if parsed.scheme == "data":
            return super().fetch(url, headers)
        if parsed.scheme == "file":
            path = Path(unquote(parsed.path)).resolve()
            if any(path.is_relative_to(root) for root in static_roots()) and path.is_file():
                return super().fetch(url, headers)
        raise ValueError(f"The pack may only use static files and data: URLs, not {url}")


SVG = "{http://www.w3.org/2000/svg}"
# Parts are written back as plain <svg>, not <ns0:svg>, which no renderer would draw.
ET.register_namespace("", SVG[1:-1])
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
# The part of an A4 portrait page (pack.css: 22/16/20 mm margins) a ladder part may fill: the full
# width, and the height less room for the section's heading above the first part.
LADDER_PART_WIDTH_PT = 504
LADDER_PART_HEIGHT_PT = 620
# Where a line of text reaches above and below its baseline, in ems (DejaVu Sans).
ASCENT_EM, DESCENT_EM = 0.93, 0.24
# Room kept around a box or label when the drawing is cut, so borders stay with their text.
CUT_MARGIN_PT = 7


Span = tuple[float, float]
# The attribute holding a graphviz shape's points ("x,y x,y" or a path's "Mx,yCx,y ...").
SHAPES = {f"{SVG}polygon": "points", f"{SVG}polyline": "points", f"{SVG}path": "d"}
COORDINATES = re.compile(r"(-?[\d.]+),(-?[\d.]+)")


class _Drawing:
    """A graphviz SVG and where its text sits, in its viewBox's units (points, y downwards)."""

    def __init__(self, svg: bytes) -> None:
        self.root = ET.fromstring(svg)
        _x, _y, self.width, self.height = (float(n) for n in self.root.get("viewBox", "").split())
        graph = self.root.find(f"{SVG}g")
        transform = graph.get("transform", "") if graph is not None else ""
        # graphviz draws in its own coordinates (y upwards from the bottom), moved into the
        # viewBox by the top group's transform: "scale(s s) rotate(0) translate(x y)".
        scale = re.search(r"scale\(([\d.]+)", transform)
        shift = re.search(r"translate\([-\d.]+ ([-\d.]+)\)", transform)
        self.scale = float(scale.group(1)) if scale else 1.0
        self.shift = float(shift.group(1)) if shift else 0.0
        self.groups = graph.findall(f"{SVG}g") if graph is not None else []
        self.extents = {id(group): self.extent(group) for group in self.groups}

    def line(self, text: ET.Element) -> Span:
        """Top and bottom of one line of text."""
        baseline = self.scale * (float(text.get("y", 0)) + self.shift)
        size = self.scale * float(text.get("font-size", 14))
        return baseline - ASCENT_EM * size, baseline + DESCENT_EM * size

    def lines(self, element: ET.Element) -> list[Span]:
        return [self.line(text) for text in element.iter(f"{SVG}text")]

    def extent(self, group: ET.Element) -> Span | None:
        """Top and bottom of everything a box or edge draws (shapes and text), or None when it
        draws nothing with coordinates we read."""
        ys = [
            self.scale * (float(y) + self.shift)
            for shape in group.iter()
            if shape.tag in SHAPES
            for _x, y in COORDINATES.findall(shape.get(SHAPES[shape.tag], ""))
        ]
        for ellipse in group.iter(f"{SVG}ellipse"):
            middle, radius = float(ellipse.get("cy", 0)), float(ellipse.get("ry", 0))
            ys += [self.scale * (middle + self.shift + side * radius) for side in (-1, 1)]
        ys += [y for line in self.lines(group) for y in line]
        return (min(ys), max(ys)) if ys else None

    def window(self, top: float, bottom: float) -> ET.Element:
        """A copy of the drawing without the boxes and edges wholly above `top` or below
        `bottom`. Unseen through a part's window, they would still be parsed, styled and drawn
        in every part (the ten-times ladder, in 27 parts, drew each shape 27 times)."""
        graph = self.root.find(f"{SVG}g")

        def shallow(element: ET.Element) -> ET.Element:
            copied = ET.Element(element.tag, element.attrib)
            copied.text, copied.tail = element.text, element.tail
            return copied

        part = shallow(self.root)
        for child in self.root:
            if child is not graph:
                part.append(copy.deepcopy(child))
                continue
            shown = shallow(graph)
            for element in graph:
                extent = self.extents.get(id(element))
                if extent is None or (extent[1] >= top and extent[0] <= bottom):
                    shown.append(copy.deepcopy(element))
            part.append(shown)
        return part

    def blocks(self) -> list[Span]:
        """Each box and each edge label as one span, with a margin for its borders."""
        spans = []
        for group in self.groups:
            lines = self.lines(group)
            if lines:
                top, bottom = min(t for t, _ in lines), max(b for _, b in lines)
                spans.append((top - CUT_MARGIN_PT, bottom + CUT_MARGIN_PT))
        return spans


def _cuts(height: float, limit: float, lines: list[Span], blocks: list[Span]) -> list[float]:
    """Where to cut a drawing `height` tall into parts at most `limit` tall: never through a
    line of text, and between boxes and labels (`blocks`) wherever one part can hold them."""

    def clear(y: float, spans: list[Span]) -> bool:
        return not any(top < y < bottom for top, bottom in spans)

    cuts, start = [0.0], 0.0
    candidates = sorted({bottom for _top, bottom in lines} | {b for _t, b in blocks})
    while height - start > limit:
        fitting = [y for y in candidates if start < y <= start + limit and clear(y, lines)]
        between_blocks = [y for y in fitting if clear(y, blocks)]
        # A label longer than a part is cut between two of its lines; no line is ever cut.
        start = max(between_blocks or fitting or [start + limit])
        cuts.append(start)
    return [*cuts, height]


def ladder_parts(svg: bytes, title: str) -> list[str]:
    """The ladder drawing cut into page-sized parts, each drawn at full size (or shrunk only to
    the page's width), so its text stays readable however many levels the ladder has. Each part
    is the same drawing seen through a window, holding only the text inside that window."""
    drawing = _Drawing(svg)
    shrink = min(1.0, LADDER_PART_WIDTH_PT / drawing.width)
    everything = drawing.lines(drawing.root)
    cuts = _cuts(drawing.height, LADDER_PART_HEIGHT_PT / shrink, everything, drawing.blocks())
    windows = list(zip(cuts, cuts[1:], strict=False))
    parts = []
    for number, (top, bottom) in enumerate(windows, start=1):
        part = drawing.window(top - CUT_MARGIN_PT, bottom + CUT_MARGIN_PT)
        part.attrib.update(
            {
                "viewBox": f"0 {top:.2f} {drawing.width:.2f} {bottom - top:.2f}",
                "width": f"{drawing.width:.2f}pt",
                "height": f"{bottom - top:.2f}pt",
                "class": "ladder-svg",
                "role": "img",
                "aria-label": title if len(windows) == 1 else f"{title}, part {number}",
            }
        )
        # Text outside the window is not seen, but the PDF would still carry it as words; and
        # the parts repeat the drawing's ids, which name nothing in the pack.
        for parent in list(part.iter()):
            parent.attrib.pop("id", None)
            for text in parent.findall(f"{SVG}text"):
                line_top, line_bottom = drawing.line(text)
                if line_bottom <= top or line_top >= bottom:
                    parent.remove(text)
        parts.append(ET.tostring(part, encoding="unicode"))
    return parts


def pack_html(document: dict[str, Any], context: PackContext) -> str:
    svg = render_ladder(document)
    return render_to_string(
        "escalation/pack.html",
        {
            "document": document,
            "pack": context,
            **artifacts.sections(document, context.holidays),
            "ladder_svg": "".join(
                f'<div class="ladder-part">{part}</div>'
                for part in ladder_parts(svg, ladder_title(document))
            ),
            "ladder_title": ladder_title(document),
        },
    )


def render_pack(document: dict[str, Any], context: PackContext) -> bytes:
    """The pack as PDF bytes (unsigned)."""
    base_url = static_roots()[0].as_uri() + "/"
    html = weasyprint.HTML(
        string=pack_html(document, context), base_url=base_url, url_fetcher=StaticOnlyFetcher()
    )
    return html.write_pdf()


def build_pack(
    document: dict[str, Any],
    context: PackContext,
    on_progress: Callable[[int], None] | None = None,
) -> bytes:
    """The file handed out: the rendered pack, signed when its version is signed off."""
    pdf = render_pack(document, context)
    if on_progress:
        on_progress(70)
    if context.signed_off:
        pdf = sign_pdf(pdf, reason=context.signature_reason)
    return pdf
