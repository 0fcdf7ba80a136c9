"""Versions of the framework, their review and sign-off.

Version pages render from the frozen snapshot (`version.document`), never from today's tables;
only the compare page reads the working draft, and only when asked to (`b=draft`).
"""

from __future__ import annotations

import hashlib
import html
from collections import defaultdict
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Case, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import linebreaks
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST

from config.middleware import SignedInRequest
from escalation import caching, frozen
from escalation.diff import SectionChanges, anchors_of, count_changes, diff_documents
from escalation.formatting import date_time
from escalation.frozen import OutlineSection
from escalation.models import FrameworkVersion
from escalation.presentation import ReadableItem
from escalation.versions import NothingToFreezeError
from workshops.links import numbered_url, url_of
from workshops.models import (
    Approval,
    Capability,
    Comment,
    Engagement,
    Membership,
    RequiredApprover,
    Review,
    ReviewEvent,
    get_engagement_for,
)
from workshops.paging import page_of
from workshops.people import name_from
from workshops.review_forms import (
    DRAFT,
    ApproveForm,
    CommentForm,
    CompareForm,
    FreezeForm,
    RequestChangesForm,
    WithdrawForm,
)
from workshops.signoff import MOVES, IllegalReviewMoveError

# Versions

VERSIONS_PAGE_SIZE = 50


@require_GET
def version_list(request: HttpRequest, slug: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug)
    return _version_list_page(request, engagement, FreezeForm())


@require_POST
def version_freeze(request: HttpRequest, slug: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.EDIT)
    form = FreezeForm(request.POST)
    if form.is_valid():
        try:
            review = engagement.freeze_version(request.user, form.cleaned_data["summary"])
        except NothingToFreezeError as nothing:
            form.add_error(None, str(nothing))
        else:
            messages.success(request, f"Froze {review.version.label}. Submit it when ready.")
            return redirect("version_detail", slug, review.version.number)
    return _version_list_page(request, engagement, form, status=422)


@dataclass
class VersionRow:
    """A version in the list: its review (state, sign-off, open threads move) and its row's
    cells of frozen content, printed."""

    review: Review
    printed: PrintedVersionRow


@dataclass(frozen=True)
class PrintedVersionRow:
    """A version's row in the list as it prints for everyone, but for its state and open
    threads: its number linking to its page, what changed, who froze it and when, its
    fingerprint and its artifacts and pack links (the pack's named as signed or not)."""

    version_cell: SafeString
    frozen_cells: SafeString
    ending: SafeString
    ending_signed: SafeString


def _version_list_page(
    request: HttpRequest, engagement: Engagement, form: FreezeForm, status: int = 200
) -> HttpResponse:
    # Queries: the latest version's hash, then the working draft's document (a constant
    # handful) to say whether it moved since; the page of reviews is kept under the revision.
    page = _reviews_page(engagement, request.GET.get("page"))
    printed = _printed_version_rows(engagement, [review.version for review in page.object_list])
    rows = [VersionRow(review, row) for review, row in zip(page.object_list, printed, strict=True)]
    latest = (
        FrameworkVersion.objects.filter(framework=engagement.framework)
        .only("number", "sha256")
        .order_by("-number")
        .first()
    )
    draft_sha256 = engagement.draft_sha256()
    context = {
        "engagement": engagement,
        "page": page,
        "rows": rows,
        "latest": latest,
        "form": form,
        "draft_changed": latest is None or latest.sha256 != draft_sha256,
        "can_freeze": engagement.membership.can(Capability.EDIT),
    }
    return render(request, "workshops/versions/list.html", context, status=status)


def _reviews_page(engagement: Engagement, number: str | None) -> Page[Review]:
    """Page `number` of the engagement's reviews, newest first, with their versions (documents
    deferred) and open-thread counts: read once per review revision of the engagement (one
    query, two when they do not fit on one page)."""
    reviews = (
        Review.objects.filter(engagement=engagement)
        .select_related("version")
        .defer("version__document")
        .with_open_threads()
        .order_by("-version__number")
    )
    if not (number and number.isdigit()):
        number = None  # what Paginator.get_page shows for it: the first page

    def compute() -> tuple[list[Review], int, int]:
        page = page_of(reviews, VERSIONS_PAGE_SIZE, number)
        return list(page.object_list), page.number, page.paginator.count

    rows, shown, count = engagement.once_per_review_revision(
        "versions-page",
        compute,
        number,
    )
    paginator = Paginator(reviews, VERSIONS_PAGE_SIZE)
    paginator.count = count  # Paginator.count is a cached_property: this is it
    return Page(rows, shown, paginator)


