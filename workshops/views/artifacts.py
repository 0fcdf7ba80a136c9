"""The four artifacts as pages and files, the ladder diagram, and the PDF pack.

Every view works for a frozen version (`number`) and for the working draft (no number), and
renders from the framework document only, so a version shows exactly as it was frozen.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from config.middleware import SignedInRequest
from escalation import artifacts, caching
from escalation.diagram import (
    LADDER_DRAWING_VERSION,
    DiagramError,
    inline_svg,
    ladder_title,
    render_ladder,
)
from escalation.document import export_text
from escalation.exports import CONTENT_TYPE as MONITORING_CONTENT_TYPE
from escalation.exports import monitoring_file_names, monitoring_files
from escalation.models import DiagramRender, Pack, PackStatus
from escalation.models.versions import version_label
from escalation.tasks import request_pack
from workshops.links import numbered_url
from workshops.models import Capability, Engagement, Review, ReviewState, get_engagement_for
from workshops.packs import (
    ArtifactSource,
    artifact_source,
    changes_since,
    monitoring_cache_kind,
    monitoring_stamp,
    pack_context,
)

LINK_NAMES = [
    "artifacts",
    "ladder_svg",
    "ladder_png",
    "register_csv",
    "matrix_csv",
    "ladder_csv",
    "review_cycle_csv",
    "review_cycle_ics",
    "document_json",
    "pack",
    "pack_generate",
]
DIAGRAM_TYPES = {DiagramRender.Format.SVG: "image/svg+xml", DiagramRender.Format.PNG: "image/png"}


def artifact_links(slug: str, number: int | None) -> dict[str, str]:
    if number is None:
        links = {name: reverse(name, kwargs={"slug": slug}) for name in LINK_NAMES}
        # The draft's pages by name: client roles landing on the bare address see a version.
        links["artifacts"] += "?show=draft"
        links["pack"] += "?show=draft"
        return links
    return {
        name: reverse(f"version_{name}", kwargs={"slug": slug, "number": number})
        for name in LINK_NAMES
    }


def _attachment(content: bytes | str, content_type: str, filename: str) -> HttpResponse:
    return HttpResponse(
        content,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _download(
    request: HttpRequest,
    source: ArtifactSource,
    kind: str,
    render: Callable[[dict[str, Any]], bytes | str],
    content_type: str,
    filename: str,
) -> HttpResponse:
    """A file rendered from the document. A frozen version's is rendered once (cached by its
    hash) and carries an ETag from the hash, so a browser that has it gets 304 Not Modified."""
    if source.version is None:
        # The draft's file is cached by its hash too: a hash names one content.
        sha256 = source.engagement.draft_sha256()
        content = caching.for_hashes(kind, [sha256], lambda: render(source.document))
        return _attachment(content, content_type, filename)
    etag = f'"{source.version.sha256}-{kind}"'
    if (not_modified := get_conditional_response(request, etag=etag)) is not None:
        return not_modified
    content = caching.for_hashes(kind, [source.version.sha256], lambda: render(source.document))
    response = _attachment(content, content_type, filename)
    response.headers["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)
    return response


def _exportable_source(engagement: Engagement, number: int | None) -> ArtifactSource:
    """The source of a file download, or 403: which capability a file needs depends on the
    version's sign-off, known only after lookup."""
    source = artifact_source(engagement, number)
    if not engagement.membership.can(source.export_capability):
        raise PermissionDenied("Only people taking part in the review may have draft files.")
    return source


def _version_switcher(
    engagement: Engagement, number: int | None, link_name: str
) -> list[tuple[str, str, bool]]:
    """(label, address, is the one shown) for the working draft and every frozen version: three
    columns of each review, no model instances (250 versions at ten times today's largest),
    read once per review revision of the engagement."""
    reviews = engagement.once_per_review_revision(
        "version-switcher",
        lambda: list(
            Review.objects.filter(engagement=engagement)
            .order_by("-version__number")
            .values_list("version__number", "state", "signed_off_at")
        ),
    )
    draft_url = reverse(link_name, kwargs={"slug": engagement.slug}) + "?show=draft"
    version_url = numbered_url(f"version_{link_name}", engagement.slug)
    choices = [("Working draft", draft_url, number is None)]
    for version_number, state, signed_off_at in reviews:
        words = "signed off" if signed_off_at else _state_words(ReviewState(state))
        label = f"{version_label(version_number)} ({words})"
        choices.append((label, version_url(version_number), version_number == number))
    return choices


