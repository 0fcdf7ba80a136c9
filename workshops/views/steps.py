"""The step pages: one page per step of the method, with inline add / edit / delete / reorder of
its rows. Every page also serves its editor alone (htmx, or `?embed=1`), so day pages can embed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, HttpResponseBadRequest, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from config.middleware import SignedInRequest
from escalation import caching
from escalation.checks import Fix, Problem, add_threshold_fix, report_on_draft
from escalation.document import OPTIONAL_ITEM_KEYS, item_document
from escalation.editors import (
    CADENCES,
    NOT_SET,
    STEP_EDITORS,
    THRESHOLDS,
    Collection,
    StepEditor,
)
from escalation.forms import ChoicePicker, ItemForm
from escalation.models import AISystem, Framework, ReviewCadence, StaleEditError, Threshold
from escalation.schedule import review_dates
from escalation.steps import STEPS, STEPS_BY_KEY, Step
from workshops.audit import AuditVerb, record_activity
from workshops.models import Capability, Engagement, get_engagement_for


@dataclass
class OpenForm:
    """The one form open in an editor: a row being edited, a new row, or the step's settings."""

    collection: str  # a Collection.name, or "settings"
    item_key: str | None
    form: Any  # None when the form comes printed (`printed`)
    stale: bool = False
    # A row's form as first opened, printed once per content revision (_printed_edit_form).
    printed: str = ""


@dataclass
class Row:
    """A row of a list: as shown (its HTML, the same for everyone who may edit, or for everyone
    who may not), or the form editing it."""

    key: str
    html: str = ""
    form: Any = None
    stale: bool = False
    item: Any = None  # the row the form edits


@dataclass(frozen=True)
class PageInfo:
    """Where a page of a list lies in it: what the pager prints (a Page, without its rows)."""

    number: int
    num_pages: int
    count: int
    start_index: int
    end_index: int

    def has_other_pages(self) -> bool:
        return self.num_pages > 1


@dataclass
class ShownList:
    """One list's page as shown, computed once per content revision (`_shown_lists`)."""

    page: PageInfo
    rows: list[Row]
    groups: list[dict[str, Any]] = field(default_factory=list)
    # Review cadences: each cadence's next dates, moved off the engagement's holidays.
    review_dates: list[tuple[str, list[Any]]] = field(default_factory=list)


@dataclass
class Section:
    collection: Collection
    rows: list[Row]
    add_form: Any = None
    add_stale: bool = False
    groups: list[dict[str, Any]] = field(default_factory=list)
    colspan: int = 1
    page: PageInfo | None = None
    pager: list[tuple[str, str, str]] = field(default_factory=list)  # label, rel, query
    noun: str = "rows"
    review_dates: list[tuple[str, list[Any]]] = field(default_factory=list)


# A long list comes a page at a time: the work of a step page follows the rows it shows.
ROWS_PER_PAGE = 50
# Thresholds page by AI system, each system with all its thresholds (four or five, typically).
SYSTEMS_PER_THRESHOLDS_PAGE = 10
# What the cached rows hold in place of the CSRF token of the request they are served to.
CSRF_SLOT = "csrf-token-of-the-request"


def _page_size(collection: Collection) -> int:
    return SYSTEMS_PER_THRESHOLDS_PAGE if collection is THRESHOLDS else ROWS_PER_PAGE


def page_parameter(collection: Collection) -> str:
    """Each list of a step pages on its own: `?bounds-page=3`."""
    return f"{collection.name}-page"


def _step(step_key: str) -> tuple[Step, StepEditor]:
    if step_key not in STEP_EDITORS:
        raise Http404("No such step.")
    return STEPS_BY_KEY[step_key], STEP_EDITORS[step_key]


def _collection(editor: StepEditor, name: str) -> Collection:
    for collection in editor.collections:
        if collection.name == name:
            return collection
    raise Http404("No such list on this step.")