def _printed_version_rows(
    engagement: Engagement, versions: list[FrameworkVersion]
) -> list[PrintedVersionRow]:
    """The rows of a page of versions, rendered once per engagement, page of versions and time
    zone (the moments print in it): fifty rows' cells were most of the list's rendering."""

    def compute() -> list[PrintedVersionRow]:
        detail, artifacts, pack = (
            numbered_url(name, engagement.slug)
            for name in ("version_detail", "version_artifacts", "version_pack")
        )
        version_cell, frozen_cells, ending = (
            get_template(f"workshops/versions/list.html#{name}")
            for name in ("version-cell", "frozen-cells", "row-ending")
        )
        rows = []
        for version in versions:
            context = {
                "version": version,
                "detail_url": detail(version.number),
                "artifacts_url": artifacts(version.number),
                "pack_url": pack(version.number),
            }
            rows.append(
                PrintedVersionRow(
                    SafeString(version_cell.render(context)),
                    SafeString(frozen_cells.render(context)),
                    SafeString(ending.render(context | {"signed": False})),
                    SafeString(ending.render(context | {"signed": True})),
                )
            )
        return rows

    # One name for the page's versions, however many: a version's public id and hash name its
    # row forever (the database refuses to change any column of a frozen version, summary and
    # author included), so the digest of them all names this page's rows.
    page_hash = hashlib.sha256(
        " ".join(f"{version.public_id}:{version.sha256}" for version in versions).encode()
    ).hexdigest()
    kind = f"version-rows:{engagement.slug}:{timezone.get_current_timezone_name()}"
    return caching.for_hashes(kind, [page_hash], compute)


# One version and its review


@require_GET
def version_detail(request: SignedInRequest, slug: str, number: int) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug)
    shown = _review_on_page(engagement, number)
    review, threads = shown.review, shown.threads
    opened, reply = request.GET.get("comment"), request.GET.get("reply")
    if request.htmx and opened is not None:
        # "Comment on …" fetched by htmx: that item's discussion with its form open.
        if opened not in frozen.item_titles(review.version):
            raise Http404(f"{review.version.label} has no item {opened}.")
        response = _discussion(
            request, engagement, review, opened, commenting=True, threads=threads
        )
    elif request.htmx and reply is not None:
        # "Reply" fetched by htmx: the thread's discussion with its reply form open.
        thread = _thread(threads, reply)
        if thread is None:
            raise Http404(f"No such thread on {review.version.label}.")
        response = _discussion(
            request,
            engagement,
            review,
            thread.anchor,
            page_number=_page_in(threads, thread),
            replying=thread,
            threads=threads,
        )
    else:
        page_number = request.GET.get("page")
        context = _detail(request, engagement, shown, page_number=page_number)
        response = render(request, "workshops/versions/detail.html", context)
    patch_vary_headers(response, ["HX-Request"])  # one address, the page or one discussion
    return response


@require_POST
def version_submit(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.EDIT)
    review = _review(engagement, number)
    if _move(request, lambda: review.submit(request.user)):
        messages.success(request, f"Submitted {review.version.label} for review.")
    return redirect("version_detail", slug, number)


@require_POST
def version_withdraw(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.EDIT)
    review = _review(engagement, number)
    form = WithdrawForm(request.POST, prefix="withdraw")
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    if _move(request, lambda: review.withdraw(request.user, reason)):
        messages.success(request, f"Withdrew {review.version.label} from review.")
    return redirect("version_detail", slug, number)


@require_POST
def version_approve(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.APPROVE)
    review = _review(engagement, number)
    form = ApproveForm(request.POST, prefix="approve", request=request)
    if not form.is_valid() or form.authentication is None:
        return _detail_page(request, engagement, review, {"approve_form": form})
    outcome: dict[str, bool] = {}
    authentication = form.authentication

    def approve() -> None:
        reason = form.cleaned_data["reason"]
        outcome["signed_off"] = review.approve(request.user, reason, authentication=authentication)

    if _move(request, approve):
        messages.success(
            request,
            f"{review.version.label} is signed off."
            if outcome["signed_off"]
            else f"You approved {review.version.label}; other approvals are still needed.",
        )
    return redirect("version_detail", slug, number)


@require_POST
def version_request_changes(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.APPROVE)
    review = _review(engagement, number)
    form = RequestChangesForm(request.POST, prefix="changes", request=request)
    if not form.is_valid() or form.authentication is None:
        return _detail_page(request, engagement, review, {"changes_form": form})
    reason, authentication = form.cleaned_data["reason"], form.authentication
    if _move(
        request,
        lambda: review.request_changes(request.user, reason, authentication=authentication),
    ):
        messages.success(request, f"Requested changes on {review.version.label}.")
    return redirect("version_detail", slug, number)