def _state_words(state: ReviewState) -> str:
    # A frozen version is never called a draft: "draft" is the moving working copy.
    if state == ReviewState.DRAFT:
        return "frozen, not in review"
    return state.label.lower()


def _client_default(request: HttpRequest, engagement: Engagement, link_name: str) -> str | None:
    """Where the client roles land on the Artifacts tab: the latest signed-off version, which is
    what they approved; the facilitators' default stays the working draft they edit."""
    if engagement.membership.can(Capability.EDIT) or request.GET.get("show") == "draft":
        return None
    latest = (
        Review.objects.filter(engagement=engagement, signed_off_at__isnull=False)
        .select_related("version")
        .defer("version__document")
        .order_by("-version__number")
        .first()
    )
    if latest is None:
        return None
    return reverse(
        f"version_{link_name}", kwargs={"slug": engagement.slug, "number": latest.version.number}
    )


@require_GET
def artifacts_page(request: HttpRequest, slug: str, number: int | None = None) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.VIEW)
    if number is None and (default := _client_default(request, engagement, "artifacts")):
        return redirect(default)
    source = artifact_source(engagement, number)
    sha256 = source.version.sha256 if source.version else engagement.draft_sha256()
    response = render(
        request,
        "workshops/artifacts/artifacts.html",
        {
            "engagement": engagement,
            "source": source,
            "links": artifact_links(slug, number),
            "switcher": _version_switcher(engagement, number, "artifacts"),
            "content_slot": mark_safe(CONTENT_SLOT),  # noqa: S308 (our own comment)
            "changes_since": changes_since(source),
            "may_export": engagement.membership.can(source.export_capability),
            "monitoring_links": monitoring_links(source),
        },
    )
    # The page around the artifacts is rendered, the artifacts' bytes spliced in: at ten times
    # today's largest they are 1.5 MB, which a template would decode, copy and encode again.
    # The slot cannot come from typed text: every `<` of it is escaped.
    before, after = response.content.split(CONTENT_SLOT.encode(), 1)
    response.content = b"".join([before, _content_html(source, sha256, engagement.holidays), after])
    return response


# Where the artifacts go in the page around them (artifacts.html).
CONTENT_SLOT = "<!-- the artifacts -->"


class _LadderRefused(Exception):
    """The artifacts laid out with the ladder's refusal in its place: shown, never kept (the
    refusal names a log reference of this attempt, and graphviz may be missing only for now)."""

    def __init__(self, html: str) -> None:
        super().__init__("The ladder was not drawn.")
        self.html = html


def _content_html(source: ArtifactSource, sha256: str, holidays: list[Any]) -> bytes:
    """The artifacts as the document `sha256` lays them out, as UTF-8: laid out once per
    document, drawing of the ladder and holidays (the review dates move off them), and kept in
    this process's memory too, as the bytes a response sends."""
    content = _ArtifactContent(source)

    def lay_out() -> bytes:
        html = render_to_string("workshops/artifacts/artifacts.html#content", {"content": content})
        if content.ladder_refused:
            raise _LadderRefused(html)
        return html.encode()

    days = ",".join(sorted(day.isoformat() for day in holidays))
    holidays_hash = hashlib.sha256(days.encode()).hexdigest()
    kind = f"artifacts-html.v{LADDER_DRAWING_VERSION}"
    try:
        return caching.for_hashes(kind, [sha256, holidays_hash], lay_out)
    except _LadderRefused as refused:
        return refused.html.encode()