def _row_html(
    collection: Collection, item: Any, shown: dict[str, Any], *, first: bool, last: bool
) -> Row:
    """A row as its table shows it (`shown`: what the row's links need), with its changes
    since the last cycle."""
    carried, changed = "", []
    if item.carried_over is not None:
        now = item_document(collection.document_name, item)
        # Carried over before a key existed: its absence meant the key's default.
        was = {**OPTIONAL_ITEM_KEYS.get(collection.document_name, {}), **item.carried_over}
        changed = [name for name in now if now[name] != was.get(name)]
        carried = "changed" if changed else "unchanged"
    row = {
        "item": item,
        "cells": [(column.value(item), column.numeric) for column in collection.columns],
        "carried": carried,
        "carried_changes": [name.replace("_", " ") for name in changed],
        "first": first,
        "last": last,
    }
    context = {**shown, "collection": collection, "row": row}
    return Row(item.key, render_to_string("workshops/steps/table.html#row", context))


def _sections(
    request: SignedInRequest,
    framework: Framework,
    step_key: str,
    open_form: OpenForm | None,
    can_edit: bool,
    slug: str,
    pages: QueryDict,
    holidays: list[Any],
    focus: tuple[str, str] | None = None,
) -> list[Section]:
    """Each list's page of rows: the page asked for (`pages`), or the page holding the row in
    `focus` (a collection's name and a row's key: the row just opened, saved or moved), with
    the open form in place of its row."""
    editor = _step(step_key)[1]
    if open_form is not None and open_form.item_key is not None:
        focus = (open_form.collection, open_form.item_key)
    wanted = tuple(
        (
            collection.name,
            focus[1] if focus and focus[0] == collection.name else None,
            _page_number(pages.get(page_parameter(collection))),
        )
        for collection in editor.collections
    )
    holidays = sorted(holidays) if CADENCES in editor.collections else []
    shown = caching.for_revision(
        "step-lists",
        framework,
        lambda: _shown_lists(framework, step_key, can_edit, slug, wanted, holidays),
        step_key,
        can_edit,
        slug,
        wanted,
        holidays,
    )
    # Only those who may edit see the rows' forms, each with this request's CSRF token.
    token = f'value="{get_token(request)}"' if can_edit else ""
    sections = []
    for collection, shown_list in zip(editor.collections, shown, strict=True):
        section = Section(collection, shown_list.rows, groups=shown_list.groups)
        section.review_dates = shown_list.review_dates
        section.colspan = len(collection.columns) + (2 if can_edit else 1)
        section.page = shown_list.page
        section.noun = "AI systems" if collection is THRESHOLDS else "rows"
        here = open_form if open_form and open_form.collection == collection.name else None
        if here and here.item_key is None:
            section.add_form, section.add_stale = here.form, here.stale
        for row in section.rows:
            if here and here.item_key == row.key:
                if here.form is None:  # the form printed: its CSRF slot filled in below
                    row.html = here.printed
                else:
                    row.form, row.stale, row.item = here.form, here.stale, here.form.instance
            if token:  # the slot is in our own markup; a row's text has its quotes escaped
                row.html = mark_safe(row.html.replace(f'value="{CSRF_SLOT}"', token))  # noqa: S308
        section.pager = _pager(pages, page_parameter(collection), section.page)
        sections.append(section)
    return sections


def _page_number(asked: str | None) -> int | None:
    """A page asked for by number; anything else asks for the first (as Paginator.get_page)."""
    try:
        return int(asked) if asked is not None else None
    except ValueError:
        return None


def _shown_lists(
    framework: Framework,
    step_key: str,
    can_edit: bool,
    slug: str,
    wanted: tuple[tuple[str, str | None, int | None], ...],
    holidays: list[Any],
) -> list[ShownList]:
    """Each list's page of rows as shown: the page holding the row focused, else the page
    asked for (`wanted`: each list's name, focused row's key and page number); with the review
    cadences, their next dates (moved off `holidays`)."""
    step, editor = _step(step_key)
    shown: dict[str, Any] = {
        "can_edit": can_edit,
        "step": step,
        "engagement": {"slug": slug},
        "step_url": reverse("step", args=[slug, step_key]),
        "csrf_token": CSRF_SLOT,
    }
    lists = []
    for collection, (_, focused, asked) in zip(editor.collections, wanted, strict=True):
        number = _page_of(framework, collection, focused) or asked
        if collection is THRESHOLDS:
            # Thresholds come grouped by AI system: a page of systems with all their thresholds.
            systems = AISystem.objects.filter(framework=framework)
            page = Paginator(systems, SYSTEMS_PER_THRESHOLDS_PAGE).get_page(number)
            on_page = list(page)
            items = list(collection.rows(framework).filter(ai_system__in=on_page))
        else:
            page = Paginator(collection.rows(framework), ROWS_PER_PAGE).get_page(number)
            items = list(page)
        # The first and last of the whole list, not only of its page, have no way up or down.
        rows = [
            _row_html(
                collection,
                item,
                shown,
                first=index == 0 and page.number == 1,
                last=index == len(items) - 1 and not page.has_next(),
            )
            for index, item in enumerate(items)
        ]
        shown_list = ShownList(
            PageInfo(
                page.number,
                page.paginator.num_pages,
                page.paginator.count,
                page.start_index(),
                page.end_index(),
            ),
            rows,
        )
        if collection is THRESHOLDS:
            shown_list.groups = _threshold_groups(on_page, items, rows, slug)
        if collection is CADENCES:
            shown_list.review_dates = _review_dates(framework, holidays)
        lists.append(shown_list)
    return lists