@require_POST
def version_comment(request: SignedInRequest, slug: str, number: int) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.COMMENT)
    review = _review(engagement, number)
    form = CommentForm(request.POST)
    parent_id = form.cleaned_data.get("parent") if form.is_valid() else None
    parent = review.comments.filter(pk=parent_id).first() if parent_id is not None else None
    if parent_id is not None and parent is None:
        # A reply to a comment of another version or engagement, or to none: never a new thread.
        form.add_error(None, "The comment you replied to is not on this version.")
    if form.is_valid():
        try:
            comment = review.add_comment(
                request.user, form.cleaned_data["body"], form.cleaned_data["item"], parent
            )
        except (ValidationError, IllegalReviewMoveError) as refused:
            # Flattened: the item and parent are hidden fields, so their errors go on top.
            form.add_error(None, getattr(refused, "messages", [str(refused)]))
        else:
            page = _page_of_thread(review, comment) if not comment.anchor else 1
            if request.htmx:
                return _discussion(request, engagement, review, comment.anchor, page_number=page)
            url = reverse("version_detail", args=[slug, number])
            return redirect(f"{url}{_comment_query(review, comment)}#comment-{comment.pk}")
    if request.htmx:
        return _discussion(request, engagement, review, form.data.get("item", ""), form)
    context = _detail(request, engagement, _read_review(review, review.baseline(), slug), form)
    context |= {"comment_form_errors": True}
    return render(request, "workshops/versions/detail.html", context, status=422)


@require_POST
def comment_resolve(request: HttpRequest, slug: str, number: int, comment_id: int) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.COMMENT)
    review = _review(engagement, number)
    comment = review.comments.filter(pk=comment_id).first()
    if comment is None:
        raise Http404("No such comment on this version.")
    if _move(request, lambda: comment.resolve(request.user)):
        messages.success(request, "Thread resolved.")
    return redirect(
        reverse("version_detail", args=[slug, number])
        + f"{_comment_query(review, comment)}#comment-{comment.pk}"
    )


def _review(engagement: Engagement, number: int) -> Review:
    review = (
        Review.objects.filter(engagement=engagement, version__number=number)
        .select_related("version", "engagement")
        .defer("version__document")  # read only where a page needs it and no cache has it
        .first()
    )
    if review is None:
        raise Http404(f"There is no v{number} in this engagement.")
    review.engagement = engagement  # keep the membership the permission check attached
    return review


def _review_and_baseline(engagement: Engagement, number: int) -> tuple[Review, Review | None]:
    """`_review` and its `baseline()` in one query: the version's review sorts first, then the
    others in the order a baseline is chosen. Neither is attached to `engagement`, whose
    membership is who asks: they are kept in the cache for everyone (`_review_on_page`)."""
    this_one_first = Case(When(version__number=number, then=Value(0)), default=Value(1))
    found = list(
        Review.objects.filter(engagement=engagement, version__number__lte=number)
        .select_related("version")  # not the engagement: the permission check read it
        .defer("version__document")  # read only where a page needs it and no cache has it
        .in_baseline_order(this_one_first)[:2]
    )
    if not found or found[0].version.number != number:
        raise Http404(f"There is no v{number} in this engagement.")
    return found[0], found[1] if len(found) > 1 else None


@dataclass(frozen=True)
class ReviewOnPage:
    """What a version page shows of its review besides the frozen framework, the same for
    everyone: the review and its baseline, the threads, the approvals with the sign-off rows,
    and the history. What who asks may do (`may`, the decision forms) is decided per request."""

    review: Review
    baseline: Review | None
    threads: dict[str, list[ShownComment]]
    approvals: list[Approval]
    signoff_rows: list[tuple[RequiredApprover | None, Approval | None]]
    events: list[ReviewEvent]


def _review_on_page(engagement: Engagement, number: int) -> ReviewOnPage:
    """Version `number`'s review as its page shows it, read once per review revision of the
    engagement (ReviewRevision: the database moves it with every write to a review, its
    comments, approvals, events and required approvers, and to the names of who wrote them). A
    version page's next request reads none of it: five queries fewer."""

    def compute() -> ReviewOnPage:
        return _read_review(*_review_and_baseline(engagement, number), engagement.slug)

    shown = engagement.once_per_review_revision(
        "version-page",
        compute,
        engagement.slug,  # in the threads' links
        number,
    )
    for review in (shown.review, shown.baseline):
        if review is not None:
            review.engagement = engagement  # with the membership the permission check attached
    return shown


def _read_review(review: Review, baseline: Review | None, slug: str) -> ReviewOnPage:
    """`review`'s threads, approvals, sign-off rows and history, read now (four queries)."""
    approvals = list(review.approvals.all())  # the names are kept on each approval
    approved_by = {a.approver_id: a for a in approvals if a.decision == Approval.Decision.APPROVED}
    events = review.events.select_related("actor").only(  # what the history prints of each
        "action", "reason", "created_at", *(f"actor__{c}" for c in PERSON_COLUMNS)
    )
    return ReviewOnPage(
        review,
        baseline,
        _threads_by_anchor(review, slug),
        approvals,
        _signoff_rows(review, approved_by),
        list(events),
    )