class _ArtifactContent:
    """What the artifacts page prints of a document, computed on first use: only when the
    template's fragment cache (keyed by the document's hash) misses."""

    def __init__(self, source: ArtifactSource) -> None:
        self.source = source  # its document is read (a frozen version's, deferred) on a miss
        self.values: dict[str, Any] | None = None
        self.ladder_refused = False

    def __call__(self) -> dict[str, Any]:
        if self.values is None:
            document = self.source.document
            try:
                ladder_svg = inline_svg(render_ladder(document), ladder_title(document))
            except DiagramError as error:
                # Why not, in place of the ladder: the other artifacts still show.
                self.ladder_refused = True
                ladder_svg = format_html('<p class="field-error" role="alert">{}</p>', str(error))
            self.values = {
                **artifacts.sections(document, self.source.engagement.holidays),
                "ladder_svg": ladder_svg,
                "ladder_title": ladder_title(document),
            }
        return self.values


@require_GET
def ladder_download(
    request: HttpRequest, slug: str, format: str, number: int | None = None
) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.VIEW)
    source = _exportable_source(engagement, number)
    try:
        return _download(
            request,
            source,
            # The drawing's version in the cache key and the ETag: a frozen version's ladder
            # drawn by an earlier builder is drawn again, and no browser keeps the old one.
            f"ladder.v{LADDER_DRAWING_VERSION}.{format}",
            lambda document: render_ladder(document, format),
            DIAGRAM_TYPES[DiagramRender.Format(format)],
            f"{source.file_stem}-ladder.{format}",
        )
    except DiagramError as error:
        return HttpResponse(str(error), content_type="text/plain; charset=utf-8", status=422)


@require_GET
def register_csv(request: HttpRequest, slug: str, number: int | None = None) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.VIEW)
    source = _exportable_source(engagement, number)
    return _download(
        request,
        source,
        "register.csv",
        artifacts.register_csv,
        "text/csv; charset=utf-8",
        f"{source.file_stem}-threshold-register.csv",
    )


@require_GET
def matrix_csv(request: HttpRequest, slug: str, number: int | None = None) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.VIEW)
    source = _exportable_source(engagement, number)
    return _download(
        request,
        source,
        "matrix.csv",
        artifacts.matrix_csv,
        "text/csv; charset=utf-8",
        f"{source.file_stem}-failure-mode-matrix.csv",
    )


@require_GET
def ladder_csv(request: HttpRequest, slug: str, number: int | None = None) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.VIEW)
    source = _exportable_source(engagement, number)
    return _download(
        request,
        source,
        "ladder.csv",
        artifacts.ladder_csv,
        "text/csv; charset=utf-8",
        f"{source.file_stem}-ladder-governance.csv",
    )


@require_GET
def review_cycle_csv(request: HttpRequest, slug: str, number: int | None = None) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.VIEW)
    source = _exportable_source(engagement, number)
    holidays = engagement.holidays
    # The next dates move off the engagement's holidays: other holidays, another file.
    kind = "reviews.csv:" + ",".join(sorted(day.isoformat() for day in holidays))
    return _download(
        request,
        source,
        kind,
        lambda document: artifacts.review_cycle_csv(document, holidays),
        "text/csv; charset=utf-8",
        f"{source.file_stem}-review-protocol.csv",
    )


@require_GET
def review_cycle_ics(request: HttpRequest, slug: str, number: int | None = None) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.VIEW)
    source = _exportable_source(engagement, number)
    title = f"{engagement.client_organisation} escalation framework reviews"
    uid_prefix = f"{engagement.public_id}-{source.file_stem}"
    holidays = engagement.holidays
    filename = f"{source.file_stem}-reviews.ics"

    def calendar(document: dict[str, Any], stamp: datetime.datetime | None = None) -> bytes:
        return artifacts.review_cycle_calendar(
            document, title=title, uid_prefix=uid_prefix, holidays=holidays, stamp=stamp
        )

    if source.version is None:  # the moving draft's events are stamped now
        return _attachment(calendar(source.document), "text/calendar; charset=utf-8", filename)
    # A version's events are stamped when it was frozen, so its file is the same bytes every
    # time: kept by its hash, with the name and holidays it shows.
    stamp = source.version.created_at
    inputs = hashlib.sha256(repr((title, uid_prefix, sorted(holidays))).encode()).hexdigest()[:16]
    return _download(
        request,
        source,
        f"reviews.ics:{inputs}",
        lambda document: calendar(document, stamp),
        "text/calendar; charset=utf-8",
        filename,
    )