def _page_of(framework: Framework, collection: Collection, key: str | None) -> int | None:
    """The page on which the row with `key` shows (a query of the list's keys); a threshold
    shows on the page of its AI system."""
    if key is None:
        return None
    rows: QuerySet[Any] = collection.rows(framework)
    if collection is THRESHOLDS:
        found = Threshold.objects.filter(framework=framework, key=key)
        key = found.values_list("ai_system__key", flat=True).first()
        rows = AISystem.objects.filter(framework=framework)
    keys = list(rows.values_list("key", flat=True))
    return keys.index(key) // _page_size(collection) + 1 if key in keys else None


def _pager(pages: QueryDict, parameter: str, page: PageInfo) -> list[tuple[str, str, str]]:
    """Links to the first, previous, next and last pages of one list (label, rel, query),
    keeping the pages the other lists are on (and dropping any form asked for)."""

    def to(number: int) -> str:
        query = pages.copy()
        for name in ("edit", "add", "embed"):
            query.pop(name, None)
        query[parameter] = str(number)
        return "?" + query.urlencode()

    links = []
    if page.number > 1:
        links += [("First", "", to(1)), ("Previous", "prev", to(page.number - 1))]
    if page.number < page.num_pages:
        links += [("Next", "next", to(page.number + 1))]
        links += [("Last", "", to(page.num_pages))]
    return links


def _threshold_groups(
    systems: list[AISystem], items: list[Threshold], rows: list[Row], slug: str
) -> list[dict[str, Any]]:
    """Thresholds as a table per AI system × output type, with the output types not yet covered,
    each with its link to the threshold form, pre-filled as the checks page's fix is."""
    groups = []
    for system in systems:
        own = [
            (item, row)
            for item, row in zip(items, rows, strict=True)
            if item.ai_system_id == system.pk
        ]
        covered = {item.output_type for item, _ in own}
        missing = [
            (output, fix_link(slug, "thresholds", add_threshold_fix(system.key, output)))
            for output in system.output_types
            if output not in covered and "" not in covered
        ]
        groups.append(
            {
                "system": {"name": system.name, "workflow": system.workflow},
                "rows": [row for _, row in own],
                "missing": missing,
            }
        )
    return groups


def _render_editor(
    request: SignedInRequest,
    engagement: Engagement,
    step_key: str,
    open_form: OpenForm | None = None,
    status: int = 200,
    settings_saved: bool = False,
    focus: tuple[str, str] | None = None,
) -> HttpResponse:
    step, editor = _step(step_key)
    framework = engagement.framework
    report = report_on_draft(framework)
    can_edit = engagement.membership.can(Capability.EDIT)
    if open_form is not None and open_form.form is not None:
        _focus_first_field(_carrying_loaded_values(open_form.form))
        _offer_search(open_form, engagement.slug, step_key, request.GET)
    settings_form = None
    if editor.settings_form:
        settings_form = (
            open_form.form
            if open_form and open_form.collection == "settings"
            else _carrying_loaded_values(editor.settings_form(instance=framework))
        )
    context = {
        "engagement": engagement,
        "framework": framework,
        "step": step,
        "editor": editor,
        "can_edit": can_edit,
        "sections": _sections(
            request,
            framework,
            step_key,
            open_form if can_edit else None,
            can_edit,
            engagement.slug,
            _pages(request),
            engagement.holidays,
            focus,
        ),
        "settings_form": settings_form,
        "settings_display": [
            (settings_form.fields[name].label, _shown(framework, name))
            for name in settings_form._meta.fields or []
        ]
        if settings_form
        else [],
        "settings_saved": settings_saved,
        "settings_stale": bool(
            open_form and open_form.collection == "settings" and open_form.stale
        ),
        "step_url": reverse("step", args=[engagement.slug, step.key]),
        # In the editor, so that every save shows the new figure with the rows it comes from.
        "completion": report.completion.get(step.key, 0),
        "gaps": report.gaps.get(step.key, []),
    }
    if request.htmx or request.GET.get("embed"):
        return render(request, "workshops/steps/step.html#editor", context, status=status)
    context["all_steps"] = STEPS
    return render(request, "workshops/steps/step.html", context, status=status)