def _move(request: HttpRequest, move: Callable[[], object]) -> bool:
    """Make a review move; a refused move becomes a message on the page, not an error page."""
    try:
        move()
    except (IllegalReviewMoveError, ValidationError) as refused:
        messages.error(request, " ".join(getattr(refused, "messages", [str(refused)])))
        return False
    return True


def _detail_page(
    request: HttpRequest, engagement: Engagement, review: Review, forms: dict[str, Any]
) -> HttpResponse:
    """The version page again with a bound form and its errors (status 422, input kept)."""
    context = (
        _detail(request, engagement, _read_review(review, review.baseline(), engagement.slug))
        | forms
    )
    return render(request, "workshops/versions/detail.html", context, status=422)


@dataclass
class ItemOnPage:
    """An item with its discussion; `item` None is the discussion of the whole version."""

    item: ReadableItem | None
    changed: bool
    threads: list[ShownComment] = field(default_factory=list)
    form: CommentForm | None = None  # a comment on it that did not save, with its errors
    page: Page[ShownComment] | None = None  # the whole version's discussion comes in pages
    commenting: bool = False  # its comment form shows open ("Comment on …" was followed)
    printed: PrintedItem | None = None  # what prints the same for everyone (on a version page)
    ending: SafeString | None = None  # the end of its article, printed: no discussion to show


THREADS_PAGE_SIZE = 50


def _general_discussion(
    threads: list[ShownComment], page_number: str | int | None, form: CommentForm | None = None
) -> ItemOnPage:
    """One page of the threads on the whole version ("last" is the newest page)."""
    paginator = Paginator(threads, THREADS_PAGE_SIZE)
    page = paginator.get_page(paginator.num_pages if page_number == "last" else page_number)
    return ItemOnPage(None, False, list(page.object_list), form, page)


def _comment_query(review: Review, comment: Comment) -> str:
    """The version page's query showing `comment`: the page of the whole version's discussion
    holding its thread, or the page of the framework holding its item."""
    if comment.anchor:
        page = _items_page(frozen.outline(review.version), comment.anchor) or 1
        return f"?items={page}" if page > 1 else ""
    page = _page_of_thread(review, comment)
    return f"?page={page}" if page > 1 else ""