@require_GET
def framework_json(request: HttpRequest, slug: str, number: int | None = None) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.VIEW)
    source = _exportable_source(engagement, number)
    return _download(
        request,
        source,
        "framework.json",
        export_text,
        "application/json",
        f"{source.file_stem}-framework.json",
    )


MONITORING_LABELS = {
    "prometheus-rules.yml": "Prometheus rules",
    "prometheus-rules.test.yml": "Prometheus rule tests",
    "openslo.yaml": "OpenSLO",
    "litellm.yaml": "LiteLLM routing",
}


def monitoring_links(source: ArtifactSource) -> list[tuple[str, str]]:
    """(label, address) of each monitoring file of a signed-off version; none for the rest. Which
    files a version has is read from its document once, then kept by its hash."""
    if source.version is None or not source.signed_off:
        return []
    return [
        (
            MONITORING_LABELS[name],
            reverse(
                "version_monitoring_file",
                kwargs={
                    "slug": source.engagement.slug,
                    "number": source.version.number,
                    "filename": name,
                },
            ),
        )
        for name in _monitoring_names(source)
    ]


def _monitoring_names(source: ArtifactSource) -> list[str]:
    assert source.version is not None
    return caching.for_hashes(
        "monitoring-names", [source.version.sha256], lambda: monitoring_file_names(source.document)
    )


@require_GET
def monitoring_file(request: HttpRequest, slug: str, number: int, filename: str) -> HttpResponse:
    """A deploy-ready monitoring file (docs/monitoring-exports.md) of a signed-off version."""
    engagement = get_engagement_for(request.user, slug, Capability.VIEW)
    source = _exportable_source(engagement, number)
    if not source.signed_off:
        raise Http404("Monitoring files are made only from a signed-off version.")
    if filename not in _monitoring_names(source):
        raise Http404(f"{source.label} has no {filename}.")
    stamp = monitoring_stamp(source)
    return _download(
        request,
        source,
        monitoring_cache_kind(stamp, filename),
        lambda document: monitoring_files(document, stamp)[filename],
        MONITORING_CONTENT_TYPE,
        f"{source.file_stem}-{filename}",
    )


@require_GET
def pack_page(request: SignedInRequest, slug: str, number: int | None = None) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.VIEW)
    if (
        number is None
        and not request.htmx
        and (default := _client_default(request, engagement, "pack"))
    ):
        return redirect(default)
    source = artifact_source(engagement, number)
    # A pack made before sign-off (watermarked DRAFT) is not the one to offer after it.
    pack = (
        Pack.objects.of(engagement.framework, source.version)
        .filter(signed=source.signed_off)
        .defer("pdf", "document")
        .first()
    )
    template = "workshops/artifacts/pack.html"
    return render(
        request,
        f"{template}#pack-status" if request.htmx else template,
        {
            "engagement": engagement,
            "source": source,
            "pack": pack,
            "links": artifact_links(slug, number),
            "switcher": [] if request.htmx else _version_switcher(engagement, number, "pack"),
            "may_have_pack": engagement.membership.can(source.export_capability),
        },
    )


@require_POST
def generate_pack(request: HttpRequest, slug: str, number: int | None = None) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.VIEW)
    source = _exportable_source(engagement, number)
    request_pack(engagement.framework, source.version, source.document, pack_context(source))
    return redirect(artifact_links(slug, number)["pack"])


@require_GET
def pack_download(request: HttpRequest, slug: str, public_id: UUID) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.VIEW)
    pack = get_object_or_404(
        Pack.objects.select_related("framework", "version"),
        framework=engagement.framework,
        public_id=public_id,
        status=PackStatus.READY,
    )
    if not pack.signed and not engagement.membership.can(Capability.COMMENT):
        raise PermissionDenied("Only people taking part in the review may have a draft pack.")
    assert pack.pdf is not None  # a ready pack has its PDF (constraint pack_ready_has_pdf)
    return _attachment(bytes(pack.pdf), "application/pdf", pack.filename)