def _pages(request: SignedInRequest) -> QueryDict:
    """The pages the lists are on: the page's own query, or for a change sent by htmx, the
    query of the page it was sent from, so the editor comes back on the same pages."""
    if request.method == "POST" and request.htmx and request.htmx.current_url:
        return QueryDict(urlsplit(request.htmx.current_url).query)
    return request.GET


def _review_dates(framework: Framework, holidays: list[Any]) -> list[tuple[str, list[Any]]]:
    """Each cadence's next dates, moved off the engagement's holidays as its rule says."""
    return [
        (cadence.name, review_dates(item_document("cadences", cadence), holidays))
        for cadence in ReviewCadence.objects.filter(framework=framework)
    ]


def _focus_first_field(form: Any) -> None:
    """Keyboard users land in the form they opened, or on the first field to fix."""
    names = [name for name in form.fields if not form.fields[name].widget.is_hidden]
    wrong = [name for name in names if form.is_bound and name in form.errors]
    if names:
        form.fields[(wrong or names)[0]].widget.attrs["autofocus"] = True


# The event a saved change sends with its htmx answer: the other panels of the page that
# depend on the framework (other steps' editors, the day's checklist, the plan's progress)
# listen for it and fetch themselves again.
FRAMEWORK_CHANGED = "framework-changed"


def _changed(
    request: SignedInRequest,
    engagement: Engagement,
    step_key: str,
    settings_saved: bool = False,
    focus: tuple[Collection, str] | None = None,
) -> HttpResponse:
    """The editor again, on the page of the row just changed (`focus`), if any."""
    shown = (focus[0].name, focus[1]) if focus else None
    if request.htmx:
        response = _render_editor(
            request, engagement, step_key, settings_saved=settings_saved, focus=shown
        )
        response["HX-Trigger"] = FRAMEWORK_CHANGED
        return response
    if settings_saved:
        messages.success(request, "Saved.")
    url = reverse("step", args=[engagement.slug, step_key])
    if focus is not None:
        collection, key = focus
        page = _page_of(engagement.framework, collection, key)
        if page and page > 1:
            url += f"?{page_parameter(collection)}={page}"
    return redirect(url)


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {
        name: {"before": before.get(name), "after": after.get(name)}
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }


def _record(
    request: SignedInRequest,
    engagement: Engagement,
    verb: AuditVerb,
    summary: str,
    kind: Collection,
    key: str,
    changes: dict[str, Any],
) -> None:
    anchor = f"{kind.document_name}/{key}"
    record_activity(engagement, request.user, verb, summary, anchor=anchor, changes=changes)


def _stale_status(request: SignedInRequest) -> int:
    # 409 says what happened; htmx only swaps 2xx and 422, so it gets 422 with the same fragment.
    return 422 if request.htmx else 409


def _carrying_loaded_values(form: Any) -> Any:
    """Each field of an edit form also sends the value it was loaded with (a hidden `initial-`
    field), so that a save refused as stale knows which fields this person really changed."""
    if not form.instance._state.adding:
        for name, field in form.fields.items():
            field.show_hidden_initial = name != "row_version"
    return form