def _page_of_thread(review: Review, comment: Comment) -> int:
    """Which page of the whole version's discussion shows `comment`'s thread."""
    root = comment.parent or comment
    earlier = review.comments.filter(parent=None, anchor="", created_at__lte=root.created_at)
    return max(1, -(-earlier.count() // THREADS_PAGE_SIZE))


def _discussion(
    request: HttpRequest,
    engagement: Engagement,
    review: Review,
    anchor: str,
    form: CommentForm | None = None,
    page_number: str | int | None = "last",
    commenting: bool = False,
    replying: ShownComment | None = None,
    threads: dict[str, list[ShownComment]] | None = None,
) -> HttpResponse:
    """One item's discussion, as htmx swaps it in after a comment (422 with the form's errors)
    or to open its comment form or a reply form; the whole version's discussion on the page
    that shows the comment."""
    membership: Membership = engagement.membership
    titles = frozen.item_titles(review.version)
    item = ReadableItem(anchor, titles.get(anchor, anchor), [], True) if anchor else None
    threads = _threads_by_anchor(review, engagement.slug) if threads is None else threads
    context = {
        "engagement": engagement,
        "version": review.version,
        "comment_url": reverse("version_comment", args=[engagement.slug, review.version.number]),
        "page_url": reverse("version_detail", args=[engagement.slug, review.version.number]),
        "may": {action: review.may(membership, action) for action in MOVES},
        "entry": ItemOnPage(item, False, threads.get(anchor, []), form, commenting=commenting)
        if anchor
        else _general_discussion(threads.get("", []), page_number, form),
        "replying": replying.pk if replying else None,
    }
    status = 422 if form is not None else 200
    return render(request, "workshops/versions/detail.html#discussion", context, status=status)


def _thread(threads: dict[str, list[ShownComment]], value: str | None) -> ShownComment | None:
    """The thread named by `value` (a first comment's id, as ?reply= gives it), if it is one of
    these."""
    if not value or not value.isdigit():
        return None
    return next((t for ts in threads.values() for t in ts if t.pk == int(value)), None)


def _page_in(threads: dict[str, list[ShownComment]], thread: ShownComment) -> int | None:
    """The page of the whole version's discussion that shows `thread` (None: an item's)."""
    if thread.anchor:
        return None
    return threads[""].index(thread) // THREADS_PAGE_SIZE + 1


def _detail(
    request: HttpRequest,
    engagement: Engagement,
    shown: ReviewOnPage,
    comment_form: CommentForm | None = None,
    page_number: str | int | None = None,
) -> dict[str, Any]:
    # No queries of its own: the frozen framework and the review come from the cache.
    review, baseline, threads = shown.review, shown.baseline, shown.threads
    membership: Membership = engagement.membership
    # Frozen content is rendered once per hash (escalation.frozen); documents are read on a miss.
    changes = (
        _changes(
            (str(baseline.version.number), baseline.version.sha256),
            (str(review.version.number), review.version.sha256),
            lambda: frozen.diff(baseline.version, review.version),
        )
        if baseline
        else None
    )
    failed_anchor = comment_form.data.get("item", "") if comment_form is not None else None
    opened = request.GET.get("comment") if comment_form is None else None
    replying = _thread(threads, request.GET.get("reply")) if comment_form is None else None
    if replying is not None and not replying.anchor:
        page_number = _page_in(threads, replying)
    # The framework comes a page of items at a time; a comment that did not save, or an item
    # whose comment or reply form was asked for, shows on the page of its item.
    focus = failed_anchor or opened or (replying.anchor if replying else None)
    items_page = (focus and _items_page(frozen.outline(review.version), focus)) or _page_number(
        request.GET.get("items")
    )
    if items_page > 1:  # past the end shows the last page (and keeps no page of its own)
        outline = frozen.outline(review.version)
        items_page = min(items_page, _items_pages(sum(len(s.items) for s in outline)))
    printed = _printed_page(engagement, review, baseline, changes, items_page)
    may = {action: review.may(membership, action) for action in MOVES}
    sections = [
        (
            section,
            [
                _item_on_page(
                    shown,
                    threads,
                    comment_form if shown.item.anchor == failed_anchor else None,
                    opened == shown.item.anchor,
                    may["comment"],
                )
                for shown in items
            ],
        )
        for section, items in printed.sections
    ]
    any_entry_has_form = any(entry.form for _, entries in sections for entry in entries)
    return {
        "engagement": engagement,
        "review": review,
        "version": review.version,
        "document_name": printed.name,
        "baseline": baseline,
        "changes": changes,
        "sections": [
            (section, _runs(entries, _article_printed_whole)) for section, entries in sections
        ],
        "comment_url": reverse("version_comment", args=[engagement.slug, review.version.number]),
        "contents": _contents(review.version, printed, threads, sections),
        "items_pages": _items_pager(printed.items, items_page),
        "general": _general_discussion(
            threads.get("", []),
            # A comment that did not save is typed on the newest page of the discussion.
            "last" if comment_form is not None else page_number,
            # A comment on an item this version lacks shows its error in the general discussion.
            comment_form if failed_anchor is not None and not any_entry_has_form else None,
        ),
        "approvals": shown.approvals,
        "signoff_rows": shown.signoff_rows,
        "events": shown.events,
        "may": may,
        "page_url": printed.page_url,
        "replying": replying.pk if replying else None,
        # The decision forms, for those who may decide now (each reads the session's sign-in).
        "approve_form": ApproveForm(prefix="approve", request=request) if may["approve"] else None,
        "changes_form": RequestChangesForm(prefix="changes", request=request)
        if may["request_changes"]
        else None,
    }


# The frozen framework on a version page, this many items to a page (a section may run over
# pages): ten times the largest engagement has about 2,600.
ITEMS_PAGE_SIZE = 100


def _page_number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and int(value) > 0 else 1


def _items_pages(total: int) -> int:
    """How many pages of ITEMS_PAGE_SIZE items a version of `total` items takes (at least one)."""
    return max(1, -(-total // ITEMS_PAGE_SIZE))


def _items_page(outline: list[OutlineSection], anchor: str | None) -> int | None:
    """The page of the framework on which the item `anchor` first shows (None: not in it)."""
    index = 0
    for section in outline:
        for item_anchor, first_showing in section.items:
            if item_anchor == anchor and first_showing:
                return index // ITEMS_PAGE_SIZE + 1
            index += 1
    return None


@dataclass(frozen=True)
class PrintedItem:
    """An item on a page of a version as it prints for everyone: the opening of its article
    (heading and fields); the article's end where no discussion shows, with or without the
    link that opens a comment on it; its line in the contents, open for a comment count or whole
    ("" where the item shows again). `item` keeps no fields."""

    item: ReadableItem
    changed: bool
    head: SafeString
    ending: SafeString
    ending_commentable: SafeString
    contents_open: SafeString
    contents_line: SafeString


def _item_on_page(
    shown: PrintedItem,
    threads: dict[str, list[ShownComment]],
    form: CommentForm | None,
    commenting: bool,
    may_comment: bool,
) -> ItemOnPage:
    """An item on a version page: its discussion shows where it first shows (a level shows in
    the ladder and again in governance); without threads or an open form, its article's end
    is printed too."""
    if not shown.item.first_showing:
        return ItemOnPage(shown.item, shown.changed, printed=shown, ending=shown.ending)
    entry = ItemOnPage(
        shown.item,
        shown.changed,
        threads.get(shown.item.anchor, []),
        form,
        commenting=commenting,
        printed=shown,
    )
    if not (entry.threads or form or commenting):
        entry.ending = shown.ending_commentable if may_comment else shown.ending
    return entry


@dataclass(frozen=True)
class PrintedRun:
    """Neighbouring items of a page that print the same for everyone there (no discussion of
    theirs shows), as one piece of HTML: the template prints a run at the cost of one item."""

    html: SafeString


def _runs(
    entries: list[ItemOnPage], printed_whole: Callable[[ItemOnPage], SafeString | None]
) -> list[PrintedRun | ItemOnPage]:
    """`entries` with each run of those that print whole (`printed_whole` gives their HTML, or
    None for an entry the template prints with its discussion) joined into a PrintedRun."""
    runs: list[PrintedRun | ItemOnPage] = []
    pending: list[str] = []
    for entry in entries:
        html = printed_whole(entry)
        if html is None:
            if pending:
                runs.append(PrintedRun(SafeString("".join(pending))))
                pending = []
            runs.append(entry)
        else:
            pending.append(html)
    if pending:
        runs.append(PrintedRun(SafeString("".join(pending))))
    return runs


def _article_printed_whole(entry: ItemOnPage) -> SafeString | None:
    if entry.printed is None or entry.ending is None:
        return None  # its discussion shows
    return SafeString(entry.printed.head + entry.ending)


def _contents_line_printed_whole(entry: ItemOnPage) -> SafeString | None:
    if entry.printed is None or entry.threads:
        return None  # its line shows how many comments it has
    return entry.printed.contents_line


@dataclass(frozen=True)
class PrintedSection:
    """A section in the contents of a version: how many items it holds and how many of them
    changed since the baseline, the link to the page it starts on."""

    key: str
    title: str
    items: int
    changed: int
    href: str


@dataclass(frozen=True)
class PrintedPage:
    """Page `number` of a version's framework as it prints for everyone: everything on it but
    the discussions, the comment counts and the forms, which move."""

    name: Any
    page_url: str
    items: int  # in the whole version
    contents: list[PrintedSection]
    sections: list[tuple[frozen.SectionHeading, list[PrintedItem]]]


def _printed_page(
    engagement: Engagement,
    review: Review,
    baseline: Review | None,
    changes: RenderedChanges | None,
    number: int,
) -> PrintedPage:
    """A page of the version's framework, rendered once per version, baseline, engagement and
    page (the links name them): the hundred items' headings, fields and links are most of a
    version page's rendering."""
    changed = changes.changed if changes else frozenset()
    baseline_label = baseline.version.label if baseline else ""

    def compute() -> PrintedPage:
        shown = frozen.version_page(review.version, number, ITEMS_PAGE_SIZE)
        # Absolute: a page printed in answer to a comment's POST has another address.
        page_url = reverse("version_detail", args=[engagement.slug, review.version.number])
        head_template, ending_template, contents_template = (
            get_template(f"workshops/versions/detail.html#{name}")
            for name in ("printed-item", "printed-ending", "contents-item")
        )
        audit_url = reverse("audit", args=[engagement.slug])

        def printed(item: ReadableItem, fields_html: SafeString) -> PrintedItem:
            context = {
                "item": item,
                "changed": item.anchor in changed,
                "fields_html": fields_html,
                "audit_url": audit_url,
                "page_url": page_url,
                "baseline_label": baseline_label,
            }
            ending, ending_commentable = (
                ending_template.render(context | {"commentable": commentable})
                for commentable in (False, True)
            )
            contents_open, contents_line = (
                contents_template.render(context | {"closed": closed}) for closed in (False, True)
            )
            return PrintedItem(
                item,
                item.anchor in changed,
                SafeString(head_template.render(context)),
                SafeString(ending),
                SafeString(ending_commentable),
                SafeString(contents_open),
                SafeString(contents_line),
            )

        return PrintedPage(
            shown.name,
            page_url,
            sum(len(section.items) for section in shown.outline),
            _printed_contents(shown.outline, number, changed),
            [
                (heading, [printed(entry.item, entry.fields_html) for entry in entries])
                for heading, entries in shown.sections
            ],
        )

    baseline_number = baseline.version.number if baseline else 0
    kind = f"version-page:{engagement.slug}:{review.version.number}:{baseline_number}:{number}"
    hashes = (review.version.sha256, baseline.version.sha256 if baseline else "-")
    return caching.for_hashes(kind, hashes, compute)


def _printed_contents(
    outline: list[OutlineSection], number: int, changed: AbstractSet[str]
) -> list[PrintedSection]:
    sections, start = [], 0
    for section in outline:
        page = start // ITEMS_PAGE_SIZE + 1 if section.items else number
        sections.append(
            PrintedSection(
                section.key,
                section.title,
                len(section.items),
                sum(
                    1
                    for anchor, first_showing in section.items
                    if first_showing and anchor in changed
                ),
                ("" if page == number else f"?items={page}") + f"#section-{section.key}",
            )
        )
        start += len(section.items)
    return sections


@dataclass
class ContentsEntry:
    """A section in the version's contents (how many items and changes it holds, the link to
    the page where it starts), how many comments it holds, and its items on this page."""

    section: PrintedSection
    comments: int
    shown: list[PrintedRun | ItemOnPage]  # its items' lines, runs without comments joined


def _contents(
    version: FrameworkVersion,
    printed: PrintedPage,
    threads: dict[str, list[ShownComment]],
    sections: list[tuple[Any, list[ItemOnPage]]],
) -> list[ContentsEntry]:
    shown = {section.key: items for section, items in sections}
    comments: dict[str, int] = defaultdict(int)
    if any(threads.keys() - {""}):  # the items' threads, by the section each item shows first in
        for section in frozen.outline(version):
            for anchor, first_showing in section.items:
                if first_showing and anchor in threads:
                    comments[section.key] += len(threads[anchor])
    return [
        ContentsEntry(
            section,
            comments[section.key],
            _runs(shown.get(section.key, []), _contents_line_printed_whole),
        )
        for section in printed.contents
    ]


def _items_pager(total: int, number: int) -> dict[str, Any]:
    pages = _items_pages(total)
    return {
        "number": number,
        "count": pages,
        "start": min(total, (number - 1) * ITEMS_PAGE_SIZE + 1),
        "end": min(total, number * ITEMS_PAGE_SIZE),
        "total": total,
        "previous": number - 1 if number > 1 else None,
        "next": number + 1 if number < pages else None,
    }


def _signoff_rows(
    review: Review, approved_by: dict[int, Approval]
) -> list[tuple[RequiredApprover | None, Approval | None]]:
    """Each required approver with their approval, then any approval from someone who was not
    required when the version was submitted (shown, so nobody mistakes it for a sign-off)."""
    required = review.required_approvers()
    rows: list[tuple[RequiredApprover | None, Approval | None]] = [
        (r, approved_by.get(r.user_id)) for r in required
    ]
    counted = {r.user_id for r in required}
    rows += [(None, a) for user_id, a in approved_by.items() if user_id not in counted]
    return rows


@dataclass
class ShownComment:
    """A comment as a version page prints it, read as columns: its author's name by
    display_name's rule (None: the account is gone); a first comment also has its replies in
    order, its resolution, the address its resolve button posts to and that of its reply form."""

    pk: int
    anchor: str
    body: str
    created_at: datetime
    author: str | None
    replies: list[ShownComment] = field(default_factory=list)
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolve_url: str = ""
    reply_url: str = ""  # the version page with its reply form open

    @property
    def comments_html(self) -> SafeString:
        """The thread's comments as the thread partial shows them (its first comment with its
        resolution, then its replies), printed in Python: a version page shows up to fifty
        threads, and their comments through the template engine were a third of its time."""
        zone = timezone.get_current_timezone()  # once a thread, not once a comment
        parts = [_comment_html(self, zone, resolution=True)]
        for reply in self.replies:
            parts.append(
                f'<div class="reply" id="comment-{reply.pk}">{_comment_html(reply, zone)}</div>'
            )
        return mark_safe("".join(parts))  # noqa: S308 (every text above is escaped)


# Who wrote or resolved a comment whose account is gone.
FORMER_MEMBER = "Former member"


def _comment_html(comment: ShownComment, zone: tzinfo, resolution: bool = False) -> str:
    """A comment's author, time (in `zone`) and body (escaped, its paragraphs as Django's
    `linebreaks`)."""
    resolved = ""
    if resolution and comment.resolved_at:
        resolver = html.escape(comment.resolved_by or FORMER_MEMBER)
        resolved = f' <span class="badge badge-approved">Resolved by {resolver}</span>'
    return (
        f'<p class="comment-meta"><strong>{html.escape(comment.author or FORMER_MEMBER)}</strong> '
        f'<span class="muted">{date_time(comment.created_at.astimezone(zone))}</span>'
        f'{resolved}</p><div class="comment-body">{linebreaks(comment.body, autoescape=True)}</div>'
    )


def _threads_by_anchor(review: Review, slug: str) -> dict[str, list[ShownComment]]:
    """First comments grouped by the anchor of their item, each with its replies (one query,
    its columns only: a page shows fifty threads, and model instances of each comment, its
    author and its resolution were most of their cost)."""
    rows = review.comments.values_list(
        "pk",
        "anchor",
        "body",
        "created_at",
        "parent_id",
        *(f"author__{column}" for column in PERSON_COLUMNS),
        "resolution__created_at",
        *(f"resolution__resolved_by__{column}" for column in PERSON_COLUMNS),
    )
    number = review.version.number
    resolve_url = url_of("comment_resolve", slug, "comment_id", number=number)
    page_url = reverse("version_detail", args=[slug, number])
    firsts: dict[int, ShownComment] = {}
    replies: list[tuple[int, ShownComment]] = []
    person = len(PERSON_COLUMNS)
    for pk, anchor, body, created_at, parent_id, *rest in rows:
        author, (resolved_at, *resolver) = rest[:person], rest[person:]
        comment = ShownComment(pk, anchor, body, created_at, _name(author))
        if parent_id is not None:
            replies.append((parent_id, comment))
            continue
        if resolved_at is not None:
            comment.resolved_at, comment.resolved_by = resolved_at, _name(resolver)
        comment.resolve_url, comment.reply_url = resolve_url(pk), f"{page_url}?reply={pk}"
        firsts[pk] = comment
    for parent_id, reply in replies:
        if parent_id in firsts:  # threads are one level deep (Review.add_comment)
            firsts[parent_id].replies.append(reply)
    threads: dict[str, list[ShownComment]] = defaultdict(list)
    for thread in firsts.values():
        threads[thread.anchor].append(thread)
    return threads


PERSON_COLUMNS = ("first_name", "last_name", "username")  # what display_name reads of a user


def _name(columns: Sequence[str | None]) -> str | None:
    """A person's name from PERSON_COLUMNS read through a nullable link (None: nobody)."""
    first_name, last_name, username = columns
    if username is None:
        return None
    return name_from(first_name or "", last_name or "", username)


# Compare any two versions, or a version and the working draft


@require_GET
def version_compare(request: HttpRequest, slug: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug)
    versions = [
        (str(number), sha256)
        for number, sha256 in FrameworkVersion.objects.filter(framework=engagement.framework)
        .order_by("number")
        .values_list("number", "sha256")
    ]
    numbers = [int(number) for number, _ in versions]
    if not numbers:
        context: dict[str, Any] = {"engagement": engagement, "form": None, "changes": None}
        return render(request, "workshops/versions/compare.html", context)
    form = CompareForm(request.GET or {"a": str(numbers[-1]), "b": DRAFT}, numbers=numbers)
    context = {"engagement": engagement, "form": form, "changes": None}
    if not form.is_valid():
        return render(request, "workshops/versions/compare.html", context, status=422)
    a, b = form.cleaned_data["a"], form.cleaned_data["b"]
    hashes = dict(versions)
    if DRAFT in (a, b):
        hashes[DRAFT] = engagement.draft_sha256()
    context |= {
        "changes": _changes(
            (a, hashes[a]), (b, hashes[b]), lambda: _diff(engagement, a, b, hashes)
        ),
        "before_label": _side_label(a),
        "after_label": _side_label(b),
    }
    return render(request, "workshops/versions/compare.html", context)


def _diff(engagement: Engagement, a: str, b: str, hashes: dict[str, str]) -> list[SectionChanges]:
    """The diff of two sides (version numbers or "draft"), cached by both documents' hashes."""
    if DRAFT in (a, b):
        # Keyed by both documents' hashes, as frozen ones are: a draft's hash names its content.
        return caching.for_hashes(
            "diff",
            (hashes[a], hashes[b]),
            lambda: diff_documents(_document(engagement, a), _document(engagement, b)),
        )
    versions = FrameworkVersion.objects.filter(framework=engagement.framework).defer("document")
    by_number = {str(version.number): version for version in versions.filter(number__in=[a, b])}
    return frozen.diff(by_number[a], by_number[b])


@dataclass(frozen=True)
class RenderedChanges:
    """The changes from one document to another as a page prints them: the table (the
    longest part of a compare page to render), how many items changed, and which."""

    html: SafeString
    counts: dict[str, int]
    changed: frozenset[str]


def _changes(
    before: tuple[str, str], after: tuple[str, str], diff: Callable[[], list[SectionChanges]]
) -> RenderedChanges:
    """The changes between two sides, each (a version number or "draft", its hash), rendered
    once per pair of hashes and sides (the table names them); `diff` is called on a miss."""

    def compute() -> RenderedChanges:
        changes = diff()
        labels = {"before_label": _side_label(before[0]), "after_label": _side_label(after[0])}
        return RenderedChanges(
            render_to_string("workshops/versions/diff.html", {"changes": changes, **labels}),
            count_changes(changes),
            frozenset(anchors_of(changes)),
        )

    kind = f"changes-html:{before[0]}:{after[0]}"
    return caching.for_hashes(kind, (before[1], after[1]), compute)


def _document(engagement: Engagement, side: str) -> dict[str, Any]:
    if side == DRAFT:
        return engagement.draft_document()
    return FrameworkVersion.objects.get(framework=engagement.framework, number=int(side)).document


def _side_label(side: str) -> str:
    return "Working draft" if side == DRAFT else f"v{side}"
