"""The PDF pack: every PDF goes through `render_pack`, with a fetcher that reads nothing remote.

The caller passes what the pack needs of the engagement (cover, decisions, sign-off) as a
`PackContext`; this module knows nothing of people and roles. `build_pack` is the one path from a
document to the file handed out: render, then sign when the version is signed off.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import weasyprint
from django.conf import settings
from django.template.loader import render_to_string

from escalation import artifacts
from escalation.diagram import inline_svg, ladder_title, render_ladder
from escalation.signing import sign_pdf


@dataclasses.dataclass(frozen=True)
class SignOff:
    approver: str
    role: str
    approved_at: str
    sha256: str


@dataclasses.dataclass(frozen=True)
class Decision:
    date: str
    author: str
    text: str


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

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PackContext:
        return cls(
            **{
                **data,
                "dates": [tuple(pair) for pair in data.get("dates", [])],
                "decisions": [Decision(**d) for d in data.get("decisions", [])],
                "approvals": [SignOff(**a) for a in data.get("approvals", [])],
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


def pack_html(document: dict[str, Any], context: PackContext) -> str:
    svg = render_ladder(document)
    return render_to_string(
        "escalation/pack.html",
        {
            "document": document,
            "pack": context,
            "register": artifacts.threshold_register(document),
            "ladder": artifacts.ladder(document),
            "matrix": artifacts.response_matrix(document),
            "protocol": artifacts.review_cycle_protocol(document),
            "ladder_svg": inline_svg(svg, ladder_title(document)),
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