def _stale_form(form: Any, current: Any, **kwargs: Any) -> Any:
    """The other person's saved row plus only the fields this person changed from what they
    loaded: saving again then keeps the other person's edits to every other field."""
    mine = [name for name in form.changed_data if name != "row_version"]
    data = QueryDict(mutable=True)
    for bound in type(form)(instance=current, **kwargs):
        value = bound.value()
        values = value if isinstance(value, list | tuple) else [] if value is None else [value]
        data.setlist(form.add_prefix(bound.name), [str(v) for v in values])
        data.setlist(form.add_initial_prefix(bound.name), [str(v) for v in values])
    for name in mine:
        data.setlist(form.add_prefix(name), form.data.getlist(form.add_prefix(name)))
    reopened = _carrying_loaded_values(type(form)(data, instance=current, **kwargs))
    reopened.stale_rows = [
        (
            bound.label,
            _shown(current, bound.name),
            _yours(form, bound.name) if bound.name in mine else None,
        )
        for bound in reopened.visible_fields()
    ]
    return reopened


def _yours(form: Any, name: str) -> str:
    value = form.cleaned_data.get(name)
    if isinstance(value, list | tuple) or hasattr(value, "model"):  # a list or a QuerySet
        return ", ".join(str(item) for item in value) or NOT_SET
    return _shown(form.instance, name)


def _shown(instance: Any, name: str) -> str:
    if hasattr(instance, f"get_{name}_display"):
        return str(getattr(instance, f"get_{name}_display")())
    value = getattr(instance, name)
    if hasattr(value, "all"):
        return ", ".join(str(item) for item in value.all()) or NOT_SET
    if isinstance(value, list):
        return ", ".join(value) or NOT_SET
    return NOT_SET if value in (None, "") else str(value)


def _requested_form(
    request: SignedInRequest, editor: StepEditor, framework: Framework
) -> OpenForm | None:
    """The form a link asked to open: `?add=<list>` with the fields it pre-fills (see
    `fix_link`), or `?edit=<list>:<key>`."""
    if "add" in request.GET:
        collection = _collection(editor, request.GET["add"])
        if not collection.can_add:
            return None
        form = collection.form_class(framework=framework)
        form.initial = _prefill(form, request.GET)
        return OpenForm(collection.name, None, form)
    if "edit" in request.GET:
        collection_name, _, item_key = request.GET["edit"].partition(":")
        return _edit_form(_collection(editor, collection_name), framework, item_key)
    return None


def _edit_form(collection: Collection, framework: Framework, item_key: str) -> OpenForm:
    item = get_object_or_404(collection.form_class.rows_to_edit(framework), key=item_key)
    return OpenForm(
        collection.name, item.key, collection.form_class(instance=item, framework=framework)
    )


def _opens_a_row_as_saved(request: SignedInRequest, engagement: Engagement) -> bool:
    """`?edit=<list>:<key>` asked by someone who may edit, with no search typed in a picker:
    the form is then the row as saved, the same for everyone who opens it."""
    searched = any(name.endswith("-q") and request.GET[name] for name in request.GET)
    return (
        "edit" in request.GET
        and "picker" not in request.GET
        and not searched
        and engagement.membership.can(Capability.EDIT)
    )


def _printed_edit_form(request: SignedInRequest, engagement: Engagement, step_key: str) -> OpenForm:
    """A row's form as first opened, printed once per content revision (with the CSRF slot the
    page fills in): building and printing it was most of the time of a page with a row open."""
    step, editor = _step(step_key)
    collection_name, _, item_key = request.GET["edit"].partition(":")
    collection = _collection(editor, collection_name)
    framework, slug = engagement.framework, engagement.slug

    def print_form() -> str:
        opened = _edit_form(collection, framework, item_key)
        form = _carrying_loaded_values(opened.form)
        _focus_first_field(form)
        _offer_search(opened, slug, step_key, QueryDict())
        context = {
            "row": Row(item_key, form=form, item=form.instance),
            "collection": collection,
            "section": {"colspan": len(collection.columns) + 2},
            "engagement": {"slug": slug},
            "step": step,
            "step_url": reverse("step", args=[slug, step_key]),
            "csrf_token": CSRF_SLOT,
        }
        return render_to_string("workshops/steps/table.html#editing_row", context)

    printed = caching.for_revision(
        "edit-form", framework, print_form, step_key, collection.name, item_key, slug
    )
    return OpenForm(collection.name, item_key, None, printed=mark_safe(printed))  # noqa: S308


