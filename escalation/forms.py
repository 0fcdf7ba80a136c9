"""The step forms: one per kind of row, each mirroring the database's constraints with a human
message beside the field, so the database's refusal is never what a facilitator sees."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial, reduce
from typing import Any, ClassVar, cast
from urllib.parse import urlencode

from django import forms
from django.contrib.postgres.expressions import ArraySubquery
from django.db import models
from django.db.models import Q
from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe
from django.utils.text import capfirst

from escalation import caching
from escalation.document import (
    AI_SYSTEM_FIELDS,
    BOUND_FIELDS,
    CADENCE_FIELDS,
    DRIFT_TRIGGER_FIELDS,
    EXTERNAL_TRIGGER_FIELDS,
    FAILURE_MODE_FIELDS,
    GOVERNANCE_FIELDS,
    LADDER_FIELDS,
    SUNSET_RULE_FIELDS,
    THRESHOLD_FIELDS,
    editable_fields,
)
from escalation.models import (
    AISystem,
    ApprovalRule,
    Bound,
    DriftTrigger,
    EscalationLevel,
    ExternalTrigger,
    FailureMode,
    Framework,
    FrameworkItem,
    ReviewCadence,
    SunsetRule,
    Threshold,
)
from escalation.text import SafeTextForm

CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
# The columns of Bound.text.
BOUND_TEXT = ["metric_kind", "metric_name", "percentile", "direction", "value", "unit"]
BOUND_TEXT += ["counted_thing", "scale_max"]


def _attrs(attrs: dict[str, Any]) -> str:
    return "".join(
        f" {escape(name)}" if value is True else f' {escape(name)}="{escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


def _plain_html(text: Any) -> str:
    return str.__str__(conditional_escape(text))


# One option of a list of rows: its value, and its value and label as HTML.
type CachedOption = tuple[str, str, str]


class CheckboxList(forms.CheckboxSelectMultiple):
    """Django's list of checkboxes, the same markup built in Python: a framework ten times the
    largest offers a form some 2,000 boxes (a failure mode's bounds), and rendering three
    templates per box took most of a second."""

    # Set by ItemForm: the options read from the cache (see ItemForm.cached_choices).
    cached_options: Callable[[], list[CachedOption]] | None = None

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> Any:
        final = self.build_attrs(self.attrs, attrs)
        if self.cached_options is None or not final.get("id"):
            return super().render(name, value, attrs, renderer)
        checked = set(self.format_value(value))
        # Each box carries the list's attributes, its id numbered in place (as Django's do).
        keys = list(final)
        at = keys.index("id")
        head = _attrs({key: final[key] for key in keys[:at]})
        tail = _attrs({key: final[key] for key in keys[at + 1 :]})
        html = [f'<div id="{escape(final["id"])}"']
        if final.get("class"):
            html.append(f' class="{escape(final["class"])}"')
        html.append(">")
        html += _boxes(name, final["id"], head, tail, self.cached_options(), checked)
        html.append("\n</div>")
        return mark_safe("".join(html))  # noqa: S308 (every part above is escaped)


def _boxes(
    name: str,
    id_: str,
    head: str,
    tail: str,
    options: list[CachedOption],
    checked: set[str],
    start: int = 0,
) -> list[str]:
    """One string per box, as Django prints it (a large framework offers a form 1,200 of them),
    its id numbered in place from `start`; `head` and `tail` are the list's attributes."""
    name_html, id_html = escape(name), escape(id_)
    return [
        f'<div>\n    <label for="{id_html}_{index}"><input type="checkbox" '
        f'name="{name_html}" value="{value_html}"{head} id="{id_html}_{index}"{tail}'
        f"{' checked' if option in checked else ''}>\n {label_html}</label>\n\n</div>"
        for index, (option, value_html, label_html) in enumerate(options, start)
    ]


# A list of rows longer than this is offered as a picker (ChoicePicker), not in full.
PICKER_ABOVE = 50
# The rows a search lists at once; it says how many more match.
PICKER_MATCHES = 25


@dataclass
class PickerSearch:
    """Where a picker's search goes: `action` with `keep` (the query that opens this form on
    the editor's page), plus `<name>-q`; with `picker=<name>`, only the picker's choices."""

    action: str
    keep: list[tuple[str, str]]
    query: str = ""

    def url(self, *extra: tuple[str, str]) -> str:
        return f"{self.action}?{urlencode([*self.keep, *extra])}"


class ChoicePicker(CheckboxList):
    """A long list of rows (a failure mode's bounds: 1,200 in a large framework) offered as the
    rows chosen, each a checked box, and a search listing up to PICKER_MATCHES of the others.
    Every chosen row is printed, checked, whatever the search: saving the form keeps exactly the
    rows chosen. The search is a plain GET of the editor's page (`?detected_by-q=latency`); with
    htmx, it fetches the choices alone as you type, sending the boxes checked so far. A list of
    PICKER_ABOVE rows or fewer prints in full, as CheckboxList."""

    # Set by ItemForm: how many rows the list offers when it is long (None: print it in full),
    # the options of the values chosen, and the options matching a search (and how many match).
    picker_total: Callable[[], int | None] | None = None
    chosen_options: Callable[[list[str]], list[CachedOption]] | None = None
    matching_options: Callable[[str, list[str]], tuple[list[CachedOption], int]] | None = None
    noun = "rows"
    # Set by the editor that shows the form; without it, the chosen rows and no search.
    search: PickerSearch | None = None

    def is_picker(self) -> bool:
        return self.picker_total is not None and self.picker_total() is not None

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> Any:
        final = self.build_attrs(self.attrs, attrs)
        if self.cached_options is None or not self.is_picker() or not final.get("id"):
            return super().render(name, value, attrs, renderer)
        id_ = escape(final["id"])
        html = [f'<div id="{id_}" class="picker">']
        if self.search is not None:
            # The search box belongs to its own GET form (printed after this form by
            # item_form.html), so Enter searches and never saves.
            fragment = self.search.url(("picker", name))
            html.append(
                f'<div class="picker-search"><label for="{id_}-q">Find {escape(self.noun)}'
                f'</label> <input type="search" id="{id_}-q" name="{escape(name)}-q" '
                f'value="{escape(self.search.query)}" form="{id_}-search" autocomplete="off" '
                f'data-hx-get="{escape(fragment)}" '
                'data-hx-trigger="input changed delay:300ms, search" '
                f'data-hx-target="#{id_}-choices" data-hx-swap="outerHTML" '
                f'data-hx-include="#{id_}-choices"> '
                f'<button type="submit" class="button" form="{id_}-search">Search</button></div>'
            )
        html.append(self.render_choices(name, value, final))
        html.append("\n</div>")
        return mark_safe("".join(html))  # noqa: S308 (every part above is escaped)

    def render_choices(self, name: str, value: Any, attrs: dict[str, Any]) -> str:
        """The rows chosen (checked) and those matching the search (unchecked), with how many
        there are: what a search replaces."""
        assert self.chosen_options and self.matching_options and self.picker_total
        final = self.build_attrs(self.attrs, attrs)
        keys = list(final)
        at = keys.index("id")
        head = _attrs({key: final[key] for key in keys[:at]})
        tail = _attrs({key: final[key] for key in keys[at + 1 :]})
        chosen = self.chosen_options([str(v) for v in self.format_value(value)])
        values = [option for option, _, _ in chosen]
        query = self.search.query.strip() if self.search else ""
        matches, matching = self.matching_options(query, values) if query else ([], 0)
        id_ = escape(final["id"])
        total = self.picker_total() or 0
        html = [f'<div id="{id_}-choices" class="picker-choices" aria-live="polite">']
        html += _boxes(name, final["id"], head, tail, chosen, set(values))
        noun = escape(capfirst(self.noun))
        more = "" if query else " Find others to add them."
        html.append(
            f'<p class="muted picker-count">{noun} chosen: {len(chosen)} of {total:,}.{more}</p>'
        )
        if query:
            html += _boxes(name, final["id"], head, tail, matches, set(), len(chosen))
            if matching > len(matches):
                found = f"{matching:,}, the first {len(matches)} shown: add words to narrow it."
            else:
                found = f"{matching:,}." if matching else "none."
            html.append(
                f'<p class="muted picker-count">Other {escape(self.noun)} matching '
                f"“{escape(query)}”: {found}</p>"
            )
        html.append("</div>")
        return "".join(html)


class FastSelect(forms.Select):
    """Django's drop-down, the same markup built in Python (one template per option costs a
    tenth of a millisecond, and a large framework offers hundreds of AI systems)."""

    # Set by ItemForm: the options read from the cache (see ItemForm.cached_choices).
    cached_options: Callable[[], list[CachedOption]] | None = None

    def use_required_attribute(self, initial: Any) -> bool:
        if self.cached_options is None:
            return super().use_required_attribute(initial)
        options = self.cached_options()  # `required` only above an empty first option
        return not self.is_hidden and bool(options) and options[0][0] == ""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> Any:
        if self.cached_options is None:
            return super().render(name, value, attrs, renderer)
        wanted, chosen = self.format_value(value), False
        html = [f'<select name="{escape(name)}"{_attrs(self.build_attrs(self.attrs, attrs))}>']
        for option, value_html, label_html in self.cached_options():
            selected = not chosen and option in wanted  # the first match only, as Django's
            chosen |= selected
            html.append(
                f'\n  <option value="{value_html}"{" selected" if selected else ""}>'
                f"{label_html}</option>\n"
            )
        html.append("\n</select>")
        return mark_safe("".join(html))  # noqa: S308 (every part above is escaped)


class FastRenderer(DjangoTemplates):
    """Every form's renderer (settings.FORM_RENDERER): Django's, printing the plain inputs, text
    areas, drop-downs, lists of radio buttons or checkboxes and labels in Python, the same
    markup as their templates. A step form prints some forty of them and a page's form a
    handful, each a template with includes: about a quarter of a millisecond a field, most of
    the time of a step page with a row open and a fifth of the people page's."""

    INPUTS: ClassVar[set[str]] = {
        f"django/forms/widgets/{kind}.html"
        for kind in ["text", "number", "email", "url", "hidden", "date", "time", "tel", "search"]
    }
    CHOICE_LISTS: ClassVar[set[str]] = {
        "django/forms/widgets/radio.html",
        "django/forms/widgets/checkbox_select.html",
    }

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        if template_name in self.INPUTS:
            widget = context["widget"]
            value = widget["value"]
            shown = "" if value is None else f' value="{conditional_escape(str(value))}"'
            return (
                f'<input type="{conditional_escape(widget["type"])}" '
                f'name="{conditional_escape(widget["name"])}"{shown}{_attrs(widget["attrs"])}>'
            )
        if template_name == "django/forms/widgets/textarea.html":
            widget = context["widget"]
            text = conditional_escape(widget["value"]) if widget["value"] else ""
            return (
                f'<textarea name="{conditional_escape(widget["name"])}"'
                f"{_attrs(widget['attrs'])}>\n{text}</textarea>"
            )
        if template_name == "django/forms/label.html":
            label = conditional_escape(context["label"])
            if not context["use_tag"]:
                return label
            tag = conditional_escape(context["tag"])
            return f"<{tag}{_attrs(context['attrs'] or {})}>{label}</{tag}>"
        if template_name == "django/forms/widgets/select.html":
            return _select_html(context["widget"])
        if template_name in self.CHOICE_LISTS:
            return _choice_list_html(context["widget"])
        return super().render(template_name, context, request)


def _select_html(widget: dict[str, Any]) -> str:
    """select.html and its options."""
    html = [f'<select name="{escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group, options, _ in widget["optgroups"]:
        if group:
            html.append(f'\n  <optgroup label="{escape(group)}">')
        for option in options:
            html.append(
                f'\n  <option value="{escape(str(option["value"]))}"'
                f"{_attrs(option['attrs'])}>{conditional_escape(option['label'])}</option>\n"
            )
        if group:
            html.append("\n  </optgroup>")
    html.append("\n</select>")
    return "".join(html)


def _choice_list_html(widget: dict[str, Any]) -> str:
    """multiple_input.html: radio buttons or checkboxes, each in its label."""
    html = ["<div"]
    if widget["attrs"].get("id"):
        html.append(f' id="{escape(widget["attrs"]["id"])}"')
    if widget["attrs"].get("class"):
        html.append(f' class="{escape(widget["attrs"]["class"])}"')
    html.append(">")
    for group, options, _ in widget["optgroups"]:
        if group:
            html.append(f"\n  <div><label>{conditional_escape(group)}</label>")
        for option in options:
            label_for = option["attrs"].get("id")
            html.append("<div>\n    ")
            if option["wrap_label"]:
                html.append(f'<label for="{escape(label_for)}">' if label_for else "<label>")
            html.append(f'<input type="{escape(option["type"])}" name="{escape(option["name"])}"')
            if option["value"] is not None:
                html.append(f' value="{escape(str(option["value"]))}"')
            html.append(_attrs(option["attrs"]) + ">\n")
            if option["wrap_label"]:
                html.append(f" {conditional_escape(option['label'])}</label>")
            html.append("\n\n</div>")
        if group:
            html.append("\n  </div>")
    html.append("\n</div>")
    return "".join(html)


# The prefix of the columns ItemForm.rows_to_edit adds: a list's chosen keys, in its order.
CHOSEN_KEYS = "chosen_keys_of_"


def _chosen_keys(field: Any) -> ArraySubquery:
    """The keys (ids) of the rows a row has chosen in the many-to-many list `field`, as one
    array column of the row's own query. In no order: what a form does with them (tick boxes,
    compare with what was sent, read a picker's chosen rows) treats them as a set."""
    through = field.remote_field.through
    chosen = through.objects.filter(**{field.m2m_field_name(): models.OuterRef("pk")})
    return ArraySubquery(chosen.order_by().values(f"{field.m2m_reverse_field_name()}_id"))


def _hold_chosen_keys(row: Any) -> None:
    """Give a row read by rows_to_edit its lists as if prefetched, from the keys read with it:
    the form's initial values are then read without a query per list. The rows are held by
    their ids alone (any other column read would be one more query, never a wrong value)."""
    for column, keys in list(vars(row).items()):
        if not column.startswith(CHOSEN_KEYS):
            continue
        name = column.removeprefix(CHOSEN_KEYS)
        related = row._meta.get_field(name).related_model
        held = getattr(row, name).all()  # the list's queryset, never evaluated: filled here
        held._result_cache = [related.from_db(row._state.db, ["id"], [key]) for key in keys]
        held._prefetch_done = True
        row._prefetched_objects_cache = getattr(row, "_prefetched_objects_cache", {})
        row._prefetched_objects_cache[name] = held
        delattr(row, column)


class ItemForm(SafeTextForm, forms.ModelForm):
    """A framework row: knows its framework, carries the row_version it was loaded at, and
    creates new rows with a free key at the end of the list."""

    row_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    # Where the key of a new row comes from (a field name, or a method returning the text).
    key_source: ClassVar[str] = "name"
    unique_fields: ClassVar[list[str]] = []
    # Each picker's columns a search looks in (see ChoicePicker).
    search_fields: ClassVar[dict[str, list[str]]] = {}

    def __init__(self, *args: Any, framework: Framework, **kwargs: Any) -> None:
        if kwargs.get("instance") is not None:
            _hold_chosen_keys(kwargs["instance"])
        super().__init__(*args, **kwargs)
        for form_field in self.fields.values():
            if type(form_field.widget) is forms.Select:  # the same widget, printed faster
                fast = FastSelect()
                fast.__dict__.update(form_field.widget.__dict__)
                form_field.widget = fast
        self.framework = framework
        self.instance.framework = framework
        self._choice_lists: dict[str, dict[str, Any]] | None = None
        for name, form_field in self.fields.items():
            if isinstance(form_field, forms.ModelChoiceField) and isinstance(
                form_field.widget, FastSelect | CheckboxList
            ):
                form_field.widget.cached_options = partial(self.cached_choices, name)
            if isinstance(form_field, forms.ModelMultipleChoiceField) and isinstance(
                form_field.widget, ChoicePicker
            ):
                form_field.widget.picker_total = partial(self.picker_total, name)
                form_field.widget.chosen_options = partial(self.chosen_options, name)
                form_field.widget.matching_options = partial(self.matching_options, name)
                form_field.widget.noun = str(form_field.queryset.model._meta.verbose_name_plural)  # type: ignore[union-attr]
        if self.instance.pk:
            self.fields["row_version"].required = True
            self.fields["row_version"].initial = self.instance.row_version
        self.stale_current: list[tuple[str, str]] = []

    def _lists(self) -> dict[str, dict[str, Any]]:
        """The options of every list of rows this kind of form offers (`options`), read once
        per content revision: a large framework offers a failure mode's form some 2,000 rows,
        and loading and labelling them took most of its time. A long list offered as a picker
        is only counted (`totals`): its form prints the rows chosen and those a search finds.
        Which options are selected stays the form's own (its row, or what was typed into it)."""
        if self._choice_lists is None:
            lists = {
                field_name: form_field
                for field_name, form_field in self.fields.items()
                if isinstance(form_field, forms.ModelChoiceField)
            }
            pickers = {
                field_name
                for field_name, form_field in lists.items()
                if isinstance(form_field.widget, ChoicePicker)
            }

            def compute() -> dict[str, dict[str, Any]]:
                totals = {name: self.picker_rows(name).count() for name in pickers}
                totals = {name: total for name, total in totals.items() if total > PICKER_ABOVE}
                options = {
                    field_name: [
                        # Plain strings, escaped: the cache reads them back faster than SafeStrings.
                        (str(value), _plain_html(value), _plain_html(label))
                        for value, label in form_field.iterator(form_field)
                    ]
                    for field_name, form_field in lists.items()
                    if field_name not in totals
                }
                return {"options": options, "totals": totals}

            kind = f"choices-{type(self).__name__}"
            self._choice_lists = caching.for_revision(kind, self.framework, compute)
        return self._choice_lists

    def cached_choices(self, name: str) -> list[CachedOption]:
        """The options of the list of rows `name` offers (see `_lists`)."""
        return self._lists()["options"].get(name, [])

    def picker_total(self, name: str) -> int | None:
        """How many rows the list `name` offers, if it is offered as a picker (else None)."""
        total: int | None = self._lists()["totals"].get(name)
        return total

    def chosen_options(self, name: str, values: list[str]) -> list[CachedOption]:
        """The options of the rows chosen (`values`) in the list `name`, in its order: the
        rows the form was loaded with, or those sent (only this framework's)."""
        if not values:
            return []
        rows = self.picker_rows(name).filter(pk__in=[v for v in values if v.isdigit()])
        return [(str(row.pk), _plain_html(row.pk), self.picker_label(name, row)) for row in rows]

    def picker_rows(self, name: str) -> models.QuerySet[Any]:
        """The rows the picker `name` offers, with what their labels read (`picker_label`)."""
        rows = cast(forms.ModelMultipleChoiceField, self.fields[name]).queryset
        assert rows is not None  # every form sets its lists' rows
        return rows

    def picker_label(self, name: str, row: Any) -> str:
        """A row's label in the picker `name`, as HTML: its label in the list, unless a longer
        one tells apart rows a search lists side by side."""
        form_field = cast(forms.ModelMultipleChoiceField, self.fields[name])
        return _plain_html(form_field.label_from_instance(row))

    @classmethod
    def rows_to_edit(cls, framework: Framework) -> models.QuerySet[Any]:
        """The framework's rows this form edits, each with the keys of the rows its lists
        have chosen, read in the same query (not one query per list: a failure mode has three)."""
        model = cls._meta.model
        lists = [
            field for field in model._meta.many_to_many if field.name in (cls._meta.fields or [])
        ]
        return model._default_manager.filter(framework=framework).annotate(
            **{f"{CHOSEN_KEYS}{field.name}": _chosen_keys(field) for field in lists}
        )

    def matching_options(
        self, name: str, query: str, chosen: list[str]
    ) -> tuple[list[CachedOption], int]:
        """The first PICKER_MATCHES rows of the list `name` not yet chosen whose columns
        (`search_fields`) hold every word of `query`, and how many match in all."""
        rows = self.picker_rows(name).exclude(pk__in=[v for v in chosen if v.isdigit()])
        for word in query.split()[:10]:
            rows = rows.filter(
                reduce(
                    operator.or_,
                    (Q(**{f"{path}__icontains": word}) for path in self.search_fields[name]),
                )
            )
        found = list(rows[:PICKER_MATCHES])
        total = len(found) if len(found) < PICKER_MATCHES else rows.count()
        return [
            (str(row.pk), _plain_html(row.pk), self.picker_label(name, row)) for row in found
        ], total

    def offer_search(self, action: str, keep: list[tuple[str, str]], query: Any) -> None:
        """Give each picker of this form its search: the editor's page (`action`, with `keep`
        opening this form there) and what was searched for (`query`: the page's GET)."""
        for bound in self:
            if isinstance(bound.field.widget, ChoicePicker):
                text = str(query.get(f"{bound.html_name}-q", ""))[:100]
                bound.field.widget.search = PickerSearch(action, keep, text)

    @property
    def picker_searches(self) -> list[dict[str, Any]]:
        """The GET forms of the pickers' searches (a form may not hold another form): each
        picker's search box and button belong to its own, printed after this form."""
        return [
            {
                "id": f"{bound.auto_id}-search",
                "target": f"{bound.auto_id}-choices",
                "search": bound.field.widget.search,
                "fragment": bound.field.widget.search.url(("picker", bound.html_name)),
            }
            for bound in self
            if isinstance(bound.field.widget, ChoicePicker)
            and bound.field.widget.search is not None
            and bound.field.widget.is_picker()
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in self.unique_fields:
            value = cleaned.get(name)
            if value in (None, ""):
                continue
            siblings = type(self.instance)._default_manager.filter(
                framework=self.framework, **{name: value}
            )
            if siblings.exclude(pk=self.instance.pk).exists():
                label = self.fields[name].label or name
                self.add_error(name, f"{label} “{value}” is already used in this framework.")
        return cleaned

    def validate_constraints(self) -> None:
        # The checks above give each constraint its human message; Django's generic "Constraint
        # ... is violated" is only a safety net for a rule they missed, so it runs last.
        if not self.errors:  # full_clean is running: this reads the errors so far
            super().validate_constraints()

    def new_key(self) -> str:
        return str(self.cleaned_data.get(self.key_source) or "item")

    def save_new(self) -> FrameworkItem:
        instance = self.save(commit=False)
        model = type(instance)
        instance.key = model.free_key(self.framework, self.new_key())
        last = model._default_manager.filter(framework=self.framework).aggregate(
            last=models.Max("position")
        )["last"]
        instance.position = 0 if last is None else last + 1
        instance.save()
        self.save_m2m()
        return instance

    def save_edit(self) -> FrameworkItem:
        """Save on top of the row_version the form was loaded at (StaleEditError otherwise)."""
        instance = self.save(commit=False)
        instance.save_edited(loaded_row_version=self.cleaned_data["row_version"])
        self.save_m2m()
        return instance


class AISystemForm(ItemForm):
    unique_fields: ClassVar[list[str]] = ["name"]

    class Meta:
        model = AISystem
        fields: ClassVar[list[str]] = editable_fields(AI_SYSTEM_FIELDS)
        widgets: ClassVar[dict[str, Any]] = {"unavailable_levels": CheckboxList}

    def __init__(self, *args: Any, framework: Framework, **kwargs: Any) -> None:
        super().__init__(*args, framework=framework, **kwargs)
        current_level = cast(forms.ModelChoiceField, self.fields["current_level"])
        current_level.queryset = EscalationLevel.objects.filter(framework=framework)
        current_level.empty_label = "Not escalated yet"
        unavailable = cast(forms.ModelMultipleChoiceField, self.fields["unavailable_levels"])
        unavailable.queryset = EscalationLevel.objects.filter(framework=framework)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        current = cleaned.get("current_level")
        if current is not None and current in (cleaned.get("unavailable_levels") or []):
            self.add_error(
                "current_level", f"“{current.name}” is marked as not available to this system."
            )
        return cleaned

    def clean_output_types(self) -> list[str]:
        types = [value.strip() for value in self.cleaned_data.get("output_types") or []]
        duplicates = sorted({value for value in types if types.count(value) > 1})
        if duplicates:
            raise forms.ValidationError(f"Listed twice: {', '.join(duplicates)}.")
        return types


class ThresholdForm(ItemForm):
    key_source: ClassVar[str] = "ai_system"

    class Meta:
        model = Threshold
        fields: ClassVar[list[str]] = editable_fields(THRESHOLD_FIELDS)

    def __init__(self, *args: Any, framework: Framework, **kwargs: Any) -> None:
        super().__init__(*args, framework=framework, **kwargs)
        ai_system = cast(forms.ModelChoiceField, self.fields["ai_system"])
        ai_system.queryset = AISystem.objects.filter(framework=framework)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        system, output_type = cleaned.get("ai_system"), cleaned.get("output_type", "")
        if system is None:
            return cleaned
        if output_type and output_type not in system.output_types:
            listed = ", ".join(system.output_types) or "none yet"
            self.add_error(
                "output_type",
                f"{system.name} does not produce “{output_type}” (its output types: {listed}). "
                "Add it to the AI system first, or leave blank for all outputs.",
            )
        taken = Threshold.objects.filter(ai_system=system, output_type=output_type)
        if taken.exclude(pk=self.instance.pk).exists():
            self.add_error(
                "output_type",
                f"{system.name} already has thresholds for "
                f"{'“' + output_type + '”' if output_type else 'all outputs'}: edit those instead.",
            )
        return cleaned

    def new_key(self) -> str:
        system = self.cleaned_data["ai_system"]
        return f"{system.key}-{self.cleaned_data.get('output_type') or 'all-outputs'}"


class BoundForm(ItemForm):
    """One bound of a threshold: what is measured, which way, how much and in what unit, in one
    row; the rest (own window and trigger, immediate breach, baseline) is optional."""

    key_source: ClassVar[str] = "threshold"
    # The fields a facilitator fills in one row; the others follow below it.
    row_fields: ClassVar[list[str]] = [
        "threshold",
        "metric_kind",
        "metric_name",
        "percentile",
        "direction",
        "value",
        "unit",
        "counted_thing",
        "scale_max",
    ]

    class Meta:
        model = Bound
        fields: ClassVar[list[str]] = editable_fields(BOUND_FIELDS)
        widgets: ClassVar[dict[str, Any]] = {"escalates_to": CheckboxList}

    def __init__(self, *args: Any, framework: Framework, **kwargs: Any) -> None:
        super().__init__(*args, framework=framework, **kwargs)
        threshold = cast(forms.ModelChoiceField, self.fields["threshold"])
        threshold.queryset = Threshold.objects.filter(framework=framework).select_related(
            "ai_system"
        )
        escalates_to = cast(forms.ModelMultipleChoiceField, self.fields["escalates_to"])
        escalates_to.queryset = EscalationLevel.objects.filter(framework=framework)
        for name in ["value", "scale_max", "immediate_breach_value", "baseline_value"]:
            self.fields[name].widget.attrs["inputmode"] = "decimal"

    row_legend = "The bound"

    @property
    def in_one_row(self) -> list[forms.BoundField]:
        return [self[name] for name in self.row_fields]

    @property
    def below_the_row(self) -> list[forms.BoundField]:
        return [field for field in self.visible_fields() if field.name not in self.row_fields]

    def new_key(self) -> str:
        threshold = self.cleaned_data["threshold"]
        name = self.cleaned_data.get("metric_name") or self.cleaned_data.get("metric_kind")
        return f"{threshold.key}-{name}"


class FailureModeForm(ItemForm):
    unique_fields: ClassVar[list[str]] = ["name"]
    search_fields: ClassVar[dict[str, list[str]]] = {
        "applies_to": ["name", "workflow", "model_name"],
        "detected_by": [
            "metric_kind",
            "metric_name",
            "percentile",
            "unit",
            "counted_thing",
            "threshold__ai_system__name",
            "threshold__output_type",
        ],
    }

    class Meta:
        model = FailureMode
        fields: ClassVar[list[str]] = editable_fields(FAILURE_MODE_FIELDS)
        widgets: ClassVar[dict[str, Any]] = {
            name: forms.Textarea(attrs={"rows": 2})
            for name in [
                "description",
                "example",
                "detection_signal",
                "immediate_mitigation",
                "long_term_fix",
            ]
        } | {"then_levels": CheckboxList, "applies_to": ChoicePicker, "detected_by": ChoicePicker}

    def __init__(self, *args: Any, framework: Framework, **kwargs: Any) -> None:
        super().__init__(*args, framework=framework, **kwargs)
        recommended_level = cast(forms.ModelChoiceField, self.fields["recommended_level"])
        recommended_level.queryset = EscalationLevel.objects.filter(framework=framework)
        then_levels = cast(forms.ModelMultipleChoiceField, self.fields["then_levels"])
        then_levels.queryset = EscalationLevel.objects.filter(framework=framework)
        applies_to = cast(forms.ModelMultipleChoiceField, self.fields["applies_to"])
        applies_to.queryset = AISystem.objects.filter(framework=framework)
        detected_by = cast(forms.ModelMultipleChoiceField, self.fields["detected_by"])
        # Labelled by their text alone: only its columns (a large framework offers ~2,000).
        detected_by.queryset = Bound.objects.filter(framework=framework).only(*BOUND_TEXT)

    def picker_rows(self, name: str) -> models.QuerySet[Any]:
        if name != "detected_by":
            return super().picker_rows(name)
        return Bound.objects.filter(framework=self.framework).select_related("threshold__ai_system")

    def picker_label(self, name: str, row: Any) -> str:
        if name != "detected_by":
            return super().picker_label(name, row)
        # A large framework's AI systems share bounds ("p95 ≤ 1,500 ms"): say whose.
        threshold = row.threshold
        outputs = threshold.output_type or "all outputs"
        return _plain_html(f"{row.text} ({threshold.ai_system.name}, {outputs})")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        first, later = cleaned.get("recommended_level"), cleaned.get("then_levels") or []
        if later and first is None:
            self.add_error("recommended_level", "Name the first rung before the later ones.")
        elif first is not None and any(level.position <= first.position for level in later):
            self.add_error(
                "then_levels", "The later rungs must lie above the first one on the ladder."
            )
        return cleaned


class LadderLevelForm(ItemForm):
    """Step 3: a rung of the ladder and what leads to it."""

    unique_fields: ClassVar[list[str]] = ["name"]

    class Meta:
        model = EscalationLevel
        fields: ClassVar[list[str]] = LADDER_FIELDS
        widgets: ClassVar[dict[str, Any]] = {
            **{
                name: forms.Textarea(attrs={"rows": 2})
                for name in [
                    "trigger",
                    "entry_criteria",
                    "exit_criteria",
                    "rollback_rule",
                    "direct_entry_when",
                ]
            },
        }


class GovernanceLevelForm(ItemForm):
    """Step 4: who approves a rung, what it may cost and how long it takes."""

    class Meta:
        model = EscalationLevel
        fields: ClassVar[list[str]] = GOVERNANCE_FIELDS
        widgets: ClassVar[dict[str, Any]] = {
            "overrun_rule": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts: ClassVar[dict[str, str]] = {
            "cost_ceiling": "In the level's currency; the basis beside it says one-off or monthly.",
            "estimated_cost_low": "In the level's currency. One figure: fill the low end only.",
        }

    def clean_currency(self) -> str:
        currency = (self.cleaned_data.get("currency") or "").strip().upper()
        if currency and not CURRENCY_CODE.match(currency):
            raise forms.ValidationError("Use a three-letter ISO currency code, e.g. EUR or USD.")
        return currency

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # A group rule without its group or its k is refused by the model's clean().
        rule = cleaned.get("approval_rule")
        if rule != ApprovalRule.K_OF_GROUP and "approvals_required" in cleaned:
            # k means nothing under another rule: keep no stray number in the document.
            cleaned["approvals_required"] = None
            self.instance.approvals_required = None
        low, high = cleaned.get("estimated_cost_low"), cleaned.get("estimated_cost_high")
        if low is not None and high is None and "estimated_cost_high" in cleaned:
            # A single figure is a range whose ends agree.
            cleaned["estimated_cost_high"] = low
        return cleaned


class DriftTriggerForm(ItemForm):
    key_source: ClassVar[str] = "metric"

    class Meta:
        model = DriftTrigger
        fields: ClassVar[list[str]] = editable_fields(DRIFT_TRIGGER_FIELDS)

    def __init__(self, *args: Any, framework: Framework, **kwargs: Any) -> None:
        super().__init__(*args, framework=framework, **kwargs)
        ai_system = cast(forms.ModelChoiceField, self.fields["ai_system"])
        ai_system.queryset = AISystem.objects.filter(framework=framework)
        ai_system.empty_label = "Every AI system"
        # A trigger entered here is data a program can evaluate; only one upgraded from the old
        # free text lacks these, and it is given them when next edited.
        for name in ("comparison", "operator", "value"):
            self.fields[name].required = True
        self.fields["value"].widget.attrs["inputmode"] = "decimal"

    def new_key(self) -> str:
        system = self.cleaned_data.get("ai_system")
        return f"{self.cleaned_data['metric']}-{system.key if system else 'all'}"


class ExternalTriggerForm(ItemForm):
    key_source: ClassVar[str] = "event"

    class Meta:
        model = ExternalTrigger
        fields: ClassVar[list[str]] = editable_fields(EXTERNAL_TRIGGER_FIELDS)
        widgets: ClassVar[dict[str, Any]] = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "response": forms.Textarea(attrs={"rows": 2}),
            "ai_systems": CheckboxList,
        }

    def __init__(self, *args: Any, framework: Framework, **kwargs: Any) -> None:
        super().__init__(*args, framework=framework, **kwargs)
        ai_systems = cast(forms.ModelMultipleChoiceField, self.fields["ai_systems"])
        ai_systems.queryset = AISystem.objects.filter(framework=framework)


class ReviewCadenceForm(ItemForm):
    """Step 5: one scheduled review and the rule its dates follow."""

    unique_fields: ClassVar[list[str]] = ["name"]

    class Meta:
        model = ReviewCadence
        fields: ClassVar[list[str]] = editable_fields(CADENCE_FIELDS)
        widgets: ClassVar[dict[str, Any]] = {
            "first_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }


class SunsetRuleForm(ItemForm):
    """Step 5: when a level that has not paid off is rolled back."""

    key_source: ClassVar[str] = "after_days"

    class Meta:
        model = SunsetRule
        fields: ClassVar[list[str]] = editable_fields(SUNSET_RULE_FIELDS)
        widgets: ClassVar[dict[str, Any]] = {"levels": CheckboxList}

    def __init__(self, *args: Any, framework: Framework, **kwargs: Any) -> None:
        super().__init__(*args, framework=framework, **kwargs)
        levels = cast(forms.ModelMultipleChoiceField, self.fields["levels"])
        levels.queryset = EscalationLevel.objects.filter(framework=framework)
        self.fields["required_improvement"].widget.attrs["inputmode"] = "decimal"

    def new_key(self) -> str:
        return f"sunset-after-{self.cleaned_data['after_days']}-days"


class FrameworkSettingsForm(SafeTextForm, forms.ModelForm):
    """The framework's own fields a step edits, saved on top of the loaded row_version."""

    row_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["row_version"].initial = self.instance.row_version
        self.stale_current: list[tuple[str, str]] = []

    def save_edit(self) -> Framework:
        framework = self.save(commit=False)
        framework.save_edited(
            loaded_row_version=self.cleaned_data["row_version"],
            update_fields=list(self._meta.fields or []),
        )
        return framework


class GovernanceRulesForm(FrameworkSettingsForm):
    """Step 4's framework-wide part: the currency levels inherit and the two governance rules."""

    class Meta:
        model = Framework
        fields: ClassVar[list[str]] = ["currency", "scope_creep_rule", "overrun_rule"]
        widgets: ClassVar[dict[str, Any]] = {
            "scope_creep_rule": forms.Textarea(attrs={"rows": 3}),
            "overrun_rule": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_currency(self) -> str:
        currency = (self.cleaned_data.get("currency") or "").strip().upper()
        if not CURRENCY_CODE.match(currency):
            raise forms.ValidationError("Use a three-letter ISO currency code, e.g. EUR or USD.")
        return currency


class ReviewCycleForm(FrameworkSettingsForm):
    class Meta:
        model = Framework
        fields: ClassVar[list[str]] = ["sunset_criteria"]