def _prefill(form: Any, query: Any) -> dict[str, Any]:
    """The form's fields a link names, as the link gives them: a row chosen by its key (among
    the rows the form offers, so only this framework's), any other field as text."""
    initial: dict[str, Any] = {}
    for name, form_field in form.fields.items():
        if name not in query:
            continue
        if isinstance(form_field, forms.ModelChoiceField) and form_field.queryset is not None:
            initial[name] = form_field.queryset.filter(key=query[name]).first()
        else:
            initial[name] = query[name]
    return initial


def fix_link(slug: str, step_key: str, fix: Fix | None) -> str:
    """The one way to a fix, for every page that offers one (the checks page's "Fix it", the
    step editors' "Add thresholds for …" on the step and day pages): the step's page with the
    form open, a new row pre-filled with `fix.prefill`, or the row to edit."""
    url = reverse("step", args=[slug, step_key])
    if fix is None:
        return url
    if fix.item_key:
        query = {"edit": f"{fix.collection}:{fix.item_key}"}
    else:
        query = {"add": fix.collection, **dict(fix.prefill)}
    return f"{url}?{urlencode(query, safe=':')}"


def fix_url(slug: str, problem: Problem) -> str:
    """Where the checks page sends a problem to be fixed."""
    return fix_link(slug, problem.step, problem.fix)


@require_GET
def step(request: SignedInRequest, slug: str, step_key: str) -> HttpResponse:
    # A picker's choices are part of a form: only those who may edit search them.
    capability = Capability.EDIT if "picker" in request.GET else Capability.VIEW
    engagement = get_engagement_for(request.user, slug, capability)
    editor = _step(step_key)[1]
    if _opens_a_row_as_saved(request, engagement):
        return _render_editor(
            request, engagement, step_key, _printed_edit_form(request, engagement, step_key)
        )
    open_form = _requested_form(request, editor, engagement.framework)
    if "picker" in request.GET:
        return _picker_choices(request, engagement, step_key, open_form)
    return _render_editor(request, engagement, step_key, open_form)


def _picker_choices(
    request: SignedInRequest, engagement: Engagement, step_key: str, open_form: OpenForm | None
) -> HttpResponse:
    """One picker's choices alone (`?picker=detected_by`, fetched by htmx as you type): the
    boxes checked so far, sent with the search, and the rows matching it."""
    name = request.GET["picker"]
    if open_form is None or name not in open_form.form.fields:
        raise Http404("No such list to choose from.")
    form = open_form.form
    widget = form.fields[name].widget
    if not isinstance(widget, ChoicePicker) or not widget.is_picker():
        raise Http404("No such list to choose from.")
    _offer_search(open_form, engagement.slug, step_key, request.GET)
    bound = form[name]
    form.initial[name] = request.GET.getlist(bound.html_name)
    return HttpResponse(
        widget.render_choices(bound.html_name, bound.value(), {"id": bound.auto_id})
    )


def _offer_search(open_form: OpenForm, slug: str, step_key: str, query: QueryDict) -> None:
    """The open form's pickers search on this step's page, with the form open as it is;
    `query` holds what was searched for (the page's GET)."""
    if not isinstance(open_form.form, ItemForm):
        return
    if open_form.item_key is None:
        keep = [("add", open_form.collection)]
    else:
        keep = [("edit", f"{open_form.collection}:{open_form.item_key}")]
    step_url = reverse("step", args=[slug, step_key])
    open_form.form.offer_search(step_url, keep, query)


@require_POST
def step_item_add(
    request: SignedInRequest, slug: str, step_key: str, collection: str
) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.EDIT)
    kind = _collection(_step(step_key)[1], collection)
    if not kind.can_add:
        raise Http404("Rows of this list are added on another step.")
    form = kind.form_class(request.POST, framework=engagement.framework)
    if form.is_valid():
        try:
            with transaction.atomic():  # the row and its many-to-many links land together
                item = form.save_new()
        except IntegrityError:  # someone added the same name a moment ago
            form.add_error(None, "Another row with these details was saved just now: reload.")
        else:
            changes = _changes({}, item_document(kind.document_name, item))
            summary = f"Added {kind.singular} “{item}”"
            _record(request, engagement, AuditVerb.CREATED, summary, kind, item.key, changes)
            return _changed(request, engagement, step_key, focus=(kind, item.key))
    return _render_editor(request, engagement, step_key, OpenForm(kind.name, None, form), 422)


@require_POST
def step_item_edit(
    request: SignedInRequest, slug: str, step_key: str, collection: str, item_key: str
) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.EDIT)
    kind = _collection(_step(step_key)[1], collection)
    framework = engagement.framework
    item = get_object_or_404(kind.form_class._meta.model, framework=framework, key=item_key)
    before = item_document(kind.document_name, item)
    form = _carrying_loaded_values(
        kind.form_class(request.POST, instance=item, framework=framework)
    )
    if not form.is_valid():
        return _render_editor(
            request, engagement, step_key, OpenForm(kind.name, item.key, form), 422
        )
    try:
        with transaction.atomic():  # the row and its many-to-many links change together
            form.save_edit()
    except StaleEditError as stale:
        reopened = _stale_form(form, stale.current, framework=framework)
        open_form = OpenForm(kind.name, item.key, reopened, stale=True)
        return _render_editor(request, engagement, step_key, open_form, _stale_status(request))
    except IntegrityError:
        form.add_error(None, "Another row with these details was saved just now: reload.")
        return _render_editor(
            request, engagement, step_key, OpenForm(kind.name, item.key, form), 422
        )
    changes = _changes(before, item_document(kind.document_name, item))
    _record(
        request,
        engagement,
        AuditVerb.UPDATED,
        f"Edited {kind.singular} “{item}”",
        kind,
        item.key,
        changes,
    )
    return _changed(request, engagement, step_key, focus=(kind, item.key))


@require_POST
def step_item_delete(
    request: SignedInRequest, slug: str, step_key: str, collection: str, item_key: str
) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.EDIT)
    kind = _collection(_step(step_key)[1], collection)
    if not kind.can_delete:
        raise Http404("Rows of this list are removed on another step.")
    item = get_object_or_404(
        kind.form_class._meta.model, framework=engagement.framework, key=item_key
    )
    before = item_document(kind.document_name, item)
    item.delete()
    summary = f"Removed {kind.singular} “{item}”"
    _record(request, engagement, AuditVerb.DELETED, summary, kind, item_key, _changes(before, {}))
    return _changed(request, engagement, step_key)


@require_POST
def step_item_move(
    request: SignedInRequest, slug: str, step_key: str, collection: str, item_key: str
) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.EDIT)
    kind = _collection(_step(step_key)[1], collection)
    if not kind.can_move:
        raise Http404("These rows keep their order.")
    if request.POST.get("direction") not in {"up", "down"}:
        return HttpResponseBadRequest("Say which way to move the row: direction=up or down.")
    model = kind.form_class._meta.model
    item = get_object_or_404(model, framework=engagement.framework, key=item_key)
    moved = model.move(item, up=request.POST["direction"] == "up")
    if moved:
        summary = f"Moved {kind.singular} “{item}” {request.POST['direction']}"
        _record(
            request, engagement, AuditVerb.REORDERED, summary, kind, item_key, {"position": moved}
        )
    return _changed(request, engagement, step_key, focus=(kind, item_key))


@require_POST
def step_settings(request: SignedInRequest, slug: str, step_key: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.EDIT)
    editor = _step(step_key)[1]
    if editor.settings_form is None:
        raise Http404("This step has no settings.")
    framework = engagement.framework
    fields = list(editor.settings_form._meta.fields or [])
    before = {name: _shown(framework, name) for name in fields}
    form = _carrying_loaded_values(editor.settings_form(request.POST, instance=framework))
    if not form.is_valid():
        return _render_editor(request, engagement, step_key, OpenForm("settings", None, form), 422)
    try:
        form.save_edit()
    except StaleEditError as stale:
        reopened = _stale_form(form, stale.current)
        open_form = OpenForm("settings", None, reopened, stale=True)
        return _render_editor(request, engagement, step_key, open_form, _stale_status(request))
    changes = _changes(before, {name: _shown(framework, name) for name in fields})
    summary = f"Edited the {editor.settings_title.lower()}"
    record_activity(
        engagement, request.user, AuditVerb.UPDATED, summary, anchor="framework", changes=changes
    )
    return _changed(request, engagement, step_key, settings_saved=True)
